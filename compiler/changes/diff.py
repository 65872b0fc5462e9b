"""The catalog against the live account: a `ChangeSet` of plain data (pure: no I/O, no clock).

For each catalog object the diff decides one action from `stripe.fields.SPECS` (the one table of what Stripe lets us
update): create, no-op, update (only updatable fields differ), replace (a price whose immutable field changed:
create the new one with `transfer_lookup_key=true`, move the product's default price, archive the old one), or a
`Problem` when Stripe cannot make the change at all (a plan's amount, a meter's aggregation). Managed objects the
catalog no longer lists are archived; objects pricebook does not own are never touched (the active ones are
listed in `ChangeSet.left_alone`), and one that holds an identity the catalog wants is a problem that says how
to adopt it, unless the catalog's record for this account adopts it (`adoption`): then it is an adopt, which
marks it as pricebook's and sets whatever differs, as an update would.

Objects are known by their catalog identity: a product's or plan's is its Stripe id or its metadata
`pricebook_id` (the state reader decides), so references (a price's product, a default price) are resolved to
the live object's Stripe id here, and one catalog serves accounts whose ids Stripe made up.

What no catalog entry can name is never archived: a managed price without a lookup_key is a problem, unless it is
the old version of a price pricebook replaced (the new price names it, `fields.REPLACES_KEY`), left active by an
apply that stopped before archiving it: that replace is finished (its product's default price moved on, then the
old version archived); or a second new version of one price, left by two applies replacing it at once (both name
the price they replace, and the one holding the lookup_key stays). And archiving many objects at once
(`problems.MASS_ARCHIVE_LIMIT`, or every managed object of a kind) is blocked unless the caller allows it: that is
what an empty, partial or mistyped catalog looks like.

`ChangeSet.calls` is the list apply sends, in the order of their stages (`stripe.calls.Stage`): meters,
products, new prices and plans, price and plan updates (reactivations included), default price moves, then
archives (so an old price is archived only once it is no longer a default price, and a default price is active
before a product points at it). Within a stage, calls keep the order the diff made them in.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from compiler.changes.adoption import adopting
from compiler.changes.changeset import Action, Change, ChangeSet, FieldChange, MassArchive, Note, Problem
from compiler.changes.compile import create_call, default_price_call, path_id
from compiler.changes.model import Catalog, Resource
from compiler.changes.problems import (
    ADOPT_CHANGES_FIXED_FIELD,
    CATALOG_ID_AMBIGUOUS,
    DEFAULT_PRICE_BLOCKS_REPLACE,
    DEFAULT_PRICE_REMOVED,
    FIELD_CANNOT_BE_UNSET,
    FIELD_KEPT,
    IMMUTABLE_FIELD,
    LOOKUP_KEY_HELD_BY_UNMANAGED_PRICE,
    MANAGED_PRICE_WITHOUT_LOOKUP_KEY,
    MASS_ARCHIVE,
    MASS_ARCHIVE_LIMIT,
    PLAN_ID_HELD_BY_PRICE,
    PLAN_ID_HELD_BY_UNMANAGED_PLAN,
    PRODUCT_ID_HELD_BY_UNMANAGED_PRODUCT,
    TOO_MANY_METADATA_KEYS,
    ProblemRule,
)
from compiler.errors import Diagnostic, Location, Severity
from compiler.stripe.calls import ApiCall, CallAction, in_stage_order, placeholder
from compiler.stripe.facts import METADATA_KEYS
from compiler.stripe.fields import (
    MANAGED_BY_KEY,
    MANAGED_BY_VALUE,
    PRICEBOOK_ID_KEY,
    SPECS,
    Mutability,
    Removal,
    currency_options_to_send,
    metadata_after,
    unstated,
)
from compiler.stripe.kinds import IDENTITY_FIELD, KIND_ORDER, Kind
from compiler.stripe.state import AccountState, LiveObject

#: where each kind comes in `KIND_ORDER`
_RANK = {kind: rank for rank, kind in enumerate(KIND_ORDER)}

REPLACE_NOTE = Note(
    "subscriptions on the old price keep it; new subscriptions get the new one "
    "(an update in place would have changed it for everyone)"
)
LOOKUP_KEY_MOVES = Note("the lookup_key moves to the new price (transfer_lookup_key=true)")
OLD_ALREADY_ARCHIVED = Note("the old price is already archived")
ARCHIVED_PRICE_KEPT = Note("existing subscriptions keep it; it can no longer be used for new ones")


@dataclass
class _Diff:
    catalog: Catalog
    state: AccountState
    calls: list[ApiCall] = field(default_factory=list)  # in the order made; `diff` sorts them by stage
    changes: list[Change] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    #: what the plan warns about without blocking the apply (`problems.PLAN_WARNING_RULES`), at the entry
    warnings: list[Diagnostic] = field(default_factory=list)
    #: the action decided for each catalog price/plan/meter (by address), for references and default prices
    decided: dict[str, Action] = field(default_factory=dict)
    #: notes for a change decided elsewhere (a product's default price moving with its price's replace)
    notes: dict[tuple[Kind, str], list[Note]] = field(default_factory=dict)
    #: the live prices that replaced catalog prices leave behind; archived once default moves are known
    old_versions: list[tuple[Resource, LiveObject]] = field(default_factory=list)
    #: the objects archived because the catalog no longer lists them (what the mass-archive guard counts)
    removed: list[LiveObject] = field(default_factory=list)
    #: the objects the catalog adopts (Stripe id -> the identity each had before), from `adoption.adopting`
    adopting: Mapping[str, str | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # one pass over the account: on a tie of identities, the first product or plan and the last meter or
        # price (in the state's order) is the one the catalog's entry is compared with
        self.meters: dict[str, LiveObject] = {}
        self.product_list: list[LiveObject] = []
        self.products: dict[str, LiveObject] = {}
        self.prices: dict[str, LiveObject] = {}
        self.plans: dict[str, LiveObject] = {}
        self.family: dict[str, LiveObject] = {}
        #: the id of each price pricebook replaced -> the managed price that replaced it (active or not)
        self.replaced_by: dict[str, LiveObject] = {}
        #: the id of each price pricebook replaced -> the managed price that replaced it and holds its lookup_key
        self.holding_key: dict[str, LiveObject] = {}
        for o in self.state.objects:
            if o.kind is Kind.PRICE:
                self.family[o.id] = o
                if o.key:
                    self.prices[o.key] = o
                if o.managed and o.replaces:
                    self.replaced_by[o.replaces] = o
                    if o.key is not None:
                        self.holding_key[o.replaces] = o
            elif o.kind is Kind.PLAN:
                self.family[o.id] = o
                if o.key:
                    self.plans.setdefault(o.key, o)
            elif o.kind is Kind.PRODUCT:
                self.product_list.append(o)
                if o.key:
                    self.products.setdefault(o.key, o)
            elif o.key:
                self.meters[o.key] = o
        #: each product's name, once looked up (`_product_name`)
        self.product_names: dict[str, str | None] = {}
        #: the products and plans that answer to each name (their catalog id or their Stripe id), for `_ambiguous`
        self.answering = {
            Kind.PRODUCT: _by_name(self.product_list),
            Kind.PLAN: _by_name(o for o in self.family.values() if o.kind is Kind.PLAN),
        }

    # -- references ---------------------------------------------------------------------------------------

    def ref(self, kind: Kind, key: str) -> str:
        """The Stripe id a call uses for a referenced object: live, or a placeholder if created earlier."""
        if kind is Kind.METER:
            live = self.meters.get(key)
            return live.id if live is not None else placeholder(f"meter.{key}")
        if kind is Kind.PRICE:
            price = self.prices.get(key)
            if price is None or self.decided.get(f"price.{key}") in (Action.CREATE, Action.REPLACE):
                return placeholder(f"price.{key}")
            return price.id
        if kind is Kind.PRODUCT:
            product = self.products.get(key)
            return product.id if product is not None else key  # a product is created with its catalog id
        return key

    # -- per catalog object -------------------------------------------------------------------------------

    def run(self) -> None:
        # an entry whose adoption has a problem is that problem alone (not a create besides it, say)
        blocked = {p.address for p in self.problems}
        by_kind: dict[Kind, list[Resource]] = {kind: [] for kind in KIND_ORDER}
        for resource in sorted(self.catalog, key=lambda r: r.key):
            if not blocked or resource.address not in blocked:
                by_kind[resource.kind].append(resource)
        for kind in (Kind.METER, Kind.PRICE, Kind.PLAN, Kind.PRODUCT):  # products last: default prices
            decide = getattr(self, f"_{kind.value}")
            for resource in by_kind[kind]:
                decide(resource)
        self._removed()
        if self.notes:
            for index, change in enumerate(self.changes):
                extra = self.notes.get((change.kind, change.key))
                if extra:
                    self.changes[index] = dataclasses.replace(change, notes=(*change.notes, *extra))

    def _meter(self, resource: Resource) -> None:
        live = self.meters.get(resource.key)
        if live is None:
            self._create(resource)
            return
        fields = _compare(Kind.METER, live.attrs, resource.attrs)
        if self._impossible(resource, live, fields) or self._cannot_unset(resource, fields):
            return
        if not fields:
            self._noop(resource, live)
            return
        path = _object_path(Kind.METER, live.id)
        # status is not a body parameter: it changes through /deactivate and /reactivate
        body = [f for f in fields if f[0] != "status"]
        params = _update_params(resource, live, body)
        if params:
            self.calls.append(_post(path, params, resource.address, CallAction.UPDATE))
        reasons = [_update_reason(live, body)] if body else []
        for name, _before, after, _how in fields:
            if name == "status":
                verb = CallAction.REACTIVATE if after == "active" else CallAction.DEACTIVATE
                self.calls.append(_post(f"{path}/{verb.value}", {}, resource.address, verb))
                reasons.append(f"the meter is {live.attrs.get('status')} in the account: {verb.value} it")
        self._change(resource, live, Action.UPDATE, "; ".join(reasons), fields)

    def _price(self, resource: Resource) -> None:
        live = self.prices.get(resource.key)
        if live is None:
            self.decided[resource.address] = Action.CREATE
            self._create(resource)
            return
        if live.id in self.adopting:
            self._adopt(resource, live, _compare(Kind.PRICE, live.attrs, resource.attrs))
            return
        if not live.managed:
            self._unowned(resource, live, LOOKUP_KEY_HELD_BY_UNMANAGED_PRICE, "lookup_key")
            return
        fields = _compare(Kind.PRICE, live.attrs, resource.attrs)
        if not fields:
            self.decided[resource.address] = Action.NOOP
            self._noop(resource, live)
            return
        replace = [name for name, _b, _a, how in fields if how == Mutability.REPLACE]
        if not replace:
            if self._cannot_unset(resource, fields):
                return  # a replace creates the new price without the field: only an update needs it unset
            self.decided[resource.address] = Action.UPDATE
            self._update(resource, live, fields, notes=_in_place_notes(live.attrs, resource.attrs))
            return
        self.decided[resource.address] = Action.REPLACE
        self.calls.append(create_call(resource, self.ref, replaces=live.id))
        notes = [REPLACE_NOTE, LOOKUP_KEY_MOVES]
        lost = unstated(Kind.PRICE, live.raw) if live.raw is not None else []
        if lost:
            notes.append(
                Note(
                    f"the old price also has {', '.join(lost)}, which a catalog cannot state: the new price will not "
                    "have it (set it by hand after the apply, if it matters)"
                )
            )
        if live.active:
            self.old_versions.append((resource, live))
        else:
            notes.append(OLD_ALREADY_ARCHIVED)
        reason = f"{', '.join(replace)} cannot change on an existing price: a new price replaces it"
        self._change(resource, live, Action.REPLACE, reason, fields, notes=notes)

    def _plan(self, resource: Resource) -> None:
        held = self.family.get(resource.key)
        if held is not None and held.kind is not Kind.PLAN:
            self._problem(
                resource,
                PLAN_ID_HELD_BY_PRICE,
                f"the id {resource.key!r} belongs to a price in the account, not to a plan",
                PLAN_ID_HELD_BY_PRICE.way_out,
            )
            return
        if self._ambiguous(resource):
            return
        live = self.plans.get(resource.key)
        if live is None:
            self.decided[resource.address] = Action.CREATE
            self._create(resource)
            return
        if not live.managed and live.id in self.adopting:
            self._adopt(resource, live, _compare(Kind.PLAN, live.attrs, resource.attrs))
            return
        if not live.managed:
            self._unowned(resource, live, PLAN_ID_HELD_BY_UNMANAGED_PLAN, "plan id")
            return
        fields = _compare(Kind.PLAN, live.attrs, resource.attrs)
        if self._impossible(resource, live, fields) or self._cannot_unset(resource, fields):
            return
        if not fields:
            self.decided[resource.address] = Action.NOOP
            self._noop(resource, live)
            return
        self.decided[resource.address] = Action.UPDATE
        self._update(resource, live, fields)

    def _product(self, resource: Resource) -> None:
        if self._ambiguous(resource):
            return
        live = self.products.get(resource.key)
        adopt = live is not None and not live.managed and live.id in self.adopting
        if live is not None and not live.managed and not adopt:
            self._unowned(resource, live, PRODUCT_ID_HELD_BY_UNMANAGED_PRODUCT, "product id")
            return
        wanted = resource.attrs.get("default_price")
        current_key = live.attrs.get("default_price") if live is not None else None
        current_id = self._current_default_id(live)
        follows = self._followed(current_key)
        if wanted is None and follows is not None and follows.product == resource.key:
            wanted = follows.key  # not named in the catalog, but it follows its price through a replace
            self._kept_default_price(resource, follows.key)
        move = self._default_move(resource, wanted, current_id)
        if live is None:
            self._create(resource)
            if move is not None:
                self.calls.append(move)
            return
        fields = [f for f in _compare(Kind.PRODUCT, live.attrs, resource.attrs) if f[0] != "default_price"]
        if (resource.attrs.get("default_price") is not None or move is not None) and current_key != wanted:
            fields.append(("default_price", current_key, wanted, Mutability.UPDATE))
        if move is not None:
            self.calls.append(move)
            if current_key == wanted:  # same lookup_key, new price: say so on the price's replace
                self._note(Kind.PRICE, str(wanted), Note(f"{resource.address}'s default price moves to the new price"))
        if adopt:
            self._adopt(resource, live, fields)
            return
        if self._cannot_unset(resource, fields):
            return
        if not fields:
            self._noop(resource, live)
            return
        params = _update_params(resource, live, [f for f in fields if f[0] != "default_price"])
        if self._too_many_keys(resource, live, params, "update"):
            return
        if params:
            action = CallAction.ARCHIVE if params.get("active") is False else CallAction.UPDATE
            self.calls.append(_post(_object_path(Kind.PRODUCT, live.id), params, resource.address, action))
        self._change(resource, live, Action.UPDATE, _update_reason(live, fields), fields)

    def _followed(self, current_key: Any) -> Resource | None:
        """The catalog price a product's current default price (`current_key`: a lookup_key, or the id of a price
        without one) is a version of: the price with that lookup_key, or, for the old version of a price
        pricebook replaced, the price with its successor's lookup_key."""
        if not isinstance(current_key, str):
            return None
        successor = self.replaced_by.get(current_key)
        if successor is not None and successor.key is not None and current_key not in self.prices:
            return self.catalog.get(Kind.PRICE, successor.key)
        return self.catalog.get(Kind.PRICE, current_key)

    def _current_default_id(self, live: LiveObject | None) -> str | None:
        if live is None:
            return None
        key = live.attrs.get("default_price")
        if not isinstance(key, str):
            return None
        price = self.prices.get(key)
        return price.id if price is not None else key  # a price without lookup_key stays as its id

    def _default_move(self, product: Resource, wanted: Any, current_id: str | None) -> ApiCall | None:
        if not isinstance(wanted, str) or self.catalog.get(Kind.PRICE, wanted) is None:
            return None
        if f"price.{wanted}" not in self.decided:  # the price has a problem: nothing to point at
            return None
        target = self.ref(Kind.PRICE, wanted)
        if target == current_id:
            return None
        return default_price_call(product.key, self.ref(Kind.PRODUCT, product.key), target)

    # -- objects the catalog no longer lists -------------------------------------------------------------

    def _removed(self) -> None:
        catalog_prices = {r.key for r in self.catalog.of_kind(Kind.PRICE)}
        catalog_plans = {r.key for r in self.catalog.of_kind(Kind.PLAN)}
        catalog_products = {r.key for r in self.catalog.of_kind(Kind.PRODUCT)}
        # the default price each product will have once the changeset is applied
        defaults_after: dict[str, str] = {}  # price id -> the catalog id of the product it is the default of
        for product in self.product_list:
            current = self._current_default_id(product)
            if current is not None and product.key is not None:
                defaults_after[current] = product.key
        moved = {call.address for call in self.calls if call.action is CallAction.SET_DEFAULT_PRICE}
        defaults_after = {p: prod for p, prod in defaults_after.items() if f"product.{prod}" not in moved}
        leaving_products = {
            p.key for p in self.product_list if (p.managed and p.key not in catalog_products) or not p.active
        }

        def still_default(obj: LiveObject, address: str, why: str, rule: ProblemRule) -> bool:
            """Whether `obj` will still be a product's default price, which Stripe refuses to archive (a problem,
            at the catalog product's default_price, else at the catalog entry of `address`, when there is one)."""
            owner = defaults_after.get(obj.id)
            if owner is None:
                return False
            if owner in leaving_products:
                # the product itself is archived, which stops its sale; its default price has to stay active
                self._note(
                    Kind.PRODUCT,
                    owner,
                    Note(
                        f"its default price {obj.id} stays active (Stripe cannot archive a product's default "
                        "price); archiving the product stops its sale"
                    ),
                )
                return True
            product = self.catalog.get(Kind.PRODUCT, owner)
            kind, _, key = address.partition(".")
            named = self.catalog.get(Kind(kind), key) if kind in {k.value for k in Kind} else None
            where = product.where("default_price") if product is not None else named.where() if named else None
            self.problems.append(
                Problem(
                    address,
                    rule.id,
                    f"{obj.kind.value} {obj.id} {why}, so it would be archived, but it is the default price of "
                    f"product {owner} and Stripe cannot archive a product's default price",
                    f"give product {owner} another default_price (in the catalog if pricebook manages it, "
                    "otherwise in the Dashboard), or remove the product from the catalog to archive it",
                    where,
                )
            )
            return True

        for resource, old in self.old_versions:
            why = f"is replaced by a new {resource.address}"
            if not still_default(old, resource.address, why, DEFAULT_PRICE_BLOCKS_REPLACE):
                path = _object_path(Kind.PRICE, old.id)
                self.calls.append(_post(path, {"active": False}, resource.address, CallAction.ARCHIVE_OLD_VERSION))

        named = {Kind.PRICE: catalog_prices, Kind.PLAN: catalog_plans}
        # the managed active prices and plans no catalog entry names: few, however large the account
        unnamed = [o for o in self.family.values() if o.key not in named[o.kind] and o.managed and o.active]
        for obj in sorted(unnamed, key=lambda o: (_RANK[o.kind], o.key or "", o.id)):
            if obj.kind is Kind.PRICE and obj.key is None:
                self._nameless(obj, still_default)
                continue
            if still_default(obj, obj.address, "is no longer in the catalog", DEFAULT_PRICE_REMOVED):
                continue
            self._archive(obj, "no longer in the catalog")
            self.removed.append(obj)

        users: dict[str, list[str]] | None = None  # product -> the active prices and plans of others using it
        for product in sorted(self.product_list, key=lambda o: (o.key or "", o.id)):
            if not product.managed or not product.active or product.key is None or product.key in catalog_products:
                continue
            if users is None:
                users = {}
                for o in self.family.values():
                    used = o.attrs.get("product")
                    if not o.managed and o.active and isinstance(used, str):
                        users.setdefault(used, []).append(o.id)
            others = sorted(users.get(product.key, ()))
            if others:
                self._record(
                    Kind.PRODUCT,
                    product.key,
                    Action.NOOP,
                    f"no longer in the catalog, but kept active: prices pricebook does not own use it "
                    f"({', '.join(others)})",
                    product.id,
                    before=product.attrs,
                )
                continue
            self._archive(product, "no longer in the catalog")
            self.removed.append(product)

    def _nameless(self, obj: LiveObject, still_default: Callable[[LiveObject, str, str, ProblemRule], bool]) -> None:
        """A managed active price without a lookup_key: no catalog entry can name it, so it is never archived as
        removed. Two kinds are pricebook's own leftovers, archived now: the old version of a price pricebook
        replaced, left by an apply that stopped before archiving it (the replace is finished now); and a second new
        version of one price, made when two applies replaced it at once (both name the price they replaced; the
        one made later took the lookup_key from the other, and keeps it)."""
        successor = self.replaced_by.get(obj.id)
        twin = self.holding_key.get(obj.replaces) if obj.replaces else None
        if successor is not None:
            replaced = f"price.{successor.key}" if successor.key else f"price {successor.id}"
            why = f"is the old version of {replaced}"
            reason = (
                f"the old version of {replaced}, which replaced it ({successor.id}): an earlier apply stopped "
                "before archiving it"
            )
        elif twin is not None and twin.id != obj.id:
            why = f"is a second new version of price.{twin.key}"
            reason = (
                f"a second new version of price.{twin.key}: two applies replaced {obj.replaces} at the same time, "
                f"and {twin.id}, made later, took the lookup_key"
            )
        else:
            self.problems.append(
                Problem(
                    obj.address,
                    MANAGED_PRICE_WITHOUT_LOOKUP_KEY.id,
                    f"price {obj.id} is marked {MANAGED_BY_KEY}={MANAGED_BY_VALUE} but has no lookup_key, so no "
                    "catalog entry can name it: pricebook leaves it as it is rather than archive it",
                    MANAGED_PRICE_WITHOUT_LOOKUP_KEY.way_out,
                )
            )
            return
        if still_default(obj, obj.address, why, DEFAULT_PRICE_BLOCKS_REPLACE):
            return
        path = _object_path(Kind.PRICE, obj.id)
        self.calls.append(_post(path, {"active": False}, obj.address, CallAction.ARCHIVE_OLD_VERSION))
        self._record(
            Kind.PRICE,
            obj.id,
            Action.ARCHIVE,
            reason,
            obj.id,
            (FieldChange("active", True, False),),
            before=obj.attrs,
            notes=(ARCHIVED_PRICE_KEPT,),
        )

    def mass_archive(self, allowed: bool) -> MassArchive | None:
        """The removals, when they are many: more than the limit, or every managed object of a kind that a
        catalog can name (a managed price without a lookup_key is never removed, so it does not count)."""
        if not self.removed:
            return None
        whole = []
        for kind in (Kind.PRODUCT, Kind.PRICE, Kind.PLAN):
            removed = sum(1 for o in self.removed if o.kind is kind)
            nameable = sum(1 for o in self.state.of_kind(kind) if o.managed and o.active and o.key is not None)
            if removed and removed == nameable:
                whole.append(kind)
        if len(self.removed) <= MASS_ARCHIVE_LIMIT and not whole:
            return None
        mass = MassArchive(len(self.removed), MASS_ARCHIVE_LIMIT, tuple(whole), allowed)
        if not allowed:
            self.problems.append(
                Problem(
                    "catalog",
                    MASS_ARCHIVE.id,
                    f"this plan archives {mass.describe()}: pricebook does not archive that many at once unless "
                    "told to",
                    MASS_ARCHIVE.way_out,
                )
            )
        return mass

    def _archive(self, obj: LiveObject, reason: str) -> None:
        key = obj.key if obj.key is not None else obj.id
        address = f"{obj.kind.value}.{key}"
        self.calls.append(_post(_object_path(obj.kind, obj.id), {"active": False}, address, CallAction.ARCHIVE))
        notes: tuple[Note, ...] = ()
        if obj.kind in (Kind.PRICE, Kind.PLAN):
            notes = (ARCHIVED_PRICE_KEPT,)
        self._record(
            obj.kind,
            key,
            Action.ARCHIVE,
            reason,
            obj.id,
            (FieldChange("active", True, False),),
            before=obj.attrs,
            notes=notes,
        )

    def _product_name(self, kind: Kind, key: str, live_id: str | None) -> str | None:
        """The name of the product a change (of `kind`, `key`, on `live_id`) is about or belongs to: as the
        catalog says, else as the account."""
        if kind is Kind.METER:
            return None
        product: Any = key
        if kind is not Kind.PRODUCT:
            resource = self.catalog.get(kind, key)
            live = self.family.get(live_id or "")
            product = resource.product if resource is not None else live.attrs.get("product") if live else None
        if not isinstance(product, str):
            return None
        if product not in self.product_names:  # a product has many prices: its name is looked up once
            entry = self.catalog.get(Kind.PRODUCT, product)
            name = entry.params.get("name") if entry is not None else None
            if name is None and (live_product := self.products.get(product)) is not None:
                name = live_product.attrs.get("name")
            self.product_names[product] = name if isinstance(name, str) else None
        return self.product_names[product]

    # -- adoption and identity ----------------------------------------------------------------------------

    def _adopt(self, resource: Resource, live: LiveObject, fields: Sequence[_Field]) -> None:
        """Take over an object made by hand: one call that marks it as pricebook's (metadata, a price's
        lookup_key, a `pricebook_id` when its Stripe id is not the catalog's) and sets what else differs."""
        if self._cannot_unset(resource, fields):
            return
        fixed = [f for f in fields if f[3] in (Mutability.REPLACE, Mutability.IMPOSSIBLE)]
        if fixed:
            detail = ", ".join(_difference(name, b, a) for name, b, a, _how in fixed)
            self._problem(
                resource,
                ADOPT_CHANGES_FIXED_FIELD,
                f"the catalog takes over {live.kind.value} {live.id}, but differs from it where Stripe cannot change "
                f"an existing {live.kind.value} ({detail})",
                ADOPT_CHANGES_FIXED_FIELD.way_out,
                field=fixed[0][0],
            )
            return
        if resource.kind in (Kind.PRICE, Kind.PLAN):
            self.decided[resource.address] = Action.ADOPT
        path = _object_path(resource.kind, live.id)
        params = _update_params(resource, live, [f for f in fields if f[0] != "default_price"])
        archive = params.pop("active", None) is False
        marks: list[FieldChange] = []
        before = self.adopting.get(live.id)
        if resource.kind is Kind.PRICE and before != resource.key:
            params["lookup_key"] = resource.key
            marks.append(FieldChange("lookup_key", before, resource.key))
        if resource.kind in (Kind.PRODUCT, Kind.PLAN) and live.id != resource.key:
            params["metadata"] = {**params.get("metadata", {}), PRICEBOOK_ID_KEY: resource.key}
            marks.append(FieldChange(f"metadata.{PRICEBOOK_ID_KEY}", None, resource.key))
        if self._too_many_keys(resource, live, params, "adoption"):
            return
        if params.get("currency_options") == "":
            # a removed currency option: Stripe can only clear the options, then set the remaining ones
            self.calls.append(
                _post(path, {"currency_options": ""}, resource.address, CallAction.CLEAR_CURRENCY_OPTIONS)
            )
            params["currency_options"] = _plain(currency_options_to_send(resource.params) or {})
        self.calls.append(_post(path, params, resource.address, CallAction.ADOPT))
        if archive:  # after the default price moves, as any archive (until then it may be a default price)
            self.calls.append(_post(path, {"active": False}, resource.address, CallAction.ARCHIVE))
        # the same words for every adoption of a kind (the marks are in the fields), so a view can group them
        reason = "made outside pricebook: the catalog takes it over"
        if live.managed:  # a price with the mark that no lookup_key named
            reason = "marked as pricebook's, but no lookup_key named it: the catalog takes it over"
        names = [name for name, old, new, _how in fields if not _only_the_mark(old, new)]
        if names:
            reason += f", and sets {', '.join(names)} as the catalog says"
        self._record(
            resource.kind,
            resource.key,
            Action.ADOPT,
            reason,
            live.id,
            (*marks, *_field_changes(fields)),
            before=live.attrs,
            after=resource.attrs,
            notes=tuple(_in_place_notes(live.attrs, resource.attrs)) if resource.kind is Kind.PRICE else (),
        )

    def _ambiguous(self, resource: Resource) -> bool:
        """Whether more than one object of the account answers to this product's or plan's catalog id (one by
        its Stripe id, another by its metadata pricebook_id), or the id is another object's Stripe id; a problem
        then."""
        answering = self.answering[resource.kind].get(resource.key, [])
        if not answering or (len(answering) == 1 and answering[0].key == resource.key):
            return False
        shown = ", ".join(
            f"{o.id} (its {'id' if o.id == resource.key else PRICEBOOK_ID_KEY})"
            for o in sorted(answering, key=lambda o: o.id)
        )
        if len(answering) == 1:
            shown += f", which pricebook knows as {answering[0].key!r}"
        self._problem(
            resource,
            CATALOG_ID_AMBIGUOUS,
            f"more than one {resource.kind.value} of the account answers to {resource.key!r}: {shown}",
            CATALOG_ID_AMBIGUOUS.way_out,
        )
        return True

    # -- building blocks ----------------------------------------------------------------------------------

    def _create(self, resource: Resource) -> None:
        self.decided.setdefault(resource.address, Action.CREATE)
        self.calls.append(create_call(resource, self.ref))
        self._change(resource, None, Action.CREATE, "not in the account yet", ())

    def _update(
        self,
        resource: Resource,
        live: LiveObject,
        fields: Sequence[_Field],
        *,
        notes: Sequence[Note] = (),
    ) -> None:
        params = _update_params(resource, live, fields)
        if self._too_many_keys(resource, live, params, "update"):
            return
        path = _object_path(resource.kind, live.id)
        if params.get("currency_options") == "":
            # a removed currency option: Stripe can only clear the options, then set the remaining ones
            clear = _post(path, {"currency_options": ""}, resource.address, CallAction.CLEAR_CURRENCY_OPTIONS)
            self.calls.append(clear)
            options = currency_options_to_send(resource.params)
            params = {k: v for k, v in params.items() if k != "currency_options"}
            if options:
                params["currency_options"] = _plain(options)
        if params:
            # an update that sets active=false archives: in the archives' stage, after the default price moves
            # (until then it may be a default price)
            action = CallAction.ARCHIVE if params.get("active") is False else CallAction.UPDATE
            self.calls.append(_post(path, params, resource.address, action))
        self._change(resource, live, Action.UPDATE, _update_reason(live, fields), fields, notes=notes)

    def _impossible(self, resource: Resource, live: LiveObject, fields: Sequence[_Field]) -> bool:
        blocked = [name for name, _b, _a, how in fields if how == Mutability.IMPOSSIBLE]
        if not blocked:
            return False
        detail = ", ".join(_difference(name, b, a) for name, b, a, how in fields if name in blocked)
        rule = IMMUTABLE_FIELD[resource.kind]
        self._problem(
            resource,
            rule,
            f"Stripe cannot change {', '.join(blocked)} of an existing {resource.kind.value} ({detail})",
            rule.way_out,
            field=blocked[0],
        )
        return True

    def _cannot_unset(self, resource: Resource, fields: Sequence[_Field]) -> bool:
        """A problem for each field the catalog drops that Stripe cannot unset (it refuses `""` for it with 400
        parameter_invalid_empty): the plan says what to write instead of sending a call Stripe refuses."""
        refused = [(name, before) for name, before, _after, how in fields if _refused_removal(resource, name, how)]
        for name, before in refused:
            kind = resource.kind.value
            keep = f"`{name}: {_yaml(before)}` keeps what the account has"
            choice = SPECS[resource.kind].field(name).none_choice
            if choice is None:
                hint = f"give `{name}` a value again ({keep}); Stripe has no empty {name}"
            elif before == choice.value:
                hint = f"write {keep}"
            else:
                hint = f"write `{name}: {_yaml(choice.value)}`, which {choice.means}, or {keep}"
            self._problem(
                resource,
                FIELD_CANNOT_BE_UNSET,
                f"the catalog gives no `{name}`, but the account has {name}: {_yaml(before)}, and Stripe cannot "
                f"unset a {kind}'s {name} once it is set",
                hint,
            )
        return bool(refused)

    def _too_many_keys(self, resource: Resource, live: LiveObject, params: Mapping[str, Any], what: str) -> bool:
        """A problem when the metadata an update (or adoption) sends would leave the object with more keys than
        Stripe allows, which it refuses half way through an apply. Stripe counts the object's keys after the
        update: the catalog's, the mark, and the keys the update leaves as they are (pricebook's own, which the
        diff never compares, such as a pricebook_id by hand on a price)."""
        sent = params.get("metadata")
        if not isinstance(sent, Mapping):
            return False
        current = live.raw.get("metadata") if live.raw is not None else live.attrs.get("metadata")
        after = metadata_after(current, sent)
        if len(after) <= METADATA_KEYS.value:
            return False
        written = resource.params.get("metadata")
        own = [k for k in (written if isinstance(written, Mapping) else {}) if k != MANAGED_BY_KEY]
        kept = sorted(k for k in after if k not in sent and k not in own)
        pricebook = sorted(k for k in after if k not in own and k not in kept)
        counted = f"the catalog's {len(own)}, " + ", ".join(pricebook)
        if kept:
            counted += f", and {', '.join(kept)}, which the {live.kind.value} has and the {what} keeps"
        excess = len(after) - METADATA_KEYS.value
        remove = ""
        if kept:
            remove = f"remove metadata {', '.join(kept)} from {live.kind.value} {live.id} in the Dashboard, or "
        self._problem(
            resource,
            TOO_MANY_METADATA_KEYS,
            f"after this {what}, {live.kind.value} {live.id} would have {len(after)} metadata keys ({counted}), and "
            f"Stripe allows {METADATA_KEYS.value} ({METADATA_KEYS.doc})",
            f"{remove}keep at most {max(len(own) - excess, 0)} metadata keys in the catalog entry",
            field="metadata" if own else None,
        )
        self.decided.pop(resource.address, None)  # an entry with a problem is nothing a default price can point at
        return True

    def _kept_default_price(self, resource: Resource, kept: str) -> None:
        """The catalog names no default price, and the account's is one of the product's catalog prices: deleting
        `default_price:` unsets nothing (Stripe cannot), so the plan says what stays, even when nothing changes."""
        self.warnings.append(
            Diagnostic(
                resource.location or Location(resource.address),
                FIELD_KEPT.id,
                f"product {resource.key!r} names no default_price, so the account's stays: {kept}. Stripe cannot "
                "unset a product's default price",
                f"write `default_price: {kept}` to say so, or name another of the product's prices",
                Severity.WARNING,
            )
        )

    def _unowned(self, resource: Resource, live: LiveObject, rule: ProblemRule, what: str) -> None:
        self._problem(
            resource,
            rule,
            f"{live.kind.value} {live.id} in the account already has the {what} {resource.key!r}, "
            f"and pricebook does not manage it (no metadata {MANAGED_BY_KEY}={MANAGED_BY_VALUE})",
            rule.way_out,
            field=IDENTITY_FIELD[resource.kind],
        )

    def _problem(
        self, resource: Resource, rule: ProblemRule, message: str, hint: str, *, field: str | None = None
    ) -> None:
        """A problem about a catalog entry, at the field it is about (`field`) or else at the entry."""
        self.problems.append(Problem(resource.address, rule.id, message, hint, resource.where(field)))

    def _noop(self, resource: Resource, live: LiveObject) -> None:
        self._record(resource.kind, resource.key, Action.NOOP, "up to date", live.id)

    def _record(
        self,
        kind: Kind,
        key: str,
        action: Action,
        reason: str,
        live_id: str | None,
        fields: tuple[FieldChange, ...] = (),
        *,
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
        notes: tuple[Note, ...] = (),
    ) -> None:
        """A change, with the name of the product it is about beside it."""
        name = self._product_name(kind, key, live_id)
        self.changes.append(Change(kind, key, action, reason, live_id, fields, before, after, notes, product_name=name))

    def _note(self, kind: Kind, key: str, note: Note) -> None:
        self.notes.setdefault((kind, key), []).append(note)

    def _change(
        self,
        resource: Resource,
        live: LiveObject | None,
        action: Action,
        reason: str,
        fields: Sequence[_Field],
        *,
        notes: Sequence[Note] = (),
    ) -> None:
        before = live.attrs if live is not None else None
        self._record(
            resource.kind,
            resource.key,
            action,
            reason,
            live.id if live is not None else None,
            tuple(_field_changes(fields)),
            before=before,
            after=resource.attrs,
            notes=tuple(notes),
        )


