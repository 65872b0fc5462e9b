"""The live account, read once: the only module that reads Stripe.

`read_account` sends one paginated list per resource type (100 a page, with the expansions the diff needs) and
never a request per object, in this order:

    GET /v1/account                                    the account's id, which names it in a saved plan (a
                                                       restricted key may not read it: then there is none)
    GET /v1/billing/meters                             every status
    GET /v1/prices?active=true   expand tiers, currency_options
    GET /v1/prices?active=false  expand tiers, currency_options (the price list shows active prices by default)
    GET /v1/plans                expand tiers      only when asked (see below)
    GET /v1/products                                   every product, active or not (last: a default price is
                                                       named by its price's lookup_key)

Prices and plans are one object family with one id space (inferred from what Stripe returns): the price list shows
plans too (and `GET /v1/plans` shows every recurring price), so the two price lists normally hold every plan.
Reading `/v1/plans` as well would read every recurring price a second time, so it is read only when the caller
asks: `plans_list=True`, or a function that looks at the family the price lists showed and decides
(`planning.read_state` reads it unless they showed one of pricebook's plans, or when a catalog plan is missing
from them). It is read in the same pass, after the price lists: nothing is read twice. An object both lists
show keeps its price-list view, so reading `/v1/plans` changes the state (and its fingerprint) only by the
plans the price lists left out.

Each family object becomes exactly one `LiveObject`: a price when it has a lookup_key (every pricebook price has
one; the Plans API cannot set one), is one-time or has a `price_` id (a replaced price loses its lookup_key to
its successor), otherwise a plan, in the Plans API's shape (the same fields under their plan names). So a price is
never taken for a plan because the plans list shows it.

References are turned into catalog identities before `resources.canonical`, so live attrs compare equal to the
catalog's: a meter id becomes its event_name, a product's default_price id becomes that price's lookup_key, a
price's or plan's product id becomes the product's catalog id. A product's or plan's catalog id is its Stripe id,
or, for one adopted from an account where Stripe made the id up, its metadata `pricebook_id`
(`fields.catalog_key`), so one catalog names the same product in every account.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from compiler.errors import UnexpectedAnswer
from compiler.stripe.facts import plan_from_price
from compiler.stripe.fields import SPECS, canonical, catalog_key, is_managed, replaced_id
from compiler.stripe.kinds import IDENTITY_FIELD, KIND_ORDER, Kind

PRICE_EXPAND = ("data.tiers", "data.currency_options")
PLAN_EXPAND = ("data.tiers",)

#: the lists `read_account` always sends, as (path, params): meters, products, active and inactive prices (it
#: reads the products last, after the prices, and `PLANS_LIST` between them when asked)
LISTS: tuple[tuple[str, Mapping[str, Any]], ...] = (
    (SPECS[Kind.METER].path, {}),
    (SPECS[Kind.PRODUCT].path, {}),
    # Stripe's price list shows active prices unless asked: ask for each state explicitly
    (SPECS[Kind.PRICE].path, {"active": "true", "expand": list(PRICE_EXPAND)}),
    (SPECS[Kind.PRICE].path, {"active": "false", "expand": list(PRICE_EXPAND)}),
)
PLANS_LIST: tuple[str, Mapping[str, Any]] = (SPECS[Kind.PLAN].path, {"expand": list(PLAN_EXPAND)})

#: decides, from the price family the two price lists showed, whether `GET /v1/plans` is read as well
PlansListRule = Callable[[Sequence["LiveObject"]], bool]


class Lister(Protocol):
    """What `read_account` needs of a `Gateway`: the pages of a list, whether the key is a live-mode one, and the
    id of the account it belongs to (None where the key may not read it)."""

    @property
    def livemode(self) -> bool: ...

    def account_id(self) -> str | None: ...

    def pages(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[list[dict[str, Any]]]: ...


@dataclass(frozen=True)
class LiveObject:
    """One object of the account in the diff's terms.

    `key` is the catalog identity it holds (a product id, a price's lookup_key, a plan id, a meter's event_name),
    None for a price without a lookup_key. `attrs` is its canonical form (`resources.canonical`). `replaces` is,
    for a price pricebook created to replace another, the id of the price it replaced (`fields.REPLACES_KEY`).
    """

    kind: Kind
    id: str
    key: str | None
    managed: bool
    attrs: Mapping[str, Any]
    raw: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)
    replaces: str | None = None

    @property
    def address(self) -> str:
        return f"{self.kind.value}.{self.key if self.key is not None else self.id}"

    def with_key(self, key: str) -> LiveObject:
        """The same object known by another catalog identity (its attrs name it too)."""
        return dataclasses.replace(self, key=key, attrs={**self.attrs, IDENTITY_FIELD[self.kind]: key})

    @property
    def active(self) -> bool:
        if self.kind is Kind.METER:
            return self.attrs.get("status") == "active"
        return bool(self.attrs.get("active", True))


@dataclass(frozen=True)
class AccountState:
    objects: tuple[LiveObject, ...] = ()
    fingerprint: str = ""
    livemode: bool = False
    #: the account's id (`acct_...`), None when the key may not read it (a restricted key); not in the
    #: fingerprint, which is about the objects alone
    account: str | None = None

    @classmethod
    def of(cls, objects: Iterable[LiveObject], *, livemode: bool = False, account: str | None = None) -> AccountState:
        """A state with its objects in a stable order and its fingerprint computed."""
        ordered = tuple(sorted(objects, key=_sort_key))
        return cls(ordered, fingerprint(ordered), livemode, account)

    def of_kind(self, kind: Kind) -> tuple[LiveObject, ...]:
        return tuple(o for o in self.objects if o.kind is kind)

    def renamed(self, keys: Mapping[str, str]) -> AccountState:
        """This state with the objects of the Stripe ids in `keys` known by the catalog identity each maps to
        (as they will be once adopted), and every reference to them renamed too; same fingerprint."""
        objects = [o.with_key(keys[o.id]) if o.id in keys and o.kind is not Kind.METER else o for o in self.objects]
        products = {o.id: keys[o.id] for o in objects if o.kind is Kind.PRODUCT and o.id in keys}
        # a default price is named by its lookup_key when it has one, else by its id
        prices = {
            name: keys[o.id]
            for o in self.objects
            if o.kind is Kind.PRICE and o.id in keys
            for name in (o.id, o.key)
            if name is not None
        }
        ordered = tuple(sorted(relinked(objects, products=products, prices=prices), key=_sort_key))
        return dataclasses.replace(self, objects=ordered)


def _sort_key(obj: LiveObject) -> tuple[int, str, str]:
    return (KIND_ORDER.index(obj.kind), obj.key or "", obj.id)


def fingerprint(objects: Sequence[LiveObject]) -> str:
    """A hash of what the diff depends on (kind, id, identity, ownership, canonical attrs), in a stable order:
    the same for two reads of an unchanged account, different once anything the diff compares has changed.

    Each object is one JSON row with sorted keys; the rows are hashed in sorted order."""
    rows = sorted(_row(o) for o in objects)
    return "sha256:" + hashlib.sha256("\n".join(rows).encode()).hexdigest()


def _row(obj: LiveObject) -> str:
    row: list[Any] = [obj.kind.value, obj.id, obj.key, obj.managed, obj.attrs]
    if obj.replaces is not None:  # the diff reads it (an old version left active); rows of other objects unchanged
        row.append(obj.replaces)
    return json.dumps(row, sort_keys=True, default=str)


# ---------------------------------------------------------------------------------------------------------
# reading


def read_account(gateway: Lister, *, plans_list: bool | PlansListRule = False) -> AccountState:
    """Every product, price, plan and meter of the account, as `LiveObject`s (one list per resource type).

    Each page is normalised as soon as it arrives, so the work hides in the gaps the gateway's pacing leaves
    between requests. `GET /v1/plans` is read too when `plans_list` is True, or is a function that says so when
    given the price family the price lists showed (see the module docstring for why it is not always needed)."""
    account = gateway.account_id()
    builder = _Builder()
    for page in _pages(gateway, *LISTS[0]):
        builder.add_meters(page)
    for path, params in LISTS[2:]:
        for page in _pages(gateway, path, params):
            builder.add_prices(page)
    if plans_list is True or (callable(plans_list) and plans_list(builder.family())):
        for page in _pages(gateway, *PLANS_LIST):
            builder.add_plans(page)
    for page in _pages(gateway, *LISTS[1]):  # last: a default price is named by its price's lookup_key
        builder.add_products(page)
    return builder.finish(livemode=gateway.livemode, account=account)


def _pages(gateway: Lister, path: str, params: Mapping[str, Any]) -> Iterator[list[dict[str, Any]]]:
    """The gateway's pages of one list, each next page requested (in a helper thread) as soon as this one is
    handed over: the requests stay strictly one after the other, but the caller's work normalising a page no
    longer adds to the time they take."""
    pages = gateway.pages(path, params)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pricebook-read") as pool:
        pending = pool.submit(next, pages, None)
        while (page := pending.result()) is not None:
            pending = pool.submit(next, pages, None)
            yield page


class _Builder:
    """Collects list pages in the order `read_account` reads them: meters, prices, (plans), products."""

    def __init__(self) -> None:
        self.objects: list[LiveObject] = []
        self.meter_names: dict[str, str] = {}
        self.seen: set[str] = set()
        self.lookup_keys: dict[str, Any] = {}

    def add_meters(self, raws: Iterable[Mapping[str, Any]]) -> None:
        for raw in raws:
            _check_identity(raw, "event_name", SPECS[Kind.METER].path)
            if raw.get("event_name"):
                self.meter_names[str(raw["id"])] = str(raw["event_name"])
            self._add(_meter(raw))

    def add_prices(self, raws: Iterable[Mapping[str, Any]]) -> None:
        # One family, one id space: the price view decides what an object is (it has lookup_key and
        # currency_options), and a plan it shows is read from it in the Plans API's shape.
        for raw in raws:
            _check_identity(raw, "lookup_key", SPECS[Kind.PRICE].path)
            pid = str(raw["id"])
            if pid in self.seen:  # a page boundary moved while reading: each object once
                continue
            self.seen.add(pid)
            self.lookup_keys[pid] = raw.get("lookup_key")
            if _is_price(raw):
                self._add(_price(raw, self.meter_names))
            else:
                self._add(_plan(plan_from_price(raw), self.meter_names))

    def add_plans(self, raws: Iterable[Mapping[str, Any]]) -> None:
        # read after the prices: only the plans the price lists left out are new; an object both lists show
        # keeps its price-list view, so reading the plans list never changes what was already read
        for raw in raws:
            pid = str(raw["id"])
            if pid in self.seen:
                continue
            self.seen.add(pid)
            self._add(_plan(raw, self.meter_names))

    def add_products(self, raws: Iterable[Mapping[str, Any]]) -> None:
        # read after the prices: a default price id becomes its price's lookup_key right away
        for raw in raws:
            self._add(_product(raw, self.lookup_keys))

    def family(self) -> list[LiveObject]:
        """The prices and plans read so far."""
        return [o for o in self.objects if o.kind in (Kind.PRICE, Kind.PLAN)]

    def _add(self, obj: LiveObject) -> None:
        self.objects.append(obj)

    def finish(self, *, livemode: bool, account: str | None) -> AccountState:
        # the prices were read before the products: name their products by catalog id now
        renamed = {o.id: o.key for o in self.objects if o.kind is Kind.PRODUCT and o.key and o.key != o.id}
        return AccountState.of(relinked(self.objects, products=renamed), livemode=livemode, account=account)


def _check_identity(raw: Mapping[str, Any], field: str, path: str) -> None:
    """The identity pricebook finds an object by is text or absent in every object Stripe sends (the list itself
    was checked by the gateway: each object has an id)."""
    value = raw.get(field)
    if value is not None and not isinstance(value, str):
        raise UnexpectedAnswer(
            f"the answer to GET {path} holds {raw.get('id')!r}, whose {field} is not text but {type(value).__name__}"
        )


def relinked(
    objects: Iterable[LiveObject],
    *,
    products: Mapping[str, str] | None = None,
    prices: Mapping[str, str] | None = None,
) -> list[LiveObject]:
    """`objects` with references renamed: a price's or plan's `product` (a Stripe id in `products`) and a
    product's `default_price` (a Stripe id in `prices`) become the catalog id each maps to."""
    out = []
    for obj in objects:
        name, table = ("default_price", prices or {}) if obj.kind is Kind.PRODUCT else ("product", products or {})
        value = obj.attrs.get(name)
        if obj.kind is not Kind.METER and isinstance(value, str) and value in table:
            obj = dataclasses.replace(obj, attrs={**obj.attrs, name: table[value]})
        out.append(obj)
    return out


