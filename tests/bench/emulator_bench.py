"""Emulator throughput: requests per second for small creates and for 100-item list pages.

The emulator runs in its own process (as under `make demo`) and is driven over loopback keep-alive
connections two ways:
- raw HTTP (`http.client`): what the emulator itself can serve. Target: at least 500 small requests/s on a
  2-core machine with no latency set, so it is never the bottleneck of the plan and apply benchmarks (Stripe
  allows 25 requests/s in test mode, 100 live).
- the real stripe SDK: end to end. Here the SDK's own per-request cost in the client process dominates.

Then the cost of a write with `--state` (the account kept in SQLite, written after every request) on an account
of 10,000 prices, next to the same writes without it: the median time a price update takes, over raw HTTP.
Target: under 5 ms.

Run with `python -m tests.bench.emulator_bench`.
"""

from __future__ import annotations

import http.client
import json
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from compiler.emulator import TEST_API_KEY, ProcessHandle, run_in_subprocess, run_in_thread, write_state

TARGET = 500.0
STATE_PRICES = 10_000
STATE_WRITES = 300
STATE_TARGET = 0.005
HEADERS = {"Authorization": f"Bearer {TEST_API_KEY}", "Content-Type": "application/x-www-form-urlencoded"}


def rate(count: int, fn: Callable[[int, int], None], threads: int = 1) -> float:
    """Requests per second for `count` calls of `fn(thread, i)` spread over `threads` threads."""
    per_thread = count // threads

    def work(thread: int) -> None:
        for i in range(per_thread):
            fn(thread, thread * per_thread + i)

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    started = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return per_thread * threads / (time.perf_counter() - started)


class Raw:
    """One keep-alive connection per thread."""

    def __init__(self, url: str, threads: int) -> None:
        parts = urlsplit(url)
        self.conns = [http.client.HTTPConnection(parts.hostname or "", parts.port) for _ in range(threads)]

    def call(self, thread: int, method: str, target: str, body: str | None = None) -> bytes:
        conn = self.conns[thread]
        conn.request(method, target, body=body, headers=HEADERS)
        response = conn.getresponse()
        payload = response.read()
        if response.status != 200:
            raise RuntimeError(f"{method} {target}: {response.status} {payload[:200]!r}")
        return payload


def raw_figures(emu: ProcessHandle, creates: int, pages: int) -> dict[str, float]:
    raw = Raw(emu.url, 4)
    raw.call(0, "POST", "/v1/products", "id=raw_suite&name=Suite")

    def product(thread: int, i: int) -> None:
        raw.call(thread, "POST", "/v1/products", f"name=Product+{i}&metadata[managed_by]=pricebook")

    def price(thread: int, i: int) -> None:
        body = f"product=raw_suite&currency=usd&unit_amount={i}&recurring[interval]=month&lookup_key=raw_{i}"
        raw.call(thread, "POST", "/v1/prices", body)

    def page(thread: int, _: int) -> None:
        raw.call(thread, "GET", "/v1/prices?limit=100&active=true&product=raw_suite&expand[0]=data.tiers")

    out = {
        "raw HTTP: product creates, 1 connection": rate(creates, product),
        "raw HTTP: product creates, 4 connections": rate(creates, product, threads=4),
        "raw HTTP: price creates, 1 connection": rate(creates, price),
    }
    out["raw HTTP: 100-item list pages, 1 connection"] = rate(pages, page)
    return out


def sdk_figures(emu: ProcessHandle, creates: int, pages: int) -> dict[str, float]:
    clients = [emu.client() for _ in range(4)]
    clients[0].v1.products.create(params={"id": "sdk_suite", "name": "Suite"})

    def product(thread: int, i: int) -> None:
        clients[thread].v1.products.create(params={"name": f"Product {i}"})

    def price(thread: int, i: int) -> None:
        clients[thread].v1.prices.create(
            params={"product": "sdk_suite", "currency": "usd", "unit_amount": i, "recurring": {"interval": "month"}},
            options={"idempotency_key": f"bench-price-{i}"},
        )

    def page(thread: int, _: int) -> None:
        listed = clients[thread].v1.prices.list(
            params={"limit": 100, "active": True, "product": "sdk_suite", "expand": ["data.tiers"]}
        )
        assert len(listed.data) == 100

    return {
        "stripe SDK: product creates, 1 client": rate(creates, product),
        "stripe SDK: price creates (idempotency key), 1 client": rate(creates, price),
        "stripe SDK: 100-item list pages, 1 client": rate(pages, page),
    }


def write_times(emu: ProcessHandle, ids: list[str], writes: int) -> list[float]:
    """Seconds each of `writes` price updates took (one keep-alive connection)."""
    raw = Raw(emu.url, 1)
    times = []
    for n in range(writes):
        started = time.perf_counter()
        raw.call(0, "POST", f"/v1/prices/{ids[n % len(ids)]}", f"nickname=Renamed+{n}&metadata[n]={n}")
        times.append(time.perf_counter() - started)
    return times


def state_figures(prices: int, writes: int) -> tuple[float, float]:
    """Median seconds of a price update on an account of `prices` prices with `--state`, and without."""
    with tempfile.TemporaryDirectory() as tmp, run_in_thread() as builder:
        raw = Raw(builder.url, 1)
        raw.call(0, "POST", "/v1/products", "id=state_suite&name=Suite")
        ids = [
            json.loads(raw.call(0, "POST", "/v1/prices", f"product=state_suite&currency=usd&unit_amount={n}"))["id"]
            for n in range(prices)
        ]
        store = builder.emulator.store
        state = Path(tmp) / "state.db"
        write_state(state, store.collections(), store.scalars())
        with run_in_subprocess(state_path=state) as kept:
            with_state = statistics.median(write_times(kept, ids, writes))
        with run_in_subprocess() as plain:
            raw = Raw(plain.url, 1)
            raw.call(0, "POST", "/v1/products", "id=state_suite&name=Suite")
            plain_ids = [
                json.loads(raw.call(0, "POST", "/v1/prices", f"product=state_suite&currency=usd&unit_amount={n}"))["id"]
                for n in range(10)
            ]
            without = statistics.median(write_times(plain, plain_ids, writes))
    return with_state, without


def main(creates: int = 1000, pages: int = 100) -> None:
    with run_in_subprocess() as emu:
        raw = raw_figures(emu, creates, pages)
        sdk = sdk_figures(emu, creates // 2, pages // 4)
    for name, value in {**raw, **sdk}.items():
        print(f"{name:55s} {value:8.0f} requests/s")
    small = min(v for k, v in raw.items() if "creates" in k)
    verdict = "ok" if small >= TARGET else "BELOW TARGET"
    print(f"emulator: slowest small-request rate {small:.0f}/s (target {TARGET:.0f}/s): {verdict}")
    with_state, without = state_figures(STATE_PRICES, STATE_WRITES)
    verdict = "ok" if with_state < STATE_TARGET else "OVER TARGET"
    print(
        f"a price update with --state on {STATE_PRICES:,} prices: {with_state * 1000:.2f} ms median "
        f"({without * 1000:.2f} ms without --state, on a small account; target {STATE_TARGET * 1000:.0f} ms): {verdict}"
    )


if __name__ == "__main__":
    main()
