"""The emulator's core, free of HTTP: one request in, one Stripe-shaped response out.

Order of a request, as Stripe runs it: authentication (the meter event stream takes a session token, everything
else the API key), rate limit (meter events have a limiter of their own when the knob sets one), route, parameter
check against the SDK's generated params (form bodies on v1, JSON on v2), idempotency replay, then the endpoint
(where faults may strike before or after the commit).
Everything that touches the account runs under one lock, so each request sees and leaves a consistent account.
"""

from __future__ import annotations

import base64
import collections
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from compiler.emulator import (
    account,
    customers,
    meter_events,
    meters,
    prices,
    product_endpoints,
    subscriptions,
    testclocks,
)
from compiler.emulator.common import Ctx
from compiler.emulator.errors import ApiError
from compiler.emulator.forms import FormError, decode
from compiler.emulator.idempotency import IdempotencyCache, Stored, fingerprint
from compiler.emulator.knobs import Fault, FaultInjector, Knobs, RateLimiter
from compiler.emulator.statefile import StateFile
from compiler.emulator.store import Record, Store
from compiler.emulator.tables import Collection
from compiler.stripe import facts, sdkparams
from compiler.stripe.facts import API_VERSION

TEST_KEY_PREFIXES = ("sk_test_", "rk_test_")
RESTRICTED_PREFIX = "rk_"
CONTROL_PREFIX = "/_emulator/"
LOG_LIMIT = 200_000  # a long benchmark must not grow the log without bound
#: the endpoints Stripe's live meter-event limit covers (`Knobs.meter_event_rate_limit`)
METER_EVENT_PATHS = frozenset({facts.METER_EVENTS_PATH, facts.METER_EVENT_STREAM_PATH})

Handler = Callable[[Ctx], Record]
# Fields Stripe lets you unset with "" although the SDK's params type them as plain strings. Stripe staff:
# "unset the default price by passing `default_price: ''`" (stripe/stripe-python#658).
_UNSETTABLE_BEYOND_SDK: dict[str, tuple[str, ...]] = {"ProductUpdateParams": ("default_price",)}
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    writes: bool
    json: bool  # a v2 endpoint: JSON in the body


def _route(method: str, template: str, handler: Handler) -> Route:
    regex = "^" + re.escape(template).replace(re.escape("{id}"), "(?P<id>[^/]+)") + "$"
    return Route(method, re.compile(regex), handler, writes=method != "GET", json=template.startswith("/v2/"))


ROUTES: tuple[Route, ...] = (
    _route("GET", facts.ACCOUNT_PATH, account.retrieve_account),
    _route("POST", "/v1/products", product_endpoints.create_product),
    _route("GET", "/v1/products", product_endpoints.list_products),
    _route("GET", "/v1/products/{id}", product_endpoints.retrieve_product),
    _route("POST", "/v1/products/{id}", product_endpoints.update_product),
    _route("DELETE", "/v1/products/{id}", product_endpoints.delete_product),
    _route("POST", "/v1/prices", prices.create_price),
    _route("GET", "/v1/prices", prices.list_prices),
    _route("GET", "/v1/prices/{id}", prices.retrieve_price),
    _route("POST", "/v1/prices/{id}", prices.update_price),
    _route("POST", "/v1/plans", prices.create_plan),
    _route("GET", "/v1/plans", prices.list_plans),
    _route("GET", "/v1/plans/{id}", prices.retrieve_plan),
    _route("POST", "/v1/plans/{id}", prices.update_plan),
    _route("DELETE", "/v1/plans/{id}", prices.delete_plan),
    _route("POST", "/v1/billing/meters", meters.create_meter),
    _route("GET", "/v1/billing/meters", meters.list_meters),
    _route("GET", "/v1/billing/meters/{id}", meters.retrieve_meter),
    _route("POST", "/v1/billing/meters/{id}", meters.update_meter),
    _route("POST", "/v1/billing/meters/{id}/deactivate", meters.deactivate_meter),
    _route("POST", "/v1/billing/meters/{id}/reactivate", meters.reactivate_meter),
    _route("GET", "/v1/billing/meters/{id}/event_summaries", meter_events.list_event_summaries),
    _route("POST", facts.METER_EVENTS_PATH, meter_events.create_meter_event),
    _route("POST", facts.METER_EVENT_ADJUSTMENTS_PATH, meter_events.create_adjustment),
    _route("POST", facts.METER_EVENT_SESSION_PATH, meter_events.create_session),
    _route("POST", facts.METER_EVENT_STREAM_PATH, meter_events.stream_events),
    _route("POST", "/v1/customers", customers.create_customer),
    _route("GET", "/v1/customers", customers.list_customers),
    _route("GET", "/v1/customers/{id}", customers.retrieve_customer),
    _route("POST", "/v1/subscriptions", subscriptions.create_subscription),
    _route("GET", "/v1/subscriptions", subscriptions.list_subscriptions),
    _route("GET", "/v1/subscriptions/{id}", subscriptions.retrieve_subscription),
    _route("DELETE", "/v1/subscriptions/{id}", subscriptions.cancel_subscription),
    _route("POST", "/v1/test_helpers/test_clocks", testclocks.create_test_clock),
    _route("GET", "/v1/test_helpers/test_clocks", testclocks.list_test_clocks),
    _route("GET", "/v1/test_helpers/test_clocks/{id}", testclocks.retrieve_test_clock),
    _route("DELETE", "/v1/test_helpers/test_clocks/{id}", testclocks.delete_test_clock),
    _route("POST", "/v1/test_helpers/test_clocks/{id}/advance", testclocks.advance_test_clock),
)


