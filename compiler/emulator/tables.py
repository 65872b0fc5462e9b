"""The store's collections of records, which note what a write touched so that `--state` saves only that.

A `Table` (records by key) is a dict and a `Log` (records in the order they came) a list, with a name. While their
`Changes` record (the emulator turns that on around the handler of a write, when it keeps its state in a file),
every record a handler reaches through them is noted: looked up, put in, or met while going through the
collection; so is every key taken out. Afterwards the state file writes the noted records whose content changed
and deletes the keys taken out: a write costs what its own records cost, whatever the size of the account.

A handler may change a record it reached in any way, at any depth. What it must not do is reach a record other
than through its collection: nothing else in the store holds a record from one request to the next (an index
holds keys or positions, never records), so no change goes unnoticed. A new kind of record needs nothing more
than a `Table` or a `Log` in the store.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

Record = dict[str, Any]
#: (collection, key) -> the record now, or None when the key was taken out
Touched = dict[tuple[str, str], Record | None]
#: a value the store keeps outside its records (a counter, the account's id, how far its clock runs ahead)
Scalar = int | float | str


class Changes:
    """What the handlers of write requests touched since the state file last took it."""

    __slots__ = ("recording", "touched")

    def __init__(self) -> None:
        self.recording = False
        self.touched: Touched = {}

    def take(self) -> Touched:
        touched, self.touched = self.touched, {}
        return touched


class _Noting:
    """What a `Table` and a `Log` share: their name, and the `Changes` they note what a handler touches in."""

    __slots__ = ()  # each keeps `name` and `changes` in slots of its own (a dict's or list's layout allows no more)
    name: str
    changes: Changes | None

    def _noting(self) -> bool:
        return self.changes is not None and self.changes.recording

    def _note(self, key: str, record: Record | None) -> None:
        assert self.changes is not None
        self.changes.touched[(self.name, key)] = record


class Table(_Noting, dict[str, Record]):
    """Records by key (an id, a token, an idempotency key)."""

    __slots__ = ("changes", "name")

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.changes: Changes | None = None

    def __getitem__(self, key: str) -> Record:
        record = dict.__getitem__(self, key)
        if self._noting():
            self._note(key, record)
        return record

    def get(self, key: str, default: Record | None = None) -> Record | None:  # type: ignore[override]
        record = dict.get(self, key)
        if record is None:
            return default
        if self._noting():
            self._note(key, record)
        return record

    def __setitem__(self, key: str, record: Record) -> None:
        dict.__setitem__(self, key, record)
        if self._noting():
            self._note(key, record)

    def __delitem__(self, key: str) -> None:
        dict.__delitem__(self, key)
        if self._noting():
            self._note(key, None)

    def pop(self, key: str, *default: Any) -> Any:
        found = key in self
        record = dict.pop(self, key, *default)
        if found and self._noting():
            self._note(key, None)
        return record

    def values(self) -> Any:
        if not self._noting():
            return dict.values(self)
        return (record for _, record in self.items())

    def items(self) -> Any:
        if not self._noting():
            return dict.items(self)
        return self._noted_items()

    def _noted_items(self) -> Iterator[tuple[str, Record]]:
        for key, record in list(dict.items(self)):
            self._note(key, record)
            yield key, record

    def load(self, rows: Iterable[tuple[str, Record]]) -> None:
        """Records read back from the state file (nothing to note)."""
        for key, record in rows:
            dict.__setitem__(self, key, record)


class Log(_Noting, list[Record]):
    """Records in the order they came (meter events, cancellations); a record's key is its position, and an
    index refers to a record by its position."""

    __slots__ = ("changes", "name")

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.changes: Changes | None = None

    def append(self, record: Record) -> None:
        list.append(self, record)
        if self._noting():
            self._note(str(len(self) - 1), record)

    def __getitem__(self, position: Any) -> Any:
        found = list.__getitem__(self, position)
        if self._noting():
            start = range(len(self))[position] if isinstance(position, int) else None
            if start is not None:
                self._note(str(start), found)
            else:
                for index in range(len(self))[position]:
                    self._note(str(index), list.__getitem__(self, index))
        return found

    def __iter__(self) -> Iterator[Record]:
        if not self._noting():
            return list.__iter__(self)
        return (self[index] for index in range(len(self)))

    def load(self, rows: Iterable[tuple[str, Record]]) -> None:
        """Records read back from the state file, in their order (nothing to note)."""
        list.extend(self, (record for _, record in sorted(rows, key=lambda row: int(row[0]))))


Collection = Table | Log

__all__ = ["Changes", "Collection", "Log", "Record", "Scalar", "Table", "Touched"]
