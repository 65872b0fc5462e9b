"""The emulator records usage as Stripe does: v1 meter events, the v2 session and stream, cancellations, event
summaries, the windows of each (on a clock tests can move), and the meter-event knobs. Through the real SDK."""

from __future__ import annotations

import time
from typing import Any

import pytest
import stripe

from compiler.emulator import EmulatorHandle
from tests.integration.conftest import EmulatorFactory

DAY = 86400


def make_meter(client: stripe.StripeClient, event_name: str = "emails_sent", **extra: Any) -> stripe.billing.Meter:
    params: dict[str, Any] = {
        "event_name": event_name,
        "display_name": event_name,
        "default_aggregation": {"formula": "sum"},
        **extra,
    }
    return client.v1.billing.meters.create(params=params)  # type: ignore[arg-type]


def record(client: stripe.StripeClient, value: int | str, **extra: Any) -> stripe.billing.MeterEvent:
    params: dict[str, Any] = {
        "event_name": "emails_sent",
        "payload": {"stripe_customer_id": "cus_1", "value": str(value)},
        **extra,
    }
    return client.v1.billing.meter_events.create(params=params)  # type: ignore[arg-type]


def minute(moment: float) -> int:
    return int(moment) - int(moment) % 60


def total(
    client: stripe.StripeClient, meter: stripe.billing.Meter, start: int, end: int, customer: str = "cus_1"
) -> float:
    page = client.v1.billing.meters.event_summaries.list(
        meter.id, params={"customer": customer, "start_time": start, "end_time": end}
    )
    assert len(page.data) == 1
    return page.data[0].aggregated_value


def now_of(emulator: EmulatorHandle) -> int:
    return int(emulator.control("GET", "clock")["now"])


def events_log(emulator: EmulatorHandle) -> dict[str, Any]:
    log: dict[str, Any] = emulator.control("GET", "meter_events")
    return log


def stream_client(emulator: EmulatorHandle, token: str) -> stripe.StripeClient:
    # the SDK sends the stream to its `meter_events` base address; the emulator answers it on its one port
    return stripe.StripeClient(token, base_addresses={"api": emulator.url, "meter_events": emulator.url})


# -- v1 -----------------------------------------------------------------------------------------------------------


def test_an_identifier_is_taken_for_24_hours_of_the_accounts_clock(
    client: stripe.StripeClient, emulator: EmulatorHandle
) -> None:
    meter = make_meter(client)
    record(client, 3, identifier="evt-1")
    with pytest.raises(stripe.InvalidRequestError) as info:
        record(client, 3, identifier="evt-1")
    assert info.value.http_status == 400
    assert str(info.value.user_message).startswith("An event already exists with identifier evt-1")
    assert info.value.headers is not None and info.value.headers.get("Stripe-Should-Retry") == "false"

    emulator.control("POST", "clock?advance=86401")
    record(client, 4, identifier="evt-1")  # the rolling window has passed: a new event
    now = now_of(emulator)
    assert total(client, meter, minute(now - 2 * DAY), minute(now) + 60) == 7


def test_timestamps_within_35_days_back_and_5_minutes_ahead(client: stripe.StripeClient) -> None:
    make_meter(client)
    now = int(time.time())
    record(client, 1, timestamp=now - 35 * DAY + 60)
    record(client, 1, timestamp=now + 4 * 60)
    for timestamp in (now - 35 * DAY - 60, now + 6 * 60):
        with pytest.raises(stripe.InvalidRequestError) as info:
            record(client, 1, timestamp=timestamp)
        assert info.value.param == "timestamp"


