"""The emulator's currency check: Stripe's supported currencies (`compiler.stripe.currencies.SUPPORTED`, the one
list of them) and the wording of Stripe's error for any other code."""

from __future__ import annotations

from compiler.stripe.currencies import DIVISIBLE_BY_100, SUPPORTED
from compiler.stripe.facts import INVALID_CURRENCY


def is_supported(code: str) -> bool:
    return code in SUPPORTED


def whole_units_only(code: str) -> bool:
    """Whether amounts in `code` must be evenly divisible by 100 (ISK, for prices too)."""
    return code in DIVISIBLE_BY_100


def unsupported_message(code: str) -> str:
    listed = ", ".join(["usd", *sorted(SUPPORTED - {"usd"})])
    return INVALID_CURRENCY.format(code=code, supported=listed)
