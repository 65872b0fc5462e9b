"""`pricebook emulator --state FILE`: the account kept in SQLite (the standard library's `sqlite3`), one row per
record, so that it survives a restart.

Every request's changes are written in one transaction before its answer goes out: the records its handler
touched whose content changed, the keys it took out (`tables.Changes`), and the store's scalars (its counters,
the account's id, how far its clock runs ahead: `Store.scalars`). A write therefore costs what its own records
cost, not the size of the account. The database keeps a write-ahead log with `synchronous=NORMAL`: a committed
request survives the emulator being killed (kill -9 included), and a power cut may lose the last commits but
never leaves half of one.

A collection the store does not have (any more) is left alone in the file; one the file does not have starts
empty. New kinds of records need nothing here.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from compiler.emulator.tables import Collection, Record, Scalar, Touched

_SQLITE_HEADER = b"SQLite format 3\x00"
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS record ("
    " collection TEXT NOT NULL, key TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (collection, key))",
    "CREATE TABLE IF NOT EXISTS scalar (name TEXT PRIMARY KEY, value NOT NULL)",  # an integer or a text
)


class StateFileError(Exception):
    """The file named by --state cannot hold the emulator's state."""


def _body(record: Record) -> str:
    # `default=str` as the HTTP layer does: whatever the emulator answers with, it can keep
    return json.dumps(record, separators=(",", ":"), default=str)


def _digest(body: str) -> bytes:
    return hashlib.blake2b(body.encode(), digest_size=16).digest()


class StateFile:
    """One emulator's state file, open for as long as the emulator runs (used under its lock only)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if path.is_file() and path.stat().st_size:
            with path.open("rb") as file:
                if file.read(len(_SQLITE_HEADER)) != _SQLITE_HEADER:
                    raise StateFileError(
                        f"{path} is not an emulator state file (the state is kept in SQLite): "
                        "give --state a new file name, or delete this file"
                    )
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            for statement in _SCHEMA:
                self.db.execute(statement)
        except (OSError, sqlite3.Error) as error:
            raise StateFileError(f"cannot keep the emulator's state in {path}: {error}") from error
        self._digests: dict[tuple[str, str], bytes] = {}  # what each row holds, to skip records that did not change
        self._scalars: dict[str, Scalar] = {}

    def load(self, collections: Mapping[str, Collection]) -> dict[str, Scalar]:
        """Fill `collections` with the records the file holds (in the order they were first written); returns the
        scalars."""
        rows: dict[str, list[tuple[str, Record]]] = {name: [] for name in collections}
        for name, key, body in self.db.execute("SELECT collection, key, body FROM record ORDER BY rowid"):
            if name in rows:
                rows[name].append((key, json.loads(body)))
                self._digests[(name, key)] = _digest(body)
        for name, collection in collections.items():
            collection.load(rows[name])
        self._scalars = dict(self.db.execute("SELECT name, value FROM scalar"))
        return dict(self._scalars)

    def commit(self, touched: Touched, scalars: Mapping[str, Scalar]) -> None:
        """Write what one request changed, in one transaction (nothing at all when nothing changed)."""
        upserts: list[tuple[str, str, str]] = []
        deletes: list[tuple[str, str]] = []
        digests: dict[tuple[str, str], bytes | None] = {}
        for place, record in touched.items():
            if record is None:
                if place in self._digests:
                    deletes.append(place)
                    digests[place] = None
                continue
            body = _body(record)
            digest = _digest(body)
            if self._digests.get(place) != digest:
                upserts.append((*place, body))
                digests[place] = digest
        moved = {name: value for name, value in scalars.items() if self._scalars.get(name) != value}
        if not (upserts or deletes or moved):
            return
        with self._transaction():
            self.db.executemany("DELETE FROM record WHERE collection = ? AND key = ?", deletes)
            self.db.executemany(
                "INSERT INTO record (collection, key, body) VALUES (?, ?, ?) "
                "ON CONFLICT (collection, key) DO UPDATE SET body = excluded.body",
                upserts,
            )
            self.db.executemany(
                "INSERT INTO scalar (name, value) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                moved.items(),
            )
        for place, written in digests.items():  # what the file holds now
            if written is None:
                del self._digests[place]
            else:
                self._digests[place] = written
        self._scalars.update(moved)

    def replace_all(self, collections: Mapping[str, Collection], scalars: Mapping[str, Scalar]) -> None:
        """Write the whole state afresh (after a reset, or for a store built elsewhere)."""
        rows: list[tuple[str, str, str]] = []
        digests: dict[tuple[str, str], bytes] = {}
        for name, collection in collections.items():
            pairs = dict.items(collection) if isinstance(collection, dict) else enumerate(list.__iter__(collection))
            for key, record in pairs:
                body = _body(record)
                digests[(name, str(key))] = _digest(body)
                rows.append((name, str(key), body))
        with self._transaction():
            self.db.execute("DELETE FROM record")
            self.db.execute("DELETE FROM scalar")
            self.db.executemany("INSERT INTO record (collection, key, body) VALUES (?, ?, ?)", rows)
            self.db.executemany("INSERT INTO scalar (name, value) VALUES (?, ?)", scalars.items())
        self._digests = digests
        self._scalars = dict(scalars)

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def close(self) -> None:
        self.db.close()


def write_state(path: Path, collections: Mapping[str, Collection], scalars: Mapping[str, Scalar]) -> None:
    """A state file holding these records, for `--state` to start from (a benchmark's account, built elsewhere)."""
    state = StateFile(path)
    try:
        state.replace_all(collections, scalars)
    finally:
        state.close()


__all__ = ["StateFile", "StateFileError", "write_state"]
