"""Subscriber impact: how many subscriptions bill on an affected price, at what quantity, for how much a month.

Pure: it takes the billing subscriptions `stripe.subscriptions` read (`Line`s) and the price's canonical attrs
before and after the change, and prices each subscription's item with the quote calculator
(`compiler.stripe.pricing`, the same one `pricebook quote` and the price impact use) at the item's quantity.

- Amounts are per currency and never added across currencies: a subscription bills in its own currency, the
  price's own or one of its currency options.
- Amounts are list prices normalised to a month (`MONTHLY_BASIS`), before discounts, tax and proration, trials
  included (a trialing subscription pays them once its trial ends).
- A metered item is counted but not priced: it has no quantity until usage is reported. So is an item whose
  amount cannot be computed (a customer-chosen amount) or whose quantity the list did not show.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, localcontext
from enum import StrEnum
from typing import Any

from compiler.errors import PricebookError
from compiler.stripe.kinds import Kind
from compiler.stripe.pricing import PriceTerms, quote
from compiler.stripe.subscriptions import BILLING_STATUSES, Line

#: how a billing period becomes a month, said wherever a monthly amount is shown
MONTHLY_BASIS = "a month is a twelfth of a year: yearly amounts ÷ 12, weekly × 52 ÷ 12, daily × 365 ÷ 12"
#: periods of each interval in a year
_PER_YEAR: Mapping[str, int] = {"day": 365, "week": 52, "month": 12, "year": 1}


class Effect(StrEnum):
    """What a change means for the subscriptions on the price it touches."""

    STAY = "stay"  # replace: they stay on the old price; new subscribers get the new one
    STILL_BILLED = "still-billed"  # archive: they go on billing on the archived price
    NEW_AMOUNT = "new-amount"  # a currency option repriced in place: they pay the new amount from the next invoice
    DEFAULT_MOVED = "default-moved"  # the product's default price moves off the price they are on


@dataclass(frozen=True)
class CurrencyAmounts:
    """The subscriptions billing in one currency: how many, their total quantity, and what they pay a month
    (minor units; `monthly_after` only when the change reaches them). `unpriced` of them are counted but not in
    the amounts, `metered` of those because they bill usage."""

    currency: str
    subscriptions: int
    quantity: int
    monthly: int | None
    monthly_after: int | None = None
    metered: int = 0
    unpriced: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "subscriptions": self.subscriptions,
            "quantity": self.quantity,
            "monthly": self.monthly,
            "monthly_after": self.monthly_after,
            "metered": self.metered,
            "unpriced": self.unpriced,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CurrencyAmounts:
        return cls(
            str(data["currency"]),
            int(data["subscriptions"]),
            int(data["quantity"]),
            _int_or_none(data.get("monthly")),
            _int_or_none(data.get("monthly_after")),
            int(data.get("metered") or 0),
            int(data.get("unpriced") or 0),
        )


@dataclass(frozen=True)
class SubscriberImpact:
    """The billing subscriptions on one live price (`price`, its Stripe id) and what the change means for them.

    For `NEW_AMOUNT`, only the subscriptions in the repriced currencies are counted: the others pay what they
    paid. `statuses` counts them by billing status (only the statuses that occur, in `BILLING_STATUSES` order)."""

    price: str
    effect: Effect
    subscriptions: int
    quantity: int
    currencies: tuple[CurrencyAmounts, ...] = ()
    statuses: tuple[tuple[str, int], ...] = ()
    metered: int = 0
    unpriced: int = 0

    @property
    def pays_more(self) -> bool:
        """Whether the change raises what any of these subscriptions pays a month."""
        return any(
            c.monthly is not None and c.monthly_after is not None and c.monthly_after > c.monthly
            for c in self.currencies
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "price": self.price,
            "effect": self.effect.value,
            "subscriptions": self.subscriptions,
            "quantity": self.quantity,
            "metered": self.metered,
            "unpriced": self.unpriced,
            "statuses": dict(self.statuses),
            "currencies": [c.to_json() for c in self.currencies],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SubscriberImpact:
        statuses = data.get("statuses") or {}
        return cls(
            str(data["price"]),
            Effect(data["effect"]),
            int(data["subscriptions"]),
            int(data["quantity"]),
            tuple(CurrencyAmounts.from_json(c) for c in data.get("currencies") or ()),
            tuple((str(s), int(n)) for s, n in statuses.items()),
            int(data.get("metered") or 0),
            int(data.get("unpriced") or 0),
        )


@dataclass(frozen=True)
class SubscriberRead:
    """How the subscriber impact was read: `requests` spent, the prices read, and the ones left uncounted
    (their addresses) because more prices were affected than `limit` allows. `skipped` when the user said
    `--no-subscribers`."""

    requests: int = 0
    prices_read: int = 0
    limit: int | None = None
    uncounted: tuple[str, ...] = ()
    skipped: bool = False
    basis: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "skipped": self.skipped,
            "requests": self.requests,
            "prices_read": self.prices_read,
            "limit": self.limit,
            "uncounted": list(self.uncounted),
            "basis": list(self.basis),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SubscriberRead:
        return cls(
            int(data.get("requests") or 0),
            int(data.get("prices_read") or 0),
            _int_or_none(data.get("limit")),
            tuple(str(a) for a in data.get("uncounted") or ()),
            bool(data.get("skipped")),
            tuple(str(b) for b in data.get("basis") or ()),
        )


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


# ---------------------------------------------------------------------------------------------------------
# the computation


def to_monthly(amount: Decimal | int, interval: str, count: int) -> Decimal:
    """One billing period's `amount` as a month's (`MONTHLY_BASIS`), multiplied before it is divided so that
    whole months stay exact."""
    with localcontext(prec=50):  # a third of a cent to 50 digits: far past anything that rounds differently
        return Decimal(amount) * _PER_YEAR[interval] / (12 * count)


def period_of(kind: Kind, attrs: Mapping[str, Any]) -> tuple[str, int] | None:
    """(interval, interval_count) of a recurring price or plan in canonical attrs; None for a one-time price."""
    if kind is Kind.PLAN:
        interval, count = attrs.get("interval"), attrs.get("interval_count")
    else:
        recurring = attrs.get("recurring")
        if not isinstance(recurring, Mapping):
            return None
        interval, count = recurring.get("interval"), recurring.get("interval_count")
    if interval not in _PER_YEAR:
        return None
    return str(interval), int(count or 1)


def monthly_amount(kind: Kind, attrs: Mapping[str, Any], currency: str, quantity: int) -> Decimal | None:
    """What one subscription item at `quantity` pays a month in `currency` (exact, minor units), None when the
    price has no amount to compute there (a customer-chosen amount, no amount in that currency, one-time)."""
    period = period_of(kind, attrs)
    if period is None:
        return None
    try:
        per_period = quote(PriceTerms.from_attrs(kind, attrs, currency), quantity).amount
    except (PricebookError, ValueError):
        return None
    return to_monthly(per_period, *period)


def _rounded(total: Decimal) -> int:
    return int(total.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def summarize(
    effect: Effect,
    kind: Kind,
    price_id: str,
    lines: Sequence[Line],
    before: Mapping[str, Any],
    after: Mapping[str, Any] | None = None,
    *,
    currencies: Iterable[str] | None = None,
) -> SubscriberImpact:
    """The subscriber impact of one price from the billing subscriptions on it.

    `before` are the live price's attrs (what they pay now); `after` the catalog's, given for `NEW_AMOUNT`,
    where `currencies` names the repriced currencies and only the subscriptions billing in them count."""
    wanted = None if currencies is None else {c.lower() for c in currencies}
    counted = [line for line in lines if wanted is None or line.currency in wanted]
    by_currency: dict[str, list[Line]] = {}
    for line in counted:
        by_currency.setdefault(line.currency, []).append(line)
    totals = tuple(
        _currency_amounts(kind, code, group, before, after if effect is Effect.NEW_AMOUNT else None)
        for code, group in sorted(by_currency.items())
    )
    statuses = tuple((s, n) for s in BILLING_STATUSES if (n := sum(1 for line in counted if line.status == s)))
    return SubscriberImpact(
        price=price_id,
        effect=effect,
        subscriptions=len(counted),
        quantity=sum(c.quantity for c in totals),
        currencies=totals,
        statuses=statuses,
        metered=sum(c.metered for c in totals),
        unpriced=sum(c.unpriced for c in totals),
    )


def _currency_amounts(
    kind: Kind, currency: str, lines: Sequence[Line], before: Mapping[str, Any], after: Mapping[str, Any] | None
) -> CurrencyAmounts:
    now_total, after_total = Decimal(0), Decimal(0)
    priced = unpriced = metered = quantity = 0
    for line in lines:
        if line.quantity is None:
            unpriced += 1
            metered += line.metered
            continue
        quantity += line.quantity
        now = monthly_amount(kind, before, currency, line.quantity)
        then = monthly_amount(kind, after, currency, line.quantity) if after is not None else None
        if now is None or (after is not None and then is None):
            unpriced += 1
            continue
        priced += 1
        now_total += now
        after_total += then or Decimal(0)
    return CurrencyAmounts(
        currency=currency,
        subscriptions=len(lines),
        quantity=quantity,
        monthly=_rounded(now_total) if priced else None,
        monthly_after=_rounded(after_total) if priced and after is not None else None,
        metered=metered,
        unpriced=unpriced,
    )


__all__ = [
    "MONTHLY_BASIS",
    "CurrencyAmounts",
    "Effect",
    "SubscriberImpact",
    "SubscriberRead",
    "monthly_amount",
    "period_of",
    "summarize",
    "to_monthly",
]
