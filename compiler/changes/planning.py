"""From catalog files and an account to a `ChangeSet`: what `plan` prints and `apply` carries out.

`changeset_for` is the one way both commands get their ChangeSet (apply without `--plan` calls it too), so
the preview and the real run start from the same list of calls. It runs the steps in order: read the account,
diff (`diff`: what changes), price impact (`impact`: what it costs customers), the catalog's warnings, which
travel with the catalog from the check to every command that shows the ChangeSet, and who pays (`subscribers`:
the subscriptions on the prices the change reaches, one more list per such price).

The commands check the catalog while they read the account (`PendingCatalog`, `changeset_while_reading`):
the check is seconds of pure computing at 10,000 prices, and the read mostly waits for Stripe.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection as Pipe
from types import TracebackType
from typing import TYPE_CHECKING, Protocol

from compiler.catalog.source import Document, iter_entries
from compiler.changes.changeset import ChangeSet
from compiler.changes.diff import diff
from compiler.changes.impact import with_price_impact
from compiler.changes.model import Adoption, Catalog, CheckedCatalog, Resource, modelled
from compiler.changes.subscribers import SubscriberOptions, with_subscribers
from compiler.errors import Diagnostic, InvalidCatalog
from compiler.heap import collector_paused
from compiler.stripe.boundaries import BoundaryFiles, boundary_files
from compiler.stripe.facts import API_VERSION
from compiler.stripe.gateway import Connection, Gateway
from compiler.stripe.kinds import Kind
from compiler.stripe.state import (
    AccountState,
    BoundaryMemory,
    ExpectedSizes,
    Lister,
    LiveObject,
    ReadSoFar,
    read_account,
)
from compiler.stripe.subscriptions import Pager

if TYPE_CHECKING:
    from compiler.catalog.files import PresetVariables

CheckOutcome = tuple[tuple[Diagnostic, ...], CheckedCatalog | None]


@dataclass(frozen=True)
class CatalogNames:
    """What the catalog looks for in the account's price family: its prices' lookup_keys, its plans' ids, and the
    Stripe ids of the prices and plans its adoption records take over, by account and mode. They decide which
    lists beyond the active prices a plan reads (`needs_archived_prices`, `needs_plans_list`)."""

    prices: frozenset[str] = frozenset()
    plans: tuple[str, ...] = ()
    adopted: Mapping[tuple[str, bool], frozenset[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, resources: Iterable[Resource], adoptions: Iterable[Adoption] = ()) -> CatalogNames:
        prices, plans = set(), []
        for resource in resources:
            if resource.kind is Kind.PRICE:
                prices.add(resource.key)
            elif resource.kind is Kind.PLAN:
                plans.append(resource.key)
        adopted = {
            (a.account, a.livemode): frozenset(i for (kind, _key), i in a.targets.items() if kind is not Kind.PRODUCT)
            for a in adoptions
        }
        return cls(frozenset(prices), tuple(plans), adopted)

    @classmethod
    def of_catalog(cls, catalog: Catalog) -> CatalogNames:
        return cls.of(catalog, catalog.adoptions)

    @classmethod
    def of_saved(cls, saved: ChangeSet) -> CatalogNames:
        """What the catalog of a saved plan looks for: it holds the record of its own account alone, which is the
        one the plan looked at too."""
        return cls.of(saved.catalog, [saved.adoption] if saved.adoption is not None else [])


def check_and_model(
    paths: Sequence[str],
    var: Sequence[str],
    vars_file: str | None,
    preset: PresetVariables | None = None,
    *,
    on_loaded: Callable[[Sequence[Document]], None] | None = None,
) -> CheckOutcome:
    """The diagnostics of the catalog below `paths`, and, when it is valid, its model with its warnings."""
    from compiler.catalog.check import check_with_options  # in the child: this process never loads the rules
    from compiler.catalog.files import NO_PRESET

    result = check_with_options(paths, var, vars_file, NO_PRESET if preset is None else preset, on_loaded=on_loaded)
    if not result.ok:
        return result.diagnostics, None
    return result.diagnostics, modelled(result)


def count_entries(documents: Sequence[Document]) -> ExpectedSizes:
    """How many products and prices and plans the loaded files hold, before anything is checked."""
    return expected_sizes(entry.kind for doc in documents for entry in iter_entries(doc))


def _check_into(
    pipe: Pipe, paths: Sequence[str], var: Sequence[str], vars_file: str | None, preset: PresetVariables | None
) -> None:
    """In the child process: the catalog's counts as soon as its files are loaded, then the outcome, or None
    when the check raised (the parent then checks again itself, so that the error it raises is the one a check
    in one process raises)."""
    try:
        outcome: CheckOutcome | None = check_and_model(
            paths, var, vars_file, preset, on_loaded=lambda documents: pipe.send(count_entries(documents))
        )
    except BaseException:
        outcome = None
    pipe.send(outcome)
    pipe.close()


def _unreadable(paths: Sequence[str]) -> bool:
    """Whether finding the catalog's files already fails (a path not there, a directory without catalog files)."""
    from compiler.catalog.files import find_files

    _files, problems = find_files(paths)
    return any(p.is_error for p in problems)