def test_processing_drops_what_stripe_reports_later(client: stripe.StripeClient, emulator: EmulatorHandle) -> None:
    meter = make_meter(client)
    make_meter(client, "old_meter")
    client.v1.billing.meters.deactivate(client.v1.billing.meters.list(params={"limit": 1}).data[0].id)
    record(client, 5, identifier="ok")
    record(client, "2.5", identifier="fraction")
    record(client, "many", identifier="words")
    client.v1.billing.meter_events.create(
        params={"event_name": "emails_sent", "payload": {"value": "1"}, "identifier": "nobody"}
    )
    client.v1.billing.meter_events.create(
        params={"event_name": "no_such_meter", "payload": {"stripe_customer_id": "cus_1", "value": "1"}}
    )
    client.v1.billing.meter_events.create(
        params={"event_name": "old_meter", "payload": {"stripe_customer_id": "cus_1", "value": "1"}}
    )
    errors = {e["identifier"]: e["error"] for e in events_log(emulator)["events"] if e["event_name"] == "emails_sent"}
    assert errors == {
        "ok": None,
        "fraction": "meter_event_invalid_value",
        "words": "meter_event_invalid_value",
        "nobody": "meter_event_no_customer_defined",
    }
    others = sorted(e["error"] for e in events_log(emulator)["events"] if e["event_name"] != "emails_sent")
    assert others == ["archived_meter", "no_meter"]
    now = int(time.time())
    assert total(client, meter, minute(now), minute(now) + 120) == 5


def test_payload_keys_follow_the_meter(client: stripe.StripeClient) -> None:
    meter = make_meter(
        client,
        "api_requests",
        customer_mapping={"event_payload_key": "account", "type": "by_id"},
        value_settings={"event_payload_key": "requests"},
    )
    client.v1.billing.meter_events.create(
        params={"event_name": "api_requests", "payload": {"account": "cus_9", "requests": "40"}}
    )
    client.v1.billing.meter_events.create(  # the default keys mean nothing to this meter
        params={"event_name": "api_requests", "payload": {"stripe_customer_id": "cus_9", "value": "2"}}
    )
    now = int(time.time())
    assert total(client, meter, minute(now), minute(now) + 120, customer="cus_9") == 40


# -- summaries ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("formula", "expected"), [("sum", 12), ("count", 3), ("last", 6)])
def test_summaries_aggregate_by_the_meters_formula(client: stripe.StripeClient, formula: str, expected: int) -> None:
    meter = make_meter(client, default_aggregation={"formula": formula})
    base = minute(time.time()) - 3600
    for offset, value in ((0, 4), (120, 6), (60, 2)):  # sent out of order: `last` is the latest timestamp's
        record(client, value, timestamp=base + offset)
    assert total(client, meter, base, base + 3600) == expected


def test_summaries_by_hour_and_day(client: stripe.StripeClient) -> None:
    meter = make_meter(client)
    now = int(time.time())
    today = now - now % DAY
    record(client, 1, timestamp=today - DAY + 3600)  # yesterday, 01:00
    record(client, 2, timestamp=today - 1)  # yesterday, 23:59:59
    record(client, 4, timestamp=today)  # today, 00:00
    by_day = client.v1.billing.meters.event_summaries.list(
        meter.id,
        params={
            "customer": "cus_1",
            "start_time": today - DAY,
            "end_time": today + DAY,
            "value_grouping_window": "day",
        },
    )
    assert [(s.start_time, s.aggregated_value) for s in by_day.data] == [(today, 4), (today - DAY, 3)]
    hours = client.v1.billing.meters.event_summaries.list(
        meter.id,
        params={
            "customer": "cus_1",
            "start_time": today - DAY,
            "end_time": today,
            "value_grouping_window": "hour",
            "limit": 100,
        },
    )
    assert len(hours.data) == 24
    assert {s.start_time: s.aggregated_value for s in hours.data if s.aggregated_value} == {
        today - DAY + 3600: 1,
        today - 3600: 2,
    }


def test_summary_bounds_must_align(client: stripe.StripeClient) -> None:
    meter = make_meter(client)
    base = minute(time.time()) - 7200
    bad = [
        {"start_time": base + 1, "end_time": base + 60},
        {"start_time": base + 60, "end_time": base},
        {"start_time": base - base % 3600 + 60, "end_time": base + 3600, "value_grouping_window": "hour"},
        {"start_time": base - base % 3600, "end_time": base - base % 3600 + 3600, "value_grouping_window": "day"},
        {"start_time": base - base % 86400, "end_time": base - base % 86400 + 86400, "value_grouping_window": "week"},
    ]
    for params in bad:
        with pytest.raises(stripe.InvalidRequestError):
            client.v1.billing.meters.event_summaries.list(
                meter.id,
                params={"customer": "cus_1", **params},  # type: ignore[typeddict-item]
            )
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.billing.meters.event_summaries.list(
            "mtr_missing", params={"customer": "c", "start_time": 0, "end_time": 60}
        )
    assert info.value.http_status == 404


