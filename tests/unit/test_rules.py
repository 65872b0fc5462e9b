"""Stripe's cross-field rules: for every rule a catalog that breaks it (rule id and line asserted exactly) and
catalogs that pass. Cases are written as YAML and loaded by the real loader, so the lines are real; the line
each failing case expects is the one marked `#!`.
"""

from __future__ import annotations

import re
from textwrap import dedent
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.catalog.loader import load_text
from compiler.catalog.rules import RULES, RULES_BY_ID, run_rules
from compiler.catalog.source import Document, all_entries
from compiler.errors import Diagnostic, Severity

#: another file of the catalog: a meter, a product and one licensed monthly usd price
BASE = """\
meters:
  - event_name: api_calls
    display_name: API calls
    default_aggregation: {formula: sum}
products:
  - id: suite
    name: Suite
    prices:
      - lookup_key: suite_monthly
        currency: usd
        unit_amount: 1000
        recurring: {interval: month}
"""


def load(text: str, file: str) -> Document:
    doc, problems = load_text(dedent(text), file)
    assert doc is not None and not problems, problems
    return doc


def diagnose(case: str) -> list[Diagnostic]:
    return run_rules(all_entries([load(BASE, "plans/base.yaml"), load(case, "plans/case.yaml")]))


def marked_line(case: str) -> int:
    lines = [n for n, line in enumerate(dedent(case).splitlines(), 1) if "#!" in line]
    assert len(lines) == 1, "mark exactly one line with #!"
    return lines[0]


def tiers_yaml(count: int) -> str:
    rows = [f"      - {{up_to: {n}, unit_amount: 1}}" for n in range(1, count)]
    return "\n".join([*rows, "      - {up_to: inf, unit_amount: 1}"])


P = "prices:\n  - lookup_key: k\n    product: suite\n"  # the head of most price cases (3 lines)
PLAN = "plans:\n  - id: p\n    product: suite\n    currency: usd\n"  # the head of plan cases (4 lines)

