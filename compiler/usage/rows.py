"""Reading a usage file one row at a time: CSV in the columns of Stripe's bulk upload, or JSON Lines.

CSV: a header, then one event a row. Columns are `event_name`, `timestamp` and `identifier` (both optional) and
one `payload_<key>` column per payload key, as Stripe's Dashboard upload takes them
(`timestamp,event_name,payload_stripe_customer_id,payload_value`). An empty cell is an absent value.

JSON Lines: one object a line, shaped as Stripe's API takes an event:
`{"event_name": "emails_sent", "timestamp": 1717243200, "identifier": "...", "payload": {"stripe_customer_id":
"cus_...", "value": "25"}}`; payload values are strings or integers.

Rows come with their place (`number`, their position among the file's rows, and `line`, where they start),
whatever was wrong with their shape, and their `source` (a CSV row's cells, a JSON line's text), so that a rejected
row can be written back as the file had it (`RowWriter`): a file of the rejected rows, in the input's format,
that the user fixes and imports. The file is never held in memory. Problems of the whole file (no header, an
unknown column) stop the reading with an `InvalidUsageFile`.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

from compiler.errors import Diagnostic, InvalidUsageFile, Location
from compiler.stripe.facts import BULK_PAYLOAD_PREFIX, BULK_UPLOAD_DOC

READ_BUFFER = 1 << 20
QUOTING = "a field with a comma, a quote or a line break is written in double quotes, a quote inside doubled"
#: the columns (CSV) and keys (JSON Lines) of an event besides its payload
EVENT_FIELDS = ("event_name", "timestamp", "identifier")


class FileFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"

    @classmethod
    def of(cls, path: Path) -> FileFormat:
        """By extension: `.csv` is CSV, `.jsonl` / `.ndjson` / `.json` JSON Lines; anything else by its first byte."""
        suffix = path.suffix.lower()
        if suffix == ".csv":
            return cls.CSV
        if suffix in (".jsonl", ".ndjson", ".json"):
            return cls.JSONL
        with path.open("rb") as handle:
            head = handle.read(512).lstrip(b"\xef\xbb\xbf \t\r\n")
        return cls.JSONL if head.startswith(b"{") else cls.CSV


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One row as written. `payload` values are as read (strings, or a JSON value to be checked)."""

    number: int  # 1 for the first event of the file, whatever the header and blank lines
    line: int
    event_name: Any = None
    timestamp: Any = None
    identifier: Any = None
    payload: Mapping[str, Any] = field(default_factory=dict)
    problems: tuple[Diagnostic, ...] = ()
    #: the row as written: a CSV row's cells (a list of str), a JSON line's text (a str)
    source: Any = None


