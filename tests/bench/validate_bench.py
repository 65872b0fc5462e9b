"""Benchmark of `pricebook validate`: time and peak memory for generated catalogs of 1,000 and 10,000 prices.

Time is measured without tracing (best of a few runs, wall clock and CPU), peak memory in a separate run under
tracemalloc (Python allocations), so that tracing does not inflate the time. Target: 10,000 prices in under
2 s on a 2-core machine, growing linearly.

    python -m tests.bench.validate_bench [N_PRICES...]
"""

from __future__ import annotations

import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

from compiler.catalog.check import check_catalog
from compiler.catalog.rules import run_rules  # noqa: F401  (imported up front so that its import is not timed)
from compiler.catalog.schema import fast_validator, validator
from tests.bench.generate import generate_catalog

SIZES = (1_000, 10_000)
RUNS = 3
TARGET_SECONDS = 2.0
TARGET_PRICES = 10_000


@dataclass(frozen=True)
class Figures:
    prices: int
    files: int
    megabytes: float
    wall: float
    cpu: float
    peak_mib: float
    diagnostics: int


def measure(directory: Path, n_prices: int, runs: int = RUNS) -> Figures:
    generated = generate_catalog(directory, n_prices, seed=1)
    size = sum(f.stat().st_size for f in generated.files) / 1e6
    validator()
    fast_validator()
    walls: list[float] = []
    cpus: list[float] = []
    diagnostics = 0
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        result = check_catalog([str(directory)])
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
        diagnostics = len(result.diagnostics)
        if not result.ok:
            raise SystemExit(f"the generated catalog is invalid: {result.diagnostics[:3]}")
    tracemalloc.start()
    check_catalog([str(directory)])
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return Figures(n_prices, len(generated.files), size, min(walls), min(cpus), peak / 2**20, diagnostics)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    sizes = [int(a) for a in args] or list(SIZES)
    print(f"{'prices':>8} {'files':>6} {'MB':>6} {'wall s':>8} {'cpu s':>8} {'peak MiB':>9} {'µs/price':>9}")
    figures: list[Figures] = []
    for n in sizes:
        with tempfile.TemporaryDirectory(prefix="pricebook-bench-") as tmp:
            f = measure(Path(tmp), n)
        figures.append(f)
        print(
            f"{f.prices:>8} {f.files:>6} {f.megabytes:>6.1f} {f.wall:>8.3f} {f.cpu:>8.3f} {f.peak_mib:>9.1f}"
            f" {f.wall / f.prices * 1e6:>9.1f}",
            flush=True,
        )
    if len(figures) >= 2:
        small, large = figures[0], figures[-1]
        ratio = (large.wall / small.wall) / (large.prices / small.prices)
        print(f"growth: {ratio:.2f}x linear (1.00 = exactly linear)")
    for f in figures:
        if f.prices == TARGET_PRICES:
            verdict = "met" if f.wall < TARGET_SECONDS else "NOT met"
            print(f"target: {f.prices} prices in under {TARGET_SECONDS:.0f} s: {verdict} ({f.wall:.2f} s)")


if __name__ == "__main__":
    main()
