"""The catalog as values: one `Resource` per object, in the order Stripe needs them created; `load_catalog`
checks the files and builds it, keeping the check's warnings beside it for every command to show.

A `Resource` keeps two views of the same object: `params`, the fields exactly as the user wrote them (what
`compile` sends, so the curl examples of Stripe's guides come out parameter for parameter), and `attrs`, the
canonical form (`stripe.fields.catalog_canonical`) that the diff compares with the live account.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from compiler.catalog.adoptions import AdoptionRecord
from compiler.catalog.source import Entry, NodePath
from compiler.errors import Diagnostic, Location
from compiler.stripe.fields import MANAGED_METADATA, catalog_canonical, meter_of
from compiler.stripe.kinds import KIND_ORDER, Kind

if TYPE_CHECKING:
    from compiler.catalog.check import CheckResult
    from compiler.catalog.files import PresetVariables


class CanonicalAttrs(Mapping[str, Any]):
    """A resource's canonical form (`catalog_canonical` of its params), worked out the first time it is read:
    the diff reads it for every resource, compile and quote never, and at 100,000 prices it was most of the
    model's memory. Pickled as the plain mapping once worked out."""

    __slots__ = ("_kind", "_params", "_value")

    def __init__(self, kind: Kind, params: Mapping[str, Any]) -> None:
        self._kind = kind
        self._params = params
        self._value: dict[str, Any] | None = None

    def _form(self) -> dict[str, Any]:
        if self._value is None:
            self._value = catalog_canonical(self._kind, self._params)
        return self._value

    def __getitem__(self, key: str) -> Any:
        return self._form()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._form())

    def __len__(self) -> int:
        return len(self._form())

    def __repr__(self) -> str:
        return repr(self._form())

    def __reduce__(self) -> tuple[Any, ...]:
        return dict, (self._form(),)


class FieldPlaces:
    """Where an entry writes each of its fields (where the field's key is), found when a problem asks for one.

    A catalog file is read keeping only where its objects sit; the places of their fields are read again from
    the file's text the first time one is asked for (`yaml_reader.Positions`), in whichever process asks: a
    `Location` for every field of 100,000 prices, made up front, more than doubled what compile takes. Holds
    the file's key places, which all its entries share, and the entry's path."""

    __slots__ = ("_keys", "_path")

    def __init__(self, keys: Mapping[NodePath, Location], path: NodePath) -> None:
        self._keys = keys
        self._path = path

    def get(self, name: str) -> Location | None:
        return self._keys.get((*self._path, name))


@dataclass(frozen=True)
class Resource:
    kind: Kind
    key: str  # the catalog identity: product id, price lookup_key, plan id, meter event_name
    params: Mapping[str, Any]  # as written (nested prices get `product`), plus the ownership metadata
    attrs: Mapping[str, Any]  # canonical, for the diff
    location: Location | None = None
    #: where each field the entry writes is (its key), for problems about one field
    fields: FieldPlaces | None = field(default=None, compare=False, repr=False)

    @property
    def address(self) -> str:
        """How the plan output names it: `price.emails_per_1000_monthly`."""
        return f"{self.kind.value}.{self.key}"

    def where(self, name: str | None = None) -> Location | None:
        """Where the catalog writes field `name` (a dotted name by its first part), else the entry itself."""
        if name is not None and self.fields is not None:
            found = self.fields.get(name.split(".", 1)[0])
            if found is not None:
                return found
        return self.location

    @property
    def product(self) -> str | None:
        value = self.params.get("product")
        return value if isinstance(value, str) else None

    @property
    def meter(self) -> str | None:
        """The event_name of the meter a metered price or plan bills from."""
        return meter_of(self.kind, self.params)


@dataclass(frozen=True)
class Adoption:
    """What the catalog takes over in one account: for some entries (kind, catalog identity), the Stripe id of
    the object made by hand that the entry is (`plan` shows each as an adopt action until `apply` marks it)."""

    account: str  # `acct_...`
    livemode: bool
    targets: Mapping[tuple[Kind, str], str]
    location: Location | None = None

    @property
    def mode(self) -> str:
        return "live" if self.livemode else "test"