class ByteCounter:
    """The bytes read so far, for progress and its ETA."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0


def read_rows(path: Path, fmt: FileFormat, display: str, counter: ByteCounter | None = None) -> Iterator[SourceRow]:
    """The rows of `path` in order; `display` is how places name the file."""
    try:
        # big reads: each one lets the sending threads take the interpreter, and getting it back can wait a
        # thread switch interval, so a small buffer makes reading the slow part of an import
        handle = path.open("rb", buffering=READ_BUFFER)
    except OSError as error:
        raise InvalidUsageFile(
            [
                Diagnostic(
                    Location(display),
                    "usage-file-unreadable",
                    f"cannot read the file: {error.strerror}",
                    hint="check the path and its permissions",
                )
            ]
        ) from None
    with handle:
        lines = _decoded_lines(handle, display, counter)
        yield from (_csv_rows if fmt is FileFormat.CSV else _jsonl_rows)(lines, display)


def _decoded_lines(handle: IO[bytes], display: str, counter: ByteCounter | None) -> Iterator[str]:
    first = True
    for number, raw in enumerate(handle, start=1):
        if counter is not None:
            counter.done += len(raw)
        if first and raw.startswith(b"\xef\xbb\xbf"):  # a byte order mark, as spreadsheets write
            raw = raw[3:]
        first = False
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidUsageFile(
                [
                    Diagnostic(
                        Location(display, number),
                        "usage-file-unreadable",
                        "this line is not UTF-8 text",
                        hint="save the file as UTF-8 (CSV UTF-8 in a spreadsheet)",
                    )
                ]
            ) from None


# -- CSV ---------------------------------------------------------------------------------------------------------


def _csv_rows(lines: Iterator[str], display: str) -> Iterator[SourceRow]:
    reader = csv.reader(lines, strict=True)
    try:
        header = next(reader, None)
        while header is not None and not any(cell.strip() for cell in header):
            header = next(reader, None)
    except csv.Error as error:
        message = f"the header is not valid CSV: {error}"
        raise _file_error(display, reader.line_num, "usage-csv-syntax", message, hint=QUOTING) from None
    if header is None:
        raise _file_error(
            display,
            1,
            "usage-csv-header",
            "the file has no header row",
            hint="the first line names the columns: timestamp,event_name,payload_stripe_customer_id,payload_value",
        )
    columns = _columns(header, display, reader.line_num)
    width = len(columns)
    fields = {name: index for index, (kind, name) in enumerate(columns) if kind == "field"}
    payload_columns = [(index, name) for index, (kind, name) in enumerate(columns) if kind == "payload"]
    event_at, timestamp_at, identifier_at = (fields.get(name) for name in EVENT_FIELDS)
    number = 0
    previous_end = reader.line_num
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            line = previous_end + 1
            message = f"this row is not valid CSV: {error}"
            raise _file_error(display, line, "usage-csv-syntax", message, hint=QUOTING) from None
        start, previous_end = previous_end + 1, reader.line_num
        if not cells or (len(cells) == 1 and not cells[0].strip()):
            continue  # a blank line
        number += 1
        if len(cells) != width:
            problem = Diagnostic(
                Location(display, start),
                "usage-csv-row",
                f"this row has {len(cells)} field(s), the header has {width}",
                hint="quote any field that contains a comma",
            )
            yield SourceRow(number, start, problems=(problem,), source=cells)
            continue
        # an empty cell is an absent value
        yield SourceRow(
            number,
            start,
            (cells[event_at] or None) if event_at is not None else None,
            (cells[timestamp_at] or None) if timestamp_at is not None else None,
            (cells[identifier_at] or None) if identifier_at is not None else None,
            {name: cells[index] for index, name in payload_columns if cells[index]},
            source=cells,
        )


def _columns(header: list[str], display: str, line: int) -> list[tuple[str, str]]:
    """Each column as ("field", name) or ("payload", key); a column pricebook cannot place stops the import."""
    columns: list[tuple[str, str]] = []
    seen: set[str] = set()
    problems: list[Diagnostic] = []
    for raw in header:
        name = raw.strip()
        if name in seen:
            problems.append(
                _problem(
                    display,
                    line,
                    "usage-csv-header",
                    f"the column {name!r} appears twice",
                    hint="each column once: which of the two would the row's value be?",
                )
            )
        seen.add(name)
        if name in EVENT_FIELDS:
            columns.append(("field", name))
        elif name.startswith(BULK_PAYLOAD_PREFIX) and len(name) > len(BULK_PAYLOAD_PREFIX):
            columns.append(("payload", name[len(BULK_PAYLOAD_PREFIX) :]))
        else:
            problems.append(
                Diagnostic(
                    Location(display, line),
                    "usage-unknown-column",
                    f"the column {name!r} is not an event field or a payload column",
                    hint=f"columns are {', '.join(EVENT_FIELDS)} and payload_<key> for each payload key, e.g. "
                    f"payload_stripe_customer_id and payload_value, as Stripe's bulk upload takes them "
                    f"({BULK_UPLOAD_DOC})",
                )
            )
    if "event_name" not in seen:
        problems.append(
            _problem(
                display,
                line,
                "usage-csv-header",
                "the header has no event_name column",
                hint="the header names the columns: timestamp,event_name,payload_stripe_customer_id,payload_value",
            )
        )
    if problems:
        raise InvalidUsageFile(problems)
    return columns


# -- JSON Lines ----------------------------------------------------------------------------------------------------


def _jsonl_rows(lines: Iterator[str], display: str) -> Iterator[SourceRow]:
    number = 0
    for line_number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        number += 1
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as error:  # the decoder recurses once per level of nesting
            reason = "it nests too deeply" if isinstance(error, RecursionError) else str(error)
            problem = _problem(
                display,
                line_number,
                "usage-json-syntax",
                f"this line is not valid JSON: {reason}",
                hint='each line is one event: {"event_name": ..., "payload": {...}}',
            )
            yield SourceRow(number, line_number, problems=(problem,), source=text)
            continue
        if not isinstance(data, dict):
            problem = _problem(
                display,
                line_number,
                "usage-json-syntax",
                f"this line is a JSON {type(data).__name__}, not an object",
                hint='each line is one event: {"event_name": ..., "payload": {...}}',
            )
            yield SourceRow(number, line_number, problems=(problem,), source=text)
            continue
        problems = []
        unknown = sorted(set(data) - {*EVENT_FIELDS, "payload"})
        if unknown:
            problems.append(
                _problem(
                    display,
                    line_number,
                    "usage-unknown-field",
                    f"unknown key(s) {', '.join(map(repr, unknown))}",
                    hint="an event has event_name, payload, and optionally timestamp and identifier; payload keys "
                    "go inside payload",
                )
            )
        payload = data.get("payload")
        if payload is None:
            payload = {}
        elif not isinstance(payload, dict):
            problems.append(
                _problem(
                    display,
                    line_number,
                    "usage-json-syntax",
                    "payload is not an object of key: value pairs",
                    hint='e.g. "payload": {"stripe_customer_id": "cus_...", "value": "5"}',
                )
            )
            payload = {}
        yield SourceRow(
            number,
            line_number,
            event_name=data.get("event_name"),
            timestamp=data.get("timestamp"),
            identifier=data.get("identifier"),
            payload=payload,
            problems=tuple(problems),
            source=text,
        )


# -- writing rows back ------------------------------------------------------------------------------------------


def rejected_rows_path(path: Path, fmt: FileFormat) -> Path:
    """Where an import writes the rows it rejected, in the file's own format: `usage.csv` -> `usage.rejected.csv`
    (a file without an extension gets its format's)."""
    if path.suffix:
        return path.with_name(f"{path.stem}.rejected{path.suffix}")
    return path.with_name(f"{path.name}.rejected.{fmt.value}")


class RowWriter:
    """Rows written back as `source` (a file of `fmt`) had them, the CSV header first: a file that imports like the
    one it came from. A row without an identifier gets the one it is given (an `identifier` column is added to a
    CSV file without one): a derived identifier knows only a row's content and position, so a fixed row could
    otherwise take the identifier of another row, at the same position in the first file, and be dropped as
    already there. Created on the first row, never over a file that is there (the user may be fixing it)."""

    def __init__(self, source: Path, fmt: FileFormat, path: Path) -> None:
        self.source = source
        self.fmt = fmt
        self.path = path
        self._handle: IO[str] | None = None
        self._csv: Any = None
        self._identifier_at = -1  # the identifier column of the CSV header; its end when the file has none
        self._width = 0

    def write(self, row: Any, identifier: str) -> None:
        """`row` as read (`SourceRow.source`), with `identifier` where it has none."""
        if self._handle is None:
            self._handle = self.path.open("x", encoding="utf-8", newline="")
            if self.fmt is FileFormat.CSV:
                header = _header_of(self.source)
                self._width = len(header)
                names = [cell.strip() for cell in header]
                if "identifier" in names:
                    self._identifier_at = names.index("identifier")
                else:
                    self._identifier_at = len(header)
                    header = [*header, "identifier"]
                self._csv = csv.writer(self._handle, lineterminator="\n")
                self._csv.writerow(header)
        if self._csv is not None:
            cells = list(row) if isinstance(row, list) else []
            if len(cells) == self._width:  # a row of the wrong width is written as it is, for the user to fix
                if self._identifier_at == len(cells):
                    cells.append(identifier)
                elif not cells[self._identifier_at]:
                    cells[self._identifier_at] = identifier
            self._csv.writerow(cells)
        else:
            self._handle.write(_with_identifier(str(row or "").rstrip("\r\n"), identifier) + "\n")

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()


def _with_identifier(line: str, identifier: str) -> str:
    """A JSON line with `identifier` added if it has none; a line that is no JSON object stays as it is."""
    try:
        data = json.loads(line)
    except (ValueError, RecursionError):
        return line
    if not isinstance(data, dict) or data.get("identifier"):
        return line
    return json.dumps({**data, "identifier": identifier}, ensure_ascii=False)


def _header_of(path: Path) -> list[str]:
    """The header row of a CSV file (read when the first row is rejected, long after the header was checked)."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for cells in csv.reader(handle):
            if any(cell.strip() for cell in cells):
                return cells
    return []


def _problem(display: str, line: int, rule: str, message: str, *, hint: str | None = None) -> Diagnostic:
    return Diagnostic(Location(display, line), rule, message, hint=hint)


def _file_error(display: str, line: int, rule: str, message: str, *, hint: str) -> InvalidUsageFile:
    return InvalidUsageFile([_problem(display, line, rule, message, hint=hint)])
