"""Amounts shown as money: `$10.00`, `¥500`, `€1.50`, `12.50 CHF`.

Stripe amounts are integers (or exact decimals) in the currency's minor unit; how many digits that unit has is
`compiler.currencies`' fact (zero-, two- and three-decimal currencies), this module only writes amounts out.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, localcontext

from compiler.stripe.currencies import EXACT, minor_digits, to_major

#: Only symbols that name one currency unambiguously; `$` and `¥` are claimed by several, so they go to the
#: most common one and every other currency is written with its ISO code after the number (`12.50 CHF`).
SYMBOLS: Mapping[str, str] = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥"}


def format_money(amount_minor: Decimal | int, currency: str) -> str:
    """`amount_minor` (minor units) as money. Whole minor units show the currency's usual digits
    (`1000 usd` -> `$10.00`, `500 jpy` -> `¥500`); fractions of a minor unit (a decimal unit price such as
    0.05 cents) keep their extra digits (`$0.0005`) rather than being rounded out of sight."""
    code = currency.lower()
    major = to_major(amount_minor, code)
    digits = max(minor_digits(code), _fraction_digits(major))
    with localcontext(EXACT):
        text = f"{abs(major):,.{digits}f}"
    sign = "-" if major < 0 else ""
    symbol = SYMBOLS.get(code)
    if symbol is not None:
        return f"{sign}{symbol}{text}"
    return f"{sign}{text} {code.upper()}"


def _fraction_digits(number: Decimal) -> int:
    """How many digits after the point `number` needs (trailing zeros dropped)."""
    exponent = number.normalize(EXACT).as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0
