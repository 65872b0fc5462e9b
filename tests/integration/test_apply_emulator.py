"""`apply` against the emulator, through the real stripe SDK: the example catalog, edits, replaces, archives,
ownership, saved plans, live keys and key hygiene (the last ones through the installed `pricebook` command)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from compiler.apply import ApplyResult, apply_changeset
from compiler.changes.changeset import ChangeSet
from compiler.changes.model import load_catalog
from compiler.changes.planning import changeset_for
from compiler.cli import apply as apply_cli
from compiler.emulator import EmulatorHandle
from compiler.stripe.gateway import Connection, Gateway
from tests.cli import run_pricebook
from tests.integration.conftest import EmulatorFactory

#: a key of our own, so a test can look for it in every byte the command printed
SECRET_KEY = "sk_test_applyTESTsecretKEY0123456789"


def gateway(emulator: EmulatorHandle) -> Gateway:
    return Gateway(Connection(emulator.api_key, emulator.url), rate=500)


def plan(paths: Path, emulator: EmulatorHandle, *, allow_mass_archive: bool = False) -> ChangeSet:
    changeset, _ = changeset_for(load_catalog([str(paths)]), gateway(emulator), allow_mass_archive=allow_mass_archive)
    return changeset


def apply(paths: Path, emulator: EmulatorHandle, *, allow_mass_archive: bool = False) -> tuple[ChangeSet, ApplyResult]:
    changeset = plan(paths, emulator, allow_mass_archive=allow_mass_archive)
    result = apply_changeset(changeset, gateway(emulator))
    assert result.ok, result.failed
    return changeset, result


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1))


def writes_since(emulator: EmulatorHandle, mark: int) -> list[dict[str, Any]]:
    return [r for r in emulator.requests()[mark:] if r["method"] == "POST"]


def all_prices(emulator: EmulatorHandle) -> list[dict[str, Any]]:
    client = emulator.client()
    out = []
    for active in (True, False):
        out += [p.to_dict() for p in client.v1.prices.list({"active": active, "limit": 100}).auto_paging_iter()]
    return out


def price_by_key(emulator: EmulatorHandle, lookup_key: str) -> dict[str, Any]:
    (price,) = [p for p in all_prices(emulator) if p["lookup_key"] == lookup_key]
    return price


def test_the_example_catalog_applies_to_an_empty_account_then_plans_no_changes(
    emulator: EmulatorHandle, plans: Path
) -> None:
    changeset, result = apply(plans, emulator)
    assert changeset.calls and {c.action for c in changeset.calls} <= {"create", "set default price"}
    assert len(result.done) == len(changeset.calls)
    again = plan(plans, emulator)
    assert again.calls == ()
    assert not again.has_changes
    keys = [p["lookup_key"] for p in all_prices(emulator) if p["lookup_key"]]
    assert len(keys) == len(set(keys))  # no duplicate price
    assert len(writes_since(emulator, 0)) == len(changeset.calls)  # nothing sent that the preview did not list


def test_a_nickname_edit_is_one_update(emulator: EmulatorHandle, plans: Path) -> None:
    apply(plans, emulator)
    before = price_by_key(emulator, "suite_per_5_users_monthly_jpy")
    edit(plans / "productivity.yaml", "nickname: Standard Cost Per 5 Users (JPY)", "nickname: Per 5 users, JPY")
    mark = len(emulator.requests())
    changeset, _ = apply(plans, emulator)
    (call,) = changeset.calls
    assert call.action == "update"
    (write,) = writes_since(emulator, mark)
    assert write["path"] == f"/v1/prices/{before['id']}"
    after = price_by_key(emulator, "suite_per_5_users_monthly_jpy")
    assert (after["id"], after["nickname"]) == (before["id"], "Per 5 users, JPY")
    assert plan(plans, emulator).calls == ()


def test_a_change_undone_by_hand_is_made_again_not_answered_from_the_idempotency_cache(
    emulator: EmulatorHandle, plans: Path
) -> None:
    apply(plans, emulator)
    original = price_by_key(emulator, "suite_per_5_users_monthly_jpy")
    edit(plans / "productivity.yaml", "nickname: Standard Cost Per 5 Users (JPY)", "nickname: Per 5 users, JPY")
    first, _ = apply(plans, emulator)
    emulator.client().v1.prices.update(original["id"], {"nickname": original["nickname"]})  # undone by hand
    second, _ = apply(plans, emulator)
    # the account is back where it was, so the same call under the same key: Stripe would only replay it
    assert second.fingerprint == first.fingerprint and second.calls == first.calls
    assert price_by_key(emulator, "suite_per_5_users_monthly_jpy")["nickname"] == "Per 5 users, JPY"
    assert plan(plans, emulator).calls == ()


def test_an_amount_change_replaces_the_price_moves_the_default_then_archives(
    emulator: EmulatorHandle, plans: Path
) -> None:
    apply(plans, emulator)
    old = price_by_key(emulator, "suite_per_5_users_monthly")
    client = emulator.client()
    assert client.v1.products.retrieve("productivity_suite").default_price == old["id"]
    edit(plans / "productivity.yaml", "unit_amount: 1000\n", "unit_amount: 1200\n")
    mark = len(emulator.requests())
    changeset, _ = apply(plans, emulator)
    actions = [c.action for c in changeset.calls]
    assert actions == ["create", "set default price", "archive old version"]
    assert changeset.calls[0].params["transfer_lookup_key"] is True

    new = price_by_key(emulator, "suite_per_5_users_monthly")  # the lookup key moved to the new price
    assert new["id"] != old["id"] and new["unit_amount"] == 1200 and new["active"]
    archived = client.v1.prices.retrieve(old["id"])
    assert archived.active is False and archived.lookup_key is None
    assert client.v1.products.retrieve("productivity_suite").default_price == new["id"]

    paths = [w["path"] for w in writes_since(emulator, mark)]
    assert paths == ["/v1/prices", "/v1/products/productivity_suite", f"/v1/prices/{old['id']}"]
    assert plan(plans, emulator).calls == ()


def test_a_removed_price_is_archived(emulator: EmulatorHandle, plans: Path) -> None:
    apply(plans, emulator)
    jpy = price_by_key(emulator, "suite_per_5_users_monthly_jpy")
    edit(
        plans / "productivity.yaml",
        """      - lookup_key: suite_per_5_users_monthly_jpy
        nickname: Standard Cost Per 5 Users (JPY)
        currency: jpy
        unit_amount: 1500
        recurring: {interval: month}
        transform_quantity: {divide_by: 5, round: up}