def _by_name(objects: Iterable[LiveObject]) -> dict[str, list[LiveObject]]:
    """The objects that answer to each name, by their catalog id or their Stripe id (each once), in their order."""
    out: dict[str, list[LiveObject]] = {}
    for obj in objects:
        out.setdefault(obj.id, []).append(obj)
        if obj.key is not None and obj.key != obj.id:
            out.setdefault(obj.key, []).append(obj)
    return out


# ---------------------------------------------------------------------------------------------------------
# the public entry point


def diff(
    catalog: Catalog, state: AccountState, *, api_version: str = "", allow_mass_archive: bool = False
) -> ChangeSet:
    """What it takes to make the account match the catalog, as data (see the module docstring).
    `allow_mass_archive`: the user said --allow-mass-archive, so many archives at once are not a problem."""
    taken = adopting(catalog, state)
    work = _Diff(catalog, taken.state, adopting=taken.before)
    work.problems.extend(taken.problems)
    work.run()
    mass = work.mass_archive(allow_mass_archive)
    changes = sorted(work.changes, key=lambda c: (_RANK[c.kind], c.key, c.live_id or ""))
    problems = sorted(work.problems, key=lambda p: (p.address, p.rule))
    return ChangeSet(
        changes=tuple(changes),
        calls=in_stage_order(work.calls),
        problems=tuple(problems),
        warnings=tuple(work.warnings),
        api_version=api_version,
        fingerprint=state.fingerprint,
        livemode=state.livemode,
        left_alone=left_alone(catalog, state, adopted=frozenset(taken.before)),
        mass_archive=mass,
        account=state.account,
        catalog=catalog.resources,
        adoption=catalog.adoption(state.account, state.livemode) if state.account else None,
    )


