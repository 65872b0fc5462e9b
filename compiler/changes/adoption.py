"""Which objects made by hand a plan adopts (pure): the catalog's record for this account, checked against it.

The record (`model.Adoption`, the catalog's `adopt:` section) names, for some catalog entries, the Stripe object
each takes over in one account. Each is checked here: the object must exist and be of the entry's kind, must not
be pricebook's already under another catalog identity, and no other object may hold the identity. Those that
pass are adopted (also a price marked as pricebook's that no lookup_key names, which no entry could name
before): the diff sees them under their catalog identity (`AccountState.renamed`, which renames the
references to them too), so it compares each with its entry like any other object. An object adopted before
(pricebook's, under that identity) needs nothing: the record has done its work, and can stay or go.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from compiler.changes.changeset import Problem
from compiler.changes.model import Adoption, Catalog
from compiler.changes.problems import (
    ADOPT_ACCOUNT_UNKNOWN,
    ADOPT_IDENTITY_TAKEN,
    ADOPT_TARGET_MISSING,
    ADOPT_TARGET_OWNED,
)
from compiler.stripe.kinds import IDENTITY_FIELD, KIND_ORDER, Kind
from compiler.stripe.state import AccountState, LiveObject


@dataclass(frozen=True)
class Adopting:
    """The account as the diff sees it once the record is taken into account."""

    state: AccountState
    #: Stripe id of each object to adopt -> the identity it had before (its lookup_key, its id; None: none)
    before: Mapping[str, str | None] = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()


def adopting(catalog: Catalog, state: AccountState) -> Adopting:
    """The objects the catalog's record adopts in the account of `state`, and what stops the others."""
    if state.account is None:
        return Adopting(state, problems=_account_unknown(catalog, state))
    adoption = catalog.adoption(state.account, state.livemode)
    if adoption is None:
        return Adopting(state)
    by_id = {o.id: o for o in state.objects if o.kind is not Kind.METER}
    # prices pricebook has replaced: an adopted price it replaced since is done with, whatever the record says
    replaced = {o.replaces for o in state.objects if o.kind is Kind.PRICE and o.managed and o.replaces}
    keys: dict[str, str] = {}
    before: dict[str, str | None] = {}
    problems: list[Problem] = []
    for (kind, key), object_id in sorted(adoption.targets.items(), key=lambda t: (KIND_ORDER.index(t[0][0]), t)):
        entry = catalog.get(kind, key)
        if entry is None:
            continue  # validate reports an entry the record names but the catalog lacks
        address = f"{kind.value}.{key}"
        live = by_id.get(object_id)
        if live is None or live.kind is not kind:
            problems.append(_missing(address, adoption, kind, object_id, live))
        elif live.managed and object_id in replaced:
            continue  # adopted, then replaced by a new price, which holds the identity now
        elif live.managed and (live.key is not None or live.kind is not Kind.PRICE):
            if live.key != key:
                problems.append(
                    Problem(
                        address,
                        ADOPT_TARGET_OWNED.id,
                        f"the catalog takes over {kind.value} {object_id}, but it is pricebook's already, as "
                        f"{kind.value}.{live.key}",
                        ADOPT_TARGET_OWNED.way_out,
                        adoption.location,  # the way out is in the record
                    )
                )
        elif (holder := _holder(state, kind, key, object_id)) is not None:
            what = IDENTITY_FIELD[kind] if kind is Kind.PRICE else f"{kind.value} id"
            problems.append(
                Problem(
                    address,
                    ADOPT_IDENTITY_TAKEN.id,
                    f"the catalog takes over {kind.value} {object_id} as {key!r}, but {holder.kind.value} "
                    f"{holder.id} in the account already has the {what} {key!r}",
                    ADOPT_IDENTITY_TAKEN.way_out,
                    entry.where(IDENTITY_FIELD[kind]),
                )
            )
        else:
            keys[object_id] = key
            before[object_id] = live.key
    return Adopting(state.renamed(keys) if keys else state, before, tuple(problems))


def _account_unknown(catalog: Catalog, state: AccountState) -> tuple[Problem, ...]:
    """A problem when the key cannot tell which account this is and an object of it that some record names is
    not adopted yet (Stripe's generated ids are unique across accounts, so a named id found here is this account's).
    None when every such object is pricebook's already: then the record has nothing left to do."""
    named = {
        object_id: f"{kind.value}.{key}"
        for adoption in catalog.adoptions
        for (kind, key), object_id in adoption.targets.items()
    }
    waiting = sorted(
        o.id
        for o in state.objects
        if o.id in named and (not o.managed or (o.kind is Kind.PRICE and o.key is None))
    )
    if not waiting:
        return ()
    return (
        Problem(
            named[waiting[0]],
            ADOPT_ACCOUNT_UNKNOWN.id,
            f"the catalog's record takes over {', '.join(waiting)}, but the key cannot read which account it "
            "belongs to (GET /v1/account refused it), so pricebook cannot tell whether the record is this account's",
            ADOPT_ACCOUNT_UNKNOWN.way_out,
            next((a.location for a in catalog.adoptions if any(v == waiting[0] for v in a.targets.values())), None),
        ),
    )


def _missing(address: str, adoption: Adoption, kind: Kind, object_id: str, found: LiveObject | None) -> Problem:
    other = f" ({object_id} is a {found.kind.value})" if found is not None else ""
    return Problem(
        address,
        ADOPT_TARGET_MISSING.id,
        f"the catalog takes over {kind.value} {object_id} in account {adoption.account} ({adoption.mode} mode), "
        f"but the account has no {kind.value} with that id{other}",
        ADOPT_TARGET_MISSING.way_out,
        adoption.location,
    )


def _holder(state: AccountState, kind: Kind, key: str, object_id: str) -> LiveObject | None:
    """Another object that holds the identity `key` of `kind`: a price its lookup_key; a product, plan or price
    its id or catalog id (prices and plans share one set of ids)."""
    for obj in state.objects:
        if obj.id == object_id or obj.kind is Kind.METER:
            continue
        if kind is Kind.PRICE:
            held = obj.kind is Kind.PRICE and obj.key == key
        elif kind is Kind.PLAN:
            held = obj.id == key or (obj.kind is Kind.PLAN and obj.key == key)
        else:
            held = obj.kind is kind and key in (obj.key, obj.id)
        if held:
            return obj
    return None


__all__ = ["Adopting", "adopting"]
