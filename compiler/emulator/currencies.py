"""The emulator's currency check: Stripe's supported currencies (`compiler.currencies.SUPPORTED`, the one list of
them) and the wording of Stripe's error for any other code."""

from __future__ import annotations

from compiler.stripe.currencies import SUPPORTED


def is_supported(code: str) -> bool:
    return code in SUPPORTED


def unsupported_message(code: str) -> str:
    listed = ", ".join(["usd", *sorted(SUPPORTED - {"usd"})])
    return f"Invalid currency: {code}. Stripe currently supports these currencies: {listed}"
