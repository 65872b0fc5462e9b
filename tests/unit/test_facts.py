"""The table of Stripe facts: the catalog schema's numbers are the table's, and the table is well formed."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from compiler.catalog.schema import schema_document
from compiler.catalog.schema.messages import DECIMAL_PATTERN, WHOLE_DECIMAL_PATTERN
from compiler.stripe import facts
from compiler.stripe.fields import RESERVED_ON_ONE_OBJECT

#: every limit the schema states, by its place in the schema, with the fact it must equal
SCHEMA_LIMITS: Mapping[str, int] = {
    # the catalog may use Stripe's metadata keys less the ones pricebook writes itself on one object
    "$defs/metadata/maxProperties": facts.METADATA_KEYS.value - RESERVED_ON_ONE_OBJECT,
    "$defs/metadata/propertyNames/maxLength": facts.METADATA_KEY_LENGTH.value,
    "$defs/metadata/additionalProperties/maxLength": facts.METADATA_VALUE_LENGTH.value,
    "$defs/decimal/maxLength": facts.DECIMAL_LENGTH.value,
    "$defs/tier/properties/flat_amount_decimal/maxLength": facts.DECIMAL_LENGTH.value,
    "$defs/meter_ref/maxLength": facts.METER_EVENT_NAME.value,
    "$defs/price/properties/lookup_key/maxLength": facts.LOOKUP_KEY.value,
    "$defs/price/properties/product/maxLength": facts.STRING_LENGTH.value,
    "$defs/price/properties/nickname/maxLength": facts.STRING_LENGTH.value,
    "$defs/product/properties/id/maxLength": facts.STRING_LENGTH.value,
    "$defs/product/properties/name/maxLength": facts.STRING_LENGTH.value,
    "$defs/product/properties/description/maxLength": facts.PRODUCT_DESCRIPTION.value,
    "$defs/product/properties/images/maxItems": facts.PRODUCT_IMAGES.value,
    "$defs/product/properties/images/items/maxLength": facts.STRING_LENGTH.value,
    "$defs/product/properties/marketing_features/maxItems": facts.MARKETING_FEATURES.value,
    "$defs/product/properties/marketing_features/items/properties/name/maxLength": facts.MARKETING_FEATURE_NAME.value,
    "$defs/product/properties/statement_descriptor/maxLength": facts.STATEMENT_DESCRIPTOR.value,
    "$defs/product/properties/tax_code/maxLength": facts.STRING_LENGTH.value,
    "$defs/product/properties/unit_label/maxLength": facts.UNIT_LABEL.value,
    "$defs/product/properties/url/maxLength": facts.STRING_LENGTH.value,
    # a product's default price is named by its lookup_key
    "$defs/product/properties/default_price/maxLength": facts.LOOKUP_KEY.value,
    "$defs/plan/properties/id/maxLength": facts.STRING_LENGTH.value,
    "$defs/plan/properties/product/maxLength": facts.STRING_LENGTH.value,
    "$defs/plan/properties/nickname/maxLength": facts.STRING_LENGTH.value,
    "$defs/plan/properties/trial_period_days/maximum": facts.TRIAL_DAYS.value,
    "$defs/recurring/properties/trial_period_days/maximum": facts.TRIAL_DAYS.value,
    # an adopted object's Stripe id
    "$defs/adopted_objects/additionalProperties/maxLength": facts.STRING_LENGTH.value,
    "$defs/meter/properties/event_name/maxLength": facts.METER_EVENT_NAME.value,
    "$defs/meter/properties/display_name/maxLength": facts.METER_DISPLAY_NAME.value,
    "$defs/meter/properties/customer_mapping/properties/event_payload_key/maxLength": facts.METER_PAYLOAD_KEY.value,
    "$defs/meter/properties/value_settings/properties/event_payload_key/maxLength": facts.METER_PAYLOAD_KEY.value,
}

MAXIMA = ("maxLength", "maximum", "maxItems", "maxProperties")


def _maxima(node: Any, where: str) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, sub in node.items():
            if key in MAXIMA and isinstance(sub, int):  # not a property named `maximum`
                yield f"{where}/{key}".lstrip("/"), sub
            else:
                yield from _maxima(sub, f"{where}/{key}")
    elif isinstance(node, list):
        for index, sub in enumerate(node):
            yield from _maxima(sub, f"{where}/{index}")


def test_every_limit_of_the_schema_is_a_stripe_fact() -> None:
    assert dict(_maxima(schema_document(), "")) == dict(SCHEMA_LIMITS)


def test_the_decimal_patterns_allow_stripes_decimal_places() -> None:
    defs = schema_document()["$defs"]
    assert defs["decimal"]["pattern"] == DECIMAL_PATTERN
    assert defs["tier"]["properties"]["flat_amount_decimal"]["pattern"] == WHOLE_DECIMAL_PATTERN
    assert f"{{1,{facts.DECIMAL_PLACES.value}}}" in DECIMAL_PATTERN


def _limits() -> Iterator[tuple[str, facts.Limit]]:
    for name, value in vars(facts).items():
        if isinstance(value, facts.Limit):
            yield name, value
        elif isinstance(value, Mapping) and all(isinstance(v, facts.Limit) for v in value.values()):
            yield from ((f"{name}[{key}]", limit) for key, limit in value.items())


@pytest.mark.parametrize(("name", "limit"), list(_limits()), ids=[name for name, _ in _limits()])
def test_every_limit_says_what_it_limits_and_where_stripe_says_so(name: str, limit: facts.Limit) -> None:
    assert limit.value > 0 and limit.limits
    assert limit.doc.startswith("https://docs.stripe.com/"), name
    assert isinstance(limit.certainty, facts.Certainty)


def test_a_plan_and_a_price_are_two_shapes_of_one_object() -> None:
    price = {
        "id": "gold",
        "active": True,
        "billing_scheme": "per_unit",
        "currency": "usd",
        "metadata": {"managed_by": "pricebook"},
        "nickname": "Gold",
        "product": "suite",
        "tiers": None,
        "tiers_mode": None,
        "unit_amount": 1000,
        "unit_amount_decimal": "1000",
        "transform_quantity": {"divide_by": 5, "round": "up"},
        "recurring": {"interval": "month", "interval_count": 3, "usage_type": "licensed", "meter": None},
    }
    plan = facts.plan_from_price(price)
    assert plan["object"] == "plan"
    assert (plan["amount"], plan["amount_decimal"], plan["transform_usage"]) == (
        1000,
        "1000",
        {"divide_by": 5, "round": "up"},
    )
    assert (plan["interval"], plan["interval_count"], plan["trial_period_days"]) == ("month", 3, None)
    back = facts.price_params_from_plan({k: v for k, v in plan.items() if v is not None and k != "object"})
    assert back == {k: v for k, v in price.items() if v is not None and k != "recurring"} | {
        "recurring": {"interval": "month", "interval_count": 3, "usage_type": "licensed"}
    }


def test_the_money_fields_are_the_amount_pairs_and_the_custom_amount_bounds() -> None:
    assert {"unit_amount_decimal", "amount_decimal", "flat_amount_decimal"} == facts.DECIMAL_FIELDS
    assert {"unit_amount", "amount", "flat_amount", "minimum", "maximum", "preset"} == facts.MONEY_FIELDS
