"""The account as catalog files: what `pricebook import` writes (pure: an `AccountState` in, YAML text out).

The files read back into the catalog the account already is, so `plan` on them shows no changes: an import
is a starting point the next plan agrees with. That decides what is written and how:

- Only what pricebook owns: managed products, prices and plans, and the meters they bill from (a meter has no
  ownership mark; it is pricebook's once the catalog names it). Unmanaged objects are left out (pricebook never
  touches them) unless asked for, and then go to a file of their own that `plan` refuses until they are adopted.
- Archived objects are left out: they are not part of the desired catalog, and writing them would make `plan`
  reactivate them. The one exception is an archived product that a written price still needs: it is written
  with `active: false`, which is what the account has. An inactive meter a written price still needs is written
  too, with a warning: a catalog cannot keep a meter inactive, so `plan` will reactivate it.
- Fields at their Stripe default are left out (no `active: true`, no `interval_count: 1`, no `managed_by`
  metadata: pricebook adds that itself), amounts are written as the user would write them (`unit_amount: 1000`,
  decimal strings quoted, `up_to: inf`), prices nest under their product, and small mappings use flow style.

Every value is taken from the canonical attrs (`stripe.fields.canonical`), so whatever `canonical` makes of the
file equals what it made of the account. Each file is read back with pricebook's own YAML reader before it is
returned: a value the YAML would not carry back unchanged is a bug here, reported rather than written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from compiler.catalog.adoptions import KIND_LISTS
from compiler.catalog.adoptions import SECTION as ADOPTION_SECTION
from compiler.catalog.rules.metadata import CATALOG_METADATA_KEYS
from compiler.catalog.yaml_reader import load_text
from compiler.changes.model import Adoption
from compiler.errors import ExportError
from compiler.stripe.facts import METADATA_KEYS, PRICE_AMOUNT, TIER_AMOUNT_PAIRS
from compiler.stripe.fields import MANAGED_BY_KEY, RESERVED_ROOM, SPECS, meter_of, unstated
from compiler.stripe.kinds import KIND_ORDER, SECTION, Kind
from compiler.stripe.state import AccountState, LiveObject

DEFAULT_SCHEMA_REF = "../schemas/catalog.schema.json"
METERS_FILE, PRODUCTS_FILE, PLANS_FILE, UNMANAGED_FILE = "meters.yaml", "products.yaml", "plans.yaml", "unmanaged.yaml"
#: where `pricebook adopt` keeps the record of what the catalog takes over in each account (the `adopt:` section)
ADOPTIONS_FILE = "adoptions.yaml"
ADOPT_STEP = (
    f"run `pricebook adopt`, whose plan marks it with metadata {MANAGED_BY_KEY}=pricebook (a price without a "
    "lookup_key gets one)"
)
WIDTH = 120

#: house order of each kind's fields (as plans/ writes them); fields of SPECS not named here follow in SPECS order
ORDER: Mapping[Kind, tuple[str, ...]] = {
    Kind.METER: ("event_name", "display_name", "default_aggregation", "customer_mapping", "value_settings"),
    Kind.PRODUCT: ("id", "name", "active", "description", "unit_label", "default_price", "metadata"),
    Kind.PRICE: (
        "lookup_key",
        "product",
        "nickname",
        "currency",
        "unit_amount",
        "unit_amount_decimal",
        "custom_unit_amount",
        "billing_scheme",
        "tiers_mode",
        "tiers",
        "currency_options",
        "recurring",
        "transform_quantity",
        "tax_behavior",
        "metadata",
    ),
    Kind.PLAN: (
        "id",
        "product",
        "nickname",
        "currency",
        "amount",
        "amount_decimal",
        "billing_scheme",
        "tiers_mode",
        "tiers",
        "interval",
        "interval_count",
        "usage_type",
        "meter",
        "transform_usage",
        "trial_period_days",
        "metadata",
    ),
}


# ---------------------------------------------------------------------------------------------------------
# results


@dataclass(frozen=True)
class ExportFile:
    name: str
    text: str
    #: how many objects of each kind the file holds
    counts: Mapping[Kind, int]
    #: its entries that validate refuses as written, each said with what to do (see `_refused`)
    refused: tuple[str, ...] = ()


#: why an object was not written
ARCHIVED = "archived"
UNMANAGED = "unmanaged"
NO_IDENTITY = "no identity"
UNREFERENCED = "unreferenced"


@dataclass(frozen=True)
class Export:
    files: tuple[ExportFile, ...]
    #: reason -> kind -> how many objects were left out for it
    left_out: Mapping[str, Mapping[Kind, int]]
    #: things the user should know: the files will not round-trip cleanly because of them
    warnings: tuple[str, ...] = ()

    @property
    def refused(self) -> tuple[str, ...]:
        """The entries validate refuses as written, one line each (the files must be edited before plan)."""
        return tuple(line for file in self.files for line in file.refused)

    def file(self, name: str) -> ExportFile | None:
        return next((f for f in self.files if f.name == name), None)

    def left_out_count(self, reason: str) -> int:
        return sum(self.left_out.get(reason, {}).values())


def describe_counts(counts: Mapping[Kind, int]) -> str:
    """`1 product, 2 prices` (kinds in creation order, zero counts left out)."""
    parts = []
    for kind in KIND_ORDER:
        n = counts.get(kind, 0)
        if n:
            parts.append(f"{n} {kind.value}{'' if n == 1 else 's'}")
    return ", ".join(parts) or "nothing"


# ---------------------------------------------------------------------------------------------------------
# choosing what goes where


@dataclass
class _Selection:
    """The objects of one file, by kind."""

    meters: list[LiveObject] = field(default_factory=list)
    products: list[LiveObject] = field(default_factory=list)
    prices: list[LiveObject] = field(default_factory=list)
    plans: list[LiveObject] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.meters or self.products or self.prices or self.plans)

    def all(self) -> tuple[LiveObject, ...]:
        return (*self.meters, *self.products, *self.prices, *self.plans)


def export_objects(
    objects: Sequence[LiveObject],
    *,
    single_file: str | None = None,
    schema_ref: str = DEFAULT_SCHEMA_REF,
    livemode: bool = False,
    written_by: str = "adopt",
) -> Export:
    """`objects` as catalog files, each written whatever its state (archived ones with `active: false`): meters.yaml,
    products.yaml (prices nested under their products, a price whose product is not among `objects` at the top
    level, naming it) and plans.yaml, or all in `single_file`. Files that would be empty are not returned."""
    selection = _Selection()
    for obj in objects:
        {
            Kind.METER: selection.meters,
            Kind.PRODUCT: selection.products,
            Kind.PRICE: selection.prices,
            Kind.PLAN: selection.plans,
        }[obj.kind].append(obj)
    header = _header(schema_ref, livemode, written_by)
    if single_file is not None:
        files = [_file(single_file, header, selection, KIND_ORDER)] if selection else []
    else:
        files = []
        if selection.meters:
            files.append(_file(METERS_FILE, header, selection, (Kind.METER,)))
        if selection.products or selection.prices:
            files.append(_file(PRODUCTS_FILE, header, selection, (Kind.PRODUCT, Kind.PRICE)))
        if selection.plans:
            files.append(_file(PLANS_FILE, header, selection, (Kind.PLAN,)))
    return Export(tuple(files), {}, tuple(unstated_warnings(objects)))


def unstated_warnings(objects: Iterable[LiveObject]) -> list[str]:
    """One warning per written object that has fields a catalog cannot state (`fields.unstated`)."""
    out = []
    for obj in objects:
        fields = unstated(obj.kind, obj.raw) if obj.raw is not None else []
        if fields:
            out.append(
                f"{obj.kind.value} {obj.id} has {', '.join(fields)}, which a catalog cannot state: pricebook leaves "
                f"{'it' if len(fields) == 1 else 'them'} as in Stripe"
                + (", but a price that replaces it will not have it" if obj.kind is Kind.PRICE else "")
            )
    return out


def export_account(
    state: AccountState,
    *,
    include_unmanaged: bool = False,
    all_meters: bool = False,
    include_archived: bool = False,
    schema_ref: str = DEFAULT_SCHEMA_REF,
) -> Export:
    """The catalog files of `state`: meters.yaml, products.yaml (prices nested), plans.yaml, and with
    `include_unmanaged` unmanaged.yaml. With `include_archived`, archived products, prices and plans are written
    too, with `active: false`. Files that would be empty are not returned."""
    left_out: dict[str, dict[Kind, int]] = {}
    warnings: list[str] = []

    def leave_out(reason: str, obj: LiveObject) -> None:
        counts = left_out.setdefault(reason, {})
        counts[obj.kind] = counts.get(obj.kind, 0) + 1

    # by catalog id, which the prices name them by (their Stripe id, or the pricebook_id of an adopted one)
    products = {o.key: o for o in state.of_kind(Kind.PRODUCT) if o.key is not None}
    meters = _meters_by_event_name(state.of_kind(Kind.METER))
    main, extra = _Selection(), _Selection()

    # prices and plans first: they decide which products and meters must be written too
    for obj in (*state.of_kind(Kind.PRICE), *state.of_kind(Kind.PLAN)):
        if not obj.managed and not include_unmanaged:
            leave_out(UNMANAGED, obj)
        elif not obj.active and not include_archived:
            leave_out(ARCHIVED, obj)
        elif obj.key is None:
            leave_out(NO_IDENTITY, obj)
            if obj.managed:
                warnings.append(
                    f"price {obj.id} is pricebook's but has no lookup_key, so no catalog can name it: plan reports "
                    "it as a problem and never archives it (give it a lookup_key in Stripe and import again to keep "
                    "it, or archive it in the Dashboard)"
                )
        else:
            target = main if obj.managed else extra
            (target.prices if obj.kind is Kind.PRICE else target.plans).append(obj)

    written_products: set[str] = set()
    for selection in (main, extra):
        needed = sorted({str(o.attrs.get("product")) for o in (*selection.prices, *selection.plans)})
        for pid in needed:
            product = products.get(pid)
            if pid in written_products:
                continue
            if product is None:
                warnings.append(f"product {pid} is named by a price but is not in the account: its prices won't load")
                continue
            if selection is main and not product.managed:
                warnings.append(
                    f"product {pid} is not pricebook's, but some of its prices are: it is written to "
                    f"{PRODUCTS_FILE} so they load, and plan will refuse it until you adopt it ({ADOPT_STEP})"
                )
            # a managed product goes to the main file even when only unmanaged prices need it
            (main if selection is main or product.managed else extra).products.append(product)
            written_products.add(pid)

    for product in products.values():
        if product.key in written_products or product.key is None:
            continue
        if not product.managed and not include_unmanaged:
            leave_out(UNMANAGED, product)
        elif not product.active and not include_archived:
            leave_out(ARCHIVED, product)
        else:
            (main if product.managed else extra).products.append(product)
            written_products.add(product.key)

    written_meters: set[str] = set()
    for selection in (main, extra):
        billed = (meter_of(o.kind, o.attrs) for o in (*selection.prices, *selection.plans))
        for name in sorted({m for m in billed if m is not None}):
            if name in written_meters:
                continue
            meter = meters.get(name)
            if meter is None:
                warnings.append(f"meter {name} is named by a price but is not in the account: its prices won't load")
                continue
            if not meter.active:
                warnings.append(
                    f"meter {name} is inactive in the account but a price bills from it; a catalog can't keep a "
                    "meter inactive, so plan will reactivate it"
                )
            selection.meters.append(meter)
            written_meters.add(name)
    for name, meter in sorted(meters.items()):
        if name in written_meters:
            continue
        if not meter.active:
            leave_out(ARCHIVED, meter)
        elif all_meters:
            main.meters.append(meter)
        else:
            leave_out(UNREFERENCED, meter)

    warnings += unstated_warnings((*main.all(), *extra.all()))
    header = _header(schema_ref, state.livemode) + _skipped_note(left_out.get(ARCHIVED, {}))
    files: list[ExportFile] = []
    if main.meters:
        files.append(_file(METERS_FILE, header, main, (Kind.METER,)))
    if main.products or main.prices:  # a price whose product is missing is still written (top level)
        files.append(_file(PRODUCTS_FILE, header, main, (Kind.PRODUCT, Kind.PRICE)))
    if main.plans:
        files.append(_file(PLANS_FILE, header, main, (Kind.PLAN,)))
    if extra:
        kinds = (Kind.METER, Kind.PRODUCT, Kind.PRICE, Kind.PLAN)
        files.append(_file(UNMANAGED_FILE, _header(schema_ref, state.livemode) + _UNMANAGED_NOTE, extra, kinds))
    return Export(tuple(files), {r: dict(c) for r, c in left_out.items()}, tuple(warnings))


def _meters_by_event_name(meters: Iterable[LiveObject]) -> dict[str, LiveObject]:
    # an active meter wins over an inactive one with the same event_name (the one prices bill from now)
    out: dict[str, LiveObject] = {}
    for meter in meters:
        if meter.key is None:
            continue
        held = out.get(meter.key)
        if held is None or (meter.active and not held.active):
            out[meter.key] = meter
    return out


# ---------------------------------------------------------------------------------------------------------
# objects as catalog entries


class _Flow(dict[str, Any]):
    """A small mapping written on one line: `recurring: {interval: month, usage_type: metered}`."""


def _flow(items: Iterable[tuple[str, Any]]) -> _Flow:
    return _Flow((k, v) for k, v in items if v is not None)


def _tiers(value: Any) -> list[_Flow]:
    flat, unit = TIER_AMOUNT_PAIRS[1], TIER_AMOUNT_PAIRS[0]
    keys = ("up_to", *flat, *unit)  # as the example catalog (plans/) writes a tier: its bound, then the flat fee
    return [_flow((k, tier.get(k)) for k in keys) for tier in value]


def _recurring(value: Mapping[str, Any]) -> _Flow:
    return _flow(
        [
            ("interval", value.get("interval")),
            ("interval_count", None if value.get("interval_count") in (None, 1) else value.get("interval_count")),
            ("usage_type", None if value.get("usage_type") in (None, "licensed") else value.get("usage_type")),
            ("meter", value.get("meter")),
            ("trial_period_days", value.get("trial_period_days")),
        ]
    )


def _custom_unit_amount(value: Mapping[str, Any]) -> _Flow:
    # `enabled` is how the API asks for one; Stripe sends back only the bounds
    return _flow([("enabled", True), *((k, value.get(k)) for k in ("minimum", "maximum", "preset"))])


def _metadata(value: Mapping[str, Any]) -> dict[str, Any] | None:
    out = {k: v for k, v in value.items() if k != MANAGED_BY_KEY}  # pricebook adds its mark itself
    return out or None


def _currency_options(value: Mapping[str, Any], price_tax_behavior: Any) -> dict[str, Any] | None:
    out: dict[str, Any] = {}
    for currency, option in sorted(value.items()):
        entry: dict[str, Any] = {}
        for key in PRICE_AMOUNT:
            if option.get(key) is not None:
                entry[key] = option[key]
        if isinstance(option.get("custom_unit_amount"), Mapping):
            entry["custom_unit_amount"] = _custom_unit_amount(option["custom_unit_amount"])
        # an option without one takes the price's (stripe.fields._currency_option): write it only where it differs
        if option.get("tax_behavior") not in (None, price_tax_behavior):
            entry["tax_behavior"] = option["tax_behavior"]
        if option.get("tiers"):
            entry["tiers"] = _tiers(option["tiers"])
        out[currency] = entry if "tiers" in entry else _Flow(entry)
    return out or None


def _convert(kind: Kind, name: str, value: Any, attrs: Mapping[str, Any]) -> Any:
    """A canonical value as the catalog writes it (None: leave the field out)."""
    if name == "metadata":
        return _metadata(value) if isinstance(value, Mapping) else None
    if name == "tiers":
        return _tiers(value)
    if name == "recurring" and isinstance(value, Mapping):
        return _recurring(value)
    if name == "custom_unit_amount" and isinstance(value, Mapping):
        return _custom_unit_amount(value)
    if name == "currency_options" and isinstance(value, Mapping):
        return _currency_options(value, attrs.get("tax_behavior") or "unspecified")
    if name == "marketing_features" and isinstance(value, list):
        return [_flow(sorted(v.items())) if isinstance(v, Mapping) else v for v in value]
    if isinstance(value, Mapping):  # transform_*, default_aggregation, customer_mapping, package_dimensions ...
        return _flow(value.items())
    return value


def entry_of(obj: LiveObject, *, omit: Iterable[str] = ()) -> dict[str, Any]:
    """One object as a catalog entry: its fields in house order, defaults and `omit` left out."""
    spec = SPECS[obj.kind]
    preferred = ORDER[obj.kind]
    names = [*preferred, *(f.name for f in spec.fields if f.name not in preferred)]
    skip = set(omit) | {f.name for f in spec.fields if not f.in_catalog}
    out: dict[str, Any] = {}
    for name in names:
        if name in skip or name not in spec.by_name:
            continue
        value = obj.attrs.get(name)
        if value is None or value == spec.field(name).default:
            continue
        converted = _convert(obj.kind, name, value, obj.attrs)
        if converted is not None:
            out[name] = converted
    if obj.kind is Kind.PRODUCT and "name" not in out and "name" not in skip:
        out["name"] = obj.attrs.get("name")  # required; keeps the entry's shape even if Stripe sent none
    return out


# ---------------------------------------------------------------------------------------------------------
# files


_UNMANAGED_NOTE = f"""#
# Objects pricebook does not manage (no metadata {MANAGED_BY_KEY}=pricebook), imported with --include-unmanaged.
# pricebook never changes them, so `pricebook plan` refuses every one of them until it is adopted: `pricebook
# adopt` writes the record that lets plan adopt them (or add metadata {MANAGED_BY_KEY}=pricebook to one by hand);
# from then on it is pricebook's, as this file describes it. Delete from this file what pricebook should leave alone.
"""


def _header(schema_ref: str, livemode: bool, written_by: str = "import") -> str:
    mode = "live" if livemode else "test"
    return (
        f"# yaml-language-server: $schema={schema_ref}\n"
        "#\n"
        f"# Written by `pricebook {written_by}` from a {mode}-mode account. Fields at their Stripe default are left "
        "out.\n"
    )


def describe_archived(counts: Mapping[Kind, int]) -> str:
    """`1 archived product, 3 archived prices and plans`. Prices and plans are one family in Stripe, and a
    replaced price's old version has no lookup_key left, so the account reads it as a plan: one count for both."""
    parts = []
    if counts.get(Kind.METER):
        n = counts[Kind.METER]
        parts.append(f"{n} inactive meter{'' if n == 1 else 's'}")
    if counts.get(Kind.PRODUCT):
        n = counts[Kind.PRODUCT]
        parts.append(f"{n} archived product{'' if n == 1 else 's'}")
    family = counts.get(Kind.PRICE, 0) + counts.get(Kind.PLAN, 0)
    if family:
        parts.append(f"{family} archived {'price or plan' if family == 1 else 'prices and plans'}")
    return ", ".join(parts)


