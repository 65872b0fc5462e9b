"""Recording usage: v1 meter events, the v2 session and stream, cancellations and event summaries.

What Stripe checks when it answers (a v1 event: a repeated identifier within 24 hours, 400 with
`Stripe-Should-Retry: false`; a timestamp outside the past 35 days / next 5 minutes; the stream: at most 100
well-formed events and a live session token) is checked here before anything is stored. What Stripe checks while
processing the event afterwards (the meter, the payload's customer and whole-number value, and on the stream the
timestamp window and repeated identifiers) marks the stored event with the error code Stripe would report, and
such an event never counts. See `usage_log`.

Cancellations (`meter_event_adjustments`) are answered `pending`, as Stripe answers them, and processed at once:
an event received more than 24 hours ago, or one the account never had, stays as it was.

Event summaries aggregate the counted events of one customer by the meter's formula (sum, count, last) over
`[start_time, end_time)`, whole or per hour / UTC day, newest window first.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime
from typing import Any

from compiler.emulator.common import Ctx, expanded, require
from compiler.emulator.errors import ApiError, invalid
from compiler.emulator.store import Record, Store
from compiler.stripe import facts
from compiler.stripe.facts import GroupingWindow, MeterFormula

EVENT_OBJECT = "billing.meter_event"


def _check_identifier(identifier: Any, param: str) -> None:
    if isinstance(identifier, str) and len(identifier) > facts.METER_EVENT_IDENTIFIER.value:
        raise invalid(
            f"Invalid string: {identifier[:20]}...; must be at most {facts.METER_EVENT_IDENTIFIER.value} characters",
            param=param,
        )


def _check_event_name(event_name: str, param: str) -> None:
    if len(event_name) > facts.METER_EVENT_NAME.value:
        raise invalid(
            f"Invalid string: {event_name[:20]}...; must be at most {facts.METER_EVENT_NAME.value} characters",
            param=param,
        )


def _outside_window(timestamp: int, now: int) -> str | None:
    if timestamp < now - facts.METER_EVENT_PAST.value:
        return "timestamp_too_far_in_past"
    if timestamp > now + facts.METER_EVENT_FUTURE.value:
        return "timestamp_in_future"
    return None


def _processing_error(store: Store, event_name: str, payload: dict[str, str]) -> str | None:
    """The error code Stripe's processing would report for this event, or None when it counts."""
    meter = next((m for m in store.meters.values() if m["event_name"] == event_name), None)
    if meter is None:
        return "no_meter"
    if meter["status"] != "active":
        return "archived_meter"
    if not payload.get(facts.meter_customer_key(meter)):
        return "meter_event_no_customer_defined"
    if (
        facts.meter_formula(meter) is not MeterFormula.COUNT
        and _whole_number(payload.get(facts.meter_value_key(meter))) is None
    ):
        return "meter_event_invalid_value"
    return None


def _whole_number(value: Any) -> int | None:
    text = str(value) if value is not None else ""
    digits = text[1:] if text.startswith("-") else text
    return int(text) if digits.isascii() and digits.isdigit() else None


def _record(store: Store, event_name: str, identifier: str, payload: dict[str, str], timestamp: int) -> Record:
    now = store.now()
    error = _outside_window(timestamp, now) or _processing_error(store, event_name, payload)
    event: Record = {
        "identifier": identifier,
        "event_name": event_name,
        "payload": payload,
        "timestamp": timestamp,
        "created": now,
        "error": error,
        "cancelled": False,
    }
    store.usage.add(event)
    return event


def _generated_identifier() -> str:
    return "mev_" + secrets.token_hex(12)


def _view(event: Record) -> Record:
    return {
        "object": EVENT_OBJECT,
        "created": event["created"],
        "event_name": event["event_name"],
        "identifier": event["identifier"],
        "livemode": False,
        "payload": dict(event["payload"]),
        "timestamp": event["timestamp"],
    }


# -- v1 ---------------------------------------------------------------------------------------------------------


