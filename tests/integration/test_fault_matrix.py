"""The fault matrix, a few seeds of it (`make bench` runs ten for each fail rate): a 200-price catalog created,
then changed, by `pricebook apply` while the emulator fails a share of the writes with 500s, before and after
the commit. Every seed converges within 3 invocations of apply at each step, makes nothing twice, and leaves a
plan with no changes. A saved plan under faults finishes too, sending only its own calls."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.bench.reliability_bench import MAX_INVOCATIONS, run_case
from tests.cli import run_pricebook
from tests.integration.conftest import EmulatorFactory


@pytest.mark.parametrize(("fail_rate", "seed"), [(0.2, 1), (0.4, 2)])
def test_a_seed_of_the_fault_matrix_converges_within_three_applies(fail_rate: float, seed: int) -> None:
    run = run_case(fail_rate, seed)
    # the faults really happened, on both sides of the commit
    assert run.faults["before_commit"] > 0 and run.faults["after_commit"] > 0
    for step in run.steps:  # creating the catalog, then replacing and archiving
        assert step.invocations <= MAX_INVOCATIONS and step.exits[-1] == 0, run
        assert step.duplicates == 0, run
        assert step.plan_empty, run


def test_a_saved_plan_under_faults_finishes_in_rounds_sending_only_its_own_calls(
    emulator_factory: EmulatorFactory, plans: Path, tmp_path: Path
) -> None:
    emulator = emulator_factory(fail_rate=0.4, seed=7)
    saved = tmp_path / "plan.json"
    assert run_pricebook(["plan", str(plans), "--out", str(saved)], emulator).returncode == 0
    calls = json.loads(saved.read_text())["calls"]
    # a saved call's path, with any placeholder standing for the id apply learns
    allowed = [re.compile(re.sub(r"\\\{\\\{[^}]+\\\}\\\}", "[^/]+", re.escape(c["path"]))) for c in calls]

    result = run_pricebook(["apply", "--auto-approve", "--rate", "500", "--plan", str(saved)], emulator)

    assert result.returncode == 0, result.stderr
    assert "Apply complete in " in result.stdout  # it took rounds: the faults hit
    writes = [r for r in emulator.requests() if r["method"] == "POST"]
    assert all(any(p.fullmatch(str(w["path"])) for p in allowed) for w in writes)
    assert run_pricebook(["plan", "--detailed-exitcode", str(plans)], emulator).returncode == 0
    with emulator.emulator._lock:
        keys = [p.get("lookup_key") for p in emulator.emulator.store.prices.values() if p.get("lookup_key")]
    assert len(keys) == len(set(keys))