class PendingCatalog:
    """The catalog below `paths`, checked and modelled in a child process while this one reads the account.

    In a process of its own the check no longer competes with the read for the interpreter lock (a thread
    gained a few percent at most). The child is forked, so it starts at once with everything imported, and
    sends the catalog's counts as soon as it has loaded the files (where to cut the long lists), then the
    catalog, which a thread of this process takes in as it comes (on a busy machine the child writes its
    megabytes slowly, and the read must not wait for them). Where forking is not safe (anywhere but Linux) the
    check runs here, before the read; so it does when a path is missing or holds no catalog file, which needs no
    parsing to see (no request is sent for a catalog that is not there). `on_ready` runs with the catalog once
    it is here (the CLI freezes the garbage collector then). Use as a context manager: leaving stops the child if it
    still runs."""

    def __init__(
        self,
        paths: Sequence[str],
        var: Sequence[str] = (),
        vars_file: str | None = None,
        preset: PresetVariables | None = None,
        *,
        on_ready: Callable[[CheckedCatalog], None] | None = None,
    ) -> None:
        self._args = (list(paths), list(var), vars_file, preset)
        self._on_ready = on_ready
        self._sizes: ExpectedSizes | None = None
        self._outcome: CheckOutcome | None = None
        self._received: CheckOutcome | None = None  # what the child sent (None: it failed)
        self._arrived = threading.Event()
        self._pipe: Pipe | None = None
        self._child: multiprocessing.process.BaseProcess | None = None
        self._receiver: threading.Thread | None = None
        if sys.platform == "linux" and not _unreadable(paths):
            context = multiprocessing.get_context("fork")
            self._pipe, sending = context.Pipe(duplex=False)
            self._child = context.Process(target=_check_into, args=(sending, *self._args), daemon=True)
            self._child.start()
            sending.close()
            self._receiver = threading.Thread(target=self._receive, name="pricebook-catalog", daemon=True)
            self._receiver.start()
        else:
            self._settle(check_and_model(*self._args))

    def _receive(self) -> None:
        """The child's messages, as they come: its counts, then the outcome (nothing when the child died)."""
        assert self._pipe is not None
        try:
            while True:
                with collector_paused():  # the catalog is one large, acyclic allocation: no collection halfway
                    message = self._pipe.recv()
                if isinstance(message, ExpectedSizes):
                    self._sizes = message
                    continue
                self._received = message
                break
        except (EOFError, OSError):
            pass
        self._arrived.set()

    def done(self) -> bool:
        """Whether the check has finished (without waiting for it)."""
        return self._outcome is not None or self._arrived.is_set()

    def result(self) -> CheckedCatalog:
        """The catalog, once checked (waits for it); InvalidCatalog with every diagnostic when it is not valid.
        When the child died, the check runs here instead."""
        if self._outcome is None:
            self._arrived.wait()
            self.close()
            self._settle(self._received if self._received is not None else check_and_model(*self._args))
        assert self._outcome is not None
        diagnostics, catalog = self._outcome
        if catalog is None:
            raise InvalidCatalog(list(diagnostics))
        return catalog

    def _settle(self, outcome: CheckOutcome) -> None:
        self._outcome = outcome
        if outcome[1] is not None:
            self._sizes = self._sizes or expected_sizes(r.kind for r in outcome[1].catalog)
            if self._on_ready is not None:
                self._on_ready(outcome[1])

    def names(self) -> CatalogNames:
        """What the catalog looks for in the price family (waits for the check)."""
        return CatalogNames.of_catalog(self.result().catalog)

    def expected(self) -> ExpectedSizes | None:
        """The catalog's counts once its files are loaded (None until then): where to cut the long lists."""
        return self._sizes

    def stop_if_invalid(self) -> None:
        """Raises InvalidCatalog as soon as the check has found the catalog invalid (nothing before)."""
        if self.done():
            self.result()

    def close(self) -> None:
        """Stops the child if it still runs (its end of the pipe closes, so the receiving thread ends too)."""
        if self._child is not None:
            if self._child.is_alive():
                self._child.terminate()
            self._child.join()
        if self._receiver is not None:
            self._receiver.join()
        if self._pipe is not None:
            self._pipe.close()
        self._child = self._pipe = self._receiver = None

    def __enter__(self) -> PendingCatalog:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