FAILING: list[Any] = [
    # R1
    pytest.param("amount-required", "prices:\n  - lookup_key: k  #!\n    product: suite\n    currency: usd\n"),
    pytest.param(
        "amount-required", "plans:\n  - id: p  #!\n    product: suite\n    currency: usd\n    interval: month\n"
    ),
    pytest.param("amount-conflict", P + '    currency: usd\n    unit_amount: 0\n    unit_amount_decimal: "0"  #!\n'),
    pytest.param("amount-conflict", PLAN + '    interval: month\n    amount: 5\n    amount_decimal: "5"  #!\n'),
    pytest.param(
        "amount-conflict",
        P + "    currency: usd\n    unit_amount: 5\n    custom_unit_amount: {enabled: true}  #!\n",
        id="custom-and-unit-amount",
    ),
    pytest.param(
        "amount-conflict",
        P + "    currency: usd\n    unit_amount: 5\n    currency_options:\n"
        '      eur: {unit_amount: 5, unit_amount_decimal: "5"}  #!\n',
        id="in-currency-option",
    ),
    # R3
    pytest.param("decimal-format", P + '    currency: usd\n    unit_amount_decimal: "0.1234567890123"  #!\n'),
    pytest.param("decimal-format", P + '    currency: usd\n    unit_amount_decimal: "-1"  #!\n'),
    pytest.param(
        "flat-amount-not-integral",
        P + "    currency: usd\n    billing_scheme: tiered\n    tiers_mode: volume\n    tiers:\n"
        '      - {up_to: inf, flat_amount_decimal: "1.5"}  #!\n',
    ),
    # R4
    pytest.param("amount-too-large", P + "    currency: usd\n    unit_amount: 100000000  #!\n"),
    pytest.param(
        "amount-too-large",
        P + "    currency: usd\n    billing_scheme: tiered\n    tiers_mode: graduated\n    tiers:\n"
        "      - {up_to: inf, unit_amount: 1, flat_amount: 100000000}  #!\n",
        id="tier-flat-amount",
    ),
    pytest.param("decimal-amount-large", P + '    currency: usd\n    unit_amount_decimal: "100000000.5"  #!\n'),
    # R5
    pytest.param(
        "tiers-need-tiered-scheme",
        P + "    currency: usd\n    tiers:  #!\n      - {up_to: inf, unit_amount: 1}\n",
    ),
    pytest.param(
        "tiered-needs-tiers", P + "    currency: usd\n    billing_scheme: tiered  #!\n    tiers_mode: volume\n"
    ),
    pytest.param(
        "tiered-needs-tiers-mode",
        P + "    currency: usd\n    billing_scheme: tiered  #!\n    tiers:\n      - {up_to: inf, unit_amount: 1}\n",
    ),
    pytest.param(
        "tiered-with-unit-amount",
        P + "    currency: usd\n    unit_amount: 5  #!\n    billing_scheme: tiered\n    tiers_mode: volume\n"
        "    tiers:\n      - {up_to: inf, unit_amount: 1}\n",
    ),
    # R6
    pytest.param(
        "last-tier-not-inf",
        P + "    currency: usd\n    billing_scheme: tiered\n    tiers_mode: volume\n    tiers:\n"
        "      - {up_to: 5, unit_amount: 2}\n      - {up_to: 10, unit_amount: 1}  #!\n",
    ),
    pytest.param(
        "last-tier-not-inf",
        PLAN + "    interval: month\n    billing_scheme: tiered\n    tiers_mode: volume\n    tiers:\n"
        "      - {up_to: 5, unit_amount: 2}\n      - {up_to: null, unit_amount: 1}  #!\n",
        id="plan-null-up-to",
    ),
    pytest.param(
        "last-tier-not-inf",
        P + "    currency: usd\n    billing_scheme: tiered\n    tiers_mode: volume\n    tiers:\n"
        "      - {up_to: inf, unit_amount: 2}\n    currency_options:\n      eur:\n        tiers:\n"
        "          - {up_to: 5, unit_amount: 2}  #!\n",
        id="in-currency-option",
    ),
    pytest.param(
        "inf-tier-not-last",
        P + "    currency: usd\n    billing_scheme: tiered\n    tiers_mode: volume\n    tiers:\n"
        "      - {up_to: inf, unit_amount: 2}  #!\n      - {up_to: inf, unit_amount: 1}\n",
    ),
    pytest.param(
        "tier-up-to-invalid",
        P + "    currency: usd\n    billing_scheme: tiered\n    tiers_mode: volume\n    tiers:\n"
        "      - {up_to: null, unit_amount: 2}  #!\n      - {up_to: inf, unit_amount: 1}\n",
    ),
    pytest.param(
        "tier-bounds-not-increasing",
        P + "    currency: usd\n    billing_scheme: tiered\n    tiers_mode: volume\n    tiers:\n"
        "      - {up_to: 0, unit_amount: 2}  #!\n      - {up_to: inf, unit_amount: 1}\n",
        id="first-below-one",
    ),
    pytest.param(
        "tier-bounds-not-increasing",
        P + "    currency: usd\n    billing_scheme: tiered\n    tiers_mode: volume\n    tiers:\n"
        "      - {up_to: 10, unit_amount: 2}\n      - {up_to: 10, unit_amount: 1}  #!\n"
        "      - {up_to: inf, unit_amount: 1}\n",
        id="equal-bounds",
    ),
    # R7
    pytest.param(
        "tier-amount-conflict",
        P + "    currency: usd\n    billing_scheme: tiered\n    tiers_mode: volume\n    tiers:\n"
        '      - {up_to: inf, flat_amount: 1, flat_amount_decimal: "1"}  #!\n',
    ),
    pytest.param(
        "tier-missing-amount",
        P + "    currency: usd\n    billing_scheme: tiered\n    tiers_mode: volume\n    tiers:\n"
        "      - {up_to: 5, unit_amount: 1}\n      - up_to: inf  #!\n",
    ),
    # R8, R9
    pytest.param(
        "tiers-with-transform",
        P + "    currency: usd\n    billing_scheme: tiered\n    tiers_mode: volume\n    tiers:\n"
        "      - {up_to: inf, unit_amount: 1}\n    transform_quantity: {divide_by: 5, round: up}  #!\n",
    ),
    pytest.param(
        "tiers-with-transform",
        PLAN + "    interval: month\n    billing_scheme: tiered\n    tiers_mode: volume\n    tiers:\n"
        "      - {up_to: inf, unit_amount: 1}\n    transform_usage: {divide_by: 5, round: up}  #!\n",
        id="plan-transform-usage",
    ),
    pytest.param(
        "too-many-tiers",
        P + "    currency: usd\n    billing_scheme: tiered\n    tiers_mode: volume\n    tiers:  #!\n" + tiers_yaml(101),
    ),
    # R10
    pytest.param(
        "transform-needs-per-unit",
        P + "    currency: usd\n    billing_scheme: tiered\n    tiers_mode: volume\n"
        "    transform_quantity: {divide_by: 5, round: up}  #!\n",
    ),
    pytest.param(
        "transform-invalid",
        P + "    currency: usd\n    unit_amount: 5\n    transform_quantity:\n      divide_by: 0  #!\n      round: up\n",
    ),
    pytest.param(
        "transform-invalid",
        PLAN
        + "    interval: month\n    amount: 5\n    transform_usage:\n      divide_by: 5\n      round: nearest  #!\n",
        id="plan-round",
    ),
    # R11
    pytest.param(
        "interval-count-range",
        P + "    currency: usd\n    unit_amount: 5\n    recurring:\n      interval: month\n"
        "      interval_count: 37  #!\n",
    ),
    pytest.param("interval-count-range", PLAN + "    amount: 5\n    interval: year\n    interval_count: 4  #!\n"),
    pytest.param(
        "interval-count-range",
        P + "    currency: usd\n    unit_amount: 5\n    recurring: {interval: week, interval_count: 0}  #!\n",
        id="zero",
    ),
    pytest.param(
        "interval-days-too-long",
        P + "    currency: usd\n    unit_amount: 5\n    recurring: {interval: day, interval_count: 1096}  #!\n",
    ),
    # R12, R13
    pytest.param(
        "metered-needs-meter",
        P + "    currency: usd\n    unit_amount: 5\n    recurring:\n      interval: month\n"
        "      usage_type: metered  #!\n",
    ),
    pytest.param("metered-needs-meter", PLAN + "    amount: 5\n    interval: month\n    usage_type: metered  #!\n"),
    pytest.param(
        "meter-needs-metered",
        P
        + "    currency: usd\n    unit_amount: 5\n    recurring:\n      interval: month\n      meter: api_calls  #!\n",
    ),
    pytest.param(
        "one-time-with-recurring-fields", P + "    currency: usd\n    unit_amount: 5\n    usage_type: metered  #!\n"
    ),
    pytest.param(
        "unknown-meter",
        P + "    currency: usd\n    unit_amount: 5\n    recurring:\n      interval: month\n      usage_type: metered\n"
        "      meter: api_call  #!\n",
    ),
    pytest.param(
        "unknown-meter", PLAN + "    amount: 5\n    interval: month\n    usage_type: metered\n    meter: nope  #!\n"
    ),
    # R14, R15
    pytest.param(
        "aggregate-usage-removed",
        P + "    currency: usd\n    unit_amount: 5\n    recurring:\n      interval: month\n      usage_type: metered\n"
        "      meter: api_calls\n      aggregate_usage: sum  #!\n",
    ),
    pytest.param(
        "aggregate-usage-removed", PLAN + "    amount: 5\n    interval: month\n    aggregate_usage: max  #!\n"
    ),
    pytest.param("trial-too-long", PLAN + "    amount: 5\n    interval: month\n    trial_period_days: 731  #!\n"),
    pytest.param(
        "trial-too-long",
        P + "    currency: usd\n    unit_amount: 5\n    recurring: {interval: month, trial_period_days: 800}  #!\n",
    ),
    # R16
    pytest.param("custom-unit-amount-enabled", P + "    currency: usd\n    custom_unit_amount: {minimum: 100}  #!\n"),
    pytest.param(
        "custom-unit-amount-enabled",
        P + "    currency: usd\n    custom_unit_amount:\n      enabled: false  #!\n",
        id="disabled",
    ),
    pytest.param(
        "custom-unit-amount-range",
        P + "    currency: usd\n    custom_unit_amount:\n      enabled: true\n      minimum: 500\n"
        "      maximum: 100  #!\n",
    ),
    pytest.param(
        "custom-unit-amount-range",
        P
        + "    currency: usd\n    custom_unit_amount:\n      enabled: true\n      preset: 50  #!\n      minimum: 100\n",
        id="preset-below-minimum",
    ),
    pytest.param(
        "custom-unit-amount-with-tiers",
        P + "    currency: usd\n    billing_scheme: tiered\n    tiers_mode: volume\n"
        "    custom_unit_amount: {enabled: true}  #!\n    tiers:\n      - {up_to: inf, unit_amount: 1}\n",
    ),
    pytest.param(
        "custom-unit-amount-recurring",
        P + "    currency: usd\n    custom_unit_amount: {enabled: true}  #!\n    recurring: {interval: month}\n",
    ),
    # R18, R19
    pytest.param("unsupported-currency", P + "    currency: xyz  #!\n    unit_amount: 5\n"),
    pytest.param("unsupported-currency", PLAN.replace("usd", "USD  #!") + "    amount: 5\n    interval: month\n"),
    pytest.param(
        "unsupported-currency",
        P + "    currency: usd\n    unit_amount: 5\n    currency_options:\n      eu: {unit_amount: 5}  #!\n",
        id="option-key",
    ),
    pytest.param(
        "currency-option-same-currency",
        P + "    currency: usd\n    unit_amount: 5\n    currency_options:\n      usd: {unit_amount: 5}  #!\n",
    ),
    pytest.param(
        "currency-option-scheme",
        P + "    currency: usd\n    billing_scheme: tiered\n    tiers_mode: volume\n    tiers:\n"
        "      - {up_to: inf, unit_amount: 1}\n    currency_options:\n      eur: {tax_behavior: exclusive}  #!\n",
        id="tiered-option-without-tiers",
    ),
    pytest.param(
        "currency-option-scheme",
        P + "    currency: usd\n    unit_amount: 5\n    currency_options:\n      eur:\n        tiers:  #!\n"
        "          - {up_to: inf, unit_amount: 1}\n",
        id="per-unit-option-with-tiers",
    ),
    pytest.param(
        "currency-option-scheme",
        P + "    currency: usd\n    unit_amount: 5\n    currency_options:\n      eur: {tax_behavior: inclusive}  #!\n",
        id="per-unit-option-without-amount",
    ),
    pytest.param(
        "currency-option-tier-bounds",
        P + "    currency: usd\n    billing_scheme: tiered\n    tiers_mode: volume\n    tiers:\n"
        "      - {up_to: 5, unit_amount: 2}\n      - {up_to: inf, unit_amount: 1}\n    currency_options:\n"
        "      eur:\n        tiers:  #!\n          - {up_to: 10, unit_amount: 2}\n"
        "          - {up_to: inf, unit_amount: 1}\n",
    ),
    # R20
    pytest.param("zero-decimal-fraction", P + '    currency: jpy\n    unit_amount_decimal: "0.5"  #!\n'),
    pytest.param("three-decimal-last-digit", P + "    currency: kwd\n    unit_amount: 1005  #!\n"),
    pytest.param(
        "three-decimal-last-digit",
        P + "    currency: usd\n    unit_amount: 5\n    currency_options:\n      bhd: {unit_amount: 1001}  #!\n",
        id="in-currency-option",
    ),
    pytest.param("isk-divisible-by-100", P + "    currency: isk\n    unit_amount: 150  #!\n"),
    pytest.param("currency-special-case", P + "    currency: huf\n    unit_amount: 150  #!\n"),
    # R21, R22
    pytest.param(
        "duplicate-lookup-key",
        P + "    currency: usd\n    unit_amount: 5\n  - lookup_key: k  #!\n    product: suite\n    currency: usd\n"
        "    unit_amount: 6\n",
    ),
    pytest.param(
        "duplicate-lookup-key",
        "prices:\n  - lookup_key: suite_monthly  #!\n    product: suite\n    currency: usd\n    unit_amount: 6\n",
        id="across-files",
    ),
    pytest.param(
        "reserved-metadata-key",
        P + "    currency: usd\n    unit_amount: 5\n    metadata:\n      managed_by: me  #!\n",
    ),
    pytest.param(
        "metadata-invalid",
        P + "    currency: usd\n    unit_amount: 5\n    metadata:\n      tier[1]: gold  #!\n",
    ),
    pytest.param(
        "metadata-invalid",
        "products:\n  - id: other\n    name: Other\n    metadata:\n      seats: 3  #!\n",
        id="not-a-string",
    ),
    pytest.param(
        "metadata-invalid",
        "products:\n  - id: other\n    name: Other\n    metadata:  #!\n"
        + "".join(f"      k{n}: v\n" for n in range(50)),
        id="too-many-keys",
    ),
    pytest.param(
        "metadata-invalid",
        "meters:\n  - event_name: m\n    display_name: M\n    default_aggregation: {formula: sum}\n"
        "    metadata: {a: b}  #!\n",
        id="meter",
    ),
    # R23, R24, R27
    pytest.param("product-name-required", "products:\n  - id: other  #!\n    description: no name\n"),
    pytest.param("duplicate-product", "products:\n  - id: suite  #!\n    name: Suite again\n"),
    pytest.param(
        "duplicate-plan",
        PLAN + "    amount: 5\n    interval: month\n  - id: p  #!\n    product: suite\n"
        "    currency: usd\n    amount: 6\n    interval: month\n",
    ),
    pytest.param(
        "duplicate-meter",
        "meters:\n  - event_name: api_calls  #!\n    display_name: Again\n    default_aggregation: {formula: count}\n",
    ),
    pytest.param("missing-product", "prices:\n  - lookup_key: k  #!\n    currency: usd\n    unit_amount: 5\n"),
    pytest.param(
        "missing-product", "plans:\n  - id: p  #!\n    currency: usd\n    amount: 5\n    interval: month\n", id="plan"
    ),
    pytest.param(
        "nested-price-product",
        "products:\n  - id: other\n    name: Other\n    prices:\n      - lookup_key: k\n        product: suite  #!\n"
        "        currency: usd\n        unit_amount: 5\n",
    ),
    pytest.param(
        "unknown-product", "prices:\n  - lookup_key: k\n    product: suit  #!\n    currency: usd\n    unit_amount: 5\n"
    ),
    pytest.param(
        "unknown-product", PLAN.replace("suite", "nope  #!") + "    amount: 5\n    interval: month\n", id="plan"
    ),
    pytest.param("unknown-default-price", "products:\n  - id: other\n    name: Other\n    default_price: nope  #!\n"),
    pytest.param(
        "unknown-default-price",
        "products:\n  - id: other\n    name: Other\n    default_price: suite_monthly  #!\n",
        id="price-of-another-product",
    ),
    # R25
    pytest.param(
        "uncombinable-recurring-price",
        P
        + "    currency: usd\n    unit_amount: 5\n    recurring:  #!\n      interval: year\n      usage_type: metered\n"
        "      meter: api_calls\n",
    ),
    pytest.param(
        "uncombinable-recurring-price",
        P + "    currency: eur\n    unit_amount: 5\n"
        "    recurring: {interval: month, usage_type: metered, meter: api_calls}  #!\n",
        id="other-currency",
    ),
]


