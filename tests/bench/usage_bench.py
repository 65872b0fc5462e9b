"""`make bench` (usage): what recording usage costs pricebook, and how close it gets to Stripe's limits.

1. pricebook's own cost per event: a file imported through the stream path against a server that answers at
   once (`instant_server`, its own process), so the time left is pricebook's and the SDK's. Target: at least
   20,000 events/s, so that Stripe's limit, not pricebook, is the bound.
2. Throughput as a share of a rate-limited emulator's limit (the emulator in its own process, meter events
   limited apart from the basic limit as in live mode, pricebook told that limit with --rate): on the stream
   and on v1. Target: at least 90 %.
3. Peak memory (the process's maximum resident set) of `pricebook usage import` for a 1,000,000-row file, with
   100,000 rows beside it to show it does not grow with the file. Target: under 200 MB.

`python -m tests.bench.usage_bench [ROWS_FOR_MEMORY]`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from compiler.emulator import Knobs, free_port, run_in_subprocess
from compiler.stripe.gateway import Connection, Gateway
from compiler.usage.importer import UsageFile, import_file, preflight
from compiler.usage.meters import account_meters
from compiler.usage.send import Sender, StreamSender, V1Sender

KEY = "sk_test_pricebook_bench"
COST_ROWS = 200_000
LIMITED_STREAM = (20, 20_000)  # requests/s allowed, rows: 10 s at the limit
LIMITED_V1 = (100, 1_000)
MEMORY_ROWS = 1_000_000
TARGET_EVENTS_PER_SECOND = 20_000
TARGET_SHARE = 0.90
TARGET_PEAK_MB = 200
REPO = Path(__file__).resolve().parents[2]


def write_rows(path: Path, rows: int, *, customers: int = 1000) -> Path:
    """`rows` events of the meter emails_sent over the past hour, in Stripe's bulk-upload columns."""
    now = int(time.time())
    with path.open("w", encoding="utf-8") as out:
        out.write("timestamp,event_name,payload_stripe_customer_id,payload_value\n")
        chunk: list[str] = []
        for n in range(rows):
            chunk.append(f"{now - 3600 + n % 3000},emails_sent,cus_{n % customers:06d},{n % 9 + 1}\n")
            if len(chunk) == 10_000:
                out.write("".join(chunk))
                chunk = []
        out.write("".join(chunk))
    return path


