"""Two applies on one account at once, each replacing the same prices: one's new price takes the lookup key from
the other's (`transfer_lookup_key`), which is left active without it. Neither may then exit 0 with that extra
price still active: the apply that moved a lookup key reads the account once more and archives it (the catalog),
or stops and says so (a saved plan, which may send nothing it did not show)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from compiler.apply import Ending, RoundCause, apply_in_rounds, rounds_of_saved_plan
from compiler.changes.changeset import ChangeSet
from compiler.changes.model import load_catalog
from compiler.changes.planning import changeset_for, state_between_rounds
from compiler.emulator import EmulatorHandle
from compiler.stripe.calls import ApiCall
from compiler.stripe.gateway import Connection, Gateway
from tests.bench.apply_bench import write_catalog
from tests.cli import PRICEBOOK, REPO, run_pricebook
from tests.integration.conftest import EmulatorFactory

PRICES = 20
PRODUCTS = 2


def stored_prices(emulator: EmulatorHandle) -> list[dict[str, Any]]:
    with emulator.emulator._lock:
        return [dict(p) for p in emulator.emulator.store.prices.values()]


def extra_prices(emulator: EmulatorHandle) -> list[str]:
    """pricebook's active prices without a lookup key: what two replaces of one price at once leave behind."""
    return sorted(
        p["id"]
        for p in stored_prices(emulator)
        if p["active"] and not p.get("lookup_key") and (p.get("metadata") or {}).get("managed_by") == "pricebook"
    )


def replaced_catalog(directory: Path) -> None:
    """The catalog with every amount changed: each price is replaced, default prices included."""
    amounts = {n: 9000 + n for n in range(PRICES)}
    write_catalog(directory, PRICES, products=PRODUCTS, default_prices=True, amounts=amounts)


@pytest.mark.parametrize("delay", [0.2, 0.5, 1.0])
def test_two_applies_started_apart_never_both_succeed_leaving_extra_prices(
    emulator_factory: EmulatorFactory, tmp_path: Path, delay: float
) -> None:
    # latency so that the two runs overlap however they are scheduled
    emulator = emulator_factory(latency_ms=25, seed=5)
    catalog = tmp_path / "plans"
    write_catalog(catalog, PRICES, products=PRODUCTS, default_prices=True)
    assert run_pricebook(["apply", "--auto-approve", "--rate", "500", str(catalog)], emulator).returncode == 0
    replaced_catalog(catalog)

    env = {k: v for k, v in os.environ.items() if not k.startswith("STRIPE_")}
    env.update({"STRIPE_API_KEY": emulator.api_key, "STRIPE_API_BASE": emulator.url, "NO_COLOR": "1"})
    command = [*PRICEBOOK, "apply", "--auto-approve", "--rate", "500", str(catalog)]
    first = subprocess.Popen(command, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(delay)
    second = subprocess.Popen(command, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    outputs = [p.communicate(timeout=120) for p in (first, second)]
    codes = [first.returncode, second.returncode]

    assert set(codes) <= {0, 1}, outputs
    for code, (_out, err) in zip(codes, outputs, strict=True):
        assert "Traceback" not in err
        if code == 1:  # failing is allowed, loudly
            assert "pricebook: error:" in err
    if codes == [0, 0]:
        assert extra_prices(emulator) == []
    # whatever happened, the prices the catalog names are each held once, by an active price
    active_keys = [p["lookup_key"] for p in stored_prices(emulator) if p["active"] and p.get("lookup_key")]
    assert sorted(active_keys) == sorted(set(active_keys))
    assert run_pricebook(["plan", "--detailed-exitcode", str(catalog)], emulator).returncode in (0, 2)


class OtherApplyAfterOurs:
    """A sender through which, right after our first replace's create, "another apply" replaces the same price
    with its own new price (managed, same lookup key, `transfer_lookup_key`): ours is left active without the key."""

    def __init__(self, gateway: Gateway, emulator: EmulatorHandle) -> None:
        self.gateway = gateway
        self.emulator = emulator
        self.taken: list[str] = []  # the ids of our prices the other apply took the key from

    @property
    def livemode(self) -> bool:
        return self.gateway.livemode

    def redact(self, text: str) -> str:
        return self.gateway.redact(text)

    def send(self, call: ApiCall, idempotency_key: str) -> dict[str, Any]:
        body = self.gateway.send(call, idempotency_key)
        if call.moves_lookup_key and not self.taken:
            # the same create under another key: a gateway of its own, as the other process has
            other = Gateway(Connection(self.emulator.api_key, self.emulator.url), rate=500)
            other.request("POST", call.path, call.params, idempotency_key="the-other-apply")
            self.taken.append(str(body["id"]))
        return body


def _replace_one(emulator: EmulatorHandle, catalog: Path) -> Gateway:
    gateway = Gateway(Connection(emulator.api_key, emulator.url), rate=500)
    write_catalog(catalog, 2, products=1, default_prices=True)
    first, _ = changeset_for(load_catalog([str(catalog)]), gateway)
    assert apply_in_rounds(first, gateway, lambda *_: ChangeSet()).ok
    write_catalog(catalog, 2, products=1, default_prices=True, amounts={0: 4200})
    return gateway


def test_the_catalog_apply_archives_the_price_another_apply_took_the_lookup_key_from(
    emulator: EmulatorHandle, tmp_path: Path
) -> None:
    catalog = tmp_path / "plans"
    gateway = _replace_one(emulator, catalog)
    checked = load_catalog([str(catalog)])
    changeset, _ = changeset_for(checked, gateway)
    sender = OtherApplyAfterOurs(gateway, emulator)

    outcome = apply_in_rounds(changeset, sender, lambda *_: changeset_for(checked, gateway)[0])

    assert outcome.ok
    assert [r.cause for r in outcome.rounds] == [RoundCause.PLAN, RoundCause.LOOKUP_KEYS_MOVED]
    (ours,) = sender.taken
    assert [s.call.path for s in outcome.rounds[1].result.done if s.call.path.endswith(ours)]
    assert extra_prices(emulator) == []
    assert changeset_for(checked, gateway)[0].calls == ()


def test_a_saved_plan_stops_and_says_so_when_another_apply_took_its_lookup_key(
    emulator: EmulatorHandle, tmp_path: Path
) -> None:
    catalog = tmp_path / "plans"
    gateway = _replace_one(emulator, catalog)
    saved, start = changeset_for(load_catalog([str(catalog)]), gateway)
    sender = OtherApplyAfterOurs(gateway, emulator)

    reread = rounds_of_saved_plan(saved, start, lambda: state_between_rounds(saved, gateway))
    outcome = apply_in_rounds(saved, sender, reread)

    assert outcome.ending is Ending.BLOCKED and len(outcome.rounds) == 1
    assert outcome.left is not None
    (problem,) = outcome.left.problems
    (ours,) = sender.taken
    assert problem.rule == "account-changed-while-applying" and ours in problem.message
    assert extra_prices(emulator) == [ours]  # the saved plan did not show archiving it, so it is left for a plan
