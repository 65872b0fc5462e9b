"""The compiler: the catalog as ordered API calls for an empty account."""

from __future__ import annotations

from typing import Any

import pytest

from compiler.catalog.source import iter_entries
from compiler.catalog.yaml_reader import load_text
from compiler.changes.compile import compile_catalog, create_call, default_price_call, placeholder_ref
from compiler.changes.model import Catalog, build_catalog
from compiler.stripe.calls import placeholder
from compiler.stripe.kinds import Kind

CATALOG = """
meters:
  - event_name: emails_sent
    display_name: Emails sent
    default_aggregation: {formula: sum}

plans:
  - id: metered-emails
    product: marketing_emails
    nickname: Metered Emails
    currency: usd
    amount: 10
    interval: month
    usage_type: metered
    meter: emails_sent
    transform_usage: {divide_by: 1000, round: down}

products:
  - id: productivity_suite
    name: Productivity Suite
    default_price: suite_graduated
    metadata: {team: growth}
    prices:
      - lookup_key: suite_per_5_users_monthly
        nickname: Standard Cost Per 5 Users
        currency: usd
        unit_amount: 1000
        recurring: {interval: month, usage_type: licensed}
        transform_quantity: {divide_by: 5, round: up}
      - lookup_key: suite_graduated
        currency: usd
        billing_scheme: tiered
        tiers_mode: graduated
        tiers:
          - {up_to: 5, unit_amount: 500}
          - {up_to: inf, unit_amount: 400}
        recurring: {interval: month}
  - id: marketing_emails
    name: Marketing Emails

prices:
  - lookup_key: emails_per_1000_monthly
    product: marketing_emails
    currency: usd
    unit_amount: 10
    recurring: {interval: month, usage_type: metered, meter: emails_sent}
    transform_quantity: {divide_by: 1000, round: down}
"""


def catalog_of(text: str) -> Catalog:
    doc, diagnostics = load_text(text, "test.yaml")
    assert doc is not None, diagnostics
    return build_catalog(list(iter_entries(doc)))


@pytest.fixture(scope="module")
def calls() -> list[Any]:
    return compile_catalog(catalog_of(CATALOG))


def by_address(calls: list[Any], address: str, action: str = "create") -> Any:
    (call,) = [c for c in calls if c.address == address and c.action == action]
    return call


def test_order_is_meters_products_prices_and_plans_then_default_prices(calls: list[Any]) -> None:
    assert [(c.action, c.address) for c in calls] == [
        ("create", "meter.emails_sent"),
        ("create", "product.productivity_suite"),
        ("create", "product.marketing_emails"),
        ("create", "price.suite_per_5_users_monthly"),
        ("create", "price.suite_graduated"),
        ("create", "price.emails_per_1000_monthly"),
        ("create", "plan.metered-emails"),
        ("set default price", "product.productivity_suite"),
    ]
    assert [c.stage.value for c in calls] == [
        "meters", "products", "products", "creates", "creates", "creates", "creates", "default prices"
    ]


def test_every_call_is_a_post_to_the_kinds_endpoint(calls: list[Any]) -> None:
    paths = {c.address.split(".")[0]: c.path for c in calls if c.action == "create"}
    assert paths == {
        "meter": "/v1/billing/meters",
        "product": "/v1/products",
        "price": "/v1/prices",
        "plan": "/v1/plans",
    }
    assert {c.method for c in calls} == {"POST"}


def test_creates_names_the_created_address(calls: list[Any]) -> None:
    for call in calls:
        assert call.creates == (call.address if call.action == "create" else None)


def test_meter_references_are_placeholders_and_dependencies(calls: list[Any]) -> None:
    price = by_address(calls, "price.emails_per_1000_monthly")
    assert price.params["recurring"]["meter"] == "{{meter.emails_sent}}"
    assert price.depends_on == ("meter.emails_sent",)
    plan = by_address(calls, "plan.metered-emails")
    assert plan.params["meter"] == "{{meter.emails_sent}}"
    assert plan.depends_on == ("meter.emails_sent",)


def test_every_placeholder_is_created_by_an_earlier_call(calls: list[Any]) -> None:
    created: set[str] = set()
    for call in calls:
        assert call.placeholders() <= created, call
        assert set(call.depends_on) == call.placeholders()
        if call.creates:
            created.add(call.creates)