@dataclass(frozen=True)
class Catalog:
    resources: tuple[Resource, ...] = ()
    _index: Mapping[tuple[Kind, str], Resource] = field(default_factory=dict, repr=False, compare=False)
    #: per account, the objects made by hand that catalog entries take over
    adoptions: tuple[Adoption, ...] = ()

    @classmethod
    def of(cls, resources: Sequence[Resource], adoptions: Sequence[Adoption] = ()) -> Catalog:
        ordered = tuple(sorted(resources, key=lambda r: KIND_ORDER.index(r.kind)))
        return cls(ordered, {(r.kind, r.key): r for r in ordered}, tuple(adoptions))

    def get(self, kind: Kind, key: str) -> Resource | None:
        return self._index.get((kind, key))

    def adoption(self, account: str, livemode: bool) -> Adoption | None:
        """What the catalog takes over in this account (None: nothing)."""
        return next((a for a in self.adoptions if a.account == account and a.livemode == livemode), None)

    def of_kind(self, kind: Kind) -> tuple[Resource, ...]:
        return tuple(r for r in self.resources if r.kind is kind)

    def __iter__(self) -> Iterator[Resource]:
        return iter(self.resources)

    def __len__(self) -> int:
        return len(self.resources)


def resource_from_entry(entry: Entry) -> Resource | None:
    """The model of one checked catalog entry (None when it has no identity, which the rules report)."""
    key = entry.identity
    if key is None:
        return None
    params: dict[str, Any] = {k: v for k, v in entry.data.items() if k != "prices"}
    if entry.kind is Kind.PRICE and entry.nested_in is not None:
        params["product"] = entry.nested_in
    if entry.kind is not Kind.METER:
        params["metadata"] = {**(params.get("metadata") or {}), **MANAGED_METADATA}
    places = FieldPlaces(entry.doc.key_positions, entry.path)
    return Resource(entry.kind, key, params, CanonicalAttrs(entry.kind, params), entry.where(), places)


def build_catalog(entries: Sequence[Entry], records: Sequence[AdoptionRecord] = ()) -> Catalog:
    """The catalog model from entries that passed the schema and the rules (first definition wins), with the
    adoption record's items."""
    seen: dict[tuple[Kind, str], Resource] = {}
    for entry in entries:
        resource = resource_from_entry(entry)
        if resource is not None:
            seen.setdefault((resource.kind, resource.key), resource)
    adoptions = [Adoption(r.account, r.livemode, r.targets, r.where()) for r in records]
    return Catalog.of(list(seen.values()), adoptions)


@dataclass(frozen=True)
class CheckedCatalog:
    """A catalog that passed the schema and the rules, with the warnings they gave: every command that loads a
    catalog shows them."""

    catalog: Catalog
    warnings: tuple[Diagnostic, ...] = ()


def load_catalog(
    paths: Sequence[str],
    var: Sequence[str] = (),
    vars_file: str | None = None,
    preset: PresetVariables | None = None,
) -> CheckedCatalog:
    """The checked catalog below `paths`, with the command line's --var NAME=VALUE and --vars FILE over the
    `preset` variables (an environment's) for templates; an invalid one stops here (InvalidCatalog, with every
    diagnostic)."""
    # imported here: `plan` and `apply` check in a child process, and their own start-up need not load the
    # schema and the rules
    from compiler.catalog.check import check_with_options
    from compiler.catalog.files import NO_PRESET

    result = check_with_options(paths, var, vars_file, NO_PRESET if preset is None else preset)
    result.raise_for_errors()
    return modelled(result)


def modelled(result: CheckResult) -> CheckedCatalog:
    """The model of a catalog whose check passed: its entries, its adoption record, and the check's warnings
    (the one way from a check to a model, whichever process checked)."""
    return CheckedCatalog(build_catalog(result.entries, result.adoptions), tuple(result.warnings))
