"""The only caller of the stripe SDK.

Everything that talks to Stripe (or the emulator) goes through a `Gateway`: reads as whole paginated lists,
writes as `ApiCall`s with an idempotency key. The SDK's exceptions are converted to `StripeApiError` here, once,
and the API key never leaves this module (it is not printed, logged or stored; error texts are scrubbed of it).

Meter events have two endpoints of their own here: `stream_meter_events` (the v2 stream, which the SDK sends to
its separate `meter_events` base address, authenticated with a session token that is kept as secret as the key)
and `meter_event_session`.

Two things sit between pricebook and the SDK, shared by every thread that uses one gateway:
- a `Pacer` that spaces requests evenly so the account stays under Stripe's rate limit (25/s in test mode,
  100/s live) instead of finding the limit by hitting it;
- a retry loop of our own (the SDK's is switched off, so 429s can be counted and paced): it obeys
  `Stripe-Should-Retry` first, else retries 409, 429, 5xx and connection errors with capped exponential
  backoff, and never any other 4xx (docs.stripe.com/error-low-level).

Every request has a deadline (`bounds.HTTP_DEADLINE`, retries included) and every answer a size bound, kept by
the HTTP client (`stripe.http`); every list is followed through a `paging.CursorChain`, which stops a list that
repeats a page or never ends.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import stripe

from compiler import bounds
from compiler.errors import PricebookError, StripeApiError, UnexpectedAnswer, UsageError, keep_secret, redact
from compiler.stripe.calls import ApiCall
from compiler.stripe.facts import (
    ACCOUNT_PATH,
    API_VERSION,
    LIST_LIMIT,
    METER_EVENT_SESSION_PATH,
    METER_EVENT_STREAM_PATH,
    RATE_LIMIT_LIVE,
    RATE_LIMIT_TEST,
)
from compiler.stripe.fields import SPECS
from compiler.stripe.http import BoundedHTTPClient, BoundExceeded, BrokenAnswer, HttpBounds
from compiler.stripe.paging import CursorChain
from compiler.stripe.sdkparams import REQUEST_OPTION_KEYS
from compiler.stripe.state import ListPage
from compiler.stripe.unreachable import connection_hint, network_reason, shown_base

PAGE_SIZE = LIST_LIMIT.value
LIVE_PREFIXES = ("sk_live_", "rk_live_")
#: Stripe's documented limits in operations per second
TEST_RATE = float(RATE_LIMIT_TEST.value)
LIVE_RATE = float(RATE_LIMIT_LIVE.value)
#: requests leave evenly spaced but arrive with jitter, and a sliding one-second window counts arrivals: pacing
#: at 98 % of the limit measured 98 % throughput with no 429s on the emulator, against 97 % and ~4 % 429s at 100 %
PACE_MARGIN = 0.98


@dataclass(frozen=True)
class Connection:
    """Where to talk to and with what key. `repr` never shows the key."""

    api_key: str
    api_base: str | None = None
    live: bool = False

    def __repr__(self) -> str:
        return f"Connection(api_base={self.api_base!r}, livemode={self.livemode})"

    @property
    def livemode(self) -> bool:
        return self.api_key.startswith(LIVE_PREFIXES)


#: where the key comes from when no environment says otherwise
API_KEY_VARIABLE = "STRIPE_API_KEY"


@dataclass(frozen=True)
class DeclaredMode:
    """What an environment of pricebook.toml says of its key: which mode it must be, and where it says so."""

    environment: str
    live: bool
    where: str  # `pricebook.toml:7`


def connection_from_env(
    api_base: str | None = None,
    *,
    live: bool = False,
    key_variable: str = API_KEY_VARIABLE,
    declared: DeclaredMode | None = None,
) -> Connection:
    """The key from `key_variable` (STRIPE_API_KEY), the base from --api-base or STRIPE_API_BASE. Without an
    environment, a live key needs --live (`live`); an environment (`declared`) says which mode its key must be,
    and a key of the other mode is refused either way, before anything is sent."""
    key = os.environ.get(key_variable, "").strip()
    if not key:
        if declared is not None:
            raise UsageError(
                f"{key_variable} is not set: environment {declared.environment!r} ({declared.where}) reads its "
                "key from it",
                hint=f"export {key_variable}=sk_{'live' if declared.live else 'test'}_... (in CI, from the "
                "secrets of this environment)",
            )
        raise UsageError(
            f"{key_variable} is not set",
            hint=f"export {key_variable}=sk_test_... (or run `pricebook emulator` and use any sk_test_ key with "
            "--api-base http://127.0.0.1:12111)",
        )
    base = api_base or os.environ.get("STRIPE_API_BASE") or None
    if base is not None:
        check_api_base(base)
    conn = Connection(key, base, live or (declared is not None and declared.live))
    if declared is not None and conn.livemode != declared.live:
        held, wanted = ("live", "test") if conn.livemode else ("test", "live")
        raise UsageError(
            f"refusing a {held}-mode key: environment {declared.environment!r} is declared {wanted}-mode "
            f"({declared.where}), and {key_variable} holds a {held}-mode key",
            hint=f"put the {wanted}-mode key ({'sk_live_/rk_live_' if wanted == 'live' else 'sk_test_/rk_test_'}) "
            f"in {key_variable}, or choose the environment that key belongs to with --env",
        )
    if conn.livemode and not conn.live:
        raise UsageError(
            "refusing to use a live-mode key without --live",
            hint="this would read or change your live Stripe account; pass --live if that is what you mean "
            "(or declare the environment live in pricebook.toml)",
        )
    return conn


def check_api_base(base: str) -> None:
    """An API base must be https, or plain http on this machine (the emulator): the key goes in every request."""
    parts = urlsplit(base)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname and _is_loopback(parts.hostname):
        return
    raise UsageError(
        f"refusing to send the API key to {base!r}",
        hint="use an https:// URL, or http:// only on this machine (127.0.0.1, localhost, [::1]), e.g. "
        "--api-base http://127.0.0.1:12111 for `pricebook emulator`",
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


#: keys the stripe SDK lifts out of a request's params as options (another key, another account, headers):
#: never from a ChangeSet, which must only ever carry body parameters
NOT_BODY_KEYS = REQUEST_OPTION_KEYS | {"base", "usage"}
#: POSTs to these paths create an object (and must never be sent twice under different keys)
COLLECTION_PATHS = frozenset(spec.path for spec in SPECS.values())


def _json_kind(value: Any) -> str:
    """How to name a JSON value that should have been an object."""
    if value is None:
        return "null"
    if isinstance(value, list):
        return "a JSON array"
    if isinstance(value, str):
        return "a JSON string"
    return f"the JSON value {json.dumps(value)}"


def _excerpt(body: Any, width: int = 80) -> str:
    """The start of a body pricebook could not read, for the message (scrubbed, bytes decoded as far as they go)."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    text = " ".join(str(body or "").split())
    shown = text[:width] + ("..." if len(text) > width else "")
    return redact(repr(shown)) if text else "an empty body"


