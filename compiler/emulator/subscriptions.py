"""Subscriptions: create, retrieve, list and cancel, with subscription items that carry a quantity and a price.

Enough of Stripe's subscriptions to count who is on a price, and to reach every status a list can filter on:

- at creation (https://docs.stripe.com/api/subscriptions/create): a trial (`trial_period_days`, `trial_end`,
  `trial_from_plan`) starts `trialing`; `collection_method=send_invoice` starts `active` whatever its first
  invoice does; `charge_automatically` charges the first invoice to the subscription's or the customer's default
  payment method (`customers.TEST_PAYMENT_METHODS`): paid is `active`, a failed charge is `incomplete` under
  `payment_behavior=allow_incomplete` (the default) and a 402 under `error_if_incomplete`, no payment method at
  all is a 400, and `default_incomplete` is always `incomplete`. A first invoice of nothing (metered items only)
  needs no payment.
- as time passes (the customer's test clock, else the account's clock): `incomplete` expires after 23 hours;
  a trial ends in `active` when the charge succeeds (or nothing is due), `past_due` when it fails, and without a
  payment method as `trial_settings.end_behavior.missing_payment_method` says (`create_invoice`, the default:
  `past_due`; `pause`: `paused`; `cancel`: `canceled`); nothing ever pays a sent invoice here, so a
  `send_invoice` subscription turns `past_due` once its first invoice is `days_until_due` days old.
- `DELETE /v1/subscriptions/{id}` cancels.

Lists are newest first and filter on `customer`, `price`, `plan`, `status` (one status, `all`, or `ended`;
without it every subscription that is not canceled), `test_clock`, `collection_method`, `created` and the
items' periods; like Stripe's, a list without `customer` or `test_clock` leaves out subscriptions on test clocks.
Each subscription embeds its items (at most 20) with the price and plan objects. Parameters that change what a
subscription bills and that the emulator does not model (discounts, tax rates, inline `price_data`, billing
cycle anchors, ...) are refused with a 400 that says so.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from compiler.emulator import currencies
from compiler.emulator.common import (
    Ctx,
    check_length,
    check_metadata,
    expanded,
    list_page,
    matches_created,
    merge_metadata,
    non_negative,
    public,
    require,
)
from compiler.emulator.customers import (
    charge_succeeds,
    check_attached,
    customer_now,
    customer_view,
    not_modelled,
)
from compiler.emulator.errors import ApiError, exclusive, invalid, missing_param, no_such
from compiler.emulator.prices import plan_view, price_view
from compiler.emulator.store import Record, Store
from compiler.stripe.facts import (
    CARD_DECLINED,
    ENDED_STATUSES,
    INACTIVE_PRICE_ON_SUBSCRIPTION,
    INCOMPLETE_EXPIRY,
    NO_PAYMENT_METHOD,
    ONE_CURRENCY_PER_CUSTOMER,
    ONE_TIME_PRICE_ON_SUBSCRIPTION,
    QUANTITY_ON_METERED_ITEM,
    SUBSCRIPTION_ITEMS,
    SUBSCRIPTION_MISMATCH,
    SUBSCRIPTIONS_PATH,
    TRIAL_DAYS,
    TRIAL_TOO_LONG,
    SubscriptionStatus,
)

EXPANDABLE = ("customer", "test_clock")
DAY = 86400
NOT_MODELLED = (
    "add_invoice_items",
    "application_fee_percent",
    "backdate_start_date",
    "billing_cycle_anchor",
    "billing_cycle_anchor_config",
    "billing_mode",
    "billing_schedules",
    "billing_thresholds",
    "cancel_at",
    "customer_account",
    "default_source",
    "default_tax_rates",
    "discounts",
    "on_behalf_of",
    "payment_settings",
    "pending_invoice_item_interval",
    "transfer_data",
)
ITEM_NOT_MODELLED = ("billing_thresholds", "current_trial", "discounts", "price_data", "tax_rates")


# -- billing periods ----------------------------------------------------------------------------------------------


def _add_months(anchor: int, months: int) -> int:
    """`anchor` moved by whole months, its day clamped to the month's length (Jan 31 + 1 month = Feb 28/29)."""
    start = datetime.fromtimestamp(anchor, UTC)
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return int(start.replace(year=year, month=month, day=day).timestamp())


def period_end(start: int, interval: str, count: int, periods: int = 1) -> int:
    """The end of `periods` billing periods of `count` `interval`s that begin at `start`."""
    if interval == "year":
        return _add_months(start, 12 * count * periods)
    if interval == "month":
        return _add_months(start, count * periods)
    days = {"week": 7, "day": 1}[interval] * count * periods
    return int((datetime.fromtimestamp(start, UTC) + timedelta(days=days)).timestamp())


