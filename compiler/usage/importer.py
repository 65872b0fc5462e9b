"""`usage import`: a file of usage sent to Stripe exactly once, resumably, within Stripe's limits.

The file is read one row at a time; each row is checked (`events.RowChecker`), skipped when the journal says
Stripe has it or an earlier run handed it to a rejected-rows file, refused into the rejected files when it would
be refused or dropped (the rows as the file has them, to fix and import, and why), and otherwise sent in batches
(`send`) by a few worker threads, paced by the gateway. Each answered batch goes to the journal at once, so a run
that is interrupted (Ctrl-C, a kill, the network) loses nothing: the next run skips what the journal has, and
Stripe's identifiers make a batch that was in flight count once when it is sent again (within Stripe's 24 hours;
after them such rows are left out as in doubt, see `journal`).

On v1, events of one customer and meter always go through the same worker, one after the other: Stripe allows
one concurrent call per customer and meter.

`preflight` is `--dry-run`: the same checks over the whole file, nothing sent.
"""

from __future__ import annotations

import json
import queue
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO

from compiler.errors import Diagnostic, Location, PricebookError, UsageError
from compiler.usage.events import Checked, RowChecker, UsageEvent, rejected_identifier
from compiler.usage.journal import Delivery, Journal, file_digest, journals_of
from compiler.usage.meters import Meters
from compiler.usage.rows import ByteCounter, FileFormat, RowWriter, SourceRow, read_rows, rejected_rows_path
from compiler.usage.send import Outcome, Result, Sender, Via
from compiler.usage.verify import Totals

QUEUE_DEPTH = 4  # batches waiting per worker: enough to keep it busy, little enough to keep memory flat
PROGRESS_EVERY = 0.5  # seconds between progress callbacks
REFUSED_RULE = "stripe-refused"


@dataclass(frozen=True)
class UsageFile:
    path: Path
    display: str  # how messages name it
    fmt: FileFormat

    @classmethod
    def at(cls, path: Path, fmt: FileFormat | None = None) -> UsageFile:
        return cls(path, str(path), fmt or FileFormat.of(path))

    def rows(self, counter: ByteCounter | None = None) -> Iterator[SourceRow]:
        return read_rows(self.path, self.fmt, self.display, counter)

    @property
    def rejected_rows(self) -> Path:
        """Where an import writes the rows it rejects, as this file has them (`usage.rejected.csv`)."""
        return rejected_rows_path(self.path, self.fmt)

    @property
    def size(self) -> int:
        try:
            return self.path.stat().st_size
        except OSError:
            return 0


def default_rejected(path: Path) -> Path:
    return path.with_name(path.name + ".rejected.jsonl")


def numbered(path: Path, number: int) -> Path:
    """`usage.rejected.csv`, then `usage.rejected.2.csv`, `usage.rejected.3.csv` ..."""
    return path if number == 1 else path.with_name(f"{path.stem}.{number}{path.suffix}")


def free_rejected_files(rows: Path, why: Path) -> tuple[Path, Path]:
    """The first pair of numbered names (`numbered`) for a run's rejected rows and why, where no file is, and no
    journal of a rejected-rows file: a run never writes over rows an earlier one rejected (the user may be
    fixing them), and a new file under the name of one imported and deleted would meet that one's journal."""
    number = 1
    while True:
        pair = numbered(rows, number), numbered(why, number)
        if not any(path.exists() for path in pair) and not journals_of(pair[0]):
            return pair
        number += 1


@dataclass
class Counts:
    rows: int = 0
    sent: int = 0
    already_at_stripe: int = 0  # Stripe answered that it had the identifier
    already_in_journal: int = 0  # an earlier run delivered the row: not sent again
    rejected: int = 0
    rejected_before: int = 0  # an earlier run handed them to a rejected-rows file: its import sends them
    not_attempted: int = 0
    in_doubt: int = 0  # sent by a run that got no answer, too long ago to send again safely

    @property
    def already(self) -> int:
        return self.already_at_stripe + self.already_in_journal


