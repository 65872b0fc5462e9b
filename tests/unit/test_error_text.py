"""How an error reads on one line: a refusal by Stripe with its status and code, whichever of them it has."""

from __future__ import annotations

import pytest

from compiler.errors import StripeApiError, error_text


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (401, None, "Stripe refused the request (401): Invalid API Key provided"),
        (400, "resource_missing", "Stripe refused the request (400 resource_missing): Invalid API Key provided"),
        (None, "resource_missing", "Stripe refused the request (resource_missing): Invalid API Key provided"),
        (None, None, "Invalid API Key provided"),
    ],
)
def test_a_refusal_names_its_status_and_code_without_a_gap_for_a_missing_one(
    status: int | None, code: str | None, expected: str
) -> None:
    assert error_text(StripeApiError("Invalid API Key provided", status=status, code=code)) == expected
