"""`make bench` (subscribers): what counting who is on the changed prices adds to a plan.

The account is the plan bench's 10,000-price account with 1,000 subscriptions spread over 50 prices (one of them
holds 250, so its list takes three pages). The catalog then changes those 50 prices: 30 replaced (new amounts
or tiers), 10 repriced in place (their eur option, which half of their subscriptions bill in) and 10 archived.
The plan reads the account as `pricebook plan` does, then the subscriber impact; the emulator runs in its own
process and its request log counts what each part sent.

Targets: the subscriber impact costs one list per affected price plus one page per further 100 subscriptions on
it, never a request per subscription; paced at Stripe's test-mode limit as the command is, its time stays
within a second of requests / pace. With 100 ms of latency per request its lists overlap (a few at a time under
the same pacer), so the time stays well under requests × latency. Run alone with
`python -m tests.bench.subscribers_bench [PRICES]`.
"""

from __future__ import annotations

import math
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from compiler.changes.changeset import ChangeSet, Effect
from compiler.changes.model import Catalog, CheckedCatalog, Resource, load_catalog
from compiler.changes.planning import changeset_for
from compiler.changes.subscribers import SubscriberOptions, SubscriberReport, affected_prices, subscriber_report
from compiler.emulator import EmulatorHandle, run_in_thread
from compiler.stripe.fields import catalog_canonical
from compiler.stripe.gateway import PAGE_SIZE, Connection, Gateway
from compiler.stripe.kinds import Kind
from compiler.stripe.state import AccountState
from tests.bench import exit_on
from tests.bench.generate import generate_catalog
from tests.bench.plan_bench import EmulatorProcess, build_account, save_account

PRICES = 10_000
SUBSCRIPTIONS = 1_000
CHANGED = 50
BIG = 250  # subscriptions on the first changed price: a list of three pages
LATENCY_MS = 100


def changed_prices(catalog: Catalog) -> list[Resource]:
    """Ten licensed prices of each of the generator's five shapes (`index % 5`), the first ones found."""
    by_shape: dict[int, list[Resource]] = {shape: [] for shape in range(5)}
    for resource in catalog.of_kind(Kind.PRICE):
        recurring = resource.attrs.get("recurring") or {}
        index = int(resource.key.rsplit("_", 1)[1])
        if recurring.get("usage_type") != "metered" and len(by_shape[index % 5]) < CHANGED // 5:
            by_shape[index % 5].append(resource)
    return [r for shape in range(5) for r in by_shape[shape]]


def _edited(resource: Resource, **params: Any) -> Resource:
    merged = {**resource.params, **params}
    return replace(resource, params=merged, attrs=catalog_canonical(resource.kind, merged))


