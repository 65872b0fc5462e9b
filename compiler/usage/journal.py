"""The import journal: which rows of a file Stripe has, so an interrupted import continues where it stopped.

A JSON Lines file, appended to and flushed before and after every batch:

    {"journal": "pricebook usage import", "version": 2, "file": "usage.csv", "sha256": "…", "created": 1717…}
    {"meter": "emails_sent", "id": "mtr_…"}              the account's meter, the first time a row uses it
    {"at": 1717…, "sending": [1, 2, 3, 4]}                rows about to be sent
    {"at": 1717…, "sent": [1, 2, 3], "already": [4]}      rows Stripe took (now, or before: already there)
    {"at": 1717…, "rejected": [5], "into": "usage.rejected.csv"}   rows refused, and the file they went to
    {"at": 1717…, "unsent": [6]}                          rows that were to be sent but were not (a stop)
    {"at": 1717…, "cancelled": [2]}                       rows cancelled with `usage cancel`

A row sent without an answer (the import was killed, or the network went) is *in doubt*: Stripe may have it.
Sending it again is safe while Stripe still knows its identifier (24 hours from when it was sent); after that,
it might be counted twice, so the next import leaves it out and says so (`in_doubt`).

A row refused is handed to the rejected-rows file it was written to (beside the file), to fix and import: a file
of its own, with its own journal. The next run of this file leaves it out (`handed_off`), unless told to send it
from here (`--resend-rejected`, which the import allows only once no file holds it). Its identifier there is not
the one it has here (`events.rejected_identifier`), so Stripe would count a row sent from both files twice, also
within its 24 hours: only the journal keeps it to one.

Rows are named by their number in the file, so the journal belongs to one content of the file (its SHA-256) and
to one account (the meter ids): another file, or another account, is refused rather than guessed at. Each
account has its own: `usage.csv.journal`, or `usage.csv.NAME.journal` for the environment NAME
(`default_journal`). Before starting one, an import continues any other journal of the file that records the
same account (`journal_for`): a row is never sent again because its journal had another name. Memory stays
flat: the rows done are kept as "every row up to N" plus the few done out of order beyond it, and the rows
refused one by one.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator, Mapping, Set
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

from compiler.errors import Diagnostic, InvalidUsageFile, Location
from compiler.stripe.facts import METER_EVENT_IDENTIFIER_WINDOW
from compiler.usage.rows import FileFormat, rejected_rows_path

KIND = "pricebook usage import"
#: a row sent without an answer is sent again only this soon after: an hour inside Stripe's identifier window,
#: for the clocks of this machine and Stripe's to differ and for the sending to take a while
SAFE_RESEND_SECONDS = METER_EVENT_IDENTIFIER_WINDOW.value - 3600
REPAIR_HINT = (
    "restore the journal as pricebook wrote it, or pass another --journal to start afresh (Stripe then answers "
    "the rows it took in the last 24 hours as already there)"
)
#: version 2 records the file rejected rows went to (`into`): a pricebook that reads only version 1 ignores that and
#: would send them again from the original file, so it must refuse a version-2 journal (it does: any other version)
VERSION = 2
#: the versions this pricebook reads: a version-1 journal continues as it is (its rejected rows count as handed to
#: the default rejected-rows file)
READABLE_VERSIONS = (1, 2)
SUFFIX = ".journal"


@dataclass
class RowSet:
    """A set of row numbers that fills from 1 upwards: every number up to `through`, plus `above`."""

    through: int = 0
    above: set[int] = field(default_factory=set)

    def add(self, number: int) -> None:
        if number <= self.through:
            return
        self.above.add(number)
        while self.through + 1 in self.above:
            self.through += 1
            self.above.discard(self.through)

    def __contains__(self, number: object) -> bool:
        return isinstance(number, int) and (0 < number <= self.through or number in self.above)


@dataclass(frozen=True)
class Delivery:
    """One line of the journal that says what happened to some rows, and when."""

    at: int
    sent: tuple[int, ...] = ()
    already: tuple[int, ...] = ()
    rejected: tuple[int, ...] = ()
    cancelled: tuple[int, ...] = ()
    sending: tuple[int, ...] = ()
    unsent: tuple[int, ...] = ()
    into: str | None = None  # the rejected-rows file (its name) the rejected rows went to; None: not recorded


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Journal:
    """An open journal. `processed` holds every row an import dealt with, `rejected` those of them refused and not
    taken since, with the rejected-rows file each went to: a row Stripe has is processed and not rejected
    (`delivered`)."""

    def __init__(self, path: Path, header: Mapping[str, Any]) -> None:
        self.path = path
        self.header = dict(header)
        self.meters: dict[str, str] = {}
        self.processed = RowSet()
        self.rejected: dict[int, str | None] = {}
        self.cancelled = RowSet()
        self.sending: dict[int, int] = {}  # rows sent and not answered yet: when they were sent
        self._handle: IO[str] | None = None
        self._last_sync = time.monotonic()

    @property
    def created(self) -> int:
        return int(self.header.get("created", 0))

    @classmethod
    def load(cls, path: Path, *, digest: str, display: str) -> Journal | None:
        """The journal at `path`, checked against the file's digest; None when there is none yet."""
        if not path.exists():
            return None
        journal: Journal | None = None
        for header, delivery, meter in _lines(path, display):
            if header is not None:
                if header.get("journal") != KIND:
                    raise _error(
                        path,
                        1,
                        "usage-journal",
                        "this is not a pricebook usage journal",
                        hint="pass --journal with the path of the journal the import writes, or a new one",
                    )
                if header.get("version") not in READABLE_VERSIONS:
                    raise _error(
                        path,
                        1,
                        "usage-journal",
                        f"this journal is version {header.get('version')!r}, written by another pricebook; this one "
                        "reads version 1 or 2",
                        hint="import with the pricebook that wrote the journal (a newer one, most likely), so that "
                        "no row is sent twice",
                    )
                if header.get("sha256") != digest:
                    raise _error(
                        path,
                        1,
                        "usage-journal",
                        f"the journal was written for another content of {display} (its rows are numbered by "
                        "position, so they would not match)",
                        hint=f"fixed rows go in a file of their own, not into this one: restore {display} as it "
                        f"was imported, fix the rows in {_rejected_rows(display)} (where the import wrote the rows "
                        "it rejected) and import that file; added rows too go in a new file. To import this "
                        "content from scratch, pass another --journal (rows Stripe took in the last 24 hours are "
                        "then refused as already there, but older ones would count twice)",
                    )
                journal = cls(path, header)
            elif journal is None:
                raise _error(
                    path, 1, "usage-journal", "the journal does not start with its header line", hint=REPAIR_HINT
                )
            elif meter is not None:
                journal.meters.update(meter)
            elif delivery is not None:
                journal._apply(delivery)
        return journal

    @classmethod
    def create(cls, path: Path, *, digest: str, display: str, now: int) -> Journal:
        header = {"journal": KIND, "version": VERSION, "file": display, "sha256": digest, "created": now}
        journal = cls(path, header)
        journal._write(header)
        return journal

    def _apply(self, delivery: Delivery) -> None:
        for number in delivery.sending:
            self.sending[number] = delivery.at
        for number in (*delivery.sent, *delivery.already, *delivery.rejected, *delivery.unsent):
            self.sending.pop(number, None)
        for number in (*delivery.sent, *delivery.already):
            self.processed.add(number)
            self.rejected.pop(number, None)
        for number in delivery.rejected:
            if not self.delivered(number):
                self.processed.add(number)
                self.rejected[number] = delivery.into
        for number in delivery.cancelled:
            self.cancelled.add(number)

    def delivered(self, number: int) -> bool:
        return number in self.processed and number not in self.rejected

    def handed_off(self, number: int) -> bool:
        """Refused and written to a rejected-rows file (`rejected[number]`), whose import sends it, so not sent
        from this file; unless --resend-rejected sent it since without an answer (in flight: see `in_doubt`)."""
        return number in self.rejected and number not in self.sending

    def in_doubt(self, number: int, now: int) -> bool:
        """Sent without an answer so long ago that Stripe may no longer know its identifier: sending it again
        could count it twice."""
        sent = self.sending.get(number)
        return sent is not None and now - sent > SAFE_RESEND_SECONDS

    # -- writing --------------------------------------------------------------------------------------------------

    def check_meters(self, current: Mapping[str, str | None], display: str) -> None:
        """Refuse an account other than the one the journal was written for: its meters have other ids."""
        for event_name, recorded in self.meters.items():
            now = current.get(event_name)
            if now is not None and now != recorded:
                raise _error(
                    self.path,
                    1,
                    "usage-journal",
                    f"the journal of {display} was written for another account (its meter {event_name!r} was "
                    f"{recorded}, this account's is {now})",
                    hint="each account has its own journal: name this one's environment with --env (its journal "
                    f"is {display}.NAME.journal), or pass --journal with a path for it",
                )

    def note_meter(self, event_name: str, meter_id: str) -> None:
        if self.meters.get(event_name) != meter_id:
            self.meters[event_name] = meter_id
            self._write({"meter": event_name, "id": meter_id})

    def record(self, delivery: Delivery) -> None:
        self._apply(delivery)
        line: dict[str, Any] = {"at": delivery.at}
        for name in ("sending", "sent", "already", "rejected", "unsent", "cancelled"):
            numbers = getattr(delivery, name)
            if numbers:
                line[name] = list(numbers)
        if delivery.rejected and delivery.into is not None:
            line["into"] = delivery.into
        self._write(line)

    def _write(self, line: Mapping[str, Any]) -> None:
        if self._handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = self.path.open("a", encoding="utf-8")
        self._handle.write(json.dumps(line, separators=(",", ":")) + "\n")
        self._handle.flush()  # a killed process loses nothing written: the OS has it
        if time.monotonic() - self._last_sync > 2.0:  # and a crashed machine little
            os.fsync(self._handle.fileno())
            self._last_sync = time.monotonic()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._handle.close()
            self._handle = None


