"""The gateway's retries, pacing and key hygiene, against a scripted fake HTTP client (no network)."""

from __future__ import annotations

import json
import random
import socket
import ssl
import threading
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
import stripe

from compiler.errors import PricebookError, StripeApiError, UsageError
from compiler.stripe.calls import ApiCall, CallAction
from compiler.stripe.facts import API_VERSION
from compiler.stripe.gateway import (
    Connection,
    Gateway,
    Pacer,
    RetryPolicy,
    connection_from_env,
    should_retry,
)

KEY = "sk_test_SECRETkey1234567890"


@dataclass
class Sent:
    method: str
    url: str
    headers: dict[str, str]
    body: str | None

    @property
    def params(self) -> dict[str, list[str]]:
        text = self.body if self.method == "post" else urllib.parse.urlsplit(self.url).query
        return urllib.parse.parse_qs(text or "")


Reply = tuple[int, dict[str, Any], dict[str, str]] | Exception


@dataclass
class FakeHttp(stripe.HTTPClient):
    """Answers from a script, one reply per request; records what was sent."""

    script: list[Reply] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)
    name = "fake"

    def __post_init__(self) -> None:
        super().__init__()

    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[str, int, Mapping[str, str]]:
        self.sent.append(Sent(method, url, dict(headers or {}), post_data))
        reply = self.script.pop(0) if self.script else (200, {"id": "obj_1"}, {})
        if isinstance(reply, Exception):
            raise reply
        status, body, headers_out = reply
        return json.dumps(body), status, headers_out

    def close(self) -> None:
        pass


def error(status: int, message: str = "nope", **headers: str) -> tuple[int, dict[str, Any], dict[str, str]]:
    body = {"error": {"type": "invalid_request_error" if status < 500 else "api_error", "message": message}}
    return status, body, {k.replace("_", "-"): v for k, v in headers.items()}


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def make(script: Sequence[Reply], *, key: str = KEY, rate: float | None = 1e9, **kw: Any) -> tuple[Gateway, FakeHttp]:
    http = FakeHttp(script=list(script))
    sleeps = kw.pop("sleep", Sleeps())
    gateway = Gateway(Connection(key, "http://127.0.0.1:1"), rate=rate, http_client=http, sleep=sleeps, seed=1, **kw)
    return gateway, http


CALL = ApiCall("POST", "/v1/prices", {"currency": "usd", "unit_amount": 1000}, "price.a", CallAction.CREATE, "price.a")


def test_a_write_sends_the_idempotency_key_and_the_pinned_version() -> None:
    gateway, http = make([(200, {"id": "price_1"}, {})])
    assert gateway.send(CALL, "pricebook-abc") == {"id": "price_1"}
    (sent,) = http.sent
    headers = {k.lower(): v for k, v in sent.headers.items()}
    assert headers["idempotency-key"] == "pricebook-abc"
    assert headers["stripe-version"] == API_VERSION
    assert sent.params == {"currency": ["usd"], "unit_amount": ["1000"]}


def test_the_pinned_sdk_is_the_release_generated_for_the_pinned_api_version() -> None:
    # its parameter types (sdkparams, the emulator) describe this version of the API and no other
    assert stripe.api_version == API_VERSION


def test_a_read_sends_no_idempotency_key() -> None:
    gateway, http = make([(200, {"data": [], "has_more": False}, {})])
    gateway.request("GET", "/v1/prices", {"active": "true"}, idempotency_key="ignored")
    assert "idempotency-key" not in {k.lower() for k in http.sent[0].headers}


@pytest.mark.parametrize("status", [429, 409, 500, 502, 503])
def test_safe_statuses_are_retried_with_the_same_key(status: int) -> None:
    gateway, http = make([error(status), (200, {"id": "price_1"}, {})])
    assert gateway.send(CALL, "k1")["id"] == "price_1"
    assert len(http.sent) == 2
    keys = {s.headers.get("Idempotency-Key") for s in http.sent}
    assert keys == {"k1"}
    assert gateway.stats.retries == 1
    assert gateway.stats.rate_limited == (1 if status == 429 else 0)


