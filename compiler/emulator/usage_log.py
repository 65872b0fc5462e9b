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

from compiler.emulator.tables import Log, Record, Table
from compiler.stripe.facts import METER_EVENT_IDENTIFIER_WINDOW


@dataclass
class MeterEventLog:
    events: Log = field(default_factory=lambda: Log("usage.events"))  # in the order received
    sessions: Table = field(default_factory=lambda: Table("usage.sessions"))  # by authentication token
    adjustments: Log = field(default_factory=lambda: Log("usage.adjustments"))
    dropped_duplicates: int = 0  # stream events whose identifier was taken: dropped, as Stripe does
    processing_delay: float = 0.0  # seconds before a received event counts in summaries

    def __post_init__(self) -> None:
        # positions in `events`, never the events themselves (see `tables`)
        self._by_identifier: dict[str, int] = {}  # the latest event per identifier
        self._by_name: dict[str, list[int]] = {}

    def add(self, event: Record) -> None:
        event["_visible_at"] = time.monotonic() + self.processing_delay
        self.events.append(event)
        self._index(len(self.events) - 1, event)

    def _index(self, position: int, event: Record) -> None:
        self._by_identifier[event["identifier"]] = position
        self._by_name.setdefault(event["event_name"], []).append(position)

    def reindex(self) -> None:
        """The indexes again, after the events were read back from a state file (they count at once)."""
        self._by_identifier.clear()
        self._by_name.clear()
        for position, event in enumerate(list.__iter__(self.events)):
            event["_visible_at"] = 0.0
            self._index(position, event)

    def holder(self, identifier: str, now: int) -> Record | None:
        """The event that holds `identifier` now: one received within Stripe's rolling uniqueness window."""
        event = self.latest(identifier)
        if event is None or now - int(event["created"]) >= METER_EVENT_IDENTIFIER_WINDOW.value:
            return None
        return event

    def latest(self, identifier: str) -> Record | None:
        position = self._by_identifier.get(identifier)
        return None if position is None else self.events[position]

    def counted(self, event_name: str) -> Iterator[Record]:
        """The events of `event_name` that count: processed without error, not cancelled."""
        ready = time.monotonic()
        for position in self._by_name.get(event_name, ()):
            event = self.events[position]
            if event["error"] is None and not event["cancelled"] and event["_visible_at"] <= ready:
                yield event

    def reset(self) -> None:
        list.clear(self.events)
        dict.clear(self.sessions)
        list.clear(self.adjustments)
        self.dropped_duplicates = 0
        self._by_identifier.clear()
        self._by_name.clear()

    def to_json(self) -> dict[str, Any]:
        return {
            "events": [{k: v for k, v in e.items() if k != "_visible_at"} for e in list.__iter__(self.events)],
            "sessions": dict(self.sessions),
            "adjustments": list(list.__iter__(self.adjustments)),
            "dropped_duplicates": self.dropped_duplicates,
        }
