"""Checking rows into meter events: each of Stripe's checks, identifiers that never change, timestamps never moved."""

from __future__ import annotations

from typing import Any

import pytest

from compiler.stripe.facts import MeterFormula
from compiler.usage.events import RowChecker, derive_identifier, iso_timestamp, parse_timestamp
from compiler.usage.meters import Meter, Meters
from compiler.usage.rows import SourceRow

NOW = 1_717_243_200  # 2024-06-01T12:00:00Z
DAY = 86400
METERS = Meters(
    {
        "emails_sent": Meter("emails_sent", "Emails", MeterFormula.SUM, "stripe_customer_id", "value", True, "mtr_1"),
        "api_requests": Meter("api_requests", "API", MeterFormula.SUM, "account", "requests", True, "mtr_2"),
        "logins": Meter("logins", "Logins", MeterFormula.COUNT, "stripe_customer_id", "value", True, "mtr_3"),
        "old": Meter("old", "Old", MeterFormula.SUM, "stripe_customer_id", "value", False, "mtr_4"),
    },
    "the account",
)


def row(number: int = 1, **fields: Any) -> SourceRow:
    payload = fields.pop("payload", {"stripe_customer_id": "cus_1", "value": "5"})
    fields.setdefault("event_name", "emails_sent")
    return SourceRow(number, number + 1, payload=payload, **fields)


def rules(checked_row: SourceRow, checker: RowChecker | None = None) -> list[str]:
    checked = (checker or RowChecker(METERS, NOW, "u.csv")).check(checked_row)
    return [p.rule for p in checked.problems]


def test_a_good_row_is_an_event() -> None:
    checked = RowChecker(METERS, NOW, "u.csv").check(row(timestamp=str(NOW - 60)))
    assert checked.ok and checked.problems == ()
    event = checked.event
    assert event is not None
    assert (event.customer, event.value, event.timestamp) == ("cus_1", 5, NOW - 60)
    assert event.v1_params() == {
        "event_name": "emails_sent",
        "identifier": event.identifier,
        "payload": {"stripe_customer_id": "cus_1", "value": "5"},
        "timestamp": NOW - 60,
    }
    assert event.stream_item()["timestamp"] == "2024-06-01T11:59:00.000Z"


@pytest.mark.parametrize(
    ("fields", "rule"),
    [
        ({"event_name": None}, "usage-event-name"),
        ({"event_name": "e" * 101}, "usage-event-name"),
        ({"event_name": "email_sent"}, "usage-unknown-meter"),
        ({"event_name": "old"}, "usage-inactive-meter"),
        ({"payload": {"value": "5"}}, "usage-customer"),
        ({"payload": {"stripe_customer_id": " cus_1", "value": "5"}}, "usage-customer"),
        ({"payload": {"stripe_customer_id": "cus_1"}}, "usage-value"),
        ({"payload": {"stripe_customer_id": "cus_1", "value": "2.5"}}, "usage-value"),
        ({"payload": {"stripe_customer_id": "cus_1", "value": "1,000"}}, "usage-value"),
        ({"payload": {"stripe_customer_id": "cus_1", "value": "٣"}}, "usage-value"),  # a digit, not ASCII
        ({"payload": {"stripe_customer_id": "cus_1", "value": 2.5}}, "usage-payload-value"),
        ({"timestamp": "yesterday"}, "usage-timestamp"),
        ({"timestamp": "2024-06-01T12:00:00"}, "usage-timestamp"),  # no zone
        ({"timestamp": "2024-06-01"}, "usage-timestamp"),
        ({"timestamp": "2024-06-01T12:00:00.5Z"}, "usage-timestamp"),
        ({"timestamp": 1717243200.0}, "usage-timestamp"),
        ({"timestamp": str(NOW - 35 * DAY - 1)}, "usage-timestamp-too-old"),
        ({"timestamp": str(NOW + 301)}, "usage-timestamp-in-future"),
        ({"timestamp": str(NOW * 1000)}, "usage-timestamp-in-future"),
        ({"identifier": "x" * 101}, "usage-identifier"),
    ],
)
def test_each_check(fields: dict[str, Any], rule: str) -> None:
    found = rules(row(**fields))
    assert found == [rule]


