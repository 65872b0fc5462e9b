"""Stripe-shaped objects for tests: each as Stripe's list endpoints send it (every default filled in, the
expansions pricebook asks for expanded), with pricebook's ownership mark. Keyword arguments replace fields.

    stripe_price(lookup_key="pro", unit_amount=2400)
    plan_view(id="gold")                    # a plan as GET /v1/plans shows it
    plan_in_price_list(id="gold")           # the same plan as GET /v1/prices shows it
"""

from __future__ import annotations

import typing
from collections.abc import Mapping, Sequence
from typing import Any

from compiler.stripe.fields import MANAGED_METADATA, SPECS
from compiler.stripe.kinds import Kind
from compiler.stripe.state import AccountState, read_account
from tests.stripe_lists import StripeLists

MANAGED = dict(MANAGED_METADATA)


def stripe_price(**fields: Any) -> dict[str, Any]:
    """A price as Stripe's list sends it with tiers and currency_options expanded: every default filled in."""
    base: dict[str, Any] = {
        "id": "price_1",
        "object": "price",
        "active": True,
        "billing_scheme": "per_unit",
        "created": 1700000000,
        "currency": "usd",
        "currency_options": {
            "usd": {
                "custom_unit_amount": None,
                "tax_behavior": "unspecified",
                "unit_amount": 1000,
                "unit_amount_decimal": "1000",
            }
        },
        "custom_unit_amount": None,
        "livemode": False,
        "lookup_key": "seats",
        "metadata": MANAGED,
        "nickname": None,
        "product": "suite",
        "recurring": {
            "interval": "month",
            "interval_count": 1,
            "meter": None,
            "trial_period_days": None,
            "usage_type": "licensed",
        },
        "tax_behavior": "unspecified",
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "recurring",
        "unit_amount": 1000,
        "unit_amount_decimal": "1000",
    }
    base.update(fields)
    return base


def plan_in_price_list(**fields: Any) -> dict[str, Any]:
    """A legacy plan (`gold`, 20.00 usd a month) as the price list shows it: recurring, without a lookup_key."""
    usd = {
        "custom_unit_amount": None,
        "tax_behavior": "unspecified",
        "unit_amount": 2000,
        "unit_amount_decimal": "2000",
    }
    gold = {"id": "gold", "lookup_key": None, "unit_amount": 2000, "unit_amount_decimal": "2000"}
    return stripe_price(**{**gold, "currency_options": {"usd": usd}, **fields})


def plan_view(**fields: Any) -> dict[str, Any]:
    """A plan (`gold`, 20.00 usd a month) as `GET /v1/plans` shows it: the Plans API's field names."""
    base: dict[str, Any] = {
        "id": "gold",
        "object": "plan",
        "active": True,
        "amount": 2000,
        "amount_decimal": "2000",
        "billing_scheme": "per_unit",
        "currency": "usd",
        "interval": "month",
        "interval_count": 1,
        "livemode": False,
        "metadata": MANAGED,
        "meter": None,
        "nickname": None,
        "product": "suite",
        "tiers_mode": None,
        "transform_usage": None,
        "trial_period_days": None,
        "usage_type": "licensed",
    }
    base.update(fields)
    return base


def stripe_meter(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "mtr_1",
        "object": "billing.meter",
        "customer_mapping": {"event_payload_key": "stripe_customer_id", "type": "by_id"},
        "default_aggregation": {"formula": "sum"},
        "display_name": "Emails sent",
        "event_name": "emails_sent",
        "event_time_window": None,
        "status": "active",
        "value_settings": {"event_payload_key": "value"},
    }
    base.update(fields)
    return base


def stripe_product(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "suite",
        "object": "product",
        "active": True,
        "default_price": None,
        "description": None,
        "images": [],
        "marketing_features": [],
        "metadata": MANAGED,
        "name": "Suite",
        "package_dimensions": None,
        "shippable": None,
        "statement_descriptor": None,
        "tax_code": None,
        "type": "service",
        "unit_label": None,
        "url": None,
    }
    base.update(fields)
    return base


def unset_value(resource: type, name: str) -> Any:
    """What Stripe returns for a field that holds nothing, per the stripe SDK's resource class (`stripe.Price`):
    null where the field is Optional, [] for a list, and {} for metadata (always an object, "All keys can be
    unset", though the SDK types a plan's as Optional)."""
    if name == "metadata":
        return {}
    annotation = resource.__annotations__[name]
    if type(None) in typing.get_args(annotation):
        return None
    origin: object = typing.get_origin(annotation)
    assert origin is list, (name, annotation)
    return []


def stripe_subscription(
    price: dict[str, Any] | None = None, quantity: int | None = 1, **fields: Any
) -> dict[str, Any]:
    """A subscription as `GET /v1/subscriptions` lists it (the fields pricebook reads, and a few around them):
    one item on `price` (`stripe_price()` by default, unexpanded) at `quantity` (None: no quantity, as on a
    metered item)."""
    price = {k: v for k, v in (price or stripe_price()).items() if k not in ("tiers", "currency_options")}
    item: dict[str, Any] = {"id": "si_1", "object": "subscription_item", "price": price, "subscription": "sub_1"}
    if quantity is not None:
        item["quantity"] = quantity
    base: dict[str, Any] = {
        "id": "sub_1",
        "object": "subscription",
        "collection_method": "charge_automatically",
        "currency": price.get("currency", "usd"),
        "customer": "cus_1",
        "items": {"object": "list", "data": [item], "has_more": False, "total_count": 1},
        "livemode": False,
        "status": "active",
        "test_clock": None,
    }
    base.update(fields)
    return base


def build_state(
    meters: Sequence[Mapping[str, Any]],
    products: Sequence[Mapping[str, Any]],
    prices: Sequence[Mapping[str, Any]],
    plans: Sequence[Mapping[str, Any]],
    *,
    livemode: bool = False,
) -> AccountState:
    """The state `read_account` reads from an account whose list endpoints show these objects (plans list read)."""
    lists = {
        SPECS[Kind.METER].path: meters,
        SPECS[Kind.PRODUCT].path: products,
        SPECS[Kind.PRICE].path: prices,
        SPECS[Kind.PLAN].path: plans,
    }
    return read_account(StripeLists(lists, livemode=livemode), plans_list=True)


__all__ = [
    "MANAGED",
    "build_state",
    "plan_in_price_list",
    "plan_view",
    "stripe_meter",
    "stripe_price",
    "stripe_product",
    "stripe_subscription",
]
