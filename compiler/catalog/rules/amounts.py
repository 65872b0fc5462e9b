"""Amount rules: which amount fields a price or plan sets, and the form and size of each amount."""

from __future__ import annotations

from collections.abc import Iterator

from compiler.catalog.rules.reading import (
    TIERED,
    Parsed,
    amount_keys,
    as_list,
    decimal_amount,
    field_name,
    has,
    is_int,
    scheme,
    show,
)
from compiler.catalog.rules.registry import WARNING, Basis, Cover, Finding, entry_rule, parsed_rule
from compiler.catalog.schema.messages import PATTERN
from compiler.catalog.source import Entry
from compiler.stripe.facts import (
    DECIMAL_FIELDS,
    DECIMAL_PLACES,
    MAX_AMOUNT,
    MISSING_PARAM,
    ONE_OF_PARAMS,
    PRICE_DOC,
    VERIFIED,
)
from compiler.stripe.kinds import Kind


@entry_rule(
    "amount-required",
    "a per_unit price or plan has an amount",
    Basis(PRICE_DOC + "#create_price-unit_amount", VERIFIED),
)
def amount_required(entry: Entry) -> Iterator[Finding]:
    if scheme(entry.data) != "per_unit" or as_list(entry.data.get("tiers")):
        return  # tiers without billing_scheme: tiered is `tiers-need-tiered-scheme`'s to explain
    int_key, dec_key = amount_keys(entry)
    keys = [int_key, dec_key] + (["custom_unit_amount"] if entry.kind is Kind.PRICE else [])
    if not any(has(entry.data, key) for key in keys):
        yield Finding(
            entry.where(),
            f"{entry.label()} has no amount: a per_unit {entry.kind.value} needs one of {', '.join(keys)}",
            f"add {int_key} in minor units (0 for free), or make it tiered; Stripe would answer: "
            f'"{MISSING_PARAM.format(param=int_key)}"',
        )


@parsed_rule(
    "amount-conflict",
    "at most one of the amount fields",
    Basis(PRICE_DOC + "#create_price-unit_amount_decimal", VERIFIED),
)
def amount_conflict(entry: Entry, parsed: Parsed) -> Iterator[Finding]:
    for site in parsed.sites:
        keys = [*site.amount_keys] + (["custom_unit_amount"] if entry.kind is Kind.PRICE else [])
        present = [key for key in keys if has(site.data, key)]
        if len(present) > 1:
            where = f"currency option {site.currency!r} of {entry.label()}" if site.is_option else entry.label()
            yield Finding(
                entry.where(*site.path, present[1], key=True),
                f"{where} sets both {present[0]} and {present[1]}",
                f'keep only one of them; Stripe would answer: "{ONE_OF_PARAMS.format(params=", ".join(present))}"',
            )


@parsed_rule(
    "decimal-format",
    f"decimal amounts are non-negative with at most {DECIMAL_PLACES.value} decimal places",
    Basis.of(DECIMAL_PLACES),
    covers=tuple(Cover(PATTERN, ("**", name)) for name in sorted(DECIMAL_FIELDS)),
)
def decimal_format(entry: Entry, parsed: Parsed) -> Iterator[Finding]:
    for money in parsed.money:
        if not money.is_decimal:
            continue
        value = decimal_amount(money.value)
        field = field_name(money.path)
        if value is None:
            yield Finding(
                entry.where(*money.path),
                f"{field} of {entry.label()} is {show(money.value)}, not a non-negative decimal amount",
                'write it as a quoted decimal string in minor units, like "0.5" (half a cent in usd)',
            )
        elif isinstance(money.value, str) and "." in money.value:
            places = len(money.value.split(".", 1)[1])
            if places > DECIMAL_PLACES.value:
                yield Finding(
                    entry.where(*money.path),
                    f"{field} of {entry.label()} has {places} decimal places; Stripe takes at most "
                    f"{DECIMAL_PLACES.value}",
                    f"round {field} to {DECIMAL_PLACES.value} decimal places",
                )


@parsed_rule(
    "flat-amount-not-integral",
    "flat_amount_decimal is a whole number of minor units",
    Basis(PRICE_DOC + "#create_price-tiers-flat_amount_decimal", VERIFIED),
    when=TIERED,
    covers=(Cover(PATTERN, ("**", "flat_amount_decimal")),),
)
def flat_amount_not_integral(entry: Entry, parsed: Parsed) -> Iterator[Finding]:
    for money in parsed.money:
        if not (money.is_decimal and money.integral):
            continue
        value = decimal_amount(money.value)
        if value is not None and value != value.to_integral_value():
            yield Finding(
                entry.where(*money.path),
                f"{field_name(money.path)} of {entry.label()} is {show(money.value)}, but Stripe takes "
                "flat_amount_decimal only as a whole number of minor units",
                'use a whole number like "150" (1.50 in a two-decimal currency)',
            )


@parsed_rule("amount-too-large", f"integer amounts are at most {MAX_AMOUNT.value:,} minor units", Basis.of(MAX_AMOUNT))
def amount_too_large(entry: Entry, parsed: Parsed) -> Iterator[Finding]:
    for money in parsed.money:
        if not money.is_decimal and is_int(money.value) and money.value > MAX_AMOUNT.value:
            yield Finding(
                entry.where(*money.path),
                f"{field_name(money.path)} of {entry.label()} is {money.value:,}, above Stripe's maximum of "
                f"{MAX_AMOUNT.value:,} minor units",
                "amounts are in minor units (1000 is 10.00 usd); Stripe supports up to eight digits",
            )


@parsed_rule(
    "decimal-amount-large",
    f"decimal amounts of {MAX_AMOUNT.value + 1:,} minor units or more",
    Basis.of(MAX_AMOUNT),
    severity=WARNING,
)
def decimal_amount_large(entry: Entry, parsed: Parsed) -> Iterator[Finding]:
    for money in parsed.money:
        value = decimal_amount(money.value) if money.is_decimal else None
        # the Dashboard takes prices up to 99999999.999999999999, so only 100,000,000 and above is suspect
        if value is not None and value >= MAX_AMOUNT.value + 1:
            yield Finding(
                entry.where(*money.path),
                f"{field_name(money.path)} of {entry.label()} is {money.value}, beyond eight digits of minor units",
                "Stripe charges at most eight digits; check that the amount is in minor units",
            )
