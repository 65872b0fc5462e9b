"""Benchmark of the catalog rules alone: how their time grows with the number of prices.

A rule that compares every price with every other would pass the unit tests and only show at 10,000 prices; this
times `run_rules` on 1,000 to 8,000 tiered, metered prices with currency options (the entries the most rules look
at), best of a few runs of CPU time, and prints the growth against linear. Timing lives here rather than in the
unit tests, where a loaded CI machine could fail a wall-clock bound.

    python -m tests.bench.rules_bench [N_PRICES...]
"""

from __future__ import annotations

import sys
import time
from typing import Any

from compiler.catalog.rules import run_rules
from compiler.catalog.source import Document, Entry, iter_entries

SIZES = (1_000, 2_000, 8_000)
RUNS = 3
#: growth from the smallest to the largest size, against linear, above which the rules are called not linear
#: (a quadratic rule gives ~8x here)
LINEAR_LIMIT = 2.0

BASE: dict[str, Any] = {
    "meters": [{"event_name": "api_calls", "display_name": "API calls", "default_aggregation": {"formula": "sum"}}],
    "products": [{"id": "suite", "name": "Suite"}],
}


def tiered_prices(n: int) -> list[dict[str, Any]]:
    """`n` graduated, metered prices with a eur currency option, all valid."""
    tiers = [{"up_to": 10, "unit_amount": 5}, {"up_to": "inf", "unit_amount": 4}]
    return [
        {
            "lookup_key": f"k{i}",
            "product": "suite",
            "currency": "usd",
            "billing_scheme": "tiered",
            "tiers_mode": "graduated",
            "tiers": tiers,
            "recurring": {"interval": "month", "usage_type": "metered", "meter": "api_calls"},
            "currency_options": {"eur": {"tiers": tiers}},
        }
        for i in range(n)
    ]


def entries_for(n: int) -> list[Entry]:
    docs = [Document("plans/base.yaml", BASE), Document("plans/big.yaml", {"prices": tiered_prices(n)})]
    return [entry for doc in docs for entry in iter_entries(doc)]


def measure(n: int, runs: int = RUNS) -> float:
    """The best CPU seconds of `runs` runs of the rules over `n` prices (which must draw no diagnostic)."""
    entries = entries_for(n)
    best = float("inf")
    for _ in range(runs):
        started = time.process_time()
        found = run_rules(entries)
        best = min(best, time.process_time() - started)
        if found:
            raise SystemExit(f"the benchmark catalog draws diagnostics: {[d.rule for d in found[:3]]}")
    return best


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    sizes = [int(a) for a in args if a.isdigit()] or list(SIZES)  # `python -m tests.bench rules_bench` passes its name
    print(f"{'prices':>8} {'cpu s':>8} {'µs/price':>9}")
    times: list[tuple[int, float]] = []
    for n in sizes:
        seconds = measure(n)
        times.append((n, seconds))
        print(f"{n:>8} {seconds:>8.3f} {seconds / n * 1e6:>9.1f}", flush=True)
    if len(times) >= 2:
        (small, t_small), (large, t_large) = times[0], times[-1]
        growth = (t_large / t_small) / (large / small) if t_small else float("inf")
        verdict = "linear" if growth < LINEAR_LIMIT else "NOT linear"
        print(f"growth: {growth:.2f}x linear (1.00 = exactly linear): {verdict}")


if __name__ == "__main__":
    main()
