"""Who pays: how many subscriptions bill on each price a plan reaches, at what quantity, for how much a month.

A pass after the diff (`with_subscribers`), like the price impact: `affected_prices` finds the live prices the
ChangeSet reaches (replaced, archived, repriced in place, or a default price the product moves off), at most a
limit of them are read (one subscription list each, `stripe.subscriptions`), and each is summed up per currency
(`summarize`): each subscription's item priced with the quote calculator (`compiler.stripe.pricing`, the same
one `pricebook quote` and the price impact use) at the item's quantity. The money warnings follow from that.

- Amounts are per currency and never added across currencies: a subscription bills in its own currency, the
  price's own or one of its currency options.
- Amounts are list prices normalised to a month (`MONTHLY_BASIS`), before discounts, tax and proration, trials
  included (a trialing subscription pays them once its trial ends).
- A metered item is counted but not priced: it has no quantity until usage is reported. So is an item whose
  amount cannot be computed (a customer-chosen amount) or whose quantity the list did not show.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

from compiler.changes.changeset import (
    Action,
    ChangeSet,
    CurrencyAmounts,
    Effect,
    MoneyWarning,
    SubscriberImpact,
    SubscriberRead,
)
from compiler.changes.diff import repriced_currencies
from compiler.changes.model import Catalog
from compiler.errors import PricebookError
from compiler.stripe.calls import CallAction
from compiler.stripe.facts import BILLING_STATUSES
from compiler.stripe.kinds import Kind
from compiler.stripe.money import format_money
from compiler.stripe.pricing import PriceTerms, impact_quantities, quote
from compiler.stripe.state import AccountState, LiveObject
from compiler.stripe.subscriptions import Line, Pager, Target, read_subscribers

#: how a billing period becomes a month, said wherever a monthly amount is shown
MONTHLY_BASIS = "a year ÷ 12, a week × 52 ÷ 12, a day × 365 ÷ 12"
#: periods of each interval in a year
_PER_YEAR: Mapping[str, int] = {"day": 365, "week": 52, "month": 12, "year": 1}


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
    statuses = tuple((s.value, n) for s in BILLING_STATUSES if (n := sum(1 for line in counted if line.status == s)))
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
    priced = unpriced = metered = quantity = raised = 0
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
        raised += then is not None and then > now
    return CurrencyAmounts(
        currency=currency,
        subscriptions=len(lines),
        quantity=quantity,
        monthly=_rounded(now_total) if priced else None,
        monthly_after=_rounded(after_total) if priced and after is not None else None,
        metered=metered,
        unpriced=unpriced,
        raised=raised,
    )


# ---------------------------------------------------------------------------------------------------------
# which prices a ChangeSet affects


#: the order prices are read in when more are affected than the limit allows: who pays more first
EFFECT_ORDER: tuple[Effect, ...] = (Effect.NEW_AMOUNT, Effect.STILL_BILLED, Effect.STAY, Effect.DEFAULT_MOVED)
#: at most this many prices are read by default (`plan --max-subscriber-prices`)
DEFAULT_LIMIT = 100


@dataclass(frozen=True)
class Affected:
    """A live price whose subscribers a change reaches: read `target`, report on the change at `address`.

    `before` are the live price's attrs, `after` the catalog's (for `NEW_AMOUNT`, with the repriced
    `currencies`)."""

    address: str
    target: Target
    effect: Effect
    before: Mapping[str, Any]
    after: Mapping[str, Any] | None = None
    currencies: tuple[str, ...] | None = None


def affected_prices(changeset: ChangeSet, state: AccountState) -> list[Affected]:
    """The live prices and plans whose subscribers the ChangeSet reaches, in `EFFECT_ORDER`, then by address:

    - a replaced price (they stay on the old one) and an archived price or plan (they go on billing on it);
    - a price whose currency options are repriced in place (they pay the new amounts from the next invoice);
    - a product's current default price when the default moves off it (they stay on the old default)."""
    found: dict[str, Affected] = {}
    for change in changeset.changes:
        if change.kind not in (Kind.PRICE, Kind.PLAN) or change.live_id is None or change.before is None:
            continue
        target = Target(change.kind, change.live_id)
        if change.action is Action.REPLACE:
            found[target.id] = Affected(change.address, target, Effect.STAY, change.before, change.after)
        elif change.action is Action.ARCHIVE:
            found[target.id] = Affected(change.address, target, Effect.STILL_BILLED, change.before)
        elif change.action in (Action.UPDATE, Action.ADOPT) and change.after is not None:
            repriced = repriced_amounts(change.kind, change.before, change.after)
            if repriced:
                found[target.id] = Affected(
                    change.address, target, Effect.NEW_AMOUNT, change.before, change.after, repriced
                )
    for product, old in _default_moves(changeset, state):
        if old.id not in found:
            found[old.id] = Affected(f"product.{product}", Target(old.kind, old.id), Effect.DEFAULT_MOVED, old.attrs)
    return sorted(found.values(), key=lambda a: (EFFECT_ORDER.index(a.effect), a.address, a.target.id))