def _case_id(param: Any) -> str:
    return f"{param.values[0]}-{param.id}" if param.id else str(param.values[0])


FAILING = [pytest.param(*p.values, id=_case_id(p)) for p in FAILING]


@pytest.mark.parametrize(("rule_id", "case"), FAILING)
def test_rule_fires_on_the_marked_line(rule_id: str, case: str) -> None:
    found = [d for d in diagnose(case) if d.rule == rule_id]
    assert [d.location.line for d in found] == [marked_line(case)], [d.format() for d in diagnose(case)]
    rule = RULES_BY_ID[rule_id]
    assert all(d.severity is rule.severity and d.location.file == "plans/case.yaml" for d in found)
    assert all(d.message and d.hint for d in found)


#: catalogs that break no rule at all, each a near miss of the rules named beside it
PASSING: list[Any] = [
    pytest.param(("amount-required", "amount-conflict"), P + "    currency: usd\n    unit_amount: 0\n"),
    pytest.param(("amount-required",), PLAN + '    amount_decimal: "0.5"\n    interval: month\n'),
    pytest.param(
        ("amount-required", "custom-unit-amount-enabled"),
        P + "    currency: usd\n    custom_unit_amount: {enabled: true, minimum: 100, preset: 100, maximum: 100}\n",
    ),
    pytest.param(
        ("decimal-format", "decimal-amount-large"),
        P + '    currency: usd\n    unit_amount_decimal: "99999999.123456789012"\n',
    ),
    pytest.param(("amount-too-large",), P + "    currency: usd\n    unit_amount: 99999999\n"),
    pytest.param(
        ("custom-unit-amount-with-tiers",),
        P + "    currency: usd\n    custom_unit_amount: {enabled: true}\n  - lookup_key: t\n    product: suite\n"
        "    currency: usd\n    billing_scheme: tiered\n    tiers_mode: volume\n"
        "    tiers: [{up_to: inf, unit_amount: 1}]\n",
    ),
    pytest.param(
        (
            "tiers-need-tiered-scheme",
            "tiered-needs-tiers",
            "tiered-needs-tiers-mode",
            "last-tier-not-inf",
            "inf-tier-not-last",
            "tier-up-to-invalid",
            "tier-bounds-not-increasing",
            "tier-amount-conflict",
            "tier-missing-amount",
            "flat-amount-not-integral",
            "too-many-tiers",
            "currency-option-scheme",
            "tiered-with-unit-amount",
            "currency-option-tier-bounds",
        ),
        P + "    currency: usd\n    billing_scheme: tiered\n    tiers_mode: graduated\n    tiers:\n"
        '      - {up_to: 1, flat_amount_decimal: "100"}\n      - {up_to: 2, unit_amount: 0}\n'
        '      - {up_to: inf, unit_amount_decimal: "0.5", flat_amount: 10}\n'
        "    currency_options:\n      eur:\n        tiers:\n          - {up_to: 1, flat_amount: 90}\n"
        "          - {up_to: 2, unit_amount: 0}\n          - {up_to: inf, unit_amount: 1}\n",
    ),
    pytest.param(
        ("too-many-tiers",),
        P + "    currency: usd\n    billing_scheme: tiered\n    tiers_mode: volume\n    tiers:\n" + tiers_yaml(100),
    ),
    pytest.param(
        ("tiers-with-transform", "transform-needs-per-unit", "transform-invalid"),
        PLAN + "    amount: 1000\n    interval: month\n    transform_usage: {divide_by: 5, round: up}\n",
    ),
    pytest.param(
        ("interval-count-range", "interval-days-too-long", "trial-too-long"),
        P + "    currency: usd\n    unit_amount: 5\n"
        "    recurring: {interval: week, interval_count: 156, trial_period_days: 730}\n"
        "  - lookup_key: daily\n    product: suite\n    currency: usd\n    unit_amount: 5\n"
        "    recurring: {interval: day, interval_count: 1095}\n",
    ),
    pytest.param(
        ("metered-needs-meter", "meter-needs-metered", "unknown-meter", "uncombinable-recurring-price"),
        P + "    currency: usd\n    unit_amount: 5\n"
        "    recurring: {interval: month, usage_type: metered, meter: api_calls}\n",
    ),
    pytest.param(
        ("unknown-meter", "uncombinable-recurring-price"),
        "products:\n  - id: metered_only\n    name: Metered only\n"
        "plans:\n  - id: p\n    product: metered_only\n    currency: eur\n    amount: 5\n    interval: year\n"
        "    usage_type: metered\n    meter: api_calls\n",
    ),
    pytest.param(
        ("uncombinable-recurring-price",),
        P + "    currency: usd\n    unit_amount: 10000\n    recurring: {interval: year}\n",
        id="monthly-and-yearly-licensed",
    ),
    pytest.param(
        ("one-time-with-recurring-fields", "custom-unit-amount-recurring", "custom-unit-amount-range"),
        P + "    currency: usd\n    custom_unit_amount: {enabled: true, minimum: 500, preset: 1000}\n",
    ),
    pytest.param(
        (
            "unsupported-currency",
            "currency-option-same-currency",
            "three-decimal-last-digit",
            "isk-divisible-by-100",
            "currency-special-case",
            "zero-decimal-fraction",
        ),
        P + "    currency: usd\n    unit_amount: 5\n    currency_options:\n      kwd: {unit_amount: 1000}\n"
        '      isk: {unit_amount: 500}\n      huf: {unit_amount: 300}\n      jpy: {unit_amount_decimal: "3"}\n'
        "      eur: {custom_unit_amount: {enabled: true}}\n",
    ),
    pytest.param(
        ("reserved-metadata-key", "metadata-invalid", "product-name-required", "unknown-default-price"),
        "products:\n  - id: other\n    name: Other\n    default_price: other_once\n"
        + "    metadata: {"
        + ", ".join(f"k{n}: v" for n in range(49))  # Stripe's 50 keys less pricebook's managed_by
        + "}\n"
        "    prices:\n      - lookup_key: other_once\n        currency: usd\n        unit_amount: 5\n"
        "        metadata: {seats: '3'}\n",
    ),
    pytest.param(
        (
            "duplicate-lookup-key",
            "duplicate-product",
            "duplicate-plan",
            "duplicate-meter",
            "missing-product",
            "nested-price-product",
            "unknown-product",
        ),
        "meters:\n  - event_name: api_calls_v2\n    display_name: API calls\n"
        "    default_aggregation: {formula: count}\n"
        + PLAN
        + "    amount: 5\n    interval: month\n  - id: q\n    product: suite\n    currency: usd\n"
        "    amount: 5\n    interval: month\n",
    ),
    pytest.param(("aggregate-usage-removed",), "prices: []\n"),
]


