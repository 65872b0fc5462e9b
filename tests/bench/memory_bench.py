"""`make bench` (memory): peak resident memory of `pricebook validate` and `pricebook compile --format json` on
generated catalogs of 10,000 and 100,000 prices, each command in a fresh process as a user runs it.

Targets at 100,000 prices: compile under 600 MB, validate under 400 MB, and both linear: the memory a price
costs stays the same from 10,000 to 100,000 (the bare interpreter, `pricebook --version`, is measured apart and
left out of that). Run alone with `python -m tests.bench.memory_bench [N_PRICES...]`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.bench import exit_on
from tests.bench.generate import generate_catalog

SIZES = (10_000, 100_000)
TARGETS_MB = {"validate": 400.0, "compile": 600.0}
#: per-price memory may grow this much from the smallest size to the largest and still count as linear
LINEAR = 1.25
ROOT = Path(__file__).resolve().parents[2]
COMMANDS = {"validate": ["validate"], "compile": ["compile", "--format", "json"]}


@dataclass(frozen=True)
class Run:
    command: str
    prices: int
    peak_mb: float
    cpu: float
    wall: float


#: runs `pricebook ARGS` in this process and writes its peak resident memory (KB) to the file named first: the
#: kernel's own figure for this program (VmHWM), which a fork from a large parent does not inflate as it does
#: the rusage of a child
PROBE = """
import sys
from compiler.cli import main
out = sys.argv.pop(1)
try:
    main()
finally:
    with open("/proc/self/status") as status:
        peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    with open(out, "w") as file:
        file.write(peak)
"""


def measure(args: Sequence[str]) -> tuple[float, float, float]:
    """(peak resident MB, CPU seconds, wall seconds) of `pricebook ARGS` with its output thrown away."""
    with tempfile.TemporaryDirectory() as tmp:
        peak_file, errors = Path(tmp) / "peak", Path(tmp) / "errors"
        started = time.perf_counter()
        with errors.open("w") as err:
            process = subprocess.Popen(
                [sys.executable, "-c", PROBE, str(peak_file), *args], stdout=subprocess.DEVNULL, stderr=err, cwd=ROOT
            )
            _, status, usage = os.wait4(process.pid, 0)  # this child's CPU time, not that of every child so far
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            raise RuntimeError(f"pricebook {' '.join(args)} failed: {errors.read_text()[-500:]}")
        return int(peak_file.read_text()) / 1024, usage.ru_utime + usage.ru_stime, wall


def main(argv: Sequence[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    sizes = tuple(int(a) for a in args if a.isdigit()) or SIZES
    baseline, _, _ = measure(["--version"])
    print(f"the interpreter (pricebook --version): {baseline:.0f} MB")
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="pricebook-memory-") as tmp:
        for prices in sizes:
            directory = Path(tmp) / str(prices)
            generate_catalog(directory, prices, seed=1)
            for name, command in COMMANDS.items():
                peak, cpu, wall = measure([*command, str(directory)])
                runs.append(Run(name, prices, peak, cpu, wall))
                per_price = (peak - baseline) * 1024 / prices
                print(
                    f"{name:>8} {prices:>7} prices: peak {peak:6.0f} MB ({per_price:5.2f} KB a price beyond the "
                    f"interpreter), {cpu:5.1f} s CPU, {wall:5.1f} s",
                    flush=True,
                )
    failures = []
    for name, target in TARGETS_MB.items():
        mine = [r for r in runs if r.command == name]
        small, large = min(mine, key=lambda r: r.prices), max(mine, key=lambda r: r.prices)
        if large.prices >= 100_000 and large.peak_mb > target:
            failures.append(f"{name} at {large.prices} prices peaks at {large.peak_mb:.0f} MB (target {target:.0f})")
        if large.prices > small.prices:
            growth = ((large.peak_mb - baseline) / large.prices) / ((small.peak_mb - baseline) / small.prices)
            print(f"{name}: memory a price at {large.prices} / at {small.prices} prices = {growth:.2f} (1.00 = linear)")
            if growth > LINEAR:
                failures.append(f"{name} grows faster than linear ({growth:.2f}x the memory a price)")
    exit_on(failures)


if __name__ == "__main__":
    main()
