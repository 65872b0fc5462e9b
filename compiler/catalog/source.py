"""Catalog files as loaded: plain values plus the place of every node.

The YAML reader produces `Document`s; the checks and the model builder read them. Keeping positions
beside plain data (rather than wrapping every value) lets the rest of the pipeline use ordinary dicts and lists
while any problem can still be reported as `file:line:col`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from compiler.errors import Location
from compiler.stripe.kinds import IDENTITY_FIELD, SECTION, Kind

#: A path to a node inside a document: mapping keys and list indexes, e.g. ("products", 0, "prices", 1).
NodePath = tuple[str | int, ...]


#: the kind of object each top-level list of a catalog file holds, in creation order
SECTIONS: Mapping[str, Kind] = {section: kind for kind, section in SECTION.items()}


@dataclass(frozen=True)
class Document:
    """One catalog file: its display path, its data, and the location of each node.

    `positions` maps a node's path to where its value starts; `key_positions` maps the path of a mapping
    entry to where its key starts (better for "unknown field" messages). The root path `()` is always present.
    `floats` holds every float the file puts under a mapping key, by path (few: a catalog's numbers are
    integers), so the check for floats where amounts go need not walk the whole document; `float_texts` how the
    file writes each float scalar (`25.00`), by the path it was read at (an alias's copy is not there).
    """

    file: str
    data: Any
    positions: Mapping[NodePath, Location] = field(default_factory=dict)
    key_positions: Mapping[NodePath, Location] = field(default_factory=dict)
    floats: Mapping[NodePath, float] = field(default_factory=dict)
    float_texts: Mapping[NodePath, str] = field(default_factory=dict)

    def at(self, path: NodePath, *, key: bool = False) -> Location:
        """The location of `path`, or of its nearest ancestor that has one."""
        table = self.key_positions if key else self.positions
        probe = tuple(path)
        while True:
            if probe in table:
                return table[probe]
            if key and probe in self.positions:
                return self.positions[probe]
            if not probe:
                return Location(self.file, 1, 1)
            probe = probe[:-1]


@dataclass(frozen=True)
class Entry:
    """One catalog object as written: its kind, the document and path it came from, and its fields.

    A price nested under a product has `product` filled in from its parent (`nested_in` says which).
    """

    kind: Kind
    doc: Document
    path: NodePath
    data: Mapping[str, Any]
    nested_in: str | None = None

    @property
    def identity(self) -> str | None:
        value = self.data.get(IDENTITY_FIELD[self.kind])
        return value if isinstance(value, str) else None

    @property
    def product(self) -> str | None:
        """The product id a price or plan belongs to (from its parent when nested)."""
        if self.nested_in is not None:
            return self.nested_in
        value = self.data.get("product")
        return value if isinstance(value, str) else None

    def where(self, *field_path: str | int, key: bool = False) -> Location:
        """The location of a field of this object (or of the object itself)."""
        return self.doc.at((*self.path, *field_path), key=key)

    def label(self) -> str:
        ident = self.identity
        return f"{self.kind.value} {ident!r}" if ident else f"{self.kind.value} at {self.where()}"


def is_entry_place(path: NodePath) -> bool:
    """Whether `path` is where a catalog object can sit (an item of a top-level list, or a price nested in a
    product), or above one: the places worth keeping when a file is read, as every object's model carries its
    place; the places of the fields inside are read again from the file only when a problem needs one."""
    return len(path) <= 2 or (len(path) == 4 and path[2] == "prices")


def iter_entries(doc: Document) -> Iterator[Entry]:
    """Every catalog object of a document, nested prices included, in file order.

    Tolerates malformed shapes (the schema reports those): anything that is not a list of mappings is skipped.
    """
    if not isinstance(doc.data, dict):
        return
    for section, kind in SECTIONS.items():
        items = doc.data.get(section)
        if not isinstance(items, list):
            continue
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                continue
            yield Entry(kind, doc, (section, index), item)
            if kind is Kind.PRODUCT and isinstance(item.get("prices"), list):
                parent = item.get("id") if isinstance(item.get("id"), str) else None
                for sub, price in enumerate(item["prices"]):
                    if isinstance(price, dict):
                        yield Entry(Kind.PRICE, doc, (section, index, "prices", sub), price, nested_in=parent)