_RECORD_NOTE = f"""#
# Written by `pricebook adopt`: per Stripe account, the objects made outside pricebook that catalog entries take
# over. `pricebook plan` shows an adopt action for each that is not pricebook's yet, and `pricebook apply` marks it
# (metadata {MANAGED_BY_KEY}=pricebook; a price gets its lookup_key). An entry renamed in its file is renamed here
# too. Once applied, an item changes nothing: keep it as a record of where the objects came from, or delete it.
"""


def record_file(adoptions: Sequence[Adoption], *, schema_ref: str = DEFAULT_SCHEMA_REF) -> ExportFile:
    """The adoption record (`adopt:`, one item per account and mode, names sorted) as ADOPTIONS_FILE."""
    items: list[dict[str, Any]] = []
    counts: dict[Kind, int] = {}
    for adoption in adoptions:
        item: dict[str, Any] = {"account": adoption.account, "mode": adoption.mode}
        for name, kind in KIND_LISTS.items():
            targets = {key: object_id for (k, key), object_id in adoption.targets.items() if k is kind}
            if targets:
                item[name] = dict(sorted(targets.items()))
                counts[kind] = counts.get(kind, 0) + len(targets)
        items.append(item)
    header = f"# yaml-language-server: $schema={schema_ref}\n" + _RECORD_NOTE
    text = header + _section(ADOPTION_SECTION, items)
    _check_round_trip(ADOPTIONS_FILE, text, {ADOPTION_SECTION: items})
    return ExportFile(ADOPTIONS_FILE, text, counts)


