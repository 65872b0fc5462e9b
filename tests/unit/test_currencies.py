"""Stripe's currency facts: the sets agree with each other and minor units convert both ways."""

from __future__ import annotations

from decimal import Decimal

import pytest

from compiler.stripe import currencies


def test_every_special_currency_is_supported_and_lowercase() -> None:
    special = currencies.ZERO_DECIMAL | currencies.THREE_DECIMAL | currencies.DIVISIBLE_BY_100
    assert special | currencies.SPECIAL_CASE_100 <= currencies.SUPPORTED
    assert all(len(code) == 3 and code.islower() and code.isalpha() for code in currencies.SUPPORTED)
    assert not currencies.ZERO_DECIMAL & currencies.THREE_DECIMAL


@pytest.mark.parametrize(
    ("amount", "currency", "major", "digits"),
    [
        (1000, "usd", Decimal("10.00"), 2),
        (500, "jpy", Decimal("500"), 0),
        (1230, "KWD", Decimal("1.230"), 3),
        (10000, "isk", Decimal("100.00"), 2),  # two-decimal in the API, only whole krónur allowed
        (Decimal("0.5"), "usd", Decimal("0.005"), 2),
    ],
)
def test_minor_units(amount: int | Decimal, currency: str, major: Decimal, digits: int) -> None:
    assert currencies.minor_digits(currency) == digits
    assert currencies.to_major(amount, currency) == major