@pytest.mark.parametrize(("near_rules", "case"), PASSING)
def test_valid_catalog_has_no_diagnostics(near_rules: tuple[str, ...], case: str) -> None:
    assert set(near_rules) <= set(RULES_BY_ID)
    assert [d.format() for d in diagnose(case)] == []


def test_base_catalog_is_valid() -> None:
    assert run_rules(all_entries([load(BASE, "plans/base.yaml")])) == []


def test_every_rule_has_a_failing_and_a_passing_case() -> None:
    failing = {p.values[0] for p in FAILING}
    passing = {rule for p in PASSING for rule in p.values[0]}
    assert {r.id for r in RULES} - failing == set()
    assert {r.id for r in RULES} - passing == set()


def test_registry_is_well_formed() -> None:
    ids = [rule.id for rule in RULES]
    assert len(ids) == len(set(ids))
    for rule in RULES:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule.id)
        assert (rule.check_entry is None) != (rule.check_catalog is None)
        assert rule.summary and rule.topic
        # a rule rests on a Stripe docs page and says how sure we are, or is pricebook's own (neither)
        assert (rule.basis.doc is None) == (rule.basis.certainty is None), rule.id
        assert rule.basis.doc is None or rule.basis.doc.startswith("https://docs.stripe.com/"), rule.id


