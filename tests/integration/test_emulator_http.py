"""The emulator as an HTTP server: keys, routing, Stripe's form encoding, the control endpoints, products.

Each expectation is Stripe's documented behaviour, driven through the real stripe SDK.
"""

from __future__ import annotations

import base64
import threading
from pathlib import Path

import pytest
import stripe
from click.testing import CliRunner

from compiler.cli.emulator import command
from compiler.emulator import EmulatorHandle, run_in_thread
from compiler.stripe.gateway import Connection, Gateway
from tests.integration.conftest import EmulatorFactory


def test_sdk_round_trip_creates_a_product_with_a_custom_id(emulator: EmulatorHandle) -> None:
    client = emulator.client()
    product = client.v1.products.create(params={"id": "productivity_suite", "name": "Productivity Suite"})
    assert product.id == "productivity_suite"
    assert product.object == "product"
    assert product.livemode is False
    assert product.active is True
    assert product.metadata.to_dict() == {}
    assert product.default_price is None
    again = client.v1.products.retrieve("productivity_suite")
    assert again.name == "Productivity Suite"


def test_generated_ids_have_stripe_prefixes(emulator: EmulatorHandle) -> None:
    client = emulator.client()
    product = client.v1.products.create(params={"name": "P"})
    price = client.v1.prices.create(params={"product": product.id, "currency": "usd", "unit_amount": 5})
    assert product.id.startswith("prod_")
    assert price.id.startswith("price_")


def test_missing_key_is_a_401(emulator: EmulatorHandle) -> None:
    status, _, body = emulator.raw("GET", "/v1/products", api_key=None)
    assert status == 401
    assert "You did not provide an API key" in body["error"]["message"]


@pytest.mark.parametrize("key", ["sk_live_0123456789abcdef", "pk_test_0123456789abcdef"])
def test_non_test_keys_get_stripes_401_without_the_key_echoed(emulator: EmulatorHandle, key: str) -> None:
    client = stripe.StripeClient(key, base_addresses={"api": emulator.url}, max_network_retries=0)
    with pytest.raises(stripe.AuthenticationError) as info:
        client.v1.products.list()
    assert info.value.http_status == 401
    assert "Invalid API Key provided" in str(info.value.user_message)
    assert key not in str(info.value.user_message)


def test_unknown_url_is_a_404(emulator: EmulatorHandle) -> None:
    status, _, body = emulator.raw("GET", "/v1/invoices")
    assert status == 404
    assert body["error"]["type"] == "invalid_request_error"
    assert "Unrecognized request URL" in body["error"]["message"]


def test_unknown_id_is_resource_missing(emulator: EmulatorHandle) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        emulator.client().v1.products.retrieve("prod_nope")
    assert info.value.http_status == 404
    assert info.value.code == "resource_missing"
    assert info.value.param == "id"


def test_form_bodies_use_brackets_for_hashes_and_arrays(emulator: EmulatorHandle) -> None:
    emulator.raw("POST", "/v1/products", "id=p1&name=P")
    body = (
        "product=p1&currency=usd&billing_scheme=tiered&tiers_mode=volume"
        "&tiers[0][up_to]=10&tiers[0][unit_amount]=700&tiers[1][up_to]=inf&tiers[1][unit_amount]=600"
        "&metadata[team]=growth&expand[]=tiers"
    )
    status, _, price = emulator.raw("POST", "/v1/prices", body)
    assert status == 200, price
    assert [t["up_to"] for t in price["tiers"]] == [10, None]
    assert price["metadata"] == {"team": "growth"}
    status, _, page = emulator.raw("GET", "/v1/prices?expand[]=data.tiers&limit=1")
    assert status == 200
    assert page["data"][0]["tiers"][0]["unit_amount"] == 700


def test_a_key_used_as_value_and_hash_is_rejected(emulator: EmulatorHandle) -> None:
    status, _, body = emulator.raw("POST", "/v1/products", "name=P&metadata=x&metadata[a]=b")
    assert status == 400
    assert body["error"]["param"] == "metadata"