@dataclass(frozen=True)
class Progress:
    counts: Counts
    fraction: float  # of the file's bytes read
    elapsed: float

    @property
    def eta(self) -> float | None:
        if self.fraction <= 0.0 or self.fraction >= 1.0:
            return None
        return self.elapsed * (1.0 - self.fraction) / self.fraction


@dataclass(frozen=True)
class ImportReport:
    file: UsageFile
    via: Via
    counts: Counts
    seconds: float
    journal: Path
    rejected_file: Path | None  # why each row was rejected; None: nothing was
    rejected_rows: Path | None  # the rejected rows as the file has them, to fix and import; None: none
    #: the rejected-rows files of earlier runs that hold rows of this file, with how many
    rejected_before: tuple[tuple[Path, int], ...]
    #: those of them that are gone and were never imported (no journal): their rows are in no file now
    rejected_gone: tuple[Path, ...]
    totals: Totals  # of the rows Stripe has, for --verify
    started_sending: int  # when the journal began (events without a timestamp were stamped after it)
    interrupted: bool = False
    read_until: int = 0  # the last line read; an interrupted import did not read beyond it
    failure: PricebookError | None = None  # what stopped the import

    @property
    def ok(self) -> bool:
        counts = self.counts
        return not (counts.rejected or counts.not_attempted or counts.in_doubt or self.interrupted or self.failure)


class RejectedFile:
    """Rows refused: the rows themselves as the file has them (`rows_path`, a file to fix and import), and why
    (`path`), one JSON object a line with the row's place in the file and in the rows' file, the rule and Stripe's
    or pricebook's reason. Both are made on the first row refused, under names no earlier run's rejected rows
    have (`free_rejected_files`): a run never writes over them."""

    def __init__(self, path: Path, file: UsageFile, digest: str) -> None:
        self.why = path
        self.file = file
        self.digest = digest
        self.count = 0
        self.path: Path | None = None
        self.rows_path: Path | None = None
        self._rows: RowWriter | None = None
        self._handle: IO[str] | None = None

    def open(self) -> Path:
        """The rows' file of this run, chosen on the first call."""
        if self.rows_path is None:
            self.rows_path, self.path = free_rejected_files(self.file.rejected_rows, self.why)
            self._rows = RowWriter(self.file.path, self.file.fmt, self.rows_path)
            self._handle = self.path.open("x", encoding="utf-8")
        return self.rows_path

    def add(self, number: int, line: int, problems: list[Diagnostic], source: object) -> None:
        self.open()
        assert self._rows is not None and self._handle is not None
        self.count += 1
        self._rows.write(source, rejected_identifier(self.digest, number))
        errors = [p for p in problems if p.is_error] or problems
        entry = {
            "file": self.file.display,
            "line": line,
            "row": number,
            "rejected_row": self.count,  # its row in the rejected rows' file
            "errors": [{"rule": p.rule, "message": p.message, "hint": p.hint} for p in errors],
        }
        self._handle.write(json.dumps(entry) + "\n")

    def close(self) -> None:
        if self._rows is not None:
            self._rows.close()
        if self._handle is not None:
            self._handle.close()


# -- workers --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Done:
    results: list[Result]


@dataclass(frozen=True)
class _Failed:
    events: list[UsageEvent]
    error: PricebookError


@dataclass(frozen=True)
class _Skipped:
    events: list[UsageEvent]


