"""Recurring and metered rules: the billing period, the meter of a metered price, trials, and the fields
that only a recurring price can have."""

from __future__ import annotations

from collections.abc import Iterator

from compiler.catalog.rules.reading import Recurring, every, has, is_int, recurring_of, show
from compiler.catalog.rules.registry import Basis, Cover, Finding, entry_rule
from compiler.catalog.schema.messages import RANGE, UNKNOWN_FIELD
from compiler.catalog.source import Entry
from compiler.stripe.facts import (
    BASIL_METERS_DOC,
    INFERRED,
    INTERVAL_ADJECTIVE,
    INTERVAL_COUNT,
    INTERVAL_TOO_LONG,
    INVALID_POSITIVE_INTEGER,
    PRICE_DOC,
    RECURRING_FIELDS,
    TRIAL_DAYS,
    TRIAL_TOO_LONG,
    VERIFIED,
)
from compiler.stripe.kinds import Kind

#: the intervals whose cap Stripe states (the day cap is inferred, so it is a rule of its own)
_VERIFIED_CAPS = ("year", "month", "week")


def _caps() -> str:
    """`3 years, 36 months or 156 weeks`"""
    caps = [f"{INTERVAL_COUNT[interval].value} {interval}s" for interval in _VERIFIED_CAPS]
    return ", ".join(caps[:-1]) + " or " + caps[-1]


@entry_rule(
    "interval-count-range",
    f"interval_count ≥ 1 and at most {_caps()}",
    Basis.of(INTERVAL_COUNT["year"]),
    when=("recurring", "interval_count"),
    covers=(Cover(RANGE, ("recurring", "interval_count")), Cover(RANGE, ("interval_count",))),
)
def interval_count_range(entry: Entry) -> Iterator[Finding]:
    recurring = recurring_of(entry)
    if recurring is None or recurring.data.get("interval_count") is None:
        return
    count, interval = recurring.data.get("interval_count"), recurring.data.get("interval")
    if not is_int(count) or count < 1:
        yield Finding(
            entry.where(*recurring.prefix, "interval_count"),
            f"interval_count of {entry.label()} is {show(count)}; it must be a whole number of at least 1",
            f'Stripe would answer: "{INVALID_POSITIVE_INTEGER}"',
        )
    elif interval in _VERIFIED_CAPS and count > INTERVAL_COUNT[interval].value:
        cap = INTERVAL_COUNT[interval].value
        yield Finding(
            entry.where(*recurring.prefix, "interval_count"),
            f"{entry.label()} bills {every(count, interval)}; Stripe allows at most {cap} ({_caps()})",
            f"use an interval_count of at most {cap}; Stripe would answer: "
            f'"{INTERVAL_TOO_LONG.format(adjective=INTERVAL_ADJECTIVE[interval], count=cap)}"',
        )


@entry_rule(
    "interval-days-too-long",
    f"a daily period of at most {INTERVAL_COUNT['day'].value} days (three years)",
    Basis.of(INTERVAL_COUNT["day"]),
    when=("recurring", "interval_count"),
)
def interval_days_too_long(entry: Entry) -> Iterator[Finding]:
    """Stripe caps a billing period at three years but names no day count: 1095 days is three years of 365
    days. A longer count may pass three years, and Stripe would refuse the price in the middle of an apply,
    so it is an error here, not a warning."""
    recurring = recurring_of(entry)
    if recurring is None or recurring.data.get("interval") != "day":
        return
    count = recurring.data.get("interval_count")
    cap = INTERVAL_COUNT["day"].value
    if is_int(count) and count > cap:
        yield Finding(
            entry.where(*recurring.prefix, "interval_count"),
            f"{entry.label()} bills every {count} days; Stripe allows a billing period of at most three years "
            f"({cap} days)",
            f'use interval: month or year for long periods; Stripe would answer: "'
            f'{INTERVAL_TOO_LONG.format(adjective=INTERVAL_ADJECTIVE["day"], count=cap)}"',
        )


