"""What the emulator does with `""` and with numbers on an update, decided from the SDK's generated types alone.

Stripe reads `""` as "unset this parameter" and takes it only where its spec offers that (the SDK's update params
type the field `...|Literal[""]`); elsewhere it answers 400 `parameter_invalid_empty`. An unset field comes back
as the SDK's resource type says: null where it is Optional, [] for a list. Numbers go in plain decimal notation
with the precision the parameter's docstring states. Each case is derived from the SDK, not listed by hand.
"""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from compiler.emulator import EmulatorHandle
from compiler.stripe import sdkparams
from tests.stripe_objects import unset_value

#: each kind's update endpoint (with the id the fixture below creates) and the SDK's resource class
UPDATES: dict[str, tuple[str, type]] = {
    "product": ("/v1/products/suite", stripe.Product),
    "price": ("/v1/prices/{price}", stripe.Price),
    "plan": ("/v1/plans/gold", stripe.Plan),
    "meter": ("/v1/billing/meters/{meter}", stripe.billing.Meter),
}
#: Stripe unsets a product's default_price with "" although the SDK types it a plain string (a Stripe engineer's
#: answer in stripe/stripe-python#658); the emulator knows this one exception
BEYOND_SDK = {("product", "default_price")}


def _update_fields(kind: str) -> dict[str, sdkparams.FieldSpec]:
    cls = sdkparams.params_class("POST", UPDATES[kind][0].replace("{price}", "p").replace("{meter}", "m"))
    assert cls is not None
    return {name: f for name, f in sdkparams.spec_for(cls).fields.items() if name != "expand"}


def _params(empty_ok: bool) -> list[tuple[str, str]]:
    return [
        (kind, name)
        for kind in UPDATES
        for name, f in _update_fields(kind).items()
        if f.spec.empty_ok == empty_ok and (kind, name) not in BEYOND_SDK
    ]


def _cases(cases: list[tuple[str, str]]) -> Any:
    return pytest.mark.parametrize(("kind", "name"), cases, ids=[f"{kind}.{name}" for kind, name in cases])


def _account(client: stripe.StripeClient) -> dict[str, str]:
    """A product, price, plan and meter with every field the tests unset given a value; their update paths."""
    client.v1.products.create(
        params={
            "id": "suite",
            "name": "Suite",
            "description": "Docs and chat",
            "images": ["https://example.com/a.png"],
            "marketing_features": [{"name": "Fast"}],
            "package_dimensions": {"height": 1.5, "length": 2, "weight": 3, "width": 4},
            "shippable": True,
            "statement_descriptor": "SUITE",
            "tax_code": "txcd_10000000",
            "unit_label": "seat",
            "url": "https://example.com",
            "metadata": {"team": "growth"},
        }
    )
    price = client.v1.prices.create(
        params={
            "product": "suite",
            "currency": "usd",
            "unit_amount": 1000,
            "nickname": "Monthly",
            "lookup_key": "monthly",
            "currency_options": {"eur": {"unit_amount": 900}},
            "metadata": {"team": "growth"},
        }
    )
    client.v1.plans.create(
        params={
            "id": "gold",
            "product": "suite",
            "currency": "usd",
            "amount": 2000,
            "interval": "month",
            "nickname": "Gold",
            "trial_period_days": 7,
            "metadata": {"team": "growth"},
        }
    )
    meter = client.v1.billing.meters.create(
        params={"event_name": "calls", "display_name": "Calls", "default_aggregation": {"formula": "sum"}}
    )
    return {kind: path.format(price=price.id, meter=meter.id) for kind, (path, _cls) in UPDATES.items()}


def test_the_derived_cases_cover_what_the_catalog_changes() -> None:
    # the derivation must find the fields behind issue-sized bugs, or it derives nothing useful
    refused, unset = set(_params(empty_ok=False)), set(_params(empty_ok=True))
    assert {("price", "nickname"), ("plan", "nickname"), ("plan", "trial_period_days")} <= refused
    assert {("product", "shippable"), ("product", "statement_descriptor"), ("meter", "display_name")} <= refused
    assert {("product", "images"), ("product", "marketing_features"), ("product", "package_dimensions")} <= unset
    assert {("price", "metadata"), ("plan", "metadata")} <= unset


@_cases(_params(empty_ok=False))
def test_an_empty_string_is_refused_where_the_sdk_offers_no_unset(
    emulator: EmulatorHandle, kind: str, name: str
) -> None:
    client = emulator.client()
    path = _account(client)[kind]
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.raw_request("post", path, **{name: ""})
    err = info.value
    assert (err.http_status, err.code, err.param) == (400, "parameter_invalid_empty", name)
    assert err.user_message == (
        f"You passed an empty string for '{name}'. We assume empty values are an attempt to unset a parameter; "
        f"however '{name}' cannot be unset. You should remove '{name}' from your request or supply a non-empty "
        "value."
    )


# currency_options="" clears the options, but the price's own currency stays listed: not an empty field
@_cases([case for case in _params(empty_ok=True) if case != ("price", "currency_options")])
def test_an_empty_string_unsets_where_the_sdk_offers_it(emulator: EmulatorHandle, kind: str, name: str) -> None:
    client = emulator.client()
    path = _account(client)[kind]
    updated = client.raw_request("post", path, **{name: ""}).data
    fetched = client.raw_request("get", path).data
    expected = unset_value(UPDATES[kind][1], name)
    assert updated[name] == expected
    assert fetched[name] == expected


def test_an_emptied_list_sent_as_a_list_changes_nothing(emulator: EmulatorHandle) -> None:
    # form encoding has no empty list: `images: []` goes out as nothing at all, so Stripe keeps the images
    client = emulator.client()
    _account(client)
    updated = client.v1.products.update("suite", params={"images": [], "marketing_features": []})
    assert updated.images == ["https://example.com/a.png"]
    assert [f.name for f in updated.marketing_features] == ["Fast"]


@pytest.mark.parametrize(
    ("height", "message"),
    [
        (1.255, "Invalid float: 1.255. Maximum precision is 2 decimal places."),
        (1e16, "Invalid float: 1e+16"),
        (0.00001, "Invalid float: 1e-05"),
    ],
)
def test_numbers_stripe_does_not_document_are_refused(emulator: EmulatorHandle, height: float, message: str) -> None:
    client = emulator.client()
    _account(client)
    dimensions: Any = {"height": height, "length": 2.0, "weight": 3.0, "width": 4.0}
    for path, params in (
        ("/v1/products", {"name": "Box", "package_dimensions": dimensions}),
        ("/v1/products/suite", {"package_dimensions": dimensions}),
    ):
        with pytest.raises(stripe.InvalidRequestError) as info:
            client.raw_request("post", path, **params)
        assert (info.value.http_status, info.value.param) == (400, "package_dimensions[height]")
        assert info.value.user_message == message
    package = client.v1.products.retrieve("suite").package_dimensions
    assert package is not None and package.height == 1.5  # nothing changed


def test_plain_numbers_within_the_precision_are_kept(emulator: EmulatorHandle) -> None:
    client = emulator.client()
    _account(client)
    dimensions: Any = {"height": 1.25, "length": 10, "weight": 0.5, "width": 1e15}
    updated = client.v1.products.update("suite", params={"package_dimensions": dimensions})
    assert updated.to_dict()["package_dimensions"] == {"height": 1.25, "length": 10, "weight": 0.5, "width": 1e15}