def _is_price(price_view: Mapping[str, Any]) -> bool:
    """A family object is a price when it has a lookup_key, is one-time, or has an id Stripe gave a price
    (`price_...`); otherwise a recurring one is a plan.

    The id matters after a replace: `transfer_lookup_key` leaves the old price without a lookup_key, and it is
    still a price. Plans pricebook creates have their catalog ids, which the schema keeps from starting with
    `price_`."""
    return (
        bool(price_view.get("lookup_key"))
        or not price_view.get("recurring")
        or str(price_view.get("id", "")).startswith("price_")
    )


def _meter(raw: Mapping[str, Any]) -> LiveObject:
    # meters have no metadata to carry the ownership mark: one whose event_name the catalog names is pricebook's
    return LiveObject(Kind.METER, str(raw["id"]), raw.get("event_name"), True, canonical(Kind.METER, raw), raw)


def _product(raw: Mapping[str, Any], lookup_keys: Mapping[str, Any]) -> LiveObject:
    key = catalog_key(raw)
    values = {**raw, "id": key}
    default = raw.get("default_price")
    if isinstance(default, Mapping):  # expanded
        default = default.get("id")
    if isinstance(default, str):
        # the catalog names a default price by lookup_key; one without keeps its id (never equal to a key)
        values["default_price"] = lookup_keys.get(default) or default
    return LiveObject(
        Kind.PRODUCT, str(raw["id"]), key, is_managed(raw.get("metadata")), canonical(Kind.PRODUCT, values), raw
    )


