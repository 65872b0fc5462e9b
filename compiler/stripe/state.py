"""The live account, read once: the only module that reads Stripe.

`read_account` sends one paginated list per resource type (100 a page, with the expansions the diff needs) and
never a request per object:

    GET /v1/account                                    the account's id, which names it in a saved plan (a
                                                       restricted key may not read it: then there is none)
    GET /v1/billing/meters                             every status
    GET /v1/products                                   every product, active or not
    GET /v1/prices?active=true   expand tiers, currency_options
    GET /v1/prices?active=false  expand tiers, currency_options (the price list shows active prices by default)
                                                       when asked (see below)
    GET /v1/plans                expand tiers      only when asked (see below)

**At the speed of the rate limit, not of the latency.** A page of 100 prices takes Stripe a few hundred
milliseconds, and read one after the other that, not the limit, would be the bound. So the lists run side by
side, and a long list is read as several cursor chains, each over its own range of `created` (whole seconds,
`created[gte]` / `created[lt]`), all sending through the lister's one pacer. A chain is cut when, at one page a
round trip, it alone would still be reading after the pacer has sent everything that is left: it keeps the newer
part of what it has left and new chains take the older parts, so that all finish together. How much a chain has
left comes from how densely its own pages were created, and for the oldest chain of a list from how many objects
the list should hold (the catalog's counts, `ExpectedSizes`, when the caller knows them); with nothing known yet,
a price list is cut into parts that double in size, the last taking the rest. A chain that has read only one
second is not cut (nothing says yet how dense the list is), and every chain but one ends in a part-filled page,
so chains are only added while they gain time.

**Where the last read found the pages.** After a read, every object's `created` second says where each list can
be cut into whole pages (`boundaries.Boundaries`), and `memory` keeps that per account. When it holds something
for the API base and mode, the read waits for the account's id (one round trip), then starts each list in as
many chains as keep the pacer busy, cut at those seconds: every chain holds whole pages and ends in a full one,
so the read costs the pages one chain would, and no time is spent learning how dense the lists are. A chain cut
later in such a read (the account grew, or Stripe is farther away than last time) is cut at those seconds too.
What is remembered only decides where to cut (the ranges still cover every second): a stale one costs
part-filled pages, never an object.

The read stays exactly the read of one chain per list:
- the ranges of a list are disjoint and together cover every second, and Stripe applies each chain's filter;
- a chain that is cut keeps its cursor and narrows its range to the newer part: every object of that part
  that sorts before the cursor is one it has read already (a cut never depends on the list's order matching
  `created` exactly);
- an object created during the read is newer than every cut (cuts are at `created` values already read), so it
  falls in the newest range, and is read or not just as by one chain: only if that range's first page was
  fetched after it was created;
- the archived prices are read after every chain of the active ones has finished: a price archived during the
  read is then seen in one list or both (each object is kept once), never in neither. (The other way round, a
  price archived when its active page was read and reactivated before the archived list was, is in neither;
  nothing orders the lists against that.)

The archived prices are read when the caller asks: `archived=True` (the default, for `import` and `adopt`,
which show the whole account), or a function that looks at the family the active prices showed and decides
(`planning.read_state` asks for them only when the catalog looks for something the active prices do not hold;
a long-lived account's archived prices, one for every price ever replaced, are otherwise read on every plan for
nothing).

All the chains of a list share one `paging.CursorChain`: a server that repeats a page (ranges are disjoint, so
no cursor comes twice) or never ends is stopped as it would be on one chain, the object bound counting the
whole list.

Prices and plans are one object family with one id space: the price list shows plans too (Stripe's list of
prices leaves out only inline prices, https://docs.stripe.com/api/prices/list, and a plan is a price with the
same id), and `GET /v1/plans` shows every recurring price. Reading `/v1/plans` as well would read every
recurring price a second time, so it is read only when the caller asks: `plans_list=True`, or a function that
looks at the family the price lists showed and decides (`planning.read_state` asks for it when a catalog plan
is missing from them). It is read after the price lists, and an object both lists show keeps its price-list
view, so reading `/v1/plans` changes the state (and its fingerprint) only by the plans the price lists left
out.

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
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol

from compiler.errors import UnexpectedAnswer
from compiler.heap import collector_paused
from compiler.stripe.boundaries import Boundaries, Remembered
from compiler.stripe.facts import plan_from_price
from compiler.stripe.fields import SPECS, canonical, catalog_key, is_managed, replaced_id
from compiler.stripe.kinds import IDENTITY_FIELD, KIND_ORDER, Kind
from compiler.stripe.paging import CursorChain

PRICE_EXPAND = ("data.tiers", "data.currency_options")
PLAN_EXPAND = ("data.tiers",)
PAGE_SIZE = 100
#: chains (requests in flight) at most, whatever the pace and the latency
MAX_CHAINS = 16
#: chains wanted: enough to keep the pacer busy over one round trip, this much more and one more for the jitter
CHAIN_HEADROOM = 1.5
#: a chain is cut only into parts of at least this many pages: each part ends in a part-filled page
MIN_PART_PAGES = 3
#: parts made at once while nothing says how long a list is: the doubling sizes soon pass its oldest objects
BLIND_PARTS = 3


class Role(Enum):
    """What a list holds, which decides how its pages are read into the state."""

    METERS = "meters"
    PRODUCTS = "products"
    PRICES = "prices"
    PLANS = "plans"


@dataclass(frozen=True, eq=False)
class ListSource:
    """One list `read_account` reads: its name (where its boundaries are remembered), path and filters;
    `by_created` when the endpoint filters on `created`, so that it can be read as several chains. Each list is
    one of the constants below (compared by identity)."""

    name: str
    role: Role
    path: str
    params: Mapping[str, Any]
    by_created: bool = True


METERS = ListSource("meters", Role.METERS, SPECS[Kind.METER].path, {}, by_created=False)  # no filter on this list
PRODUCTS = ListSource("products", Role.PRODUCTS, SPECS[Kind.PRODUCT].path, {})
# Stripe's price list shows active prices unless asked: ask for each state explicitly
ACTIVE_PRICES = ListSource(
    "prices", Role.PRICES, SPECS[Kind.PRICE].path, {"active": "true", "expand": list(PRICE_EXPAND)}
)
ARCHIVED_PRICES = ListSource(
    "archived_prices", Role.PRICES, SPECS[Kind.PRICE].path, {"active": "false", "expand": list(PRICE_EXPAND)}
)
PLANS = ListSource("plans", Role.PLANS, SPECS[Kind.PLAN].path, {"expand": list(PLAN_EXPAND)})
#: the lists `read_account` reads unless told otherwise (`PLANS` too when asked)
LISTS: tuple[ListSource, ...] = (METERS, PRODUCTS, ACTIVE_PRICES, ARCHIVED_PRICES)

@dataclass(frozen=True)
class ReadSoFar:
    """What decides whether a further list (the archived prices, `/v1/plans`) is read: the price family read so
    far, and the account (its id, None when the key may not read it, and its mode)."""

    family: Sequence[LiveObject]
    account: str | None
    livemode: bool


FamilyRule = Callable[[ReadSoFar], bool]


class BoundaryMemory(Protocol):
    """Where the boundaries of the last read of an account are kept (`boundaries.BoundaryFiles`)."""

    def expects(self) -> bool: ...

    def load(self, account: str) -> Remembered | None: ...

    def save(self, remembered: Remembered) -> None: ...


@dataclass(frozen=True)
class ListPage:
    """One page of a list: its objects, whether more follow, and how long the request took from send to answer
    (without any wait for a send slot)."""

    objects: list[dict[str, Any]]
    has_more: bool
    round_trip: float = 0.0


class Lister(Protocol):
    """What `read_account` needs of a `Gateway`: one page of a list at a time, the pace its requests keep to
    (requests a second, None when unpaced; safe to call from several threads at once), whether the key is a
    live-mode one, and the id of the account it belongs to (None where the key may not read it)."""

    @property
    def livemode(self) -> bool: ...

    @property
    def pace(self) -> float | None: ...

    def account_id(self) -> str | None: ...

    def list_page(self, path: str, params: Mapping[str, Any] | None = None) -> ListPage: ...


@dataclass(frozen=True)
class ExpectedSizes:
    """How many objects the lists should hold, roughly (the catalog's counts): only where to cut depends on it,
    never what is read."""

    products: int = 0
    family: int = 0  # prices and plans


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
    #: its row of the state's fingerprint (`fingerprint`), made with the object: objects are made as the pages
    #: arrive, while the read mostly waits, and a changed copy (`dataclasses.replace`) is a new object with its own
    row: bytes = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "row", _row(self))

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


_KIND_RANK = {kind: rank for rank, kind in enumerate(KIND_ORDER)}


def _sort_key(obj: LiveObject) -> tuple[int, str, str]:
    return (_KIND_RANK[obj.kind], obj.key or "", obj.id)


def fingerprint(objects: Sequence[LiveObject]) -> str:
    """A hash of what the diff depends on (kind, id, identity, ownership, canonical attrs), in a stable order:
    the same for two reads of an unchanged account, different once anything the diff compares has changed.

    Each object is one JSON row with sorted keys (`LiveObject.row`); the rows are hashed in sorted order, one
    line each."""
    digest = hashlib.sha256()
    for index, row in enumerate(sorted(o.row for o in objects)):  # ASCII: bytes sort as the text would
        if index:
            digest.update(b"\n")
        digest.update(row)
    return "sha256:" + digest.hexdigest()


def _row(obj: LiveObject) -> bytes:
    row: list[Any] = [obj.kind.value, obj.id, obj.key, obj.managed, obj.attrs]
    if obj.replaces is not None:  # the diff reads it (an old version left active); rows of other objects unchanged
        row.append(obj.replaces)
    return json.dumps(row, sort_keys=True, default=str).encode("ascii")  # ensure_ascii: only ASCII


# ---------------------------------------------------------------------------------------------------------
# reading


def read_account(
    lister: Lister,
    *,
    archived: bool | FamilyRule = True,
    plans_list: bool | FamilyRule = False,
    expected: ExpectedSizes | Callable[[], ExpectedSizes | None] | None = None,
    check: Callable[[], None] | None = None,
    memory: BoundaryMemory | None = None,
) -> AccountState:
    """Every product, price, plan and meter of the account, as `LiveObject`s (see the module docstring).

    The archived prices are read when `archived` is True, or is a function that says so when given the price
    family the active prices showed; `GET /v1/plans` is read too when `plans_list` is True, or is a function
    that says so when given the price family the price lists showed. `expected` (or a function that returns it
    once known) sizes the lists, so that a long one is cut well from the start; `memory` keeps where the last
    read of the account found page boundaries, to cut there. `check` runs on this thread after each page:
    whatever it raises ends the read (the requests under way are abandoned) and is raised from here."""
    builder = _Builder()
    reader = _Reader(lister, builder, archived, plans_list, expected, check, memory)
    reader.run()
    return builder.finish(livemode=lister.livemode, account=reader.account)


@dataclass(eq=False)
class Chain:
    """One cursor chain of a list: the objects with `created` in [lo, hi) (None: unbounded), newest first, from
    after `cursor` on.

    `newest` and `oldest` are the `created` of the first and the last object it has read, `read` how many; `size`
    is how many objects it was expected to hold when it was cut off another chain (0: not known)."""

    source: ListSource
    lo: int | None = None
    hi: int | None = None
    cursor: str | None = None
    newest: int | None = None
    oldest: int | None = None
    read: int = 0
    size: float = 0.0

    def query(self) -> dict[str, Any]:
        params = dict(self.source.params)
        created = {k: v for k, v in (("gte", self.lo), ("lt", self.hi)) if v is not None}
        if created:
            params["created"] = created
        if self.cursor is not None:
            params["starting_after"] = self.cursor
        return params

    def advance(self, objects: Sequence[Mapping[str, Any]]) -> None:
        if not objects:
            return
        self.cursor = str(objects[-1]["id"])
        times = [t for t in (_created(o) for o in objects) if t is not None]
        if times:
            self.newest = max(times) if self.newest is None else max(self.newest, *times)
            self.oldest = min(times) if self.oldest is None else min(self.oldest, *times)
        self.read += len(objects)

    def density(self) -> float:
        """Objects a second in what this chain has read (each second counted whole)."""
        if self.newest is None or self.oldest is None:
            return 0.0
        return self.read / (self.newest - self.oldest + 1)

    def left(self) -> float | None:
        """About how many objects this chain has still to read, when its range or its expected size says so
        (None: unbounded below, and no size known)."""
        if self.oldest is None:
            return self.size or None
        if self.lo is None:
            return max(self.size - self.read, 0.0) if self.size else None
        return max(self.density() * (self.oldest - self.lo), 0.0)


def _created(raw: Mapping[str, Any]) -> int | None:
    value = raw.get("created")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def cut_points(oldest: int, lo: int | None, density: float, sizes: Sequence[float]) -> list[int]:
    """Where to cut a chain that has read down to `created` second `oldest` into parts of about `sizes` objects
    each (newest part first, the last one taking the rest), at `density` objects a second: the `created` second
    each older part ends before, strictly falling and all above `lo`. Fewer parts when the seconds run out."""
    if density <= 0:
        return []
    points: list[int] = []
    edge = oldest + 1  # the part the chain keeps may take what is left of second `oldest`
    for size in sizes[:-1]:
        point = min(edge - 1, edge - round(size / density))
        if lo is not None and point <= lo:
            break
        points.append(point)
        edge = point
    return points


class _Reader:
    """Runs the chains of every list on a pool of threads that share the lister's pacer, and feeds their pages,
    in the order they arrive, to the builder (on the calling thread)."""

    def __init__(
        self,
        lister: Lister,
        builder: _Builder,
        archived: bool | FamilyRule,
        plans_list: bool | FamilyRule,
        expected: ExpectedSizes | Callable[[], ExpectedSizes | None] | None,
        check: Callable[[], None] | None = None,
        memory: BoundaryMemory | None = None,
    ) -> None:
        self.lister = lister
        self.builder = builder
        self.archived = archived
        self.plans_list = plans_list
        self.expected = expected
        self.check = check
        self.memory = memory
        self.running: dict[Future[ListPage], Chain] = {}
        self.chains: dict[ListSource, list[Chain]] = {}  # the chains of each list still reading
        self.read: dict[ListSource, int] = {}  # objects read from each list so far
        # the `created` second of every object of each list that can be cut (None: one had none)
        self.created: dict[ListSource, list[int] | None] = {}
        # one guard a list, over all its chains: their ranges are disjoint, so no cursor comes twice, and the
        # object bound holds for the whole list
        self.guards: dict[ListSource, CursorChain] = {}
        self.round_trip = 0.0
        self.account: str | None = None  # the account's id, read beside the lists
        self.remembered: Remembered | None = None
        self.decided: set[ListSource] = set()  # the lists read only when asked, once asked
        self.account_request: Future[str | None]

    def run(self) -> None:
        self.pool = ThreadPoolExecutor(MAX_CHAINS, thread_name_prefix="pricebook-read")
        # Thousands of small acyclic objects arrive: a full collection over them would stall the loop that sends
        # the next requests.
        with collector_paused():
            account = self.account_request = self.pool.submit(self.lister.account_id)
            try:
                self.start(METERS)
                if self.memory is not None and self.memory.expects():
                    # the boundaries are the account's: worth one round trip, as every chain then starts at once
                    self.recall(account.result())
                self.start(PRODUCTS, ACTIVE_PRICES)
                while self.running:
                    done, _ = wait(self.running, return_when=FIRST_COMPLETED)
                    for future in done:
                        chain = self.running.pop(future)
                        self.on_page(chain, future.result())
                    if self.check is not None:
                        self.check()
                self.account = account.result()
            except Exception:
                # on an error, the requests already sent are waited for (a few round trips at most); the account
                # is asked first, and its error is the one reported, as when one request followed another
                self.pool.shutdown(wait=True, cancel_futures=True)
                failed = None if account.cancelled() else account.exception()
                if failed is not None:
                    raise failed from None
                raise
            finally:
                self.pool.shutdown(wait=True, cancel_futures=True)
        self.remember()

    def recall(self, account: str | None) -> None:
        """What the last read of `account` found, if anything: its round trip, and where its lists are cut."""
        assert self.memory is not None
        self.remembered = self.memory.load(account) if account is not None else None
        if self.remembered is not None:
            self.round_trip = self.remembered.round_trip

    def remember(self) -> None:
        """Keep where this read found the page boundaries of each list it read whole, for the next read."""
        if self.memory is None or self.account is None:
            return
        lists = dict(self.remembered.lists) if self.remembered is not None else {}
        for source, created in self.created.items():
            if created is None:
                lists.pop(source.name, None)
            else:
                lists[source.name] = Boundaries.of(created, PAGE_SIZE)
        self.memory.save(Remembered(self.account, self.round_trip, lists))

    def start(self, *sources: ListSource) -> None:
        """Start reading `sources`: each in one chain, or, where the last read's boundaries are known, in as many
        chains of whole pages as keep the pacer busy (shared by the lists in proportion to their pages)."""
        known = {s: self.known(s) for s in sources}
        pages = {s: math.ceil(b.total / PAGE_SIZE) for s, b in known.items() if b is not None}
        free = max(self.wanted() - len(self.running) - (len(sources) - len(pages)), len(pages))
        for source in sources:
            boundaries = known[source]
            parts: list[tuple[int | None, int | None, int]] = [(None, None, 0)]
            if boundaries is not None:
                share = round(free * pages[source] / max(sum(pages.values()), 1))
                parts = boundaries.parts(max(1, min(share, pages[source])))
            self.chains[source] = []
            self.guards[source] = CursorChain(source.path)
            if source.by_created:
                self.created[source] = []
            for lo, hi, size in parts:
                chain = Chain(source, lo=lo, hi=hi, size=float(size))
                self.chains[source].append(chain)
                self.send(chain)

    def known(self, source: ListSource) -> Boundaries | None:
        """The boundaries the last read found for `source`, when there are some to cut at."""
        if self.remembered is None or not source.by_created:
            return None
        boundaries = self.remembered.lists.get(source.name)
        return boundaries if boundaries is not None and boundaries.cuts else None

    def send(self, chain: Chain) -> None:
        future = self.pool.submit(self.lister.list_page, chain.source.path, chain.query())
        self.running[future] = chain

    def on_page(self, chain: Chain, page: ListPage) -> None:
        if page.round_trip > 0:
            self.round_trip = page.round_trip if not self.round_trip else 0.7 * self.round_trip + 0.3 * page.round_trip
        more = self.guards[chain.source].advance(page.objects, page.has_more) is not None
        chain.advance(page.objects)
        self.read[chain.source] = self.read.get(chain.source, 0) + len(page.objects)
        if more:  # the next requests go out first: reading this page into the state overlaps them
            for part in self.cut(chain):
                self.chains[chain.source].append(part)
                self.send(part)
            self.send(chain)
        self.builder.add(chain.source.role, page.objects)
        created = self.created.get(chain.source)
        if created is not None:
            times = [_created(o) for o in page.objects]
            if None in times:
                self.created[chain.source] = None  # nothing to cut this list at next time
            else:
                created.extend(t for t in times if t is not None)
        if more:
            return
        chains = self.chains[chain.source]
        chains.remove(chain)
        if not chains:
            self.finished(chain.source)

    def finished(self, source: ListSource) -> None:
        """A list has been read whole: start what waited for it. The archived prices are read after every chain
        of the active ones has finished, and `/v1/plans` after both (see the module docstring)."""
        if source is METERS:
            self.builder.meters_done()
        if not self.read_whole(METERS, ACTIVE_PRICES):
            return
        if ARCHIVED_PRICES not in self.decided:
            self.decided.add(ARCHIVED_PRICES)
            # the plans list shows archived prices too, in the plans' shape: only the archived price list tells
            # them from plans, so it is never read without it
            if self.wants(self.archived) or self.wants(self.plans_list):
                self.start(ARCHIVED_PRICES)
                return
        if ARCHIVED_PRICES in self.chains and not self.read_whole(ARCHIVED_PRICES):
            return
        if PLANS not in self.decided:
            self.decided.add(PLANS)
            if self.wants(self.plans_list):
                self.start(PLANS)

    def wants(self, rule: bool | FamilyRule) -> bool:
        """Whether `rule` wants a list read, given what has been read so far."""
        if not callable(rule):
            return rule
        # the account was asked before every list: its answer is in by now, or its error ends the read here
        found = ReadSoFar(self.builder.family(), self.account_request.result(), self.lister.livemode)
        return rule(found)

    def read_whole(self, *sources: ListSource) -> bool:
        """Whether every one of `sources` has been started and read whole."""
        return all(s in self.chains and not self.chains[s] for s in sources)

    # -- cutting chains ----------------------------------------------------------------------------------------

    def wanted(self) -> int:
        """Chains enough to keep the pacer busy for one round trip."""
        pace = self.lister.pace
        if not pace:
            return MAX_CHAINS
        return max(1, min(MAX_CHAINS, math.ceil(pace * self.round_trip * CHAIN_HEADROOM) + 1))

    def cut(self, chain: Chain) -> list[Chain]:
        """New chains for the older parts of what `chain` has left (it keeps the newest part), when alone it would
        still be reading after the pacer has sent everything else: its parts then finish with the rest."""
        running = len(self.running) + 1  # `chain` is out of `running` until it is sent again
        room = MAX_CHAINS - running
        if room <= 0 or not chain.source.by_created or chain.oldest is None or chain.oldest == chain.newest:
            return []  # nothing to cut by, or (all it read in one second) nothing yet says how dense the list is
        left = self.left(chain)
        known = self.known(chain.source)
        if left is not None and known is not None:  # at the last read's page boundaries: no part-filled page
            points, sizes = known.within(chain.lo, chain.oldest, min(self.parts(chain, left), room + 1))
        elif left is None:  # nothing says (yet) how far down it goes: parts that double in size, the last the rest
            count = min(self.wanted() - running, room, BLIND_PARTS)
            if count <= 0 or chain.source.role is Role.PRODUCTS:
                return []  # (an account's longest list is its prices: the products wait for the catalog's count)
            sizes = [MIN_PART_PAGES * PAGE_SIZE * 2.0**n for n in range(count)] + [0.0]
            points = cut_points(chain.oldest, chain.lo, chain.density(), sizes)
        else:
            count = min(self.parts(chain, left), room + 1)
            sizes = [left / count] * count if count > 1 else []
            points = cut_points(chain.oldest, chain.lo, chain.density(), sizes)
        if not points:
            return []
        lows = [*points[1:], chain.lo]
        older = [
            Chain(chain.source, lo=low, hi=high, size=size)
            for high, low, size in zip(points, lows, sizes[1 : 1 + len(points)], strict=True)
        ]
        chain.lo = points[0]
        return older

    def parts(self, chain: Chain, left: float) -> int:
        """Into how many parts (of a page at least) a chain with `left` objects to read is best cut: at one page a
        round trip, it alone must not take longer than the pacer needs for everything that is left."""
        pace = self.lister.pace
        others = [self.left(c) for c in self.running.values() if c is not chain and c.source.by_created]
        if not pace or not self.round_trip or None in others:
            return 1  # how much is left in all is not known yet
        everything = left + sum(n for n in others if n is not None)
        alone = left / PAGE_SIZE * self.round_trip
        together = everything / PAGE_SIZE / pace + self.round_trip
        return min(math.ceil(alone / together), int(left // PAGE_SIZE))

    def left(self, chain: Chain) -> float | None:
        """About how many objects `chain` has still to read; for the oldest chain of a list, what the catalog's
        count leaves for it (None when not known)."""
        left = chain.left()
        if left is not None or chain.lo is not None:
            return left
        expected = self.expected() if callable(self.expected) else self.expected
        total = _expected_total(chain.source, expected) if expected is not None else 0
        if not total:
            return None
        others = sum(c.left() or 0.0 for c in self.chains.get(chain.source, []) if c is not chain)
        return max(total - self.read.get(chain.source, 0) - others, 0.0)


def _expected_total(source: ListSource, expected: ExpectedSizes) -> int:
    """How many objects `source` should hold by the catalog's count (0: the catalog says nothing about it)."""
    if source is PRODUCTS:
        return expected.products
    if source in (ACTIVE_PRICES, PLANS):  # the archived prices are not in the catalog
        return expected.family
    return 0


class _Builder:
    """Turns list pages into `LiveObject`s as they arrive, in whatever order: family pages wait for the meters
    (a metered price names its meter by event_name), a product with a default price for that price's page (it is
    named by its lookup_key) or else the end of the read, and a plans-list page never replaces what a price list
    showed."""

    def __init__(self) -> None:
        self.objects: list[LiveObject] = []
        self.meter_names: dict[str, str] = {}
        self.seen: set[str] = set()
        self.lookup_keys: dict[str, Any] = {}
        self.waiting: list[tuple[Role, Sequence[Mapping[str, Any]]]] = []
        #: the products whose default price has not been read yet, by that price's id
        self.products: dict[str, list[Mapping[str, Any]]] = {}
        self.have_meters = False

    def add(self, role: Role, raws: Sequence[Mapping[str, Any]]) -> None:
        if role is Role.METERS:
            self._add_meters(raws)
        elif role is Role.PRODUCTS:
            self._add_products(raws)
        elif not self.have_meters:
            self.waiting.append((role, raws))
        elif role is Role.PRICES:
            self._add_prices(raws)
        else:
            self._add_plans(raws)

    def meters_done(self) -> None:
        self.have_meters = True
        waiting, self.waiting = self.waiting, []
        for role, raws in waiting:
            self.add(role, raws)

    def _add_meters(self, raws: Iterable[Mapping[str, Any]]) -> None:
        for raw in raws:
            _check_identity(raw, "event_name", SPECS[Kind.METER].path)
            if raw.get("event_name"):
                self.meter_names[str(raw["id"])] = str(raw["event_name"])
            self.objects.append(_meter(raw))

    def _add_products(self, raws: Iterable[Mapping[str, Any]]) -> None:
        for raw in raws:
            default = _default_price_id(raw)
            if default is None or default in self.lookup_keys:
                self.objects.append(_product(raw, self.lookup_keys))
            else:
                self.products.setdefault(default, []).append(raw)

    def _add_prices(self, raws: Iterable[Mapping[str, Any]]) -> None:
        # One family, one id space: the price view decides what an object is (it has lookup_key and
        # currency_options), and a plan it shows is read from it in the Plans API's shape.
        for raw in raws:
            _check_identity(raw, "lookup_key", SPECS[Kind.PRICE].path)
            pid = str(raw["id"])
            if pid in self.seen:  # archived while the lists were read: in both, kept once
                continue
            self.seen.add(pid)
            self.lookup_keys[pid] = raw.get("lookup_key")
            if _is_price(raw):
                self.objects.append(_price(raw, self.meter_names))
            else:
                self.objects.append(_plan(plan_from_price(raw), self.meter_names))
            for product in self.products.pop(pid, ()):  # the products whose default price this is
                self.objects.append(_product(product, self.lookup_keys))

    def _add_plans(self, raws: Iterable[Mapping[str, Any]]) -> None:
        # read after the prices: only the plans the price lists left out are new; an object both lists show
        # keeps its price-list view, so reading the plans list never changes what was already read
        for raw in raws:
            pid = str(raw["id"])
            if pid in self.seen:
                continue
            self.seen.add(pid)
            self.objects.append(_plan(raw, self.meter_names))

    def family(self) -> list[LiveObject]:
        """The prices and plans read so far."""
        return [o for o in self.objects if o.kind in (Kind.PRICE, Kind.PLAN)]

    def finish(self, *, livemode: bool, account: str | None = None) -> AccountState:
        self.meters_done()
        # the products whose default price no price list showed keep its id
        objects = [*self.objects, *(_product(raw, self.lookup_keys) for raws in self.products.values() for raw in raws)]
        # last: a price's or plan's product id becomes the product's catalog id
        renamed = {o.id: o.key for o in objects if o.kind is Kind.PRODUCT and o.key and o.key != o.id}
        return AccountState.of(relinked(objects, products=renamed), livemode=livemode, account=account)


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
    if not products and not prices:
        return list(objects)
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


def _default_price_id(raw: Mapping[str, Any]) -> str | None:
    """The id of a product's default price, if it has one."""
    default = raw.get("default_price")
    if isinstance(default, Mapping):  # expanded
        default = default.get("id")
    return default if isinstance(default, str) else None


def _product(raw: Mapping[str, Any], lookup_keys: Mapping[str, Any]) -> LiveObject:
    key = catalog_key(raw)
    values = {**raw, "id": key}
    default = _default_price_id(raw)
    if default is not None:
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
    "ACTIVE_PRICES",
    "ARCHIVED_PRICES",
    "LISTS",
    "METERS",
    "PLANS",
    "PRODUCTS",
    "AccountState",
    "BoundaryMemory",
    "Chain",
    "ExpectedSizes",
    "FamilyRule",
    "ListPage",
    "ListSource",
    "Lister",
    "LiveObject",
    "ReadSoFar",
    "Role",
    "cut_points",
    "fingerprint",
    "read_account",
    "relinked",
]