def _current_period(anchor: int, interval: str, count: int, now: int) -> tuple[int, int]:
    periods = 0
    while period_end(anchor, interval, count, periods + 1) <= now:
        periods += 1
    return period_end(anchor, interval, count, periods), period_end(anchor, interval, count, periods + 1)


# -- creating -----------------------------------------------------------------------------------------------------


def _price_of_item(store: Store, item: Mapping[str, Any], index: int) -> tuple[Record, str]:
    p = f"items[{index}]"
    not_modelled(item, ITEM_NOT_MODELLED, "subscription items")
    if item.get("price") is not None and item.get("plan") is not None:
        raise exclusive(f"{p}[plan]", f"{p}[price]")
    kind = "plan" if item.get("plan") is not None else "price"
    if item.get(kind) is None:
        raise missing_param(f"{p}[price]")
    param = f"{p}[{kind}]"
    record = store.prices.get(str(item[kind]))
    if record is None:
        raise no_such(kind, str(item[kind]), param=param, status=400)
    if record["recurring"] is None:
        raise invalid(ONE_TIME_PRICE_ON_SUBSCRIPTION, param=param)
    if not record["active"]:
        raise invalid(INACTIVE_PRICE_ON_SUBSCRIPTION.format(kind=kind), param=param)
    return record, param


def _has_amount(option: Mapping[str, Any]) -> bool:
    tiers = option.get("tiers")
    if tiers:
        amounts = (t.get(k) for t in tiers for k in ("unit_amount_decimal", "flat_amount_decimal"))
        return any(a is not None and Decimal(str(a)) > 0 for a in amounts)
    amount = option.get("unit_amount_decimal")
    return amount is not None and Decimal(str(amount)) > 0


def _items(store: Store, raw: Any, currency: str | None) -> tuple[list[tuple[Record, int | None]], str]:
    """Each item's price record and quantity (None on a metered price), and the subscription's currency."""
    if not isinstance(raw, list) or not raw:
        raise missing_param("items")
    if len(raw) > SUBSCRIPTION_ITEMS.value:
        raise invalid(f"A subscription can have at most {SUBSCRIPTION_ITEMS.value} items.", param="items")
    out: list[tuple[Record, int | None]] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        record, param = _price_of_item(store, item, index)
        if record["id"] in seen:
            raise invalid(f"Cannot add multiple subscription items with the same price: {record['id']}.", param=param)
        seen.add(record["id"])
        metered = record["recurring"]["usage_type"] == "metered"
        quantity = item.get("quantity")
        if metered and quantity is not None:
            raise invalid(QUANTITY_ON_METERED_ITEM.format(index=index), param=f"items[{index}][quantity]")
        if quantity is not None:
            non_negative(quantity, f"items[{index}][quantity]")
        check_metadata(item.get("metadata"), f"items[{index}][metadata]")
        out.append((record, None if metered else int(quantity if quantity is not None else 1)))
    chosen = currency or out[0][0]["currency"]
    intervals = {(r["recurring"]["interval"], r["recurring"]["interval_count"]) for r, _q in out}
    if len(intervals) > 1:
        raise invalid(f"{SUBSCRIPTION_MISMATCH} Found mismatch in interval field.", param="items")
    for index, (record, _quantity) in enumerate(out):
        if chosen not in record["currency_options"]:
            raise invalid(
                f"The price {record['id']} has no {chosen} amount: a subscription in {chosen} needs prices with "
                f"that currency or a currency option for it.",
                param=f"items[{index}][price]",
            )
    return out, chosen


def _trial_end(params: Mapping[str, Any], prices: Sequence[Record], now: int) -> int | None:
    days = params.get("trial_period_days")
    end = params.get("trial_end")
    if days is not None and end is not None:
        raise exclusive("trial_end", "trial_period_days")
    if days is not None:
        non_negative(days, "trial_period_days")
        if days > TRIAL_DAYS.value:
            raise invalid(TRIAL_TOO_LONG, param="trial_period_days")
        return now + int(days) * DAY if days else None
    if end == "now":
        return None
    if end is not None:
        if int(end) <= now:
            raise invalid("Invalid timestamp: must be an integer Unix timestamp in the future.", param="trial_end")
        if int(end) > now + TRIAL_DAYS.value * DAY:
            raise invalid("trial_end can be at most two years from the subscription's start.", param="trial_end")
        return int(end)
    if params.get("trial_from_plan"):
        plan_days = [r["recurring"].get("trial_period_days") or 0 for r in prices]
        return now + max(plan_days) * DAY if any(plan_days) else None
    return None


