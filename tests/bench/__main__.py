"""`make bench`: every benchmark, one after the other. Each module prints its own figures."""

from __future__ import annotations

import importlib
import sys
import time

BENCHES = (
    "startup_bench",
    "validate_bench",
    "rules_bench",
    "compile_bench",
    "memory_bench",
    "emulator_bench",
    "plan_bench",
    "subscribers_bench",
    "apply_bench",
    "reliability_bench",
    "usage_bench",
)


def main() -> None:
    only = set(sys.argv[1:])
    del sys.argv[1:]  # the names chosen here are no arguments of the benchmarks, which read sys.argv too
    for name in BENCHES:
        if only and name not in only:
            continue
        print(f"\n== {name} ==", flush=True)
        started = time.perf_counter()
        module = importlib.import_module(f"tests.bench.{name}")
        module.main()
        print(f"({name} took {time.perf_counter() - started:.1f} s)", flush=True)


if __name__ == "__main__":
    main()