def left_alone(catalog: Catalog, state: AccountState, *, adopted: frozenset[str] = frozenset()) -> tuple[str, ...]:
    """`kind.id` of the active account objects pricebook does not own: products, prices and plans without the
    managed_by mark (but those `adopted` now, by Stripe id), and meters whose event_name the catalog does not name
    (a meter has no metadata: it is pricebook's exactly when the catalog names it). Sorted by kind, then id.

    Archived prices, plans and products and deactivated meters are left out: nobody can subscribe to them, and a
    long-lived account holds many (every price replaced by hand), which would bury the ones that matter."""
    catalog_meters = {r.key for r in catalog.of_kind(Kind.METER)}
    found = []
    for obj in state.objects:
        if not obj.active:
            continue
        foreign = obj.key not in catalog_meters if obj.kind is Kind.METER else not obj.managed
        foreign = foreign and obj.id not in adopted
        if foreign:
            found.append((_RANK[obj.kind], obj.id, f"{obj.kind.value}.{obj.id}"))
    return tuple(entry for _order, _id, entry in sorted(found))


# ---------------------------------------------------------------------------------------------------------
# fields

#: (top-level field, before, after, Mutability)
_Field = tuple[str, Any, Any, str]


def _compare(kind: Kind, before: Mapping[str, Any], after: Mapping[str, Any]) -> list[_Field]:
    """The top-level fields that differ, each with how Stripe lets it change (the one table decides)."""
    if before == after:  # the common case, compared in C
        return []
    out: list[_Field] = []
    for spec_field in SPECS[kind].fields:
        if spec_field.mutability == Mutability.IDENTITY:
            continue
        old = before.get(spec_field.name, spec_field.default)
        new = after.get(spec_field.name, spec_field.default)
        if new is None and spec_field.removal is Removal.KEPT:
            continue  # the catalog does not name one: whatever the account has is fine
        if old != new:
            out.append((spec_field.name, old, new, spec_field.how_to_change(old, new)))
    return out