def test_summary_pages_follow_the_cursor(client: stripe.StripeClient) -> None:
    meter = make_meter(client)
    start = int(time.time()) // 3600 * 3600 - 5 * 3600
    params: dict[str, Any] = {
        "customer": "cus_1",
        "start_time": start,
        "end_time": start + 5 * 3600,
        "value_grouping_window": "hour",
        "limit": 2,
    }
    seen: list[int] = []
    while True:
        page = client.v1.billing.meters.event_summaries.list(meter.id, params=params)  # type: ignore[arg-type]
        seen += [s.start_time for s in page.data]
        if not page.has_more:
            break
        params["starting_after"] = page.data[-1].id
    assert seen == [start + h * 3600 for h in (4, 3, 2, 1, 0)]


def test_a_delay_holds_events_back_from_summaries(emulator_factory: EmulatorFactory) -> None:
    emulator = emulator_factory(meter_event_delay_ms=400)
    client = emulator.client()
    meter = make_meter(client)
    record(client, 9)
    now = int(time.time())
    assert total(client, meter, minute(now), minute(now) + 120) == 0
    time.sleep(0.5)
    assert total(client, meter, minute(now), minute(now) + 120) == 9


# -- cancellations ------------------------------------------------------------------------------------------------


def test_cancel_within_24_hours_of_receipt(client: stripe.StripeClient, emulator: EmulatorHandle) -> None:
    meter = make_meter(client)
    record(client, 5, identifier="early")
    emulator.control("POST", "clock?advance=90000")  # 25 hours later
    record(client, 7, identifier="late")
    for identifier in ("early", "late", "never-sent"):
        adjustment = client.v1.billing.meter_event_adjustments.create(
            params={"event_name": "emails_sent", "type": "cancel", "cancel": {"identifier": identifier}}
        )
        assert adjustment.status == "pending"  # Stripe processes it afterwards
    outcomes = {a["identifier"]: a["outcome"] for a in events_log(emulator)["adjustments"]}
    assert outcomes == {"early": "too_old", "late": "cancelled", "never-sent": "not_found"}
    now = now_of(emulator)
    assert total(client, meter, minute(now - 2 * DAY), minute(now) + 60) == 5