""",
        "",
    )
    changeset, _ = apply(plans, emulator)
    assert [(c.action, c.path) for c in changeset.calls] == [("archive", f"/v1/prices/{jpy['id']}")]
    assert emulator.client().v1.prices.retrieve(jpy["id"]).active is False
    assert plan(plans, emulator).calls == ()


def test_unmanaged_objects_are_untouched(emulator: EmulatorHandle, plans: Path) -> None:
    client = emulator.client()
    product = client.v1.products.create({"id": "hand_made", "name": "Made in the Dashboard"})
    price = client.v1.prices.create(
        {
            "product": "hand_made",
            "currency": "usd",
            "unit_amount": 500,
            "lookup_key": "hand_made_monthly",
            "recurring": {"interval": "month"},
        }
    )

    def current() -> tuple[dict[str, Any], dict[str, Any]]:
        return client.v1.products.retrieve(product.id).to_dict(), client.v1.prices.retrieve(price.id).to_dict()

    snapshot = current()
    mark = len(emulator.requests())
    apply(plans, emulator)
    edit(plans / "productivity.yaml", "unit_amount: 1000\n", "unit_amount: 1100\n")
    apply(plans, emulator)
    shutil.rmtree(plans)
    plans.mkdir()
    (plans / "empty.yaml").write_text("products: []\n")
    # everything pricebook made is archived (on purpose: the flag says so); the rest stays as it was
    removal, _ = apply(plans, emulator, allow_mass_archive=True)
    assert removal.calls
    touched = {w["path"] for w in writes_since(emulator, mark)}
    assert f"/v1/products/{product.id}" not in touched and f"/v1/prices/{price.id}" not in touched
    assert current() == snapshot


# -- the command ---------------------------------------------------------------------------------------------------


def run(args: list[str], emulator: EmulatorHandle, *, key: str = SECRET_KEY) -> subprocess.CompletedProcess[str]:
    return run_pricebook(args, emulator, key=key)


def no_key(result: subprocess.CompletedProcess[str], key: str = SECRET_KEY) -> None:
    assert key not in result.stdout
    assert key not in result.stderr
    assert key[8:] not in result.stdout + result.stderr  # not even without its prefix


def test_the_command_applies_with_auto_approve_and_never_prints_the_key(emulator: EmulatorHandle, plans: Path) -> None:
    first = run(["apply", "--auto-approve", "--rate", "500", str(plans)], emulator)
    assert first.returncode == 0, first.stderr
    assert "Apply complete" in first.stdout
    no_key(first)
    second = run(["apply", "--auto-approve", str(plans)], emulator)
    assert second.returncode == 0, second.stderr
    assert "No changes" in second.stdout
    assert "Apply complete" not in second.stdout
    no_key(second)


def test_without_a_terminal_or_auto_approve_apply_refuses(emulator: EmulatorHandle, plans: Path) -> None:
    result = run(["apply", str(plans)], emulator)
    assert result.returncode == 1
    assert "--auto-approve" in result.stderr
    assert writes_since(emulator, 0) == []
    no_key(result)


def test_a_failing_apply_reports_what_was_done_and_exits_1(emulator_factory: EmulatorFactory, plans: Path) -> None:
    # Every write fails with a 500, in one round: Stripe's message, the done / failed / not attempted report, exit 1.
    broken = emulator_factory(fail_rate=1.0, seed=3)
    result = run(["apply", "--auto-approve", "--rate", "500", "--max-rounds", "1", str(plans)], broken)
    assert result.returncode == 1
    assert "Apply stopped after" in result.stderr and "--max-rounds" in result.stderr
    assert "failed: create" in result.stderr and "(500) - outcome unknown" in result.stderr
    assert "not attempted" in result.stderr
    assert "run `pricebook apply` again" in result.stderr
    no_key(result)


def test_when_every_write_answers_500_apply_still_finishes_in_rounds(
    emulator_factory: EmulatorFactory, plans: Path
) -> None:
    # Half the 500s come after the write committed: each round's read shows those done, so the rounds finish the
    # catalog, every object once, and the next plan is empty.
    broken = emulator_factory(fail_rate=1.0, seed=3)
    planned = json.loads(run(["plan", "--format", "json", str(plans)], broken).stdout)
    family = [c for c in planned["changes"] if c["kind"] in ("price", "plan")]
    result = run(["apply", "--auto-approve", "--rate", "500", str(plans)], broken)
    assert result.returncode == 0, result.stderr
    assert "Apply complete in " in result.stdout
    assert "round 2 (what a fresh read left to do after steps with an unknown outcome)" in result.stdout
    assert "Round 2, what a fresh read left to do after steps with an unknown outcome: " in result.stderr
    after = run(["plan", "--detailed-exitcode", str(plans)], broken)
    assert after.returncode == 0, after.stdout
    assert len(all_prices(broken)) == len(family)  # every price and plan once
    assert all(r["status"] == 500 for r in broken.requests() if r["method"] == "POST")
    no_key(result)


def test_a_changeset_with_problems_is_shown_and_refused(emulator: EmulatorHandle, plans: Path) -> None:
    # A product pricebook does not own holds an id the catalog wants: the plan says how to adopt it.
    emulator.client().v1.products.create({"id": "team_seats", "name": "Made by hand"})
    result = run(["apply", "--auto-approve", str(plans)], emulator)
    assert result.returncode == 1
    assert "refusing to apply" in result.stderr and "team_seats" in result.stderr
    assert [w["path"] for w in writes_since(emulator, 0)] == ["/v1/products"]  # only the test's own create
    no_key(result)


def test_a_live_key_is_refused_without_live(emulator: EmulatorHandle, plans: Path) -> None:
    live_key = "sk_live_applyLIVEsecret0123456789"
    result = run(["apply", "--auto-approve", str(plans)], emulator, key=live_key)
    assert result.returncode == 1
    assert "--live" in result.stderr
    assert emulator.requests() == []
    no_key(result, live_key)
    # with --live it goes ahead; the emulator (a test-mode account) refuses the key, and still nothing leaks
    allowed = run(["apply", "--auto-approve", "--live", str(plans)], emulator, key=live_key)
    assert allowed.returncode == 1
    assert "Invalid API Key" in allowed.stderr
    no_key(allowed, live_key)


def test_a_saved_plan_applies_once_and_a_stale_one_is_refused(
    emulator: EmulatorHandle, plans: Path, tmp_path: Path
) -> None:
    saved = tmp_path / "changes.json"
    made = run(["plan", str(plans), "--out", str(saved)], emulator)  # the file `plan` writes is apply's input
    assert made.returncode == 0, made.stderr
    no_key(made)
    assert SECRET_KEY not in saved.read_text()
    stale_copy = tmp_path / "stale.json"
    shutil.copy(saved, stale_copy)

    ok = run(["apply", "--auto-approve", "--plan", str(saved)], emulator)
    assert ok.returncode == 0, ok.stderr
    no_key(ok)
    mark = len(emulator.requests())
    stale = run(["apply", "--auto-approve", "--plan", str(stale_copy)], emulator)
    assert stale.returncode == 1
    assert "changed since" in stale.stderr and "pricebook plan" in stale.stderr
    assert writes_since(emulator, mark) == []
    no_key(stale)


def test_a_saved_plan_is_the_approval_no_confirmation_is_asked(
    emulator: EmulatorHandle, plans: Path, tmp_path: Path
) -> None:
    saved = tmp_path / "changes.json"
    assert run(["plan", str(plans), "--out", str(saved)], emulator).returncode == 0
    result = run(["apply", "--plan", str(saved)], emulator)  # no terminal, no --auto-approve: CI as it is
    assert result.returncode == 0, result.stderr
    assert f"Applying the saved plan {saved}: it is the approval, so no confirmation is asked." in result.stdout
    assert "Apply complete" in result.stdout
    assert run(["plan", str(plans), "--detailed-exitcode"], emulator).returncode == 0


def test_apply_refuses_a_plan_other_than_the_approved_one(emulator: EmulatorHandle, plans: Path) -> None:
    approved = json.loads(run(["plan", str(plans), "--format", "json"], emulator).stdout)["plan_hash"]
    edit(plans / "productivity.yaml", "unit_amount: 1000\n", "unit_amount: 1100\n")  # a change after the review
    refused = run(["apply", "--auto-approve", "--expect-plan-hash", approved, str(plans)], emulator)
    assert refused.returncode == 1
    assert "the plan differs from the one approved" in refused.stderr and approved in refused.stderr
    assert writes_since(emulator, 0) == []
    now = json.loads(run(["plan", str(plans), "--format", "json"], emulator).stdout)["plan_hash"]
    assert now != approved
    applied = run(["apply", "--auto-approve", "--expect-plan-hash", now, str(plans)], emulator)
    assert applied.returncode == 0, applied.stderr
    assert f"Plan hash: {now}" in applied.stdout


def test_a_saved_plan_is_refused_when_someone_else_changed_the_account(
    emulator: EmulatorHandle, plans: Path, tmp_path: Path
) -> None:
    saved = tmp_path / "changes.json"
    saved.write_text(json.dumps(plan(plans, emulator).to_json()))
    emulator.client().v1.products.create({"id": "hand_made", "name": "Made in the Dashboard"})
    result = run(["apply", "--auto-approve", "--plan", str(saved)], emulator)
    assert result.returncode == 1
    assert "changed since" in result.stderr
    assert [w["path"] for w in writes_since(emulator, 0)] == ["/v1/products"]  # only the test's own create


def test_plan_file_and_paths_together_are_refused(emulator: EmulatorHandle, plans: Path, tmp_path: Path) -> None:
    result = run(["apply", "--auto-approve", "--plan", str(tmp_path / "x.json"), str(plans)], emulator)
    assert result.returncode == 1
    assert "not both" in result.stderr


@pytest.mark.parametrize(("answer", "applied"), [("y\n", True), ("n\n", False), ("\n", False)])
def test_on_a_terminal_apply_asks_first(
    emulator: EmulatorHandle, plans: Path, monkeypatch: pytest.MonkeyPatch, answer: str, applied: bool
) -> None:
    monkeypatch.setattr(apply_cli, "can_ask", lambda: True)
    monkeypatch.setenv("STRIPE_API_KEY", SECRET_KEY)
    monkeypatch.setenv("STRIPE_API_BASE", emulator.url)
    result = CliRunner().invoke(apply_cli.command, ["--rate", "500", str(plans)], input=answer)
    assert "Apply these changes? [y/N]" in result.output
    assert (len(writes_since(emulator, 0)) > 0) is applied
    assert result.exit_code == (0 if applied else 1)
    assert SECRET_KEY not in result.output


def test_setting_a_tax_behavior_on_a_price_with_currency_options_converges_in_one_apply(
    emulator: EmulatorHandle, tmp_path: Path
) -> None:
    # The options take the price's tax_behavior explicitly, so after one apply the plan has nothing left.
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    price = (
        "products:\n"
        "  - id: suite\n"
        "    name: Suite\n"
        "    prices:\n"
        "      - lookup_key: suite_yearly\n"
        "        currency: usd\n"
        "        unit_amount: 10000\n"
        "        recurring: {interval: year}\n"
        "        currency_options: {eur: {unit_amount: 9500}}\n"
    )
    (catalog / "suite.yaml").write_text(price)
    assert run_pricebook(["apply", "--auto-approve", str(catalog)], emulator).returncode == 0
    (catalog / "suite.yaml").write_text(price + "        tax_behavior: exclusive\n")
    applied = run_pricebook(["apply", "--auto-approve", str(catalog)], emulator)
    assert applied.returncode == 0, applied.stderr
    after = run_pricebook(["plan", "--detailed-exitcode", str(catalog)], emulator)
    assert after.returncode == 0, after.stdout


def test_a_price_trial_is_created_kept_and_carried_by_a_replace(emulator: EmulatorHandle, plans: Path) -> None:
    edit(
        plans / "productivity.yaml",
        "recurring: {interval: year}\n",
        "recurring: {interval: year, trial_period_days: 14}\n",
    )
    apply(plans, emulator)
    yearly = price_by_key(emulator, "suite_per_5_users_yearly")
    assert yearly["recurring"]["trial_period_days"] == 14
    assert plan(plans, emulator).calls == ()

    # Stripe cannot change a price's trial: a new price with the new trial replaces it
    edit(plans / "productivity.yaml", "trial_period_days: 14}", "trial_period_days: 30}")
    changeset, _ = apply(plans, emulator)
    (change,) = [c for c in changeset.changes if c.key == "suite_per_5_users_yearly"]
    assert change.action == "replace"
    assert [(f.path, f.before, f.after, f.forces_replacement) for f in change.fields] == [
        ("recurring.trial_period_days", 14, 30, True)
    ]
    assert price_by_key(emulator, "suite_per_5_users_yearly")["recurring"]["trial_period_days"] == 30
    assert plan(plans, emulator).calls == ()
