"""Subscription rules: what pricebook can tell offline about prices that will go on one subscription."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence

from compiler.catalog.rules.reading import PRICED, every, is_int, recurring_of
from compiler.catalog.rules.registry import WARNING, Basis, Finding, catalog_rule
from compiler.catalog.source import Entry
from compiler.stripe.facts import SUBSCRIPTION_MISMATCH, VERIFIED
from compiler.stripe.kinds import Kind

_Period = tuple[str, str, int]


def _billing_period(entry: Entry) -> _Period | None:
    """(currency, interval, interval_count) of a recurring price or plan; None for one-time or malformed ones."""
    recurring = recurring_of(entry)
    if recurring is None:
        return None
    currency, interval = entry.data.get("currency"), recurring.data.get("interval")
    count = recurring.data.get("interval_count")
    count = 1 if count is None else count
    if isinstance(currency, str) and isinstance(interval, str) and is_int(count):
        return currency.lower(), interval, count
    return None


@catalog_rule(
    "uncombinable-recurring-price",
    "a metered price fits none of its product's licensed ones",
    Basis("https://docs.stripe.com/billing/subscriptions/multiple-products", VERIFIED),
    severity=WARNING,
)
def uncombinable_recurring_price(entries: Sequence[Entry]) -> Iterator[Finding]:
    """A product that has both licensed and metered recurring prices is sold as a base fee plus usage on one
    subscription, and Stripe requires the items of a subscription to share currency and interval. So a metered
    price whose (currency, interval, interval_count) matches none of its product's licensed prices could never
    be added next to them. Monthly and yearly licensed prices side by side are alternatives, not a
    combination, and a product with only metered (or only licensed) prices is not warned about.
    """
    licensed: dict[str, set[_Period]] = defaultdict(set)
    metered: list[tuple[Entry, _Period]] = []
    for entry in entries:
        period = _billing_period(entry) if entry.kind in PRICED else None
        recurring = recurring_of(entry)
        if period is None or recurring is None or entry.product is None:
            continue
        if recurring.usage_type() == "metered":
            metered.append((entry, period))
        else:
            licensed[entry.product].add(period)
    for entry, period in metered:
        product = entry.product or ""
        periods = licensed.get(product)
        if periods and period not in periods:
            currency, interval, count = period
            offered = ", ".join(sorted(f"{c} {every(n, i)}" for c, i, n in periods))
            yield Finding(
                entry.where("recurring", key=True) if entry.kind is Kind.PRICE else entry.where("interval"),
                f"{entry.label()} ({currency} {every(count, interval)}) cannot go on one subscription with any "
                f"licensed price of product {product!r} ({offered})",
                f'Stripe would answer: "{SUBSCRIPTION_MISMATCH}"; add a matching licensed price or change this '
                "one's currency or interval",
            )