def test_duplicate_names_the_first_definition() -> None:
    (found,) = [d for d in diagnose("products:\n  - id: suite\n    name: Again\n") if d.rule == "duplicate-product"]
    assert "also defined at plans/base.yaml:6:9" in found.message


def test_unknown_reference_suggests_a_close_name() -> None:
    case = FAILING[[p.id for p in FAILING].index("unknown-product")].values[1]
    (found,) = [d for d in diagnose(case) if d.rule == "unknown-product"]
    assert "did you mean 'suite'?" in found.message


def test_stripe_error_text_is_quoted_in_hints() -> None:
    case = FAILING[[p.id for p in FAILING].index("tiers-with-transform")].values[1]
    (found,) = [d for d in diagnose(case) if d.rule == "tiers-with-transform"]
    assert found.hint is not None
    assert "You may only specify one of these parameters: tiers, transform_quantity." in found.hint


def test_warnings_are_not_errors() -> None:
    assert {r.id for r in RULES if r.severity is Severity.WARNING} == {
        "decimal-amount-large",
        "too-many-tiers",
        "currency-option-tier-bounds",
        "interval-days-too-long",
        "custom-unit-amount-recurring",
        "zero-decimal-fraction",
        "currency-special-case",
        "uncombinable-recurring-price",
    }