@pytest.mark.parametrize("status", [400, 401, 402, 403, 404])
def test_other_4xx_are_never_retried(status: int) -> None:
    gateway, http = make([error(status, "No such product: 'x'"), (200, {}, {})])
    with pytest.raises(StripeApiError) as info:
        gateway.send(CALL, "k1")
    assert len(http.sent) == 1
    assert info.value.status == status
    assert "No such product" in info.value.message


def test_stripe_should_retry_false_wins_over_a_5xx() -> None:
    # Stripe's answer for a replayed 500: the write may have committed, so re-sending the key is pointless.
    gateway, http = make([error(500, "boom", Stripe_Should_Retry="false"), (200, {}, {})])
    with pytest.raises(StripeApiError):
        gateway.send(CALL, "k1")
    assert len(http.sent) == 1


def test_stripe_should_retry_true_wins_over_a_4xx() -> None:
    gateway, http = make([error(400, "lock timeout", Stripe_Should_Retry="true"), (200, {"id": "x"}, {})])
    assert gateway.send(CALL, "k1") == {"id": "x"}
    assert len(http.sent) == 2


def test_connection_errors_are_retried() -> None:
    reset = stripe.APIConnectionError("reset", should_retry=True)  # type: ignore[no-untyped-call]
    gateway, http = make([reset, (200, {"id": "x"}, {})])
    assert gateway.send(CALL, "k1") == {"id": "x"}
    assert len(http.sent) == 2


def test_persistent_5xx_gives_up_after_the_retry_budget() -> None:
    gateway, http = make([error(500)] * 10, retry=RetryPolicy(max_retries=3))
    with pytest.raises(StripeApiError) as info:
        gateway.send(CALL, "k1")
    assert len(http.sent) == 4  # the first try and three retries
    assert info.value.status == 500


def test_429s_have_their_own_larger_budget() -> None:
    gateway, http = make([error(429)] * 6 + [(200, {"id": "x"}, {})], retry=RetryPolicy(max_retries=1))
    assert gateway.send(CALL, "k1") == {"id": "x"}
    assert gateway.stats.rate_limited == 6
    assert len(http.sent) == 7


def test_backoff_doubles_from_half_a_second_and_is_capped_at_five() -> None:
    sleeps = Sleeps()
    gateway, _ = make([error(503)] * 6, retry=RetryPolicy(max_retries=5), sleep=sleeps)
    with pytest.raises(StripeApiError):
        gateway.send(CALL, "k1")
    assert len(sleeps.calls) == 5
    for n, slept in enumerate(sleeps.calls, start=1):
        ceiling = min(0.5 * 2 ** (n - 1), 5.0)
        assert max(0.5, 0.75 * ceiling) <= slept <= ceiling
    assert sleeps.calls[-1] > 3.0


def test_backoff_is_jittered() -> None:
    rng = random.Random(7)
    delays = {RetryPolicy().delay(3, rng) for _ in range(20)}
    assert len(delays) > 1


@pytest.mark.parametrize(
    ("status", "headers", "conn", "expected"),
    [
        (429, {}, False, True),
        (409, {}, False, True),
        (500, {}, False, True),
        (400, {}, False, False),
        (404, {}, False, False),
        (500, {"stripe-should-retry": "false"}, False, False),
        (400, {"STRIPE-SHOULD-RETRY": "true"}, False, True),
        (None, {}, True, True),
        (None, {}, False, False),
    ],
)
def test_should_retry_policy(status: int | None, headers: dict[str, str], conn: bool, expected: bool) -> None:
    assert should_retry(status, headers, connection_error=conn) is expected


def test_the_key_is_scrubbed_from_error_messages() -> None:
    gateway, _ = make([error(401, f"Invalid API Key provided: {KEY}")])
    with pytest.raises(StripeApiError) as info:
        gateway.send(CALL, "k1")
    assert KEY not in info.value.message
    assert KEY not in str(info.value)
    assert "[redacted]" in info.value.message


