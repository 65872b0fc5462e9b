"""Sending meter events: one a request on v1, or up to 100 a request on the v2 stream.

Both send each event with its identifier, and Stripe keeps one event per identifier (for at least 24 hours), so
sending an event again can never count it twice: the gateway retries what failed in a way that may have
reached Stripe (5xx, connection errors, 429s) with the same identifiers. On v1 Stripe answers a repeat with
"An event already exists": the event is there, delivered (`ALREADY`), never an error and never retried. The
stream answers nothing per event (Stripe validates its events later), so its events are `SENT` once a request
is taken.

What stops an import (a refused key, Stripe unreachable after the retries) is raised as the gateway's
`StripeApiError`; what is wrong with one event is a `REJECTED` result with Stripe's words.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from compiler.errors import StripeApiError
from compiler.stripe import facts
from compiler.usage.events import UsageEvent

#: open a new stream session this long before the current one expires (a batch in flight must not find it dead)
SESSION_RENEW_MARGIN = 60.0
_EVENT_PARAM = re.compile(r"^events\[(\d+)\]")


class Via(StrEnum):
    """How events travel: the v2 stream (100 a request, validated later) or v1 (one a request, answered)."""

    STREAM = "stream"
    V1 = "v1"


class Outcome(StrEnum):
    SENT = "sent"
    ALREADY = "already"  # Stripe had the identifier already: delivered before
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Result:
    event: UsageEvent
    outcome: Outcome
    reason: str | None = None  # Stripe's message, for a rejected event


class Sender(Protocol):
    via: Via
    batch_size: int

    def send(self, events: Sequence[UsageEvent]) -> list[Result]: ...


class EventGateway(Protocol):
    """What sending needs of a `Gateway`."""

    def request(
        self, method: str, path: str, params: Any, *, idempotency_key: str | None = None, renew_stale_key: bool = False
    ) -> tuple[dict[str, Any], Any]: ...

    def meter_event_session(self) -> dict[str, Any]: ...

    def stream_meter_events(self, token: str, events: list[dict[str, Any]]) -> None: ...


def _rejected(error: StripeApiError) -> bool:
    """A refusal of this one event (400, 404), not of the key or the account."""
    return error.status in (400, 404)


class V1Sender:
    """`POST /v1/billing/meter_events`, one event a request. No idempotency key of ours: a retry goes out under a
    new one (the SDK's), so after a 500 that committed Stripe answers "already exists" instead of replaying the
    500 it stored for the key, and the identifier keeps the event single."""

    via = Via.V1
    batch_size = 1

    def __init__(self, gateway: EventGateway) -> None:
        self._gateway = gateway

    def send(self, events: Sequence[UsageEvent]) -> list[Result]:
        results = []
        for event in events:
            try:
                self._gateway.request("POST", facts.METER_EVENTS_PATH, event.v1_params())
            except StripeApiError as error:
                if facts.is_event_already_exists(error.status, error.message):
                    results.append(Result(event, Outcome.ALREADY))
                elif _rejected(error):
                    results.append(Result(event, Outcome.REJECTED, error.message))
                else:
                    raise
            else:
                results.append(Result(event, Outcome.SENT))
        return results


class StreamSender:
    """`POST /v2/billing/meter_event_stream`, up to 100 events a request, with a session token that is renewed
    a minute before it expires (and at once if Stripe says it has). `session_gateway` opens sessions: in live
    mode the stream's own limit paces the events gateway, while sessions count against the basic limit."""

    via = Via.STREAM
    batch_size = facts.METER_STREAM_BATCH.value

    def __init__(
        self,
        gateway: EventGateway,
        session_gateway: EventGateway | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._gateway = gateway
        self._sessions = session_gateway or gateway
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._renew_at = 0.0
        self.sessions_opened = 0

    def _current_token(self, expired: str | None = None) -> str:
        with self._lock:
            if self._token is None or self._token == expired or self._clock() >= self._renew_at:
                opened = self._clock()
                session = self._sessions.meter_event_session()
                self._token = str(session["authentication_token"])
                lifetime = _lifetime(session)
                self._renew_at = opened + max(lifetime - SESSION_RENEW_MARGIN, lifetime / 2)
                self.sessions_opened += 1
            return self._token

    def send(self, events: Sequence[UsageEvent]) -> list[Result]:
        results: list[Result] = []
        remaining = list(events)
        while remaining:
            try:
                self._send(remaining)
            except StripeApiError as error:
                index = _event_index(error)
                if not _rejected(error):
                    raise
                if index is None or index >= len(remaining):
                    # a refusal of the whole request: each of its events is reported with it
                    results.extend(Result(e, Outcome.REJECTED, error.message) for e in remaining)
                    return results
                # Stripe names the one event it refused: report it, send the others again
                results.append(Result(remaining[index], Outcome.REJECTED, error.message))
                del remaining[index]
                continue
            results.extend(Result(e, Outcome.SENT) for e in remaining)
            return results
        return results

    def _send(self, events: Sequence[UsageEvent]) -> None:
        items = [e.stream_item() for e in events]
        token = self._current_token()
        try:
            self._gateway.stream_meter_events(token, items)
        except StripeApiError as error:
            if error.code != facts.SESSION_EXPIRED_CODE:
                raise
            self._gateway.stream_meter_events(self._current_token(expired=token), items)


def _lifetime(session: dict[str, Any]) -> float:
    """Seconds the session lasts, from its own created / expires_at (15 minutes at Stripe)."""
    try:
        created = datetime.fromisoformat(str(session["created"]))
        expires = datetime.fromisoformat(str(session["expires_at"]))
        seconds = (expires - created).total_seconds()
    except (KeyError, ValueError, TypeError):
        return float(facts.METER_STREAM_SESSION.value)
    return seconds if seconds > 0 else float(facts.METER_STREAM_SESSION.value)


def _event_index(error: StripeApiError) -> int | None:
    match = _EVENT_PARAM.match(error.param or "")
    return int(match.group(1)) if match else None
