"""`make bench`: how long `pricebook compile` takes beyond validation, for 1,000 and 10,000 prices.

Validation (load, schema, rules) is timed once, for context; the target is model + compile under 1 s for 10,000
prices. Rendering (JSON, curl) and the conformance check are timed too, since `compile --format curl --check`
pays for them. Phases after validation report the best of three runs: the machine is often shared.

    python -m tests.bench.compile_bench [N_PRICES...]
"""

from __future__ import annotations

import gc
import json
import sys
import tempfile
import time
from collections.abc import Callable
from typing import TypeVar

from compiler.catalog.check import check_catalog
from compiler.changes.compile import compile_catalog
from compiler.changes.model import build_catalog
from compiler.render.curl import render_calls
from compiler.stripe.conformance import check_calls
from tests.bench.generate import generate_catalog

SIZES = (1_000, 10_000)
TARGET_SECONDS = 1.0  # model + compile for 10,000 prices
REPEAT = 3  # best of, for everything after validation

T = TypeVar("T")


def timed(func: Callable[[], T], repeat: int = 1) -> tuple[T, float]:
    """The value and the best time of `repeat` runs (the least disturbed by other work on the machine), each
    after a full collection so one phase's garbage is not collected on the next one's clock."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        value = func()
        best = min(best, time.perf_counter() - started)
    return value, best


def bench(n_prices: int) -> float:
    """Prints one size's figures; returns the seconds beyond validation (model + compile)."""
    with tempfile.TemporaryDirectory() as directory:
        generate_catalog(directory, n_prices, seed=0)
        result, validate_s = timed(lambda: check_catalog([directory]))
    if not result.ok:
        raise SystemExit(f"the generated catalog is invalid: {result.errors[0].format()}")
    catalog, model_s = timed(lambda: build_catalog(result.entries), REPEAT)
    calls, compile_s = timed(lambda: compile_catalog(catalog), REPEAT)
    _, json_s = timed(lambda: json.dumps([c.to_json() for c in calls]), REPEAT)
    _, curl_s = timed(lambda: render_calls(calls), REPEAT)
    problems, check_s = timed(lambda: check_calls(calls), REPEAT)
    beyond = model_s + compile_s
    print(
        f"{n_prices:>6} prices, {len(calls):>6} calls: validate {validate_s:5.2f} s | "
        f"model {model_s:5.3f} s + compile {compile_s:5.3f} s = {beyond:5.3f} s beyond validation | "
        f"then json {json_s:5.3f} s or curl {curl_s:5.3f} s; conformance {check_s:5.3f} s"
        + (f" ({len(problems)} PROBLEMS)" if problems else "")
    )
    return beyond


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    sizes = tuple(int(a) for a in args if a.isdigit()) or SIZES
    figures = {n: bench(n) for n in sizes}
    largest = max(figures)
    verdict = "ok" if figures[largest] < TARGET_SECONDS or largest < 10_000 else "OVER TARGET"
    print(f"target: model + compile under {TARGET_SECONDS:.0f} s for 10,000 prices: {verdict}")


if __name__ == "__main__":
    main()