UPDATE = ApiCall("POST", "/v1/prices/price_1", {"nickname": "x"}, "price.a", CallAction.UPDATE)
REPLAYED = {"Idempotent-Replayed": "true"}


def test_a_stale_replay_of_an_update_is_sent_again_under_a_renewed_key() -> None:
    # Same fingerprint as an earlier apply (the change was undone by hand): Stripe would only replay.
    gateway, http = make([(200, {"id": "price_1"}, REPLAYED), (200, {"id": "price_1"}, {})])
    assert gateway.send(UPDATE, "k1") == {"id": "price_1"}
    first, second = (s.headers["Idempotency-Key"] for s in http.sent)
    assert first == "k1" and second.startswith("k1-renewed-")
    assert gateway.stats.renewed_keys == 1


def test_a_stale_replayed_error_of_an_update_is_sent_again_too() -> None:
    status, body, headers = error(500, "stored", Stripe_Should_Retry="false")
    gateway, http = make([(status, body, {**headers, **REPLAYED}), (200, {"id": "p"}, {})])
    assert gateway.send(UPDATE, "k1") == {"id": "p"}
    assert len(http.sent) == 2


def test_a_replayed_create_is_never_sent_again() -> None:
    # the replay is the point: the price exists, and this is its id
    gateway, http = make([(200, {"id": "price_1"}, REPLAYED)])
    assert gateway.send(CALL, "k1") == {"id": "price_1"}
    assert len(http.sent) == 1


def test_a_replay_after_our_own_retry_is_the_answer() -> None:
    # the first attempt may have run (a 500, a dropped connection): the replay is that attempt's result
    gateway, http = make([error(503), (200, {"id": "price_1"}, REPLAYED), (200, {}, {})])
    assert gateway.send(UPDATE, "k1") == {"id": "price_1"}
    assert len(http.sent) == 2
    assert gateway.stats.renewed_keys == 0


def test_a_replay_after_a_429_is_still_stale() -> None:
    gateway, http = make([error(429), (200, {"id": "p"}, REPLAYED), (200, {"id": "p"}, {})])
    gateway.send(UPDATE, "k1")
    assert len(http.sent) == 3
    assert http.sent[2].headers["Idempotency-Key"].startswith("k1-renewed-")


def test_list_all_follows_pages() -> None:
    pages: list[Reply] = [
        (200, {"object": "list", "data": [{"id": "p3"}, {"id": "p2"}], "has_more": True}, {}),
        (200, {"object": "list", "data": [{"id": "p1"}], "has_more": False}, {}),
    ]
    gateway, http = make(pages)
    assert [o["id"] for o in gateway.list_all("/v1/prices", {"active": "true"})] == ["p3", "p2", "p1"]
    assert http.sent[0].params["limit"] == ["100"]
    assert http.sent[1].params["starting_after"] == ["p2"]


def test_pages_asks_for_the_next_page_only_when_this_one_is_consumed() -> None:
    replies: list[Reply] = [
        (200, {"object": "list", "data": [{"id": "p3"}, {"id": "p2"}], "has_more": True}, {}),
        (200, {"object": "list", "data": [{"id": "p1"}], "has_more": False}, {}),
    ]
    gateway, http = make(replies)
    pages = gateway.pages("/v1/plans", {"expand": ["data.tiers"]})
    assert [o["id"] for o in next(pages)] == ["p3", "p2"] and len(http.sent) == 1
    assert [o["id"] for o in next(pages)] == ["p1"] and len(http.sent) == 2
    assert next(pages, None) is None and len(http.sent) == 2
    assert http.sent[1].params["starting_after"] == ["p2"]


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        pass  # slots are handed out against the clock; the caller's sleep does not move it