def test_request_log_and_reset_over_http(emulator: EmulatorHandle) -> None:
    client = emulator.client()
    client.v1.products.create(params={"name": "P"}, options={"idempotency_key": "k-1"})
    client.v1.products.list()
    log = emulator.control("GET", "requests")["data"]
    assert [(e["method"], e["path"], e["status"]) for e in log] == [
        ("POST", "/v1/products", 200),
        ("GET", "/v1/products", 200),
    ]
    assert log[0]["idempotency_key"] == "k-1"
    assert log[0]["replayed"] is False
    assert emulator.control("GET", "state")["products"]
    emulator.control("POST", "reset")
    assert emulator.requests() == []
    assert client.v1.products.list().data == []


def test_non_loopback_hosts_are_refused() -> None:
    with pytest.raises(ValueError, match="loopback"):
        run_in_thread(host="0.0.0.0")


# -- products -------------------------------------------------------------------------------------------------


def test_product_ids_are_unique(emulator: EmulatorHandle) -> None:
    client = emulator.client()
    client.v1.products.create(params={"id": "suite", "name": "A"})
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.products.create(params={"id": "suite", "name": "B"})
    assert info.value.code == "resource_already_exists"
    assert info.value.param == "id"


def test_product_name_is_required(emulator: EmulatorHandle) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        emulator.client().v1.products.create(params={"id": "x"})  # type: ignore[typeddict-item]
    assert info.value.code == "parameter_missing"
    assert info.value.param == "name"


def test_product_update_archive_and_unset(emulator: EmulatorHandle) -> None:
    client = emulator.client()
    client.v1.products.create(params={"id": "suite", "name": "A", "description": "d", "metadata": {"a": "1"}})
    updated = client.v1.products.update(
        "suite", params={"name": "B", "active": False, "description": "", "metadata": {"a": "", "b": "2"}}
    )
    assert updated.name == "B"
    assert updated.active is False
    assert updated.description is None
    assert updated.metadata.to_dict() == {"b": "2"}


def test_statement_descriptor_limits(emulator: EmulatorHandle) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        emulator.client().v1.products.create(params={"name": "A", "statement_descriptor": "X" * 23})
    assert info.value.param == "statement_descriptor"


def test_product_with_prices_cannot_be_deleted(emulator: EmulatorHandle) -> None:
    client = emulator.client()
    client.v1.products.create(params={"id": "suite", "name": "A"})
    client.v1.prices.create(params={"product": "suite", "currency": "usd", "unit_amount": 100})
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.products.delete("suite")
    assert client.v1.products.retrieve("suite").id == "suite"


def test_product_without_prices_can_be_deleted(emulator: EmulatorHandle) -> None:
    client = emulator.client()
    client.v1.products.create(params={"id": "suite", "name": "A"})
    deleted = client.v1.products.delete("suite")
    assert deleted.deleted is True
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.products.retrieve("suite")


def test_default_price_data_and_default_price(emulator: EmulatorHandle) -> None:
    client = emulator.client()
    product = client.v1.products.create(
        params={"id": "suite", "name": "A", "default_price_data": {"currency": "usd", "unit_amount": 1000}}
    )
    assert isinstance(product.default_price, str)
    price = client.v1.prices.retrieve(product.default_price)
    assert price.product == "suite"
    assert price.unit_amount == 1000
    other = client.v1.prices.create(params={"product": "suite", "currency": "usd", "unit_amount": 2000})
    moved = client.v1.products.update("suite", params={"default_price": other.id, "expand": ["default_price"]})
    assert moved.default_price.id == other.id  # type: ignore[union-attr]


def test_default_price_data_takes_no_tiers(emulator: EmulatorHandle) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        emulator.client().v1.products.create(
            params={
                "name": "A",
                "default_price_data": {"currency": "usd", "tiers": [{"up_to": "inf"}]},  # type: ignore[typeddict-unknown-key]
            }
        )
    assert info.value.code == "parameter_unknown"
    assert info.value.param == "default_price_data[tiers]"
    assert emulator.client().v1.products.list().data == []


def test_archiving_a_products_default_price_is_refused(emulator: EmulatorHandle) -> None:
    client = emulator.client()
    product = client.v1.products.create(
        params={"id": "suite", "name": "A", "default_price_data": {"currency": "usd", "unit_amount": 1000}}
    )
    assert isinstance(product.default_price, str)
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.prices.update(product.default_price, params={"active": False})
    assert info.value.param == "active"
    assert client.v1.prices.retrieve(product.default_price).active is True