class AccountReader(Lister, Pager, Protocol):
    """What planning reads through (a `Gateway`): the account's lists page by page, and the subscription
    lists of the prices a change reaches."""


def changeset_while_reading(
    pending: PendingCatalog,
    gateway: AccountReader,
    subscribers: SubscriberOptions | None = None,
    *,
    allow_mass_archive: bool = False,
    memory: BoundaryMemory | None = None,
) -> tuple[ChangeSet, AccountState]:
    """`changeset_for` with the catalog still being checked: the account is read meanwhile. An invalid catalog
    stops the read at its next page, and is the error raised whatever the read ran into meanwhile."""
    pending.stop_if_invalid()  # one found invalid at once sends nothing
    try:
        state = read_state(gateway, pending.names, pending.expected, check=pending.stop_if_invalid, memory=memory)
    except Exception:  # not Ctrl-C: that ends the command at once, with no wait for the check
        pending.result()
        raise
    checked = pending.result()
    changeset = plan_against(checked, state, allow_mass_archive=allow_mass_archive)
    return who_pays(changeset, checked, state, gateway, subscribers), state


def changeset_for(
    checked: CheckedCatalog,
    gateway: AccountReader,
    subscribers: SubscriberOptions | None = None,
    *,
    allow_mass_archive: bool = False,
    memory: BoundaryMemory | None = None,
) -> tuple[ChangeSet, AccountState]:
    """Read the account once (`read_state`), plan the catalog against it and read who pays on the prices the
    plan reaches, as `subscribers` says (read-only: no write is sent). `allow_mass_archive`: see `plan_against`."""
    names = CatalogNames.of_catalog(checked.catalog)
    state = read_state(gateway, names, expected_sizes(r.kind for r in checked.catalog), memory=memory)
    changeset = plan_against(checked, state, allow_mass_archive=allow_mass_archive)
    return who_pays(changeset, checked, state, gateway, subscribers), state


def who_pays(
    changeset: ChangeSet,
    checked: CheckedCatalog,
    state: AccountState,
    gateway: Pager,
    subscribers: SubscriberOptions | None,
) -> ChangeSet:
    """`changeset` with the subscribers of the prices it reaches, read as `subscribers` says."""
    return with_subscribers(changeset, checked.catalog, state, gateway, subscribers or SubscriberOptions())


def plan_against(checked: CheckedCatalog, state: AccountState, *, allow_mass_archive: bool = False) -> ChangeSet:
    """The ChangeSet for an account already read (pure): the diff, its price impact, the catalog's warnings and
    the diff's own (a saved plan's catalog holds those already: each is shown once).
    `allow_mass_archive`: the user said many archives at once are meant (see `diff`)."""
    changeset = with_price_impact(
        diff(checked.catalog, state, api_version=API_VERSION, allow_mass_archive=allow_mass_archive)
    )
    planned = tuple(w for w in changeset.warnings if w not in checked.warnings)
    return dataclasses.replace(changeset, warnings=(*checked.warnings, *planned))


def read_state(
    gateway: Lister,
    names: CatalogNames | Callable[[], CatalogNames] = CatalogNames(),
    expected: ExpectedSizes | Callable[[], ExpectedSizes | None] | None = None,
    *,
    check: Callable[[], None] | None = None,
    memory: BoundaryMemory | None = None,
    archived: bool = False,
) -> AccountState:
    """The account as `plan` reads it, in one pass: one list per resource type, the archived prices only when
    `needs_archived_prices` says so (always with `archived`), and `GET /v1/plans` only when `needs_plans_list`
    does, for what the catalog looks for (`names`, or a function that gives them once the price lists are read).
    `expected` (the catalog's counts) and `memory` (where the last read found page boundaries) only help cut the
    long lists well from the start; `check` runs between pages (whatever it raises ends the read)."""
    wanted = names if callable(names) else (lambda: names)
    return read_account(
        gateway,
        archived=archived or (lambda found: needs_archived_prices(wanted(), found)),
        plans_list=lambda found: needs_plans_list(wanted().plans, found.family),
        expected=expected,
        check=check,
        memory=memory,
    )