def create_meter_event(ctx: Ctx) -> Record:
    expanded(ctx, (), is_list=False)
    store, params = ctx.store, ctx.params
    _check_event_name(params["event_name"], "event_name")
    identifier = params.get("identifier")
    _check_identifier(identifier, "identifier")
    now = store.now()
    if identifier is not None and store.usage.holder(identifier, now) is not None:
        # Stripe refuses a repeated identifier and says a retry would not help.
        raise ApiError(
            400,
            facts.EVENT_ALREADY_EXISTS.format(identifier=identifier),
            param="identifier",
            headers={"Stripe-Should-Retry": "false"},
        )
    timestamp = params.get("timestamp", now)
    if _outside_window(timestamp, now) is not None:
        raise invalid(facts.EVENT_TIMESTAMP_WINDOW, param="timestamp")
    payload = {str(k): str(v) for k, v in dict(params["payload"]).items()}
    event = _record(store, params["event_name"], identifier or _generated_identifier(), payload, timestamp)
    return _view(event)


def create_adjustment(ctx: Ctx) -> Record:
    expanded(ctx, (), is_list=False)
    store, params = ctx.store, ctx.params
    _check_event_name(params["event_name"], "event_name")
    cancel = params.get("cancel") or {}
    identifier = cancel.get("identifier") if isinstance(cancel, dict) else None
    if not identifier:
        raise ApiError(
            400, "Missing required param: cancel[identifier].", param="cancel[identifier]", code="parameter_missing"
        )
    _check_identifier(identifier, "cancel[identifier]")
    now = store.now()
    event = store.usage.latest(identifier)
    if event is None or event["event_name"] != params["event_name"]:
        outcome = "not_found"
    elif now - int(event["created"]) > facts.METER_EVENT_CANCEL_WINDOW.value:
        outcome = "too_old"
    else:
        event["cancelled"] = True
        outcome = "cancelled"
    store.usage.adjustments.append(
        {"event_name": params["event_name"], "identifier": identifier, "created": now, "outcome": outcome}
    )
    return {
        "object": "billing.meter_event_adjustment",
        "cancel": {"identifier": identifier},
        "event_name": params["event_name"],
        "livemode": False,
        "status": "pending",
        "type": params["type"],
    }


# -- v2: session and stream -------------------------------------------------------------------------------------