def _first_status(params: Mapping[str, Any], customer: Record, trial_end: int | None, charges: bool) -> str:
    """The status a new subscription starts in, or the error Stripe answers instead of creating it."""
    if trial_end is not None:
        return SubscriptionStatus.TRIALING
    if params.get("collection_method") == "send_invoice":
        return SubscriptionStatus.ACTIVE
    behavior = params.get("payment_behavior", "allow_incomplete")
    if behavior == "pending_if_incomplete":
        raise invalid(
            "`payment_behavior=pending_if_incomplete` is only supported when updating a subscription.",
            param="payment_behavior",
        )
    if behavior == "default_incomplete" and charges:
        return SubscriptionStatus.INCOMPLETE
    if not charges:
        return SubscriptionStatus.ACTIVE
    paid = charge_succeeds(customer, params.get("default_payment_method"))
    if paid is None:
        raise invalid(NO_PAYMENT_METHOD)
    if paid:
        return SubscriptionStatus.ACTIVE
    if behavior == "error_if_incomplete":
        raise ApiError(402, CARD_DECLINED, type="card_error", code="card_declined")
    return SubscriptionStatus.INCOMPLETE


def create_subscription(ctx: Ctx) -> Record:
    expand = expanded(ctx, EXPANDABLE, is_list=False)
    store, params = ctx.store, ctx.params
    not_modelled(params, NOT_MODELLED, "subscriptions")
    if (params.get("automatic_tax") or {}).get("enabled"):
        raise invalid(
            "The pricebook emulator does not model `automatic_tax`; Stripe accepts it. "
            "Leave it out when testing against the emulator.",
            param="automatic_tax",
        )
    if "customer" not in params:
        raise missing_param("customer")
    customer = store.customers.get(str(params["customer"]))
    if customer is None:
        raise no_such("customer", str(params["customer"]), param="customer", status=400)
    check_metadata(params.get("metadata"))
    check_length(params.get("description"), "description", 500)
    requested = params.get("currency")
    if requested is not None:
        requested = str(requested).lower()
        if not currencies.is_supported(requested):
            raise invalid(currencies.unsupported_message(requested), param="currency")
    items, currency = _items(store, params.get("items"), requested or customer["currency"])
    if customer["currency"] is not None and customer["currency"] != currency:
        raise invalid(ONE_CURRENCY_PER_CUSTOMER.format(currency=customer["currency"]), param="currency")
    collection = params.get("collection_method", "charge_automatically")
    days_until_due = params.get("days_until_due")
    if collection == "send_invoice" and days_until_due is None:
        raise missing_param("days_until_due")
    if collection != "send_invoice" and days_until_due is not None:
        raise invalid(
            "`days_until_due` can only be set when `collection_method` is `send_invoice`.", param="days_until_due"
        )
    if days_until_due is not None:
        non_negative(days_until_due, "days_until_due")
    if params.get("default_payment_method") is not None:
        check_attached(customer, str(params["default_payment_method"]), "default_payment_method")
    now = customer_now(store, customer)
    trial_end = _trial_end(params, [r for r, _q in items], now)
    charges = any(q and _has_amount(r["currency_options"][currency]) for r, q in items)
    status = _first_status(params, customer, trial_end, charges)
    # Every check passed: write.
    customer["currency"] = currency
    missing = ((params.get("trial_settings") or {}).get("end_behavior") or {}).get("missing_payment_method")
    record: Record = {
        "id": store.new_id("sub_"),
        "object": "subscription",
        "application": None,
        "application_fee_percent": None,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
        "billing_cycle_anchor": trial_end or now,
        "billing_cycle_anchor_config": None,
        "billing_mode": {"flexible": None, "type": "classic", "updated_at": None},
        "billing_schedules": [],
        "billing_thresholds": None,
        "cancel_at": None,
        "cancel_at_period_end": bool(params.get("cancel_at_period_end", False)),
        "canceled_at": None,
        "cancellation_details": {"comment": None, "feedback": None, "reason": None},
        "collection_method": collection,
        "created": now,
        "currency": currency,
        "customer": customer["id"],
        "customer_account": None,
        "days_until_due": days_until_due,
        "default_payment_method": params.get("default_payment_method"),
        "default_source": None,
        "default_tax_rates": [],
        "description": params.get("description"),
        "discounts": [],
        "ended_at": None,
        "invoice_settings": {"account_tax_ids": None, "issuer": {"type": "self"}},
        "latest_invoice": None,
        "livemode": False,
        "managed_payments": None,
        "metadata": merge_metadata({}, params.get("metadata") or {}),
        "next_pending_invoice_item_invoice": None,
        "on_behalf_of": None,
        "pause_collection": None,
        "payment_settings": None,
        "pending_invoice_item_interval": None,
        "pending_setup_intent": None,
        "pending_update": None,
        "presentment_details": None,
        "schedule": None,
        "start_date": now,
        "status": status,
        "status_details": None,
        "test_clock": customer.get("test_clock"),
        "transfer_data": None,
        "trial_end": trial_end,
        "trial_settings": {"end_behavior": {"missing_payment_method": missing or "create_invoice"}},
        "trial_start": now if trial_end is not None else None,
        "_items": [
            {
                "id": store.new_id("si_"),
                "created": now,
                "metadata": merge_metadata({}, item.get("metadata") or {}),
                "quantity": quantity,
                "_price": price["id"],
                "_snapshot": dict(price),  # the price as it was, should the plan be deleted later
            }
            for (price, quantity), item in zip(items, params["items"], strict=True)
        ],
        "_charges": charges,
        # nothing pays a sent invoice in the emulator: the first one falls due this long after billing starts
        "_due_after": int(days_until_due) * DAY if days_until_due is not None else None,
        "_seq": store.next_seq(),
    }
    store.subscriptions[record["id"]] = record
    return subscription_view(store, record, expand)