# -- which journal -------------------------------------------------------------------------------------------------


def default_journal(file: Path, environment: str | None = None) -> Path:
    """Where an import of `file` keeps its journal: `usage.csv.journal`, or `usage.csv.NAME.journal` for the
    environment NAME (one journal per account; a name that is no plain file name is %-escaped)."""
    if environment is None:
        return file.with_name(file.name + SUFFIX)
    return file.with_name(f"{file.name}.{quote(environment, safe='')}{SUFFIX}")


@dataclass(frozen=True)
class JournalOwner:
    """Whose a journal is: the file it was written for (by name) and the meter ids of the account it recorded
    (none when it sent nothing)."""

    path: Path
    file_name: str
    meter_ids: frozenset[str]


def journals_of(file: Path) -> list[JournalOwner]:
    """The journals beside `file` under a default name (`default_journal`, any environment) written for it."""
    prefix = file.name + "."
    try:
        names = sorted(
            name
            for name in (entry.name for entry in file.parent.iterdir())
            if name.startswith(prefix) and name.endswith(SUFFIX) and len(name) >= len(file.name + SUFFIX)
        )
    except OSError:
        return []
    owners = (_owner(file.with_name(name)) for name in names)
    return [owner for owner in owners if owner is not None and owner.file_name == file.name]


