"""The diff as plain data: what `plan` shows and `apply` carries out.

A `ChangeSet` holds one `Change` per catalog or account object that needs something done (with the per-field
before/after values and whether each forces a replacement), the `problems` that block it (changes Stripe cannot
make, identities held by objects pricebook does not own), `calls`: the ordered API calls that carry it out,
`left_alone`: the active objects of the account pricebook neither owns nor touches, so a reviewer can tell
"left alone" from "not seen", `warnings`: what the catalog's check warned about, shown wherever the ChangeSet
is, who pays: on each change the subscriptions on the price it reaches (`SubscriberImpact`), how they were
read (`subscribers`) and the `money_warnings` a reviewer must see first, and `mass_archive`: whether it archives
many objects at once (blocked unless the user said so), which every view states first. Renderers and apply only
read this; neither touches Stripe to explain or decide anything.

It also names what it was computed from: the `account` (its id) and the account state (`fingerprint`), and the
`catalog`, each object's fields as written. A saved plan is applied only after its changes and calls are derived
again from that catalog and the account, and found to be exactly the ones it shows (`planfile`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from compiler.catalog.adoptions import KIND_LISTS, MODES
from compiler.changes.model import Adoption, Resource
from compiler.errors import Diagnostic, Location
from compiler.stripe.calls import ApiCall
from compiler.stripe.fields import catalog_canonical
from compiler.stripe.kinds import Kind

#: the version of the ChangeSet's JSON; a saved plan of another version is refused (history in docs/plans.md)
FORMAT_VERSION = "2"

#: the kinds `ChangeSet.left_alone` names, in the order the plan lists them
LEFT_ALONE_KINDS: tuple[Kind, ...] = (Kind.METER, Kind.PRODUCT, Kind.PRICE, Kind.PLAN)


class NoteTopic(StrEnum):
    """What a note on a change is about."""

    CONSEQUENCE = "consequence"  # beyond the fields: subscriptions, the lookup key, a default price
    PRICE_IMPACT = "price-impact"  # about the price impact shown: currencies left out, or whose amounts stay
    ASSUMPTION = "assumption"  # an assumption price impact amounts rest on (`Note.assumption` names it)


@dataclass(frozen=True)
class Note:
    """Something a reviewer must know about a change, as a sentence (`text`) with what it is about."""

    text: str
    topic: NoteTopic = NoteTopic.CONSEQUENCE
    #: for an assumption: its id, which the impact rows it affects cite in their `note` (`assumes <id>`)
    assumption: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"topic": self.topic.value, "text": self.text, "assumption": self.assumption}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Note:
        return cls(str(data["text"]), NoteTopic(data["topic"]), data.get("assumption"))


class Action(StrEnum):
    ADOPT = "adopt"  # an object made by hand becomes pricebook's (its mark, a lookup key), fields set as in update
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"  # create a new object, move references, archive the old one
    ARCHIVE = "archive"  # active=false (prices cannot be deleted)
    NOOP = "no-op"


@dataclass(frozen=True)
class FieldChange:
    path: str  # "unit_amount", "recurring.interval", "metadata.team"
    before: Any
    after: Any
    forces_replacement: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "before": self.before,
            "after": self.after,
            "forces_replacement": self.forces_replacement,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FieldChange:
        return cls(str(data["path"]), data.get("before"), data.get("after"), bool(data.get("forces_replacement")))


@dataclass(frozen=True)
class Change:
    kind: Kind
    key: str  # catalog identity (lookup_key, product id, plan id, event_name)
    action: Action
    reason: str  # why, in a billing engineer's words
    live_id: str | None = None  # the Stripe id of the existing object, if any
    fields: tuple[FieldChange, ...] = ()
    before: Mapping[str, Any] | None = None  # canonical live attrs
    after: Mapping[str, Any] | None = None  # canonical catalog attrs
    #: what a reviewer must know (subscriptions stay on the old price after a replace; what the impact assumes)
    notes: tuple[Note, ...] = ()
    #: price impact rows (quantity, before, after, currency): filled in after the diff (`impact.with_price_impact`)
    #: for created, replaced and repriced prices and plans
    impact: tuple[Mapping[str, Any], ...] = ()
    #: who is on the live price the change reaches, and what it means for them: filled in after the diff
    #: (`subscribers.with_subscribers`) for replaced, archived and repriced prices and moved default prices
    subscribers: SubscriberImpact | None = None
    #: the name of the product it is, or that the price or plan belongs to (None for a meter), for the views
    product_name: str | None = None

    @property
    def address(self) -> str:
        return f"{self.kind.value}.{self.key}"

    @property
    def label(self) -> str:
        """`price.seats_monthly (Team Seats)`: the address, and the product's name beside it."""
        return f"{self.address} ({self.product_name})" if self.product_name else self.address

    def to_json(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "kind": self.kind.value,
            "key": self.key,
            "action": self.action.value,
            "reason": self.reason,
            "live_id": self.live_id,
            "fields": [f.to_json() for f in self.fields],
            # the catalog's side is worked out when first read (`model.CanonicalAttrs`): written as a plain mapping
            "before": None if self.before is None else dict(self.before),
            "after": None if self.after is None else dict(self.after),
            "notes": [n.to_json() for n in self.notes],
            "impact": [dict(i) for i in self.impact],
            "subscribers": self.subscribers.to_json() if self.subscribers is not None else None,
            "product_name": self.product_name,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Change:
        return cls(
            Kind(data["kind"]),
            str(data["key"]),
            Action(data["action"]),
            str(data.get("reason", "")),
            data.get("live_id"),
            tuple(FieldChange.from_json(f) for f in data.get("fields") or ()),
            data.get("before"),
            data.get("after"),
            tuple(Note.from_json(n) for n in data.get("notes") or ()),
            tuple(data.get("impact") or ()),
            SubscriberImpact.from_json(data["subscribers"]) if data.get("subscribers") else None,
            data.get("product_name"),
        )


@dataclass(frozen=True)
class Problem:
    """Something that blocks the ChangeSet: apply refuses to start while any exists. `location` is where the
    catalog says what the problem is about (the field at fault, else its entry); None when no catalog entry is
    at fault (an object of the account alone, the catalog as a whole)."""

    address: str
    rule: str  # stable id: "plan-immutable-field", "lookup-key-held-by-unmanaged-price", ...
    message: str
    hint: str
    location: Location | None = None

    def to_json(self) -> dict[str, Any]:
        where = self.location
        return {
            "address": self.address,
            "rule": self.rule,
            "message": self.message,
            "hint": self.hint,
            "location": None if where is None else {"file": where.file, "line": where.line, "col": where.col},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Problem:
        where = data.get("location")
        location = None if not where else Location(str(where["file"]), int(where["line"]), int(where["col"]))
        return cls(str(data["address"]), str(data["rule"]), str(data["message"]), str(data.get("hint", "")), location)


# ---------------------------------------------------------------------------------------------------------
# who pays: subscriber impact (filled in after the diff by `subscribers.with_subscribers`)


class Effect(StrEnum):
    """What a change means for the subscriptions on the price it touches."""

    STAY = "stay"  # replace: they stay on the old price; new subscribers get the new one
    STILL_BILLED = "still-billed"  # archive: they go on billing on the archived price
    NEW_AMOUNT = "new-amount"  # a currency option repriced in place: they pay the new amount from the next invoice
    DEFAULT_MOVED = "default-moved"  # the product's default price moves off the price they are on


@dataclass(frozen=True)
class CurrencyAmounts:
    """The subscriptions billing in one currency: how many, their total quantity, and what they pay a month
    (minor units; `monthly_after` only when the change reaches them, and `raised`: how many of them then pay
    more). `unpriced` of them are counted but not in the amounts, `metered` of those because they bill usage."""

    currency: str
    subscriptions: int
    quantity: int
    monthly: int | None
    monthly_after: int | None = None
    metered: int = 0
    unpriced: int = 0
    raised: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "subscriptions": self.subscriptions,
            "quantity": self.quantity,
            "monthly": self.monthly,
            "monthly_after": self.monthly_after,
            "metered": self.metered,
            "unpriced": self.unpriced,
            "raised": self.raised,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CurrencyAmounts:
        return cls(
            str(data["currency"]),
            int(data["subscriptions"]),
            int(data["quantity"]),
            _int_or_none(data.get("monthly")),
            _int_or_none(data.get("monthly_after")),
            int(data.get("metered") or 0),
            int(data.get("unpriced") or 0),
            int(data.get("raised") or 0),
        )


@dataclass(frozen=True)
class SubscriberImpact:
    """The billing subscriptions on one live price (`price`, its Stripe id) and what the change means for them.

    For `NEW_AMOUNT`, only the subscriptions in the repriced currencies are counted: the others pay what they
    paid. `statuses` counts them by billing status (only the statuses that occur, in `BILLING_STATUSES` order)."""

    price: str
    effect: Effect
    subscriptions: int
    quantity: int
    currencies: tuple[CurrencyAmounts, ...] = ()
    statuses: tuple[tuple[str, int], ...] = ()
    metered: int = 0
    unpriced: int = 0

    @property
    def raised(self) -> int:
        """How many of these subscriptions pay more a month after the change."""
        return sum(c.raised for c in self.currencies)

    def to_json(self) -> dict[str, Any]:
        return {
            "price": self.price,
            "effect": self.effect.value,
            "subscriptions": self.subscriptions,
            "quantity": self.quantity,
            "metered": self.metered,
            "unpriced": self.unpriced,
            "statuses": dict(self.statuses),
            "currencies": [c.to_json() for c in self.currencies],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SubscriberImpact:
        statuses = data.get("statuses") or {}
        return cls(
            str(data["price"]),
            Effect(data["effect"]),
            int(data["subscriptions"]),
            int(data["quantity"]),
            tuple(CurrencyAmounts.from_json(c) for c in data.get("currencies") or ()),
            tuple((str(s), int(n)) for s, n in statuses.items()),
            int(data.get("metered") or 0),
            int(data.get("unpriced") or 0),
        )


@dataclass(frozen=True)
class SubscriberRead:
    """How the subscriber impact was read: `requests` spent, the prices read, and the ones left uncounted
    (their addresses) because more prices were affected than `limit` allows. `skipped` when the user said
    `--no-subscribers`."""

    requests: int = 0
    prices_read: int = 0
    limit: int | None = None
    uncounted: tuple[str, ...] = ()
    skipped: bool = False
    basis: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "skipped": self.skipped,
            "requests": self.requests,
            "prices_read": self.prices_read,
            "limit": self.limit,
            "uncounted": list(self.uncounted),
            "basis": list(self.basis),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SubscriberRead:
        return cls(
            int(data.get("requests") or 0),
            int(data.get("prices_read") or 0),
            _int_or_none(data.get("limit")),
            tuple(str(a) for a in data.get("uncounted") or ()),
            bool(data.get("skipped")),
            tuple(str(b) for b in data.get("basis") or ()),
        )


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


@dataclass(frozen=True)
class MoneyWarning:
    """Something a reviewer must see before approving because it moves money (existing subscribers paying more,
    subscriptions left on a price with nowhere to go): shown above everything else, it does not block the apply.
    `rule` is one of `subscribers.MONEY_WARNING_RULES`."""

    address: str
    rule: str
    message: str
    hint: str

    def to_json(self) -> dict[str, Any]:
        return {"address": self.address, "rule": self.rule, "message": self.message, "hint": self.hint}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MoneyWarning:
        return cls(str(data["address"]), str(data["rule"]), str(data["message"]), str(data.get("hint", "")))


@dataclass(frozen=True)
class MassArchive:
    """Many archives at once of objects the catalog no longer lists: more than `limit`, or every managed object of
    a kind (`whole_kinds`). Blocked by a `mass-archive` problem unless the user `allowed` it
    (--allow-mass-archive), which a saved plan records."""

    count: int
    limit: int
    whole_kinds: tuple[Kind, ...] = ()
    allowed: bool = False

    def describe(self) -> str:
        """`12 objects the catalog no longer lists (more than 10; every managed price)`."""
        why = [f"more than {self.limit}"] if self.count > self.limit else []
        why += [f"every managed {kind.value}" for kind in self.whole_kinds]
        noun = "object" if self.count == 1 else "objects"
        return f"{self.count} {noun} the catalog no longer lists ({'; '.join(why)})"

    def to_json(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "limit": self.limit,
            "every_managed": [kind.value for kind in self.whole_kinds],
            "allowed": self.allowed,
        }

    @classmethod
    def from_json(cls, data: Any) -> MassArchive | None:
        if data is None:
            return None
        return cls(
            int(data["count"]),
            int(data["limit"]),
            tuple(Kind(k) for k in data.get("every_managed") or ()),
            bool(data["allowed"]),
        )


@dataclass(frozen=True)
class ChangeSet:
    changes: tuple[Change, ...] = ()
    calls: tuple[ApiCall, ...] = ()
    problems: tuple[Problem, ...] = ()
    api_version: str = ""
    fingerprint: str = ""  # of the account state it was computed from; apply --plan refuses a stale one
    livemode: bool = False
    format_version: str = field(default=FORMAT_VERSION)
    #: `kind.id` of each active object in the account that pricebook leaves alone: products, prices and plans
    #: without the managed_by mark, meters whose event_name the catalog does not name. Sorted by kind, then id.
    left_alone: tuple[str, ...] = ()
    #: the warnings of the catalog it was planned from (an error would have stopped the plan), in file order
    warnings: tuple[Diagnostic, ...] = ()
    #: how the subscribers on the affected prices were read (None: the plan did not look)
    subscribers: SubscriberRead | None = None
    #: what moves money for existing subscribers, shown before everything else
    money_warnings: tuple[MoneyWarning, ...] = ()
    #: set when it archives many objects at once (None: few or none)
    mass_archive: MassArchive | None = None
    #: the id of the account it was computed against (`acct_...`); None when the key may not read it
    account: str | None = None
    #: the catalog it was computed from, each object's fields as written (what a saved plan is checked against)
    catalog: tuple[Resource, ...] = ()
    #: the catalog's record of what it takes over in this account, if it has one (with `catalog`, what a saved
    #: plan's adopt actions are checked against)
    adoption: Adoption | None = None

    @property
    def has_changes(self) -> bool:
        return any(c.action is not Action.NOOP for c in self.changes)

    def counts(self) -> dict[str, int]:
        out = {a.value: 0 for a in Action}
        for change in self.changes:
            out[change.action.value] += 1
        return out

    @property
    def plan_hash(self) -> str | None:
        """`sha256:<64 hex>`: a digest of what apply would send and what it rests on (see `_plan_digest`); None
        for a plan a problem blocks, which has nothing to approve (its calls leave out what is blocked, so its
        digest could equal that of a plan with nothing to do)."""
        return None if self.problems else _plan_digest(self)

    def left_alone_ids(self) -> dict[str, list[str]]:
        """The ids left alone, per kind (every kind present, possibly empty), in `left_alone`'s order."""
        out: dict[str, list[str]] = {kind.value: [] for kind in LEFT_ALONE_KINDS}
        for entry in self.left_alone:
            kind, _, object_id = entry.partition(".")
            out.setdefault(kind, []).append(object_id)
        return out

    def to_json(self, *, with_catalog: bool = True) -> dict[str, Any]:
        """The JSON view (see `render.json`); without the catalog's objects when `with_catalog` is False (its
        place is kept, for a caller that has them encoded already: `render.json.CatalogJson`)."""
        return {
            "format_version": self.format_version,
            "api_version": self.api_version,
            "account": self.account,
            "fingerprint": self.fingerprint,
            "livemode": self.livemode,
            "plan_hash": self.plan_hash,
            "mass_archive": self.mass_archive.to_json() if self.mass_archive is not None else None,
            "summary": self.counts(),
            "changes": [c.to_json() for c in self.changes],
            "problems": [p.to_json() for p in self.problems],
            "calls": [c.to_json() for c in self.calls],
            "left_alone": self.left_alone_ids(),
            "warnings": [w.to_json() for w in self.warnings],
            "subscribers": self.subscribers.to_json() if self.subscribers is not None else None,
            "money_warnings": [w.to_json() for w in self.money_warnings],
            "catalog": [resource_json(r) for r in self.catalog] if with_catalog else None,
            "adopt": _adoption_json(self.adoption) if self.adoption is not None else None,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ChangeSet:
        account = data.get("account")
        return cls(
            tuple(Change.from_json(c) for c in data.get("changes") or ()),
            tuple(ApiCall.from_json(c) for c in data.get("calls") or ()),
            tuple(Problem.from_json(p) for p in data.get("problems") or ()),
            str(data.get("api_version", "")),
            str(data.get("fingerprint", "")),
            bool(data.get("livemode", False)),
            str(data.get("format_version", FORMAT_VERSION)),
            _left_alone_from_json(data.get("left_alone")),
            tuple(Diagnostic.from_json(w) for w in data.get("warnings") or ()),
            SubscriberRead.from_json(data["subscribers"]) if data.get("subscribers") else None,
            tuple(MoneyWarning.from_json(w) for w in data.get("money_warnings") or ()),
            MassArchive.from_json(data.get("mass_archive")),
            None if account is None else str(account),
            tuple(_resource_from_json(r) for r in data.get("catalog") or ()),
            _adoption_from_json(data["adopt"]) if data.get("adopt") else None,
        )


def _plan_digest(changeset: ChangeSet) -> str:
    """`sha256:<64 hex>`, the digest a reviewer approves and `apply --expect-plan-hash` checks.

    It covers what apply would send and what that rests on: the API version and mode the calls are written for,
    every call (method, path, parameters, what it is about, what it waits for), and, for each change, its action,
    the live object it touches and each field's before and after value. So the same catalog planned again against
    an account whose touched objects are unchanged gives the same hash, even if unrelated objects changed (the
    account fingerprint would differ), while a plan that would send anything else, or that rests on a price
    someone edited by hand since, gets another one. Wording (reasons, notes, price impact, subscriber counts) is
    left out: it explains the plan, it is not what is sent. The same bytes whether the ChangeSet was computed or
    read back from a saved plan."""
    payload = {
        "api_version": changeset.api_version,
        "livemode": changeset.livemode,
        "changes": [
            [c.address, c.action.value, c.live_id, [f.to_json() for f in c.fields]]
            for c in changeset.changes
            if c.action is not Action.NOOP
        ],
        "calls": [c.to_json() for c in changeset.calls],
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=json_value)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def json_value(value: Any) -> Any:
    """`json.dumps`'s `default` for a ChangeSet: a Decimal as the JSON view writes it (`1.50`, never `1.5E+0`), so
    a saved plan reads back, and hashes, the same."""
    if isinstance(value, Decimal):
        return format(value, "f")
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def resource_json(resource: Resource) -> dict[str, Any]:
    """A catalog object as a plan's `catalog` holds it."""
    return {"kind": resource.kind.value, "key": resource.key, "params": dict(resource.params)}


def _resource_from_json(data: Mapping[str, Any]) -> Resource:
    """A catalog object as `resource_json` wrote it, its canonical form computed as the catalog computes it."""
    kind = Kind(data["kind"])
    params = dict(data["params"])
    return Resource(kind, str(data["key"]), params, catalog_canonical(kind, params))


def _adoption_json(adoption: Adoption) -> dict[str, Any]:
    """The record's item of one account, as the catalog writes it (`adopt:`)."""
    out: dict[str, Any] = {"account": adoption.account, "mode": adoption.mode}
    for name, kind in KIND_LISTS.items():
        out[name] = {key: object_id for (k, key), object_id in sorted(adoption.targets.items()) if k is kind}
    return out


def _adoption_from_json(data: Mapping[str, Any]) -> Adoption:
    targets = {(kind, str(key)): str(object_id) for name, kind in KIND_LISTS.items()
               for key, object_id in (data.get(name) or {}).items()}  # fmt: skip
    return Adoption(str(data["account"]), MODES[data["mode"]], targets)


def _left_alone_from_json(data: Any) -> tuple[str, ...]:
    """`{"price": ["price_1"], ...}` back to `("price.price_1", ...)` (none when absent)."""
    if not isinstance(data, Mapping):
        return ()
    order = [kind.value for kind in LEFT_ALONE_KINDS]
    kinds = sorted(data, key=lambda k: (order.index(k) if k in order else len(order), k))
    return tuple(f"{kind}.{object_id}" for kind in kinds for object_id in data.get(kind) or ())