def _default_moves(changeset: ChangeSet, state: AccountState) -> list[tuple[str, LiveObject]]:
    """(product's catalog id, its current default price) for each product whose default price the ChangeSet moves
    (an adopted product's catalog id is not its Stripe id)."""
    moving = {call.address.partition(".")[2] for call in changeset.calls if call.action is CallAction.SET_DEFAULT_PRICE}
    if not moving:
        return []
    prices = {o.id: o for o in state.objects if o.kind in (Kind.PRICE, Kind.PLAN)}
    by_key = {o.key: o for o in prices.values() if o.kind is Kind.PRICE and o.key}
    out = []
    for product in state.of_kind(Kind.PRODUCT):
        current = product.attrs.get("default_price")  # the price's lookup_key, or its id when it has none
        if product.key not in moving or not isinstance(current, str):
            continue
        old = by_key.get(current) or prices.get(current)
        if old is not None:
            out.append((product.key, old))
    return out


def repriced_amounts(kind: Kind, before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[str, ...]:
    """The repriced currency options of an update in place (`diff.repriced_currencies`) whose amounts change, not
    only their tax behavior: the currencies whose subscribers pay something else from their next invoice."""
    if kind is not Kind.PRICE:
        return ()
    return tuple(
        code for code in repriced_currencies(before, after) if _terms(kind, before, code) != _terms(kind, after, code)
    )


def _terms(kind: Kind, attrs: Mapping[str, Any], currency: str) -> PriceTerms | None:
    try:
        return PriceTerms.from_attrs(kind, attrs, currency)
    except (PricebookError, ValueError):
        return None


def raises_an_amount(kind: Kind, before: Mapping[str, Any], after: Mapping[str, Any], currency: str) -> bool:
    """Whether `after` charges more than `before` in `currency` at any telling quantity (tier bounds,
    transform steps): a subscriber somewhere pays more, whoever the subscribers turn out to be."""
    old, new = _terms(kind, before, currency), _terms(kind, after, currency)
    if old is None or new is None:
        return False
    try:
        return any(quote(new, q).amount > quote(old, q).amount for q in impact_quantities([old, new]))
    except (PricebookError, ValueError):
        return False


def within_limit(affected: Sequence[Affected], limit: int | None) -> tuple[list[Affected], list[Affected]]:
    """The prices to read and the ones left uncounted: the first `limit` in `EFFECT_ORDER` (None: all)."""
    if limit is None or len(affected) <= limit:
        return list(affected), []
    return list(affected[:limit]), list(affected[limit:])


# ---------------------------------------------------------------------------------------------------------
# warnings that matter to money

#: where Stripe says how to move subscriptions to another price
CHANGE_PRICE_DOCS = "https://docs.stripe.com/billing/subscriptions/change-price"


@dataclass(frozen=True)
class MoneyWarningRule:
    id: str  # stable: `MoneyWarning.rule`, in every view of the plan and in its JSON
    means: str  # what was found, in general terms
    way_out: str  # what the user can do about it (each warning's hint)


PAY_MORE = MoneyWarningRule(
    "existing-subscribers-pay-more",
    "a price updated in place (a currency option's amounts) charges existing subscriptions more from their next "
    "invoice; without a count (`--no-subscribers`, or past the limit) it is said from the amounts alone",
    "an update in place reaches every existing subscription: to keep them on what they pay, change the price so "
    "that it is replaced instead (a new price for new subscribers), or tell them before you apply",
)
NO_REPLACEMENT = MoneyWarningRule(
    "subscribers-without-replacement",
    "subscriptions go on billing on a price that is archived or replaced, and no price in the catalog bills the "
    "same product over the same period in their currency for them to move to",
    "keep a price they can move to in the catalog (same product, period and currency) and move them "
    f"({CHANGE_PRICE_DOCS}), or leave them on the old price knowingly",
)
DEFAULT_MOVED = MoneyWarningRule(
    "default-price-moves-with-subscribers",
    "a product's default price moves to another price while subscriptions bill on the old one",
    "checkouts and links that use the product's default price sell the new one; existing subscriptions keep the "
    f"old price until you move them ({CHANGE_PRICE_DOCS})",
)
#: every warning about money a plan can give, in the order the reference lists them
MONEY_WARNING_RULES: tuple[MoneyWarningRule, ...] = (PAY_MORE, NO_REPLACEMENT, DEFAULT_MOVED)


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _every(period: tuple[str, int] | None) -> str:
    if period is None:
        return "once"
    interval, count = period
    return f"every {interval}" if count == 1 else f"every {count} {interval}s"


def _pays_more(amounts: CurrencyAmounts) -> str:
    """`38 subscriptions in eur pay more from their next invoice: €1,140.00 → €1,368.00 a month`."""
    n, code = amounts.subscriptions, amounts.currency
    who = (
        _plural(n, "subscription") if amounts.raised == n else f"{amounts.raised:,} of the {_plural(n, 'subscription')}"
    )
    text = f"{who} in {code} pay{'s' if amounts.raised == 1 else ''} more from their next invoice"
    if amounts.monthly is not None and amounts.monthly_after is not None:
        total = f"{format_money(amounts.monthly, code)} → {format_money(amounts.monthly_after, code)} a month"
        text += f": {total}" if amounts.raised == n else f" (all {n:,}: {total})"
    return text


def pay_more_warnings(
    changeset: ChangeSet, impacts: Mapping[str, SubscriberImpact], *, counted: bool
) -> list[MoneyWarning]:
    """A warning for every in-place repricing that raises what existing subscribers pay: with the count and
    the monthly amounts when their subscribers were read (`impacts`, by address), from the amounts alone when
    they were not (`counted` False, or the price was left uncounted). None when nobody is on the price."""
    out = []
    for change in changeset.changes:
        if change.action not in (Action.UPDATE, Action.ADOPT) or change.before is None or change.after is None:
            continue
        raised = [
            c
            for c in repriced_amounts(change.kind, change.before, change.after)
            if raises_an_amount(change.kind, change.before, change.after, c)
        ]
        if not raised:
            continue
        impact = impacts.get(change.address)
        if impact is not None:
            paying = [_pays_more(c) for c in impact.currencies if c.raised]
            if paying:
                message = f"its amounts change in place: {'; '.join(paying)}"
                out.append(MoneyWarning(change.address, PAY_MORE.id, message, PAY_MORE.way_out))
            continue
        why = "subscribers not counted: --no-subscribers" if not counted else "subscribers not counted"
        currencies = ", ".join(raised)
        message = (
            f"its {currencies} amounts change in place: existing subscriptions billed in {currencies} pay more "
            f"from their next invoice ({why})"
        )
        out.append(MoneyWarning(change.address, PAY_MORE.id, message, PAY_MORE.way_out))
    return out


def has_replacement(catalog: Catalog, kind: Kind, before: Mapping[str, Any], currencies: Iterable[str]) -> bool:
    """Whether the catalog offers a price (or plan) the subscribers of `before` could be moved to: on the same
    product, billed over the same period, in every currency they pay in."""
    product, period = before.get("product"), period_of(kind, before)
    wanted = set(currencies)
    for resource in catalog:
        if resource.kind not in (Kind.PRICE, Kind.PLAN) or resource.attrs.get("product") != product:
            continue
        if resource.attrs.get("active") is False or period_of(resource.kind, resource.attrs) != period:
            continue
        offered = {str(resource.attrs.get("currency") or "").lower()}
        options = resource.attrs.get("currency_options")
        offered |= set(options) if isinstance(options, Mapping) else set()
        if wanted <= offered:
            return True
    return False


def left_behind_warnings(
    affected: Sequence[Affected], impacts: Mapping[str, SubscriberImpact], catalog: Catalog
) -> list[MoneyWarning]:
    """Warnings for subscribers the change leaves where they are with nowhere to go: on an archived or replaced
    price when no catalog price could take them, and on a default price the product moves off."""
    out = []
    for entry in affected:
        impact = impacts.get(entry.address)
        if impact is None or impact.subscriptions == 0:
            continue
        kind = entry.target.kind
        currencies = [c.currency for c in impact.currencies]
        who = _plural(impact.subscriptions, "subscription")
        if entry.effect is Effect.DEFAULT_MOVED:
            stay = "stays" if impact.subscriptions == 1 else "stay"
            message = f"its default price moves off {entry.target.id}, while {who} {stay} on it"
            out.append(MoneyWarning(entry.address, DEFAULT_MOVED.id, message, DEFAULT_MOVED.way_out))
            continue
        if entry.effect not in (Effect.STAY, Effect.STILL_BILLED):
            continue
        if has_replacement(catalog, kind, entry.before, currencies):
            continue
        where = "after it is archived" if entry.effect is Effect.STILL_BILLED else "after it is replaced"
        bill = "bills" if impact.subscriptions == 1 else "bill"
        message = (
            f"{who} still {bill} on {entry.target.id} {where}, and no price in the catalog bills product "
            f"{entry.before.get('product')} {_every(period_of(kind, entry.before))} in {', '.join(currencies)} "
            "for them to move to"
        )
        out.append(MoneyWarning(entry.address, NO_REPLACEMENT.id, message, NO_REPLACEMENT.way_out))
    return out


# ---------------------------------------------------------------------------------------------------------
# the whole pass


#: what every subscriber count and amount rests on, said once in the plan
BASIS = (
    "counted: subscriptions that bill (active, trialing, past_due)",
    f"a month: list prices at each item's quantity, before discounts, tax and proration ({MONTHLY_BASIS}); "
    "metered items are counted, not priced (no quantity until usage is reported)",
)
TEST_CLOCK_BASIS = "test mode: Stripe does not list subscriptions on test clocks here, so they are not counted"


@dataclass(frozen=True)
class SubscriberReport:
    """The subscriber impact of a ChangeSet: each affected change's `SubscriberImpact` (by address), how it was
    read, and the warnings about money."""

    impacts: Mapping[str, SubscriberImpact]
    read: SubscriberRead
    warnings: tuple[MoneyWarning, ...] = ()


def subscriber_report(
    changeset: ChangeSet,
    catalog: Catalog,
    state: AccountState,
    pager: Pager | None,
    *,
    limit: int | None = DEFAULT_LIMIT,
) -> SubscriberReport:
    """Read who is on each price the ChangeSet affects (`affected_prices`, at most `limit` of them: one list
    each) and say what the change means for them. `pager` None (`--no-subscribers`) reads nothing; the warnings
    that need no count (existing subscribers paying more) are still given."""
    if pager is None:
        read = SubscriberRead(skipped=True)
        return SubscriberReport({}, read, tuple(pay_more_warnings(changeset, {}, counted=False)))
    chosen, left = within_limit(affected_prices(changeset, state), limit)
    results = read_subscribers(pager, [entry.target for entry in chosen])
    impacts = {
        entry.address: summarize(
            entry.effect,
            entry.target.kind,
            entry.target.id,
            found.lines,
            entry.before,
            entry.after,
            currencies=entry.currencies,
        )
        for entry, found in zip(chosen, results, strict=True)
    }
    read = SubscriberRead(
        requests=sum(found.requests for found in results),
        prices_read=len(chosen),
        limit=limit,
        uncounted=tuple(entry.address for entry in left),
        basis=BASIS if state.livemode else (*BASIS, TEST_CLOCK_BASIS),
    )
    warnings = pay_more_warnings(changeset, impacts, counted=True) + left_behind_warnings(chosen, impacts, catalog)
    return SubscriberReport(impacts, read, tuple(warnings))


@dataclass(frozen=True)
class SubscriberOptions:
    """What `plan` reads of who pays: nothing with `read` False (`--no-subscribers`), else at most `limit`
    affected prices (`--max-subscriber-prices`; None: all)."""

    read: bool = True
    limit: int | None = DEFAULT_LIMIT


def with_subscribers(
    changeset: ChangeSet, catalog: Catalog, state: AccountState, pager: Pager, options: SubscriberOptions
) -> ChangeSet:
    """`changeset` with who pays: each affected change's subscriber impact, how they were read, and the money
    warnings (see `subscriber_report`)."""
    report = subscriber_report(changeset, catalog, state, pager if options.read else None, limit=options.limit)
    impacts = report.impacts
    changes = tuple(
        dataclasses.replace(change, subscribers=impacts[change.address])
        if impacts and change.address in impacts
        else change
        for change in changeset.changes
    )
    return dataclasses.replace(changeset, changes=changes, subscribers=report.read, money_warnings=report.warnings)


__all__ = [
    "BASIS",
    "DEFAULT_LIMIT",
    "EFFECT_ORDER",
    "MONEY_WARNING_RULES",
    "MONTHLY_BASIS",
    "Affected",
    "MoneyWarningRule",
    "SubscriberOptions",
    "SubscriberReport",
    "affected_prices",
    "monthly_amount",
    "period_of",
    "raises_an_amount",
    "repriced_amounts",
    "subscriber_report",
    "summarize",
    "to_monthly",
    "with_subscribers",
    "within_limit",
]
