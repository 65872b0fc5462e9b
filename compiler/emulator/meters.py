"""Billing meters: only `display_name` changes; status moves through `/deactivate` and
`/reactivate`. Their events live in `meter_events`."""

from __future__ import annotations

from compiler.emulator.common import Ctx, check_length, expanded, list_page, public, require
from compiler.emulator.errors import already_exists, invalid
from compiler.emulator.store import Record
from compiler.stripe.facts import METER_DISPLAY_NAME, METER_EVENT_NAME, METER_PAYLOAD_KEY


def _view(record: Record) -> Record:
    return public(record)


def create_meter(ctx: Ctx) -> Record:
    expanded(ctx, (), is_list=False)
    store, params = ctx.store, ctx.params
    check_length(params["display_name"], "display_name", METER_DISPLAY_NAME.value)
    check_length(params["event_name"], "event_name", METER_EVENT_NAME.value)
    mapping = params.get("customer_mapping") or {"event_payload_key": "stripe_customer_id", "type": "by_id"}
    value_settings = params.get("value_settings") or {"event_payload_key": "value"}
    check_length(mapping["event_payload_key"], "customer_mapping[event_payload_key]", METER_PAYLOAD_KEY.value)
    check_length(value_settings["event_payload_key"], "value_settings[event_payload_key]", METER_PAYLOAD_KEY.value)
    # Event names are unique per account, deactivated meters included.
    if any(m["event_name"] == params["event_name"] for m in store.meters.values()):
        raise already_exists(
            f"A meter with the event name `{params['event_name']}` already exists.", param="event_name"
        )
    now = store.now()
    record: Record = {
        "id": store.new_id("mtr_"),
        "object": "billing.meter",
        "created": now,
        "customer_mapping": {"event_payload_key": mapping["event_payload_key"], "type": mapping["type"]},
        "default_aggregation": {"formula": params["default_aggregation"]["formula"]},
        "display_name": params["display_name"],
        "event_name": params["event_name"],
        "event_time_window": params.get("event_time_window"),
        "livemode": False,
        "status": "active",
        "status_transitions": {"deactivated_at": None},
        "updated": now,
        "value_settings": {"event_payload_key": value_settings["event_payload_key"]},
        "_seq": store.next_seq(),
    }
    store.meters[record["id"]] = record
    return _view(record)


def retrieve_meter(ctx: Ctx) -> Record:
    expanded(ctx, (), is_list=False)
    return _view(require(ctx.store.meters, str(ctx.object_id), "billing.meter"))


def update_meter(ctx: Ctx) -> Record:
    expanded(ctx, (), is_list=False)
    record = require(ctx.store.meters, str(ctx.object_id), "billing.meter")
    if "display_name" in ctx.params:
        check_length(ctx.params["display_name"], "display_name", METER_DISPLAY_NAME.value)
        record["display_name"] = ctx.params["display_name"]
        record["updated"] = ctx.store.now()
    return _view(record)


def _set_status(ctx: Ctx, status: str) -> Record:
    expanded(ctx, (), is_list=False)
    record = require(ctx.store.meters, str(ctx.object_id), "billing.meter")
    if record["status"] == status:
        raise invalid(f"This meter is already {status}.")
    now = ctx.store.now()
    record["status"] = status
    record["status_transitions"] = {"deactivated_at": now if status == "inactive" else None}
    record["updated"] = now
    return _view(record)


def deactivate_meter(ctx: Ctx) -> Record:
    return _set_status(ctx, "inactive")


def reactivate_meter(ctx: Ctx) -> Record:
    return _set_status(ctx, "active")


def list_meters(ctx: Ctx) -> Record:
    expanded(ctx, (), is_list=True)
    status = ctx.params.get("status")
    records = [m for m in ctx.store.meters.values() if status is None or m["status"] == status]
    return list_page(ctx, records, url="/v1/billing/meters", render=_view, kind="billing.meter", pool=ctx.store.meters)
