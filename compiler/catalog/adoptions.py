"""The catalog's record of what it adopts: the `adopt:` section, one item per Stripe account.

    adopt:
      - account: acct_1Nv0FGQ9RKHgCVdK          # the account's id (GET /v1/account)
        mode: test                               # test or live: the same id has both
        products: {analytics: prod_E9aWj8Nap9i0Ub}    # catalog id: the Stripe id of the object it takes over
        prices: {analytics_monthly_usd: price_1NvA0b2C3d4E5f6G}   # lookup_key: price id
        plans: {gold: gold}

`pricebook adopt` writes it (to `adoptions.yaml`, beside the entries it writes); `plan` shows an adopt action for
each object it names that is not pricebook's yet, and `apply` marks them. Once applied an item changes nothing,
and it may stay (a record of where the objects came from) or go. Meters are not in it: a meter has no metadata,
and naming its event_name in the catalog is all it takes.

The schema checks its shape; the checks here need the whole catalog: every name is a catalog entry's, each account
(and mode) has one item, and no object is taken over twice.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from compiler.catalog.source import Document, Entry, NodePath
from compiler.errors import Diagnostic, Location
from compiler.stripe.kinds import IDENTITY_FIELD, Kind

#: the section of a catalog file that holds the record
SECTION = "adopt"
#: the record's mapping for each kind it names (meters need no record)
KIND_LISTS: Mapping[str, Kind] = {"products": Kind.PRODUCT, "prices": Kind.PRICE, "plans": Kind.PLAN}
MODES: Mapping[str, bool] = {"test": False, "live": True}

#: the rule ids these checks report
RULE_IDS: Mapping[str, str] = {
    "adopt-unknown-entry": "the adoption record names a catalog entry that no file defines (renamed in its file, "
    "but not in the record)",
    "adopt-duplicate-account": "the adoption record has one item per account and mode, across all files",
    "adopt-duplicate-object": "the adoption record takes each Stripe object over for one catalog entry",
}


@dataclass(frozen=True)
class AdoptionRecord:
    """One item of an `adopt:` section, as written (its names checked by `check_records`)."""

    account: str
    livemode: bool
    #: (kind, catalog identity) -> the Stripe id of the object it takes over, in file order
    targets: Mapping[tuple[Kind, str], str]
    doc: Document
    path: NodePath

    def where(self, *field_path: str | int, key: bool = False) -> Location:
        return self.doc.at((*self.path, *field_path), key=key)

    @property
    def label(self) -> str:
        return f"account {self.account} ({'live' if self.livemode else 'test'} mode)"


def read_records(doc: Document, rejected: set[NodePath]) -> list[AdoptionRecord]:
    """The items of `doc`'s `adopt:` section, except those under a path in `rejected` (the schema's errors)."""
    items = doc.data.get(SECTION) if isinstance(doc.data, dict) else None
    if not isinstance(items, list) or (SECTION,) in rejected:
        return []
    out = []
    for index, item in enumerate(items):
        path = (SECTION, index)
        if path in rejected or not isinstance(item, dict):
            continue
        targets = {
            (kind, str(key)): str(object_id)
            for name, kind in KIND_LISTS.items()
            for key, object_id in (item.get(name) or {}).items()
        }
        out.append(AdoptionRecord(str(item["account"]), MODES[item["mode"]], targets, doc, path))
    return out


def rejected_paths(paths: Sequence[NodePath]) -> set[NodePath]:
    """The items of `adopt:` sections that the schema found errors in (the section itself, when it is not a
    list), from the paths of its errors."""
    out: set[NodePath] = set()
    for path in paths:
        if path[:1] == (SECTION,):
            out.add(path[:2] if len(path) >= 2 else path[:1])
    return out


def check_records(records: Sequence[AdoptionRecord], entries: Sequence[Entry]) -> Iterator[Diagnostic]:
    """What the schema cannot see: names the catalog lacks, an account twice, an object taken over twice.
    `entries` are every entry the files define (even those the schema refused: their names exist)."""
    defined = {(e.kind, e.identity) for e in entries if e.identity is not None}
    first: dict[tuple[str, bool], AdoptionRecord] = {}
    for record in records:
        held = first.setdefault((record.account, record.livemode), record)
        if held is not record:
            yield Diagnostic(
                record.where("account"),
                "adopt-duplicate-account",
                f"the adoption record of {record.label} is written twice; also at {held.where('account')}",
                "merge the two items into one",
            )
        takers: dict[str, tuple[Kind, str]] = {}
        for (kind, key), object_id in record.targets.items():
            name = _list_name(kind)
            if (kind, key) not in defined:
                yield Diagnostic(
                    record.where(name, key, key=True),
                    "adopt-unknown-entry",
                    f"the adoption record of {record.label} names {kind.value} {key!r}, which no catalog file "
                    "defines",
                    f"the record names an entry by its {_identity(kind)}: write the one the entry has now (it was "
                    "renamed?), or remove the line",
                )
            taker = takers.setdefault(object_id, (kind, key))
            if taker != (kind, key):
                yield Diagnostic(
                    record.where(name, key),
                    "adopt-duplicate-object",
                    f"the adoption record of {record.label} takes {object_id} over for {kind.value} {key!r} and "
                    f"for {taker[0].value} {taker[1]!r}",
                    "an object in Stripe is one catalog entry: keep one of the two lines",
                )


def _list_name(kind: Kind) -> str:
    return next(name for name, listed in KIND_LISTS.items() if listed is kind)


def _identity(kind: Kind) -> str:
    return "lookup_key" if kind is Kind.PRICE else IDENTITY_FIELD[kind]


__all__ = ["KIND_LISTS", "MODES", "RULE_IDS", "SECTION", "AdoptionRecord", "check_records", "read_records"]
