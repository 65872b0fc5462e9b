"""Currency rules: codes Stripe supports, currency options that mirror their price, and the amounts that
some currencies cannot take (docs.stripe.com/currencies)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from compiler.catalog.rules.reading import (
    Money,
    Parsed,
    as_list,
    as_map,
    decimal_amount,
    field_name,
    has,
    is_int,
    scheme,
)
from compiler.catalog.rules.registry import WARNING, Basis, Cover, Finding, parsed_rule
from compiler.catalog.schema.messages import PATTERN
from compiler.catalog.source import Entry
from compiler.stripe import currencies
from compiler.stripe.facts import (
    CURRENCIES_DOC,
    INFERRED,
    OPTION_IS_PRICE_CURRENCY,
    PRICE_AMOUNT,
    PRICE_DOC,
    UNVERIFIED,
    VERIFIED,
)
from compiler.stripe.kinds import Kind


@parsed_rule(
    "unsupported-currency",
    "currencies are Stripe currency codes, lowercase",
    Basis(CURRENCIES_DOC, VERIFIED),
    # a code that is not three lowercase letters is no code Stripe supports either
    covers=(Cover(PATTERN, ("currency",)), Cover(PATTERN, ("currency_options", "*"))),
)
def unsupported_currency(entry: Entry, parsed: Parsed) -> Iterator[Finding]:
    for site in parsed.sites:
        code = site.currency if site.is_option else entry.data.get("currency")
        if not isinstance(code, str) or code in currencies.SUPPORTED:
            continue
        where = entry.where(*site.path, key=True) if site.is_option else entry.where("currency")
        if code.lower() in currencies.SUPPORTED:
            hint = f"write it in lowercase: {code.lower()} (Stripe takes only lowercase codes)"
        else:
            hint = "use a three-letter ISO code Stripe supports (see docs.stripe.com/currencies), e.g. usd, eur"
        what = "currency option" if site.is_option else "currency"
        yield Finding(where, f"{what} {code!r} of {entry.label()} is not a currency Stripe supports", hint)


@parsed_rule(
    "currency-option-same-currency",
    "no currency option for the price's own currency",
    Basis(PRICE_DOC + "#create_price-currency_options", VERIFIED),
    (Kind.PRICE,),
    when=("currency_options",),
)
def currency_option_same_currency(entry: Entry, parsed: Parsed) -> Iterator[Finding]:
    currency = entry.data.get("currency")
    for site in parsed.sites[1:]:
        if isinstance(currency, str) and site.currency is not None and site.currency.lower() == currency.lower():
            yield Finding(
                entry.where(*site.path, key=True),
                f"{entry.label()} has a currency option for {site.currency!r}, its own currency",
                f'remove this option; Stripe would answer: "{OPTION_IS_PRICE_CURRENCY}"',
            )


@parsed_rule(
    "currency-option-scheme",
    "each currency option mirrors the price's scheme",
    Basis(PRICE_DOC + "#create_price-currency_options", INFERRED),
    (Kind.PRICE,),
    when=("currency_options",),
)
def currency_option_scheme(entry: Entry, parsed: Parsed) -> Iterator[Finding]:
    tiered = scheme(entry.data) == "tiered"
    amount_keys = (*PRICE_AMOUNT, "custom_unit_amount")
    for site in parsed.sites[1:]:
        has_tiers = bool(as_list(site.data.get("tiers")))
        has_amount = any(has(site.data, key) for key in amount_keys)
        name = f"currency option {site.currency!r} of {entry.label()}"
        if tiered and not has_tiers:
            yield Finding(
                entry.where(*site.path, key=True),
                f"{name} has no tiers, but the price is tiered",
                "give the option its own tiers with the same up_to bounds as the price's",
            )
        elif tiered and has_amount:
            key = next(key for key in amount_keys if has(site.data, key))
            yield Finding(
                entry.where(*site.path, key, key=True),
                f"{name} sets {key}, but the price is tiered: the option's amounts belong in its tiers",
                f"remove {key} from the option",
            )
        elif not tiered and has_tiers:
            yield Finding(
                entry.where(*site.path, "tiers", key=True),
                f"{name} has tiers, but the price is per_unit",
                "give the option a unit_amount (or make the price tiered)",
            )
        elif not tiered and not has_amount:
            yield Finding(
                entry.where(*site.path, key=True),
                f"{name} has no amount",
                "add unit_amount (in that currency's minor units) to the option",
            )


def _bounds(tiers: list[Any]) -> list[Any]:
    return [as_map(tier).get("up_to") for tier in tiers]


@parsed_rule(
    "currency-option-tier-bounds",
    "a currency option's tiers have the price's up_to bounds",
    Basis(PRICE_DOC + "#create_price-currency_options", UNVERIFIED),
    (Kind.PRICE,),
    severity=WARNING,
    when=("currency_options",),
)
def currency_option_tier_bounds(entry: Entry, parsed: Parsed) -> Iterator[Finding]:
    """A currency option mirrors the price's scheme, but Stripe is not known to refuse other tier bounds; a
    currency whose tiers break at other quantities bills a different product, though, which is rarely meant."""
    own = as_list(entry.data.get("tiers"))
    if not own:
        return
    for site in parsed.sites[1:]:
        tiers = as_list(site.data.get("tiers"))
        if tiers and _bounds(tiers) != _bounds(own):
            yield Finding(
                entry.where(*site.path, "tiers", key=True),
                f"the {site.currency!r} tiers of {entry.label()} break at up_to {_bounds(tiers)}, the price's own "
                f"tiers at {_bounds(own)}",
                "give every currency the same tier bounds, with amounts in that currency",
            )


def _whole(money: Money) -> int | None:
    """The amount as a whole number of minor units, when it must be one (integer fields, flat decimals)."""
    if not money.integral:
        return None
    value = money.value if is_int(money.value) else decimal_amount(money.value)
    if value is None or value != int(value):
        return None
    return int(value)


@parsed_rule(
    "zero-decimal-fraction",
    "fractional decimal amounts in a zero-decimal currency",
    Basis(CURRENCIES_DOC + "#zero-decimal", VERIFIED),
    severity=WARNING,
)
def zero_decimal_fraction(entry: Entry, parsed: Parsed) -> Iterator[Finding]:
    for money in parsed.money:
        if money.currency not in currencies.ZERO_DECIMAL or not money.is_decimal:
            continue
        value = decimal_amount(money.value)
        if value is not None and value != value.to_integral_value():
            yield Finding(
                entry.where(*money.path),
                f"{field_name(money.path)} of {entry.label()} is {money.value} {money.currency}, a fraction of "
                f"the smallest {money.currency} unit ({money.currency} has no minor unit)",
                f"amounts in {money.currency} are whole units (500 is 500 {money.currency}); check it was not "
                "multiplied by 100 or meant as cents",
            )


@parsed_rule(
    "three-decimal-last-digit",
    "amounts in three-decimal currencies end in 0",
    Basis(CURRENCIES_DOC + "#three-decimal", INFERRED),
)
def three_decimal_last_digit(entry: Entry, parsed: Parsed) -> Iterator[Finding]:
    for money in parsed.money:
        value = _whole(money) if money.currency in currencies.THREE_DECIMAL else None
        if value is not None and value % 10:
            yield Finding(
                entry.where(*money.path),
                f"{field_name(money.path)} of {entry.label()} is {value} {money.currency}; Stripe requires "
                f"the last of {money.currency}'s three decimal digits to be 0",
                f"round to a multiple of ten: {value - value % 10} or {value - value % 10 + 10}",
            )


@parsed_rule(
    "isk-divisible-by-100", "ISK amounts are divisible by 100", Basis(CURRENCIES_DOC + "#special-cases", VERIFIED)
)
def isk_divisible_by_100(entry: Entry, parsed: Parsed) -> Iterator[Finding]:
    for money in parsed.money:
        value = _whole(money) if money.currency in currencies.DIVISIBLE_BY_100 else None
        if value is not None and value % 100:
            yield Finding(
                entry.where(*money.path),
                f"{field_name(money.path)} of {entry.label()} is {value} isk; Stripe requires ISK amounts, "
                "prices included, to be evenly divisible by 100",
                f"ISK is two-decimal in the API but has no fractions: use {value - value % 100} or "
                f"{value - value % 100 + 100}",
            )


@parsed_rule(
    "currency-special-case",
    "HUF, TWD and UGX amounts not divisible by 100",
    Basis(CURRENCIES_DOC + "#special-cases", VERIFIED),
    severity=WARNING,
)
def currency_special_case(entry: Entry, parsed: Parsed) -> Iterator[Finding]:
    for money in parsed.money:
        value = _whole(money) if money.currency in currencies.SPECIAL_CASE_100 else None
        if value is not None and value % 100:
            yield Finding(
                entry.where(*money.path),
                f"{field_name(money.path)} of {entry.label()} is {value} {money.currency}, not divisible by "
                f"100; Stripe has charge and payout special cases for {money.currency} that round such amounts",
                "see docs.stripe.com/currencies#special-cases; prefer amounts divisible by 100",
            )
