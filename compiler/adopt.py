"""What `pricebook adopt` proposes (pure: a catalog and an account in, a proposal out; nothing is written).

The objects of the account that are not pricebook's (no `managed_by` mark; a meter whose event_name the catalog
does not name), and the active prices that have the mark but no lookup_key to name them by (marked by hand; not
the old version of a price pricebook replaced), are the candidates: the active ones, archived ones too when
asked, or those picked by Stripe id or kind. Each candidate is

- matched to an entry the catalog already has and the account does not (an entry plan would create): a product by
  its id or else its name; a price by its lookup_key or else its content (product, currency, amounts, recurring);
  a plan by its id or else its content. An entry is matched once, and a match must be the only one, or it is
  listed for the user to resolve;
- or written as a new entry, as the `Mode` says: in a first adoption (no catalog yet) and when adding to this
  account's catalog, every candidate that matches nothing; for another account of the catalog (match only), only
  what was picked. A new entry gets a readable catalog identity: a product its Stripe id when a person chose it,
  else one from its name; a price its lookup_key, else one from its product, interval and currency
  (`analytics_monthly_usd`, and `_metered` after it for a metered price, so that it differs from a licensed one
  beside it); a plan its id, likewise. Every identity is unique in the catalog and the account, and the same
  account always gives the same names. A new price brings its product and meter into the catalog with it,
  whatever was picked.

The record (`adopt:` for this account) names each match and each new entry by its Stripe id; meters need none
(naming the event_name makes a meter pricebook's). An object the record already names is left to it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from compiler.changes.model import Catalog, Resource
from compiler.stripe.facts import LOOKUP_KEY
from compiler.stripe.fields import meter_of
from compiler.stripe.kinds import KIND_ORDER, SECTION, Kind
from compiler.stripe.state import AccountState, LiveObject

#: an id Stripe made up, not one a person chose: `prod_E9aWj8Nap9i0Ub`, `plan_Gk0Z7xMv7bP1Lm`
GENERATED_ID = re.compile(r"^(prod|price|plan)_[A-Za-z0-9]{14,}$")
#: a product id or plan id made from a name: at most this long
MAX_NAME = 60
INTERVAL_WORDS: Mapping[str, str] = {"day": "daily", "week": "weekly", "month": "monthly", "year": "yearly"}

#: what a price's content is, to match it to a catalog price in another account (and a plan's)
PRICE_CONTENT = (
    "product",
    "currency",
    "billing_scheme",
    "unit_amount",
    "unit_amount_decimal",
    "custom_unit_amount",
    "tiers_mode",
    "tiers",
    "recurring",
    "transform_quantity",
)
PLAN_CONTENT = (
    "product",
    "currency",
    "billing_scheme",
    "amount",
    "amount_decimal",
    "tiers_mode",
    "tiers",
    "interval",
    "interval_count",
    "usage_type",
    "meter",
    "transform_usage",
)


class Mode(StrEnum):
    """What adopt does with an object that matches no catalog entry."""

    FIRST = "first adoption"  # no catalog yet: every object becomes a new entry
    ADD = "add"  # the catalog is this account's: what matches is recorded, the rest become new entries
    MATCH = "match only"  # another account of the catalog: what matches is recorded, the rest only listed


#: the flags that choose a mode over the one `choose_mode` finds
MATCH_ONLY, ADD_UNMATCHED = "--match-only", "--add-unmatched"


def choose_mode(catalog: Catalog, account: str, livemode: bool, asked: Mode | None) -> tuple[Mode, str]:
    """The mode for adopting `account` into `catalog`, and why, in words for the user. Without a catalog it is a
    first adoption. A catalog whose record (adoptions.yaml) names another account serves several accounts: its
    entries are matched, and a new entry, which every account would get, is written only when asked. Otherwise
    the catalog is this account's (or no account's yet): what matches nothing becomes a new entry."""
    if not any(True for _ in catalog):
        why = "the directory holds no catalog yet: every object becomes a new entry"
        if asked is Mode.MATCH:
            why += f" ({MATCH_ONLY} has no entries to match against here)"
        return Mode.FIRST, why
    if asked is Mode.MATCH:
        return Mode.MATCH, f"as asked ({MATCH_ONLY}): objects that match no catalog entry are listed, not written"
    if asked is Mode.ADD:
        return Mode.ADD, f"as asked ({ADD_UNMATCHED}): objects that match no catalog entry become new entries"
    others = sorted({a.account for a in catalog.adoptions if (a.account, a.livemode) != (account, livemode)})
    if others:
        return Mode.MATCH, (
            f"the catalog's adoptions.yaml records {', '.join(others)}, so it serves another account: this one's "
            "objects are matched to its entries, and what matches none is listed, not written (a new entry "
            f"would be every account's; {ADD_UNMATCHED} writes them)"
        )
    return Mode.ADD, (
        "the catalog records no other account: what matches a catalog entry is recorded, and the rest become new "
        f"entries ({MATCH_ONLY} instead, for another account of the same catalog)"
    )


@dataclass(frozen=True)
class Options:
    """Which objects to consider: archived ones too, or only those `picked` (Stripe ids, kinds: `price`). An
    archived object is considered with `include_archived`, or when picked by its id. `mode`: what becomes of an
    object that matches no entry (a picked one is written in every mode)."""

    include_archived: bool = False
    picked: frozenset[str] = frozenset()
    mode: Mode = Mode.FIRST

    def picks(self, obj: LiveObject) -> bool:
        return obj.id in self.picked or obj.kind.value in self.picked or SECTION[obj.kind] in self.picked


@dataclass(frozen=True)
class Unmatched:
    obj: LiveObject
    why: str


@dataclass(frozen=True)
class Proposal:
    account: str
    livemode: bool
    #: the new catalog entries, as the objects they describe under their new identities (references renamed)
    new: tuple[LiveObject, ...] = ()
    #: existing catalog entries matched to an object: (object, catalog identity)
    matched: tuple[tuple[LiveObject, str], ...] = ()
    #: what the record adds for this account: (kind, catalog identity) -> Stripe id
    targets: Mapping[tuple[Kind, str], str] = field(default_factory=dict)
    #: candidates neither matched nor written, and why
    unmatched: tuple[Unmatched, ...] = ()
    #: catalog entries that nothing in the account is, or will be once adopted: plan will create them
    missing: tuple[Resource, ...] = ()
    #: new prices that had no lookup_key, with the one they got
    named: tuple[LiveObject, ...] = ()
    #: candidates left out: archived ones (without include_archived), and meters nothing adopted bills from
    left_out: tuple[LiveObject, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.targets and not self.new


def propose(catalog: Catalog, state: AccountState, options: Options = Options()) -> Proposal:
    """What to adopt from `state` into `catalog` (see the module docstring). The record names the account, so its
    id must be known (`state.account`: the command refuses a key that cannot read it)."""
    account = state.account
    if account is None:
        raise ValueError("adopting needs the account's id (GET /v1/account)")
    recorded = catalog.adoption(account, state.livemode)
    pending = set(recorded.targets.values()) if recorded is not None else set()
    named_meters = {r.key for r in catalog.of_kind(Kind.METER)}
    candidates: list[LiveObject] = []
    left_out: list[LiveObject] = []
    for obj in state.objects:
        foreign = obj.key not in named_meters if obj.kind is Kind.METER else not obj.managed or _nameless(obj, state)
        if not foreign or obj.id in pending:
            continue
        if options.picked and not options.picks(obj):
            continue
        if not obj.active and not options.include_archived and obj.id not in options.picked:
            left_out.append(obj)
            continue
        candidates.append(obj)
    work = _Work(catalog, state, account, options, candidates)
    work.run()
    # a meter is adopted by naming it: by default only those an adopted price or plan bills from
    billed = {m for o in work.new if (m := meter_of(o.kind, o.attrs)) is not None}
    new = [o for o in work.new if o.kind is not Kind.METER or o.key in billed or options.picks(o)]
    left_out += [o for o in work.new if o not in new]
    return Proposal(
        account=account,
        livemode=state.livemode,
        new=tuple(sorted(new, key=_order)),
        matched=tuple(sorted(work.matched, key=lambda m: _order(m[0]))),
        targets=dict(sorted(work.targets.items(), key=lambda t: (KIND_ORDER.index(t[0][0]), t[0][1]))),
        unmatched=tuple(sorted(work.unmatched, key=lambda u: _order(u.obj))),
        missing=tuple(work.missing()),
        named=tuple(sorted(work.named, key=_order)),
        left_out=tuple(sorted(left_out, key=_order)),
    )


def _nameless(obj: LiveObject, state: AccountState) -> bool:
    """A price marked as pricebook's that no lookup_key names (marked by hand, say), active, and not the old
    version of a price pricebook replaced (the plan archives that one): no catalog entry could name it before."""
    if obj.kind is not Kind.PRICE or obj.key is not None or not obj.managed or not obj.active:
        return False
    return not any(o.kind is Kind.PRICE and o.managed and o.replaces == obj.id for o in state.objects)


def _order(obj: LiveObject) -> tuple[int, str, str]:
    return (KIND_ORDER.index(obj.kind), obj.key or "", obj.id)


class _Work:
    def __init__(
        self, catalog: Catalog, state: AccountState, account: str, options: Options, candidates: Sequence[LiveObject]
    ) -> None:
        self.catalog = catalog
        self.state = state
        self.options = options
        self.candidates = list(candidates)
        self.by_id = {o.id: o for o in state.objects}
        #: Stripe id -> catalog identity, for every object the catalog will know (matched, new, recorded, owned)
        self.keys: dict[str, str] = {
            o.id: o.key for o in state.objects if o.key is not None and o.managed and o.kind is not Kind.METER
        }
        recorded = catalog.adoption(account, state.livemode)
        if recorded is not None:
            self.keys.update({object_id: key for (_kind, key), object_id in recorded.targets.items()})
        #: catalog entries something in the account is or will be (a meter is pricebook's when the catalog names it)
        named_meters = {r.key for r in catalog.of_kind(Kind.METER)}
        self.taken: set[tuple[Kind, str]] = {
            (o.kind, o.key)
            for o in state.objects
            if o.key is not None and (o.key in named_meters if o.kind is Kind.METER else o.managed)
        }
        if recorded is not None:
            self.taken.update(recorded.targets)
        self.matched: list[tuple[LiveObject, str]] = []
        self.targets: dict[tuple[Kind, str], str] = {}
        self.unmatched: list[Unmatched] = []
        self.new: list[LiveObject] = []
        self.named: list[LiveObject] = []
        self.new_ids: set[str] = set()

    # -- matching ---------------------------------------------------------------------------------------------

    def run(self) -> None:
        for kind in (Kind.PRODUCT, Kind.PRICE, Kind.PLAN):  # products first: prices and plans match through them
            self._match(kind)
        writes_new = self.options.mode is not Mode.MATCH or not any(True for _ in self.catalog)
        for obj in self.candidates:
            if obj.id in self.keys or any(u.obj is obj for u in self.unmatched):
                continue
            if writes_new or self.options.picks(obj) or obj.managed:  # a marked price without a lookup_key is ours
                self._add(obj)
            else:
                self.unmatched.append(Unmatched(obj, self._no_match(obj)))
        self._name_new()

    def _match(self, kind: Kind) -> None:
        free = [r for r in self.catalog.of_kind(kind) if (kind, r.key) not in self.taken]
        if not free:
            return
        wanted: dict[str, list[LiveObject]] = {}
        for obj in (o for o in self.candidates if o.kind is kind):
            found = self._entries_for(obj, free)
            if len(found) == 1:
                wanted.setdefault(found[0].key, []).append(obj)
            elif len(found) > 1:
                shown = ", ".join(f"{kind.value}.{r.key}" for r in found)
                self.unmatched.append(Unmatched(obj, f"it matches {len(found)} catalog entries ({shown})"))
        for key, objs in wanted.items():
            if len(objs) == 1:
                self.matched.append((objs[0], key))
                self.keys[objs[0].id] = key
                self.targets[(kind, key)] = objs[0].id
                self.taken.add((kind, key))
                continue
            others = ", ".join(o.id for o in objs)
            self.unmatched += [
                Unmatched(o, f"{len(objs)} objects of the account ({others}) match {kind.value}.{key}") for o in objs
            ]

    def _entries_for(self, obj: LiveObject, free: Sequence[Resource]) -> list[Resource]:
        """The free catalog entries `obj` is: by identity first, else by content."""
        same_key = [r for r in free if r.key in (obj.key, obj.id)]
        if same_key:
            return same_key
        if obj.kind is Kind.PRODUCT:
            return [r for r in free if r.attrs.get("name") == obj.attrs.get("name")]
        fields = PRICE_CONTENT if obj.kind is Kind.PRICE else PLAN_CONTENT
        content = self._content(obj, fields)
        return [r for r in free if {f: r.attrs.get(f) for f in fields} == content]

    def _content(self, obj: LiveObject, fields: Sequence[str]) -> dict[str, Any]:
        content = {f: obj.attrs.get(f) for f in fields}
        product = content.get("product")
        if isinstance(product, str):
            content["product"] = self.keys.get(self._product_id(product), product)
        return content

    def _product_id(self, product: str) -> str:
        """The Stripe id of the product a price names (by its key when the state reader named it so)."""
        found = next((o for o in self.state.of_kind(Kind.PRODUCT) if o.key == product), None)
        return found.id if found is not None else product

    def _no_match(self, obj: LiveObject) -> str:
        if obj.kind is Kind.PRODUCT:
            return f"no catalog product is named {obj.attrs.get('name')!r}"
        if obj.kind is Kind.METER:
            return "the catalog names no meter with this event_name"
        return f"no catalog {obj.kind.value} has its product, currency, amounts and billing period"

    def missing(self) -> list[Resource]:
        return [r for r in self.catalog if r.kind is not Kind.METER and (r.kind, r.key) not in self.taken] + [
            r for r in self.catalog.of_kind(Kind.METER) if (Kind.METER, r.key) not in self.taken
        ]

    # -- new entries ------------------------------------------------------------------------------------------

    def _add(self, obj: LiveObject) -> None:
        """`obj` as a new entry, with what it needs: its product, its meter."""
        if obj.id in self.new_ids:
            return
        self.new_ids.add(obj.id)
        self.new.append(obj)
        if obj.kind in (Kind.PRICE, Kind.PLAN):
            product = self._product_id(str(obj.attrs.get("product")))
            # written too unless the catalog has it: matched, recorded, or pricebook's with an entry
            if product in self.by_id and self.catalog.get(Kind.PRODUCT, self.keys.get(product, "")) is None:
                self._add(self.by_id[product])
            meter = meter_of(obj.kind, obj.attrs)
            if meter is not None and (Kind.METER, meter) not in self.taken:
                holder = next((o for o in self.state.of_kind(Kind.METER) if o.key == meter and o.active), None)
                holder = holder or next((o for o in self.state.of_kind(Kind.METER) if o.key == meter), None)
                if holder is not None:
                    self._add(holder)

    def _name_new(self) -> None:
        used = _Used(self.catalog, self.state)
        ordered = sorted(self.new, key=_created)
        for obj in ordered:  # products first, so prices and plans are named after theirs
            if obj.kind is Kind.PRODUCT and obj.managed and obj.key is not None:
                self.keys[obj.id] = used.claim(Kind.PRODUCT, obj.key, obj.id)  # pricebook's: it keeps its name
            elif obj.kind is Kind.PRODUCT:
                wanted = obj.id if not GENERATED_ID.match(obj.id) else _slug(obj.attrs.get("name"))
                self.keys[obj.id] = used.claim(Kind.PRODUCT, wanted, obj.id)
        for obj in ordered:
            if obj.kind is Kind.PRICE:
                key = used.claim(Kind.PRICE, obj.key or self._price_name(obj), obj.id)
                if key != obj.key:
                    self.named.append(obj)
                self.keys[obj.id] = key
            elif obj.kind is Kind.PLAN:
                wanted = obj.id if not GENERATED_ID.match(obj.id) else self._price_name(obj)
                self.keys[obj.id] = used.claim(Kind.PLAN, wanted, obj.id)
        before_named = {o.id for o in self.new if o.managed and o.kind is Kind.PRICE and o.key is None}
        renamed = self.state.renamed({i: k for i, k in self.keys.items() if i in self.by_id})
        by_id = {o.id: o for o in renamed.objects}
        self.new = [by_id[o.id] for o in self.new]
        self.named = [by_id[o.id] for o in self.named]
        self.matched = [(by_id[o.id], key) for o, key in self.matched]
        self.unmatched = [Unmatched(by_id[u.obj.id], u.why) for u in self.unmatched]
        for obj in self.new:
            if obj.key is None:
                continue
            self.taken.add((obj.kind, obj.key))
            # the record names what is not pricebook's yet, and a marked price that gets its lookup_key now
            if obj.kind is not Kind.METER and (not obj.managed or obj.id in before_named):
                self.targets[(obj.kind, obj.key)] = obj.id

    def _price_name(self, obj: LiveObject) -> str:
        """`analytics_monthly_usd`: the product's catalog id, the billing period, the currency; `_metered` after
        it for a metered price, which a licensed one of the same product and period often sits beside."""
        product = self._product_id(str(obj.attrs.get("product")))
        name = self.keys.get(product, product)
        if GENERATED_ID.match(name) and product in self.by_id:  # a product Stripe named: by its name, then
            name = str(self.by_id[product].attrs.get("name"))
        metered = "_metered" if _usage_type(obj) == "metered" else ""
        return f"{_slug(name)}_{_period(obj)}_{obj.attrs.get('currency') or 'xxx'}{metered}"


def _created(obj: LiveObject) -> tuple[int, int, str]:
    """Oldest first (the first made keeps the plain name), by kind; the id settles a tie."""
    created = obj.raw.get("created") if obj.raw is not None else None
    return (KIND_ORDER.index(obj.kind), created if isinstance(created, int) else 0, obj.id)


class _Used:
    """The identities taken, per kind, and by which object: the catalog's entries (by none) and the account's
    objects (a product's or plan's id counts too, and a price's id among the plan ids: they share one id space)."""

    def __init__(self, catalog: Catalog, state: AccountState) -> None:
        self.holders: dict[Kind, dict[str, str | None]] = {
            kind: {r.key: None for r in catalog.of_kind(kind)} for kind in Kind
        }
        for obj in state.objects:
            names: list[tuple[Kind, str | None]] = [(obj.kind, obj.key)]
            if obj.kind in (Kind.PRODUCT, Kind.PLAN):
                names.append((obj.kind, obj.id))
            elif obj.kind is Kind.PRICE:
                names.append((Kind.PLAN, obj.id))
            for kind, name in names:
                if name is not None:
                    self.holders[kind].setdefault(name, obj.id)

    def claim(self, kind: Kind, wanted: str, owner: str) -> str:
        """`wanted` when it is free or `owner`'s own, else the first free of `wanted_2`, `wanted_3`...; then it
        is `owner`'s."""
        limit = LOOKUP_KEY.value if kind is Kind.PRICE else MAX_NAME
        base = wanted[:limit] if len(wanted) > limit and wanted != owner else wanted
        key, n = base, 1
        taken = self.holders[kind]
        while key in taken and taken[key] != owner:
            n += 1
            key = f"{base[: limit - len(str(n)) - 1]}_{n}"
        taken[key] = owner
        return key


def _slug(text: Any) -> str:
    """`Analytics Pro (2024)` -> `analytics_pro_2024`: lowercase ASCII letters, digits and underscores."""
    plain = unicodedata.normalize("NFKD", str(text or "")).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "_", plain.lower()).strip("_")
    return slug[:MAX_NAME].rstrip("_") or "product"


