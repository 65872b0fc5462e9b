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

from compiler.catalog.rules import RULES, RULES_BY_ID, run_rules
from compiler.catalog.source import Document, Entry, iter_entries
from compiler.catalog.yaml_reader import load_text
from compiler.errors import Diagnostic, Severity
from tests.rule_cases import BASE, PASSING, RULE_FAILING, Case, Passing, params, passing_params


def all_entries(docs: list[Document]) -> list[Entry]:
    return [entry for doc in docs for entry in iter_entries(doc)]


def load(text: str, file: str) -> Document:
    doc, problems = load_text(dedent(text), file)
    assert doc is not None and not problems, problems
    return doc


def diagnose(case: str) -> list[Diagnostic]:
    return run_rules(all_entries([load(BASE, "plans/base.yaml"), load(case, "plans/case.yaml")]))


@pytest.mark.parametrize("case", params(RULE_FAILING))
def test_rule_fires_on_the_marked_line(case: Case) -> None:
    assert isinstance(case.text, str)
    found = [d for d in diagnose(case.text) if d.rule == case.rule]
    assert [d.location.line for d in found] == [case.marked_line()], [d.format() for d in diagnose(case.text)]
    rule = RULES_BY_ID[case.rule]
    assert all(d.severity is rule.severity and d.location.file == "plans/case.yaml" for d in found)
    assert all(d.message and d.hint for d in found)


@pytest.mark.parametrize("case", passing_params(PASSING))
def test_valid_catalog_has_no_diagnostics(case: Passing) -> None:
    assert set(case.near) <= set(RULES_BY_ID)
    assert [d.format() for d in diagnose(case.text)] == []


def test_base_catalog_is_valid() -> None:
    assert run_rules(all_entries([load(BASE, "plans/base.yaml")])) == []


def test_every_rule_has_a_failing_case() -> None:
    assert {case.rule for case in RULE_FAILING} == {rule.id for rule in RULES}


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
    case = next(c for c in RULE_FAILING if c.rule == "unknown-product")
    assert isinstance(case.text, str)
    (found,) = [d for d in diagnose(case.text) if d.rule == "unknown-product"]
    assert "did you mean 'suite'?" in found.message


def test_stripe_error_text_is_quoted_in_hints() -> None:
    case = next(c for c in RULE_FAILING if c.rule == "tiers-with-transform")
    assert isinstance(case.text, str)
    (found,) = [d for d in diagnose(case.text) if d.rule == "tiers-with-transform"]
    assert found.hint is not None
    assert "You may only specify one of these parameters: tiers, transform_quantity." in found.hint


def test_warnings_are_not_errors() -> None:
    assert {r.id for r in RULES if r.severity is Severity.WARNING} == {
        "decimal-amount-large",
        "too-many-tiers",
        "currency-option-tier-bounds",
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