def _only_the_mark(before: Any, after: Any) -> bool:
    """Whether metadata `before` becomes `after` by gaining pricebook's mark alone."""
    if not isinstance(before, Mapping) or not isinstance(after, Mapping):
        return False
    return {k: v for k, v in after.items() if k != MANAGED_BY_KEY} == dict(before) and MANAGED_BY_KEY in after


def _field_changes(fields: Iterable[_Field]) -> list[FieldChange]:
    out: list[FieldChange] = []
    for name, before, after, how in fields:
        forces = how == Mutability.REPLACE
        out += [FieldChange(path, b, a, forces) for path, b, a in _flatten(name, before, after)]
    return out


def _flatten(path: str, before: Any, after: Any) -> list[tuple[str, Any, Any]]:
    """`recurring.interval`, `metadata.team`: nested mappings down to what differs; lists (tiers) whole."""
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        out: list[tuple[str, Any, Any]] = []
        for key in sorted(set(before) | set(after), key=str):
            old, new = before.get(key), after.get(key)
            if old != new:
                out += _flatten(f"{path}.{key}", old, new)
        return out
    return [(path, before, after)]


def _given(value: Any) -> bool:
    """Whether the catalog gives the field a value: not dropped, and not an empty list."""
    return value is not None and value != []


def _refused_removal(resource: Resource, name: str, how: str) -> bool:
    """Whether an update would have to unset a field Stripe cannot unset."""
    removal = SPECS[resource.kind].field(name).removal
    return how == Mutability.UPDATE and removal is Removal.REFUSED and not _given(resource.params.get(name))