class _Workers:
    """A fixed set of threads, each with its own queue: a key sends a batch to one thread, always the same."""

    def __init__(self, sender: Sender, count: int) -> None:
        self.sender = sender
        self.results: queue.Queue[_Done | _Failed | _Skipped] = queue.Queue()
        self.stop = threading.Event()
        self._queues: list[queue.Queue[list[UsageEvent] | None]] = [
            queue.Queue(maxsize=QUEUE_DEPTH) for _ in range(count)
        ]
        self._threads = [
            threading.Thread(target=self._run, args=(q,), name=f"pricebook-usage-{n}", daemon=True)
            for n, q in enumerate(self._queues)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, key: int, events: list[UsageEvent]) -> None:
        self._queues[key % len(self._queues)].put(events)

    def _run(self, jobs: queue.Queue[list[UsageEvent] | None]) -> None:
        while True:
            events = jobs.get()
            if events is None:
                return
            if self.stop.is_set():
                self.results.put(_Skipped(events))
                continue
            try:
                self.results.put(_Done(self.sender.send(events)))
            except PricebookError as error:
                self.stop.set()
                self.results.put(_Failed(events, error))
            except Exception as error:  # a bug must stop the import, not hang it
                self.stop.set()
                failure = PricebookError(
                    f"internal error: {type(error).__name__}: {error}",
                    hint="run the import again (it continues where it stopped), and report this",
                )
                self.results.put(_Failed(events, failure))

    def close(self) -> None:
        for jobs in self._queues:
            jobs.put(None)
        for thread in self._threads:
            thread.join()


# -- the import -----------------------------------------------------------------------------------------------------


@dataclass
class _Run:
    file: UsageFile
    meters: Meters
    journal: Journal
    rejected: RejectedFile
    counter: ByteCounter
    now: Callable[[], float]
    counts: Counts = field(default_factory=Counts)
    totals: Totals = field(default_factory=Totals)
    failure: PricebookError | None = None
    handed_off: Counter[str | None] = field(default_factory=Counter)  # rows rejected before, by the file they went to

    def take(self, outcome: _Done | _Failed | _Skipped) -> None:
        if isinstance(outcome, _Done):
            self._answered(outcome.results)
            return
        self.counts.not_attempted += len(outcome.events)
        if isinstance(outcome, _Failed):
            self.failure = self.failure or outcome.error
            if getattr(outcome.error, "status", None) not in (401, 403):
                return  # it may have reached Stripe: the journal keeps the rows as sent without an answer
        self.unsent(outcome.events)

    def sending(self, events: list[UsageEvent]) -> None:
        self.journal.record(Delivery(int(self.now()), sending=tuple(e.number for e in events)))

    def unsent(self, events: list[UsageEvent]) -> None:
        if events:
            self.journal.record(Delivery(int(self.now()), unsent=tuple(e.number for e in events)))

    def _answered(self, results: list[Result]) -> None:
        sent: list[int] = []
        already: list[int] = []
        rejected: list[int] = []
        for result in results:
            event = result.event
            if result.outcome is Outcome.REJECTED:
                rejected.append(event.number)
                problem = Diagnostic(
                    Location(self.file.display, event.line),
                    REFUSED_RULE,
                    f"Stripe refused the event: {result.reason}",
                    hint=f"fix the row in {self.rejected.open()} and import that file",
                )
                self.rejected.add(event.number, event.line, [problem], event.source)
                continue
            (sent if result.outcome is Outcome.SENT else already).append(event.number)
            meter = self.meters.get(event.event_name)
            if meter is not None:
                self.totals.add(event, meter)
        self.counts.sent += len(sent)
        self.counts.already_at_stripe += len(already)
        self.counts.rejected += len(rejected)
        into = self.rejected.open().name if rejected else None
        self.journal.record(Delivery(int(self.now()), tuple(sent), tuple(already), tuple(rejected), into=into))

    def refuse(self, row: SourceRow, problems: list[Diagnostic]) -> None:
        self.counts.rejected += 1
        self.rejected.add(row.number, row.line, problems, row.source)
        self.journal.record(Delivery(int(self.now()), rejected=(row.number,), into=self.rejected.open().name))

    def rejected_before(self, number: int) -> None:
        self.counts.rejected_before += 1
        self.handed_off[self.journal.rejected[number]] += 1

    def progress(self, started: float) -> Progress:
        return Progress(replace(self.counts), self.counter.fraction, time.monotonic() - started)