def test_cancel_names_an_identifier(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.billing.meter_event_adjustments.create(params={"event_name": "emails_sent", "type": "cancel"})
    assert info.value.param == "cancel[identifier]"


# -- v2 ------------------------------------------------------------------------------------------------------------


def test_stream_session_lasts_15_minutes(client: stripe.StripeClient, emulator: EmulatorHandle) -> None:
    meter = make_meter(client)
    session = client.v2.billing.meter_event_session.create()
    assert session.object == "v2.billing.meter_event_session"
    stream = stream_client(emulator, session.authentication_token)
    event = {"event_name": "emails_sent", "payload": {"stripe_customer_id": "cus_1", "value": "3"}}
    stream.v2.billing.meter_event_stream.create(params={"events": [event]})  # type: ignore[list-item]
    emulator.control("POST", "clock?advance=901")
    with pytest.raises(stripe.TemporarySessionExpiredError) as info:
        stream.v2.billing.meter_event_stream.create(params={"events": [event]})  # type: ignore[list-item]
    assert info.value.http_status == 401
    assert info.value.code == "billing_meter_event_session_expired"
    now = now_of(emulator)
    assert total(client, meter, minute(now - 3600), minute(now) + 60) == 3


def test_stream_takes_a_session_token_not_the_key(emulator: EmulatorHandle) -> None:
    stream = stream_client(emulator, emulator.api_key)
    with pytest.raises(stripe.AuthenticationError):
        stream.v2.billing.meter_event_stream.create(params={"events": [{"event_name": "e", "payload": {"value": "1"}}]})


def test_stream_checks_the_request_and_processes_each_event_later(
    client: stripe.StripeClient, emulator: EmulatorHandle
) -> None:
    meter = make_meter(client)
    stream = stream_client(emulator, client.v2.billing.meter_event_session.create().authentication_token)
    now = now_of(emulator)

    def event(identifier: str, value: str = "1", timestamp: int = now) -> dict[str, Any]:
        iso = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(timestamp))
        payload = {"stripe_customer_id": "cus_1", "value": value}
        return {"event_name": "emails_sent", "identifier": identifier, "payload": payload, "timestamp": iso}

    def send(events: list[dict[str, Any]]) -> None:
        params: Any = {"events": events}
        stream.v2.billing.meter_event_stream.create(params=params)

    with pytest.raises(stripe.InvalidRequestError):  # at most 100 events a request
        send([event(f"e{i}") for i in range(101)])
    with pytest.raises(stripe.InvalidRequestError):  # payload values are strings
        send([{**event("x"), "payload": {"stripe_customer_id": "cus_1", "value": 1}}])
    with pytest.raises(stripe.InvalidRequestError):  # an ISO 8601 time with a zone
        send([{**event("y"), "timestamp": "yesterday"}])
    assert events_log(emulator)["events"] == []  # a refused request takes no event

    send([event("a"), event("b", "2"), event("a"), event("old", timestamp=now - 36 * DAY), event("frac", "1.5")])
    log = events_log(emulator)
    assert log["dropped_duplicates"] == 1
    assert {e["identifier"]: e["error"] for e in log["events"]} == {
        "a": None,
        "b": None,
        "old": "timestamp_too_far_in_past",
        "frac": "meter_event_invalid_value",
    }
    assert total(client, meter, minute(now - 60), minute(now) + 60) == 3


# -- knobs ----------------------------------------------------------------------------------------------------------


def test_meter_events_have_a_rate_limit_of_their_own(emulator_factory: EmulatorFactory) -> None:
    emulator = emulator_factory(rate_limit=3, meter_event_rate_limit=5)
    client = emulator.client()
    make_meter(client)
    statuses = []
    for n in range(7):
        try:
            record(client, 1, identifier=f"r{n}")
            statuses.append(200)
        except stripe.RateLimitError as err:
            assert err.headers is not None and err.headers.get("Stripe-Should-Retry") == "true"
            statuses.append(429)
    assert statuses == [200] * 5 + [429] * 2  # 5 events although the basic limit is 3 (the meter took one)
    client.v1.billing.meters.list()
    client.v1.billing.meters.list()
    with pytest.raises(stripe.RateLimitError):
        client.v1.billing.meters.list()


def test_faults_strike_the_stream_before_and_after_the_commit(emulator_factory: EmulatorFactory) -> None:
    emulator = emulator_factory(fail_rate=1.0, seed=3)
    client = emulator.client()
    emulator.emulator.faults.fail_rate = 0.0
    make_meter(client)
    token = client.v2.billing.meter_event_session.create().authentication_token
    emulator.emulator.faults.fail_rate = 1.0
    stream = stream_client(emulator, token)
    for n in range(6):
        with pytest.raises(stripe.APIError):
            stream.v2.billing.meter_event_stream.create(
                params={"events": [{"event_name": "emails_sent", "identifier": f"f{n}", "payload": {"value": "1"}}]}
            )
    faults = [r["fault"] for r in emulator.requests() if r["path"] == "/v2/billing/meter_event_stream"]
    stored = {e["identifier"] for e in events_log(emulator)["events"]}
    assert set(faults) == {"before_commit", "after_commit"}
    assert len(stored) == faults.count("after_commit")  # only an after-commit fault keeps the event


def test_the_clock_control(emulator: EmulatorHandle) -> None:
    status, _, _ = emulator.raw("POST", "/_emulator/clock?later=5", api_key=None)
    assert status == 400
    emulator.control("POST", f"clock?now={2_000_000_000}")
    assert abs(now_of(emulator) - 2_000_000_000) <= 1
    emulator.reset()
    assert abs(now_of(emulator) - time.time()) <= 1