def _update_params(resource: Resource, live: LiveObject, fields: Iterable[_Field]) -> dict[str, Any]:
    """The body of POST /v1/<kind>/{id} that sets the updatable fields back to what the catalog says. A field the
    catalog drops or empties goes as its `Removal` says; the diff reports the ones Stripe cannot unset as
    problems and never gets here with them."""
    params: dict[str, Any] = {}
    spec = SPECS[resource.kind]
    for name, before, after, _how in fields:
        removal = spec.field(name).removal
        if name == "metadata":
            old = before if isinstance(before, Mapping) else {}
            new = after if isinstance(after, Mapping) else {}
            # keys added by hand are removed by posting "" for them
            params["metadata"] = {
                **{k: "" for k in sorted(old) if k not in new},
                **{k: v for k, v in sorted(new.items()) if old.get(k) != v},
            }
        elif name == "currency_options":
            old_options = before if isinstance(before, Mapping) else {}
            new_options = after if isinstance(after, Mapping) else {}
            if any(c not in new_options for c in old_options):
                params["currency_options"] = ""
            else:
                # the whole set, not only the changed options: right whether Stripe merges the map or replaces it
                options = currency_options_to_send(resource.params) or {}
                params["currency_options"] = {c: _plain(o) for c, o in sorted(options.items())}
        elif removal is Removal.DEFAULT:
            params[name] = after  # the catalog's value, or the field's default when it gives none
        elif _given(resource.params.get(name)):
            params[name] = _plain(resource.params[name])
        elif removal is Removal.UNSET:
            params[name] = ""  # also for an emptied list: form encoding sends nothing for []
        else:
            raise ValueError(f"{resource.address}: an update cannot unset {name} (removal {removal})")
    return params