@contextmanager
def instant_server() -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen([sys.executable, "-m", "tests.bench.instant_server", str(port)], cwd=REPO)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(f"{url}/v1/billing/meters", timeout=1).read()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the instant server did not start") from None
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _import(path: Path, gateway: Gateway, sender: Sender, workers: int) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds of this process, events sent)."""
    meters = account_meters(gateway)
    for stale in (path.with_name(path.name + ".journal"), path.with_name(path.name + ".rejected.jsonl")):
        stale.unlink(missing_ok=True)
    wall, cpu = time.perf_counter(), time.process_time()
    report = import_file(
        UsageFile.at(path),
        meters,
        sender,
        journal_path=path.with_name(path.name + ".journal"),
        rejected_path=path.with_name(path.name + ".rejected.jsonl"),
        workers=workers,
    )
    if not report.ok:
        raise SystemExit(f"the import did not go through: {report.counts} {report.failure}")
    return time.perf_counter() - wall, time.process_time() - cpu, report.counts.sent


def client_cost(directory: Path) -> None:
    path = write_rows(directory / "cost.csv", COST_ROWS)
    with instant_server() as url:
        gateway = Gateway(Connection(KEY, url), rate=1e9)
        check_wall = time.perf_counter()
        preflight(
            UsageFile.at(path), account_meters(gateway), now=int(time.time()), journal_path=None, on_problem=print
        )
        check_seconds = time.perf_counter() - check_wall
        wall, cpu, sent = _import(path, gateway, StreamSender(gateway), workers=2)
    rate = sent / wall
    capacity = sent / cpu  # what one core does when nothing else runs (the wall figure varies with the load)
    print(f"rows:                       {COST_ROWS:,} (1,000 customers), through the stream, 100 events a request")
    print(f"reading and checking alone: {COST_ROWS / check_seconds:,.0f} rows/s ({check_seconds:.2f} s)")
    print(
        f"import against an instant server: {wall:.2f} s = {rate:,.0f} events/s; CPU {1e6 * cpu / sent:.1f} µs "
        f"an event = {capacity:,.0f} events per CPU second (target {TARGET_EVENTS_PER_SECOND:,}/s)"
    )
    if min(rate, capacity) < TARGET_EVENTS_PER_SECOND:
        print("  BELOW TARGET")


def share_of_limit(directory: Path) -> None:
    for name, (limit, rows) in (("stream", LIMITED_STREAM), ("v1", LIMITED_V1)):
        path = write_rows(directory / f"limited-{name}.csv", rows, customers=200)
        knobs = Knobs(meter_event_rate_limit=limit, seed=1)
        with run_in_subprocess(knobs=knobs) as emulator:
            setup = emulator.client()
            setup.v1.billing.meters.create(
                params={
                    "event_name": "emails_sent",
                    "display_name": "Emails sent",
                    "default_aggregation": {"formula": "sum"},
                }
            )
            account = Gateway(Connection(emulator.api_key, emulator.url))
            events = Gateway(Connection(emulator.api_key, emulator.url), rate=limit)  # what --rate LIMIT makes
            sender: Sender = StreamSender(events, account) if name == "stream" else V1Sender(events)
            wall, _, sent = _import(path, account, sender, workers=max(2, min(32, -(-limit * 8 // 100))))
        requests = events.stats.requests
        per_request = sent / requests if requests else 0
        share = requests / wall / limit
        print(
            f"{name:6} at a limit of {limit} requests/s: {sent:,} events in {wall:.1f} s, {requests:,} requests "
            f"({per_request:.0f} events each) = {requests / wall:.1f}/s = {share:.0%} of the limit, "
            f"{events.stats.rate_limited} × 429 (target {TARGET_SHARE:.0%})"
        )
        if share < TARGET_SHARE:
            print("  BELOW TARGET")


_PEAK = (
    "import atexit, resource, runpy, sys\n"
    "out = sys.argv.pop(1)\n"
    "atexit.register(lambda: open(out, 'w').write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)))\n"
    "sys.argv[0] = 'pricebook'\n"
    "runpy.run_module('compiler', run_name='__main__')\n"
)


def peak_mb(path: Path, url: str) -> tuple[float, float]:
    """(peak resident MB, seconds) of `pricebook usage import path` in its own process."""
    out = path.with_suffix(".peak")
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRIPE_")}
    env.update({"STRIPE_API_KEY": KEY, "STRIPE_API_BASE": url})
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _PEAK, str(out), "usage", "import", str(path), "--rate", "1000000", "--workers", "2"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"the import failed: {done.stdout}{done.stderr}")
    return int(out.read_text()) / 1024, seconds  # ru_maxrss is in KiB on Linux


def peak_memory(directory: Path, rows: int) -> None:
    with instant_server() as url:
        for count in (rows // 10, rows):
            path = write_rows(directory / f"memory-{count}.csv", count)
            size = path.stat().st_size / 1e6
            mb, seconds = peak_mb(path, url)
            print(
                f"`pricebook usage import` of {count:>9,} rows ({size:.0f} MB of CSV): peak {mb:.0f} MB resident, "
                f"{seconds:.1f} s (target under {TARGET_PEAK_MB} MB)"
            )
            if mb >= TARGET_PEAK_MB:
                print("  ABOVE TARGET")
            path.unlink()


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else MEMORY_ROWS
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        client_cost(directory)
        share_of_limit(directory)
        peak_memory(directory, rows)


if __name__ == "__main__":
    main()
