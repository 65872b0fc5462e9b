"""The emulated account's usage: meter events as received, stream sessions and cancellations.

Stripe takes a meter event in two steps: it answers the request (refusing a repeated identifier or, on v1, a
timestamp outside its window), then processes the event asynchronously. An event that fails processing (no
meter, an inactive one, no customer or a value that is not a whole number) is dropped and reported later as a
`v1.billing.meter.error_report_triggered` event; one that passes counts in event summaries once processed. The
log keeps both kinds, each with its `error` code (None when it counts), so tests can see what Stripe would report.
`processing_delay` holds events back from summaries for a while, as Stripe's processing lag does.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from compiler.stripe.facts import METER_EVENT_IDENTIFIER_WINDOW

Record = dict[str, Any]


@dataclass
class MeterEventLog:
    events: list[Record] = field(default_factory=list)  # in the order received
    sessions: dict[str, Record] = field(default_factory=dict)  # by authentication token
    adjustments: list[Record] = field(default_factory=list)
    dropped_duplicates: int = 0  # stream events whose identifier was taken: dropped, as Stripe does
    processing_delay: float = 0.0  # seconds before a received event counts in summaries

    def __post_init__(self) -> None:
        self._by_identifier: dict[str, Record] = {}  # the latest event per identifier
        self._by_name: dict[str, list[Record]] = {}

    def add(self, event: Record) -> None:
        event["_visible_at"] = time.monotonic() + self.processing_delay
        self.events.append(event)
        self._by_identifier[event["identifier"]] = event
        self._by_name.setdefault(event["event_name"], []).append(event)

    def holder(self, identifier: str, now: int) -> Record | None:
        """The event that holds `identifier` now: one received within Stripe's rolling uniqueness window."""
        event = self._by_identifier.get(identifier)
        if event is None or now - int(event["created"]) >= METER_EVENT_IDENTIFIER_WINDOW.value:
            return None
        return event

    def latest(self, identifier: str) -> Record | None:
        return self._by_identifier.get(identifier)

    def counted(self, event_name: str) -> Iterator[Record]:
        """The events of `event_name` that count: processed without error, not cancelled."""
        ready = time.monotonic()
        for event in self._by_name.get(event_name, ()):
            if event["error"] is None and not event["cancelled"] and event["_visible_at"] <= ready:
                yield event

    def reset(self) -> None:
        self.events.clear()
        self.sessions.clear()
        self.adjustments.clear()
        self.dropped_duplicates = 0
        self._by_identifier.clear()
        self._by_name.clear()

    def to_json(self) -> dict[str, Any]:
        return {
            "events": [{k: v for k, v in e.items() if k != "_visible_at"} for e in self.events],
            "sessions": self.sessions,
            "adjustments": self.adjustments,
            "dropped_duplicates": self.dropped_duplicates,
        }

    def load_json(self, data: dict[str, Any]) -> None:
        self.reset()
        for event in data.get("events", []):
            self.add(dict(event))
        self.sessions = dict(data.get("sessions", {}))
        self.adjustments = list(data.get("adjustments", []))
        self.dropped_duplicates = int(data.get("dropped_duplicates", 0))
