"""The diff as plain data: what `plan` shows and `apply` carries out.

A `ChangeSet` holds one `Change` per catalog or account object that needs something done (with the per-field
before/after values and whether each forces a replacement), the `problems` that block it (changes Stripe cannot
make, identities held by objects pricebook does not own), `calls`: the ordered API calls that carry it out,
`left_alone`: the active objects of the account pricebook neither owns nor touches, so a reviewer can tell
"left alone" from "not seen", and `warnings`: what the catalog's check warned about, shown wherever the ChangeSet
is. Renderers and apply only read this; neither touches Stripe to explain or decide anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from compiler.errors import Diagnostic
from compiler.stripe.calls import ApiCall
from compiler.stripe.kinds import Kind

#: the version of the ChangeSet's JSON; a saved plan of another version is refused (history in the README)
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

    @property
    def address(self) -> str:
        return f"{self.kind.value}.{self.key}"

    def to_json(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "kind": self.kind.value,
            "key": self.key,
            "action": self.action.value,
            "reason": self.reason,
            "live_id": self.live_id,
            "fields": [f.to_json() for f in self.fields],
            "before": self.before,
            "after": self.after,
            "notes": [n.to_json() for n in self.notes],
            "impact": [dict(i) for i in self.impact],
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
        )


@dataclass(frozen=True)
class Problem:
    """Something that blocks the ChangeSet: apply refuses to start while any exists."""

    address: str
    rule: str  # stable id: "plan-immutable-field", "lookup-key-held-by-unmanaged-price", ...
    message: str
    hint: str

    def to_json(self) -> dict[str, Any]:
        return {"address": self.address, "rule": self.rule, "message": self.message, "hint": self.hint}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Problem:
        return cls(str(data["address"]), str(data["rule"]), str(data["message"]), str(data.get("hint", "")))


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

    @property
    def has_changes(self) -> bool:
        return any(c.action is not Action.NOOP for c in self.changes)

    def counts(self) -> dict[str, int]:
        out = {a.value: 0 for a in Action}
        for change in self.changes:
            out[change.action.value] += 1
        return out

    def left_alone_ids(self) -> dict[str, list[str]]:
        """The ids left alone, per kind (every kind present, possibly empty), in `left_alone`'s order."""
        out: dict[str, list[str]] = {kind.value: [] for kind in LEFT_ALONE_KINDS}
        for entry in self.left_alone:
            kind, _, object_id = entry.partition(".")
            out.setdefault(kind, []).append(object_id)
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "format_version": self.format_version,
            "api_version": self.api_version,
            "fingerprint": self.fingerprint,
            "livemode": self.livemode,
            "summary": self.counts(),
            "changes": [c.to_json() for c in self.changes],
            "problems": [p.to_json() for p in self.problems],
            "calls": [c.to_json() for c in self.calls],
            "left_alone": self.left_alone_ids(),
            "warnings": [w.to_json() for w in self.warnings],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ChangeSet:
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
        )


def _left_alone_from_json(data: Any) -> tuple[str, ...]:
    """`{"price": ["price_1"], ...}` back to `("price.price_1", ...)` (none when absent)."""
    if not isinstance(data, Mapping):
        return ()
    order = [kind.value for kind in LEFT_ALONE_KINDS]
    kinds = sorted(data, key=lambda k: (order.index(k) if k in order else len(order), k))
    return tuple(f"{kind}.{object_id}" for kind in kinds for object_id in data.get(kind) or ())