def test_unsetting_the_default_price_lets_it_be_archived(emulator: EmulatorHandle) -> None:
    client = emulator.client()
    product = client.v1.products.create(
        params={"id": "suite", "name": "A", "default_price_data": {"currency": "usd", "unit_amount": 1000}}
    )
    assert isinstance(product.default_price, str)
    assert client.v1.products.update("suite", params={"default_price": ""}).default_price is None
    assert client.v1.prices.update(product.default_price, params={"active": False}).active is False


def test_product_list_filters_and_ids(emulator: EmulatorHandle) -> None:
    client = emulator.client()
    for name in ("a", "b", "c"):
        client.v1.products.create(params={"id": name, "name": name, "active": name != "b"})
    assert [p.id for p in client.v1.products.list(params={"active": True}).data] == ["c", "a"]
    assert [p.id for p in client.v1.products.list(params={"ids": ["a", "b"]}).data] == ["b", "a"]


def test_basic_auth_as_in_stripes_curl_examples(emulator: EmulatorHandle) -> None:
    token = base64.b64encode(f"{emulator.api_key}:".encode()).decode()
    status, _, body = emulator.raw("GET", "/v1/products", headers={"Authorization": f"Basic {token}"}, api_key=None)
    assert status == 200, body
    assert body["object"] == "list"


def test_cli_refuses_non_loopback_host() -> None:
    result = CliRunner().invoke(command, ["--host", "10.1.2.3"])
    assert result.exit_code == 2
    assert "loopback" in result.output


def test_concurrent_clients_lose_no_writes(emulator: EmulatorHandle) -> None:
    def work(thread: int) -> None:
        client = emulator.client()
        for i in range(25):
            client.v1.products.create(params={"id": f"t{thread}-{i}", "name": "P"})

    workers = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    listed = emulator.client().v1.products.list(params={"limit": 100})
    assert len({p.id for p in listed.data}) == 100
    assert [e["status"] for e in emulator.requests()].count(200) == 101


def test_the_account_is_one_of_its_own_and_outlives_a_reset(
    emulator: EmulatorHandle, emulator_factory: EmulatorFactory
) -> None:
    first = emulator.client().raw_request("get", "/v1/account").data
    assert first["object"] == "account" and first["id"].startswith("acct_")
    emulator.reset()
    assert emulator.client().raw_request("get", "/v1/account").data["id"] == first["id"]
    other = emulator_factory().client().raw_request("get", "/v1/account").data
    assert other["id"] != first["id"]
    # a seed fixes it, as it fixes the ids of objects
    seeded = [emulator_factory(seed=7).client().raw_request("get", "/v1/account").data["id"] for _ in range(2)]
    assert seeded[0] == seeded[1] != first["id"]


def test_the_account_outlives_a_restart_with_state(emulator_factory: EmulatorFactory, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    first = emulator_factory(state_path=state)
    account = first.client().raw_request("get", "/v1/account").data["id"]
    first.client().v1.products.create(params={"id": "p", "name": "P"})  # a write saves the state
    first.stop()
    assert emulator_factory(state_path=state).client().raw_request("get", "/v1/account").data["id"] == account


def test_a_restricted_key_may_not_read_the_account(emulator: EmulatorHandle) -> None:
    key = "rk_test_0123456789abcdefWXYZ"
    client = stripe.StripeClient(key, base_addresses={"api": emulator.url}, max_network_retries=0)
    with pytest.raises(stripe.PermissionError) as info:
        client.raw_request("get", "/v1/account")
    assert info.value.http_status == 403
    message = str(info.value.user_message)
    assert message.startswith("The provided key 'rk_test_") and "does not have the required permissions" in message
    assert key not in message
    assert client.v1.products.list().data == []  # what it may read, it reads


def test_the_gateway_reads_the_account_id_or_says_it_cannot(emulator: EmulatorHandle) -> None:
    expected = emulator.client().raw_request("get", "/v1/account").data["id"]
    assert Gateway(Connection(emulator.api_key, emulator.url)).account_id() == expected
    assert Gateway(Connection("rk_test_0123456789abcdef", emulator.url)).account_id() is None
