"""What is left of a saved plan after a round of `apply --plan` whose steps had an unknown outcome.

`apply --plan` sends what a reviewer saw and nothing else, so a later round sends only the saved plan's own calls
that are not done yet, and only those a fresh read of the account still vouches for:

- A create whose outcome is unknown is done when the account shows what it creates: the meter with its
  event_name, the product or plan with its id, a price holding its lookup_key (for a replace, a price other than
  the one it replaces). That object's id goes into the calls that need it. A create the account does not show is
  sent again under the key it had (the saved plan's fingerprint stays the salt), so even one that commits after
  the read is never made twice: Stripe answers the same key with the same object.
- An archive, a meter's deactivation or reactivation, a default price move whose outcome is unknown is done when
  the account shows its effect. Otherwise it is sent again, as is an update: each sets values, so sending it
  again is harmless.
- Every call left must still be about an object pricebook owns, a replace left to do must find its lookup_key
  where the plan saw it (on the price it replaces), and no price of pricebook's may have lost its lookup_key while
  still active (another apply replacing the same price at the same time) unless the plan archives it. Otherwise
  the account is no longer the one the plan was made for: the next round is a problem instead, and apply stops.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence

from compiler.changes.changeset import Action, ChangeSet, Problem
from compiler.changes.planfile import object_id
from compiler.changes.problems import ACCOUNT_CHANGED_WHILE_APPLYING
from compiler.stripe.calls import ApiCall, CallAction
from compiler.stripe.kinds import Kind
from compiler.stripe.state import AccountState, LiveObject


class _Account:
    """The objects of one read, found the ways the calls name them."""

    def __init__(self, state: AccountState) -> None:
        meters = state.of_kind(Kind.METER)
        self.meters_by_name = {o.key: o for o in meters if o.key}
        self.by_id: dict[Kind, dict[str, LiveObject]] = {
            Kind.METER: {o.id: o for o in meters},
            Kind.PRODUCT: {o.id: o for o in state.of_kind(Kind.PRODUCT)},
        }
        family = {o.id: o for o in (*state.of_kind(Kind.PRICE), *state.of_kind(Kind.PLAN))}
        self.by_id[Kind.PRICE] = self.by_id[Kind.PLAN] = family
        self.prices_by_key = {o.key: o for o in state.of_kind(Kind.PRICE) if o.key}

    def created(self, call: ApiCall, replaced: str | None) -> LiveObject | None:
        """The object `call` (a create) would have made, if the account has it."""
        params = call.params
        if call.kind is Kind.METER:
            return self.meters_by_name.get(str(params.get("event_name")))
        if call.kind is Kind.PRICE:
            holder = self.prices_by_key.get(str(params.get("lookup_key")))
            return holder if holder is not None and holder.id != replaced else None
        found = self.by_id[call.kind].get(str(params.get("id")))
        return found if found is not None and found.kind is call.kind else None


    def shows_done(self, call: ApiCall) -> bool:
        """Whether the account shows what `call` (no create) does: an adoption, an archive, a meter's status, a
        default price. An update of fields is not looked into: sending it again is as harmless, and as cheap."""
        target = object_id(call)
        live = self.by_id[call.kind].get(target) if target is not None else None
        if live is None:
            return False
        if call.action is CallAction.ADOPT:
            return live.managed
        if call.action in (CallAction.ARCHIVE, CallAction.ARCHIVE_OLD_VERSION):
            return not live.active
        if call.action in (CallAction.DEACTIVATE, CallAction.REACTIVATE):
            return live.active is (call.action is CallAction.REACTIVATE)
        if call.action is CallAction.SET_DEFAULT_PRICE:
            # the read names a default price by its lookup_key, one without a key by its id
            wanted = str(call.params.get("default_price"))
            price = self.by_id[Kind.PRICE].get(wanted)
            return live.attrs.get("default_price") in {wanted, price.key if price is not None else None}
        return False


def left_of_saved_plan(
    saved: ChangeSet,
    left: Sequence[ApiCall],
    unsure: Collection[int],
    ids: Mapping[str, str],
    start: AccountState,
    now: AccountState,
) -> tuple[ChangeSet, dict[str, str]]:
    """The ChangeSet of the next round of `saved` (its calls still to send, or the problems that stop it), and the
    Stripe id of every object created so far.

    `left`: the saved plan's calls not done, in their order, placeholders unresolved or filled in with ids already
    known; `unsure`: the positions in `left` of those sent whose outcome is unknown; `ids`: the id of each object
    created so far; `start`: the account as apply found it (the one the plan was made for); `now`: as read after
    the round."""
    account = _Account(now)
    replaced = {c.address: c.live_id for c in saved.changes if c.action is Action.REPLACE and c.live_id}
    # products and plans are created under the catalog's id, which later calls name in their paths
    created_here = {str(c.params["id"]) for c in saved.calls if c.creates is not None and "id" in c.params}
    # an object the plan's record adopts is pricebook's only once its adopt call has run
    adopted = set(saved.adoption.targets.values()) if saved.adoption is not None else set()
    known = dict(ids)
    problems: list[Problem] = []
    calls: list[ApiCall] = []
    for position, call in enumerate(left):
        if call.creates is not None and position in unsure:
            found = account.created(call, replaced.get(call.address))
            if found is not None and found.managed:
                known[call.creates] = found.id
                continue
            if found is not None:
                problems.append(_changed(call.address, f"{found.id}, which pricebook does not own, took its place"))
                continue
        elif position in unsure and account.shows_done(call.with_known_ids(known)):
            continue
        why = _no_longer_valid(call, account, replaced.get(call.address), created_here, adopted)
        if why is not None:
            problems.append(_changed(call.address, why))
        calls.append(call)
    problems += _lost_lookup_keys(saved, start, now)
    next_round = tuple(call.with_known_ids(known) for call in calls)
    return dataclasses.replace(saved, calls=() if problems else next_round, problems=tuple(problems)), known


def _no_longer_valid(
    call: ApiCall, account: _Account, replaced: str | None, created_here: set[str], adopted: set[str]
) -> str | None:
    """Why the account no longer vouches for sending `call` again (None when it does). An object the plan itself
    creates (`created_here`) is made before any call about it runs; one it adopts (`adopted`) is pricebook's once
    adopted."""
    if call.creates is not None:
        if not call.moves_lookup_key:
            return None  # Stripe refuses a second object with the same identity
        key = str(call.params.get("lookup_key"))
        holder = account.prices_by_key.get(key)
        if holder is not None and holder.id != replaced:
            return f"its lookup_key {key} is now held by price {holder.id}, not by {replaced}, which it replaces"
        return None
    target = object_id(call)
    if target is None or target in created_here:
        return None
    live = account.by_id[call.kind].get(target)
    if live is None:
        return f"{call.kind.value} {target} is no longer in the account"
    if not live.managed and not (call.action is CallAction.ADOPT and target in adopted):
        return f"{call.kind.value} {target} is no longer pricebook's"
    return None


def _lost_lookup_keys(saved: ChangeSet, start: AccountState, now: AccountState) -> list[Problem]:
    """A problem for each active price of pricebook's that has no lookup_key now and had one (or did not exist)
    when apply started, unless the saved plan archives it: what two applies replacing one price at once leave."""
    archived = {
        object_id(c) for c in saved.calls if c.action in (CallAction.ARCHIVE, CallAction.ARCHIVE_OLD_VERSION)
    }
    keyless_before = {o.id for o in start.of_kind(Kind.PRICE) if o.key is None and o.managed and o.active}
    return [
        _changed(
            f"price.{o.id}",
            f"price {o.id} of pricebook's is active without a lookup_key: another apply moved its lookup_key "
            "at the same time",
        )
        for o in now.of_kind(Kind.PRICE)
        if o.managed and o.active and o.key is None and o.id not in keyless_before and o.id not in archived
    ]


def _changed(address: str, why: str) -> Problem:
    rule = ACCOUNT_CHANGED_WHILE_APPLYING
    return Problem(address, rule.id, f"the account changed while apply ran: {why}", rule.way_out)


__all__ = ["left_of_saved_plan"]