# --- robustness and speed -------------------------------------------------------------------------------

FIELDS = [
    "id",
    "name",
    "lookup_key",
    "product",
    "event_name",
    "currency",
    "unit_amount",
    "unit_amount_decimal",
    "amount",
    "amount_decimal",
    "billing_scheme",
    "tiers",
    "tiers_mode",
    "up_to",
    "flat_amount",
    "flat_amount_decimal",
    "transform_quantity",
    "transform_usage",
    "divide_by",
    "round",
    "recurring",
    "interval",
    "interval_count",
    "usage_type",
    "meter",
    "trial_period_days",
    "aggregate_usage",
    "custom_unit_amount",
    "enabled",
    "minimum",
    "maximum",
    "preset",
    "currency_options",
    "metadata",
    "default_price",
    "prices",
    "usd",
    "eur",
    "managed_by",
]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-5, max_value=200_000_000),
    st.sampled_from(
        [
            "inf",
            "usd",
            "eur",
            "jpy",
            "kwd",
            "isk",
            "huf",
            "USD",
            "tiered",
            "per_unit",
            "metered",
            "month",
            "day",
            "year",
            "up",
            "0.5",
            "1e5",
            "NaN",
            "-1",
            "x",
            "suite",
            "api_calls",
        ]
    ),
    st.text(max_size=5),
    st.floats(allow_nan=True, allow_infinity=True),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.integers(0, 3)), inner, max_size=5),
    ),
    max_leaves=10,
)
OBJECTS = st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=6)
CATALOG = st.fixed_dictionaries(
    {section: st.lists(OBJECTS, max_size=3) for section in ("meters", "products", "prices", "plans")}
)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(CATALOG)
def test_rules_never_crash(catalog: dict[str, Any]) -> None:
    # the same data in two files also exercises every "defined twice" path
    entries = all_entries([Document("a.yaml", catalog), Document("b.yaml", catalog)])
    for diagnostic in run_rules(entries):
        assert diagnostic.rule in RULES_BY_ID
    # the `when` shortcut never hides a finding: a rule skipped for lack of its fields would find nothing
    for entry in entries:
        for rule in RULES:
            if rule.check_entry is not None and entry.kind in rule.kinds and not rule.applies_to(entry):
                assert list(rule.check_entry(entry)) == [], rule.id


def test_rules_take_a_big_tiered_catalog() -> None:
    # 2,000 tiered, metered prices with currency options: every rule runs over them and finds nothing. How the
    # time grows with the size is measured by `python -m tests.bench.rules_bench` (a wall-clock bound here could
    # fail on a loaded CI machine), the 10,000-price budget by the validate benchmark.
    prices = [
        {
            "lookup_key": f"k{n}",
            "product": "suite",
            "currency": "usd",
            "billing_scheme": "tiered",
            "tiers_mode": "graduated",
            "tiers": [{"up_to": 10, "unit_amount": 5}, {"up_to": "inf", "unit_amount": 4}],
            "recurring": {"interval": "month", "usage_type": "metered", "meter": "api_calls"},
            "currency_options": {
                "eur": {"tiers": [{"up_to": 10, "unit_amount": 5}, {"up_to": "inf", "unit_amount": 4}]}
            },
        }
        for n in range(2_000)
    ]
    docs = [load(BASE, "plans/base.yaml"), Document("plans/big.yaml", {"prices": prices})]
    found = run_rules(all_entries(docs))
    assert [d.rule for d in found] == []
