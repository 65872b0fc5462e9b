"""The canonical form: a live Stripe object and the catalog entry it was built from compare equal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from compiler.stripe.fields import (
    SPECS,
    Mutability,
    amount_pair,
    canonical,
    catalog_canonical,
    decimal_text,
    is_managed,
)
from compiler.stripe.kinds import Kind


def test_amount_pair_collapses_whole_decimals_into_the_integer_field() -> None:
    assert amount_pair(1000, None) == (1000, None)
    assert amount_pair(None, "1000") == (1000, None)
    assert amount_pair(1000, "1000") == (1000, None)
    assert amount_pair(None, "0.50") == (None, "0.5")
    assert amount_pair(None, None) == (None, None)
    assert amount_pair(True, None) == (None, None)  # a bool is not an amount


@pytest.mark.parametrize(("value", "text"), [("1E+3", "1000"), ("0.000000000001", "0.000000000001"), (5, "5")])
def test_decimal_text_is_plain(value: Any, text: str) -> None:
    assert decimal_text(value) == text


def test_live_tiered_price_compares_equal_to_its_catalog_entry() -> None:
    catalog = {
        "lookup_key": "seats",
        "product": "suite",
        "currency": "usd",
        "billing_scheme": "tiered",
        "tiers_mode": "graduated",
        "tiers": [{"up_to": 5, "unit_amount": 700}, {"up_to": "inf", "unit_amount_decimal": "650.5"}],
        "recurring": {"interval": "month"},
        "currency_options": {
            "eur": {"tiers": [{"up_to": 5, "unit_amount": 600}, {"up_to": "inf", "unit_amount": 550}]}
        },
    }
    live = {
        "id": "price_1",
        "object": "price",
        "lookup_key": "seats",
        "product": "suite",
        "currency": "usd",
        "active": True,
        "billing_scheme": "tiered",
        "tiers_mode": "graduated",
        "unit_amount": None,
        "unit_amount_decimal": None,
        "nickname": None,
        "tax_behavior": "unspecified",
        "transform_quantity": None,
        "custom_unit_amount": None,
        "type": "recurring",
        "metadata": {"managed_by": "pricebook"},
        "recurring": {"interval": "month", "interval_count": 1, "usage_type": "licensed", "meter": None},
        "tiers": [
            {"up_to": 5, "unit_amount": 700, "unit_amount_decimal": "700", "flat_amount": None,
             "flat_amount_decimal": None},
            {"up_to": None, "unit_amount": None, "unit_amount_decimal": "650.5", "flat_amount": None,
             "flat_amount_decimal": None},
        ],
        # Stripe adds the top-level currency to currency_options by itself
        "currency_options": {
            "usd": {"tax_behavior": "unspecified", "tiers": []},
            "eur": {"tax_behavior": "unspecified", "unit_amount": None, "unit_amount_decimal": None,
                    "custom_unit_amount": None,
                    "tiers": [{"up_to": 5, "unit_amount": 600, "unit_amount_decimal": "600"},
                              {"up_to": None, "unit_amount": 550, "unit_amount_decimal": "550"}]},
        },
    }
    assert canonical(Kind.PRICE, live) == catalog_canonical(Kind.PRICE, catalog)


def test_a_different_amount_does_not_compare_equal() -> None:
    base = {"lookup_key": "a", "product": "p", "currency": "usd", "unit_amount": 1000}
    assert catalog_canonical(Kind.PRICE, base) != catalog_canonical(Kind.PRICE, {**base, "unit_amount": 1200})


def test_meter_defaults_match_what_stripe_returns() -> None:
    catalog = {"event_name": "emails_sent", "display_name": "Emails", "default_aggregation": {"formula": "sum"}}
    live = {
        "id": "mtr_1",
        "object": "billing.meter",
        "event_name": "emails_sent",
        "display_name": "Emails",
        "default_aggregation": {"formula": "sum"},
        "customer_mapping": {"type": "by_id", "event_payload_key": "stripe_customer_id"},
        "value_settings": {"event_payload_key": "value"},
        "event_time_window": None,
        "status": "active",
    }
    assert canonical(Kind.METER, live) == catalog_canonical(Kind.METER, catalog)
    assert "metadata" not in catalog_canonical(Kind.METER, catalog)


def test_the_field_table_decides_update_replace_or_impossible() -> None:
    price = SPECS[Kind.PRICE]
    assert price.field("nickname").how_to_change("a", "b") == Mutability.UPDATE
    assert price.field("unit_amount").how_to_change(1000, 1200) == Mutability.REPLACE
    # tax_behavior may be set once, then it is fixed
    assert price.field("tax_behavior").how_to_change("unspecified", "exclusive") == Mutability.UPDATE
    assert price.field("tax_behavior").how_to_change("inclusive", "exclusive") == Mutability.REPLACE
    options = price.field("currency_options")
    assert options.how_to_change({"eur": {"tax_behavior": "inclusive"}}, {"eur": {"tax_behavior": "exclusive"}}) == (
        Mutability.REPLACE
    )
    assert options.how_to_change({"eur": {"unit_amount": 1}}, {"eur": {"unit_amount": 2}}) == Mutability.UPDATE
    assert SPECS[Kind.PLAN].field("amount").how_to_change(1000, 1200) == Mutability.IMPOSSIBLE
    assert SPECS[Kind.METER].field("display_name").how_to_change("a", "b") == Mutability.UPDATE
    assert SPECS[Kind.METER].field("default_aggregation").how_to_change({}, {}) == Mutability.IMPOSSIBLE


def test_updatable_price_fields_are_exactly_stripes_update_parameters() -> None:
    # Stripe's API reference: the only body parameters of POST /v1/prices/{price} (lookup_key is the identity)
    updatable = {f.name for f in SPECS[Kind.PRICE].fields if f.mutability == Mutability.UPDATE}
    assert updatable == {"active", "currency_options", "nickname", "metadata", "tax_behavior"}


def test_ownership_mark() -> None:
    assert is_managed({"managed_by": "pricebook"})
    assert not is_managed({"managed_by": "someone-else"})
    assert not is_managed(None)
    assert catalog_canonical(Kind.PRODUCT, {"id": "p", "name": "P"})["metadata"] == {"managed_by": "pricebook"}


def test_the_schema_lets_a_catalog_write_exactly_the_fields_the_table_says_it_may() -> None:
    schema = json.loads((Path(__file__).resolve().parents[2] / "schemas" / "catalog.schema.json").read_text())
    for kind in Kind:
        writable = {f.name for f in SPECS[kind].fields if f.in_catalog}
        properties = set(schema["$defs"][kind.value]["properties"]) - {"prices"}  # a product's nested prices
        assert properties == writable, kind
