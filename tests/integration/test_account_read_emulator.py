"""Reading the account in chains over `created` ranges, against the emulator over HTTP with the real SDK."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import stripe

from compiler.emulator import EmulatorHandle, Knobs
from compiler.stripe.boundaries import BoundaryFiles
from compiler.stripe.gateway import Connection, Gateway
from compiler.stripe.kinds import Kind
from compiler.stripe.state import ExpectedSizes, ListPage, read_account
from tests.integration.conftest import EmulatorFactory

BASE = 1_750_000_000


class OneChain:
    """A gateway that reports no round trip to hide, so the reader reads each list as one chain."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    @property
    def livemode(self) -> bool:
        return self.gateway.livemode

    @property
    def pace(self) -> float | None:
        return self.gateway.pace

    def account_id(self) -> str | None:
        return self.gateway.account_id()

    def list_page(self, path: str, params: Mapping[str, Any] | None = None) -> ListPage:
        page = self.gateway.list_page(path, params)
        return ListPage(page.objects, page.has_more)


def build(emulator: EmulatorHandle, prices: int, *, per_second: int = 25) -> None:
    """Products and prices as an apply writes them, `per_second` a second (the emulator's clock says when)."""
    client = emulator.client()
    store = emulator.emulator.store
    for n in range(prices):
        # the account's clock reads this second for the next half second: long enough for one create
        store.clock_offset = BASE + n // per_second + 0.5 - time.time()
        if n % 10 == 0:
            client.v1.products.create(params={"id": f"prod_{n // 10}", "name": f"Product {n // 10}"})
        params: stripe.params.PriceCreateParams = {
            "product": f"prod_{n // 10}",
            "currency": "usd",
            "unit_amount": n,
            "lookup_key": f"key_{n}",
            "recurring": {"interval": "month"},
        }
        client.v1.prices.create(params=params)
    store.clock_offset = 0.0


def test_the_price_product_and_plan_lists_filter_on_created_as_stripe_does(emulator: EmulatorHandle) -> None:
    build(emulator, 40, per_second=4)  # seconds BASE .. BASE + 9, four prices each
    for query, seconds in [
        (f"created[gte]={BASE + 7}", [9, 8, 7]),
        (f"created[gt]={BASE + 7}", [9, 8]),
        (f"created[lt]={BASE + 2}", [1, 0]),
        (f"created[lte]={BASE + 2}", [2, 1, 0]),
        (f"created={BASE + 4}", [4]),
        (f"created[gte]={BASE + 3}&created[lt]={BASE + 5}", [4, 3]),
    ]:
        for path in ("/v1/prices", "/v1/plans"):
            status, _, body = emulator.raw("GET", f"{path}?limit=100&{query}")
            assert status == 200, body
            assert sorted({o["created"] - BASE for o in body["data"]}, reverse=True) == seconds, (path, query)
            assert len(body["data"]) == 4 * len(seconds)
    status, _, body = emulator.raw("GET", f"/v1/products?limit=100&created[lt]={BASE + 3}")  # at 0, 2, 5, 7
    assert status == 200 and [o["created"] - BASE for o in body["data"]] == [2, 0]
    # a chain may narrow its range and keep its cursor
    _, _, first = emulator.raw("GET", "/v1/prices?limit=10")
    cursor = first["data"][-1]["id"]
    _, _, rest = emulator.raw("GET", f"/v1/prices?limit=100&starting_after={cursor}&created[gte]={BASE + 7}")
    assert [o["created"] - BASE for o in rest["data"]] == [7] * 2 and rest["has_more"] is False
    # the meter list has no `created` filter, on Stripe as here
    status, _, body = emulator.raw("GET", f"/v1/billing/meters?created[gte]={BASE}")
    assert status == 400 and body["error"]["code"] == "parameter_unknown"


@pytest.fixture
def slow_emulator(emulator_factory: EmulatorFactory) -> EmulatorHandle:
    """An emulator 100 ms away, holding 1,200 prices and 120 products written at 25 a second: far enough that
    one chain alone would outlast the pacer (at 40 ms that hung on how long the emulator took to answer)."""
    handle = emulator_factory()
    build(handle, 1200)
    handle.emulator.knobs = Knobs(latency_ms=100)  # only the reads need to be far away
    return handle


