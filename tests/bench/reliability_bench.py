"""`make bench` (reliability): the fault matrix.

An emulator fails a share of all writes with a 500, half of them before the write commits and half after, drawn
from a seed. Against it, in two steps: a catalog of 200 prices over 10 products (each with a default price: 220
writes) is applied to the empty account; then 40 of its amounts change (replaces, default prices among them) and
20 prices leave it (archives). For each step `pricebook apply --auto-approve` runs as a user runs it, in a
process of its own, until it exits 0, at most 3 times. Each case reports the invocations and the rounds each
took, the objects made twice or left over (duplicates), and whether `pricebook plan` shows no changes after.
Target: every seed converges within 3 invocations at each step, 0 duplicates, an empty plan after.

Run alone with `python -m tests.bench.reliability_bench [SEEDS]` (default 10 seeds for each fail rate).
"""

from __future__ import annotations

import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from compiler.emulator import EmulatorHandle, Knobs, run_in_thread
from tests.bench.apply_bench import write_catalog
from tests.cli import run_pricebook

PRICES = 200
PRODUCTS = 10
FAIL_RATES = (0.2, 0.4)
MAX_INVOCATIONS = 3
SEEDS = 10
#: a round line of apply's report (`  round 2 (...)`), on stdout when it finished, stderr when it stopped
ROUND_LINE = re.compile(r"^  round (\d+) \(", re.MULTILINE)


#: the second step: these prices (by number) get a new amount, and these leave the catalog
CHANGED = {n: 5000 + n for n in range(0, PRICES, 20)} | {n: 7000 + n for n in range(1, 32) if n % 20}  # 40
DROPPED = frozenset(n for n in range(151, 172) if n % 20)  # 20 prices, none of them a default price


@dataclass(frozen=True)
class Step:
    """One step of a seed: `pricebook apply` until it exits 0 (at most `MAX_INVOCATIONS` times), then checked."""

    exits: tuple[int, ...]  # of each `pricebook apply`, the last one 0 when it converged
    rounds: tuple[int, ...]  # each invocation's
    duplicates: int  # prices and products beyond those the step should leave, and active prices without a key
    plan_empty: bool  # `pricebook plan --detailed-exitcode` exited 0 after

    @property
    def invocations(self) -> int:
        return len(self.exits)

    @property
    def converged(self) -> bool:
        return self.exits[-1] == 0 and self.duplicates == 0 and self.plan_empty


@dataclass(frozen=True)
class FaultRun:
    """One seed of the matrix: its two steps."""

    fail_rate: float
    seed: int
    steps: tuple[Step, ...]
    faults: Counter[str]  # the emulator's injected 500s: "before_commit", "after_commit"
    seconds: float

    @property
    def converged(self) -> bool:
        return all(step.converged for step in self.steps)


def duplicates(emulator: EmulatorHandle, prices: int) -> int:
    """How far the account is from holding `prices` prices (each with its own lookup_key, or archived without one
    after a replace) and `PRODUCTS` products: an object made twice, or a price left active without its key."""
    with emulator.emulator._lock:
        stored = [dict(p) for p in emulator.emulator.store.prices.values()]
        products = len(emulator.emulator.store.products)
    active_keyless = sum(1 for p in stored if p["active"] and not p.get("lookup_key"))
    return abs(len(stored) - prices) + abs(products - PRODUCTS) + active_keyless


def apply_until_done(catalog: Path, emulator: EmulatorHandle, prices: int) -> Step:
    exits: list[int] = []
    rounds: list[int] = []
    while len(exits) < MAX_INVOCATIONS and (not exits or exits[-1] != 0):
        # paced far above the emulator's speed: the faults are what this measures, not the rate limit; the 20
        # archives of the second step are meant
        command = ["apply", "--auto-approve", "--rate", "500", "--allow-mass-archive", str(catalog)]
        result = run_pricebook(command, emulator)
        exits.append(result.returncode)
        numbers = [int(n) for n in ROUND_LINE.findall(result.stdout + result.stderr)]
        rounds.append(max(numbers, default=1))
    after = run_pricebook(["plan", "--detailed-exitcode", str(catalog)], emulator)
    return Step(tuple(exits), tuple(rounds), duplicates(emulator, prices), after.returncode == 0)


def run_case(fail_rate: float, seed: int) -> FaultRun:
    """Both steps of one seed, against an emulator of its own."""
    started = time.monotonic()
    knobs = Knobs(fail_rate=fail_rate, seed=seed)
    with tempfile.TemporaryDirectory() as tmp, run_in_thread(knobs=knobs) as emulator:
        catalog = Path(tmp) / "plans"
        write_catalog(catalog, PRICES, products=PRODUCTS, default_prices=True)
        created = apply_until_done(catalog, emulator, PRICES)
        write_catalog(catalog, PRICES, products=PRODUCTS, default_prices=True, amounts=CHANGED, skip=DROPPED)
        changed = apply_until_done(catalog, emulator, PRICES + len(CHANGED))
        faults = Counter(str(r["fault"]) for r in emulator.requests() if r["fault"])
    return FaultRun(fail_rate, seed, (created, changed), faults, time.monotonic() - started)


def main() -> None:
    seeds = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else SEEDS
    failed = False
    print(f"{PRICES} prices over {PRODUCTS} products with default prices created from nothing, then {len(CHANGED)}")
    print(f"replaced and {len(DROPPED)} archived; at most {MAX_INVOCATIONS} applies a step; {seeds} seeds a fail rate")
    for rate in FAIL_RATES:
        runs = [run_case(rate, seed) for seed in range(1, seeds + 1)]
        faults = sum((r.faults for r in runs), Counter[str]())
        print(f"\nfail rate {rate:.0%}: {sum(1 for r in runs if r.converged)}/{len(runs)} seeds converged")
        for number, name in enumerate(("create", "change")):
            steps = [r.steps[number] for r in runs]
            invocations = dict(sorted(Counter(s.invocations for s in steps if s.converged).items()))
            first = [s.rounds[0] for s in steps]
            empty = sum(1 for s in steps if s.plan_empty)
            print(f"  {name}: seeds by applies needed {invocations}; rounds of the first apply median")
            print(f"    {statistics.median(first):g}, max {max(first)}; duplicates {sum(s.duplicates for s in steps)}; "
                  f"plan empty after {empty}/{len(steps)}")
        print(f"  injected 500s: {faults['before_commit']} before the commit, {faults['after_commit']} after")
        print(f"  time per seed: median {statistics.median(r.seconds for r in runs):.1f} s")
        for run in runs:
            if not run.converged:
                print(f"  seed {run.seed} did not converge: {run.steps}")
        failed = failed or not all(r.converged for r in runs)
    if failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