def _iso(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def create_session(ctx: Ctx) -> Record:
    store = ctx.store
    now = store.now()
    token = "mes_tok_" + secrets.token_hex(16)
    session: Record = {
        "id": "mes_" + secrets.token_hex(12),
        "object": "v2.billing.meter_event_session",
        "authentication_token": token,
        "created": _iso(now),
        "expires_at": _iso(now + facts.METER_STREAM_SESSION.value),
        "livemode": False,
        "_expires": now + facts.METER_STREAM_SESSION.value,
    }
    store.usage.sessions[token] = session
    return {k: v for k, v in session.items() if not k.startswith("_")}


def authenticate_stream(store: Store, authorization: str) -> None:
    """The stream takes a session's token, never an API key; an expired token is Stripe's 401."""
    scheme, _, token = authorization.partition(" ")
    session = store.usage.sessions.get(token.strip()) if scheme.lower() == "bearer" else None
    if session is None:
        raise ApiError(401, "Invalid authentication token: create a meter event session and use its token.")
    if store.now() >= int(session["_expires"]):
        raise ApiError(
            401,
            facts.SESSION_EXPIRED,
            type=facts.SESSION_EXPIRED_TYPE,
            code=facts.SESSION_EXPIRED_CODE,
        )


def _parse_iso(text: str, param: str) -> int:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise invalid(f"Invalid timestamp: {text!r} is not an ISO 8601 date-time", param=param) from None
    if moment.tzinfo is None:
        raise invalid(f"Invalid timestamp: {text!r} has no time zone", param=param)
    return int(moment.timestamp())


def stream_events(ctx: Ctx) -> Record:
    """Stripe checks the request's shape at once and processes each event later: a repeated identifier is dropped,
    anything else wrong is an error report, never a failed request."""
    store = ctx.store
    events = ctx.params["events"]
    if not events:
        raise invalid("events must contain at least one event.", param="events")
    if len(events) > facts.METER_STREAM_BATCH.value:
        raise invalid(
            f"events can contain at most {facts.METER_STREAM_BATCH.value} events; got {len(events)}.", param="events"
        )
    now = store.now()
    parsed = []
    for index, event in enumerate(events):  # the whole request is refused before any event is taken
        param = f"events[{index}]"
        _check_event_name(event["event_name"], f"{param}[event_name]")
        _check_identifier(event.get("identifier"), f"{param}[identifier]")
        timestamp = event.get("timestamp")
        parsed.append(now if timestamp is None else _parse_iso(timestamp, f"{param}[timestamp]"))
    for event, timestamp in zip(events, parsed, strict=True):
        identifier = event.get("identifier") or _generated_identifier()
        if store.usage.holder(identifier, now) is not None:
            store.usage.dropped_duplicates += 1
            continue
        _record(store, event["event_name"], identifier, dict(event["payload"]), timestamp)
    return {}


# -- event summaries ----------------------------------------------------------------------------------------------


def _aligned(value: int, step: int, param: str, what: str) -> None:
    if value % step:
        raise invalid(f"{param} must be aligned with {what} boundaries.", param=param)


def list_event_summaries(ctx: Ctx) -> Record:
    expanded(ctx, (), is_list=True)
    store, params = ctx.store, ctx.params
    meter = require(store.meters, str(ctx.object_id), "billing.meter")
    start, end = int(params["start_time"]), int(params["end_time"])
    window_name = params.get("value_grouping_window")
    if window_name is not None and window_name not in {w.value for w in GroupingWindow}:
        raise invalid("Invalid value_grouping_window: must be one of day or hour", param="value_grouping_window")
    for name, value in (("start_time", start), ("end_time", end)):
        _aligned(value, facts.SUMMARY_ALIGNMENT.value, name, "minute")
    if window_name is not None:
        window = GroupingWindow(window_name)
        for name, value in (("start_time", start), ("end_time", end)):
            _aligned(value, window.seconds, name, "hour" if window is GroupingWindow.HOUR else "UTC day")
    if start >= end:
        raise invalid("start_time must be before end_time.", param="start_time")
    step = GroupingWindow(window_name).seconds if window_name is not None else end - start
    customer = str(params["customer"])
    customer_key, value_key = facts.meter_customer_key(meter), facts.meter_value_key(meter)
    events = [
        e
        for e in store.usage.counted(meter["event_name"])
        if e["payload"].get(customer_key) == customer and start <= int(e["timestamp"]) < end
    ]
    formula = facts.meter_formula(meter)
    summaries = []
    for window_start in range(start, end, step):
        window_end = min(window_start + step, end)
        inside = [e for e in events if window_start <= int(e["timestamp"]) < window_end]
        summaries.append(
            {
                "id": _summary_id(meter["id"], customer, window_start, window_end),
                "object": "billing.meter_event_summary",
                "aggregated_value": _aggregate(formula, inside, value_key),
                "end_time": window_end,
                "livemode": False,
                "meter": meter["id"],
                "start_time": window_start,
            }
        )
    summaries.reverse()  # newest first, as Stripe's lists are
    return _page(ctx, summaries, facts.meter_event_summaries_path(meter["id"]))


def _aggregate(formula: MeterFormula, events: list[Record], value_key: str) -> float:
    if formula is MeterFormula.COUNT:
        return float(len(events))
    values = [(int(e["timestamp"]), n, int(e["payload"][value_key])) for n, e in enumerate(events)]
    if not values:
        return 0.0
    if formula is MeterFormula.LAST:
        return float(max(values)[2])  # the latest timestamp; the later received on a tie
    return float(sum(v for _, _, v in values))


def _summary_id(meter_id: str, customer: str, start: int, end: int) -> str:
    digest = hashlib.sha256(f"{meter_id}|{customer}|{start}|{end}".encode()).hexdigest()[:24]
    return f"mtrsum_{digest}"


def _page(ctx: Ctx, items: list[Record], url: str) -> Record:
    """One page of `items` (already in list order) with Stripe's cursors and limit."""
    limit = ctx.params.get("limit", 10)
    if limit < 1:
        raise invalid("This value must be greater than or equal to 1.", param="limit")
    if limit > 100:
        raise invalid("This value must be less than or equal to 100.", param="limit")
    after, before = ctx.params.get("starting_after"), ctx.params.get("ending_before")
    if after is not None and before is not None:
        raise invalid("You may only specify one of these parameters: starting_after, ending_before.")
    ids = [item["id"] for item in items]
    cursor = after if after is not None else before
    if cursor is None:
        page, has_more = items[:limit], len(items) > limit
    elif cursor not in ids:
        param = "starting_after" if after is not None else "ending_before"
        raise invalid(f"No such billing.meter_event_summary: '{cursor}'", param=param)
    elif after is not None:
        rest = items[ids.index(cursor) + 1 :]
        page, has_more = rest[:limit], len(rest) > limit
    else:
        rest = items[: ids.index(cursor)]
        page, has_more = rest[-limit:], len(rest) > limit
    return {"object": "list", "data": page, "has_more": has_more, "url": url}