def _skipped_note(archived: Mapping[Kind, int]) -> str:
    if not archived:
        return ""
    return (
        f"# Not imported: {describe_archived(archived)}. Archived objects are not part of the catalog:\n"
        "# listed here, plan would reactivate them.\n"
    )


def _file(name: str, header: str, selection: _Selection, kinds: Sequence[Kind]) -> ExportFile:
    data: dict[str, list[dict[str, Any]]] = {}
    texts: list[str] = []
    counts: dict[Kind, int] = {}

    def section(kind: Kind, entries: list[dict[str, Any]], text: str | None = None) -> None:
        data[SECTION[kind]] = entries
        texts.append(text if text is not None else _section(SECTION[kind], entries))

    if Kind.METER in kinds and selection.meters:
        section(Kind.METER, [entry_of(m) for m in sorted(selection.meters, key=lambda o: o.key or "")])
        counts[Kind.METER] = len(selection.meters)
    loose: list[dict[str, Any]] = []  # prices whose product is written in another file: they name it
    if Kind.PRODUCT in kinds:
        written = {p.key for p in selection.products}
        nested: dict[str, list[LiveObject]] = {}
        for price in sorted(selection.prices, key=lambda o: o.key or ""):
            owner = str(price.attrs.get("product"))
            if owner in written:
                nested.setdefault(owner, []).append(price)
            else:
                loose.append(entry_of(price))
        if selection.products:
            entries, chunks = [], []
            for product in sorted(selection.products, key=lambda o: o.key or ""):
                entry, chunk = _product(product, nested.get(str(product.key), []))
                entries.append(entry)
                chunks.append(chunk)
            section(Kind.PRODUCT, entries, "products:\n" + "\n".join(chunks))
            counts[Kind.PRODUCT] = len(selection.products)
        if loose:
            section(Kind.PRICE, loose)
        if selection.prices:
            counts[Kind.PRICE] = len(selection.prices)
    if Kind.PLAN in kinds and selection.plans:
        section(Kind.PLAN, [entry_of(p) for p in sorted(selection.plans, key=lambda o: o.key or "")])
        counts[Kind.PLAN] = len(selection.plans)
    text = header + "\n" + "\n".join(texts)
    _check_round_trip(name, text, data)
    objects = [
        *(selection.meters if Kind.METER in kinds else ()),
        *((*selection.products, *selection.prices) if Kind.PRODUCT in kinds else ()),
        *(selection.plans if Kind.PLAN in kinds else ()),
    ]
    return ExportFile(name, text, counts, tuple(_refused(name, objects)))


