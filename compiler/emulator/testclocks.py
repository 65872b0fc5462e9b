"""Test clocks (https://docs.stripe.com/billing/testing/test-clocks): the test-mode way to let time pass.

A customer created on a clock lives at the clock's frozen time, and so do its subscriptions: advancing the
clock ends their trials, expires unpaid first invoices and makes unpaid sent invoices past due (see
`subscriptions`). The emulator advances at once, so the clock it returns is already `ready` again; Stripe
answers `advancing` and gets there shortly after. Deleting a clock deletes its customers and their
subscriptions, as Stripe does.
"""

from __future__ import annotations

from compiler.emulator.common import Ctx, check_length, expanded, list_page, public, require
from compiler.emulator.errors import invalid, no_such
from compiler.emulator.store import Record
from compiler.emulator.subscriptions import period_end
from compiler.stripe.facts import TEST_CLOCK_ADVANCE_PERIODS, TEST_CLOCK_LIFETIME

KIND = "test_helpers.test_clock"


def create_test_clock(ctx: Ctx) -> Record:
    expanded(ctx, (), is_list=False)
    store, params = ctx.store, ctx.params
    check_length(params.get("name"), "name", 300)
    customer = None
    if params.get("customer") is not None:
        customer = store.customers.get(str(params["customer"]))
        if customer is None:
            raise no_such("customer", str(params["customer"]), param="customer", status=400)
        if customer["test_clock"] is not None:
            raise invalid("This customer is already attached to a test clock.", param="customer")
        if any(sub["customer"] == customer["id"] for sub in store.subscriptions.values()):
            # its subscriptions' times would jump: the emulator attaches only customers without any
            raise invalid("Only a customer without subscriptions can be attached to a test clock.", param="customer")
    now = store.now()
    record: Record = {
        "id": store.new_id("clock_"),
        "object": KIND,
        "created": now,
        "deletes_after": now + TEST_CLOCK_LIFETIME.value,
        "frozen_time": int(params["frozen_time"]),
        "livemode": False,
        "name": params.get("name"),
        "status": "ready",
        "status_details": {},
        "_seq": store.next_seq(),
    }
    store.test_clocks[record["id"]] = record
    if customer is not None:
        customer["test_clock"] = record["id"]
    return public(record)


def retrieve_test_clock(ctx: Ctx) -> Record:
    expanded(ctx, (), is_list=False)
    return public(require(ctx.store.test_clocks, str(ctx.object_id), KIND))


def list_test_clocks(ctx: Ctx) -> Record:
    expanded(ctx, (), is_list=True)
    store = ctx.store
    return list_page(
        ctx,
        store.test_clocks.values(),
        url="/v1/test_helpers/test_clocks",
        render=public,
        kind=KIND,
        pool=store.test_clocks,
    )


def _furthest(ctx: Ctx, clock: Record) -> int:
    """How far the clock may go: two billing periods of its shortest subscription, or two years without one."""
    store = ctx.store
    start = int(clock["frozen_time"])
    periods = TEST_CLOCK_ADVANCE_PERIODS.value
    ends = [
        period_end(start, price["recurring"]["interval"], price["recurring"]["interval_count"], periods)
        for sub in store.subscriptions.values()
        if sub["test_clock"] == clock["id"] and sub["status"] != "canceled"
        for price in (store.prices.get(sub["_items"][0]["_price"]) or sub["_items"][0]["_snapshot"],)
    ]
    return min(ends) if ends else period_end(start, "year", periods)


def advance_test_clock(ctx: Ctx) -> Record:
    expanded(ctx, (), is_list=False)
    clock = require(ctx.store.test_clocks, str(ctx.object_id), KIND)
    target = int(ctx.params["frozen_time"])
    if target <= int(clock["frozen_time"]):
        raise invalid("The frozen time must be after the test clock's current frozen time.", param="frozen_time")
    if target > _furthest(ctx, clock):
        raise invalid(
            "Cannot advance the test clock more than two intervals past the shortest subscription interval on "
            "it (or two years when it has no subscriptions).",
            param="frozen_time",
        )
    clock["frozen_time"] = target
    return public(clock)


def delete_test_clock(ctx: Ctx) -> Record:
    expanded(ctx, (), is_list=False)
    store = ctx.store
    clock = require(store.test_clocks, str(ctx.object_id), KIND)
    for sub_id in [s for s, sub in store.subscriptions.items() if sub["test_clock"] == clock["id"]]:
        del store.subscriptions[sub_id]
    for customer_id in [c for c, cus in store.customers.items() if cus["test_clock"] == clock["id"]]:
        del store.customers[customer_id]
    del store.test_clocks[clock["id"]]
    return {"id": clock["id"], "object": KIND, "deleted": True}