def test_product_references_are_the_product_id(calls: list[Any]) -> None:
    assert by_address(calls, "price.suite_per_5_users_monthly").params["product"] == "productivity_suite"
    assert by_address(calls, "price.emails_per_1000_monthly").params["product"] == "marketing_emails"
    assert by_address(calls, "plan.metered-emails").params["product"] == "marketing_emails"
    assert by_address(calls, "price.suite_per_5_users_monthly").depends_on == ()


def test_everything_but_meters_is_marked_managed(calls: list[Any]) -> None:
    for call in calls:
        if call.action != "create":
            continue
        if call.address.startswith("meter."):
            assert "metadata" not in call.params
        else:
            assert call.params["metadata"]["managed_by"] == "pricebook"
    # the user's own metadata is kept beside the mark
    assert by_address(calls, "product.productivity_suite").params["metadata"] == {
        "team": "growth",
        "managed_by": "pricebook",
    }


def test_default_price_is_set_last_by_placeholder(calls: list[Any]) -> None:
    product = by_address(calls, "product.productivity_suite")
    assert "default_price" not in product.params
    assert "prices" not in product.params
    last = calls[-1]
    assert last.path == "/v1/products/productivity_suite"
    assert last.params == {"default_price": "{{price.suite_graduated}}"}
    assert last.depends_on == ("price.suite_graduated",)


def test_params_are_exactly_as_written(calls: list[Any]) -> None:
    price = by_address(calls, "price.suite_per_5_users_monthly")
    assert dict(price.params) == {
        "lookup_key": "suite_per_5_users_monthly",
        "nickname": "Standard Cost Per 5 Users",
        "currency": "usd",
        "unit_amount": 1000,
        "recurring": {"interval": "month", "usage_type": "licensed"},
        "transform_quantity": {"divide_by": 5, "round": "up"},
        "product": "productivity_suite",
        "metadata": {"managed_by": "pricebook"},
    }
    tiered = by_address(calls, "price.suite_graduated")
    assert tiered.params["tiers"][-1] == {"up_to": "inf", "unit_amount": 400}
    assert tiered.params["recurring"] == {"interval": "month"}  # no usage_type/interval_count filled in
    meter = by_address(calls, "meter.emails_sent")
    assert dict(meter.params) == {
        "event_name": "emails_sent",
        "display_name": "Emails sent",
        "default_aggregation": {"formula": "sum"},
    }


def test_compiling_leaves_the_catalog_as_it_was() -> None:
    catalog = catalog_of(CATALOG)
    before = [dict(r.params) for r in catalog]
    compile_catalog(catalog)
    assert [dict(r.params) for r in catalog] == before
    price = catalog.get(Kind.PRICE, "emails_per_1000_monthly")
    assert price is not None and price.params["recurring"]["meter"] == "emails_sent"
    product = catalog.get(Kind.PRODUCT, "productivity_suite")
    assert product is not None and product.params["default_price"] == "suite_graduated"


def test_create_call_uses_live_ids_from_ref_and_transfers_lookup_key() -> None:
    price = catalog_of(CATALOG).get(Kind.PRICE, "emails_per_1000_monthly")
    assert price is not None
    call = create_call(price, lambda kind, key: f"mtr_live_{key}", replaces="price_old")
    assert call.params["recurring"]["meter"] == "mtr_live_emails_sent"
    assert call.params["transfer_lookup_key"] is True
    # the new price records the one it replaces, beside the ownership mark (the catalog's params stay as they were)
    assert call.params["metadata"] == {"managed_by": "pricebook", "pricebook_replaces": "price_old"}
    assert "pricebook_replaces" not in price.params["metadata"]
    assert call.depends_on == ()
    plain = create_call(price, lambda kind, key: f"mtr_live_{key}")
    assert "transfer_lookup_key" not in plain.params and "pricebook_replaces" not in plain.params["metadata"]
    with pytest.raises(ValueError):
        product = catalog_of(CATALOG).get(Kind.PRODUCT, "marketing_emails")
        assert product is not None
        create_call(product, placeholder_ref, replaces="prod_old")


def test_default_price_call_quotes_the_product_id_and_keeps_placeholders() -> None:
    call = default_price_call("odd id", "odd id", "price_123")
    assert call.path == "/v1/products/odd%20id"
    assert call.address == "product.odd id"
    assert call.depends_on == ()
    assert default_price_call("p", placeholder("product.p"), "price_1").path == "/v1/products/{{product.p}}"


def test_an_empty_catalog_compiles_to_nothing() -> None:
    assert compile_catalog(Catalog.of([])) == []