def _refused(name: str, objects: Iterable[LiveObject]) -> Iterator[str]:
    """What validate will refuse in the entries of `objects` written to file `name`, and what to do about it.

    An object can hold more metadata keys than a catalog entry may (the entry leaves room for pricebook's own):
    one made outside pricebook, or one of pricebook's given keys in the Dashboard. Its entry is written with all
    of them all the same: leaving some out would make plan remove them from the object, and which ones go is the
    user's choice."""
    for obj in objects:
        metadata = obj.attrs.get("metadata")
        count = len(_metadata(metadata) or {}) if isinstance(metadata, Mapping) else 0
        if count > CATALOG_METADATA_KEYS:
            yield (
                f"{obj.kind.value} {obj.id} has {count} metadata keys besides pricebook's, and a catalog entry may "
                f"have at most {CATALOG_METADATA_KEYS}: Stripe allows {METADATA_KEYS.value}, and {RESERVED_ROOM}. "
                f"Its entry ({obj.kind.value} {obj.key!r} in {name}) has them all, so validate refuses it "
                f"(metadata-invalid) until you remove {count - CATALOG_METADATA_KEYS} of them there; plan then "
                "removes them from the Stripe object too"
            )


def _product(product: LiveObject, prices: Sequence[LiveObject]) -> tuple[dict[str, Any], str]:
    """A product entry with its prices nested, and its text (a blank line between the prices)."""
    keys = {p.key for p in prices}
    # a default price the catalog cannot name (archived, unmanaged, without lookup_key) is left unnamed: the
    # diff leaves a product's default price alone when the catalog names none
    omit = () if product.attrs.get("default_price") in keys else ("default_price",)
    entry = entry_of(product, omit=omit)
    chunk = _indent(_dump([entry]), 2)
    if prices:
        nested = [entry_of(p, omit=("product",)) for p in prices]
        chunk += "    prices:\n" + "\n".join(_indent(_dump([e]), 6) for e in nested)
        entry = {**entry, "prices": nested}
    return entry, chunk