def test_pacer_spaces_slots_evenly() -> None:
    clock = FakeClock()
    waits: list[float] = []
    pacer = Pacer(25, clock=clock, sleep=waits.append)
    got = [pacer.acquire() for _ in range(5)]
    assert got == pytest.approx([0.0, 0.04, 0.08, 0.12, 0.16])
    assert waits == pytest.approx([0.04, 0.08, 0.12, 0.16])


def test_pacer_gives_no_burst_after_idling() -> None:
    clock = FakeClock()
    pacer = Pacer(10, clock=clock, sleep=lambda s: None)
    pacer.acquire()
    clock.now += 5.0  # idle: the next call goes at once, the one after waits a full interval again
    assert pacer.acquire() == 0.0
    assert pacer.acquire() == pytest.approx(0.1)


def test_pacer_is_shared_by_threads() -> None:
    clock = FakeClock()
    pacer = Pacer(20, clock=clock, sleep=lambda s: None)
    waits: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(25):
            w = pacer.acquire()
            with lock:
                waits.append(w)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # 100 slots, each 0.05 s after the previous one, whichever thread took it
    assert sorted(round(w, 6) for w in waits) == [round(i * 0.05, 6) for i in range(100)]


def test_pacer_really_paces() -> None:
    import time

    pacer = Pacer(200)
    start = time.monotonic()
    for _ in range(21):
        pacer.acquire()
    assert time.monotonic() - start >= 0.095


def test_default_rate_is_stripes_limit_for_the_mode() -> None:
    test_gw = Gateway(Connection(KEY, "http://127.0.0.1:1"))
    live_gw = Gateway(Connection("sk_live_abc", "http://127.0.0.1:1", live=True))
    assert (test_gw.rate_limit, live_gw.rate_limit) == (25, 100)
    assert Gateway(Connection(KEY), rate=7).rate_limit == 7
    # paced a little under the limit: arrival jitter must not tip a sliding one-second window over it
    assert test_gw.pacer.rate == pytest.approx(24.5)
    assert live_gw.pacer.rate == pytest.approx(98)


def test_a_non_positive_rate_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        Gateway(Connection(KEY), rate=0)


def test_connection_repr_hides_the_key() -> None:
    conn = Connection(KEY, "http://127.0.0.1:1")
    assert KEY not in repr(conn)
    assert KEY not in str(conn)


