"""`usage summary`: what a customer used of a meter over a period, from Stripe's event summaries.

Periods are Stripe's: `[start, end)`, on minute boundaries, and on hour or UTC-day boundaries when grouped by
hour or day. A bound the user gives that is not aligned is an error naming the aligned ones nearby (pricebook
does not move it); the default period is the current calendar month (UTC) up to now, rounded up to the boundary.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from compiler.errors import UnexpectedAnswer, UsageError
from compiler.stripe import facts
from compiler.stripe.facts import GroupingWindow
from compiler.usage.events import parse_timestamp
from compiler.usage.meters import Meter
from compiler.usage.verify import aggregated_value


@dataclass(frozen=True)
class Period:
    start: int
    end: int
    window: GroupingWindow | None = None

    def describe(self) -> str:
        return f"{moment_text(self.start)} to {moment_text(self.end)} UTC"


@dataclass(frozen=True)
class WindowValue:
    start: int
    end: int
    value: float


@dataclass(frozen=True)
class UsageSummary:
    meter: Meter
    customer: str
    period: Period
    total: float
    windows: tuple[WindowValue, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "meter": self.meter.event_name,
            "meter_id": self.meter.id,
            "formula": self.meter.formula.value,
            "customer": self.customer,
            "start_time": self.period.start,
            "end_time": self.period.end,
            "value_grouping_window": self.period.window.value if self.period.window else None,
            "aggregated_value": self.total,
            "windows": [{"start_time": w.start, "end_time": w.end, "aggregated_value": w.value} for w in self.windows],
        }


def moment_text(timestamp: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(timestamp))


def parse_bound(text: str, option: str) -> int:
    """A period bound: Unix seconds, a date (its 00:00 UTC) or an ISO 8601 time with a zone."""
    stripped = text.strip()
    try:
        day = datetime.strptime(stripped, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        pass
    else:
        return int(day.timestamp())
    parsed = parse_timestamp(stripped)
    if isinstance(parsed, str):
        raise UsageError(
            f"{option} {text!r}: {parsed}",
            hint="give a date (2024-06-01, its start in UTC), Unix seconds, or an ISO 8601 time with a zone",
        )
    return parsed


def _step(window: GroupingWindow | None) -> int:
    return window.seconds if window is not None else facts.SUMMARY_ALIGNMENT.value


def _aligned(value: int, step: int, option: str, what: str) -> None:
    if value % step:
        below, above = value - value % step, value - value % step + step
        raise UsageError(
            f"{option} {moment_text(value)} UTC is not on {what} boundary: Stripe's summaries need one",
            hint=f"use {moment_text(below)} or {moment_text(above)} UTC (Unix {below} or {above})",
        )


def period(start: str | None, end: str | None, window: GroupingWindow | None, *, now: int) -> Period:
    step = _step(window)
    what = {None: "a minute", GroupingWindow.HOUR: "an hour", GroupingWindow.DAY: "a UTC day"}[window]
    if start is None:
        today = datetime.fromtimestamp(now, UTC)
        first = int(today.replace(day=1, hour=0, minute=0, second=0, microsecond=0).timestamp())
    else:
        first = parse_bound(start, "--from")
        _aligned(first, step, "--from", what)
    if end is None:
        last = now - now % step + step  # the boundary after now: the current minute (hour, day) is in
    else:
        last = parse_bound(end, "--to")
        _aligned(last, step, "--to", what)
    if first >= last:
        raise UsageError(
            f"the period starts at {moment_text(first)} and ends at {moment_text(last)} UTC: it is empty",
            hint="--from is the first moment in the period, --to the first one after it",
        )
    return Period(first, last, window)


class SummaryReader(Protocol):
    def request(self, method: str, path: str, params: Any) -> tuple[dict[str, Any], Any]: ...

    def list_all(self, path: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]: ...


def summarize(reader: SummaryReader, meter: Meter, customer: str, span: Period) -> UsageSummary:
    """The period's total (one summary) and, grouped by hour or day, each window's, oldest first."""
    if meter.id is None:
        raise UsageError(f"the meter {meter.event_name!r} is not in the account", hint="apply the catalog first")
    total = aggregated_value(reader, meter.id, customer, span.start, span.end)
    windows: tuple[WindowValue, ...] = ()
    if span.window is not None:
        params = {
            "customer": customer,
            "start_time": span.start,
            "end_time": span.end,
            "value_grouping_window": span.window.value,
        }
        path = facts.meter_event_summaries_path(meter.id)
        found = reader.list_all(path, params)
        try:
            values = [
                WindowValue(int(w["start_time"]), int(w["end_time"]), float(w["aggregated_value"])) for w in found
            ]
        except (KeyError, TypeError, ValueError):  # Stripe's summaries have a start, an end and a number
            raise UnexpectedAnswer(
                f"the answer to GET {path} holds event summaries without a start_time, end_time and "
                "aggregated_value that are numbers"
            ) from None
        windows = tuple(sorted(values, key=lambda w: w.start))
    return UsageSummary(meter, customer, span, total, windows)
