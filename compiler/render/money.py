"""What a change costs customers, one line per price and currency: the money table at the top of a PR comment.

Every created, replaced, repriced or archived price and plan gets an entry; each of its currencies whose amount
changes gets a line with the amount before and after at one telling quantity (the one whose amount changes the
most, in percent; for a new or archived price the smallest quantity above zero). The entries are grouped by what
the change means for customers (`MoneyEffect`), the kind, and the reason the diff gave, so a reason shared by 500
prices is said once.

It reads the ChangeSet only: the lines come from the price impact rows the impact pass computed, so the table and
`pricebook quote` never disagree. An archived price has no impact rows (its amounts do not change); its amount is
quoted here from its live terms, by the same calculator.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from compiler.changes.changeset import Action, Change, ChangeSet
from compiler.changes.impact import impact_of
from compiler.render.values import percent_text, visible
from compiler.stripe.kinds import Kind


class MoneyEffect(StrEnum):
    """What a price change means for customers, in the order the comment shows them (the riskiest first)."""

    REPRICED = "repriced"  # an update in place of currency options: existing subscriptions pay the new amount
    REPLACED = "replaced"  # a new price takes over: new subscriptions pay it, existing ones keep the old price
    ARCHIVED = "archived"  # no new subscriptions; existing ones keep billing on it
    CREATED = "created"


#: what each effect means for customers, as the comment says it after a group's heading
EFFECT_MEANING: Mapping[MoneyEffect, str] = {
    MoneyEffect.REPRICED: "Existing subscriptions pay the new amount from their next invoice",
    MoneyEffect.REPLACED: "New subscriptions pay the new price; existing subscriptions keep the old one",
    MoneyEffect.ARCHIVED: "No new subscriptions; existing subscriptions keep billing on it",
    MoneyEffect.CREATED: "Offered to new subscriptions",
}

_EFFECT_OF: Mapping[Action, MoneyEffect] = {
    Action.REPLACE: MoneyEffect.REPLACED,
    Action.ARCHIVE: MoneyEffect.ARCHIVED,
    Action.CREATE: MoneyEffect.CREATED,
}


@dataclass(frozen=True)
class MoneyLine:
    """One currency of a price at its telling quantity. `before` is None for a new price, `after` for an
    archived one; `percent` is the change (None when there is nothing to compare)."""

    currency: str
    quantity: int
    before: str | None
    after: str | None
    percent: float | None

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass(frozen=True)
class PriceMoney:
    """A price's (or plan's) lines, its own currency first, and its billing period before and after (`month`,
    `3 months`, "" for one-time). `other_currencies`: the currencies of a new price not given a line."""

    change: Change
    lines: tuple[MoneyLine, ...]
    period_before: str
    period_after: str
    other_currencies: tuple[str, ...] = ()


@dataclass(frozen=True)
class MoneyGroup:
    effect: MoneyEffect
    kind: Kind
    reason: str
    prices: tuple[PriceMoney, ...]


def effect_of(change: Change) -> MoneyEffect | None:
    """The money effect of a change of a price or plan, None for any other change (and for an update in place
    that reprices nothing: a nickname, metadata)."""
    if change.kind not in (Kind.PRICE, Kind.PLAN):
        return None
    if change.action in (Action.UPDATE, Action.ADOPT):  # an adoption updates in place what differs
        return MoneyEffect.REPRICED if change.impact else None
    return _EFFECT_OF.get(change.action)


def money_groups(changeset: ChangeSet) -> list[MoneyGroup]:
    """The money entries of every customer-visible price change, grouped by effect, kind and reason (in that
    order; prices in plan order inside a group)."""
    grouped: dict[tuple[MoneyEffect, Kind, str], list[PriceMoney]] = {}
    for change in visible(changeset.changes):
        effect = effect_of(change)
        if effect is not None:
            grouped.setdefault((effect, change.kind, change.reason), []).append(price_money(change, effect))
    order = list(MoneyEffect)
    keys = sorted(grouped, key=lambda k: (order.index(k[0]), k[1] is not Kind.PRICE))
    return [MoneyGroup(effect, kind, reason, tuple(grouped[(effect, kind, reason)])) for effect, kind, reason in keys]


def price_money(change: Change, effect: MoneyEffect) -> PriceMoney:
    period_before = billing_period(change.kind, change.before)
    period_after = billing_period(change.kind, change.after)
    if effect is MoneyEffect.ARCHIVED:
        rows = _current_amounts(change)
        if not rows:
            return PriceMoney(change, (), period_before, period_after)
        now = _line(rows, created=True)  # its amount as if it were new: `after` holds it
        return PriceMoney(change, (MoneyLine(now.currency, now.quantity, now.after, None, None),), period_before, "")
    by_currency = _by_currency(change.impact)
    if effect is MoneyEffect.CREATED:
        if not by_currency:
            return PriceMoney(change, (), period_before, period_after)
        own, *others = by_currency
        return PriceMoney(change, (_line(own, created=True),), period_before, period_after,
                          tuple(str(rows[0].get("currency")) for rows in others))
    lines = [_line(rows, created=False) for rows in by_currency]
    kept = lines[:1] + [line for line in lines[1:] if line.changed]  # the own currency, and options that change
    return PriceMoney(change, tuple(kept), period_before, period_after)


def _current_amounts(change: Change) -> list[Mapping[str, Any]]:
    """The archived object's amounts today, in its own currency (what its impact would be as a new price)."""
    if change.before is None:
        return []
    rows = impact_of(change.kind, None, change.before).rows
    own = str(rows[0].get("currency")) if rows else ""
    return [r for r in rows if r.get("currency") == own]