def _product_id(value: Any) -> Any:
    return value.get("id") if isinstance(value, Mapping) else value


def _price(raw: Mapping[str, Any], meter_names: Mapping[str, str]) -> LiveObject:
    values = dict(raw)
    values["product"] = _product_id(raw.get("product"))
    recurring = raw.get("recurring")
    if isinstance(recurring, Mapping) and recurring.get("meter"):
        meter = str(recurring["meter"])
        values["recurring"] = {**recurring, "meter": meter_names.get(meter, meter)}
    key = raw.get("lookup_key") or None
    metadata = raw.get("metadata")
    return LiveObject(
        Kind.PRICE,
        str(raw["id"]),
        key,
        is_managed(metadata),
        canonical(Kind.PRICE, values),
        raw,
        replaced_id(metadata),
    )


def _plan(raw: Mapping[str, Any], meter_names: Mapping[str, str]) -> LiveObject:
    key = catalog_key(raw)
    values = {**raw, "id": key}
    values["product"] = _product_id(raw.get("product"))
    if raw.get("meter"):
        values["meter"] = meter_names.get(str(raw["meter"]), str(raw["meter"]))
    managed = is_managed(raw.get("metadata"))
    return LiveObject(Kind.PLAN, str(raw["id"]), key, managed, canonical(Kind.PLAN, values), raw)


__all__ = [
    "LISTS",
    "PLANS_LIST",
    "AccountState",
    "LiveObject",
    "PlansListRule",
    "fingerprint",
    "read_account",
    "relinked",
]