# -- time passing -------------------------------------------------------------------------------------------------


def _end(record: Record, status: str, at: int) -> None:
    record["status"] = status
    record["ended_at"] = at
    if status == SubscriptionStatus.CANCELED:
        record["canceled_at"] = at


def settle(store: Store, record: Record) -> None:
    """Move `record` through the statuses time has reached (see the module docstring); idempotent."""
    customer = store.customers.get(record["customer"])
    now = customer_now(store, customer) if customer is not None else store.now()
    status = record["status"]
    if status == SubscriptionStatus.INCOMPLETE and now >= record["created"] + INCOMPLETE_EXPIRY.value:
        _end(record, SubscriptionStatus.INCOMPLETE_EXPIRED, record["created"] + INCOMPLETE_EXPIRY.value)
        return
    trial_end = record["trial_end"]
    if status == SubscriptionStatus.TRIALING and trial_end is not None and now >= trial_end:
        status = record["status"] = _after_trial(record, customer)
        if status == SubscriptionStatus.CANCELED:
            _end(record, SubscriptionStatus.CANCELED, trial_end)
            return
    due_after = record["_due_after"]
    overdue = due_after is not None and now >= record["billing_cycle_anchor"] + due_after
    if status == SubscriptionStatus.ACTIVE and overdue and record["_charges"]:
        record["status"] = SubscriptionStatus.PAST_DUE


def _after_trial(record: Record, customer: Record | None) -> str:
    if record["collection_method"] == "send_invoice" or not record["_charges"]:
        return SubscriptionStatus.ACTIVE
    paid = charge_succeeds(customer, record["default_payment_method"]) if customer is not None else None
    if paid is not None:
        return SubscriptionStatus.ACTIVE if paid else SubscriptionStatus.PAST_DUE
    behavior = record["trial_settings"]["end_behavior"]["missing_payment_method"]
    return {"cancel": SubscriptionStatus.CANCELED, "pause": SubscriptionStatus.PAUSED}.get(
        behavior, SubscriptionStatus.PAST_DUE
    )


# -- views --------------------------------------------------------------------------------------------------------


def _item_price(store: Store, item: Record) -> Record:
    return store.prices.get(item["_price"]) or item["_snapshot"]


def _periods(store: Store, record: Record) -> tuple[int, int]:
    first = _item_price(store, record["_items"][0])["recurring"]
    customer = store.customers.get(record["customer"])
    now = customer_now(store, customer) if customer is not None else store.now()
    if record["ended_at"] is not None:
        now = min(now, record["ended_at"])
    trial_end = record["trial_end"]
    if trial_end is not None and now < trial_end:
        return record["start_date"], trial_end
    return _current_period(record["billing_cycle_anchor"], first["interval"], first["interval_count"], now)