def journal_for(file: Path, environment: str | None, account: Set[str] | None) -> Path:
    """The journal an import of `file` into the account whose meter ids are `account` continues: the
    environment's own (`default_journal`) unless another journal of the file records this account, say one
    written before journals were per environment, or under another environment's name for the same account.
    That one is continued, never a second one started: its rows would be sent again, and after Stripe's 24
    hours counted twice. With `account` None (the meters of a catalog, offline), the environment's own."""
    own = default_journal(file, environment)
    if account is None:
        return own
    mine = [owner.path for owner in journals_of(file) if owner.meter_ids & account]
    if own in mine or not mine:
        return own
    if len(mine) > 1:
        names = ", ".join(str(path) for path in mine)
        raise _error(
            mine[0],
            1,
            "usage-journal",
            f"{len(mine)} journals of {file.name} record this account ({names}); pricebook continues one journal "
            "per file and account",
            hint="pass --journal with the one to continue: rows the other records may then be sent again, and "
            "after Stripe's 24 hours counted twice, so check them against `pricebook usage summary` first",
        )
    return mine[0]


def _owner(path: Path) -> JournalOwner | None:
    """The journal's owner from its header and meter lines; None when it is no pricebook journal."""
    header: Any = None
    ids: set[str] = set()
    try:
        with path.open(encoding="utf-8") as handle:
            for text in handle:
                if header is None and text.strip():
                    header = json.loads(text)
                    if not isinstance(header, dict) or header.get("journal") != KIND:
                        return None
                elif text.startswith('{"meter"'):  # as `_write` writes them; deliveries need no decoding
                    ids.update(_meter_id(text))
    except (OSError, ValueError, RecursionError):  # unreadable, not UTF-8, not JSON: no journal, or its end
        pass
    if not isinstance(header, dict):
        return None
    return JournalOwner(path, Path(str(header.get("file", ""))).name, frozenset(ids))


