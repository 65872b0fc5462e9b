"""Answers Stripe never sends, from a server that is not Stripe: each is an UnexpectedAnswer that says what came
(with the hint to check the API base), never an internal error. Driven through the real stripe SDK with a
scripted HTTP client that hands it raw bytes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
import stripe

from compiler.errors import UnexpectedAnswer
from compiler.stripe.calls import ApiCall, CallAction
from compiler.stripe.facts import GroupingWindow, MeterFormula
from compiler.stripe.gateway import Connection, Gateway
from compiler.stripe.state import read_account
from compiler.usage.meters import Meter, account_meters
from compiler.usage.summary import Period, summarize

KEY = "sk_test_ANSWERSanswers00001"
LIVE_KEY = "sk_live_ANSWERSanswers00001"
ACCOUNT = {"id": "acct_1", "object": "account"}  # what read_account asks beside the lists
EMPTY = {"object": "list", "data": [], "has_more": False}
WRITE = ApiCall("POST", "/v1/prices", {"currency": "usd", "unit_amount": 5}, "price.a", CallAction.CREATE, "price.a")


@dataclass
class RawHttp(stripe.HTTPClient):
    """Answers every request with the next (status, raw body) of its script, or, given `routes`, with the body
    for the request's path (an account is read by several requests at once, in no set order)."""

    script: list[tuple[int, bytes]] = field(default_factory=list)
    routes: Mapping[str, bytes] | None = None
    name = "raw"

    def __post_init__(self) -> None:
        super().__init__()

    def request(  # type: ignore[override]  # bytes, as the SDK's own clients give (its stub says str)
        self, method: str, url: str, headers: Mapping[str, str] | None, post_data: Any = None, **_: Any
    ) -> tuple[bytes, int, Mapping[str, str]]:
        if self.routes is not None:
            parts = urlsplit(url)
            archived = "active=false" in parts.query
            return self.routes[parts.path + ("?active=false" if archived else "")], 200, {}
        status, body = self.script.pop(0)
        return body, status, {}

    def close(self) -> None:
        pass


def gateway(*answers: tuple[int, bytes] | Any, key: str = KEY) -> Gateway:
    script = [a if isinstance(a, tuple) else (200, json.dumps(a).encode()) for a in answers]
    return Gateway(Connection(key, "http://127.0.0.1:1"), rate=None, http_client=RawHttp(script), sleep=lambda s: None)


def account(prices: Mapping[str, Any]) -> Gateway:
    """A gateway to an account with these prices and nothing else."""
    routes = {path: json.dumps(EMPTY).encode() for path in ("/v1/billing/meters", "/v1/products", "/v1/plans")}
    routes |= {"/v1/account": json.dumps(ACCOUNT).encode(), "/v1/prices": json.dumps(prices).encode()}
    routes["/v1/prices?active=false"] = json.dumps(EMPTY).encode()
    http = RawHttp(routes=routes)
    return Gateway(Connection(KEY, "http://127.0.0.1:1"), rate=None, http_client=http, sleep=lambda s: None)


def refused(call: Any) -> UnexpectedAnswer:
    with pytest.raises(UnexpectedAnswer) as info:
        call()
    assert "--api-base" in (info.value.hint or "")
    return info.value


@pytest.mark.parametrize(
    ("body", "named"),
    [(b"[1, 2]", "is a JSON array, not an object"), (b"null", "is null, not an object"),
     (b'"hello"', "is a JSON string, not an object"), (b"42", "is the JSON value 42, not an object")],
)
def test_an_answer_that_is_no_json_object(body: bytes, named: str) -> None:
    error = refused(lambda: gateway((200, body)).request("GET", "/v1/products", {}))
    assert error.message == f"the answer to GET /v1/products {named}"


@pytest.mark.parametrize("status", [200, 400])
def test_an_answer_that_is_not_utf8(status: int) -> None:
    body = b'{"object": "list", "data": [], "has_more": false, "x": "\xff"}'
    error = refused(lambda: gateway((status, body)).request("GET", "/v1/products", {}))
    assert error.message == "the answer to GET /v1/products is not UTF-8 text (byte 0xff at offset 56)"


@pytest.mark.parametrize("body", [b"<html>not json</html>", b"[" * 5000 + b"]" * 5000])
def test_a_success_that_is_not_json(body: bytes) -> None:
    error = refused(lambda: gateway((200, body)).request("GET", "/v1/products", {}))
    assert error.message.startswith("the answer to GET /v1/products is not JSON (")
    assert len(error.message) < 200  # an excerpt, not the body


@pytest.mark.parametrize("body", [b"[1]", b'{"error": null}', b'{"error": "boom"}', b"{}", b"<html>502</html>"])
def test_an_error_status_without_a_stripe_error(body: bytes) -> None:
    error = refused(lambda: gateway((400, body)).request("GET", "/v1/products", {}))
    assert error.message.startswith("the answer to GET /v1/products ")


