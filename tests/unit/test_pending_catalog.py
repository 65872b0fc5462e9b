"""The catalog checked in a child process while the account is read: the same ChangeSet, the same errors."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from compiler.changes import planning
from compiler.changes.model import CheckedCatalog, load_catalog
from compiler.changes.planning import PendingCatalog, changeset_for, changeset_while_reading
from compiler.errors import InvalidCatalog, StripeApiError
from compiler.stripe.kinds import Kind
from tests.stripe_lists import StripeLists
from tests.stripe_objects import stripe_price, stripe_product
from tests.unit.test_adoption_record import catalog_dir

ROOT = Path(__file__).resolve().parents[2]
INVALID = """\
products:
  - id: suite
    name: Suite
    prices:
      - lookup_key: seats
        currency: usd
        unit_amount: 9.99
        recurring: {interval: month}
"""


def big_account() -> dict[str, list[dict[str, Any]]]:
    prices = [stripe_price(id=f"price_{n}", lookup_key=f"k{n}", created=1_700_000_000) for n in range(20_000)]
    return {"/v1/prices": prices, "/v1/products": [stripe_product()]}


def test_the_changeset_and_its_warnings_are_the_ones_of_a_check_before_the_read() -> None:
    account = {"/v1/prices": [stripe_price()], "/v1/products": [stripe_product()]}
    before, state_before = changeset_for(load_catalog([str(ROOT / "plans")]), StripeLists(account))
    with PendingCatalog([str(ROOT / "plans")]) as pending:
        meanwhile, state = changeset_while_reading(pending, StripeLists(account))
    assert meanwhile.to_json() == before.to_json() and state == state_before


def test_the_catalog_from_the_child_carries_its_adoption_record(tmp_path: Path) -> None:
    # the model the child sends is the one load_catalog builds: entries, warnings and the `adopt:` record
    plans = catalog_dir(tmp_path)
    with PendingCatalog([str(plans)]) as pending:
        checked = pending.result()
    assert checked == load_catalog([str(plans)])
    assert checked.catalog.adoption("acct_1Nv0FGQ9RKHgCVdK", livemode=False) is not None


def test_an_invalid_catalog_stops_the_read_and_is_the_error(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(INVALID)

    def slowly(lists: StripeLists, path: str, query: Mapping[str, Any]) -> None:
        time.sleep(0.01)  # 200 pages of prices: two seconds, where the check takes a fraction of one

    lists = StripeLists(big_account(), before_page=slowly)
    with PendingCatalog([str(tmp_path)]) as pending, pytest.raises(InvalidCatalog) as raised:
        changeset_while_reading(pending, lists)
    assert [d.rule for d in raised.value.diagnostics] == ["money-float"]
    assert len(lists.calls) < 100


def test_an_invalid_catalog_is_the_error_even_when_the_read_fails_first(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(INVALID)

    def refuse(lists: StripeLists, path: str, query: Mapping[str, Any]) -> None:
        raise StripeApiError("Invalid API Key provided", status=401)

    with PendingCatalog([str(tmp_path)]) as pending, pytest.raises(InvalidCatalog):
        changeset_while_reading(pending, StripeLists({}, before_page=refuse))


def test_ctrl_c_during_the_read_is_not_held_up_by_the_check(tmp_path: Path) -> None:
    # the user's interrupt wins over the catalog's error, and does not wait for the check to finish
    (tmp_path / "bad.yaml").write_text(INVALID)

    def interrupt(lists: StripeLists, path: str, query: Mapping[str, Any]) -> None:
        raise KeyboardInterrupt

    with PendingCatalog([str(tmp_path)]) as pending, pytest.raises(KeyboardInterrupt):
        changeset_while_reading(pending, StripeLists({}, before_page=interrupt))


def test_a_read_error_is_the_error_when_the_catalog_is_valid() -> None:
    def refuse(lists: StripeLists, path: str, query: Mapping[str, Any]) -> None:
        raise StripeApiError("Invalid API Key provided", status=401)

    with PendingCatalog([str(ROOT / "plans")]) as pending, pytest.raises(StripeApiError):
        changeset_while_reading(pending, StripeLists({}, before_page=refuse))


def test_when_the_child_dies_the_catalog_is_checked_here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(planning, "_check_into", lambda *args: os._exit(3))
    with PendingCatalog([str(ROOT / "plans")]) as pending:
        assert pending.result() == load_catalog([str(ROOT / "plans")])


def test_the_catalog_comes_with_its_counts_and_on_ready_runs_once() -> None:
    ready: list[CheckedCatalog] = []
    with PendingCatalog([str(ROOT / "plans")], on_ready=ready.append) as pending:
        catalog = pending.result()
        pending.result()
        expected = pending.expected()
    assert ready == [catalog]
    assert expected is not None and expected.products == len(catalog.catalog.of_kind(Kind.PRODUCT))