def _section(name: str, entries: Sequence[Mapping[str, Any]]) -> str:
    return f"{name}:\n" + "\n".join(_indent(_dump([e]), 2) for e in entries)


def _indent(text: str, width: int) -> str:
    pad = " " * width
    return "".join(pad + line if line.strip() else line for line in text.splitlines(keepends=True))


# ---------------------------------------------------------------------------------------------------------
# YAML


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # lists indented under their key, as plans/ writes them (`products:\n  - id: ...`)
        super().increase_indent(flow, False)


def _represent_flow(dumper: yaml.SafeDumper, data: _Flow) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=True)


_LOOKS_NUMERIC = re.compile(r"[-+]?[0-9][0-9_]*")


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    # A string that would read as another type (`"0.05"`, `"yes"`, `"08"`) or holds a line break is written in
    # double quotes, as a person would; everything else is left to the emitter (plain when it can be).
    resolve: Callable[[type, str, tuple[bool, bool]], str] = dumper.resolve  # PyYAML's stubs leave it untyped
    resolved = resolve(yaml.ScalarNode, data, (True, False))
    quoted = (
        resolved != "tag:yaml.org,2002:str"
        or _LOOKS_NUMERIC.fullmatch(data) is not None
        or any(c in data for c in "\n\r\x85\u2028\u2029")
    )
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style='"' if quoted else None)


_Dumper.add_representer(_Flow, _represent_flow)
_Dumper.add_representer(str, _represent_str)


def _dump(value: Any) -> str:
    return yaml.dump(value, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=WIDTH, default_flow_style=False)


def _check_round_trip(name: str, text: str, data: Mapping[str, Any]) -> None:
    """Read the file back with pricebook's own YAML reader: it must parse cleanly into exactly what was written."""
    document, diagnostics = load_text(text, name)
    errors = [d for d in diagnostics if d.is_error]
    if errors:
        raise ExportError(f"import wrote {name}, but it does not read back: {errors[0].format()}")
    if document is None or document.data != data:
        raise ExportError(f"import wrote {name}, but it does not read back as written")


__all__ = [
    "ADOPTIONS_FILE",
    "ADOPT_STEP",
    "DEFAULT_SCHEMA_REF",
    "METERS_FILE",
    "PLANS_FILE",
    "PRODUCTS_FILE",
    "UNMANAGED_FILE",
    "Export",
    "ExportFile",
    "describe_archived",
    "describe_counts",
    "entry_of",
    "export_account",
    "export_objects",
    "record_file",
    "unstated_warnings",
]