@dataclass(frozen=True)
class Response:
    status: int
    body: Any
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LogEntry:
    method: str
    path: str
    query: str
    status: int
    idempotency_key: str | None
    replayed: bool
    fault: str | None
    time: float


def _mask(key: str) -> str:
    return key[:8] + "*" * max(len(key) - 12, 0) + key[-4:] if len(key) > 12 else "*" * len(key)


class InjectedFault(ApiError):
    """A 500 the `fail_rate` knob asked for; `fault` says whether it struck before or after the commit."""

    def __init__(self, fault: Fault) -> None:
        super().__init__(
            500,
            "An unknown error occurred while processing your request. (Injected by the pricebook emulator.)",
            type="api_error",
        )
        self.fault = fault


class Emulator:
    """The account, its idempotency keys, the knobs and the request log."""

    def __init__(self, knobs: Knobs | None = None, *, state_path: Path | None = None) -> None:
        self.knobs = knobs or Knobs()
        self.state_path = state_path
        self.store = Store(seed=self.knobs.seed)
        self.idempotency = IdempotencyCache()
        self.rate = RateLimiter(self.knobs.rate_limit)
        self.meter_rate = RateLimiter(self.knobs.meter_event_rate_limit)
        self.store.usage.processing_delay = self.knobs.meter_event_delay_ms / 1000
        self.faults = FaultInjector(self.knobs.fail_rate, self.knobs.seed)
        self.log: collections.deque[LogEntry] = collections.deque(maxlen=LOG_LIMIT)
        self._lock = threading.Lock()
        self._request_counter = 0
        #: the account in SQLite (`--state`), written after each request; StateFileError when the file can't be
        self.state = StateFile(state_path) if state_path is not None else None
        for collection in self._collections().values():
            collection.changes = self.store.changes
        if self.state is not None:
            self.store.restored(self.state.load(self._collections()))
            self.state.commit({}, self.store.scalars())  # a new file: the account's id is kept from the start

    # -- control ----------------------------------------------------------------------------------------------

    def reset(self) -> None:
        with self._lock:
            self.store.reset()
            self.idempotency.reset()
            self.rate.reset()
            self.meter_rate.reset()
            self.faults.reset()
            self.log.clear()
            self._request_counter = 0
            if self.state is not None:
                self.state.replace_all(self._collections(), self.store.scalars())

    def requests(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(e) for e in self.log]

    def close(self) -> None:
        """Let go of the state file: the emulator is stopping (a request still under way is no longer kept)."""
        with self._lock:
            if self.state is not None:
                self.state.close()
                self.state = None

    def _collections(self) -> dict[str, Collection]:
        """What `--state` keeps: the store's records and the idempotency keys."""
        return {**self.store.collections(), self.idempotency.entries.name: self.idempotency.entries}

    def _commit(self) -> None:
        """After every request (under the lock, before its answer): what its handler changed, to the state file.
        Even a request that failed has its changes kept: the file holds what the account holds."""
        if self.state is not None:
            self.state.commit(self.store.changes.take(), self.store.scalars())

    def _control(self, method: str, path: str, query: str) -> Response:
        name = path[len(CONTROL_PREFIX) :].strip("/")
        if name == "clock":
            return self._clock(method, query)
        if method == "GET" and name == "meter_events":
            with self._lock:
                return Response(200, {"object": "list", **self.store.usage.to_json()})
        if method == "GET" and name == "requests":
            return Response(200, {"object": "list", "data": self.requests()})
        if method == "POST" and name == "reset":
            self.reset()
            return Response(200, {"reset": True})
        if method == "GET" and name == "state":
            with self._lock:
                return Response(200, self.store.to_json())
        if method == "GET" and name == "health":
            return Response(200, {"ok": True})
        return Response(404, ApiError(404, f"Unknown emulator endpoint: {method} {path}").body())

    def _clock(self, method: str, query: str) -> Response:
        """`GET /_emulator/clock`; `POST /_emulator/clock?now=T` (Unix seconds) or `?advance=S` moves the account's
        clock (it keeps running from there): for Stripe's 24-hour, 35-day and 15-minute windows."""
        if method == "POST":
            try:
                params = {k: float(v) for k, v in decode(query).items() if k in ("now", "advance")}
            except (FormError, ValueError, TypeError):
                params = {}
            if len(params) != 1:
                return Response(400, ApiError(400, "POST /_emulator/clock takes one of now=T or advance=S").body())
            with self._lock:
                if "now" in params:
                    self.store.clock_offset = params["now"] - time.time()
                else:
                    self.store.clock_offset += params["advance"]
                self._commit()
        with self._lock:
            return Response(200, {"now": self.store.now(), "offset": self.store.clock_offset})

    # -- API ----------------------------------------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Response:
        """One HTTP request. `headers` keys are lowercase."""
        method = method.upper()
        path, _, query = target.partition("?")
        if path.startswith(CONTROL_PREFIX):
            return self._control(method, path, query)
        if self.knobs.latency_ms:
            time.sleep(self.knobs.latency_ms / 1000)  # outside the lock: latency must not serialise clients
        key = headers.get("idempotency-key") if method == "POST" else None
        with self._lock:
            self._request_counter += 1
            base = {"Request-Id": f"req_emu{self._request_counter:012d}", "Stripe-Version": API_VERSION}
            if key:
                base["Idempotency-Key"] = key
            replayed, fault = False, None
            try:
                status, payload, extra, replayed, fault = self._api(method, path, query, headers, body, key)
            except InjectedFault as err:
                status, payload, extra, fault = err.status, err.body(), err.headers, err.fault.value
            except ApiError as err:
                status, payload, extra = err.status, err.body(), err.headers
            except Exception as err:  # an emulator bug must still answer like Stripe, not drop the connection
                _log.exception("emulator error on %s %s", method, path)
                bug = ApiError(500, f"The emulator failed on this request: {type(err).__name__}.", type="api_error")
                status, payload, extra = bug.status, bug.body(), {}
            self.log.append(LogEntry(method, path, query, status, key, replayed, fault, time.time()))
            self._commit()
            return Response(status, payload, {**base, **extra})

    def _api(
        self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes, key: str | None
    ) -> tuple[int, Any, Mapping[str, str], bool, str | None]:
        api_key = ""
        if path == facts.METER_EVENT_STREAM_PATH:
            meter_events.authenticate_stream(self.store, headers.get("authorization", ""))
        else:
            api_key = self._authenticate(headers.get("authorization", ""))
        limiter = self.meter_rate if path in METER_EVENT_PATHS and self.meter_rate.per_second else self.rate
        if not limiter.allow():
            # Stripe answers 429 and the SDK retries only what the header allows; a rate-limited request did
            # nothing, so a retry is safe: say so.
            raise ApiError(
                429,
                "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.",
                code="rate_limit",
                headers={"Stripe-Should-Retry": "true"},
            )
        route, object_id = self._match(method, path)
        if route.json:
            raw = self._decode_json(body)
        else:
            raw = self._decode(body.decode("utf-8", "replace") if method == "POST" else query)
        params = self._check_params(method, path, raw, form_encoded=not route.json)
        fp = fingerprint(method, path, raw)
        if key:
            stored = self.idempotency.lookup(key, fp)
            if stored is not None:
                return stored.status, stored.body, {**dict(stored.headers), "Idempotent-Replayed": "true"}, True, None
        fault = self.faults.draw() if route.writes else None
        if fault is Fault.BEFORE_COMMIT:
            # Nothing ran and nothing is stored: a retry with the same key executes afresh.
            raise InjectedFault(fault)
        # a write's records are noted as its handler reaches them, so that `--state` saves only those
        self.store.changes.recording = route.writes and self.state is not None
        try:
            restricted = api_key.startswith(RESTRICTED_PREFIX)
            result = route.handler(Ctx(self.store, params, object_id, key=_mask(api_key), restricted=restricted))
            self._remember(key, fp, result, fault)
        finally:
            self.store.changes.recording = False
        if fault is Fault.AFTER_COMMIT:
            # No Stripe-Should-Retry: Stripe can't tell the client its write committed. A retry with the same key
            # gets the stored 500 again (Stripe stores results "including 500 errors"); the way out is to read the
            # account again.
            return 500, InjectedFault(fault).body(), {}, False, fault.value
        return 200, result, {}, False, None

    def _remember(self, key: str | None, fp: str, result: Record, fault: Fault | None) -> None:
        if key:
            if fault is Fault.AFTER_COMMIT:
                # Stripe stores the result once execution began, 500s included: the same key replays the 500.
                self.idempotency.store(key, Stored(fp, 500, InjectedFault(fault).body(), ()))
            else:
                self.idempotency.store(key, Stored(fp, 200, result))

    def _authenticate(self, authorization: str) -> str:
        """The API key of a request; 401 for none, or one this test-mode account does not know."""
        scheme, _, api_key = authorization.partition(" ")
        if scheme.lower() == "basic":
            # Stripe's docs use `curl -u sk_test_...:`: the key is the Basic auth user name.
            try:
                api_key = base64.b64decode(api_key.strip()).decode().partition(":")[0]
            except (ValueError, UnicodeDecodeError):
                api_key = ""
            scheme = "bearer"
        if scheme.lower() != "bearer" or not api_key.strip():
            raise ApiError(
                401,
                "You did not provide an API key. You need to provide your API key in the Authorization header, "
                "using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
                "https://stripe.com/docs/api#authentication for details, or we can help at "
                "https://support.stripe.com/.",
            )
        api_key = api_key.strip()
        if not api_key.startswith(TEST_KEY_PREFIXES):
            # The emulator is a test-mode account: every other key is unknown to it. Never echo the key.
            raise ApiError(401, f"Invalid API Key provided: {_mask(api_key)}")
        return api_key

    def _match(self, method: str, path: str) -> tuple[Route, str | None]:
        for route in ROUTES:
            if route.method != method:
                continue
            m = route.pattern.match(path)
            if m:
                return route, m.groupdict().get("id")
        raise ApiError(404, f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs.")

    @staticmethod
    def _decode(text: str) -> dict[str, Any]:
        try:
            return decode(text)
        except FormError as err:
            raise ApiError(400, str(err), param=err.param) from err

    @staticmethod
    def _decode_json(body: bytes) -> dict[str, Any]:
        try:
            data = json.loads(body or b"{}")
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "The request body is not valid JSON.") from None
        if not isinstance(data, dict):
            raise ApiError(400, "The request body must be a JSON object.")
        return data

    @staticmethod
    def _check_params(method: str, path: str, raw: dict[str, Any], *, form_encoded: bool = True) -> dict[str, Any]:
        cls = sdkparams.params_class(method, path)
        if cls is None:
            return raw
        unset = {k: "" for k in _UNSETTABLE_BEYOND_SDK.get(cls.__name__, ()) if raw.get(k) == ""}
        kept = {k: v for k, v in raw.items() if k not in unset}
        params, problems = sdkparams.check(cls, kept, form_encoded=form_encoded)
        params.update(unset)
        if problems:
            first = problems[0]  # Stripe reports one problem at a time
            code = None if first.code == sdkparams.PARAMETER_INVALID else first.code
            raise ApiError(400, first.message, code=code, param=first.param)
        return params
