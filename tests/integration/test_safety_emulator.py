"""pricebook never archives what the catalog never named, and never by accident, against the emulator through the
`pricebook` command: no catalog files is an error; a managed price without a lookup_key is a problem, never an
archive, while the old version an interrupted replace left behind is finished off; a plan archiving many objects
at once is blocked unless --allow-mass-archive says it is meant."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from pathlib import Path
from typing import Any

import stripe

from compiler.apply import apply_changeset
from compiler.changes.model import load_catalog
from compiler.changes.planning import changeset_for
from compiler.emulator import EmulatorHandle
from compiler.stripe.calls import CallAction
from compiler.stripe.fields import MANAGED_METADATA
from compiler.stripe.gateway import Connection, Gateway
from tests.cli import run_pricebook


def pricebook(emulator: EmulatorHandle, *args: str) -> subprocess.CompletedProcess[str]:
    return run_pricebook(list(args), emulator)


def applied(emulator: EmulatorHandle, plans: Path) -> None:
    """The example catalog in the account, and a plan of it that shows no changes."""
    result = pricebook(emulator, "apply", "--auto-approve", str(plans))
    assert result.returncode == 0, result.stderr
    assert pricebook(emulator, "plan", "--detailed-exitcode", str(plans)).returncode == 0


def writes_since(emulator: EmulatorHandle, mark: int) -> list[dict[str, Any]]:
    return [r for r in emulator.requests()[mark:] if r["method"] == "POST"]


def active_prices(client: stripe.StripeClient) -> dict[str, dict[str, Any]]:
    return {p.id: p.to_dict() for p in client.v1.prices.list({"active": True, "limit": 100}).auto_paging_iter()}


# -- no catalog files ----------------------------------------------------------------------------------------------


def test_plan_and_apply_of_an_empty_or_mistyped_path_exit_1_and_archive_nothing(
    emulator: EmulatorHandle, plans: Path, tmp_path: Path
) -> None:
    applied(emulator, plans)
    empty = tmp_path / "empty"
    empty.mkdir()
    mark = len(emulator.requests())
    for path in (empty, tmp_path / "plnas"):
        rule = "no-files" if path == empty else "path-not-found"
        for args in (["plan"], ["apply", "--auto-approve"], ["apply", "--auto-approve", "--allow-mass-archive"]):
            result = pricebook(emulator, *args, str(path))
            assert result.returncode == 1, result.stdout
            assert f"error[{rule}]" in result.stderr and "hint:" in result.stderr
            assert "Traceback" not in result.stderr
    assert emulator.requests()[mark:] == []  # not even a read: the catalog is checked first
    assert pricebook(emulator, "plan", "--detailed-exitcode", str(plans)).returncode == 0


# -- what no catalog entry can name ---------------------------------------------------------------------------------


def test_a_managed_price_without_a_lookup_key_survives_plan_and_apply(
    emulator: EmulatorHandle, plans: Path
) -> None:
    applied(emulator, plans)
    client = emulator.client()
    marked = client.v1.prices.create(  # made by hand, then marked as pricebook's by a script
        params={
            "product": "productivity_suite",
            "currency": "usd",
            "unit_amount": 4200,
            "recurring": {"interval": "year"},
            "metadata": dict(MANAGED_METADATA),
        }
    )
    plan = pricebook(emulator, "plan", str(plans))
    assert plan.returncode == 1
    assert f"price.{marked.id}: price {marked.id} is marked managed_by=pricebook but has no lookup_key" in plan.stdout
    assert "[managed-price-without-lookup-key]" in plan.stdout and "adopt it" in plan.stdout
    assert "to archive" not in plan.stdout.replace("0 to archive", "")
    mark = len(emulator.requests())
    apply = pricebook(emulator, "apply", "--auto-approve", str(plans))
    assert apply.returncode == 1 and "refusing to apply" in apply.stderr
    assert writes_since(emulator, mark) == []
    assert client.v1.prices.retrieve(marked.id).active


def _interrupt_after_the_create(emulator: EmulatorHandle, plans: Path) -> str:
    """Apply the catalog's replace of one price only as far as its create (as a crash would leave it); the id of
    the old version, now without its lookup_key and still active."""
    gateway = Gateway(Connection(emulator.api_key, emulator.url))
    changeset, _ = changeset_for(load_catalog([str(plans)]), gateway)
    (replace,) = [c for c in changeset.changes if c.action.value == "replace"]
    assert next(c.action for c in changeset.calls) is CallAction.CREATE
    assert apply_changeset(dataclasses.replace(changeset, calls=changeset.calls[:1]), gateway).ok
    assert replace.live_id is not None
    return replace.live_id


def test_an_interrupted_replace_of_a_default_price_is_finished_by_the_next_apply(
    emulator: EmulatorHandle, plans: Path
) -> None:
    applied(emulator, plans)
    client = emulator.client()
    product = plans / "productivity.yaml"
    product.write_text(product.read_text().replace("unit_amount: 1000\n", "unit_amount: 1100\n", 1))
    old = _interrupt_after_the_create(emulator, plans)
    new = client.v1.prices.list({"lookup_keys": ["suite_per_5_users_monthly"]}).data[0]
    assert new.id != old and new.metadata["pricebook_replaces"] == old
    assert client.v1.prices.retrieve(old).active and client.v1.prices.retrieve(old).lookup_key is None
    assert client.v1.products.retrieve("productivity_suite").default_price == old

    plan = pricebook(emulator, "plan", "--format", "json", str(plans))
    assert plan.returncode == 0, plan.stderr
    data = json.loads(plan.stdout)
    assert data["problems"] == [] and data["mass_archive"] is None
    assert [(c["action"], c["path"]) for c in data["calls"]] == [
        ("set default price", "/v1/products/productivity_suite"),
        ("archive old version", f"/v1/prices/{old}"),
    ]
    assert data["calls"][0]["params"] == {"default_price": new.id}
    applied(emulator, plans)
    assert not client.v1.prices.retrieve(old).active
    assert client.v1.products.retrieve("productivity_suite").default_price == new.id
    assert client.v1.prices.retrieve(new.id).active


def test_an_interrupted_replace_of_another_price_is_finished_too(emulator: EmulatorHandle, plans: Path) -> None:
    applied(emulator, plans)
    product = plans / "productivity.yaml"
    product.write_text(product.read_text().replace("unit_amount: 1500\n", "unit_amount: 1600\n", 1))  # the JPY one
    old = _interrupt_after_the_create(emulator, plans)
    plan = pricebook(emulator, "plan", str(plans))
    assert plan.returncode == 0, plan.stderr
    assert "the old version of price.suite_per_5_users_monthly_jpy" in plan.stdout
    applied(emulator, plans)
    assert not emulator.client().v1.prices.retrieve(old).active


# -- many archives at once ---------------------------------------------------------------------------------------


def test_a_mass_archive_is_blocked_without_the_flag_and_goes_through_with_it(
    emulator: EmulatorHandle, plans: Path, tmp_path: Path
) -> None:
    applied(emulator, plans)
    client = emulator.client()
    before = active_prices(client)
    (plans / "seats.yaml").unlink()  # one file of the catalog missing: every product it held goes, with its prices
    for name in ("api.yaml", "emails.yaml", "support.yaml.j2"):
        (plans / name).unlink()
    mark = len(emulator.requests())
    plan = pricebook(emulator, "plan", str(plans))
    assert plan.returncode == 1
    header = plan.stdout.split("\n\n", 1)[0]
    assert "Mass archive: this plan archives" in header and "blocked unless --allow-mass-archive" in header
    assert "[mass-archive]" in plan.stdout
    saved = tmp_path / "plan.json"
    assert pricebook(emulator, "plan", "--out", str(saved), str(plans)).returncode == 1 and not saved.exists()
    apply = pricebook(emulator, "apply", "--auto-approve", str(plans))
    assert apply.returncode == 1 and "refusing to apply" in apply.stderr
    assert writes_since(emulator, mark) == []
    assert active_prices(client) == before

    allowed = pricebook(emulator, "plan", "--allow-mass-archive", "--out", str(saved), str(plans))
    assert allowed.returncode == 0, allowed.stderr
    assert "allowed by --allow-mass-archive" in allowed.stdout.split("\n\n", 1)[0]
    record = json.loads(saved.read_text())["mass_archive"]
    assert record["allowed"] is True and record["count"] > 10
    refused = pricebook(emulator, "apply", "--auto-approve", "--allow-mass-archive", "--plan", str(saved))
    assert refused.returncode == 1 and "a saved plan records whether it was given" in refused.stderr
    done = pricebook(emulator, "apply", "--auto-approve", "--plan", str(saved))
    assert done.returncode == 0, done.stderr
    archived = set(before) - set(active_prices(client))
    assert len(archived) == record["count"] - sum(1 for c in json.loads(saved.read_text())["changes"]
                                                  if c["action"] == "archive" and c["kind"] == "product")
    assert pricebook(emulator, "plan", "--detailed-exitcode", str(plans)).returncode == 0


def test_apply_with_the_flag_archives_every_price_of_a_catalog_that_drops_them(
    emulator: EmulatorHandle, tmp_path: Path
) -> None:
    plans = tmp_path / "plans"
    plans.mkdir()
    catalog = plans / "catalog.yaml"
    catalog.write_text(
        "products:\n  - id: suite\n    name: Suite\n    prices:\n"
        "      - {lookup_key: monthly, currency: usd, unit_amount: 1000, recurring: {interval: month}}\n"
        "      - {lookup_key: yearly, currency: usd, unit_amount: 9000, recurring: {interval: year}}\n"
    )
    applied(emulator, plans)
    catalog.write_text("products:\n  - id: suite\n    name: Suite\n")  # every price gone: two, not more than 10
    blocked = pricebook(emulator, "apply", "--auto-approve", str(plans))
    assert blocked.returncode == 1 and "every managed price" in blocked.stdout
    assert len(active_prices(emulator.client())) == 2
    done = pricebook(emulator, "apply", "--auto-approve", "--allow-mass-archive", str(plans))
    assert done.returncode == 0, done.stderr
    assert active_prices(emulator.client()) == {}
