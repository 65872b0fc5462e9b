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


USD = "USD has 2 decimal digits (amounts count its minor unit): write "


@pytest.mark.parametrize(
    ("price", "expected"),
    [
        # a fraction: most likely major units; the decimal twin counts the minor unit (19.99 cents, not dollars)
        (
            "{currency: usd, unit_amount: 19.99}",
            USD + "`unit_amount: 1999` ($19.99) if you meant 19.99 USD; "
            'or `unit_amount_decimal: "19.99"` ($0.1999) if you meant 19.99 minor units (1/100 USD each)',
        ),
        # a whole number with `.0` (a template's arithmetic): most likely minor units already
        (
            "{currency: usd, unit_amount: 2500.0}",
            USD + "`unit_amount: 2500` ($25.00) if you meant 2500 minor units (1/100 USD each); "
            "or `unit_amount: 250000` ($2,500.00) if you meant 2500.0 USD",
        ),
        # written with the currency's digits: major units, as typed (25.00, not 25.0)
        (
            "{currency: usd, unit_amount: 25.00}",
            USD + "`unit_amount: 2500` ($25.00) if you meant 25.00 USD; "
            "or `unit_amount: 25` ($0.25) if you meant 25.00 minor units (1/100 USD each)",
        ),
        # more digits than the currency has: only the decimal field can say it
        (
            "{currency: usd, unit_amount: 19.999}",
            USD + '`unit_amount_decimal: "1999.9"` ($19.999) if you meant 19.999 USD; '
            'or `unit_amount_decimal: "19.999"` ($0.19999) if you meant 19.999 minor units (1/100 USD each)',
        ),
        (
            "{currency: jpy, unit_amount: 500.0}",
            "JPY has no minor unit (amounts are whole JPY): write `unit_amount: 500` (¥500) if you meant 500.0 JPY",
        ),
        # the currency after the amount is still the object's
        (
            "{unit_amount: 500.0, currency: jpy}",
            "JPY has no minor unit (amounts are whole JPY): write `unit_amount: 500` (¥500) if you meant 500.0 JPY",
        ),
        (
            "{currency: jpy, unit_amount: 500.5}",
            'JPY has no minor unit (amounts are whole JPY): write `unit_amount_decimal: "500.5"` (¥500.5) if you '
            "meant 500.5 JPY",
        ),
        (
            "{currency: kwd, unit_amount: 1.5}",
            "KWD has 3 decimal digits (amounts count its minor unit): write `unit_amount: 1500` (1.500 KWD) if you "
            'meant 1.5 KWD; or `unit_amount_decimal: "1.5"` (0.0015 KWD) if you meant 1.5 minor units (1/1000 KWD '
            "each)",
        ),
        (
            "{currency: usd, currency_options: {jpy: {unit_amount: 1200.0}}}",
            "JPY has no minor unit (amounts are whole JPY): write `unit_amount: 1200` (¥1,200) if you meant 1200.0 "
            "JPY",
        ),
        # a tier's amount is in its price's currency
        (
            "{currency: jpy, tiers: [{up_to: inf, unit_amount: 15.0}]}",
            "JPY has no minor unit (amounts are whole JPY): write `unit_amount: 15` (¥15) if you meant 15.0 JPY",
        ),
    ],
)
def test_the_money_float_hint_gives_both_readings_in_the_currency_of_its_object(price: str, expected: str) -> None:
    assert money_hint(f"prices:\n  - {price}\n") == expected


def test_the_money_float_message_shows_the_number_as_typed() -> None:
    doc, _ = load_text("prices:\n  - {currency: usd, unit_amount: 25.00}\n", "f.yaml")
    assert doc is not None
    (problem,) = money_floats(doc)
    assert problem.message == "`unit_amount` is 25.00, but amounts are integers in the currency's minor unit"


def test_without_a_currency_around_it_the_money_float_hint_is_neutral() -> None:
    hint = money_hint("prices:\n  - {tiers: [{up_to: inf, unit_amount: 1.5}]}\n")
    assert hint == (
        "amounts are in the currency's minor unit (9.99 USD is 999, 500 JPY is 500): write `unit_amount: 150` if "
        'you meant 1.5 USD (or 1.5 of another 2-decimal currency); or `unit_amount_decimal: "1.5"` if you meant 1.5 '
        "cents"
    )
    assert "inf" not in money_hint("prices:\n  - {currency: usd, unit_amount: .inf}\n")


def test_a_decimal_amount_written_as_a_number_says_what_the_quoted_one_charges() -> None:
    hint = money_hint("prices:\n  - {currency: usd, unit_amount_decimal: 19.99}\n")
    assert hint == (
        'quote it so that no digit is lost: `unit_amount_decimal: "19.99"` ($0.1999: it counts the minor unit, as '
        "the integer amount does)"
    )


def test_the_money_float_hint_offers_the_decimal_field_only_where_there_is_one() -> None:
    assert 'or `unit_amount_decimal: "9.99"`' in money_hint("prices:\n  - {currency: usd, unit_amount: 9.99}\n")
    assert 'or `amount_decimal: "9.5"`' in money_hint("plans:\n  - {currency: usd, amount: 9.5}\n")
    # a customer-chosen amount's bounds are integers only: Stripe has no minimum_decimal
    hint = money_hint("prices:\n  - {currency: usd, custom_unit_amount: {enabled: true, minimum: 9.5}}\n")
    assert "_decimal" not in hint and "`minimum: 950`" in hint


# --- the other schema errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["interval_count: 3", "usage_type: metered", "meter: api", "trial_period_days: 7"])
def test_a_recurring_field_beside_recurring_is_moved_under_it(field: str) -> None:
    (found,) = problems(
        PRODUCT + f"prices:\n  - lookup_key: a\n    product: p\n    currency: usd\n    unit_amount: 5\n"
        f"    recurring: {{interval: month}}\n    {field}\n"
    )
    name = field.partition(":")[0]
    assert (found.rule, found.message) == ("schema-unknown-field", f"unknown field `{name}` in a price")
    assert found.hint == (
        f"move `{name}` under `recurring:`, beside `interval` (prices take recurring: {{interval: month, ...}})"
    )


def test_a_plans_recurring_block_is_moved_to_its_top_level() -> None:
    plan = "{id: x, product: p, currency: usd, amount: 5, recurring: {interval: month}}"
    found = problems(PRODUCT + f"plans:\n  - {plan}\n")
    assert [(d.rule, d.hint) for d in found] == [
        (
            "schema-required",
            "how often the plan bills, at the plan's top level: `interval: month` (day, week, month or year)",
        ),
        (
            "schema-unknown-field",
            "a plan takes interval, interval_count, usage_type, meter, trial_period_days at its top level: move them "
            "out of `recurring:`",
        ),
    ]


def test_an_integer_written_with_an_exponent_is_given_in_digits() -> None:
    (found,) = problems(PRODUCT + "prices:\n  - {lookup_key: a, product: p, currency: usd, unit_amount: 1e3}\n")
    assert (found.rule, found.message, found.hint) == (
        "schema-type",
        '`unit_amount` must be an integer, not a string ("1e3")',
        "write the number in digits: `unit_amount: 1000`",
    )


def test_every_field_an_object_needs_has_a_hint_of_its_own() -> None:
    from compiler.catalog.schema.messages import _required_hint, _required_names

    generic = {name for name in _required_names() if _required_hint(name, ("products", 0)).startswith("add `")}
    assert generic == set()