def expected_sizes(kinds: Iterable[Kind]) -> ExpectedSizes:
    """How many products and prices and plans the account should hold, counted from the objects' kinds."""
    counts = Counter(kinds)
    return ExpectedSizes(products=counts[Kind.PRODUCT], family=counts[Kind.PRICE] + counts[Kind.PLAN])


def current_state(
    saved: ChangeSet, gateway: Lister, *, memory: BoundaryMemory | None = None, archived: bool = False
) -> AccountState:
    """The account now, read exactly as `plan` read it for `saved` (for `apply --plan`): which lists are read is
    decided by the catalog `saved` holds, as `plan` decided it by the files, so an unchanged account gives the
    saved fingerprint. With `archived`, the archived prices are read whatever the catalog looks for."""
    names = CatalogNames.of_saved(saved)
    expected = expected_sizes(r.kind for r in saved.catalog)
    return read_state(gateway, names, expected, memory=memory, archived=archived)


def state_between_rounds(saved: ChangeSet, gateway: Lister, *, memory: BoundaryMemory | None = None) -> AccountState:
    """The account for a later round of `apply --plan`, which checks the saved plan's calls against it: the
    archived prices too, whatever the catalog looks for, as an archive that went through with its answer lost
    shows only among them."""
    return current_state(saved, gateway, memory=memory, archived=True)


def missing_plans(plan_ids: Iterable[str], family: Iterable[LiveObject]) -> list[str]:
    """The plan ids (the catalog's) that no object of the account's price family has, as its id or, for an
    adopted plan whose id Stripe made up, as its catalog id (`pricebook_id`)."""
    found = set()
    for o in family:
        if o.kind in (Kind.PRICE, Kind.PLAN):
            found.add(o.id)
        if o.kind is Kind.PLAN and o.key is not None:
            found.add(o.key)
    return [key for key in plan_ids if key not in found]


def needs_archived_prices(names: CatalogNames, found: ReadSoFar) -> bool:
    """Whether the archived prices must be read too, given the family the active prices showed: when the diff
    would look among them for something the active ones do not hold.

    The diff looks up an archived price in four cases only: a catalog price whose lookup_key no active price has
    (archived by hand, or by the catalog's own `active: false`: it is reactivated or left as it is, never created
    a second time, which Stripe would refuse, as lookup_keys are unique among all prices); a catalog plan missing
    from the active family (a plan is a price with the same id); a price or plan this account's adoption record
    takes over that is not among the active ones (adopted, then replaced by pricebook, say); and pricebook's own
    leftover of an interrupted replace, a managed active price without a lookup_key, whose successor may be
    archived. Everything else the diff decides is about active prices and plans (archiving, what is left alone)
    or about products and meters, whose lists are read whole. So when none of the four is there, the archived
    prices cannot change the plan, and they are not read: a long-lived account holds one for every price ever
    replaced.
    """
    family = found.family
    keys = {o.key for o in family if o.kind is Kind.PRICE and o.key is not None}
    if not names.prices <= keys or missing_plans(names.plans, family):
        return True
    adopted = names.adopted.get((found.account, found.livemode), frozenset()) if found.account else frozenset()
    if not adopted <= {o.id for o in family}:
        return True
    return any(o.kind is Kind.PRICE and o.managed and o.active and o.key is None for o in family)


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


def remembered_boundaries(connection: Connection) -> BoundaryFiles | None:
    """Where the reads through `connection` keep the page boundaries they found (None: pricebook keeps no cache)."""
    return boundary_files(connection.api_base, connection.livemode)


__all__ = [
    "AccountReader",
    "CatalogNames",
    "PendingCatalog",
    "changeset_for",
    "changeset_while_reading",
    "check_and_model",
    "count_entries",
    "current_state",
    "expected_sizes",
    "missing_plans",
    "needs_archived_prices",
    "needs_plans_list",
    "plan_against",
    "read_state",
    "reading_gateway",
    "remembered_boundaries",
    "state_between_rounds",
    "who_pays",
]