def edit(catalog: Catalog, prices: Sequence[Resource]) -> Catalog:
    """The catalog with `prices` changed by shape: 0, 2 and 3 replaced (amount, transform step, first tier),
    1 repriced in place (eur + 10 %), 4 (yen tiers) archived."""
    edited: dict[str, Resource | None] = {}
    for resource in prices:
        shape = int(resource.key.rsplit("_", 1)[1]) % 5
        params = resource.params
        if shape in (0, 2):
            edited[resource.key] = _edited(resource, unit_amount=int(params["unit_amount"]) + 100)
        elif shape == 1:
            options = {**params["currency_options"]}
            options["eur"] = {"unit_amount": int(options["eur"]["unit_amount"]) * 11 // 10}
            edited[resource.key] = _edited(resource, currency_options=options)
        elif shape == 3:
            tiers = [dict(t) for t in params["tiers"]]
            tiers[0]["unit_amount"] = int(tiers[0]["unit_amount"]) + 50
            edited[resource.key] = _edited(resource, tiers=tiers)
        else:
            edited[resource.key] = None
    kept = []
    for resource in catalog:
        if resource.kind is Kind.PRICE and resource.key in edited:
            new = edited[resource.key]
            if new is not None:
                kept.append(new)
        else:
            kept.append(resource)
    return Catalog.of(kept)


def add_subscriptions(emulator: EmulatorHandle, prices: Sequence[Resource]) -> tuple[int, int]:
    """`SUBSCRIPTIONS` subscriptions over `prices`, `BIG` on the first, every tenth trialing, half of those on a
    price with an eur option billing in eur; returns how many, and how many bill in usd on such a price (an
    eur repricing leaves them alone)."""
    client = emulator.client()
    store = emulator.emulator.store
    spread = [BIG] + [(SUBSCRIPTIONS - BIG) // (len(prices) - 1)] * (len(prices) - 1)
    spread[-1] += SUBSCRIPTIONS - sum(spread)
    made = usd_beside_eur = 0
    for resource, count in zip(prices, spread, strict=True):
        holder = store.holder_of(resource.key)
        assert holder is not None, resource.key
        options = resource.attrs.get("currency_options") or {}
        for n in range(count):
            currency = "eur" if "eur" in options and n % 2 else str(resource.attrs["currency"])
            usd_beside_eur += "eur" in options and currency == "usd"
            customer = client.v1.customers.create(
                params={
                    "payment_method": "pm_card_visa",
                    "invoice_settings": {"default_payment_method": "pm_card_visa"},
                }
            )
            params: dict[str, Any] = {
                "customer": customer.id,
                "currency": currency,
                "items": [{"price": holder["id"], "quantity": 1 + (made * 7) % 40}],
            }
            if made % 10 == 0:
                params["trial_period_days"] = 14
            client.v1.subscriptions.create(params=params)  # type: ignore[arg-type]
            made += 1
    return made, usd_beside_eur


def expected_requests(report: SubscriberReport, pages: Mapping[str, int]) -> int:
    """One list per price read, plus a page per further 100 of its subscriptions (pages counted by Stripe's
    `has_more`: a list of exactly 100 ends on its first page)."""
    return sum(pages.get(address, 1) for address in report.impacts)


def timed(
    catalog: Catalog, emulator: EmulatorProcess, *, rate: float | None
) -> tuple[ChangeSet, AccountState, float, SubscriberReport, float, int, int]:
    gateway = Gateway(Connection(emulator.api_key, emulator.url), rate=rate)
    before = emulator.requests()
    started = time.perf_counter()
    changeset, state = changeset_for(CheckedCatalog(catalog), gateway, SubscriberOptions(read=False))
    plan_seconds = time.perf_counter() - started
    middle = emulator.requests()
    started = time.perf_counter()
    report = subscriber_report(changeset, catalog, state, gateway)  # what `plan` adds to the reads above
    extra_seconds = time.perf_counter() - started
    return changeset, state, plan_seconds, report, extra_seconds, middle - before, emulator.requests() - middle


def run(prices: int) -> list[str]:
    failures: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        generated = generate_catalog(Path(tmp) / "plans", prices, seed=1)
        catalog = load_catalog([str(generated.directory)]).catalog
        targets = changed_prices(catalog)
        state_file = Path(tmp) / "account.db"
        with run_in_thread() as builder:
            started = time.perf_counter()
            build_account(catalog, builder)
            made, usd_beside_eur = add_subscriptions(builder, targets)
            save_account(builder, state_file)
        print(
            f"account: {prices} prices, {made} subscriptions over {len(targets)} prices "
            f"(built in {time.perf_counter() - started:.1f} s)"
        )
        edited = edit(catalog, targets)
        pages = {f"price.{r.key}": max(1, math.ceil((BIG if i == 0 else 1) / PAGE_SIZE)) for i, r in enumerate(targets)}
        for latency in (0, LATENCY_MS):
            with EmulatorProcess(state_file, latency_ms=latency) as emulator:
                changeset, state, plan_s, report, extra_s, plan_n, extra_n = timed(edited, emulator, rate=None)
            affected = affected_prices(changeset, state)
            counted = sum(i.subscriptions for i in report.impacts.values())
            effects = {e.value: sum(1 for a in affected if a.effect is e) for e in Effect}
            label = f"{latency} ms latency" if latency else "no latency"
            pace = Gateway(Connection(emulator.api_key, emulator.url)).pacer.rate or 1.0
            print(
                f"{label}: plan reads {plan_n} requests in {plan_s:.2f} s; subscriber impact {extra_n} requests "
                f"in {extra_s:.2f} s for {len(affected)} affected prices {effects}, {counted} subscriptions counted"
            )
            wanted = expected_requests(report, pages)
            if extra_n != report.read.requests or extra_n != wanted:
                failures.append(
                    f"{extra_n} subscriber requests (the plan says {report.read.requests}, one list "
                    f"per price needs {wanted})"
                )
            if changeset.problems:
                failures.append(f"the edited catalog has problems: {changeset.problems[:3]}")
            if counted != made - usd_beside_eur:
                failures.append(f"{counted} subscriptions counted, not {made - usd_beside_eur}")
            if latency == 0:
                floor = extra_n / pace
                print(f"  the pacing alone takes {extra_n} / {pace:g} = {floor:.2f} s")
                if extra_s > floor + 1.0:
                    failures.append(f"subscriber impact took {extra_s:.1f} s, more than a second over {floor:.1f} s")
            else:
                serial = extra_n * latency / 1000
                print(f"  {extra_n} requests one after the other would take {serial:.2f} s of latency alone")
                if extra_s > serial * 0.6:
                    failures.append(f"with latency the lists took {extra_s:.1f} s: they do not overlap")
    return failures


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    prices = int(args[0]) if args and args[0].isdigit() else PRICES
    failures = run(prices)
    exit_on(failures)


if __name__ == "__main__":
    main()
