"""Customers, subscriptions and test clocks through the real SDK: Stripe's object shapes, statuses and list filters."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import stripe

from compiler.emulator import EmulatorHandle
from tests.integration.conftest import EmulatorFactory

MONTH = {"interval": "month"}
DAY = 86400


def price(client: stripe.StripeClient, **params: Any) -> stripe.Price:
    defaults: dict[str, Any] = {"product": "suite", "currency": "usd", "unit_amount": 1000, "recurring": MONTH}
    return client.v1.prices.create(params={**defaults, **params})  # type: ignore[typeddict-item]


def customer(client: stripe.StripeClient, card: str | None = "pm_card_visa", **params: Any) -> stripe.Customer:
    if card is not None:
        params = {"payment_method": card, "invoice_settings": {"default_payment_method": card}, **params}
    return client.v1.customers.create(params=params)  # type: ignore[arg-type]


def subscribe(client: stripe.StripeClient, who: stripe.Customer, *items: dict[str, Any], **params: Any) -> Any:
    return client.v1.subscriptions.create(
        params={"customer": who.id, "items": list(items), **params}  # type: ignore[arg-type]
    )


def refused(client: stripe.StripeClient, who: stripe.Customer, *items: dict[str, Any], **params: Any) -> Any:
    with pytest.raises(stripe.StripeError) as info:
        subscribe(client, who, *items, **params)
    return info.value


def shape_ok(cls: type, obj: Any, includable: tuple[str, ...] = ()) -> None:
    """Every field the SDK's class declares is there (but `deleted` and what only an expansion includes), and
    nothing the SDK does not know of."""
    declared = {k for k in cls.__annotations__ if k[0].islower()} - {"deleted"}
    got = set(obj.to_dict())
    assert got - declared == set()
    assert declared - got == set(includable)


# -- shapes -------------------------------------------------------------------------------------------------------


def test_objects_have_the_sdks_shape(client: stripe.StripeClient) -> None:
    who = customer(client)
    sub = subscribe(client, who, {"price": price(client).id, "quantity": 3})
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": int(time.time())})
    includable = ("cash_balance", "invoice_credit_balance", "sources", "subscriptions", "tax", "tax_ids")
    shape_ok(stripe.Customer, who, includable)
    shape_ok(stripe.Subscription, sub)
    shape_ok(stripe.SubscriptionItem, sub["items"].data[0])
    shape_ok(stripe.test_helpers.TestClock, clock)
    assert "deleted" not in sub.to_dict()


def test_an_item_carries_its_quantity_and_the_price_object(client: stripe.StripeClient) -> None:
    tiered = price(
        client,
        unit_amount=None,
        billing_scheme="tiered",
        tiers_mode="volume",
        tiers=[{"up_to": 10, "unit_amount": 500}, {"up_to": "inf", "unit_amount": 400}],
    )
    sub = subscribe(client, customer(client), {"price": tiered.id, "quantity": 12})
    assert sub.object == "subscription" and sub.status == "active" and sub.currency == "usd"
    [item] = sub["items"].data
    assert item.quantity == 12
    assert item.subscription == sub.id
    assert item.price.id == tiered.id and item.price.object == "price"
    assert item.price.recurring.interval == "month"
    assert "tiers" not in item.price  # as in a price list: tiers only when expanded
    assert item.plan.id == tiered.id and item.plan.object == "plan"
    assert sub["items"].has_more is False
    assert item.current_period_end > item.current_period_start


def test_quantity_defaults_to_one_and_a_metered_item_has_none(client: stripe.StripeClient) -> None:
    meter = client.v1.billing.meters.create(
        params={"display_name": "Calls", "event_name": "calls", "default_aggregation": {"formula": "sum"}}
    )
    metered = price(client, unit_amount=2, recurring={"interval": "month", "usage_type": "metered", "meter": meter.id})
    sub = subscribe(client, customer(client), {"price": price(client).id}, {"price": metered.id})
    seats, usage = sub["items"].data
    assert seats.quantity == 1
    assert "quantity" not in usage


def test_a_subscription_bills_in_a_currency_option(client: stripe.StripeClient) -> None:
    multi = price(client, currency_options={"eur": {"unit_amount": 900}})
    sub = subscribe(client, customer(client), {"price": multi.id}, currency="eur")
    assert sub.currency == "eur"
    retrieved = client.v1.customers.retrieve(sub.customer)
    assert retrieved.currency == "eur"  # the customer's first subscription sets its currency


def test_a_legacy_plan_can_be_subscribed_to(client: stripe.StripeClient) -> None:
    gold = client.v1.plans.create(
        params={"id": "gold", "product": "suite", "currency": "usd", "amount": 2000, "interval": "month"}
    )
    sub = subscribe(client, customer(client), {"plan": gold.id, "quantity": 2})
    assert sub["items"].data[0].plan.id == "gold"
    assert sub["items"].data[0].price.id == "gold"


# -- what Stripe refuses ------------------------------------------------------------------------------------------


def test_refusals(client: stripe.StripeClient) -> None:
    who = customer(client)
    monthly = price(client)
    one_time = price(client, recurring=None)
    archived = price(client)
    client.v1.prices.update(archived.id, params={"active": False})
    yearly = price(client, recurring={"interval": "year"})

    err = refused(client, who, {"price": one_time.id})
    assert "type=recurring" in err.user_message and err.param == "items[0][price]"
    err = refused(client, who, {"price": archived.id})
    assert "inactive" in err.user_message
    err = refused(client, who, {"price": monthly.id}, {"price": yearly.id})
    assert "Found mismatch in interval field" in err.user_message
    err = refused(client, who, {"price": monthly.id}, {"price": monthly.id})
    assert "same price" in err.user_message
    err = refused(client, who, {"price": "price_nope"})
    assert err.code == "resource_missing" and err.param == "items[0][price]"
    err = refused(client, who, {"price": monthly.id}, currency="eur")
    assert "no eur amount" in err.user_message
    err = refused(client, who)
    assert err.code == "parameter_missing" and err.param == "items"
    err = refused(client, who, {"price": monthly.id}, discounts=[{"coupon": "x"}])
    assert "does not model `discounts`" in err.user_message
    err = refused(client, who, {"price": monthly.id}, collection_method="send_invoice")
    assert err.param == "days_until_due"
    err = refused(client, who, {"price": monthly.id, "colour": "red"})
    assert err.code == "parameter_unknown"
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.subscriptions.create(params={"customer": "cus_nope", "items": [{"price": monthly.id}]})
    assert info.value.code == "resource_missing" and info.value.param == "customer"


def test_a_metered_item_takes_no_quantity(client: stripe.StripeClient) -> None:
    meter = client.v1.billing.meters.create(
        params={"display_name": "Calls", "event_name": "calls", "default_aggregation": {"formula": "sum"}}
    )
    metered = price(client, recurring={"interval": "month", "usage_type": "metered", "meter": meter.id})
    err = refused(client, customer(client), {"price": metered.id, "quantity": 3})
    assert "usage_type is `metered`" in err.user_message


def test_one_customer_bills_in_one_currency(client: stripe.StripeClient) -> None:
    multi = price(client, currency_options={"eur": {"unit_amount": 900}})
    who = customer(client)
    subscribe(client, who, {"price": multi.id}, currency="eur")
    err = refused(client, who, {"price": multi.id}, currency="usd")
    assert "cannot combine currencies" in err.user_message


def test_payment_methods_decide_the_first_status(client: stripe.StripeClient) -> None:
    monthly = price(client)
    err = refused(client, customer(client, card=None), {"price": monthly.id})
    assert "no attached payment source or default payment method" in err.user_message
    failing = customer(client, card="pm_card_chargeCustomerFail")
    assert subscribe(client, failing, {"price": monthly.id}).status == "incomplete"
    err = refused(client, failing, {"price": monthly.id}, payment_behavior="error_if_incomplete")
    assert isinstance(err, stripe.CardError) and err.code == "card_declined"
    fine = customer(client)
    assert subscribe(client, fine, {"price": monthly.id}, payment_behavior="default_incomplete").status == "incomplete"
    nothing_due = price(client, unit_amount=0)
    assert subscribe(client, customer(client, card=None), {"price": nothing_due.id}).status == "active"
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.customers.create(params={"payment_method": "pm_card_nope"})
    assert info.value.code == "resource_missing"


def test_statuses_at_creation(client: stripe.StripeClient) -> None:
    monthly = price(client)
    nobody_pays = customer(client, card=None)
    assert subscribe(client, nobody_pays, {"price": monthly.id}, trial_period_days=14).status == "trialing"
    invoiced = subscribe(
        client, nobody_pays, {"price": monthly.id}, collection_method="send_invoice", days_until_due=30
    )
    assert invoiced.status == "active" and invoiced.days_until_due == 30


# -- time passing (test clocks) -----------------------------------------------------------------------------------


def on_clock(client: stripe.StripeClient, card: str | None) -> tuple[stripe.Customer, str, int]:
    start = int(time.time())
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": start, "name": "billing run"})
    return customer(client, card=card, test_clock=clock.id), clock.id, start


def advance(client: stripe.StripeClient, clock: str, to: int) -> None:
    assert client.v1.test_helpers.test_clocks.advance(clock, params={"frozen_time": to}).status == "ready"


def status(client: stripe.StripeClient, sub: Any) -> str:
    return str(client.v1.subscriptions.retrieve(sub.id).status)


def test_a_trial_ends_as_its_payment_method_allows(client: stripe.StripeClient) -> None:
    monthly = price(client)
    paying, paying_clock, start = on_clock(client, "pm_card_visa")
    failing, failing_clock, _ = on_clock(client, "pm_card_chargeCustomerFail")
    trials = {
        "paid": (paying_clock, subscribe(client, paying, {"price": monthly.id}, trial_period_days=7)),
        "declined": (failing_clock, subscribe(client, failing, {"price": monthly.id}, trial_period_days=7)),
    }
    for clock, sub in trials.values():
        assert status(client, sub) == "trialing"
        advance(client, clock, start + 8 * DAY)
    assert status(client, trials["paid"][1]) == "active"
    assert status(client, trials["declined"][1]) == "past_due"


@pytest.mark.parametrize(
    ("behavior", "expected"), [("create_invoice", "past_due"), ("pause", "paused"), ("cancel", "canceled")]
)
def test_a_trial_without_payment_method_ends_as_configured(
    client: stripe.StripeClient, behavior: str, expected: str
) -> None:
    who, clock, start = on_clock(client, None)
    sub = subscribe(
        client,
        who,
        {"price": price(client).id},
        trial_period_days=7,
        trial_settings={"end_behavior": {"missing_payment_method": behavior}},
    )
    advance(client, clock, start + 8 * DAY)
    assert status(client, sub) == expected


def test_unpaid_invoices_make_past_due_and_expired(client: stripe.StripeClient) -> None:
    monthly = price(client)
    who, clock, start = on_clock(client, None)
    invoiced = subscribe(client, who, {"price": monthly.id}, collection_method="send_invoice", days_until_due=10)
    unconfirmed = subscribe(client, who, {"price": monthly.id}, payment_behavior="default_incomplete")
    advance(client, clock, start + DAY)
    assert status(client, invoiced) == "active"
    assert status(client, unconfirmed) == "incomplete_expired"
    advance(client, clock, start + 11 * DAY)
    assert status(client, invoiced) == "past_due"


def test_a_clock_advances_at_most_two_periods(client: stripe.StripeClient) -> None:
    who, clock, start = on_clock(client, "pm_card_visa")
    subscribe(client, who, {"price": price(client, recurring={"interval": "week"}).id})
    with pytest.raises(stripe.InvalidRequestError):
        advance(client, clock, start + 15 * DAY)
    with pytest.raises(stripe.InvalidRequestError):
        advance(client, clock, start - 1)
    advance(client, clock, start + 14 * DAY)


def test_deleting_a_clock_deletes_its_customers_and_subscriptions(client: stripe.StripeClient) -> None:
    who, clock, _ = on_clock(client, "pm_card_visa")
    sub = subscribe(client, who, {"price": price(client).id})
    assert client.v1.test_helpers.test_clocks.delete(clock).deleted is True
    for gone in (lambda: client.v1.customers.retrieve(who.id), lambda: client.v1.subscriptions.retrieve(sub.id)):
        with pytest.raises(stripe.InvalidRequestError):
            gone()


# -- lists --------------------------------------------------------------------------------------------------------


def ids(page: Any) -> list[str]:
    return [s.id for s in page.data]


def test_the_list_filters_on_price_plan_customer_and_status(client: stripe.StripeClient) -> None:
    seats, addon = price(client), price(client)
    alice, bob = customer(client), customer(client)
    a1 = subscribe(client, alice, {"price": seats.id, "quantity": 5}, {"price": addon.id})
    b1 = subscribe(client, bob, {"price": seats.id})
    b2 = subscribe(client, bob, {"price": addon.id}, trial_period_days=3)
    gone = subscribe(client, bob, {"price": seats.id})
    client.v1.subscriptions.cancel(gone.id)
    subs = client.v1.subscriptions
    assert ids(subs.list(params={"price": seats.id})) == [b1.id, a1.id]  # newest first, canceled left out
    assert ids(subs.list(params={"plan": addon.id})) == [b2.id, a1.id]
    assert ids(subs.list(params={"customer": bob.id})) == [b2.id, b1.id]
    assert ids(subs.list(params={"status": "trialing"})) == [b2.id]
    assert ids(subs.list(params={"status": "canceled"})) == [gone.id]
    assert ids(subs.list(params={"status": "ended"})) == [gone.id]
    assert ids(subs.list(params={"status": "all", "price": seats.id})) == [gone.id, b1.id, a1.id]
    with pytest.raises(stripe.InvalidRequestError):
        subs.list(params={"status": "lapsed"})


def test_the_list_pages_newest_first(client: stripe.StripeClient) -> None:
    seats = price(client)
    who = customer(client)
    made = [subscribe(client, who, {"price": seats.id}).id for _ in range(5)]
    first = client.v1.subscriptions.list(params={"price": seats.id, "limit": 2})
    assert ids(first) == made[::-1][:2] and first.has_more
    rest = client.v1.subscriptions.list(params={"price": seats.id, "limit": 10, "starting_after": first.data[-1].id})
    assert ids(rest) == made[::-1][2:] and not rest.has_more


def test_subscriptions_on_test_clocks_are_listed_only_by_clock_or_customer(client: stripe.StripeClient) -> None:
    seats = price(client)
    plain = subscribe(client, customer(client), {"price": seats.id})
    who, clock, _ = on_clock(client, "pm_card_visa")
    clocked = subscribe(client, who, {"price": seats.id})
    subs = client.v1.subscriptions
    assert ids(subs.list(params={"price": seats.id})) == [plain.id]
    assert ids(subs.list(params={"price": seats.id, "test_clock": clock})) == [clocked.id]
    assert ids(subs.list(params={"customer": who.id})) == [clocked.id]
    assert [c.id for c in client.v1.customers.list().data] == [plain.customer]
    assert [c.id for c in client.v1.customers.list(params={"test_clock": clock}).data] == [who.id]


def test_cancel(client: stripe.StripeClient) -> None:
    sub = subscribe(client, customer(client), {"price": price(client).id})
    canceled = client.v1.subscriptions.cancel(sub.id)
    assert canceled.status == "canceled" and canceled.canceled_at is not None and canceled.ended_at is not None
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.subscriptions.cancel(sub.id)


def test_subscriptions_survive_a_restart_with_state(emulator_factory: EmulatorFactory, tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    first = emulator_factory(state_path=state)
    c = first.client()
    c.v1.products.create(params={"id": "suite", "name": "Suite"})
    sub = subscribe(c, customer(c), {"price": price(c).id, "quantity": 4})
    first.stop()
    again = emulator_factory(state_path=state).client()
    kept = again.v1.subscriptions.retrieve(sub.id)
    assert kept.status == "active" and kept["items"].data[0].quantity == 4


def test_emulator_handle_counts_list_requests(client: stripe.StripeClient, emulator: EmulatorHandle) -> None:
    seats = price(client)
    client.v1.subscriptions.list(params={"price": seats.id})
    assert [(r["method"], r["path"]) for r in emulator.requests()][-1] == ("GET", "/v1/subscriptions")


def test_the_emulators_clock_moves_subscriptions_on_too(client: stripe.StripeClient, emulator: EmulatorHandle) -> None:
    invoiced = subscribe(
        client,
        customer(client, card=None),
        {"price": price(client).id},
        collection_method="send_invoice",
        days_until_due=10,
    )
    assert status(client, invoiced) == "active"
    status_code, _, _ = emulator.raw("POST", f"/_emulator/clock?advance={11 * DAY}", "", api_key=None)
    assert status_code == 200
    assert status(client, invoiced) == "past_due"