@pytest.mark.parametrize(
    ("page", "why"),
    [
        ({"object": "list", "data": {"id": "p"}, "has_more": False}, "is not a list"),
        ({"object": "list", "has_more": False}, "is not a list"),
        ({"object": "list", "data": [], "has_more": "no"}, "is not a list"),
        ({"object": "list", "data": [1], "has_more": False}, "lists something that is no object with an id (#0)"),
        ({"object": "list", "data": [{"id": "p1"}, {"name": "x"}], "has_more": False}, "(#1)"),
        ({"object": "list", "data": [{"id": 7}], "has_more": False}, "(#0)"),
    ],
)
def test_a_list_of_the_wrong_shape(page: dict[str, Any], why: str) -> None:
    error = refused(lambda: gateway(page).list_all("/v1/products"))
    assert error.message.startswith("the answer to GET /v1/products ") and why in error.message


@pytest.mark.parametrize("answer", [{"object": "price"}, {"id": 5}, {"id": ""}])
def test_a_write_answered_without_the_object_written(answer: dict[str, Any]) -> None:
    error = refused(lambda: gateway(answer).send(WRITE, "k1"))
    assert error.message == "the answer to POST /v1/prices is no object with an id"


def test_a_write_answered_in_live_mode_under_a_test_key() -> None:
    error = refused(lambda: gateway({"id": "price_1", "object": "price", "livemode": True}).send(WRITE, "k1"))
    assert error.message == (
        "the answer to POST /v1/prices is a live-mode object, but the key is a test-mode key: whatever answered "
        "is not the account the key belongs to; the write may have been made there"
    )


def test_a_read_answered_in_test_mode_under_a_live_key() -> None:
    page = {"object": "list", "data": [{"id": "prod_1", "livemode": False}], "has_more": False}
    error = refused(lambda: gateway(page, key=LIVE_KEY).list_all("/v1/products"))
    assert "is a test-mode object, but the key is a live-mode key" in error.message


def test_answers_in_the_keys_mode_pass() -> None:
    page = {"object": "list", "data": [{"id": "prod_1", "livemode": False}], "has_more": False}
    assert gateway(page).list_all("/v1/products") == page["data"]
    assert gateway({"id": "price_1", "livemode": False}).send(WRITE, "k1")["id"] == "price_1"


def test_an_object_whose_identity_is_not_text() -> None:
    price = {"id": "price_1", "object": "price", "lookup_key": 5, "currency": "usd", "product": "p"}
    prices = {"object": "list", "data": [price], "has_more": False}
    error = refused(lambda: read_account(account(prices)))
    assert error.message == "the answer to GET /v1/prices holds 'price_1', whose lookup_key is not text but int"


def test_a_live_decimal_amount_of_no_size_stripe_holds_is_shown_as_written() -> None:
    # `1e99999` would be an integer of 100,000 digits: no fingerprint or JSON could write it
    price = {"id": "price_1", "object": "price", "lookup_key": "k", "currency": "usd", "product": "p",
             "unit_amount_decimal": "1e99999", "active": True}
    prices = {"object": "list", "data": [price], "has_more": False}
    state = read_account(account(prices))
    (obj,) = state.objects
    assert obj.attrs["unit_amount_decimal"] == "1e99999" and obj.attrs["unit_amount"] is None


def test_a_meter_list_with_no_meter_in_it() -> None:
    page = {"object": "list", "data": [{"id": "mtr_1", "default_aggregation": "sum"}], "has_more": False}
    error = refused(lambda: account_meters(gateway(page)))
    assert error.message.startswith("the answer to GET /v1/billing/meters holds 'mtr_1', which is no meter")


@pytest.mark.parametrize(
    "summaries",
    [
        [{"id": "s1", "aggregated_value": "lots"}],
        [{"id": "s1", "aggregated_value": 1, "start_time": "noon", "end_time": 60}],
    ],
)
def test_event_summaries_that_are_no_numbers(summaries: list[dict[str, Any]]) -> None:
    meter = Meter("emails", "Emails", MeterFormula.SUM, "stripe_customer_id", "value", id="mtr_1")
    total = {"object": "list", "data": [{"id": "s0", "aggregated_value": 3}], "has_more": False}
    listed = {"object": "list", "data": summaries, "has_more": False}
    reader = gateway(total if "start_time" in summaries[0] else listed, listed)
    error = refused(lambda: summarize(reader, meter, "cus_1", Period(0, 3600, GroupingWindow.HOUR)))
    assert "/v1/billing/meters/mtr_1/event_summaries holds" in error.message
