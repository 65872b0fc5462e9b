"""Floats where an amount goes: the first check of a catalog after reading it, before the schema.

Amounts are integers in the currency's minor unit (`unit_amount: 999` is 9.99 USD) and decimal amounts are
strings in the same minor unit (`unit_amount_decimal: "0.5"` is half a cent), so that nothing is rounded on the
way to Stripe. A float in one of those fields is an error whose hint gives both ways to read it (major or minor
units) with what each charges in the object's currency; the schema leaves these fields to this check. An
object with one is kept out of the rules, as for a reading error.
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
from compiler.stripe.money import format_money

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
        typed = doc.float_texts.get(path, repr(value))
        yield _money_float(doc.positions[path], str(key), value, typed, _currency_of(doc.data, path[:-1]))


def _currency_of(data: Any, path: NodePath) -> str | None:
    """The currency of an amount at `path` (the object holding it): the key of the `currency_options` entry it is
    in, else the `currency` of the nearest object around it that has one (a tier's, a custom amount's: its
    price's). None when nothing around it names a supported currency."""
    nodes = [data]
    for step in path:
        try:
            nodes.append(nodes[-1][step])
        except (KeyError, IndexError, TypeError):
            return None
    currency: Any
    for depth in range(len(path), -1, -1):
        node = nodes[depth]
        if depth >= 2 and path[depth - 2] == "currency_options":
            currency = path[depth - 1]
        elif isinstance(node, Mapping):
            currency = node.get("currency")
        else:
            continue
        if isinstance(currency, str) and currency.lower() in SUPPORTED:
            return currency.lower()
        if currency is not None:
            return None  # named, but not a currency pricebook knows: the currency rule says so
    return None


def _money_float(location: Location, key: str, value: float, typed: str, currency: str | None) -> Diagnostic:
    """A float where an amount goes is an error, never rounded: Stripe takes amounts as integers of the minor unit
    (https://docs.stripe.com/currencies#minor-units) and decimal amounts as strings. The hint gives the
    amount the user most likely meant, and the other reading, each with what it charges in `currency` (the
    object's, or an object's around it), or explains the minor unit when no currency is known."""
    if key in DECIMAL_FIELDS:
        return Diagnostic(
            location,
            "money-float",
            f"`{key}` must be a decimal string, not the number {typed}",
            f'quote it so that no digit is lost: `{key}: "{typed}"`{_decimal_meaning(typed, currency)}',
        )
    message = f"`{key}` is {typed}, but amounts are integers in the currency's minor unit"
    if not math.isfinite(value):
        hint = "write a whole number of the currency's minor unit (9.99 USD is 999, 500 JPY is 500)"
    else:
        hint = _readings(key, _exact(typed, value), typed, currency)
    return Diagnostic(location, "money-float", message, hint)


def _exact(typed: str, value: float) -> Decimal:
    """The number as the file writes it (no binary rounding), else as the float it was read as."""
    try:
        number = Decimal(typed.replace("_", ""))
    except ArithmeticError:
        number = Decimal(repr(value))
    return number if number.is_finite() else Decimal(repr(value))


def _readings(key: str, number: Decimal, typed: str, currency: str | None) -> str:
    """The hint of an integer amount field given a number with a decimal point: the likelier reading first.

    A whole number written with a fraction (`2500.0`, what a template's arithmetic gives) most likely already
    counts the minor unit; one written with exactly the currency's digits (`25.00` USD) is a major-unit amount,
    and so is a fraction (`19.99`). Each reading is shown with what it charges; a fraction of the minor unit is
    written in the field's decimal twin, which counts the minor unit too (`unit_amount_decimal: "19.99"` is
    19.99 cents, $0.1999)."""
    twin = dict(AMOUNT_PAIRS).get(key)  # custom_unit_amount's bounds have no decimal form
    code = currency or "usd"
    digits = minor_digits(code)
    shown = typed.lstrip("+")
    as_major = number.scaleb(digits)  # the count of minor units if the number is in major units
    whole = number == number.to_integral_value()
    fraction_digits = len(shown.partition(".")[2]) if "." in shown and shown.replace(".", "").isdigit() else 0
    readings: list[str] = []

    def minor(count: Decimal, meant: str) -> None:
        charged = f" ({format_money(count, code)})" if currency else ""
        if count == count.to_integral_value():
            readings.append(f"`{key}: {int(count)}`{charged} if you meant {meant}")
        elif twin is not None:
            readings.append(f'`{twin}: "{_plain(count)}"`{charged} if you meant {meant}')

    if currency is None:
        major_meaning = f"{shown} USD (or {shown} of another 2-decimal currency)"
        unit = "cents"
    else:
        major_meaning = f"{shown} {code.upper()}"
        unit = f"minor units (1/{10**digits} {code.upper()} each)"
    if digits == 0:
        minor(number, major_meaning)
    elif whole and fraction_digits != digits:
        minor(number, f"{_plain(number)} {unit}")
        minor(as_major, major_meaning)
    else:
        minor(as_major, major_meaning)
        minor(number, f"{shown} {unit}")
    if currency is None:
        intro = "amounts are in the currency's minor unit (9.99 USD is 999, 500 JPY is 500)"
    elif digits == 0:
        intro = f"{code.upper()} has no minor unit (amounts are whole {code.upper()})"
    else:
        intro = f"{code.upper()} has {digits} decimal digits (amounts count its minor unit)"
    if not readings:
        return f"{intro}: write `{key}: <integer>`"
    return f"{intro}: write " + "; or ".join(readings)


def _plain(number: Decimal) -> str:
    """A Decimal as plain digits, without an exponent or trailing zeros after the point."""
    return format(number.normalize(), "f")


def _decimal_meaning(typed: str, currency: str | None) -> str:
    """For a decimal field, what the quoted number charges: it counts the minor unit, not the currency."""
    if currency is None:
        return "; it counts the currency's minor unit, as the integer amount does (\"999\" is 9.99 USD)"
    try:
        number = Decimal(typed)
    except ArithmeticError:
        return ""
    if not number.is_finite():
        return ""
    return f" ({format_money(number, currency)}: it counts the minor unit, as the integer amount does)"


__all__ = ["RULE_IDS", "money_floats"]
