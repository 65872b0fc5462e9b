"""`make bench` (apply): 1,000 new prices against the emulator rate-limited at 25 requests/s, paced at 25/s.

Prints the rate achieved (requests the gateway sent per second of apply, and the writes per second), the 429s
seen, and the failures (target: at least 90 % of the limit, zero failures). Run alone with
`python -m tests.bench.apply_bench [PRICES] [RATE_LIMIT]`.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Collection, Mapping
from pathlib import Path

from compiler.apply import apply_changeset, workers_for
from compiler.changes.changeset import ChangeSet
from compiler.changes.model import load_catalog
from compiler.changes.planning import changeset_for
from compiler.emulator import Knobs, run_in_thread
from compiler.stripe.gateway import Connection, Gateway

PRICES = 1000
RATE_LIMIT = 25


def write_catalog(
    directory: Path,
    prices: int,
    *,
    products: int = 10,
    amounts: Mapping[int, int] | None = None,
    skip: Collection[int] = (),
    default_prices: bool = False,
) -> Path:
    """A catalog of `prices` monthly prices spread over `products` products, as one YAML file.

    `amounts` overrides the amount of some prices (by number), `skip` leaves some out, and `default_prices`
    makes each product's first price its default price."""
    lines = ["products:"]
    per_product = -(-prices // products)
    made = 0
    for p in range(products):
        lines += [f"  - id: bench_product_{p}", f"    name: Bench product {p}"]
        if default_prices:
            lines.append(f"    default_price: bench_price_{p * per_product:05d}")
        lines.append("    prices:")
        for _ in range(per_product):
            if made == prices:
                break
            if made not in skip:
                lines += [
                    f"      - lookup_key: bench_price_{made:05d}",
                    f"        nickname: Bench price {made}",
                    "        currency: usd",
                    f"        unit_amount: {(amounts or {}).get(made, 100 + made)}",
                    "        recurring: {interval: month}",
                ]
            made += 1
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "bench.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def planned(paths: list[str], gateway: Gateway) -> ChangeSet:
    """What `pricebook apply` would carry out: the diff of the catalog against the account."""
    changeset, _ = changeset_for(load_catalog(paths), gateway)
    return changeset


def main() -> None:
    prices = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else PRICES
    limit = int(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2].isdigit() else RATE_LIMIT
    with tempfile.TemporaryDirectory() as tmp, run_in_thread(knobs=Knobs(rate_limit=limit, seed=1)) as emulator:
        catalog_dir = Path(tmp) / "plans"
        write_catalog(catalog_dir, prices)
        gateway = Gateway(Connection(emulator.api_key, emulator.url), rate=limit)
        changeset = planned([str(catalog_dir)], gateway)
        before = gateway.stats
        started = time.monotonic()
        result = apply_changeset(changeset, gateway, workers=workers_for(gateway.rate_limit))
        seconds = time.monotonic() - started
        stats = gateway.stats
        requests = stats.requests - before.requests
        rate_limited = stats.rate_limited - before.rate_limited
        writes = len(result.done)
        sent_rate = requests / seconds
        print(f"calls in the ChangeSet: {len(changeset.calls)} ({prices} new prices and their products)")
        pace = f"gateway --rate {gateway.rate_limit:g}/s, paced at {gateway.pacer.rate:g}/s"
        print(f"emulator rate limit:    {limit}/s; {pace}")
        print(f"apply time:             {seconds:.1f} s")
        print(f"requests sent:          {requests} ({sent_rate:.1f}/s = {100 * sent_rate / limit:.0f} % of the limit)")
        print(f"writes done:            {writes} ({writes / seconds:.1f}/s = {100 * writes / seconds / limit:.0f} %)")
        print(f"429s seen:              {rate_limited}")
        print(f"failures:               {len(result.failed)} failed, {len(result.not_attempted)} not attempted")
        for failure in result.failed[:5]:
            print(f"  {failure.call.address}: {failure.message}")
        if not result.ok:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