def _item_view(store: Store, record: Record, item: Record, periods: tuple[int, int]) -> Record:
    price = _item_price(store, item)
    out: Record = {
        "id": item["id"],
        "object": "subscription_item",
        "billed_until": None,
        "billing_thresholds": None,
        "created": item["created"],
        "current_trial": None,
        "current_period_end": periods[1],
        "current_period_start": periods[0],
        "discounts": [],
        "metadata": item["metadata"],
        "plan": plan_view(store, price, frozenset()),
        "price": price_view(store, price, frozenset()),
        "subscription": record["id"],
        "tax_rates": [],
    }
    if item["quantity"] is not None:  # a metered item has no quantity: it bills the meter's usage
        out["quantity"] = item["quantity"]
    return out


def subscription_view(store: Store, record: Record, expand: frozenset[str]) -> Record:
    periods = _periods(store, record)
    out = public(record)
    items = [_item_view(store, record, item, periods) for item in record["_items"]]
    out["items"] = {
        "object": "list",
        "data": items,
        "has_more": False,
        "total_count": len(items),
        "url": f"/v1/subscription_items?subscription={record['id']}",
    }
    if "customer" in expand and record["customer"] in store.customers:
        out["customer"] = customer_view(store, store.customers[record["customer"]], frozenset())
    if "test_clock" in expand and record["test_clock"] in store.test_clocks:
        out["test_clock"] = public(store.test_clocks[record["test_clock"]])
    return out


# -- reading and cancelling ---------------------------------------------------------------------------------------


def retrieve_subscription(ctx: Ctx) -> Record:
    expand = expanded(ctx, EXPANDABLE, is_list=False)
    record = require(ctx.store.subscriptions, str(ctx.object_id), "subscription")
    settle(ctx.store, record)
    return subscription_view(ctx.store, record, expand)


def cancel_subscription(ctx: Ctx) -> Record:
    expand = expanded(ctx, EXPANDABLE, is_list=False)
    store = ctx.store
    record = require(store.subscriptions, str(ctx.object_id), "subscription")
    settle(store, record)
    if record["status"] in ENDED_STATUSES:
        raise invalid(f"This subscription has already ended ({record['status']}): it cannot be canceled.")
    customer = store.customers.get(record["customer"])
    _end(record, SubscriptionStatus.CANCELED, customer_now(store, customer) if customer is not None else store.now())
    details = ctx.params.get("cancellation_details") or {}
    record["cancellation_details"] = {
        "comment": details.get("comment") or None,
        "feedback": details.get("feedback") or None,
        "reason": "cancellation_requested",
    }
    return subscription_view(store, record, expand)


def _in_range(value: int, bounds: Any) -> bool:
    return matches_created({"created": value}, bounds)


def _status_matches(status: str, wanted: Any) -> bool:
    if wanted is None:
        return (
            status != SubscriptionStatus.CANCELED
        )  # "If no value is supplied, all subscriptions that have not been canceled"
    if wanted == "all":
        return True
    if wanted == "ended":
        return status in ENDED_STATUSES
    return bool(status == wanted)


def list_subscriptions(ctx: Ctx) -> Record:
    expand = expanded(ctx, EXPANDABLE, is_list=True)
    store, params = ctx.store, ctx.params
    if params.get("price") is not None and params.get("plan") is not None:
        raise exclusive("plan", "price")
    clock, customer = params.get("test_clock"), params.get("customer")
    wanted = params.get("price") or params.get("plan")
    records = []
    for record in store.subscriptions.values():
        if customer is not None and record["customer"] != customer:
            continue
        if clock is not None and record["test_clock"] != clock:
            continue
        if clock is None and customer is None and record["test_clock"] is not None:
            continue  # "will not include subscriptions with test clocks if this and the customer parameter is not set"
        if wanted is not None and all(item["_price"] != wanted for item in record["_items"]):
            continue
        if "collection_method" in params and record["collection_method"] != params["collection_method"]:
            continue
        if (params.get("automatic_tax") or {}).get("enabled"):
            continue  # no subscription here computes tax automatically
        if not matches_created(record, params.get("created")):
            continue
        settle(store, record)
        if not _status_matches(record["status"], params.get("status")):
            continue
        if "current_period_end" in params or "current_period_start" in params:
            start, end = _periods(store, record)
            if not (
                _in_range(end, params.get("current_period_end"))
                and _in_range(start, params.get("current_period_start"))
            ):
                continue
        records.append(record)
    return list_page(
        ctx,
        records,
        url=SUBSCRIPTIONS_PATH,
        render=lambda r: subscription_view(store, r, expand),
        kind="subscription",
        pool=store.subscriptions,
    )
