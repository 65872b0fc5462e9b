"""Benchmark of start-up: `pricebook validate plans/` on the example catalog, end to end in a fresh process, as a
pre-commit hook or an editor runs it; beside it `pricebook --version` (the start alone) and the import of the
command line. Target: validate well under half a second on a 2-core machine (median under 0.35 s), which
needs offline commands not to load the stripe SDK.

    python -m tests.bench.startup_bench [RUNS]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PRICEBOOK = Path(sys.executable).parent / "pricebook"
RUNS = 15
TARGET_SECONDS = 0.35

CASES = {
    "pricebook validate plans/": [str(PRICEBOOK), "validate", "plans/"],
    "pricebook --version": [str(PRICEBOOK), "--version"],
    "python -c 'import compiler.cli'": [sys.executable, "-c", "import compiler.cli"],
    "python -c pass (the interpreter alone)": [sys.executable, "-c", "pass"],
}


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=REPO, check=True, capture_output=True)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    runs = int(args[0]) if args else RUNS
    print(f"{'command':<42} {'best s':>7} {'median s':>9} {'worst s':>8}  ({runs} runs each, fresh process)")
    medians: dict[str, float] = {}
    for name, command in CASES.items():
        timed(command)  # warm the file cache
        times = [timed(command) for _ in range(runs)]
        medians[name] = statistics.median(times)
        print(f"{name:<42} {min(times):>7.3f} {medians[name]:>9.3f} {max(times):>8.3f}", flush=True)
    validate = medians["pricebook validate plans/"]
    verdict = "met" if validate < TARGET_SECONDS else "MISSED"
    print(f"validate median {validate:.3f} s, target under {TARGET_SECONDS} s: {verdict}")


if __name__ == "__main__":
    main()
