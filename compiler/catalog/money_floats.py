"""Floats where an amount goes: the first check of a catalog after reading it, before the schema.

Amounts are integers in the currency's minor unit (`unit_amount: 999` is 9.99 USD) and decimal amounts are
strings (`unit_amount_decimal: "9.99"`), so that nothing is rounded on the way to Stripe. A float in one of
those fields is an error whose hint converts it for the object's currency; the schema leaves these fields to
this check. An object with one is kept out of the rules, as for a reading error.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from compiler.catalog.source import Document, NodePath
from compiler.errors import Diagnostic, Location
from compiler.stripe.currencies import SUPPORTED, minor_digits
from compiler.stripe.facts import AMOUNT_PAIRS, DECIMAL_FIELDS, MONEY_FIELDS

_AMOUNT_FIELDS = MONEY_FIELDS | DECIMAL_FIELDS

#: the rule id this check reports
RULE_IDS: Mapping[str, str] = {
    "money-float": "a float where an amount goes (amounts are integers, decimals are strings)",
}


def money_floats(doc: Document) -> Iterator[Diagnostic]:
    """A `money-float` error for each float of `doc` under an amount field (not a metadata value named like one),
    at the float's place, in file order."""
    for path, value in doc.floats.items():
        key = path[-1]
        if key not in _AMOUNT_FIELDS or path[-2:-1] == ("metadata",):
            continue
        container = _node(doc.data, path[:-1])
        currency = _currency_of(container, path[:-1]) if isinstance(container, Mapping) else None
        yield _money_float(doc.positions[path], str(key), value, currency)


def _node(data: Any, path: NodePath) -> Any:
    """The value at `path`, None when there is none (a part of the file the reader dropped)."""
    for step in path:
        try:
            data = data[step]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _currency_of(container: Mapping[Any, Any], path: NodePath) -> str | None:
    """The currency of the object holding an amount, when the object itself says it: its `currency`, or the key
    of a `currency_options` entry. None when it is only known further out (a tier, a custom amount)."""
    currency = container.get("currency")
    if len(path) >= 2 and path[-2] == "currency_options":
        currency = path[-1]
    if isinstance(currency, str) and currency.lower() in SUPPORTED:
        return currency.lower()
    return None


def _money_float(location: Location, key: str, value: float, currency: str | None = None) -> Diagnostic:
    """A float where an amount goes is an error, never rounded: Stripe takes amounts as integers of the minor unit
    (https://docs.stripe.com/currencies#minor-units) and decimal amounts as strings. The hint converts the amount
    to the minor unit of `currency` when the object names it, and explains the minor unit otherwise."""
    shown = repr(value)
    if key in DECIMAL_FIELDS:
        return Diagnostic(
            location,
            "money-float",
            f"`{key}` must be a decimal string, not the number {shown}",
            f'quote it so that no digit is lost: `{key}: "{shown}"`',
        )
    twin = dict(AMOUNT_PAIRS).get(key)  # custom_unit_amount's bounds have no decimal form
    decimal = f', or `{twin}: "{shown}"` for a fraction of the minor unit' if twin else ""
    if not math.isfinite(value):
        hint = "write a whole number of the currency's minor unit (9.99 USD is 999, 500 JPY is 500)"
    elif currency is None:
        minor = _in_minor_units(value, 2)
        written = f"`{key}: {minor}` if it is {shown} in a 2-decimal currency" if minor else f"`{key}: <integer>`"
        hint = f"amounts are in the currency's minor unit (9.99 USD is 999, 500 JPY is 500): {written}{decimal}"
    else:
        digits = minor_digits(currency)
        code = currency.upper()
        minor = _in_minor_units(value, digits)
        unit = f"{code} has no minor unit" if digits == 0 else f"{code} has {digits} decimal digits"
        if minor:
            hint = f"{unit}: write `{key}: {minor}` for {shown} {code}{decimal}"
        else:
            hint = f"{unit}, so {shown} {code} is not a whole amount: write `{key}: <integer>`{decimal}"
    return Diagnostic(
        location, "money-float", f"`{key}` is {shown}, but amounts are integers in the currency's minor unit", hint
    )


def _in_minor_units(value: float, digits: int) -> str | None:
    """`value` major units as an integer count of minor units, as text; None when it is not a whole count."""
    if not math.isfinite(value):
        return None
    scaled = Decimal(repr(value)).scaleb(digits)
    if scaled != scaled.to_integral_value():
        return None
    return str(int(scaled))


__all__ = ["RULE_IDS", "money_floats"]
