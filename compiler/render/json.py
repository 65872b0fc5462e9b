"""The plan as JSON: `ChangeSet.to_json()`, the contract described by `schemas/changeset.schema.json`.

This is what `plan --out` saves and `apply --plan` reads back (`ChangeSet.from_json`), so it holds nothing
that depends on the time or the machine: the same catalog and account always give the same bytes.
Key order is the contract's own (format_version first), not sorted, and stable because every mapping in it
is built in a fixed order. It is compact (machine output: indenting 10,000 prices costs a third of a second of a
plan's critical path) unless `pretty`, which the CLI asks for when a person reads it on a terminal.

The catalog is half of a large plan's JSON, and is known long before the account has been read: `CatalogJson`
encodes it meanwhile, on a thread of its own, and `render_json` writes that text in the catalog's place (the same
bytes as encoding it there: a compact object or array is its members' encodings joined by commas).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from typing import Any

from compiler.changes.changeset import ChangeSet, json_value, resource_json
from compiler.changes.model import Resource

#: catalog objects encoded at a time by `CatalogJson`, between which the other threads get the interpreter (a
#: few hundred microseconds each: the account read on the main thread is never held up for longer)
CHUNK = 100


def render_json(changeset: ChangeSet, *, pretty: bool = False, catalog: CatalogJson | None = None) -> str:
    """`changeset` as JSON; `catalog`, when it has encoded the changeset's own catalog by now, is written as it is."""
    if pretty:
        return json.dumps(changeset.to_json(), indent=2, ensure_ascii=False, default=json_value) + "\n"
    text = catalog.text(changeset.catalog) if catalog is not None else None
    if text is None:
        return _compact(changeset.to_json()) + "\n"
    data = changeset.to_json(with_catalog=False)
    members = (f"{_compact(key)}:{text if key == 'catalog' else _compact(value)}" for key, value in data.items())
    return "{" + ",".join(members) + "}\n"


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=json_value)


class CatalogJson:
    """The catalog's part of a plan's compact JSON, encoded on a thread of its own from when it is started (the
    CLI starts it once the catalog is checked, while the account is still being read) a chunk at a time."""

    def __init__(self) -> None:
        self._resources: tuple[Resource, ...] | None = None
        self._text: str | None = None
        self._stop = threading.Event()
        self._ended = threading.Event()

    def start(self, resources: tuple[Resource, ...]) -> None:
        self._resources = resources
        threading.Thread(target=self._encode, args=(resources,), name="pricebook-catalog-json", daemon=True).start()

    def _encode(self, resources: Sequence[Resource]) -> None:
        try:
            parts = []
            for start in range(0, len(resources), CHUNK):
                if self._stop.is_set():
                    return
                parts.append(_compact([resource_json(r) for r in resources[start : start + CHUNK]])[1:-1])
                time.sleep(0)  # lets a thread waiting for the interpreter (the read) have it
            self._text = "[" + ",".join(parts) + "]"
        except Exception:  # shown nowhere from here: render_json then encodes the catalog itself, and fails there
            self._text = None
        finally:
            self._ended.set()

    def wait(self, timeout: float) -> bool:
        """Whether the encoding has ended (done, stopped or failed) within `timeout` seconds."""
        return self._ended.wait(timeout)

    def text(self, resources: tuple[Resource, ...]) -> str | None:
        """The encoded catalog, when it is `resources` (the very tuple) and is ready; None otherwise (then it is
        encoded with the rest). Either way the encoding stops: it is not needed any more."""
        self._stop.set()
        return self._text if resources is self._resources else None


__all__ = ["CHUNK", "CatalogJson", "render_json"]
