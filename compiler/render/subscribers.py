"""Subscriber impact in words, shared by the text and markdown views.

    142 subscriptions (quantity 1,310) stay on the old price: $4,260.00 a month; new subscribers pay the new price
    37 subscriptions (quantity 37) still bill on this price after it is archived: $1,110.00 a month
    38 subscriptions in eur (quantity 45) pay the new amount from their next invoice: €1,140.00 → €1,368.00 a month

Counts and quantities are written with thousands separators, amounts with `format_money`, one currency at a
time (`$4,260.00 + €1,140.00 a month`): amounts in different currencies are never added up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from compiler.changes.changeset import CurrencyAmounts, Effect, SubscriberImpact, SubscriberRead
from compiler.stripe.money import format_money

#: how the plan names the flags that change what is read
NO_SUBSCRIBERS_FLAG = "--no-subscribers"
LIMIT_FLAG = "--max-subscriber-prices"
#: the uncounted prices named in the text (the JSON names them all)
MAX_UNCOUNTED_NAMED = 10


def count(number: int, noun: str) -> str:
    """`1 subscription`, `1,310 subscriptions`."""
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def _verb(number: int, plural: str, singular: str) -> str:
    return singular if number == 1 else plural


def _details(quantity: int, impact_or_amounts: SubscriberImpact | CurrencyAmounts) -> str:
    """` (quantity 1,310)`, ` (quantity 8; 1 trialing, 1 past due)`: the statuses only when not all are active,
    the quantity unless every one of them is metered (they have none)."""
    parts = [] if quantity == 0 and impact_or_amounts.metered else [f"quantity {quantity:,}"]
    if isinstance(impact_or_amounts, SubscriberImpact):
        others = [f"{n:,} {status.replace('_', ' ')}" for status, n in impact_or_amounts.statuses if status != "active"]
        if others:
            parts.append(", ".join(others))
    return " (" + "; ".join(parts) + ")" if parts else ""


def monthly(amounts: Sequence[CurrencyAmounts], *, after: bool = False) -> str:
    """`$4,260.00 + €1,140.00 a month`, "" when nothing could be priced."""
    values = [(c.monthly_after if after else c.monthly, c.currency) for c in amounts]
    shown = [format_money(value, code) for value, code in values if value is not None]
    return " + ".join(shown) + " a month" if shown else ""


def _unpriced(impact: SubscriberImpact | CurrencyAmounts) -> str:
    """`; 2 metered (counted, not priced: no quantity until usage)` and the like; "" when all are priced."""
    parts = []
    if impact.metered:
        parts.append(f"{impact.metered:,} metered (counted, not priced: no quantity until usage)")
    other = impact.unpriced - impact.metered
    if other:
        parts.append(f"{other:,} not priced (no amount to compute, or their item was not in the list)")
    return "".join(f"; {p}" for p in parts)


def sentences(impact: SubscriberImpact) -> list[str]:
    """What the change means for the subscriptions on the price, one sentence per line (one per currency for
    a repricing in place)."""
    n = impact.subscriptions
    if impact.effect is Effect.NEW_AMOUNT:
        if not n:
            return ["no subscriptions bill in the repriced currencies: nobody's invoice changes"]
        return [_new_amount(c) for c in impact.currencies]
    if not n:
        return {
            Effect.STAY: ["no subscriptions bill on the old price"],
            Effect.STILL_BILLED: ["no subscriptions bill on this price"],
            Effect.DEFAULT_MOVED: [f"no subscriptions bill on the old default price {impact.price}"],
        }[impact.effect]
    amount = monthly(impact.currencies)
    money = f": {amount}" if amount else ""
    who = count(n, "subscription") + _details(impact.quantity, impact)
    if impact.effect is Effect.STAY:
        text = f"{who} {_verb(n, 'stay', 'stays')} on the old price{money}; new subscribers pay the new price"
    elif impact.effect is Effect.STILL_BILLED:
        text = f"{who} still {_verb(n, 'bill', 'bills')} on this price after it is archived{money}"
    else:
        text = f"{who} {_verb(n, 'stay', 'stays')} on the old default price {impact.price}{money}"
    return [text + _unpriced(impact)]


def _new_amount(amounts: CurrencyAmounts) -> str:
    n = amounts.subscriptions
    before, after = monthly([amounts]), monthly([amounts], after=True)
    money = f": {before.removesuffix(' a month')} → {after}" if before and after else ""
    head = f"{count(n, 'subscription')} in {amounts.currency}{_details(amounts.quantity, amounts)}"
    return f"{head} {_verb(n, 'pay', 'pays')} the new amount from their next invoice{money}" + _unpriced(amounts)


def read_lines(read: SubscriberRead) -> list[str]:
    """How the subscriber counts were made, for the end of the plan: the requests spent, what was left
    uncounted and why, and what the counts and amounts rest on."""
    if read.skipped:
        return [f"Subscribers: not counted ({NO_SUBSCRIBERS_FLAG})."]
    lists = count(read.prices_read, "affected price")
    lines = [f"Subscribers: read with {count(read.requests, 'request')} (one list per price) for {lists}."]
    if read.uncounted:
        more = len(read.uncounted) - MAX_UNCOUNTED_NAMED
        shown = ", ".join(read.uncounted[:MAX_UNCOUNTED_NAMED]) + (f" and {more:,} more" if more > 0 else "")
        lines.append(
            f"Subscribers NOT counted for {count(len(read.uncounted), 'more affected price')} (at most "
            f"{read.limit or 0:,} are read; {LIMIT_FLAG} N reads more): {shown}."
        )
    lines += [f"  {basis}" for basis in read.basis]
    return lines


#: a money table cell with nothing to show
NOTHING = "—"


@dataclass(frozen=True)
class Cells:
    """What the PR comment's money table says of the subscriptions on a price, or on one of its currencies:
    `3 (quantity 8)` and `$80.00` (a month), `2 (quantity 3)` and `€84.00 → €93.00` for a repricing in place."""

    subscriptions: str
    monthly: str


def _quantity(quantity: int, metered: int) -> str:
    """`1,310`, `2 metered`, `8 + 2 metered` (a metered item has no quantity)."""
    if not metered:
        return f"{quantity:,}"
    return f"{metered:,} metered" if not quantity else f"{quantity:,} + {metered:,} metered"


def money_cells(impact: SubscriberImpact) -> dict[str, Cells]:
    """The cells for a price's subscriptions: per repriced currency for a repricing in place (only they pay
    anything new), else the whole price's under ""."""
    if impact.effect is Effect.NEW_AMOUNT:
        cells = {}
        for c in impact.currencies:
            before, after = monthly([c]).removesuffix(" a month"), monthly([c], after=True).removesuffix(" a month")
            amount = f"{before} → {after}" if before and after else NOTHING
            cells[c.currency] = Cells(_how_many(c.subscriptions, c.quantity, c.metered), amount)
        return cells
    amount = monthly(impact.currencies).removesuffix(" a month") or NOTHING
    return {"": Cells(_how_many(impact.subscriptions, impact.quantity, impact.metered), amount)}


def _how_many(subscriptions: int, quantity: int, metered: int) -> str:
    """`3 (quantity 8)`, `2 (quantity 2 metered)`, `0`."""
    return f"{subscriptions:,} (quantity {_quantity(quantity, metered)})" if subscriptions else "0"


__all__ = [
    "LIMIT_FLAG",
    "NOTHING",
    "NO_SUBSCRIBERS_FLAG",
    "Cells",
    "count",
    "money_cells",
    "monthly",
    "read_lines",
    "sentences",
]