def _meter_id(text: str) -> tuple[str, ...]:
    try:
        meter = json.loads(text)
    except ValueError:
        return ()  # the torn last line of a killed import
    return (str(meter["id"]),) if isinstance(meter, dict) and "id" in meter else ()


def deliveries(path: Path, display: str) -> Iterator[Delivery]:
    """Every delivery line of a journal, in order (for `usage cancel`)."""
    for _, delivery, _ in _lines(path, display):
        if delivery is not None:
            yield delivery


def _lines(path: Path, display: str) -> Iterator[tuple[dict[str, Any] | None, Delivery | None, dict[str, str] | None]]:
    try:
        handle = path.open(encoding="utf-8")
    except OSError as error:
        message = f"cannot read the journal: {error.strerror}"
        raise _error(path, 0, "usage-journal", message, hint="check the path and its permissions") from None
    with handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                data = json.loads(text)
            except (ValueError, RecursionError):
                if not text.endswith("\n"):
                    return  # the last write of a killed import: its rows are not recorded, and are sent again
                message = "this line of the journal is not JSON"
                raise _error(path, number, "usage-journal", message, hint=REPAIR_HINT) from None
            if not isinstance(data, dict):
                raise _error(
                    path, number, "usage-journal", "this line of the journal is not an object", hint=REPAIR_HINT
                )
            if "journal" in data:
                yield data, None, None
            elif "meter" in data:
                yield None, None, {str(data["meter"]): str(data["id"])}
            else:
                yield None, _delivery(data), None


def _delivery(data: Mapping[str, Any]) -> Delivery:
    def numbers(name: str) -> tuple[int, ...]:
        return tuple(int(n) for n in data.get(name) or ())

    return Delivery(
        int(data.get("at", 0)),
        sent=numbers("sent"),
        already=numbers("already"),
        rejected=numbers("rejected"),
        cancelled=numbers("cancelled"),
        sending=numbers("sending"),
        unsent=numbers("unsent"),
        into=str(data["into"]) if data.get("into") else None,
    )


def _rejected_rows(display: str) -> str:
    path = Path(display)
    if path.suffix:
        return str(rejected_rows_path(path, FileFormat.CSV))  # the format counts only without an extension
    return f"{display}.rejected.csv (or .jsonl)"


def _error(path: Path, line: int, rule: str, message: str, *, hint: str) -> InvalidUsageFile:
    return InvalidUsageFile([Diagnostic(Location(str(path), line), rule, message, hint=hint)])
