"""Every validate-time rule id, each with a catalog that breaks it, and near misses that break nothing.

One table, used four times: the rules alone must report each rule case at its marked line
(`tests/unit/test_rules.py`), `pricebook validate` must report exactly each case's id (`test_rule_cases.py`),
Stripe (the emulator) must refuse what validate refuses and take what it takes (`test_emulator_agreement.py`),
and `docs/rules.md` lists exactly these ids.

A case is the file `plans/case.yaml` (or `file`), next to `BASE` as `plans/base.yaml` unless `base=False`; the
line marked `#!`, if any, is where the rule reports. `also` names what the case cannot help reporting besides
its rule, with the reason beside it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from textwrap import dedent
from typing import Any

import pytest

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


@dataclass(frozen=True)
class Case:
    """A catalog that breaks `rule` (and nothing else but `also`)."""

    rule: str
    text: str | bytes
    variant: str = ""
    #: the case file's name in the catalog directory (a template ends in .yaml.j2)
    file: str = "case.yaml"
    base: bool = True
    #: more command-line arguments; `{dir}` is the catalog directory
    args: tuple[str, ...] = ()
    #: more files in the catalog directory, by name
    extra: Mapping[str, str] = field(default_factory=dict)
    also: tuple[str, ...] = ()
    #: the case file cannot be read (the test makes reading it fail)
    unreadable: bool = False
    #: environment variables for the run: pricebook's bounds, lowered so that a small case reaches them
    env: Mapping[str, str] = field(default_factory=dict)

    @property
    def ids(self) -> set[str]:
        """Every rule id validate reports for this case."""
        return {self.rule, *self.also}

    def marked_line(self) -> int | None:
        """The line marked `#!`, where the rule reports; None when no line is marked."""
        text = self.text if isinstance(self.text, str) else ""
        lines = [n for n, line in enumerate(dedent(text).splitlines(), 1) if "#!" in line]
        assert len(lines) <= 1, "mark at most one line with #!"
        return lines[0] if lines else None


@dataclass(frozen=True)
class Passing:
    """A catalog that breaks no rule at all, a near miss of each rule in `near`."""

    near: tuple[str, ...]
    text: str
    variant: str = ""


def params(cases: Sequence[Case]) -> list[Any]:
    """pytest params of `cases`, with unique ids (`rule`, `rule-variant`, `rule-2`...)."""
    seen: dict[str, int] = {}
    out: list[Any] = []
    for case in cases:
        name = f"{case.rule}-{case.variant}" if case.variant else case.rule
        seen[name] = seen.get(name, 0) + 1
        out.append(pytest.param(case, id=name if seen[name] == 1 else f"{name}-{seen[name]}"))
    return out


def passing_params(cases: Sequence[Passing]) -> list[Any]:
    return [pytest.param(case, id=case.variant or "-".join(case.near[:2])) for case in cases]


def tiers_yaml(count: int) -> str:
    rows = [f"      - {{up_to: {n}, unit_amount: 1}}" for n in range(1, count)]
    return "\n".join([*rows, "      - {up_to: inf, unit_amount: 1}"])


P = "prices:\n  - lookup_key: k\n    product: suite\n"  # the head of most price cases (3 lines)
PLAN = "plans:\n  - id: p\n    product: suite\n    currency: usd\n"  # the head of plan cases (4 lines)
#: a product with three of its four package dimensions (the cases add the weight)
DIMENSIONS = (
    "products:\n  - id: box\n    name: Box\n"
    "    package_dimensions:\n      height: 2\n      length: 3.5\n      width: 4\n"
)

# --- Stripe's cross-field rules (compiler.catalog.rules) -------------------------------------------------

RULE_FAILING: list[Case] = [
    Case("amount-required", "prices:\n  - lookup_key: k  #!\n    product: suite\n    currency: usd\n"),
    Case("amount-required", "plans:\n  - id: p  #!\n    product: suite\n    currency: usd\n    interval: month\n"),
    Case("amount-conflict", P + '    currency: usd\n    unit_amount: 0\n    unit_amount_decimal: "0"  #!\n'),
    Case("amount-conflict", PLAN + '    interval: month\n    amount: 5\n    amount_decimal: "5"  #!\n'),
    Case(
        "amount-conflict",
        P + "    currency: usd\n    unit_amount: 5\n    custom_unit_amount: {enabled: true}  #!\n",
        variant="custom-and-unit-amount",
    ),
    Case(
        "amount-conflict",
        P + "    currency: usd\n    unit_amount: 5\n    currency_options:\n"
        '      eur: {unit_amount: 5, unit_amount_decimal: "5"}  #!\n',
        variant="in-currency-option",
    ),
    Case("decimal-format", P + '    currency: usd\n    unit_amount_decimal: "0.1234567890123"  #!\n'),
    Case("decimal-format", P + '    currency: usd\n    unit_amount_decimal: "-1"  #!\n'),
    Case(
        "flat-amount-not-integral",
        P + "    currency: usd\n    billing_scheme: tiered\n    tiers_mode: volume\n    tiers:\n"
        '      - {up_to: inf, flat_amount_decimal: "1.5"}  #!\n',
    ),
    Case("amount-too-large", P + "    currency: usd\n    unit_amount: 100000000  #!\n"),
    Case(
        "amount-too-large",
        P + "    currency: usd\n    billing_scheme: tiered\n    tiers_mode: graduated\n    tiers:\n"
        "      - {up_to: inf, unit_amount: 1, flat_amount: 100000000}  #!\n",
        variant="tier-flat-amount",
    ),
    Case("decimal-amount-large", P + '    currency: usd\n    unit_amount_decimal: "100000000.5"  #!\n'),
    Case(
        "tiers-need-tiered-scheme",
        P + "    currency: usd\n    tiers:  #!\n      - {up_to: inf, unit_amount: 1}\n",
    ),
    Case("tiered-needs-tiers", P + "    currency: usd\n    billing_scheme: tiered  #!\n    tiers_mode: volume\n"),
    Case(
        "tiered-needs-tiers-mode",
        P + "    currency: usd\n    billing_scheme: tiered  #!\n    tiers:\n      - {up_to: inf, unit_amount: 1}\n",
    ),
    Case(
        "tiered-with-unit-amount",
        P + "    currency: usd\n    unit_amount: 5  #!\n    billing_scheme: tiered\n    tiers_mode: volume\n"
        "    tiers:\n      - {up_to: inf, unit_amount: 1}\n",
    ),
    Case(
        "last-tier-not-inf",
        P + "    currency: usd\n    billing_scheme: tiered\n    tiers_mode: volume\n    tiers:\n"
        "      - {up_to: 5, unit_amount: 2}\n      - {up_to: 10, unit_amount: 1}  #!\n",
    ),
    Case(
        "last-tier-not-inf",
        PLAN + "    interval: month\n    billing_scheme: tiered\n    tiers_mode: volume\n    tiers:\n"
        "      - {up_to: 5, unit_amount: 2}\n      - {up_to: null, unit_amount: 1}  #!\n",
        variant="plan-null-up-to",
    ),
    Case(
        "last-tier-not-inf",
        P + "    currency: usd\n    billing_scheme: tiered\n    tiers_mode: volume\n    tiers:\n"
        "      - {up_to: inf, unit_amount: 2}\n    currency_options:\n      eur:\n        tiers:\n"
        "          - {up_to: 5, unit_amount: 2}  #!\n",
        variant="in-currency-option",
        # an option's last tier that is not `inf` cannot have the price's bounds, whose last is
        also=("currency-option-tier-bounds",),
    ),
    Case(
        "inf-tier-not-last",
        P + "    currency: usd\n    billing_scheme: tiered\n    tiers_mode: volume\n    tiers:\n"
        "      - {up_to: inf, unit_amount: 2}  #!\n      - {up_to: inf, unit_amount: 1}\n",
    ),
    Case(
        "tier-up-to-invalid",
        P + "    currency: usd\n    billing_scheme: tiered\n    tiers_mode: volume\n    tiers:\n"
        "      - {up_to: null, unit_amount: 2}  #!\n      - {up_to: inf, unit_amount: 1}\n",
    ),
    Case(
        "tier-bounds-not-increasing",
        P + "    currency: usd\n    billing_scheme: tiered\n    tiers_mode: volume\n    tiers:\n"
        "      - {up_to: 0, unit_amount: 2}  #!\n      - {up_to: inf, unit_amount: 1}\n",
        variant="first-below-one",
    ),
    Case(
        "tier-bounds-not-increasing",
        P + "    currency: usd\n    billing_scheme: tiered\n    tiers_mode: volume\n    tiers:\n"
        "      - {up_to: 10, unit_amount: 2}\n      - {up_to: 10, unit_amount: 1}  #!\n"
        "      - {up_to: inf, unit_amount: 1}\n",
        variant="equal-bounds",
    ),
    Case(
        "tier-amount-conflict",
        P + "    currency: usd\n    billing_scheme: tiered\n    tiers_mode: volume\n    tiers:\n"
        '      - {up_to: inf, flat_amount: 1, flat_amount_decimal: "1"}  #!\n',
    ),
    Case(
        "tier-missing-amount",
        P + "    currency: usd\n    billing_scheme: tiered\n    tiers_mode: volume\n    tiers:\n"
        "      - {up_to: 5, unit_amount: 1}\n      - up_to: inf  #!\n",
    ),
    Case(
        "tiers-with-transform",
        P + "    currency: usd\n    billing_scheme: tiered\n    tiers_mode: volume\n    tiers:\n"
        "      - {up_to: inf, unit_amount: 1}\n    transform_quantity: {divide_by: 5, round: up}  #!\n",
    ),
    Case(
        "tiers-with-transform",
        PLAN + "    interval: month\n    billing_scheme: tiered\n    tiers_mode: volume\n    tiers:\n"
        "      - {up_to: inf, unit_amount: 1}\n    transform_usage: {divide_by: 5, round: up}  #!\n",
        variant="plan-transform-usage",
    ),
    Case(
        "too-many-tiers",
        P + "    currency: usd\n    billing_scheme: tiered\n    tiers_mode: volume\n    tiers:  #!\n" + tiers_yaml(101),
    ),
    Case(
        "transform-needs-per-unit",
        P + "    currency: usd\n    billing_scheme: tiered\n    tiers_mode: volume\n"
        "    transform_quantity: {divide_by: 5, round: up}  #!\n",
        # with tiers, `tiers-with-transform` says it; without them, a tiered price also lacks its tiers
        also=("tiered-needs-tiers",),
    ),
    Case(
        "transform-invalid",
        P + "    currency: usd\n    unit_amount: 5\n    transform_quantity:\n      divide_by: 0  #!\n      round: up\n",
    ),
    Case(
        "transform-invalid",
        PLAN
        + "    interval: month\n    amount: 5\n    transform_usage:\n      divide_by: 5\n      round: nearest  #!\n",
        variant="plan-round",
    ),
    Case(
        "interval-count-range",
        P + "    currency: usd\n    unit_amount: 5\n    recurring:\n      interval: month\n"
        "      interval_count: 37  #!\n",
    ),
    Case("interval-count-range", PLAN + "    amount: 5\n    interval: year\n    interval_count: 4  #!\n"),
    Case(
        "interval-count-range",
        P + "    currency: usd\n    unit_amount: 5\n    recurring: {interval: week, interval_count: 0}  #!\n",
        variant="zero",
    ),
    Case(
        "interval-days-too-long",
        P + "    currency: usd\n    unit_amount: 5\n    recurring: {interval: day, interval_count: 1096}  #!\n",
    ),
    Case(
        "metered-needs-meter",
        P + "    currency: usd\n    unit_amount: 5\n    recurring:\n      interval: month\n"
        "      usage_type: metered  #!\n",
    ),
    Case("metered-needs-meter", PLAN + "    amount: 5\n    interval: month\n    usage_type: metered  #!\n"),
    Case(
        "meter-needs-metered",
        P
        + "    currency: usd\n    unit_amount: 5\n    recurring:\n      interval: month\n      meter: api_calls  #!\n",
    ),
    Case("one-time-with-recurring-fields", P + "    currency: usd\n    unit_amount: 5\n    usage_type: metered  #!\n"),
    Case(
        "one-time-with-recurring-fields",
        P + "    currency: usd\n    unit_amount: 5\n    trial_period_days: 14  #!\n",
        variant="trial",
    ),
    Case(
        "unknown-meter",
        P + "    currency: usd\n    unit_amount: 5\n    recurring:\n      interval: month\n      usage_type: metered\n"
        "      meter: api_call  #!\n",
    ),
    Case("unknown-meter", PLAN + "    amount: 5\n    interval: month\n    usage_type: metered\n    meter: nope  #!\n"),
    Case(
        "aggregate-usage-removed",
        P + "    currency: usd\n    unit_amount: 5\n    recurring:\n      interval: month\n      usage_type: metered\n"
        "      meter: api_calls\n      aggregate_usage: sum  #!\n",
    ),
    Case("aggregate-usage-removed", PLAN + "    amount: 5\n    interval: month\n    aggregate_usage: max  #!\n"),
    Case("trial-too-long", PLAN + "    amount: 5\n    interval: month\n    trial_period_days: 731  #!\n"),
    Case(
        "trial-too-long",
        P + "    currency: usd\n    unit_amount: 5\n    recurring:\n      interval: month\n"
        "      trial_period_days: 731  #!\n",
        variant="price",
    ),
    Case("custom-unit-amount-enabled", P + "    currency: usd\n    custom_unit_amount: {minimum: 100}  #!\n"),
    Case(
        "custom-unit-amount-enabled",
        P + "    currency: usd\n    custom_unit_amount:\n      enabled: false  #!\n",
        variant="disabled",
    ),
    Case(
        "custom-unit-amount-range",
        P + "    currency: usd\n    custom_unit_amount:\n      enabled: true\n      minimum: 500\n"
        "      maximum: 100  #!\n",
    ),
    Case(
        "custom-unit-amount-range",
        P
        + "    currency: usd\n    custom_unit_amount:\n      enabled: true\n      preset: 50  #!\n      minimum: 100\n",
        variant="preset-below-minimum",
    ),
    Case(
        "custom-unit-amount-with-tiers",
        P + "    currency: usd\n    billing_scheme: tiered\n    tiers_mode: volume\n"
        "    custom_unit_amount: {enabled: true}  #!\n    tiers:\n      - {up_to: inf, unit_amount: 1}\n",
    ),
    Case(
        "custom-unit-amount-recurring",
        P + "    currency: usd\n    custom_unit_amount: {enabled: true}  #!\n    recurring: {interval: month}\n",
    ),
    Case("unsupported-currency", P + "    currency: xyz  #!\n    unit_amount: 5\n"),
    Case("unsupported-currency", PLAN.replace("usd", "USD  #!") + "    amount: 5\n    interval: month\n"),
    Case(
        "unsupported-currency",
        P + "    currency: usd\n    unit_amount: 5\n    currency_options:\n      eu: {unit_amount: 5}  #!\n",
        variant="option-key",
    ),
    Case(
        "currency-option-same-currency",
        P + "    currency: usd\n    unit_amount: 5\n    currency_options:\n      usd: {unit_amount: 5}  #!\n",
    ),
    Case(
        "currency-option-scheme",
        P + "    currency: usd\n    billing_scheme: tiered\n    tiers_mode: volume\n    tiers:\n"
        "      - {up_to: inf, unit_amount: 1}\n    currency_options:\n      eur: {tax_behavior: exclusive}  #!\n",
        variant="tiered-option-without-tiers",
    ),
    Case(
        "currency-option-scheme",
        P + "    currency: usd\n    unit_amount: 5\n    currency_options:\n      eur:\n        tiers:  #!\n"
        "          - {up_to: inf, unit_amount: 1}\n",
        variant="per-unit-option-with-tiers",
    ),
    Case(
        "currency-option-scheme",
        P + "    currency: usd\n    unit_amount: 5\n    currency_options:\n      eur: {tax_behavior: inclusive}  #!\n",
        variant="per-unit-option-without-amount",
    ),
    Case(
        "currency-option-tier-bounds",
        P + "    currency: usd\n    billing_scheme: tiered\n    tiers_mode: volume\n    tiers:\n"
        "      - {up_to: 5, unit_amount: 2}\n      - {up_to: inf, unit_amount: 1}\n    currency_options:\n"
        "      eur:\n        tiers:  #!\n          - {up_to: 10, unit_amount: 2}\n"
        "          - {up_to: inf, unit_amount: 1}\n",
    ),
    Case("zero-decimal-fraction", P + '    currency: jpy\n    unit_amount_decimal: "0.5"  #!\n'),
    Case("three-decimal-last-digit", P + "    currency: kwd\n    unit_amount: 1005  #!\n"),
    Case(
        "three-decimal-last-digit",
        P + "    currency: usd\n    unit_amount: 5\n    currency_options:\n      bhd: {unit_amount: 1001}  #!\n",
        variant="in-currency-option",
    ),
    Case("isk-divisible-by-100", P + "    currency: isk\n    unit_amount: 150  #!\n"),
    Case("currency-special-case", P + "    currency: huf\n    unit_amount: 150  #!\n"),
    Case(
        "duplicate-lookup-key",
        P + "    currency: usd\n    unit_amount: 5\n  - lookup_key: k  #!\n    product: suite\n    currency: usd\n"
        "    unit_amount: 6\n",
    ),
    Case(
        "duplicate-lookup-key",
        "prices:\n  - lookup_key: suite_monthly  #!\n    product: suite\n    currency: usd\n    unit_amount: 6\n",
        variant="across-files",
    ),
    Case(
        "reserved-metadata-key",
        P + "    currency: usd\n    unit_amount: 5\n    metadata:\n      managed_by: me  #!\n",
    ),
    Case(
        "reserved-metadata-key",
        P + "    currency: usd\n    unit_amount: 5\n    metadata:\n      pricebook_replaces: price_1  #!\n",
        variant="replaces",
    ),
    Case(
        "reserved-metadata-key",
        "products:\n  - id: other\n    name: Other\n    metadata:\n      pricebook_id: else  #!\n",
        variant="pricebook-id",
    ),
    Case(
        "metadata-invalid",
        P + "    currency: usd\n    unit_amount: 5\n    metadata:\n      tier[1]: gold  #!\n",
    ),
    Case(
        "metadata-invalid",
        "products:\n  - id: other\n    name: Other\n    metadata:\n      seats: 3  #!\n",
        variant="not-a-string",
    ),
    Case(
        "metadata-invalid",
        "products:\n  - id: other\n    name: Other\n    metadata:  #!\n"
        + "".join(f"      k{n}: v\n" for n in range(50)),
        variant="too-many-keys",
    ),
    Case(
        "metadata-invalid",
        "meters:\n  - event_name: m\n    display_name: M\n    default_aggregation: {formula: sum}\n"
        "    metadata: {a: b}  #!\n",
        variant="meter",
    ),
    Case("product-name-required", "products:\n  - id: other  #!\n    description: no name\n"),
    Case("package-dimensions-format", DIMENSIONS + "      weight: 1.255  #!\n", variant="three-places"),
    Case("package-dimensions-format", DIMENSIONS + "      weight: 0.00001  #!\n", variant="tiny"),
    Case("package-dimensions-format", DIMENSIONS + "      weight: 1.0e+16  #!\n", variant="exponent"),
    Case("package-dimensions-format", DIMENSIONS + "      weight: .inf  #!\n", variant="infinite"),
    Case("package-dimensions-format", DIMENSIONS + "      weight: 9007199254740993  #!\n", variant="digits"),
    Case("duplicate-product", "products:\n  - id: suite  #!\n    name: Suite again\n"),
    Case(
        "duplicate-plan",
        PLAN + "    amount: 5\n    interval: month\n  - id: p  #!\n    product: suite\n"
        "    currency: usd\n    amount: 6\n    interval: month\n",
    ),
    Case(
        "duplicate-meter",
        "meters:\n  - event_name: api_calls  #!\n    display_name: Again\n    default_aggregation: {formula: count}\n",
    ),
    Case("missing-product", "prices:\n  - lookup_key: k  #!\n    currency: usd\n    unit_amount: 5\n"),
    Case(
        "missing-product",
        "plans:\n  - id: p  #!\n    currency: usd\n    amount: 5\n    interval: month\n",
        variant="plan",
    ),
    Case(
        "nested-price-product",
        "products:\n  - id: other\n    name: Other\n    prices:\n      - lookup_key: k\n        product: suite  #!\n"
        "        currency: usd\n        unit_amount: 5\n",
    ),
    Case(
        "unknown-product", "prices:\n  - lookup_key: k\n    product: suit  #!\n    currency: usd\n    unit_amount: 5\n"
    ),
    Case("unknown-product", PLAN.replace("suite", "nope  #!") + "    amount: 5\n    interval: month\n", variant="plan"),
    Case("unknown-default-price", "products:\n  - id: other\n    name: Other\n    default_price: nope  #!\n"),
    Case(
        "archived-default-price",
        "products:\n  - id: other\n    name: Other\n    default_price: once  #!\n    prices:\n"
        "      - {lookup_key: once, currency: usd, unit_amount: 5, active: false}\n",
    ),
    Case(
        "unknown-default-price",
        "products:\n  - id: other\n    name: Other\n    default_price: suite_monthly  #!\n",
        variant="price-of-another-product",
    ),
    Case(
        "uncombinable-recurring-price",
        P
        + "    currency: usd\n    unit_amount: 5\n    recurring:  #!\n      interval: year\n      usage_type: metered\n"
        "      meter: api_calls\n",
    ),
    Case(
        "uncombinable-recurring-price",
        P + "    currency: eur\n    unit_amount: 5\n"
        "    recurring: {interval: month, usage_type: metered, meter: api_calls}  #!\n",
        variant="other-currency",
    ),
]


PASSING: list[Passing] = [
    Passing(
        ("archived-default-price",),
        "products:\n  - id: other\n    name: Other\n    default_price: once\n    prices:\n"
        "      - {lookup_key: once, currency: usd, unit_amount: 5, active: true}\n"
        "      - {lookup_key: old, currency: usd, unit_amount: 4, active: false}\n",
    ),
    Passing(("package-dimensions-format",), DIMENSIONS + "      weight: 1.25\n"),
    Passing(("package-dimensions-format",), DIMENSIONS + "      weight: 10000000000000000\n", variant="large-int"),
    Passing(("package-dimensions-format",), DIMENSIONS + "      weight: 1.50\n", variant="trailing-zero"),
    Passing(("amount-required", "amount-conflict"), P + "    currency: usd\n    unit_amount: 0\n"),
    Passing(("amount-required",), PLAN + '    amount_decimal: "0.5"\n    interval: month\n'),
    Passing(
        ("amount-required", "custom-unit-amount-enabled"),
        P + "    currency: usd\n    custom_unit_amount: {enabled: true, minimum: 100, preset: 100, maximum: 100}\n",
    ),
    Passing(
        ("decimal-format", "decimal-amount-large"),
        P + '    currency: usd\n    unit_amount_decimal: "99999999.123456789012"\n',
    ),
    Passing(("amount-too-large",), P + "    currency: usd\n    unit_amount: 99999999\n"),
    Passing(
        ("custom-unit-amount-with-tiers",),
        P + "    currency: usd\n    custom_unit_amount: {enabled: true}\n  - lookup_key: t\n    product: suite\n"
        "    currency: usd\n    billing_scheme: tiered\n    tiers_mode: volume\n"
        "    tiers: [{up_to: inf, unit_amount: 1}]\n",
    ),
    Passing(
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
    Passing(
        ("too-many-tiers",),
        P + "    currency: usd\n    billing_scheme: tiered\n    tiers_mode: volume\n    tiers:\n" + tiers_yaml(100),
    ),
    Passing(
        ("tiers-with-transform", "transform-needs-per-unit", "transform-invalid"),
        PLAN + "    amount: 1000\n    interval: month\n    transform_usage: {divide_by: 5, round: up}\n",
    ),
    Passing(
        ("interval-count-range", "interval-days-too-long", "trial-too-long"),
        P + "    currency: usd\n    unit_amount: 5\n    recurring: {interval: week, interval_count: 156}\n"
        "  - lookup_key: yearly\n    product: suite\n    currency: usd\n    unit_amount: 5\n"
        "    recurring: {interval: year, interval_count: 3}\n"
        "  - lookup_key: daily\n    product: suite\n    currency: usd\n    unit_amount: 5\n"
        "    recurring: {interval: day, interval_count: 1095, trial_period_days: 730}\n",
    ),
    Passing(
        ("metered-needs-meter", "meter-needs-metered", "unknown-meter", "uncombinable-recurring-price"),
        P + "    currency: usd\n    unit_amount: 5\n"
        "    recurring: {interval: month, usage_type: metered, meter: api_calls}\n",
    ),
    Passing(
        ("unknown-meter", "uncombinable-recurring-price"),
        "products:\n  - id: metered_only\n    name: Metered only\n"
        "plans:\n  - id: p\n    product: metered_only\n    currency: eur\n    amount: 5\n    interval: year\n"
        "    usage_type: metered\n    meter: api_calls\n",
    ),
    Passing(
        ("uncombinable-recurring-price",),
        P + "    currency: usd\n    unit_amount: 10000\n    recurring: {interval: year}\n",
        variant="monthly-and-yearly-licensed",
    ),
    Passing(
        ("one-time-with-recurring-fields", "custom-unit-amount-recurring", "custom-unit-amount-range"),
        P + "    currency: usd\n    custom_unit_amount: {enabled: true, minimum: 500, preset: 1000}\n",
    ),
    Passing(
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
    Passing(
        ("reserved-metadata-key", "metadata-invalid", "product-name-required", "unknown-default-price"),
        "products:\n  - id: other\n    name: Other\n    default_price: other_once\n"
        + "    metadata: {"
        + ", ".join(f"k{n}: v" for n in range(48))  # Stripe's 50 keys less pricebook's two
        + "}\n"
        "    prices:\n      - lookup_key: other_once\n        currency: usd\n        unit_amount: 5\n"
        "        metadata: {seats: '3'}\n",
    ),
    Passing(
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
    Passing(("aggregate-usage-removed",), "prices: []\n"),
]

# --- the schema (compiler.catalog.schema) ---------------------------------------------------------------

SCHEMA_FAILING: list[Case] = [
    Case("schema-unknown-field", "products:\n  - id: other\n    name: Other\n    colour: red  #!\n"),
    Case("schema-required", "meters:\n  - event_name: m  #!\n    default_aggregation: {formula: sum}\n"),
    Case("schema-type", P + "    currency: usd\n    unit_amount: '10'  #!\n"),
    Case("schema-enum", P + "    currency: usd\n    unit_amount: 5\n    recurring: {interval: monthly}  #!\n"),
    Case("schema-pattern", "products:\n  - id: other\n    name: Other\n    statement_descriptor: '12345'  #!\n"),
    Case("schema-length", "products:\n  - id: other\n    name: Other\n    unit_label: a very long label  #!\n"),
    Case(
        "schema-length",
        "products:\n  - id: other\n    name: Other\n    metadata:\n      note: ''  #!\n",
        variant="empty-metadata-value",
    ),
    Case("schema-range", P + "    currency: usd\n    unit_amount: -1  #!\n"),
    Case("schema-size", "products:\n  - id: other\n    name: Other\n    images: [a, b, c, d, e, f, g, h, i]  #!\n"),
    # `reserved-metadata-key` and `nested-price-product` say these better, unless another schema error keeps
    # the object from the rules: then the schema says them
    Case(
        "schema-reserved",
        "products:\n  - id: other\n    name: Other\n    colour: red\n    metadata: {managed_by: me}  #!\n",
        also=("schema-unknown-field",),
    ),
    Case(
        "schema-nested-product",
        "products:\n  - id: other\n    name: Other\n    prices:\n      - lookup_key: k\n        product: other  #!\n"
        "        currency: usd\n        unit_amount: 5\n        colour: red\n",
        also=("schema-unknown-field",),
    ),
]

# --- reading the files (compiler.catalog: files, yaml_reader, money_floats) and the command line's options ---


def _alias_bomb() -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 9):  # 10**9 strings if expanded
        lines.append(f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * 10)}]")
    return "\n".join(lines) + "\n"


LOADER_FAILING: list[Case] = [
    Case("path-not-found", "", args=("{dir}/nowhere",), file="empty.yaml", also=("empty-file",)),
    Case("no-files", "products: []\n", args=("{dir}/docs",), extra={"docs/notes.txt": "no catalog here\n"}),
    Case("io-error", "products: []\n", unreadable=True),
    Case("encoding", "products:\n  - id: caf\xe9\n".encode("latin-1")),
    Case("template-syntax", "products:\n  - id: {{ x\n", file="case.yaml.j2"),
    Case("template-undefined", "products:\n  - id: {{ nope }}\n    name: N\n", file="case.yaml.j2"),
    Case("template-sandbox", "products:\n  - id: {{ ''.__class__.__mro__ }}\n", file="case.yaml.j2"),
    Case("template-error", "products:\n  - id: p{{ 1 // 0 }}\n    name: N\n", file="case.yaml.j2"),
    Case("file-too-large", "products: []\n" + "#" * 2000 + "\n", env={"PRICEBOOK_MAX_FILE_MB": "0.001"}),
    Case(
        "file-too-large",
        "products:\n  - id: p\n    name: {{ 'x' * 600 }}{{ 'y' * 600 }}  #!\n",
        "rendered",
        file="case.yaml.j2",
        env={"PRICEBOOK_MAX_FILE_MB": "0.001"},
    ),
    Case(
        "file-too-large",
        "products: []\n",
        "vars",
        args=("--vars", "{dir}/vars.yaml"),
        extra={"vars.yaml": "x: " + "y" * 2000 + "\n"},
        env={"PRICEBOOK_MAX_FILE_MB": "0.001"},
    ),
    Case(
        "template-too-deep",
        "products: []\n" + "{% if true %}" * 2000 + "{% endif %}" * 2000 + "\n",
        file="case.yaml.j2",
    ),
    Case(
        "template-timeout",
        "products: []\n{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}  #!\n",
        file="case.yaml.j2",
        env={"PRICEBOOK_TEMPLATE_SECONDS": "0.05"},
    ),
    Case("template-too-large", "products:\n  - id: p\n    name: {{ 'a' * 1000000000 }}  #!\n", file="case.yaml.j2"),
    Case("template-integer", "products:\n  - id: p\n    name: N{{ 10 ** 100000000 }}  #!\n", file="case.yaml.j2"),
    Case(
        "template-recursion",
        "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}  #!\nproducts:\n  - id: p{{ f(1) }}\n",
        file="case.yaml.j2",
    ),
    Case("var-option", "products: []\n", args=("--var", "no_equals_sign")),
    Case("vars-file", "products: []\n", args=("--vars", "{dir}/vars.json"), extra={"vars.json": "[1, 2]\n"}),
    Case(
        "var-unused",
        "products:\n  - id: p_{{ region }}\n    name: N\n",
        file="case.yaml.j2",
        args=("--var", "region=eu", "--var", "regoin=us"),
    ),
    Case("yaml-syntax", "products: [\n"),
    Case("yaml-root", "- products\n"),
    Case("empty-file", "# nothing yet\n"),
    Case("yaml-duplicate-key", "products:\n  - id: other\n    name: Other\n    name: Again  #!\n"),
    Case("yaml-key", "products:\n  - id: other\n    name: Other\n    ? [a]  #!\n    : b\n"),
    Case("yaml-tag", "products: !!set {a}\n"),
    Case("yaml-value", "products:\n  - id: other\n    name: Other\n    active: !!int yes  #!\n"),
    Case("yaml-alias-limit", _alias_bomb()),
    Case("yaml-recursive-alias", "a: &loop\n  - *loop\n"),
    Case("yaml-too-deep", "products: " + "[" * 70 + "]" * 70 + "\n"),
    Case("yaml-too-large", "products: [1, 2, 3, 4, 5]  #!\n", env={"PRICEBOOK_MAX_FILE_VALUES": "5"}),
    Case("yaml-merge", "products:\n  - {<<: 5, id: other, name: Other}\n"),
    Case("yaml-octal", P + "    currency: usd\n    unit_amount: 0700  #!\n"),
    Case("money-float", P + "    currency: usd\n    unit_amount: 9.99  #!\n"),
    Case(
        "too-many-problems",
        "products: [1, 2, 3]\n",
        env={"PRICEBOOK_MAX_PROBLEMS": "2"},
        also=("schema-type",),  # the two problems it found before it stopped
    ),
]

# --- the adoption record (compiler.catalog.adoptions): not Stripe's, so not sent to the emulator -------------

A = "adopt:\n  - account: acct_1Nv0FGQ9RKHgCVdK\n    mode: test\n"  # the head of the adoption cases (3 lines)

ADOPTION_FAILING: list[Case] = [
    Case("adopt-unknown-entry", A + "    prices:\n      suite_yearly: price_1Nv0A  #!\n"),
    Case("adopt-unknown-entry", A + "    products:\n      suite_pro: prod_E9aWj8Nap9i0Ub  #!\n", variant="product"),
    Case("adopt-duplicate-account", A + "  - account: acct_1Nv0FGQ9RKHgCVdK  #!\n    mode: test\n"),
    Case(
        "adopt-duplicate-object",
        "prices:\n  - lookup_key: other\n    product: suite\n    currency: usd\n    unit_amount: 5\n"
        + A
        + "    prices:\n      suite_monthly: price_1Nv0A\n      other: price_1Nv0A  #!\n",
    ),
    # its shape is the schema's
    Case("schema-enum", "adopt:\n  - account: acct_1Nv0FGQ9RKHgCVdK\n    mode: sandbox  #!\n", variant="adopt-mode"),
    Case("schema-pattern", "adopt:\n  - account: 1Nv0FGQ9RKHgCVdK  #!\n    mode: test\n", variant="adopt-account"),
]

FAILING: list[Case] = [*RULE_FAILING, *SCHEMA_FAILING, *LOADER_FAILING, *ADOPTION_FAILING]


def write_case(case: Case, directory: Path) -> Path:
    """The case's catalog directory under `directory`: `plans/` with the case file, BASE and any extra file."""
    plans = directory / "plans"
    plans.mkdir(parents=True, exist_ok=True)
    if case.base:
        (plans / "base.yaml").write_text(BASE, encoding="utf-8")
    text = case.text if isinstance(case.text, bytes) else dedent(case.text).encode()
    (plans / case.file).write_bytes(text)
    for name, content in case.extra.items():
        (plans / name).parent.mkdir(parents=True, exist_ok=True)
        (plans / name).write_text(content, encoding="utf-8")
    return plans


def case_args(case: Case, plans: Path) -> list[str]:
    """The case's command-line arguments after the catalog directory."""
    return [arg.format(dir=plans) for arg in case.args]
