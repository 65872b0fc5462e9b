"""Apply under faults: the emulator fails writes with 500s (before and after the commit) and rate-limits; the
gateway is paced above that limit so 429s really happen. Applying again and again must converge: the account
equal to the catalog, no duplicate object, and a final plan with no changes."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from compiler.apply import ApplyResult, apply_changeset
from compiler.changes.changeset import ChangeSet
from compiler.changes.model import load_catalog
from compiler.changes.planning import changeset_for
from compiler.emulator import EmulatorHandle
from compiler.stripe.gateway import Connection, Gateway, RetryPolicy
from tests.bench.apply_bench import write_catalog
from tests.integration.conftest import EmulatorFactory

PRICES = 300
PRODUCTS = 10
MAX_ROUNDS = 60  # a bound, far above what convergence takes


def _plan(directory: Path, gateway: Gateway) -> ChangeSet:
    # the second step drops 20 prices on purpose: more than a plan archives without being told
    changeset, _ = changeset_for(load_catalog([str(directory)]), gateway, allow_mass_archive=True)
    return changeset


def converge(directory: Path, gateway: Gateway) -> tuple[int, list[ApplyResult]]:
    """Plan and apply until an apply goes through; return the number of rounds and every result."""
    results: list[ApplyResult] = []
    for rounds in range(1, MAX_ROUNDS + 1):
        result = apply_changeset(_plan(directory, gateway), gateway, workers=8)
        results.append(result)
        if result.ok:
            return rounds, results
    raise AssertionError(f"no convergence after {MAX_ROUNDS} applies: last failure {results[-1].failed}")


def every_price(emulator: EmulatorHandle) -> list[dict[str, Any]]:
    # Read straight from the emulator's store: the faults hit writes only, but this check must not depend on them.
    with emulator.emulator._lock:
        return [dict(p) for p in emulator.emulator.store.prices.values()]


def test_repeated_applies_under_faults_and_rate_limits_converge(
    emulator_factory: EmulatorFactory, tmp_path: Path
) -> None:
    emulator = emulator_factory(fail_rate=0.08, rate_limit=60, seed=11)
    # paced above the server's limit on purpose, with short backoff so the test stays quick
    retry = RetryPolicy(initial_delay=0.05, max_delay=0.4)
    gateway = Gateway(Connection(emulator.api_key, emulator.url), rate=90, retry=retry)
    catalog = tmp_path / "plans"

    # 1. Build 300 prices over 10 products (with default prices) from nothing.
    write_catalog(catalog, PRICES, products=PRODUCTS, default_prices=True)
    rounds, _ = converge(catalog, gateway)
    assert rounds > 1, "the faults should have stopped at least one apply"
    assert _plan(catalog, gateway).calls == ()
    prices = every_price(emulator)
    assert len(prices) == PRICES  # no duplicate: every committed create was seen by the next read
    assert sorted(p["lookup_key"] for p in prices) == [f"bench_price_{n:05d}" for n in range(PRICES)]
    assert all(p["active"] and p["unit_amount"] == 100 + int(p["lookup_key"][-5:]) for p in prices)

    # 2. Change 40 amounts (replaces, including default prices) and drop 20 prices (archives), under faults.
    changed = {n: 5000 + n for n in range(0, PRICES, 30)} | {n: 7000 + n for n in range(1, 40)}
    dropped = set(range(250, 270))
    write_catalog(catalog, PRICES, products=PRODUCTS, default_prices=True, amounts=changed, skip=dropped)
    rounds, _ = converge(catalog, gateway)
    assert rounds > 1
    final = _plan(catalog, gateway)
    assert final.calls == () and not final.has_changes

    prices = every_price(emulator)
    assert len(prices) == PRICES + len(changed)  # one new price per replace, never two
    active = [p for p in prices if p["active"]]
    keys = Counter(p["lookup_key"] for p in prices if p["lookup_key"])
    assert all(count == 1 for count in keys.values())
    assert sorted(p["lookup_key"] for p in active) == sorted(
        f"bench_price_{n:05d}" for n in range(PRICES) if n not in dropped
    )
    for price in active:
        n = int(price["lookup_key"][-5:])
        assert price["unit_amount"] == changed.get(n, 100 + n)
    with emulator.emulator._lock:
        products = dict(emulator.emulator.store.products)
    by_id = {p["id"]: p for p in prices}
    for p in range(PRODUCTS):
        default = by_id[products[f"bench_product_{p}"]["default_price"]]
        assert default["active"] and default["lookup_key"] == f"bench_price_{p * 30:05d}"

    log = emulator.requests()
    assert any(r["status"] == 429 for r in log), "the rate limit should have been hit"
    assert any(r["fault"] == "after_commit" for r in log) and any(r["fault"] == "before_commit" for r in log)
    assert gateway.stats.rate_limited == sum(1 for r in log if r["status"] == 429)
