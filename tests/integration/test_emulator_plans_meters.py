"""Plans (one family with prices), billing meters and meter events, via the SDK."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any, cast

import pytest
import stripe

from compiler.emulator import EmulatorHandle


def make_meter(client: stripe.StripeClient, event_name: str = "emails_sent") -> stripe.billing.Meter:
    return client.v1.billing.meters.create(
        params={"event_name": event_name, "display_name": "Emails", "default_aggregation": {"formula": "sum"}}
    )


# -- plans ----------------------------------------------------------------------------------------------------


def test_plan_with_custom_id_and_plan_shape(client: stripe.StripeClient, emulator: EmulatorHandle) -> None:
    plan = client.v1.plans.create(
        params={
            "id": "standard-cost-per-5-users",
            "product": "suite",
            "currency": "usd",
            "amount": 1000,
            "interval": "month",
            "usage_type": "licensed",
            "transform_usage": {"divide_by": 5, "round": "up"},
        }
    )
    assert plan.id == "standard-cost-per-5-users"
    assert plan.object == "plan"
    assert (plan.amount, plan.interval, plan.interval_count, plan.usage_type) == (1000, "month", 1, "licensed")
    assert plan.transform_usage is not None and plan.transform_usage.divide_by == 5
    assert plan.product == "suite"
    _, _, raw = emulator.raw("GET", "/v1/plans/standard-cost-per-5-users")
    assert raw["amount_decimal"] == "1000"
    assert "tiers" not in raw


def test_plan_ids_are_unique_across_the_family(client: stripe.StripeClient) -> None:
    params = {"id": "p1", "product": "suite", "currency": "usd", "amount": 5, "interval": "month"}
    client.v1.plans.create(params=params)  # type: ignore[arg-type]
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.plans.create(params=params)  # type: ignore[arg-type]
    assert (info.value.code, info.value.param) == ("resource_already_exists", "id")


def test_plan_errors_name_plan_params(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.plans.create(
            params={
                "product": "suite",
                "currency": "usd",
                "amount": 5,
                "amount_decimal": Decimal("5"),
                "interval": "month",
            }
        )
    assert "amount, amount_decimal" in str(info.value.user_message)
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.plans.create(
            params={"product": "suite", "currency": "usd", "amount": 5, "interval": "year", "interval_count": 4}
        )
    assert info.value.param == "interval_count"


def test_plans_and_prices_are_one_family(client: stripe.StripeClient) -> None:
    plan = client.v1.plans.create(
        params={"id": "legacy", "product": "suite", "currency": "usd", "amount": 5, "interval": "month"}
    )
    monthly = client.v1.prices.create(
        params={"product": "suite", "currency": "usd", "unit_amount": 7, "recurring": {"interval": "month"}}
    )
    one_time = client.v1.prices.create(params={"product": "suite", "currency": "usd", "unit_amount": 9})
    as_price = client.v1.prices.retrieve(plan.id)
    assert as_price.object == "price"
    assert as_price.unit_amount == 5
    assert as_price.recurring is not None and as_price.recurring.interval == "month"
    assert [p.id for p in client.v1.plans.list().data] == [monthly.id, "legacy"]  # recurring prices too
    assert [p.id for p in client.v1.prices.list().data] == [one_time.id, monthly.id, "legacy"]
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.plans.retrieve(one_time.id)


def test_plan_update_and_its_immutable_fields(client: stripe.StripeClient) -> None:
    client.v1.plans.create(params={"id": "p", "product": "suite", "currency": "usd", "amount": 5, "interval": "month"})
    updated = client.v1.plans.update("p", params={"nickname": "Standard", "metadata": {"a": "b"}, "active": False})
    assert (updated.nickname, updated.active) == ("Standard", False)
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.plans.update("p", params=cast(Any, {"amount": 6}))
    assert (info.value.code, info.value.param) == ("parameter_unknown", "amount")


def test_plan_delete(client: stripe.StripeClient) -> None:
    client.v1.plans.create(params={"id": "p", "product": "suite", "currency": "usd", "amount": 5, "interval": "month"})
    deleted = client.v1.plans.delete("p")
    assert deleted.deleted is True
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.plans.retrieve("p")
    assert info.value.code == "resource_missing"


def test_plan_list_expands_data_tiers(client: stripe.StripeClient) -> None:
    client.v1.plans.create(
        params={
            "id": "tiered",
            "product": "suite",
            "currency": "usd",
            "interval": "month",
            "billing_scheme": "tiered",
            "tiers_mode": "volume",
            "tiers": [{"up_to": 5, "unit_amount": 700}, {"up_to": "inf", "unit_amount": 600}],
        }
    )
    plain = client.v1.plans.list()
    assert "tiers" not in plain.data[0]
    page = client.v1.plans.list(params={"expand": ["data.tiers"]})
    assert page.data[0].tiers is not None and page.data[0].tiers[1].up_to is None


# -- meters ---------------------------------------------------------------------------------------------------


def test_meter_defaults_and_shape(client: stripe.StripeClient) -> None:
    meter = make_meter(client)
    assert meter.id.startswith("mtr_")
    assert meter.object == "billing.meter"
    assert meter.status == "active"
    assert meter.customer_mapping.event_payload_key == "stripe_customer_id"
    assert meter.customer_mapping.type == "by_id"
    assert meter.value_settings.event_payload_key == "value"
    assert meter.default_aggregation.formula == "sum"
    assert "metadata" not in meter


def test_meter_event_name_unique(client: stripe.StripeClient) -> None:
    make_meter(client)
    with pytest.raises(stripe.InvalidRequestError) as info:
        make_meter(client)
    assert info.value.param == "event_name"


def test_meter_only_display_name_updates(client: stripe.StripeClient) -> None:
    meter = make_meter(client)
    assert client.v1.billing.meters.update(meter.id, params={"display_name": "Mails"}).display_name == "Mails"
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.billing.meters.update(meter.id, params=cast(Any, {"event_name": "x"}))
    assert (info.value.code, info.value.param) == ("parameter_unknown", "event_name")


def test_meter_formula_enum(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.billing.meters.create(
            params={"event_name": "e", "display_name": "E", "default_aggregation": {"formula": "max"}}
        )
    assert info.value.param == "default_aggregation[formula]"


def test_deactivate_reactivate_and_list_by_status(client: stripe.StripeClient) -> None:
    a, b = make_meter(client, "a"), make_meter(client, "b")
    off = client.v1.billing.meters.deactivate(a.id)
    assert off.status == "inactive"
    assert off.status_transitions.deactivated_at is not None
    assert [m.id for m in client.v1.billing.meters.list(params={"status": "active"}).data] == [b.id]
    assert [m.id for m in client.v1.billing.meters.list(params={"status": "inactive"}).data] == [a.id]
    assert client.v1.billing.meters.reactivate(a.id).status == "active"
    assert [m.id for m in client.v1.billing.meters.list().data] == [b.id, a.id]


def metered(client: stripe.StripeClient, meter: str | None) -> stripe.Price:
    recurring: dict[str, str] = {"interval": "month", "usage_type": "metered"}
    if meter is not None:
        recurring["meter"] = meter
    return client.v1.prices.create(
        params={"product": "suite", "currency": "usd", "unit_amount": 10, "recurring": recurring}  # type: ignore[typeddict-item]
    )


def test_metered_price_takes_an_active_meter(client: stripe.StripeClient) -> None:
    meter = make_meter(client)
    price = metered(client, meter.id)
    assert price.recurring is not None and price.recurring.meter == meter.id
    with pytest.raises(stripe.InvalidRequestError) as info:
        metered(client, None)
    assert info.value.param == "recurring[meter]"
    with pytest.raises(stripe.InvalidRequestError) as info:
        metered(client, "mtr_nope")
    assert (info.value.code, info.value.param) == ("resource_missing", "recurring[meter]")
    client.v1.billing.meters.deactivate(meter.id)
    with pytest.raises(stripe.InvalidRequestError) as info:
        metered(client, meter.id)
    assert info.value.param == "recurring[meter]"


def test_meter_requires_metered_usage(client: stripe.StripeClient) -> None:
    meter = make_meter(client)
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.prices.create(
            params={
                "product": "suite",
                "currency": "usd",
                "unit_amount": 1,
                "recurring": {"interval": "month", "meter": meter.id},
            }
        )
    assert info.value.param == "recurring[meter]"


def test_meter_events_dedupe_on_identifier(client: stripe.StripeClient) -> None:
    make_meter(client)
    params = {"event_name": "emails_sent", "payload": {"stripe_customer_id": "cus_1", "value": "3"}}
    event = client.v1.billing.meter_events.create(params={**params, "identifier": "evt-1"})  # type: ignore[typeddict-item]
    assert event.identifier == "evt-1"
    assert event.object == "billing.meter_event"
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.billing.meter_events.create(params={**params, "identifier": "evt-1"})  # type: ignore[typeddict-item]
    assert info.value.param == "identifier"
    assert info.value.headers is not None and info.value.headers.get("Stripe-Should-Retry") == "false"
    generated = client.v1.billing.meter_events.create(params=params)  # type: ignore[arg-type]
    assert generated.identifier


def test_meter_event_timestamp_window(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.billing.meter_events.create(
            params={"event_name": "e", "payload": {"value": "1"}, "timestamp": int(time.time()) - 40 * 86400}
        )
    assert info.value.param == "timestamp"


def test_plan_with_an_inline_product(client: stripe.StripeClient) -> None:
    plan = client.v1.plans.create(
        params={"currency": "usd", "amount": 5, "interval": "month", "product": {"name": "Inline"}}
    )
    assert plan.id.startswith("price_")  # plans and prices share one id space
    assert client.v1.products.retrieve(str(plan.product)).name == "Inline"