def test_the_window_edges_are_stripes() -> None:
    assert rules(row(timestamp=str(NOW - 35 * DAY))) == []
    assert rules(row(timestamp=str(NOW + 300))) == []


def test_a_timestamp_outside_the_window_is_never_moved() -> None:
    checked = RowChecker(METERS, NOW, "u.csv").check(row(timestamp=str(NOW + 3600)))
    assert not checked.ok
    assert checked.event is not None and checked.event.timestamp == NOW + 3600


def test_milliseconds_get_their_own_hint() -> None:
    checked = RowChecker(METERS, NOW, "u.csv").check(row(timestamp=str(NOW * 1000)))
    assert "milliseconds" in (checked.problems[0].hint or "")


def test_every_problem_has_a_place_and_a_hint() -> None:
    checked = RowChecker(METERS, NOW, "u.csv").check(row(5, event_name="email_sent"))
    (problem,) = checked.problems
    assert problem.format().startswith("u.csv:6: error[usage-unknown-meter]: ")
    assert problem.hint == "did you mean 'emails_sent'?"


def test_the_meters_own_payload_keys() -> None:
    checker = RowChecker(METERS, NOW, "u.csv")
    good = checker.check(row(event_name="api_requests", payload={"account": "cus_9", "requests": "40"}))
    assert good.ok and good.event is not None and good.event.value == 40
    bad = checker.check(row(event_name="api_requests", payload={"stripe_customer_id": "cus_9", "value": "40"}))
    assert [p.rule for p in bad.problems] == ["usage-customer", "usage-value"]


def test_a_count_meter_needs_no_value() -> None:
    checked = RowChecker(METERS, NOW, "u.csv").check(row(event_name="logins", payload={"stripe_customer_id": "c"}))
    assert checked.ok and checked.event is not None and checked.event.value is None


def test_negative_whole_values_correct_usage() -> None:
    checked = RowChecker(METERS, NOW, "u.csv").check(row(payload={"stripe_customer_id": "c", "value": "-3"}))
    assert checked.ok and checked.event is not None and checked.event.value == -3


def test_an_identifier_used_twice_in_a_file() -> None:
    checker = RowChecker(METERS, NOW, "u.csv")
    assert rules(row(1, identifier="evt-1"), checker) == []
    assert rules(row(2, identifier="evt-2"), checker) == []
    assert rules(row(3, identifier="evt-1"), checker) == ["usage-identifier"]


def test_derived_identifiers_are_the_same_every_time_and_differ_row_to_row() -> None:
    def identifier(number: int, **fields: Any) -> str:
        event = RowChecker(METERS, NOW, "u.csv").check(row(number, **fields)).event
        assert event is not None
        return event.identifier

    first = identifier(1, timestamp=str(NOW))
    assert first == identifier(1, timestamp=str(NOW))  # another run, another checker: the same
    assert first == identifier(1, timestamp="2024-06-01T12:00:00Z")  # the same moment written another way
    assert first != identifier(2, timestamp=str(NOW))  # an equal row further down is another event
    assert first != identifier(1, timestamp=str(NOW - 1))
    assert first != identifier(1, timestamp=str(NOW), payload={"stripe_customer_id": "cus_1", "value": "6"})
    assert first.startswith("pbu_") and len(first) <= 100
    # the value is normalised before it is hashed: "05" and "5" are the same usage
    assert first == identifier(1, timestamp=str(NOW), payload={"stripe_customer_id": "cus_1", "value": "05"})


def test_an_identifier_column_wins() -> None:
    event = RowChecker(METERS, NOW, "u.csv").check(row(identifier="order-17")).event
    assert event is not None and event.identifier == "order-17"


def test_derive_identifier_is_pure() -> None:
    payload = {"b": "2", "a": "1"}
    assert derive_identifier("e", payload, None, 3) == derive_identifier("e", dict(reversed(payload.items())), None, 3)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (NOW, NOW),
        (str(NOW), NOW),
        ("2024-06-01T12:00:00Z", NOW),
        ("2024-06-01T14:00:00+02:00", NOW),
        ("2024-06-01T12:00:00.000Z", NOW),
    ],
)
def test_timestamps(raw: Any, expected: int) -> None:
    assert parse_timestamp(raw) == expected


def test_iso_timestamp() -> None:
    assert iso_timestamp(NOW) == "2024-06-01T12:00:00.000Z"
