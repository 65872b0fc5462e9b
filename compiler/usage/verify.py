"""`--verify`: the file's totals per customer and meter against Stripe's event summaries.

Stripe processes meter events asynchronously, so its summaries lag: the check asks again, for the pairs that
still differ, until they match or a bounded wait is over. A summary covers every event of the customer on the
meter in the period, so usage recorded some other way in the same minutes shows as a difference too (the report
says which period it compared).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from compiler.errors import UnexpectedAnswer
from compiler.stripe import facts
from compiler.stripe.facts import MeterFormula
from compiler.usage.events import UsageEvent
from compiler.usage.meters import Meter, Meters

MINUTE = facts.SUMMARY_ALIGNMENT.value


@dataclass
class PairTotal:
    """What the file says one customer used of one meter."""

    formula: MeterFormula
    total: int = 0  # sum, or count
    last: tuple[int, int, int] | None = None  # (timestamp, row number, value) of the latest event
    first_at: int | None = None
    last_at: int | None = None
    untimed: int = 0  # events Stripe stamped when it received them

    def add(self, event: UsageEvent) -> None:
        if self.formula is MeterFormula.COUNT:
            self.total += 1
        elif event.value is not None:
            self.total += event.value
            if event.timestamp is not None:
                key = (event.timestamp, event.number, event.value)
                self.last = key if self.last is None or key > self.last else self.last
        if event.timestamp is None:
            self.untimed += 1
            return
        self.first_at = event.timestamp if self.first_at is None else min(self.first_at, event.timestamp)
        self.last_at = event.timestamp if self.last_at is None else max(self.last_at, event.timestamp)

    @property
    def expected(self) -> int | None:
        """The quantity Stripe should show; None for `last` when some events had no timestamp (their order at
        Stripe is the order it received them, which the file does not say)."""
        if self.formula is MeterFormula.LAST:
            return None if self.untimed or self.last is None else self.last[2]
        return self.total


@dataclass
class Totals:
    """Per (event_name, customer): memory grows with the customers of a file, not with its rows."""

    pairs: dict[tuple[str, str], PairTotal] = field(default_factory=dict)

    def add(self, event: UsageEvent, meter: Meter) -> None:
        key = (event.event_name, event.customer)
        pair = self.pairs.get(key)
        if pair is None:
            pair = self.pairs[key] = PairTotal(meter.formula)
        pair.add(event)

    def __len__(self) -> int:
        return len(self.pairs)

    def __iter__(self) -> Iterator[tuple[tuple[str, str], PairTotal]]:
        return iter(sorted(self.pairs.items()))


@dataclass(frozen=True)
class Difference:
    event_name: str
    customer: str
    start: int
    end: int
    expected: int | None
    actual: float | None  # None: the meter is not in the account

    def describe(self) -> str:
        period = f"{_moment(self.start)} to {_moment(self.end)} UTC"
        if self.actual is None:
            return f"{self.event_name} / {self.customer}: the account has no such meter"
        if self.expected is None:
            return f"{self.event_name} / {self.customer}: Stripe shows {_number(self.actual)} ({period})"
        return (
            f"{self.event_name} / {self.customer}: the file has {self.expected:,}, Stripe shows "
            f"{_number(self.actual)} ({period})"
        )


@dataclass(frozen=True)
class VerifyReport:
    compared: int
    differences: tuple[Difference, ...]
    skipped: tuple[str, ...]  # pairs that cannot be compared, and why
    seconds: float

    @property
    def ok(self) -> bool:
        return not self.differences


class SummaryReader(Protocol):
    def request(self, method: str, path: str, params: Any) -> tuple[dict[str, Any], Any]: ...


def period_of(pair: PairTotal, sent_from: int, sent_until: int) -> tuple[int, int]:
    """The minute-aligned period that holds every event of the pair: its timestamps, and for events without one,
    the time the import ran (Stripe stamps them when it receives them)."""
    starts = [t for t in (pair.first_at,) if t is not None]
    ends = [t for t in (pair.last_at,) if t is not None]
    if pair.untimed:
        starts.append(sent_from)
        ends.append(sent_until)
    start = min(starts)
    end = max(ends)
    return start - start % MINUTE, end - end % MINUTE + MINUTE


def aggregated_value(reader: SummaryReader, meter_id: str, customer: str, start: int, end: int) -> float:
    """Stripe's summary of one customer on one meter over [start, end): a single window."""
    page, _ = reader.request(
        "GET",
        facts.meter_event_summaries_path(meter_id),
        {"customer": customer, "start_time": start, "end_time": end},
    )
    data = page.get("data")
    try:
        return float(sum(float(s.get("aggregated_value") or 0) for s in data or ()))
    except (TypeError, ValueError, AttributeError):  # Stripe's summaries are objects with a number
        raise UnexpectedAnswer(
            f"the answer to GET {facts.meter_event_summaries_path(meter_id)} holds no event summaries "
            "with a number as their aggregated_value"
        ) from None


def verify(
    totals: Totals,
    meters: Meters,
    reader: SummaryReader,
    *,
    sent_from: int,
    sent_until: int,
    timeout: float,
    on_wait: Callable[[int, int], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> VerifyReport:
    """Compare until every pair matches or `timeout` seconds have passed (asking again only for what differs,
    waiting 1, 2, 4 ... up to 10 seconds between rounds)."""
    started = clock()
    skipped: list[str] = []
    todo: dict[tuple[str, str], tuple[int | None, str | None, int, int]] = {}
    for (event_name, customer), pair in totals:
        meter = meters.get(event_name)
        start, end = period_of(pair, sent_from, sent_until)
        if pair.expected is None:
            skipped.append(
                f"{event_name} / {customer}: a `last` meter and events without a timestamp (their order is the "
                "order Stripe received them in)"
            )
            continue
        todo[(event_name, customer)] = (pair.expected, meter.id if meter else None, start, end)
    compared = len(todo)
    differences: dict[tuple[str, str], Difference] = {}
    delay = 1.0
    while True:
        differences = {}
        for (event_name, customer), (expected, meter_id, start, end) in todo.items():
            actual = aggregated_value(reader, meter_id, customer, start, end) if meter_id else None
            if actual is None or actual != expected:
                differences[(event_name, customer)] = Difference(event_name, customer, start, end, expected, actual)
        if not differences or clock() - started + delay > timeout:
            break
        if on_wait is not None:
            on_wait(compared - len(differences), compared)
        sleep(delay)
        delay = min(delay * 2, 10.0)
        todo = {key: todo[key] for key in differences}
    return VerifyReport(compared, tuple(differences.values()), tuple(skipped), clock() - started)


def _moment(timestamp: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(timestamp))


def _number(value: float) -> str:
    return f"{int(value):,}" if value == int(value) else f"{value:,}"