def described(obj: LiveObject) -> str:
    """`price price_1Nv0A (product analytics, usd, monthly)`: how the report names an object."""
    if obj.kind is Kind.PRODUCT:
        return f"product {obj.id} ({obj.attrs.get('name')!r})"
    if obj.kind is Kind.METER:
        return f"meter {obj.id} ({obj.key})"
    product, currency = obj.attrs.get("product"), obj.attrs.get("currency")
    return f"{obj.kind.value} {obj.id} (product {product}, {currency}, {_period(obj)})"


def _usage_type(obj: LiveObject) -> Any:
    if obj.kind is Kind.PRICE:
        recurring = obj.attrs.get("recurring")
        return recurring.get("usage_type") if isinstance(recurring, Mapping) else None
    return obj.attrs.get("usage_type")


def _period(obj: LiveObject) -> str:
    """`monthly`, `every_3_months`, `one_time`: a price's or plan's billing period as a name takes it."""
    if obj.kind is Kind.PRICE:
        recurring = obj.attrs.get("recurring")
        recurring = recurring if isinstance(recurring, Mapping) else {}
        interval, count = recurring.get("interval"), recurring.get("interval_count")
    else:
        interval, count = obj.attrs.get("interval"), obj.attrs.get("interval_count")
    if interval is None:
        return "one_time"
    if count in (None, 1):
        return INTERVAL_WORDS.get(str(interval), str(interval))
    return f"every_{count}_{interval}s"


def count_kinds(objects: Iterable[LiveObject]) -> dict[Kind, int]:
    counts: dict[Kind, int] = {}
    for obj in objects:
        counts[obj.kind] = counts.get(obj.kind, 0) + 1
    return counts


__all__ = [
    "ADD_UNMATCHED",
    "GENERATED_ID",
    "MATCH_ONLY",
    "Mode",
    "Options",
    "Proposal",
    "Unmatched",
    "choose_mode",
    "count_kinds",
    "described",
    "propose",
]