def import_file(
    file: UsageFile,
    meters: Meters,
    sender: Sender,
    *,
    journal_path: Path,
    rejected_path: Path,
    workers: int,
    resend_in_doubt: bool = False,
    resend_rejected: bool = False,
    on_progress: Callable[[Progress], None] | None = None,
    now: Callable[[], float] = time.time,
) -> ImportReport:
    """Import `file` (see the module's docstring). Returns what happened, also when interrupted or stopped.

    `resend_in_doubt` sends rows in doubt too (the user has checked that Stripe does not have them);
    `resend_rejected` checks and sends the rows earlier runs rejected too, refused while a file that holds them
    is there or was imported (`check_resend_rejected`)."""
    started = time.monotonic()
    digest = file_digest(file.path)
    journal = Journal.load(journal_path, digest=digest, display=file.display) or Journal.create(
        journal_path, digest=digest, display=file.display, now=int(now())
    )
    journal.check_meters({m.event_name: m.id for m in meters}, file.display)
    if resend_rejected:
        check_resend_rejected(file, journal)
    counter = ByteCounter(file.size)
    run = _Run(file, meters, journal, RejectedFile(rejected_path, file, digest), counter, now)
    started_at = int(now())
    checker = RowChecker(meters, started_at, file.display)
    pool = _Workers(sender, workers)
    rows = file.rows(counter)
    interrupted = False
    read_until = 0
    batch: list[UsageEvent] = []
    batches = 0
    last_progress = 0.0
    try:
        try:
            for row in rows:
                run.counts.rows += 1
                read_until = row.line
                if pool.stop.is_set():
                    _not_sent(run, journal, row)
                    continue
                checked = checker.check(row)
                if journal.delivered(row.number):
                    run.counts.already_in_journal += 1
                    _count_delivered(run, journal, checked)
                elif not resend_in_doubt and journal.in_doubt(row.number, started_at):
                    run.counts.in_doubt += 1
                elif not resend_rejected and journal.handed_off(row.number):
                    run.rejected_before(row.number)
                elif not checked.ok or checked.event is None:
                    run.refuse(row, list(checked.problems))
                else:
                    event = checked.event
                    meter = meters.get(event.event_name)
                    if meter is not None and meter.id is not None:
                        journal.note_meter(event.event_name, meter.id)
                    batch.append(event)
                    if len(batch) >= sender.batch_size:
                        run.sending(batch)
                        pool.submit(_key(sender, batch, batches), batch)
                        batches += 1
                        batch = []
                while not pool.results.empty():
                    run.take(pool.results.get_nowait())
                if on_progress is not None and time.monotonic() - last_progress >= PROGRESS_EVERY:
                    last_progress = time.monotonic()
                    on_progress(run.progress(started))
            if batch and not pool.stop.is_set():
                run.sending(batch)
                pool.submit(_key(sender, batch, batches), batch)
            elif batch:
                run.counts.not_attempted += len(batch)
            batch = []
        except KeyboardInterrupt:
            interrupted = True
            pool.stop.set()  # queued batches are skipped; batches in flight finish and are recorded
            run.counts.not_attempted += len(batch)
            run.unsent(batch)  # (were they queued after all, the worker skips and records them as well)
        pool.close()
        while not pool.results.empty():
            run.take(pool.results.get_nowait())
    finally:
        journal.close()
        run.rejected.close()
    if on_progress is not None:
        on_progress(run.progress(started))
    handed_off = sorted(run.handed_off.items(), key=lambda item: item[0] or "")
    before = tuple((rejected_rows_file(file, name), count) for name, count in handed_off)
    return ImportReport(
        file=file,
        via=sender.via,
        counts=run.counts,
        seconds=time.monotonic() - started,
        journal=journal_path,
        rejected_file=run.rejected.path,
        rejected_rows=run.rejected.rows_path,
        rejected_before=before,
        rejected_gone=tuple(path for path, _ in before if not path.exists() and not journals_of(path)),
        totals=run.totals,
        started_sending=journal.created,
        interrupted=interrupted,
        read_until=read_until,
        failure=run.failure,
    )


