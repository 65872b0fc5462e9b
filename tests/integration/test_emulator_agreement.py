"""pricebook and Stripe agree on what Stripe takes: every failing and passing case of the rules table
(`tests/rule_cases.py`) is compiled and sent with the stripe SDK to a fresh emulator, and `validate` reports an
error if and only if Stripe (the emulator) answers a 4xx. The emulator is written from Stripe's docs, not from
pricebook's rules, so this compares two readings of Stripe; where they differ on purpose, `DIVERGENCES` says why.

A case's catalog is sent as written, object by object, even what validate refused: every object of the files
(duplicates too), in creation order, each reference resolved to the id an earlier response gave. The loader's
cases are left out: a file that does not load, or a template that does not render, is no catalog to send.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from compiler.catalog.check import check_with_options
from compiler.catalog.source import iter_entries
from compiler.changes.compile import create_call, default_price_call, placeholder_ref
from compiler.changes.model import Resource, resource_from_entry
from compiler.emulator import EmulatorHandle
from compiler.errors import StripeApiError
from compiler.stripe.calls import ApiCall, placeholder
from compiler.stripe.gateway import Connection, Gateway
from compiler.stripe.kinds import KIND_ORDER, Kind
from tests.cli import run_pricebook
from tests.rule_cases import (
    BASE,
    PASSING,
    RULE_FAILING,
    SCHEMA_FAILING,
    Case,
    Passing,
    case_args,
    params,
    passing_params,
    write_case,
)

_EIGHT_DIGITS = (
    "Stripe documents eight digits for a charge (docs.stripe.com/currencies#minimum-and-maximum-charge-amounts) "
    "but not whether it refuses a price above them; the emulator refuses only what Stripe is known to refuse. "
    "pricebook refuses the price: no charge of it could succeed"
)
_THREE_DECIMALS = (
    "Stripe requires the last digit to be 0 in its payment calls (docs.stripe.com/currencies#three-decimal), "
    "not when a price is created; pricebook refuses the price: every payment of it would be refused"
)

#: the cases where validate and Stripe disagree on purpose, and why
DIVERGENCES: Mapping[str, str] = {
    "amount-too-large": _EIGHT_DIGITS,
    "amount-too-large-tier-flat-amount": _EIGHT_DIGITS,
    "three-decimal-last-digit": _THREE_DECIMALS,
    "three-decimal-last-digit-in-currency-option": _THREE_DECIMALS,
    "reserved-metadata-key": "pricebook's own rule: it writes metadata managed_by itself to mark what it owns",
    "reserved-metadata-key-replaces": (
        "pricebook's own rule: it writes metadata pricebook_replaces itself on a price that replaces another"
    ),
    "reserved-metadata-key-pricebook-id": "pricebook's own rule: it writes metadata pricebook_id on what it adopts",
    "nested-price-product": "pricebook's own rule: a nested price takes its product from where it is written",
    "metadata-invalid-not-a-string": (
        "Stripe's form encoding turns a YAML number into text, which Stripe takes; pricebook wants it quoted, "
        "so the file says exactly what Stripe stores (YAML reads `1.10` as 1.1 and `on` as true)"
    ),
    "package-dimensions-format-digits": (
        "Stripe takes 9007199254740993 but keeps a float, 9007199254740992: the catalog would never match the "
        "account, so pricebook refuses the number"
    ),
    "schema-length-empty-metadata-value": (
        "Stripe takes metadata[note]=\"\" as \"delete this key\": the value is never stored, so the catalog would "
        "never match the account; pricebook refuses it and says to remove the key"
    ),
    "schema-type": (
        "the form encoding carries no types, so Stripe reads the string '10' as the integer 10; pricebook keeps "
        "the file's types exact"
    ),
}


def _calls(resources: list[Resource]) -> list[ApiCall]:
    """Every object's create, in creation order, then each product's default price."""
    ordered = sorted(resources, key=lambda r: KIND_ORDER.index(r.kind))
    calls = [create_call(resource, placeholder_ref) for resource in ordered]
    for product in (r for r in ordered if r.kind is Kind.PRODUCT):
        default = product.params.get("default_price")
        if isinstance(default, str):
            calls.append(default_price_call(product.key, product.key, placeholder_ref(Kind.PRICE, default)))
    return calls


def stripe_refuses(plans: Path, args: list[str], emulator: EmulatorHandle) -> StripeApiError | None:
    """Send every object of the catalog under `plans` to the emulator; Stripe's first 4xx, or None."""
    result = check_with_options([str(plans)], [a for a in args], None)
    resources = [r for doc in result.documents for e in iter_entries(doc) if (r := resource_from_entry(e))]
    gateway = Gateway(Connection(emulator.api_key, emulator.url), rate=500)
    ids: dict[str, str] = {}
    for number, call in enumerate(_calls(resources)):
        # a reference nothing created stays as written: Stripe answers it as an id it does not know
        sent = call.resolve({a: ids.get(a, placeholder(a)) for a in call.depends_on})
        try:
            body = gateway.send(sent, f"agreement-{number}")
        except StripeApiError as error:
            assert error.status is not None and 400 <= error.status < 500, error
            return error
        if call.creates is not None:
            ids[call.creates] = str(body["id"])
    return None


