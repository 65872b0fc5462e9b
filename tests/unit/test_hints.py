"""Every range and enum finding says what is allowed, and the money-float hint counts in the right minor unit."""

from __future__ import annotations

import pytest

from compiler.catalog.money_floats import money_floats
from compiler.catalog.schema import check_document
from compiler.catalog.yaml_reader import load_text
from compiler.errors import Diagnostic

PRODUCT = "products:\n  - id: p\n    name: P\n"


def problems(text: str) -> list[Diagnostic]:
    doc, loaded = load_text(text, "f.yaml")
    assert doc is not None, loaded
    return sorted(check_document(doc), key=lambda d: (d.location.line, d.location.col))


def money_hint(text: str) -> str:
    doc, loaded = load_text(text, "f.yaml")
    assert doc is not None and loaded == [], loaded
    (problem,) = money_floats(doc)
    assert problem.rule == "money-float"
    assert problem.hint is not None
    return problem.hint


# --- schema-range ---------------------------------------------------------------------------------------------


def test_a_range_finding_gives_the_allowed_range() -> None:
    found = problems(
        PRODUCT
        + "prices:\n  - {lookup_key: a, currency: usd, product: p, unit_amount: -5, "
        + "transform_quantity: {divide_by: 0, round: up}}\n"
        + "plans:\n  - {id: x, product: p, currency: usd, interval: month, amount: 1, trial_period_days: 731}\n"
    )
    assert [(d.rule, d.hint) for d in found] == [
        ("schema-range", "amounts are whole numbers of the currency's minor unit, 0 or more"),
        ("schema-range", "`divide_by` takes 1 or more"),
        ("schema-range", "`trial_period_days` takes from 0 to 730"),
    ]


# --- schema-enum ----------------------------------------------------------------------------------------------


def test_an_enum_finding_names_the_closest_value_or_all_of_them() -> None:
    found = problems(
        PRODUCT
        + "prices:\n  - {lookup_key: a, currency: usd, product: p, unit_amount: 5, tax_behavior: INCLUSIVE, "
        + "recurring: {interval: month, usage_type: x}}\n"
        + "meters:\n  - {event_name: e, display_name: E, default_aggregation: {formula: sum}, "
        + "customer_mapping: {event_payload_key: c, type: by_name}}\n"
    )
    assert [(d.rule, d.hint) for d in found] == [
        ("schema-enum", "did you mean `inclusive`?"),
        ("schema-enum", "the values allowed here: `licensed`, `metered`"),
        ("schema-enum", "the only value allowed here is `by_id`"),
    ]


def test_every_range_and_enum_finding_has_a_hint() -> None:
    found = problems(
        PRODUCT
        + "    package_dimensions: {height: -1, length: 1, weight: 1, width: 1}\n"
        + "prices:\n  - {lookup_key: a, currency: usd, product: p, unit_amount: 1, billing_scheme: 7, "
        + "recurring: {interval: fortnight, interval_count: 0}}\n"
    )
    ranged = [d for d in found if d.rule in ("schema-range", "schema-enum")]
    assert len(ranged) == 4
    assert all(d.hint for d in ranged), [d.format() for d in ranged]


# --- money-float ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("price", "expected"),
    [
        ("{currency: jpy, unit_amount: 500.0}", "JPY has no minor unit: write `unit_amount: 500` for 500.0 JPY"),
        # the currency after the amount is still the object's
        ("{unit_amount: 500.0, currency: jpy}", "JPY has no minor unit: write `unit_amount: 500` for 500.0 JPY"),
        ("{currency: usd, unit_amount: 9.99}", "USD has 2 decimal digits: write `unit_amount: 999` for 9.99 USD"),
        ("{currency: kwd, unit_amount: 1.5}", "KWD has 3 decimal digits: write `unit_amount: 1500` for 1.5 KWD"),
        ("{currency: jpy, unit_amount: 500.5}", "JPY has no minor unit, so 500.5 JPY is not a whole amount"),
        (
            "{currency: usd, currency_options: {jpy: {unit_amount: 1200.0}}}",
            "JPY has no minor unit: write `unit_amount: 1200`",
        ),
    ],
)
def test_the_money_float_hint_counts_in_the_currency_of_its_object(price: str, expected: str) -> None:
    hint = money_hint(f"prices:\n  - {price}\n")
    assert hint.startswith(expected), hint
    assert "50050" not in hint and "120000" not in hint  # never a 2-decimal reading of a yen amount


def test_without_a_currency_in_the_object_the_money_float_hint_is_neutral() -> None:
    hint = money_hint("prices:\n  - {currency: jpy, tiers: [{up_to: inf, unit_amount: 1.5}]}\n")
    assert hint.startswith("amounts are in the currency's minor unit (9.99 USD is 999, 500 JPY is 500)")
    assert "`unit_amount: 150` if it is 1.5 in a 2-decimal currency" in hint
    assert "inf" not in money_hint("prices:\n  - {currency: usd, unit_amount: .inf}\n")


def test_the_money_float_hint_offers_the_decimal_field_only_where_there_is_one() -> None:
    assert 'or `unit_amount_decimal: "9.99"`' in money_hint("prices:\n  - {currency: usd, unit_amount: 9.99}\n")
    assert 'or `amount_decimal: "9.5"`' in money_hint("plans:\n  - {currency: usd, amount: 9.5}\n")
    # a customer-chosen amount's bounds are integers only: Stripe has no minimum_decimal
    hint = money_hint("prices:\n  - {currency: usd, custom_unit_amount: {enabled: true, minimum: 9.5}}\n")
    assert "_decimal" not in hint and "`minimum: 950`" in hint