def repriced_currencies(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """The currency options (sorted) a price has both before and after, with other terms: the ones an update in
    place reprices for the subscriptions already billed in them."""
    old = before.get("currency_options")
    new = after.get("currency_options")
    old = old if isinstance(old, Mapping) else {}
    new = new if isinstance(new, Mapping) else {}
    return sorted(c for c in old.keys() & new.keys() if old[c] != new[c])


def _in_place_notes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[Note]:
    """What a price update in place means for customers (unlike a replace, it reaches existing subscriptions)."""
    repriced = repriced_currencies(before, after)
    if not repriced:
        return []
    return [
        Note(
            f"currency options are updated in place: existing subscriptions billed in {', '.join(repriced)} "
            "pay the new amounts from their next invoice"
        )
    ]


def _update_reason(live: LiveObject, fields: Sequence[_Field]) -> str:
    names = [name for name, *_ in fields]
    if names == ["active"] and not live.active:
        return "archived in the account, listed in the catalog again: reactivate it"
    return f"changed in the account or the catalog: {', '.join(names)} (updated in place)"


# ---------------------------------------------------------------------------------------------------------
# small helpers


def _object_path(kind: Kind, object_id: str) -> str:
    return f"{SPECS[kind].path}/{path_id(object_id)}"


def _post(path: str, params: Mapping[str, Any], address: str, action: CallAction) -> ApiCall:
    return ApiCall("POST", path, dict(params), address, action)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _yaml(value: Any) -> str:
    """A scalar as the catalog would write it (`true`, `7`, `"API monthly"`), shortened when long."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:56] + '..."'


def _difference(name: str, before: Any, after: Any) -> str:
    """A field's change as the catalog would write its values: `amount: 900 -> 1000`, and for a mapping each key
    that differs, `default_aggregation.formula: sum -> count`."""
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        keys = [k for k in dict.fromkeys([*before, *after]) if before.get(k) != after.get(k)]
        if keys:
            return ", ".join(_difference(f"{name}.{k}", before.get(k), after.get(k)) for k in keys)
    return f"{name}: {_scalar(before)} -> {_scalar(after)}"


def _scalar(value: Any) -> str:
    """A value as YAML writes it: `sum`, `900`, `true`, `null`, `"10"` (a string that would read as another
    type is quoted), a list or mapping in flow style; shortened when long."""
    text = _flow(value)
    return text if len(text) <= 60 else text[:57] + "..."


#: strings YAML 1.1 reads as booleans or null: quoted when shown
_NOT_PLAIN = frozenset({"true", "false", "yes", "no", "on", "off", "y", "n", "null", "~"})


def _flow(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        plain = re.fullmatch(r"[A-Za-z_][A-Za-z0-9_./-]*( [A-Za-z0-9_./-]+)*", value) is not None
        return value if plain and value.lower() not in _NOT_PLAIN else json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_flow(k)}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return str(value)


__all__ = ["diff", "left_alone", "repriced_currencies"]
