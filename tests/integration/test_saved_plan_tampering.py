"""The issue's tampered saved plans, as a user would run them: `pricebook plan --out`, the file edited, then
`pricebook apply --plan` against the emulator. Each is refused with nothing sent, and an untouched plan still
applies (including one made with a restricted key, which cannot read the account's id)."""

from __future__ import annotations

import contextlib
import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from compiler.changes.changeset import ChangeSet
from compiler.emulator import EmulatorHandle
from tests.cli import run_pricebook
from tests.integration.conftest import EmulatorFactory

JPY = "suite_per_5_users_monthly_jpy"
RESTRICTED_KEY = "rk_test_restrictedKEYforPLANS0001"


def run(args: list[str], emulator: EmulatorHandle, **kw: Any) -> subprocess.CompletedProcess[str]:
    done = run_pricebook(args, emulator, **kw)
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr, done.stderr
    return done


def writes(emulator: EmulatorHandle, since: int = 0) -> list[str]:
    return [f"{r['method']} {r['path']}" for r in emulator.requests()[since:] if r["method"] == "POST"]


def jpy_price(emulator: EmulatorHandle) -> dict[str, Any]:
    found = emulator.client().v1.prices.list({"lookup_keys": [JPY]}).data
    assert len(found) == 1
    return found[0].to_dict()


@pytest.fixture
def repriced(emulator: EmulatorHandle, plans: Path, tmp_path: Path) -> Path:
    """The example catalog applied, a price made by hand beside it, then the JPY price edited 1500 -> 1600 and
    the plan saved: the issue's starting point."""
    applied = run(["apply", "--auto-approve", str(plans)], emulator)
    assert applied.returncode == 0, applied.stderr
    emulator.client().v1.prices.create(
        {"product": "productivity_suite", "currency": "usd", "unit_amount": 4200, "nickname": "made by hand"}
    )
    catalog = plans / "productivity.yaml"
    catalog.write_text(catalog.read_text().replace("unit_amount: 1500", "unit_amount: 1600", 1))
    saved = tmp_path / "plan.json"
    made = run(["plan", str(plans), "--out", str(saved)], emulator)
    assert made.returncode == 0, made.stderr
    assert "unit_amount = 1500 -> 1600" in made.stdout
    return saved


def hand_made(emulator: EmulatorHandle) -> str:
    prices = emulator.client().v1.prices.list({"limit": 100}).data
    (price,) = [p for p in prices if p.nickname == "made by hand"]
    return str(price.id)


def edit(path: Path, change: Callable[[dict[str, Any]], object]) -> None:
    """The saved plan edited, its plan_hash made the hash of what it now holds (as someone who knows the format
    would), so that the checks behind that one are the ones tried."""
    data = json.loads(path.read_text())
    change(data)
    with contextlib.suppress(KeyError, ValueError, TypeError):  # an edit that breaks the format is refused first
        data["plan_hash"] = ChangeSet.from_json(data).plan_hash
    path.write_text(json.dumps(data))


def call(data: dict[str, Any], action: str) -> dict[str, Any]:
    return next(c for c in data["calls"] if c["action"] == action)


def refused(emulator: EmulatorHandle, saved: Path, said: str) -> None:
    mark = len(emulator.requests())
    done = run(["apply", "--auto-approve", "--plan", str(saved)], emulator)
    assert done.returncode == 1
    assert said in done.stderr
    assert "nothing was changed" in done.stderr and "  hint: " in done.stderr
    assert writes(emulator, mark) == []


def test_the_untouched_plan_applies(emulator: EmulatorHandle, repriced: Path, plans: Path) -> None:
    done = run(["apply", "--auto-approve", "--plan", str(repriced)], emulator)
    assert done.returncode == 0, done.stderr
    assert jpy_price(emulator)["unit_amount"] == 1600
    again = run(["plan", str(plans), "--detailed-exitcode"], emulator)
    assert again.returncode == 0, again.stdout


