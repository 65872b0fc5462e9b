"""`usage cancel`: cancel meter events by identifier, within Stripe's 24 hours of receiving them.

For a file, the journal says which rows Stripe took and when: rows it took more than 24 hours ago are too old
(Stripe keeps them, so they are listed and not sent); rows it already had before the import (received at a time
pricebook does not know) are sent, and Stripe cancels them only if that time is within its window. The
identifiers are the ones the import sent, derived again from the file. Stripe answers a cancellation `pending`
and carries it out asynchronously.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from compiler.errors import StripeApiError, UsageError
from compiler.stripe import facts
from compiler.usage.events import RowChecker
from compiler.usage.journal import Delivery, Journal, deliveries, file_digest, journals_of
from compiler.usage.meters import Meters
from compiler.usage.rows import SourceRow


@dataclass(frozen=True)
class CancelTarget:
    event_name: str
    identifier: str
    number: int | None = None  # the row, for a file
    line: int | None = None
    received: int | None = None  # when Stripe took it, if the journal knows


@dataclass(frozen=True)
class CancelReport:
    cancelled: tuple[CancelTarget, ...]
    too_old: tuple[CancelTarget, ...]
    failed: tuple[tuple[CancelTarget, str], ...]

    @property
    def ok(self) -> bool:
        return not self.failed


class Poster(Protocol):
    def request(self, method: str, path: str, params: Any) -> tuple[dict[str, Any], Any]: ...


@dataclass(frozen=True)
class FileTargets:
    to_cancel: tuple[CancelTarget, ...]
    too_old: tuple[CancelTarget, ...]
    journal: Journal


def file_targets(
    path: Path, rows: Callable[[], Iterator[SourceRow]], display: str, meters: Meters, journal_path: Path, *, now: int
) -> FileTargets:
    """The rows of a file that the journal says Stripe has and that are not cancelled yet, split by age."""
    if not journal_path.exists():
        others = ", ".join(str(owner.path) for owner in journals_of(path))
        raise UsageError(
            f"no journal at {journal_path}: pricebook has no record of importing {display} into this account",
            hint="each environment has its own journal: pass the --env the import ran with, or the --journal it "
            "wrote, or cancel events one by one with --identifier"
            + (f" (other journals of {path.name} here: {others})" if others else ""),
        )
    journal = Journal.load(journal_path, digest=file_digest(path), display=display)
    assert journal is not None
    received: dict[int, int | None] = {}
    for delivery in deliveries(journal_path, display):
        for number in delivery.sent:
            received[number] = delivery.at
        for number in delivery.already:
            received.setdefault(number, None)
    # the identifiers as the import derived them, whatever a meter's status is today
    checker = RowChecker(Meters({m.event_name: replace(m, active=True) for m in meters}, meters.source), now, display)
    to_cancel: list[CancelTarget] = []
    too_old: list[CancelTarget] = []
    for row in rows():
        if row.number not in received or not journal.delivered(row.number) or row.number in journal.cancelled:
            continue
        event = checker.check(row).event
        if event is None:
            continue  # a row the import could not have sent either
        at = received[row.number]
        target = CancelTarget(event.event_name, event.identifier, row.number, row.line, at)
        if at is not None and now - at > facts.METER_EVENT_CANCEL_WINDOW.value:
            too_old.append(target)
        else:
            to_cancel.append(target)
    return FileTargets(tuple(to_cancel), tuple(too_old), journal)


def cancel(
    poster: Poster,
    targets: Sequence[CancelTarget],
    *,
    too_old: Sequence[CancelTarget] = (),
    workers: int = 4,
    journal: Journal | None = None,
    now: Callable[[], float],
) -> CancelReport:
    """Send one cancellation per target, in parallel within the gateway's pace; record them in `journal`."""

    def one(target: CancelTarget) -> tuple[CancelTarget, str | None]:
        params = {"event_name": target.event_name, "type": "cancel", "cancel": {"identifier": target.identifier}}
        try:
            poster.request("POST", facts.METER_EVENT_ADJUSTMENTS_PATH, params)
        except StripeApiError as error:
            return target, error.message
        return target, None

    cancelled: list[CancelTarget] = []
    failed: list[tuple[CancelTarget, str]] = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for target, error in pool.map(one, targets):
            if error is None:
                cancelled.append(target)
            else:
                failed.append((target, error))
    if journal is not None:
        numbers = tuple(t.number for t in cancelled if t.number is not None)
        if numbers:
            journal.record(Delivery(int(now()), cancelled=numbers))
        journal.close()
    return CancelReport(tuple(cancelled), tuple(too_old), tuple(failed))
