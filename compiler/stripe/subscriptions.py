"""Who is on a price: the subscriptions that bill on it, read with one paginated list per price.

`read_subscribers` sends `GET /v1/subscriptions?price=<id>` (`plan=<id>` for a legacy plan, the Plans API's own
filter) for each price it is given, 100 subscriptions a page, and never a request per subscription: each listed
subscription embeds its items with their quantity and price, which is all the plan needs.

Which subscriptions count: those that bill, `active`, `trialing` (billed when the trial ends) and `past_due`
(billed, not yet paid). Stripe's `status` filter takes one status (or `all`, or `ended`), and without it the
list returns every subscription that is not canceled
(https://docs.stripe.com/api/subscriptions/list#list_subscriptions-status), so one unfiltered list per price
holds all three and the few others (`incomplete`, `incomplete_expired`, `unpaid`, `paused`) are dropped here;
three filtered lists would cost three times the requests. In test mode, Stripe leaves subscriptions on test
clocks out of any list that names neither a customer nor a test clock, so they are not counted.

The lists of different prices run side by side on a few threads: the gateway's pacer keeps them under the rate
limit together, and waiting on one list's latency no longer holds up the others.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from compiler.stripe.facts import BILLING_STATUSES, SUBSCRIPTIONS_PATH
from compiler.stripe.kinds import Kind

#: lists in flight at once; the pacer, not this, bounds the request rate
READ_THREADS = 4


class Pager(Protocol):
    """What reading subscribers needs of a `Gateway`: the pages of a list."""

    def pages(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[list[dict[str, Any]]]: ...


@dataclass(frozen=True)
class Target:
    """A price or legacy plan to read the subscribers of, by its Stripe id."""

    kind: Kind  # PRICE or PLAN
    id: str

    @property
    def params(self) -> dict[str, str]:
        return {"plan" if self.kind is Kind.PLAN else "price": self.id}


@dataclass(frozen=True)
class Line:
    """One billing subscription's item on the price: its status, the currency it bills in, and the quantity
    (None on a metered price: it bills usage, there is no quantity until then; None too when the subscription was
    listed for the price but the page of items it embeds stopped short of the item: counted, not priced)."""

    subscription: str
    status: str
    currency: str
    quantity: int | None
    metered: bool


@dataclass(frozen=True)
class Subscribers:
    """The billing subscriptions on one price, and how many requests reading them took."""

    target: Target
    lines: tuple[Line, ...]
    requests: int


def read_subscribers(pager: Pager, targets: Sequence[Target]) -> list[Subscribers]:
    """The billing subscriptions on each of `targets`, in their order: one paginated list per target."""
    if not targets:
        return []
    with ThreadPoolExecutor(max_workers=min(READ_THREADS, len(targets)), thread_name_prefix="pricebook-subs") as pool:
        return list(pool.map(lambda target: _read_one(pager, target), targets))


def _read_one(pager: Pager, target: Target) -> Subscribers:
    lines: list[Line] = []
    requests = 0
    for page in pager.pages(SUBSCRIPTIONS_PATH, target.params):
        requests += 1
        lines += lines_of(page, target.id)
    return Subscribers(target, tuple(lines), requests)


def lines_of(subscriptions: Iterable[Mapping[str, Any]], price_id: str) -> list[Line]:
    """The billing subscriptions among `subscriptions` (as Stripe lists them), each with its item on
    `price_id` (pure: the unit tests feed it Stripe-shaped dicts)."""
    out: list[Line] = []
    for sub in subscriptions:
        status = str(sub.get("status"))
        if status not in BILLING_STATUSES:
            continue
        item = _item_on(sub, price_id)
        currency = str(sub.get("currency") or "").lower()
        if item is None:
            out.append(Line(str(sub["id"]), status, currency, None, metered=False))
            continue
        metered = _usage_type(item) == "metered"
        quantity = item.get("quantity")
        count = None if metered or not isinstance(quantity, int) else quantity
        out.append(Line(str(sub["id"]), status, currency, count, metered=metered))
    return out


def _usage_type(item: Mapping[str, Any]) -> Any:
    price = item.get("price")
    recurring = price.get("recurring") if isinstance(price, Mapping) else None
    return recurring.get("usage_type") if isinstance(recurring, Mapping) else None


def _item_on(subscription: Mapping[str, Any], price_id: str) -> Mapping[str, Any] | None:
    items = subscription.get("items")
    data = items.get("data") if isinstance(items, Mapping) else None
    for item in data or ():
        if not isinstance(item, Mapping):
            continue
        price = item.get("price")
        found = price.get("id") if isinstance(price, Mapping) else price
        plan = item.get("plan")
        legacy = plan.get("id") if isinstance(plan, Mapping) else plan
        if price_id in (found, legacy):
            return item
    return None


__all__ = ["Line", "Pager", "Subscribers", "Target", "lines_of", "read_subscribers"]