def test_a_read_in_chains_behind_latency_is_the_read_of_one_chain(slow_emulator: EmulatorHandle) -> None:
    gateway = Gateway(Connection(slow_emulator.api_key, slow_emulator.url))
    expected = ExpectedSizes(products=120, family=1200)
    alone = read_account(OneChain(gateway), expected=expected)
    before = len(slow_emulator.requests())
    chained = read_account(gateway, expected=expected)
    sent = slow_emulator.requests()[before:]
    assert chained.fingerprint == alone.fingerprint and chained.objects == alone.objects
    assert len(chained.of_kind(Kind.PRICE)) == 1200 and len(chained.of_kind(Kind.PRODUCT)) == 120
    assert any("created" in r["query"] for r in sent)  # it was read in chains over `created` ranges
    assert all(r["method"] == "GET" and r["status"] == 200 for r in sent)


def test_prices_created_during_a_read_in_chains_are_never_read_twice(slow_emulator: EmulatorHandle) -> None:
    gateway = Gateway(Connection(slow_emulator.api_key, slow_emulator.url))
    writer = slow_emulator.client()
    stop = threading.Event()
    made: list[str] = []

    def write() -> None:
        n = 0
        while not stop.is_set():
            made.append(writer.v1.prices.create(params={"product": "prod_0", "currency": "usd", "unit_amount": n}).id)
            n += 1

    thread = threading.Thread(target=write)
    thread.start()
    try:
        state = read_account(gateway, expected=ExpectedSizes(products=120, family=1200))
    finally:
        stop.set()
        thread.join()
    assert made  # the account changed while it was read
    ids = Counter(o.id for o in state.objects)
    assert [i for i, n in ids.items() if n > 1] == []
    keys = {o.key for o in state.of_kind(Kind.PRICE)}
    assert {f"key_{n}" for n in range(1200)} <= keys  # everything that was there before is there once
    assert {o.id for o in state.of_kind(Kind.PRICE) if o.key is None} <= set(made)


def price_pages(sent: list[dict[str, Any]]) -> list[str]:
    """The queries of the active-price pages among `sent` requests."""
    return [r["query"] for r in sent if r["path"] == "/v1/prices" and "active=true" in r["query"]]


def test_a_second_read_starts_its_chains_at_the_pages_the_first_found(
    slow_emulator: EmulatorHandle, tmp_path: Path
) -> None:
    gateway = Gateway(Connection(slow_emulator.api_key, slow_emulator.url))
    memory = BoundaryFiles(tmp_path, slow_emulator.url, livemode=False)
    alone = read_account(OneChain(gateway))
    first = read_account(gateway, memory=memory)
    remembered = memory.load(str(first.account))
    assert remembered is not None and remembered.lists["prices"].total == 1200
    before = len(slow_emulator.requests())
    second = read_account(gateway, memory=memory)
    sent = slow_emulator.requests()[before:]
    assert second.objects == alone.objects and second.fingerprint == first.fingerprint == alone.fingerprint
    pages = price_pages(sent)
    assert len(pages) == 12  # 1,200 prices: twelve full pages, none part-filled
    starts = [q for q in pages if "starting_after" not in q]
    assert len(starts) > 1 and all("created" in q for q in starts)  # several chains, cut from the start
    # one request for the account, two pages of meters, two of products, one of (no) archived prices
    assert len(sent) == 1 + 1 + 2 + 12 + 1, [(r["path"], r["query"]) for r in sent]


def test_boundaries_an_account_has_outgrown_cost_pages_never_objects(
    slow_emulator: EmulatorHandle, tmp_path: Path
) -> None:
    gateway = Gateway(Connection(slow_emulator.api_key, slow_emulator.url))
    memory = BoundaryFiles(tmp_path, slow_emulator.url, livemode=False)
    read_account(gateway, memory=memory)
    client = slow_emulator.client()
    for n in range(30):  # new prices, newer than every cut
        client.v1.prices.create(
            params={"product": "prod_0", "currency": "usd", "unit_amount": n, "lookup_key": f"new_{n}"}
        )
    for n in (5, 450, 1100):  # and some archived, in the middle of old ranges
        (price,) = client.v1.prices.list(params={"lookup_keys": [f"key_{n}"]}).data
        client.v1.prices.update(price.id, params={"active": False})
    alone = read_account(OneChain(gateway))
    again = read_account(gateway, memory=memory)
    assert again.objects == alone.objects and again.fingerprint == alone.fingerprint
    assert Counter(o.id for o in again.objects).most_common(1)[0][1] == 1