def _agree(name: str, pricebook_error: bool, refused: StripeApiError | None) -> None:
    if name in DIVERGENCES:
        assert pricebook_error != (refused is not None), f"{name} agrees now: remove it from DIVERGENCES"
        return
    assert pricebook_error == (refused is not None), (
        f"validate {'refuses' if pricebook_error else 'takes'} it, Stripe "
        f"{'refuses it: ' + refused.message if refused else 'takes it'}"
    )


@pytest.mark.parametrize("case", params([*RULE_FAILING, *SCHEMA_FAILING]))
def test_stripe_refuses_what_validate_refuses(
    case: Case, emulator: EmulatorHandle, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    plans = write_case(case, tmp_path)
    args = case_args(case, plans)
    pricebook_error = not check_with_options([str(plans)], args, None).ok
    _agree(request.node.callspec.id, pricebook_error, stripe_refuses(plans, args, emulator))


@pytest.mark.parametrize("case", passing_params(PASSING))
def test_stripe_takes_what_validate_takes(case: Passing, emulator: EmulatorHandle, tmp_path: Path) -> None:
    plans = tmp_path / "plans"
    plans.mkdir()
    (plans / "base.yaml").write_text(BASE, encoding="utf-8")
    (plans / "case.yaml").write_text(case.text, encoding="utf-8")
    assert check_with_options([str(plans)], [], None).ok
    refused = stripe_refuses(plans, [], emulator)
    assert refused is None, refused.message


def test_every_divergence_is_a_case_of_the_table() -> None:
    names = {param.id for param in params([*RULE_FAILING, *SCHEMA_FAILING])}
    assert set(DIVERGENCES) <= names


def test_a_daily_period_beyond_three_years_fails_before_anything_is_sent(
    emulator: EmulatorHandle, tmp_path: Path
) -> None:
    plans = tmp_path / "plans"
    plans.mkdir()
    (plans / "daily.yaml").write_text(
        "products:\n  - id: daily\n    name: Daily\n    prices:\n      - lookup_key: every_1200_days\n"
        "        currency: usd\n        unit_amount: 500\n        recurring: {interval: day, interval_count: 1200}\n",
        encoding="utf-8",
    )
    for command in (["plan", str(plans)], ["apply", "--auto-approve", str(plans)]):
        result = run_pricebook(command, emulator)
        assert result.returncode == 1, result.stderr
        assert "error[interval-days-too-long]" in result.stderr
    assert [r for r in emulator.requests() if r["method"] != "GET"] == []
    # and Stripe would refuse it: the emulator answers 400
    assert stripe_refuses(plans, [], emulator) is not None