def _without_query(path: str) -> str:
    """A request's path as an error shows it: never a query string, where a secret could ride."""
    return path.split("?", 1)[0]


def convert_error(exc: stripe.StripeError) -> StripeApiError:
    """A stripe SDK error as pricebook's own (message and code as Stripe sent them; a bound's rule and hint)."""
    if isinstance(exc, BoundExceeded):
        return StripeApiError(str(exc.user_message), rule=exc.rule, hint=exc.hint)
    err = getattr(exc, "error", None)
    code = getattr(err, "code", None) or getattr(exc, "code", None)
    param = getattr(err, "param", None)
    message = getattr(err, "message", None) or exc.user_message or str(exc) or type(exc).__name__
    # any server may answer: a code or param that is not a string is shown as the text it is
    return StripeApiError(
        str(message),
        status=exc.http_status,
        code=None if code is None else str(code),
        param=None if param is None else str(param),
    )


# -- pacing -------------------------------------------------------------------------------------------------------


class Pacer:
    """Hands out evenly spaced send slots, `1/rate` apart, to any number of threads.

    No burst allowance: Stripe (and the emulator) count requests in a sliding one-second window, and a burst
    after an idle moment is exactly what such a window punishes. `rate=None` means unpaced; a given rate is
    positive (the `Gateway` checks the rate it is given, before taking its margin off).
    """

    def __init__(
        self,
        rate: float | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = rate
        self._interval = 1.0 / rate if rate else 0.0
        self._clock = clock
        self._sleep = sleep
        self._next = float("-inf")
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Wait for this caller's slot; returns the seconds waited."""
        if not self._interval:
            return 0.0
        with self._lock:
            now = self._clock()
            slot = max(now, self._next)
            self._next = slot + self._interval
        wait = slot - now
        if wait > 0:
            self._sleep(wait)
        return max(wait, 0.0)


# -- retries ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to wait. 429s get a larger budget: a rate-limited request never ran."""

    max_retries: int = 3
    max_rate_limited_retries: int = 10
    initial_delay: float = 0.5
    max_delay: float = 5.0

    def delay(self, retry: int, rng: random.Random) -> float:
        """Seconds before retry number `retry` (1-based): doubling from 0.5 s, capped at 5 s, with jitter
        (75-100 %) so parallel workers that failed together do not return together; never below 0.5 s."""
        base: float = min(self.initial_delay * 2.0 ** (retry - 1), self.max_delay)
        return max(self.initial_delay, base * rng.uniform(0.75, 1.0))


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    if not headers:
        return None
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return str(value)
    return None


def _replayed(headers: Mapping[str, str] | None) -> bool:
    return _header(headers, "Idempotent-Replayed") == "true"


def _renewed(key: str) -> str:
    """The key for sending a write again on purpose: the original, marked with when (unique per send)."""
    return f"{key[:200]}-renewed-{time.time_ns()}"


def should_retry(status: int | None, headers: Mapping[str, str] | None, *, connection_error: bool = False) -> bool:
    """As Stripe advises: `Stripe-Should-Retry` first; else 409, 429, 5xx and connection errors; never other
    4xx (those are the validation errors this compiler exists to prevent, and would fail again)."""
    advice = _header(headers, "Stripe-Should-Retry")
    if advice == "true":
        return True
    if advice == "false":
        return False
    if connection_error:
        return True
    if status is None:
        return False
    return status in (409, 429) or status >= 500


@dataclass(frozen=True)
class GatewayStats:
    """What the gateway did, for the apply summary and the bench."""

    requests: int = 0  # HTTP attempts, retries included
    rate_limited: int = 0  # 429s seen
    retries: int = 0
    paced_seconds: float = 0.0  # total time threads waited for a send slot
    renewed_keys: int = 0  # stale replays from an earlier apply, sent again under a renewed key


class _Counters:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stats = GatewayStats()

    def add(self, **deltas: float) -> None:
        with self._lock:
            current = self._stats
            values = {k: getattr(current, k) + v for k, v in deltas.items()}
            self._stats = GatewayStats(**{**current.__dict__, **values})

    def snapshot(self) -> GatewayStats:
        with self._lock:
            return self._stats


class _EventBatch(list[dict[str, Any]]):
    """The events of one stream request. The SDK form-encodes every request's params for its debug log, even a
    v2 request whose body it then writes as JSON; for 100 events that costs twice the rest of the request. The
    SDK logs an object that has an `id` by that id, so this list is logged as one word while `json.dumps` still
    writes it as the list it is (the body sent is unchanged: tests/unit/test_gateway.py checks it)."""

    id = "events"


class Gateway:
    """One account connection, safe to share across threads (the SDK keeps one HTTP session per thread)."""

    def __init__(
        self,
        connection: Connection,
        *,
        rate: float | None = None,
        retry: RetryPolicy | None = None,
        http_client: stripe.HTTPClient | None = None,
        http_bounds: HttpBounds | None = None,
        sleep: Callable[[float], None] = time.sleep,
        seed: int | None = None,
    ) -> None:
        self._connection = connection
        keep_secret(connection.api_key)
        if http_client is None:
            http_client = BoundedHTTPClient(http_bounds)
        #: the bounded client, when the gateway sends through one (a test may give the SDK another)
        self._http = http_client if isinstance(http_client, BoundedHTTPClient) else None
        self.request_deadline = self._http.limits.deadline if self._http else HttpBounds.from_env().deadline
        # another API base (the emulator) answers the meter event stream on the same address
        base = connection.api_base
        addresses: dict[str, str] = {"api": base, "meter_events": base} if base else {}
        self._client = stripe.StripeClient(
            connection.api_key,
            stripe_version=API_VERSION,
            base_addresses=addresses,  # type: ignore[arg-type]
            max_network_retries=0,  # our own loop below: it counts 429s and shares the pacer
            http_client=http_client,
        )
        default_rate = LIVE_RATE if connection.livemode else TEST_RATE
        if rate is not None and rate <= 0:
            raise UsageError(f"the request rate must be positive, got {rate}")
        #: the limit to stay under (Stripe's, or --rate); the pace keeps a small margin below it
        self.rate_limit = default_rate if rate is None else rate
        self.pacer = Pacer(self.rate_limit * PACE_MARGIN, sleep=sleep)
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._rng = random.Random(seed)
        self._rng_lock = threading.Lock()
        self._counters = _Counters()

    @property
    def livemode(self) -> bool:
        return self._connection.livemode

    @property
    def stats(self) -> GatewayStats:
        return self._counters.snapshot()

    @property
    def pace(self) -> float | None:
        """The requests per second this gateway keeps to (None: unpaced)."""
        return self.pacer.rate

    def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
        renew_stale_key: bool = False,
    ) -> tuple[dict[str, Any], Mapping[str, str]]:
        """One logical request (retried where safe); returns the JSON body and the response headers.

        A write re-sent with the same idempotency key either runs (it never began) or replays Stripe's stored
        answer, so a retry can never create a second object.

        `renew_stale_key` (for writes that create nothing: updates, archives, default price moves): when Stripe
        replays a stored answer although no attempt of *this* request can have run, the answer belongs to an
        earlier apply against an identical account state (same fingerprint, same key), for instance a change
        since undone by hand. Replaying it would change nothing, so the write is sent once more under a renewed
        key. Such writes set fields to values, so running them again is harmless; creates are never renewed.
        """
        body, headers, _ = self._request(method, path, params, idempotency_key, renew_stale_key)
        return body, headers

    def _request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any],
        idempotency_key: str | None,
        renew_stale_key: bool,
    ) -> tuple[dict[str, Any], Mapping[str, str], float]:
        """`request`, also returning how long its answered attempt took (`_send`)."""
        if any(unquote(segment) in (".", "..") for segment in path.split("/")):
            # an HTTP client resolves dot segments (`%2e%2e` decoded first): the request would reach another path
            raise PricebookError(
                f"refusing to send {method} {path}: a path segment is `.` or `..` once decoded",
                hint="pricebook sends an object's id as one path segment; a saved plan with this path was edited",
            )
        smuggled = sorted(NOT_BODY_KEYS & set(params))
        if smuggled:
            raise PricebookError(
                f"refusing to send {method} {path}: its parameters carry request options ({', '.join(smuggled)})",
                hint="a ChangeSet holds body parameters only; make a new one with `pricebook plan --out FILE`",
            )
        options: dict[str, Any] = {}
        if idempotency_key is not None and method.upper() == "POST":
            options["idempotency_key"] = idempotency_key
        return self._send(method, path, dict(params), options, renew_stale_key=renew_stale_key)

    def _send(
        self, method: str, path: str, params: dict[str, Any], options: dict[str, Any], *, renew_stale_key: bool
    ) -> tuple[dict[str, Any], Mapping[str, str], float]:
        """The retry loop of `request`: `params` go to the SDK as they are, `options` as request options. Also
        returns how long the answered attempt took from send to decoded body."""
        failures = 0
        rate_limited = 0
        stream = params.get("base") == "meter_events"  # the SDK sends it to the meter events address
        may_have_run = False  # did an earlier attempt of this request possibly execute?
        deadline: float | None = None  # set by the first send
        earlier: stripe.StripeError | None = None  # the failure of the attempt before

        def renewed(headers: Mapping[str, str] | None) -> bool:
            """Whether Stripe replayed a stale answer that a renewed key now gets past (once, see `request`)."""
            nonlocal renew_stale_key
            if renew_stale_key and not may_have_run and _replayed(headers) and "idempotency_key" in options:
                options["idempotency_key"] = _renewed(options["idempotency_key"])
                renew_stale_key = False
                self._counters.add(renewed_keys=1)
                return True
            return False

        while True:
            waited = self.pacer.acquire()
            self._counters.add(requests=1, paced_seconds=waited)
            if deadline is None:
                deadline = time.monotonic() + self.request_deadline
            sent = time.perf_counter()
            try:
                with self._http.deadline(deadline) if self._http else contextlib.nullcontext():
                    response = self._client.raw_request(method.lower(), path, **params, **options)
            except stripe.APIConnectionError as exc:
                retry = exc.should_retry and should_retry(None, exc.headers, connection_error=True)
                failures += 1
                may_have_run = True
                if not retry or failures > self.retry.max_retries:
                    raise self._failed(exc, method, path, earlier, meter_events=stream) from None
                self._back_off(failures, deadline, method, path, exc, meter_events=stream)
                earlier = exc
                continue
            except stripe.StripeError as exc:
                status = exc.http_status
                if status is not None and 200 <= status < 300:  # a success the SDK could not read as JSON
                    raise UnexpectedAnswer(
                        f"the answer to {method} {path} is not JSON ({_excerpt(exc.http_body)})"
                    ) from None
                if renewed(exc.headers):
                    continue
                if status == 429:
                    rate_limited += 1
                    self._counters.add(rate_limited=1)
                    budget_left = rate_limited <= self.retry.max_rate_limited_retries
                    attempt = rate_limited
                else:
                    if status is not None and status >= 500 and _replayed(exc.headers):
                        # Stripe stored this answer for the key: the same key can only replay it again. A later
                        # apply reads the account afresh (the write may have committed) and uses a new key.
                        raise self._refused(exc, method, path) from None
                    failures += 1
                    may_have_run = may_have_run or status is None or status == 409 or status >= 500
                    budget_left = failures <= self.retry.max_retries
                    attempt = failures
                if not budget_left or not should_retry(status, exc.headers):
                    raise self._refused(exc, method, path) from None
                self._back_off(attempt, deadline, method, path, exc, meter_events=stream)
                earlier = exc
                continue
            except UnicodeDecodeError as exc:  # the SDK logs every body as text, and fails on one that is not
                byte = exc.object[exc.start : exc.start + 1].hex()
                raise UnexpectedAnswer(
                    f"the answer to {method} {path} is not UTF-8 text (byte 0x{byte} at offset {exc.start})"
                ) from None
            except (AttributeError, TypeError, KeyError, ValueError) as exc:
                # the SDK fails on other answers no Stripe sends (an error body with `"error": null`)
                raise UnexpectedAnswer(
                    f"the answer to {method} {path} cannot be read ({type(exc).__name__}: {redact(str(exc))})"
                ) from None
            if renewed(response.headers):
                continue
            return self._answer(method, path, response.body), response.headers, time.perf_counter() - sent

    def _answer(self, method: str, path: str, text: str) -> dict[str, Any]:
        """A successful answer's JSON object, scrubbed of secrets; UnexpectedAnswer for what Stripe never sends: a
        JSON value that is not an object, or an object of the other mode than the key's (a test key's write
        answered by a live account, or the reverse)."""
        body = json.loads(redact(text))  # the SDK parsed it already: it is JSON
        if not isinstance(body, dict):
            raise UnexpectedAnswer(f"the answer to {method} {path} is {_json_kind(body)}, not an object")
        listed = body.get("data")
        for obj in [body, *(listed if isinstance(listed, list) else ())]:
            mode = obj.get("livemode") if isinstance(obj, dict) else None
            if isinstance(mode, bool) and mode != self.livemode:
                said, key = ("live", "test") if mode else ("test", "live")
                raise UnexpectedAnswer(
                    f"the answer to {method} {path} is a {said}-mode object, but the key is a {key}-mode key: "
                    "whatever answered is not the account the key belongs to"
                    + ("; the write may have been made there" if method.upper() == "POST" else ""),
                )
        return body

    def _back_off(
        self,
        attempt: int,
        deadline: float,
        method: str,
        path: str,
        exc: stripe.StripeError,
        *,
        meter_events: bool = False,
    ) -> None:
        """Waits before retry number `attempt`; a retry that could not start before the request's deadline is
        not made (the request fails with its last error, and says why it was not tried again)."""
        with self._rng_lock:
            delay = self.retry.delay(attempt, self._rng)
        if time.monotonic() + delay >= deadline:
            raise StripeApiError(
                f"{self._shown_request(method, path, meter_events)}: no whole answer within "
                f"{self.request_deadline:g} seconds, retries included (the last attempt: {self._attempt(exc)})",
                rule="http-deadline",
                hint=bounds.HTTP_DEADLINE.hint(),
            ) from None
        self._counters.add(retries=1)
        self._sleep(delay)

    def _failed(
        self,
        exc: stripe.APIConnectionError,
        method: str,
        path: str,
        earlier: stripe.StripeError | None,
        *,
        meter_events: bool = False,
    ) -> StripeApiError:
        """The error a request without an answer ends with: a bound the HTTP client met is told with the request
        it was met by and the address it went to (a deadline with what the attempt before it met), and a
        connection that failed with the address it was made to and why."""
        if not isinstance(exc, BoundExceeded):
            return self._unreachable(exc, method, path, meter_events)
        error = self._convert(exc)
        message = f"{self._shown_request(method, path, meter_events)}: {error.message}"
        if exc.rule == "http-deadline" and earlier is not None:
            message += f", retries included (the attempt before: {self._attempt(earlier)})"
        return StripeApiError(message, rule=error.rule, hint=error.hint)

    def _unreachable(
        self, exc: stripe.APIConnectionError, method: str, path: str, meter_events: bool
    ) -> StripeApiError:
        """A connection that could not be made or broke off: the address (never the key), the reason the network
        library gives (not the SDK's text, which says only "unexpected error"), the request, and what to check."""
        base = self._connection.api_base
        url = self._address(meter_events)
        reason = self._attempt(exc)
        if isinstance(exc, BrokenAnswer):
            message = f"{self._shown_request(method, path, meter_events)}: {reason}"
        else:
            message = f"cannot reach {url}: {reason} ({method.upper()} {_without_query(path)})"
        loopback = base is not None and _is_loopback(urlsplit(base).hostname or "")
        hint = connection_hint(url if base is not None else None, loopback)
        return StripeApiError(redact(message), rule="connection-failed", hint=redact(hint))

    def _address(self, meter_events: bool) -> str:
        """Where a request goes, as it may be shown: the API base without a user or password in it, else
        Stripe's address (for the meter event stream, its own)."""
        base = self._connection.api_base
        if base is not None:
            return shown_base(base)
        return stripe.DEFAULT_METER_EVENTS_API_BASE if meter_events else stripe.DEFAULT_API_BASE

    def _shown_request(self, method: str, path: str, meter_events: bool) -> str:
        """`GET /v1/prices to https://api.stripe.com`: the request an error is about, and where it went."""
        return f"{method.upper()} {_without_query(path)} to {self._address(meter_events)}"

    def _attempt(self, exc: stripe.StripeError) -> str:
        """What one attempt of a request met, in a few words: for a connection that failed, why."""
        if isinstance(exc, stripe.APIConnectionError) and not isinstance(exc, BoundExceeded):
            if isinstance(exc, BrokenAnswer):
                return str(exc.user_message)
            return network_reason(exc) or f"the connection failed ({type(exc.__cause__ or exc).__name__})"
        return self._convert(exc).message

    def _refused(self, exc: stripe.StripeError, method: str, path: str) -> PricebookError:
        """The error an HTTP error status ends a request with: Stripe's refusal (`_convert`), or, without Stripe's
        `{"error": {...}}` in the body, an UnexpectedAnswer: no refusal of Stripe's."""
        body = exc.json_body
        if exc.http_status is not None and not (isinstance(body, dict) and isinstance(body.get("error"), dict)):
            return UnexpectedAnswer(
                f"the answer to {method} {path} is HTTP {exc.http_status} without a Stripe error in its body "
                f"({_excerpt(exc.http_body)})"
            )
        return self._convert(exc)

    def _convert(self, exc: stripe.StripeError) -> StripeApiError:
        """The SDK's error as pricebook's, every text in it scrubbed: a server may echo the key in any field."""
        error = convert_error(exc)
        return StripeApiError(
            redact(error.message),
            status=error.status,
            code=redact(error.code) if error.code else None,
            param=redact(error.param) if error.param else None,
            hint=redact(error.hint) if error.hint else None,
            rule=error.rule,
        )

    def redact(self, text: str) -> str:
        """`text` without the API key or a session token (`errors.redact`)."""
        return redact(text)

    # -- meter events ---------------------------------------------------------------------------------------------

    def meter_event_session(self) -> dict[str, Any]:
        """A new meter event session (`authentication_token`, `expires_at`); its token is redacted from then on."""
        session, _ = self.request("POST", METER_EVENT_SESSION_PATH, {})
        token = session.get("authentication_token")
        if not isinstance(token, str) or not token:
            raise StripeApiError("the meter event session came back without an authentication token")
        keep_secret(token)
        return session

    def stream_meter_events(self, token: str, events: list[dict[str, Any]]) -> None:
        """Send up to 100 events on the v2 stream with a session's token, retried where safe like any request.

        Sending a batch again is safe: each event carries its identifier, and Stripe keeps one event per
        identifier. An expired token is a `StripeApiError` with code `billing_meter_event_session_expired`: the
        caller opens a new session and sends the batch again."""
        self._send(
            "POST",
            METER_EVENT_STREAM_PATH,
            {"events": _EventBatch(events), "base": "meter_events"},
            {"api_key": token},
            renew_stale_key=False,
        )

    def account_id(self) -> str | None:
        """The id of the account the key belongs to (`GET /v1/account`, `acct_...`), or None when the key may not
        read it: Stripe answers 403 to a restricted key that was not given that permission."""
        try:
            body, _ = self.request("GET", ACCOUNT_PATH, {})
        except StripeApiError as exc:
            if exc.status == 403:
                return None
            raise
        account = body.get("id")
        if not isinstance(account, str) or not account:
            raise UnexpectedAnswer(f"the answer to GET {ACCOUNT_PATH} has no account id")
        return account

    def list_page(self, path: str, params: Mapping[str, Any] | None = None) -> ListPage:
        """One page of a list endpoint: up to 100 objects from `params`' place on (`starting_after`), whether
        more follow, and how long the round trip took (without the wait for its send slot). The caller follows
        the cursor (through a `paging.CursorChain`)."""
        page, _, seconds = self._request("GET", path, {**(params or {}), "limit": PAGE_SIZE}, None, False)
        data = _list_page(page, path)
        return ListPage(data, bool(page.get("has_more")) and bool(data), seconds)

    def pages(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[list[dict[str, Any]]]:
        """The pages of a list endpoint, 100 objects each, following `starting_after`; each page is requested
        only when the one before has been consumed."""
        query: dict[str, Any] = {**(params or {}), "limit": PAGE_SIZE}
        chain = CursorChain(path)
        while True:
            page, _ = self.request("GET", path, query)
            data = _list_page(page, path)
            cursor = chain.advance(data, bool(page.get("has_more")))
            yield data
            if cursor is None:
                return
            query = {**query, "starting_after": cursor}

    def list_all(self, path: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Every object of a list endpoint (`pages`, joined)."""
        return [obj for page in self.pages(path, params) for obj in page]

    def send(self, call: ApiCall, idempotency_key: str) -> dict[str, Any]:
        """One write; `call` must have no placeholders left. Its answer is the object written, with its id."""
        body, _ = self.request(
            call.method,
            call.path,
            call.params,
            idempotency_key=idempotency_key,
            # decided by the path, not by the call's own say-so: a create is never sent under a second key
            renew_stale_key=call.path not in COLLECTION_PATHS,
        )
        if not isinstance(body.get("id"), str) or not body["id"]:
            raise UnexpectedAnswer(f"the answer to {call.method} {call.path} is no object with an id")
        return body


def _list_page(page: Mapping[str, Any], path: str) -> list[dict[str, Any]]:
    """A list answer's objects: `data` a list of objects with an id each, `has_more` true or false (Stripe's list
    shape, https://docs.stripe.com/api/pagination); UnexpectedAnswer for anything else."""
    data = page.get("data")
    if not isinstance(data, list) or not isinstance(page.get("has_more", False), bool):
        raise UnexpectedAnswer(f"the answer to GET {path} is not a list (`data` and `has_more`)")
    for index, obj in enumerate(data):
        if not isinstance(obj, dict) or not isinstance(obj.get("id"), str) or not obj["id"]:
            raise UnexpectedAnswer(f"the answer to GET {path} lists something that is no object with an id (#{index})")
    return data
