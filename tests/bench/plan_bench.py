"""`make bench` (plan): `pricebook plan` over 10,000 prices against the emulator.

Builds the account from a generated catalog (its compiled create calls sent through the gateway), then plans
the same catalog (no changes expected) and prints, from the emulator's own request log, the requests the plan
sent next to the minimum (one page of 100 per resource type: meters, products, and the price family, plans
included), and the time. Then the same account behind 100 ms of latency per request: the time should stay close
to requests × latency (the reads are sequential, so nothing else should add up).

Targets: requests = minimum + a constant; plan without latency under 5 s (unpaced: pricebook's and the
emulator's own cost). The command's gateway paces every request at Stripe's test-mode limit (25/s), which alone
takes (requests - 1) / 25 s; that run is shown too and must stay within a second of it. With latency, the time
is compared with requests x (latency + the unpaced time per request): the emulator's service time per page is
part of every request, latency or not. Run alone with `python -m tests.bench.plan_bench [PRICES] [LATENCY_PRICES]`.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from compiler.changes.changeset import ChangeSet
from compiler.changes.compile import compile_catalog
from compiler.changes.model import Catalog, CheckedCatalog, load_catalog
from compiler.changes.planning import changeset_for
from compiler.emulator import EmulatorHandle, run_in_thread
from compiler.emulator.runner import TEST_API_KEY
from compiler.emulator.store import save_json
from compiler.stripe.calls import ApiCall
from compiler.stripe.gateway import TEST_RATE, Connection, Gateway
from compiler.stripe.kinds import Kind
from tests.bench.generate import generate_catalog

PRICES = 10_000
LATENCY_MS = 100
LOAD_WORKERS = 8
ROOT = Path(__file__).resolve().parents[2]
UNPACED = 1_000_000.0  # requests per second: effectively no pacing
TARGET_SECONDS = 5.0


def build_account(catalog: Catalog, emulator: EmulatorHandle) -> int:
    """Create the catalog in the emulator with its compiled calls, independent ones in parallel; returns the
    number of calls sent. Calls run in waves: a call waits for the wave that creates an id it needs."""
    gateway = Gateway(Connection(emulator.api_key, emulator.url), rate=UNPACED)
    ids: dict[str, str] = {}
    waves: list[list[ApiCall]] = [[]]
    pending: set[str] = set()
    for call in compile_catalog(catalog):
        if any(dep in pending for dep in call.depends_on):
            waves.append([])
            pending = set()
        waves[-1].append(call)
        if call.creates:
            pending.add(call.creates)

    def send(call: ApiCall) -> tuple[str | None, str]:
        body = gateway.send(call.resolve(ids), call.idempotency_key("plan-bench"))
        return call.creates, str(body.get("id"))

    with ThreadPoolExecutor(LOAD_WORKERS) as pool:
        for wave in waves:
            for created, object_id in pool.map(send, wave):
                if created:
                    ids[created] = object_id
    return sum(len(w) for w in waves)


def minimum_requests(catalog: Catalog) -> tuple[int, str]:
    """One page of 100 per resource type (an empty list still costs its one page)."""
    meters = len(catalog.of_kind(Kind.METER))
    products = len(catalog.of_kind(Kind.PRODUCT))
    family = len(catalog.of_kind(Kind.PRICE)) + len(catalog.of_kind(Kind.PLAN))
    pages = [max(1, math.ceil(n / 100)) for n in (meters, products, family)]
    text = f"{pages[0]} meters + {pages[1]} products + {pages[2]} prices and plans"
    return sum(pages), text


class EmulatorProcess:
    """`pricebook emulator` in its own process (as a user runs it), serving a saved account: the plan's time
    is then the plan's alone, not shared with an emulator thread under the same interpreter lock."""

    def __init__(self, state: Path, *, latency_ms: int = 0) -> None:
        command = [sys.executable, "-m", "compiler", "emulator", "--port", "0", "--state", str(state)]
        if latency_ms:
            command += ["--latency-ms", str(latency_ms)]
        self.process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, cwd=ROOT)
        assert self.process.stderr is not None
        line = self.process.stderr.readline()
        found = re.search(r"http://[0-9.]+:[0-9]+", line)
        if found is None:
            self.stop()
            raise RuntimeError(f"the emulator did not start: {line.strip()}")
        self.url = found.group(0)
        self.api_key = TEST_API_KEY

    def requests(self) -> int:
        """How many API requests the emulator has logged (its control endpoints are not logged)."""
        with urllib.request.urlopen(f"{self.url}/_emulator/requests", timeout=30) as response:
            return len(json.loads(response.read())["data"])

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> EmulatorProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def save_account(emulator: EmulatorHandle, path: Path) -> None:
    """The in-thread emulator's account as a state file `pricebook emulator --state` loads."""
    save_json(path, {"store": emulator.emulator.store.to_json(), "idempotency": {}})


def timed_plan(catalog: Catalog, emulator: EmulatorProcess, *, rate: float | None) -> tuple[ChangeSet, float, int]:
    gateway = Gateway(Connection(emulator.api_key, emulator.url), rate=rate)
    before = emulator.requests()
    started = time.perf_counter()
    changeset, _ = changeset_for(CheckedCatalog(catalog), gateway)
    seconds = time.perf_counter() - started
    return changeset, seconds, emulator.requests() - before