def test_an_amount_edited_in_the_calls_only_is_never_sent(emulator: EmulatorHandle, repriced: Path) -> None:
    edit(repriced, lambda d: call(d, "create")["params"].update(unit_amount=1))
    refused(emulator, repriced, "sends unit_amount 1 where its changes give 1600")
    assert jpy_price(emulator)["unit_amount"] == 1500


def test_an_update_pointed_at_a_price_pricebook_does_not_own_is_refused(
    emulator: EmulatorHandle, repriced: Path
) -> None:
    target = hand_made(emulator)
    edit(repriced, lambda d: call(d, "archive old version").update(path=f"/v1/prices/{target}"))
    refused(emulator, repriced, f"price {target} is not pricebook's")
    assert emulator.client().v1.prices.retrieve(target).active is True


def test_an_appended_archive_of_a_price_pricebook_does_not_own_is_refused(
    emulator: EmulatorHandle, repriced: Path
) -> None:
    target = hand_made(emulator)
    archive = {**call(json.loads(repriced.read_text()), "archive old version"), "path": f"/v1/prices/{target}",
               "action": "archive", "address": f"price.{target}"}
    edit(repriced, lambda d: d["calls"].append(archive))
    refused(emulator, repriced, f"price {target} is not pricebook's")
    assert emulator.client().v1.prices.retrieve(target).active is True


def test_a_percent_encoded_dot_segment_is_refused(emulator: EmulatorHandle, repriced: Path) -> None:
    edit(repriced, lambda d: call(d, "archive old version").update(path="/v1/prices/%2e%2e"))
    refused(emulator, repriced, "call(s) pricebook never makes: POST /v1/prices/%2e%2e")


def test_an_added_field_is_an_error_not_ignored(emulator: EmulatorHandle, repriced: Path) -> None:
    edit(repriced, lambda d: d.update(api_base="http://127.0.0.1:9"))
    refused(emulator, repriced, "Additional properties are not allowed ('api_base' was unexpected)")


def test_a_plan_made_against_one_empty_account_is_refused_by_another(
    emulator: EmulatorHandle, emulator_factory: EmulatorFactory, plans: Path, tmp_path: Path
) -> None:
    # two empty accounts have the same fingerprint: the account's id is what tells them apart
    saved = tmp_path / "plan.json"
    assert run(["plan", str(plans), "--out", str(saved)], emulator).returncode == 0
    other = emulator_factory()
    done = run(["apply", "--auto-approve", "--plan", str(saved)], other)
    assert done.returncode == 1
    account = json.loads(saved.read_text())["account"]
    assert f"this plan was made against account {account}, but the key belongs to account acct_" in done.stderr
    assert writes(other) == []


def test_a_restricted_key_plans_and_applies_with_the_weaker_check_stated(
    emulator: EmulatorHandle, plans: Path, tmp_path: Path
) -> None:
    saved = tmp_path / "plan.json"
    made = run(["plan", str(plans), "--out", str(saved)], emulator, key=RESTRICTED_KEY)
    assert made.returncode == 0, made.stderr
    assert "test mode account (id not readable with this key)" in made.stdout
    assert json.loads(saved.read_text())["account"] is None
    done = run(["apply", "--auto-approve", "--plan", str(saved)], emulator, key=RESTRICTED_KEY)
    assert done.returncode == 0, done.stderr
    assert "pricebook: note: this plan does not name the account it was made against" in done.stderr


def test_a_plan_that_names_its_account_is_refused_by_a_key_that_cannot_read_one(
    emulator: EmulatorHandle, plans: Path, tmp_path: Path
) -> None:
    saved = tmp_path / "plan.json"
    assert run(["plan", str(plans), "--out", str(saved)], emulator).returncode == 0
    done = run(["apply", "--auto-approve", "--plan", str(saved)], emulator, key=RESTRICTED_KEY)
    assert done.returncode == 1
    assert "the key cannot read which account it belongs to" in done.stderr
    assert writes(emulator) == []
