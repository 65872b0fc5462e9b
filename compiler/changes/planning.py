"""From catalog files and an account to a `ChangeSet`: what `plan` prints and `apply` carries out.

`changeset_for` is the one way both commands get their ChangeSet (apply without `--plan` calls it too), so
the preview and the real run start from the same list of calls. It runs the steps in order: read the account,
diff (`diff`: what changes), price impact (`impact`: what it costs customers), the catalog's warnings, which
travel with the catalog from the check to every command that shows the ChangeSet, and who pays (`subscribers`:
the subscriptions on the prices the change reaches, one more list per such price).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Protocol

from compiler.changes.changeset import ChangeSet
from compiler.changes.diff import diff
from compiler.changes.impact import with_price_impact
from compiler.changes.model import CheckedCatalog
from compiler.changes.subscribers import SubscriberOptions, with_subscribers
from compiler.stripe.facts import API_VERSION
from compiler.stripe.gateway import Connection, Gateway
from compiler.stripe.kinds import Kind
from compiler.stripe.state import AccountState, ExpectedSizes, Lister, LiveObject, read_account
from compiler.stripe.subscriptions import Pager


class AccountReader(Lister, Pager, Protocol):
    """What planning reads through (a `Gateway`): the account's lists page by page, and the subscription
    lists of the prices a change reaches."""


def changeset_for(
    checked: CheckedCatalog,
    gateway: AccountReader,
    subscribers: SubscriberOptions | None = None,
    *,
    allow_mass_archive: bool = False,
) -> tuple[ChangeSet, AccountState]:
    """Read the account once (`read_state`), plan the catalog against it and read who pays on the prices the
    plan reaches, as `subscribers` says (read-only: no write is sent). `allow_mass_archive`: see `plan_against`."""
    plan_ids = (r.key for r in checked.catalog.of_kind(Kind.PLAN))
    state = read_state(gateway, plan_ids, expected_sizes(r.kind for r in checked.catalog))
    changeset = plan_against(checked, state, allow_mass_archive=allow_mass_archive)
    options = subscribers or SubscriberOptions()
    return with_subscribers(changeset, checked.catalog, state, gateway, options), state


def plan_against(checked: CheckedCatalog, state: AccountState, *, allow_mass_archive: bool = False) -> ChangeSet:
    """The ChangeSet for an account already read (pure): the diff, its price impact, the catalog's warnings and
    the diff's own (a saved plan's catalog holds those already: each is shown once).
    `allow_mass_archive`: the user said many archives at once are meant (see `diff`)."""
    changeset = with_price_impact(
        diff(checked.catalog, state, api_version=API_VERSION, allow_mass_archive=allow_mass_archive)
    )
    planned = tuple(w for w in changeset.warnings if w not in checked.warnings)
    return dataclasses.replace(changeset, warnings=(*checked.warnings, *planned))


def read_state(gateway: Lister, plan_ids: Iterable[str] = (), expected: ExpectedSizes | None = None) -> AccountState:
    """The account as `plan` reads it, in one pass: one list per resource type, plus `GET /v1/plans` when
    `needs_plans_list` says so for the catalog plans `plan_ids` and the price family the price lists showed.
    `expected` (the catalog's counts) only helps cut the long lists well from the start.

    The Prices API is backwards compatible with plans (https://docs.stripe.com/api/plans): the price list shows
    them too, so one read normally finds every plan. That is observed rather than promised, so the plans list is
    read as well whenever it can't be trusted for this account: an account whose price list leaves legacy plans
    out costs one more list, never a wrong diff."""
    wanted = tuple(plan_ids)
    return read_account(gateway, plans_list=lambda family: needs_plans_list(wanted, family), expected=expected)


def expected_sizes(kinds: Iterable[Kind]) -> ExpectedSizes:
    """How many products and prices and plans the account should hold, counted from the objects' kinds."""
    counts = Counter(kinds)
    return ExpectedSizes(products=counts[Kind.PRODUCT], family=counts[Kind.PRICE] + counts[Kind.PLAN])


def current_state(saved: ChangeSet, gateway: Lister) -> AccountState:
    """The account now, read exactly as `plan` read it for `saved` (for `apply --plan`): the plans-list decision
    takes the plan ids of the catalog `saved` holds, as `plan` took them from the files, so an unchanged account
    gives the saved fingerprint."""
    plan_ids = (r.key for r in saved.catalog if r.kind is Kind.PLAN)
    return read_state(gateway, plan_ids, expected_sizes(r.kind for r in saved.catalog))


def missing_plans(plan_ids: Iterable[str], family: Iterable[LiveObject]) -> list[str]:
    """The plan ids (the catalog's) that no object of the account's price family has."""
    ids = {o.id for o in family if o.kind in (Kind.PRICE, Kind.PLAN)}
    return [key for key in plan_ids if key not in ids]


def needs_plans_list(plan_ids: Iterable[str], family: Sequence[LiveObject]) -> bool:
    """Whether `/v1/plans` must be read too: when the price lists, which showed `family`, left out a catalog plan
    (`plan_ids`), which would otherwise be created twice over.

    Otherwise the price lists are the whole family: Stripe's price list leaves out only inline prices, and a plan
    is a price with the same id. Every catalog plan found there bears this out for the account on every run; an
    account whose price list left plans out would be caught by the first catalog plan it hid.
    """
    return bool(missing_plans(plan_ids, family))


def reading_gateway(connection: Connection) -> Gateway:
    """A gateway for reading: paced under the account's rate limit, retrying what is safe (all of a read)."""
    return Gateway(connection)


__all__ = [
    "AccountReader",
    "changeset_for",
    "current_state",
    "expected_sizes",
    "missing_plans",
    "needs_plans_list",
    "plan_against",
    "read_state",
    "reading_gateway",
]