@entry_rule(
    "metered-needs-meter",
    "usage_type: metered names a meter",
    Basis(BASIL_METERS_DOC, VERIFIED),
    when=("recurring", "usage_type"),
)
def metered_needs_meter(entry: Entry) -> Iterator[Finding]:
    recurring = recurring_of(entry)
    if recurring is not None and recurring.usage_type() == "metered" and not has(recurring.data, "meter"):
        yield Finding(
            entry.where(*recurring.prefix, "usage_type"),
            f"{entry.label()} is metered but names no meter",
            "define the meter under meters: and set meter: <its event_name>; since API 2025-03-31.basil "
            "Stripe refuses a metered price without a meter",
        )


@entry_rule(
    "meter-needs-metered",
    "a meter only with usage_type: metered",
    Basis(PRICE_DOC + "#create_price-recurring-meter", INFERRED),
    when=("recurring", "meter"),
)
def meter_needs_metered(entry: Entry) -> Iterator[Finding]:
    recurring = recurring_of(entry)
    if recurring is not None and has(recurring.data, "meter") and recurring.usage_type() != "metered":
        yield Finding(
            entry.where(*recurring.prefix, "meter", key=True),
            f"{entry.label()} names a meter but its usage_type is {recurring.usage_type()}",
            "add usage_type: metered (or remove meter for a licensed price billed by quantity)",
        )


@entry_rule(
    "one-time-with-recurring-fields",
    "a one-time price has no recurring fields",
    Basis(PRICE_DOC + "#create_price-recurring", VERIFIED),
    kinds=(Kind.PRICE,),
    covers=tuple(Cover(UNKNOWN_FIELD, (name,)) for name in RECURRING_FIELDS),
)
def one_time_with_recurring_fields(entry: Entry) -> Iterator[Finding]:
    if has(entry.data, "recurring"):
        return
    for key in RECURRING_FIELDS:
        if key in entry.data:
            yield Finding(
                entry.where(key, key=True),
                f"{entry.label()} has no recurring block, so it is a one-time price, yet it sets {key}",
                f"move {key} under recurring: (prices take recurring: {{interval: month, ...}}); a one-time "
                "price cannot go on a subscription",
            )


@entry_rule(
    "aggregate-usage-removed",
    "no aggregate_usage (removed in API 2025-03-31.basil)",
    Basis(BASIL_METERS_DOC, VERIFIED),
    when=("recurring", "aggregate_usage"),
    covers=(Cover(UNKNOWN_FIELD, ("recurring", "aggregate_usage")), Cover(UNKNOWN_FIELD, ("aggregate_usage",))),
)
def aggregate_usage_removed(entry: Entry) -> Iterator[Finding]:
    recurring = recurring_of(entry)
    places = [recurring] if recurring is not None else []
    if entry.kind is Kind.PRICE:  # a price may also have it where a plan does: at the top level
        places.append(Recurring((), entry.data))
    for place in places:
        if "aggregate_usage" not in place.data:
            continue
        yield Finding(
            entry.where(*place.prefix, "aggregate_usage", key=True),
            f"{entry.label()} sets aggregate_usage, which Stripe removed in API version 2025-03-31.basil",
            "remove it; aggregate usage with a meter instead (meters: default_aggregation: {formula: sum, "
            "count or last}) and name it with meter:",
        )


@entry_rule(
    "trial-too-long",
    f"trial_period_days at most {TRIAL_DAYS.value} (a plan's, or a price's under recurring)",
    Basis.of(TRIAL_DAYS),
    kinds=(Kind.PRICE, Kind.PLAN),
    when=("trial_period_days", "recurring"),
    covers=(Cover(RANGE, ("trial_period_days",)), Cover(RANGE, ("recurring", "trial_period_days"))),
)
def trial_too_long(entry: Entry) -> Iterator[Finding]:
    recurring = recurring_of(entry)
    days = recurring.data.get("trial_period_days") if recurring is not None else None
    if recurring is not None and is_int(days) and days > TRIAL_DAYS.value:
        yield Finding(
            entry.where(*recurring.prefix, "trial_period_days"),
            f"trial_period_days of {entry.label()} is {days}; Stripe allows at most {TRIAL_DAYS.value}",
            f'Stripe would answer: "{TRIAL_TOO_LONG}"',
        )