def rejected_rows_file(file: UsageFile, name: str | None) -> Path:
    """The rejected-rows file the journal names (beside the file); None: a journal from before it named them,
    when there was one, not numbered."""
    return file.path.with_name(name) if name is not None else file.rejected_rows


def check_resend_rejected(file: UsageFile, journal: Journal) -> None:
    """--resend-rejected sends from `file` the rows earlier runs handed to rejected-rows files: only once no such
    file is there to be imported, and none was imported (its journal is there), or they would be sent twice."""
    for name in sorted(set(journal.rejected.values()), key=lambda name: name or ""):
        path = rejected_rows_file(file, name)
        if path.exists():
            raise UsageError(
                f"--resend-rejected: the rows {file.display} rejected before are not sent from it while {path} "
                "holds them",
                hint=f"import that file instead (pricebook usage import {path}), or delete it to send them from "
                f"{file.display}: one or the other, or they would count twice",
            )
        imported = journals_of(path)
        if imported:
            raise UsageError(
                f"--resend-rejected: {path}, where the rows {file.display} rejected before went, was imported "
                f"(its journal {imported[0].path} is there): they are not sent from {file.display} again",
                hint=f"to send what that import rejected, import its own rejected rows; run {file.display} "
                "without --resend-rejected",
            )


def _key(sender: Sender, batch: list[UsageEvent], number: int) -> int:
    """The worker of a batch: on v1 by customer and meter (one call at a time for each), else in turn."""
    if sender.via is Via.V1:
        event = batch[0]
        return zlib.crc32(f"{event.event_name}\x00{event.customer}".encode())
    return number


def _count_delivered(run: _Run, journal: Journal, checked: Checked) -> None:
    event = checked.event
    if event is None or event.number in journal.cancelled:
        return
    meter = run.meters.get(event.event_name)
    if meter is not None:
        run.totals.add(event, meter)


def _not_sent(run: _Run, journal: Journal, row: SourceRow) -> None:
    if journal.delivered(row.number):
        run.counts.already_in_journal += 1
    else:
        run.counts.not_attempted += 1


# -- --dry-run ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreflightReport:
    rows: int
    bad_rows: int
    already_in_journal: int  # rows an earlier import delivered: a real run would not send them
    warnings: int
    rejected_before: int = 0  # rows an earlier import handed to a rejected-rows file: not this file's to send

    @property
    def ok(self) -> bool:
        return self.bad_rows == 0


def preflight(
    file: UsageFile,
    meters: Meters,
    *,
    now: int,
    journal_path: Path | None,
    on_problem: Callable[[Diagnostic], None],
    resend_rejected: bool = False,
) -> PreflightReport:
    """Check every row as `import_file` would, reporting each problem as it is found; nothing is sent."""
    journal = None
    if journal_path is not None and journal_path.exists():
        journal = Journal.load(journal_path, digest=file_digest(file.path), display=file.display)
    checker = RowChecker(meters, now, file.display)
    rows = bad = done = warnings = handed_off = 0
    for row in file.rows():
        rows += 1
        checked = checker.check(row)
        if journal is not None and journal.delivered(row.number):
            done += 1  # Stripe has it: a real run skips it, whatever the check says today
            continue
        if journal is not None and not resend_rejected and journal.handed_off(row.number):
            handed_off += 1  # its rejected-rows file's to send
            continue
        for problem in checked.problems:
            warnings += 0 if problem.is_error else 1
            on_problem(problem)
        if not checked.ok:
            bad += 1
    return PreflightReport(rows, bad, done, warnings, handed_off)