def _by_currency(impact: Sequence[Mapping[str, Any]]) -> list[list[Mapping[str, Any]]]:
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for row in impact:
        groups.setdefault(str(row.get("currency") or ""), []).append(row)
    return list(groups.values())


def _line(rows: Sequence[Mapping[str, Any]], *, created: bool) -> MoneyLine:
    """The telling row of one currency: the largest change in percent (the smallest quantity above zero among
    equals); for a new price, or when nothing compares, the smallest quantity above zero with an amount above
    zero (a metered price per 1,000 emails costs $0.00 for one)."""
    priced = [r for r in rows if int(r.get("quantity") or 0) > 0] or list(rows)
    compared = [r for r in priced if isinstance(r.get("change_percent"), int | float)]
    if created or not compared:
        row = next((r for r in priced if _above_zero(r.get("after") or r.get("before"))), priced[0])
    else:
        row = max(compared, key=lambda r: abs(float(r["change_percent"])))  # max keeps the first of equals
    return MoneyLine(
        str(row.get("currency") or ""),
        int(row.get("quantity") or 0),
        row.get("before"),
        row.get("after"),
        row.get("change_percent") if isinstance(row.get("change_percent"), int | float) else None,
    )


def _above_zero(amount: Any) -> bool:
    """Whether a formatted amount (`$0.00`, `¥0`, `0.00 HUF`, `$0.0005`) is above zero: a digit other than 0."""
    return any(ch in "123456789" for ch in str(amount or ""))


def billing_period(kind: Kind, attrs: Mapping[str, Any] | None) -> str:
    """`month`, `3 months`, "" for a one-time price (or when unknown)."""
    if attrs is None:
        return ""
    source = attrs.get("recurring") if kind is Kind.PRICE else attrs
    if not isinstance(source, Mapping) or not source.get("interval"):
        return ""
    count = int(source.get("interval_count") or 1)
    interval = str(source["interval"])
    return interval if count == 1 else f"{count} {interval}s"


def amount_text(amount: str | None, period: str) -> str:
    """`$10.00/month`, `$10.00` for a one-time price, "" for no amount."""
    if amount is None:
        return ""
    return f"{amount}/{period}" if period else amount


def change_text(line: MoneyLine) -> str:
    """`+20%`; "" when nothing compares (a new or archived price, a change of currency, from zero)."""
    return percent_text(line.percent)


def percent_range(group: MoneyGroup) -> tuple[float, float] | None:
    """The smallest and largest change in percent among the group's lines, None when none has one."""
    values = [line.percent for price in group.prices for line in price.lines if line.percent is not None]
    return (min(values), max(values)) if values else None


__all__ = [
    "EFFECT_MEANING",
    "MoneyEffect",
    "MoneyGroup",
    "MoneyLine",
    "PriceMoney",
    "amount_text",
    "billing_period",
    "change_text",
    "effect_of",
    "money_groups",
    "percent_range",
]