@pytest.mark.parametrize("key", ["sk_live_123", "rk_live_123"])
def test_a_live_key_needs_live(key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRIPE_API_KEY", key)
    with pytest.raises(UsageError) as info:
        connection_from_env("http://127.0.0.1:1")
    assert key not in info.value.message
    assert connection_from_env("http://127.0.0.1:1", live=True).livemode


def test_a_missing_key_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STRIPE_API_KEY", raising=False)
    with pytest.raises(UsageError):
        connection_from_env()


def test_a_replayed_500_stops_at_once_since_the_same_key_can_only_replay_it() -> None:
    # Stripe stores a 500 that happened after the write began; a re-run reads afresh
    stored = error(500, "stored")
    gateway, http = make([error(500), (stored[0], stored[1], REPLAYED), (200, {"id": "price_1"}, {})])
    with pytest.raises(StripeApiError):
        gateway.send(CALL, "k1")
    assert len(http.sent) == 2


def test_a_create_is_never_renewed_whatever_the_call_says_it_creates() -> None:
    # `creates` comes from a saved file; whether a POST creates is decided by its path
    unlabelled = ApiCall("POST", "/v1/prices", {"currency": "usd", "unit_amount": 1}, "price.a", CallAction.CREATE)
    gateway, http = make([(200, {"id": "price_1"}, REPLAYED), (200, {"id": "price_2"}, {})])
    assert gateway.send(unlabelled, "k1") == {"id": "price_1"}
    assert len(http.sent) == 1


@pytest.mark.parametrize("option", ["api_key", "stripe_account", "headers", "idempotency_key", "base"])
def test_request_options_are_never_taken_from_a_calls_params(option: str) -> None:
    params = {"nickname": "x", option: "sk_live_other"}
    smuggling = ApiCall("POST", "/v1/prices/price_1", params, "price.a", CallAction.UPDATE)
    gateway, http = make([(200, {"id": "price_1"}, {})])
    with pytest.raises(PricebookError, match=option):
        gateway.send(smuggling, "k1")
    assert http.sent == []


@pytest.mark.parametrize(
    ("base", "allowed"),
    [
        ("https://api.stripe.com", True),
        ("http://127.0.0.1:12111", True),
        ("http://localhost:12111", True),
        ("http://[::1]:12111", True),
        ("http://stripe-proxy.internal:8080", False),  # the key would cross a network in clear text
        ("http://10.0.0.5", False),
        ("ftp://127.0.0.1", False),
        ("127.0.0.1:12111", False),
    ],
)
def test_the_key_is_only_sent_over_https_or_to_this_machine(
    base: str, allowed: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STRIPE_API_KEY", KEY)
    if allowed:
        assert connection_from_env(base).api_base == base
    else:
        with pytest.raises(UsageError, match="refusing to send the API key") as info:
            connection_from_env(base)
        assert KEY not in info.value.message


# -- meter events: the v2 stream -----------------------------------------------------------------------------------

TOKEN = "mes_tok_SECRETsession123"
SESSION = {
    "id": "mes_1",
    "object": "v2.billing.meter_event_session",
    "authentication_token": TOKEN,
    "created": "2024-06-01T12:00:00.000Z",
    "expires_at": "2024-06-01T12:15:00.000Z",
    "livemode": False,
}
EVENTS = [
    {"event_name": "emails_sent", "identifier": f"pbu_{n}", "payload": {"stripe_customer_id": "cus_1", "value": "2"}}
    for n in range(3)
]


def _stream_gateway(script: Sequence[Reply], api_base: str | None) -> tuple[Gateway, FakeHttp]:
    http = FakeHttp(script=list(script))
    return Gateway(Connection(KEY, api_base), rate=1e9, http_client=http, sleep=Sleeps(), seed=1), http


def test_the_stream_goes_to_the_meter_events_address_as_json_with_the_session_token() -> None:
    gateway, http = _stream_gateway([(200, SESSION, {}), (200, {}, {})], "http://127.0.0.1:9")
    token = gateway.meter_event_session()["authentication_token"]
    gateway.stream_meter_events(token, [dict(e) for e in EVENTS])
    session, stream = http.sent
    assert session.url == "http://127.0.0.1:9/v2/billing/meter_event_session"
    assert session.headers["Authorization"] == f"Bearer {KEY}"
    assert stream.url == "http://127.0.0.1:9/v2/billing/meter_event_stream"
    assert stream.headers["Authorization"] == f"Bearer {TOKEN}"
    assert stream.headers["Content-Type"] == "application/json"
    assert json.loads(stream.body or "") == {"events": EVENTS}  # the body the SDK writes, event for event


def test_without_an_api_base_the_stream_goes_where_the_sdk_sends_it() -> None:
    gateway, http = _stream_gateway([(200, {}, {})], None)
    gateway.stream_meter_events(TOKEN, [dict(EVENTS[0])])
    assert http.sent[0].url == stripe.DEFAULT_METER_EVENTS_API_BASE + "/v2/billing/meter_event_stream"


def test_a_session_token_is_scrubbed_like_the_key() -> None:
    echo = error(400, f"bad request with token {TOKEN}")
    gateway, _ = make([(200, SESSION, {}), echo])
    gateway.meter_event_session()
    with pytest.raises(StripeApiError) as info:
        gateway.stream_meter_events(TOKEN, [dict(EVENTS[0])])
    assert TOKEN not in info.value.message
    assert "[redacted]" in info.value.message


def test_an_expired_session_is_an_error_with_stripes_code_and_is_not_retried() -> None:
    expired = {
        "error": {
            "type": "temporary_session_expired",
            "code": "billing_meter_event_session_expired",
            "message": "The temporary session token has expired.",
        }
    }
    gateway, http = make([(401, expired, {})])
    with pytest.raises(StripeApiError) as info:
        gateway.stream_meter_events(TOKEN, [dict(EVENTS[0])])
    assert info.value.code == "billing_meter_event_session_expired"
    assert len(http.sent) == 1


def test_a_stream_batch_is_retried_after_a_500_with_the_same_events() -> None:
    gateway, http = make([error(500), (200, {}, {})])
    gateway.stream_meter_events(TOKEN, [dict(e) for e in EVENTS])
    assert len(http.sent) == 2
    assert http.sent[0].body == http.sent[1].body


@pytest.mark.parametrize("path", ["/v1/prices/..", "/v1/prices/%2e%2e", "/v1/prices/%2E", "/v1/prices/.%2e/x"])
def test_a_path_with_a_dot_segment_is_never_sent(path: str) -> None:
    # an HTTP client resolves `..` (and decodes `%2e` first): the request would reach another endpoint
    gateway, http = make([])
    call = ApiCall("POST", path, {"active": False}, "price.a", CallAction.ARCHIVE)
    with pytest.raises(PricebookError, match=r"a path segment is `\.` or `\.\.` once decoded"):
        gateway.send(call, "k1")
    assert http.sent == []


def _refused() -> stripe.APIConnectionError:
    """What the SDK raises for a refused connection: its own text, the network library's errors inside."""
    error = stripe.APIConnectionError(  # type: ignore[no-untyped-call]
        "Unexpected error communicating with Stripe.  If this problem persists, let us know at support@stripe.com.",
        should_retry=True,
    )
    error.__cause__ = OSError("HTTPConnectionPool: Max retries exceeded")
    error.__cause__.__cause__ = ConnectionRefusedError(111, "Connection refused")
    return error


@pytest.mark.parametrize(
    ("base", "shown", "hint"),
    [
        (None, "https://api.stripe.com", "are unset, so pricebook talks to Stripe"),
        ("https://user:pw@proxy.example:8443/", "https://proxy.example:8443", "check --api-base, STRIPE_API_BASE"),
        ("http://[::1]:12111", "http://[::1]:12111", "is `pricebook emulator` running there"),
    ],
)
def test_an_unreachable_base_is_named_without_credentials_and_with_what_to_check(
    base: str | None, shown: str, hint: str
) -> None:
    http = FakeHttp(script=[_refused()] * 4)
    gateway = Gateway(Connection(KEY, base), rate=1e9, http_client=http, sleep=Sleeps(), seed=1)
    with pytest.raises(StripeApiError) as info:
        gateway.request("GET", "/v1/prices", {})
    assert (info.value.rule, info.value.message) == (
        "connection-failed",
        f"cannot reach {shown}: connection refused (GET /v1/prices)",
    )
    assert hint in (info.value.hint or "")
    assert "support@stripe.com" not in info.value.message and len(http.sent) == 4  # retried first


def test_the_meter_event_stream_names_its_own_address() -> None:
    gateway = Gateway(Connection(KEY), rate=1e9, http_client=FakeHttp(script=[_refused()] * 4), sleep=Sleeps())
    with pytest.raises(StripeApiError) as info:
        gateway.stream_meter_events("mes_tok_1234567890", [{"event_name": "e"}])
    assert info.value.message.startswith("cannot reach https://meter-events.stripe.com: connection refused")


def test_the_reason_a_connection_failed_comes_from_the_network_library() -> None:
    from compiler.stripe.unreachable import network_reason

    assert network_reason(socket.gaierror(-2, "Name or service not known")) == (
        "the host name does not resolve (Name or service not known)"
    )
    assert network_reason(ssl.SSLError(1, "[SSL] wrong version number")) == "TLS failed ([SSL] wrong version number)"
    assert network_reason(ValueError("nothing of the network")) is None