def timed_command(directory: Path, emulator: EmulatorProcess) -> float:
    """`pricebook plan DIR --detailed-exitcode` end to end: start-up, load and check, read, diff, render."""
    env = {**os.environ, "STRIPE_API_KEY": emulator.api_key}
    started = time.perf_counter()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "compiler",
            "plan",
            str(directory),
            "--api-base",
            emulator.url,
            "--detailed-exitcode",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=600,
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"pricebook plan exited {result.returncode}: {result.stderr.strip()[-500:]}")
    return seconds


def report(label: str, changeset: ChangeSet, seconds: float, requests: int, minimum: int) -> None:
    extra = requests - minimum
    state = "no changes" if not changeset.has_changes else f"CHANGES: {changeset.counts()}"
    print(f"{label}: {requests} requests (minimum {minimum}, +{extra}), {seconds:.2f} s, {state}")


def run(prices: int, latency_prices: int) -> list[str]:
    """Run every measurement; returns the failures against the targets."""
    failures: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        prepared: dict[int, tuple[Path, Catalog, int, Path]] = {}
        service: dict[int, float] = {}
        for count, latency in ((prices, 0), (latency_prices, LATENCY_MS)):
            if count not in prepared:
                prepared[count] = prepare(Path(tmp), count)
            directory, catalog, minimum, state = prepared[count]
            with EmulatorProcess(state, latency_ms=latency) as emulator:
                if not latency:
                    changeset, seconds, requests = timed_plan(catalog, emulator, rate=UNPACED)
                    report("plan, unpaced", changeset, seconds, requests, minimum)
                    failures += _check(changeset, requests, minimum, seconds, limit=TARGET_SECONDS)
                    service[count] = seconds / requests  # the emulator's time per page, ours included
                    changeset, seconds, requests = timed_plan(catalog, emulator, rate=None)
                    pace = Gateway(Connection(emulator.api_key, emulator.url)).pacer.rate or TEST_RATE
                    floor = (requests - 1) / pace
                    report(f"plan, paced at {pace:g}/s as the command is", changeset, seconds, requests, minimum)
                    print(f"  the pacing alone takes (requests - 1) / {pace:g} = {floor:.2f} s")
                    failures += _check(changeset, requests, minimum, seconds, limit=floor + 1.0)
                    print(
                        f"`pricebook plan` end to end (start-up, load and check {count} prices, read, diff, "
                        f"render): {timed_command(directory, emulator):.2f} s"
                    )
                    continue
                changeset, seconds, requests = timed_plan(catalog, emulator, rate=None)
                expected = requests * latency / 1000
                served = expected + requests * service.get(count, 0.0)
                report(f"plan, {count} prices, {latency} ms latency", changeset, seconds, requests, minimum)
                print(
                    f"  requests x latency = {expected:.2f} s (measured / that = {seconds / expected:.2f}); "
                    f"requests x (latency + the unpaced time per request) = {served:.2f} s"
                )
                failures += _check(changeset, requests, minimum, seconds, limit=None)
                if seconds > served * 1.1 + 0.5:
                    failures.append(f"with latency the plan took {seconds:.1f} s, not close to {served:.1f} s")
    return failures


def prepare(tmp: Path, count: int) -> tuple[Path, Catalog, int, Path]:
    """Generate a catalog of `count` prices, build it in an emulator and save that account to a state file."""
    generated = generate_catalog(tmp / f"plans_{count}", count, seed=1)
    started = time.perf_counter()
    catalog = load_catalog([str(generated.directory)]).catalog
    print(
        f"catalog: {len(generated.prices)} prices, {len(generated.plans)} plans, {len(generated.products)} "
        f"products, {len(generated.meters)} meters (loaded and checked in {time.perf_counter() - started:.1f} s)"
    )
    minimum, detail = minimum_requests(catalog)
    state = tmp / f"account_{count}.json"
    with run_in_thread() as emulator:
        started = time.perf_counter()
        sent = build_account(catalog, emulator)
        save_account(emulator, state)
    print(f"account built with {sent} calls in {time.perf_counter() - started:.1f} s")
    print(f"minimum reads: {minimum} pages ({detail})")
    return generated.directory, catalog, minimum, state


def _check(changeset: ChangeSet, requests: int, minimum: int, seconds: float, *, limit: float | None) -> list[str]:
    out = []
    if changeset.has_changes or changeset.problems:
        out.append(f"the plan of an unchanged account has changes: {changeset.counts()} {changeset.problems[:3]}")
    if requests > minimum + 2:  # + the archived-prices page, + one page boundary
        out.append(f"{requests} requests for a minimum of {minimum}")
    if limit is not None and seconds > limit:
        out.append(f"plan took {seconds:.1f} s (target {limit:.0f} s)")
    return out


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    numbers = [int(a) for a in args if a.isdigit()]
    prices = numbers[0] if numbers else PRICES
    latency_prices = numbers[1] if len(numbers) > 1 else prices
    failures = run(prices, latency_prices)
    for failure in failures:
        print(f"FAILED: {failure}")
    if failures:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
