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
from collections.abc import Callable, Iterable, Sequence
from multiprocessing.connection import Connection as Pipe
from types import TracebackType
from typing import TYPE_CHECKING, Protocol

from compiler.catalog.source import Document, iter_entries
from compiler.changes.changeset import ChangeSet
from compiler.changes.diff import diff
from compiler.changes.impact import with_price_impact
from compiler.changes.model import CheckedCatalog, modelled
from compiler.changes.subscribers import SubscriberOptions, with_subscribers
from compiler.errors import Diagnostic, InvalidCatalog
from compiler.heap import collector_paused
from compiler.stripe.facts import API_VERSION
from compiler.stripe.gateway import Connection, Gateway
from compiler.stripe.kinds import Kind
from compiler.stripe.state import AccountState, ExpectedSizes, Lister, LiveObject, read_account
from compiler.stripe.subscriptions import Pager

if TYPE_CHECKING:
    from compiler.catalog.files import PresetVariables

CheckOutcome = tuple[tuple[Diagnostic, ...], CheckedCatalog | None]


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
    parsing to see (no request is sent for a catalog that is not there). `on_ready` runs once the catalog is
    here (the CLI freezes the garbage collector then). Use as a context manager: leaving stops the child if it
    still runs."""

    def __init__(
        self,
        paths: Sequence[str],
        var: Sequence[str] = (),
        vars_file: str | None = None,
        preset: PresetVariables | None = None,
        *,
        on_ready: Callable[[], None] | None = None,
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
                self._on_ready()

    def plan_ids(self) -> list[str]:
        return [r.key for r in self.result().catalog.of_kind(Kind.PLAN)]

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
) -> tuple[ChangeSet, AccountState]:
    """`changeset_for` with the catalog still being checked: the account is read meanwhile. An invalid catalog
    stops the read at its next page, and is the error raised whatever the read ran into meanwhile."""
    pending.stop_if_invalid()  # one found invalid at once sends nothing
    try:
        state = read_state(gateway, pending.plan_ids, pending.expected, check=pending.stop_if_invalid)
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
) -> tuple[ChangeSet, AccountState]:
    """Read the account once (`read_state`), plan the catalog against it and read who pays on the prices the
    plan reaches, as `subscribers` says (read-only: no write is sent). `allow_mass_archive`: see `plan_against`."""
    plan_ids = (r.key for r in checked.catalog.of_kind(Kind.PLAN))
    state = read_state(gateway, plan_ids, expected_sizes(r.kind for r in checked.catalog))
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
    plan_ids: Iterable[str] | Callable[[], Iterable[str]] = (),
    expected: ExpectedSizes | Callable[[], ExpectedSizes | None] | None = None,
    *,
    check: Callable[[], None] | None = None,
) -> AccountState:
    """The account as `plan` reads it, in one pass: one list per resource type, plus `GET /v1/plans` when
    `needs_plans_list` says so for the catalog plans `plan_ids` (or a function that gives them once the price
    lists are read) and the price family the price lists showed. `expected` (the catalog's counts) only helps
    cut the long lists well from the start; `check` runs between pages (whatever it raises ends the read)."""
    ids = plan_ids if callable(plan_ids) else (lambda wanted=tuple(plan_ids): wanted)
    return read_account(
        gateway,
        plans_list=lambda family: needs_plans_list(ids(), family),
        expected=expected,
        check=check,
    )


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
    """The plan ids (the catalog's) that no object of the account's price family has, as its id or, for an
    adopted plan whose id Stripe made up, as its catalog id (`pricebook_id`)."""
    found = set()
    for o in family:
        if o.kind in (Kind.PRICE, Kind.PLAN):
            found.add(o.id)
        if o.kind is Kind.PLAN and o.key is not None:
            found.add(o.key)
    return [key for key in plan_ids if key not in found]


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
    "PendingCatalog",
    "changeset_for",
    "changeset_while_reading",
    "check_and_model",
    "count_entries",
    "current_state",
    "expected_sizes",
    "missing_plans",
    "needs_plans_list",
    "plan_against",
    "read_state",
    "reading_gateway",
    "who_pays",
]
