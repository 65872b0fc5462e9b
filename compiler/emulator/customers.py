"""Customers: enough of them to own subscriptions (create, retrieve, list), with Stripe's test payment methods.

A customer can be given one of Stripe's test-mode payment methods (`payment_method=pm_card_visa`, see
`facts.TEST_PAYMENT_METHODS`) and make it
the default for invoices (`invoice_settings[default_payment_method]`); that decides whether a subscription's
first invoice can be charged. Stripe attaches a copy of a test payment method under a new `pm_` id; the
emulator keeps the name the client gave, so the same name can be passed as the default in the same request.
Customer fields that change billing and that the emulator does not model (tax ids, cash balance, sources) are
refused with a 400 that says so, rather than accepted and ignored.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any

from compiler.emulator.common import (
    Ctx,
    check_lengths,
    check_metadata,
    expanded,
    list_page,
    matches_created,
    merge_metadata,
    public,
    require,
)
from compiler.emulator.errors import ApiError, invalid, no_such
from compiler.emulator.store import Record, Store
from compiler.stripe.facts import PAYMENT_METHOD_NOT_ATTACHED, TEST_PAYMENT_METHODS

EXPANDABLE = ("test_clock",)
LIMITS = {"description": 5000, "email": 512, "name": 256, "phone": 20, "invoice_prefix": 12}

#: parameters that change how a customer is billed and that the emulator does not model
NOT_MODELLED = ("cash_balance", "source", "tax", "tax_id_data")


def not_modelled(params: Mapping[str, Any], names: tuple[str, ...], what: str) -> None:
    """A 400 for the first of `names` in `params`: accepting and ignoring it would give a different account
    than Stripe would (Stripe itself accepts these)."""
    for name in names:
        if name in params:
            raise invalid(
                f"The pricebook emulator does not model `{name}` on {what}; Stripe accepts it. "
                "Leave it out when testing against the emulator.",
                param=name,
            )


def _payment_method(value: Any, param: str) -> str:
    method = str(value)
    if method not in TEST_PAYMENT_METHODS:
        raise no_such("PaymentMethod", method, param=param, status=400)
    return method


def create_customer(ctx: Ctx) -> Record:
    expand = expanded(ctx, EXPANDABLE, is_list=False)
    store, params = ctx.store, ctx.params
    not_modelled(params, NOT_MODELLED, "customers")
    check_lengths({k: v for k, v in params.items() if k in LIMITS}, LIMITS)
    check_metadata(params.get("metadata"))
    invoice_prefix = params.get("invoice_prefix")
    if isinstance(invoice_prefix, str) and not (
        3 <= len(invoice_prefix) <= 12 and all(c in string.ascii_uppercase + string.digits for c in invoice_prefix)
    ):
        raise invalid("Invoice prefix must be 3 to 12 uppercase letters or numbers.", param="invoice_prefix")
    clock = params.get("test_clock")
    if clock is not None and clock not in store.test_clocks:
        raise no_such("test_helpers.test_clock", str(clock), param="test_clock", status=400)
    attached = [_payment_method(params["payment_method"], "payment_method")] if "payment_method" in params else []
    settings = dict(params.get("invoice_settings") or {})
    default = settings.get("default_payment_method")
    if default is not None and default not in attached:
        raise invalid(
            PAYMENT_METHOD_NOT_ATTACHED.format(method=default), param="invoice_settings[default_payment_method]"
        )
    record: Record = {
        "id": store.new_id("cus_"),
        "object": "customer",
        "address": params.get("address") or None,
        "balance": params.get("balance", 0),
        "business_name": params.get("business_name") or None,
        "created": clock_time(store, clock),
        "currency": None,  # set by the customer's first subscription
        "customer_account": None,
        "default_source": None,
        "delinquent": False,
        "description": params.get("description"),
        "discount": None,
        "email": params.get("email"),
        "individual_name": params.get("individual_name") or None,
        "invoice_prefix": invoice_prefix or store.new_id("")[:8].upper(),
        "invoice_settings": {
            "custom_fields": settings.get("custom_fields") or None,
            "default_payment_method": default,
            "footer": settings.get("footer"),
            "rendering_options": settings.get("rendering_options") or None,
        },
        "livemode": False,
        "metadata": merge_metadata({}, params.get("metadata") or {}),
        "name": params.get("name"),
        "next_invoice_sequence": params.get("next_invoice_sequence", 1),
        "phone": params.get("phone"),
        "preferred_locales": list(params.get("preferred_locales") or []),
        "shipping": params.get("shipping") or None,
        "tax_exempt": params.get("tax_exempt", "none"),
        "test_clock": clock,
        "_payment_methods": attached,
        "_seq": store.next_seq(),
    }
    store.customers[record["id"]] = record
    return customer_view(store, record, expand)


def clock_time(store: Store, clock_id: Any) -> int:
    """Now for an object on test clock `clock_id` (its frozen time), or the account's now without one."""
    clock = store.test_clocks.get(clock_id) if clock_id else None
    return int(clock["frozen_time"]) if clock is not None else store.now()


def customer_now(store: Store, customer: Record) -> int:
    return clock_time(store, customer.get("test_clock"))


def charge_succeeds(customer: Record, method: str | None) -> bool | None:
    """Whether charging `method` (or else the customer's default for invoices) succeeds; None: nothing to charge."""
    chosen = method or customer["invoice_settings"].get("default_payment_method")
    if chosen is None:
        return None
    return TEST_PAYMENT_METHODS.get(str(chosen), False)


def check_attached(customer: Record, method: str, param: str) -> None:
    if method not in customer["_payment_methods"]:
        raise ApiError(400, PAYMENT_METHOD_NOT_ATTACHED.format(method=method), param=param, code="resource_missing")


def customer_view(store: Store, record: Record, expand: frozenset[str]) -> Record:
    out = public(record)
    if "test_clock" in expand and out["test_clock"] in store.test_clocks:
        out["test_clock"] = public(store.test_clocks[out["test_clock"]])
    return out


def retrieve_customer(ctx: Ctx) -> Record:
    expand = expanded(ctx, EXPANDABLE, is_list=False)
    return customer_view(ctx.store, require(ctx.store.customers, str(ctx.object_id), "customer"), expand)


def list_customers(ctx: Ctx) -> Record:
    expand = expanded(ctx, EXPANDABLE, is_list=True)
    params = ctx.params
    clock = params.get("test_clock")
    records = [
        r
        for r in ctx.store.customers.values()
        # customers on a test clock are listed only when their clock is asked for (CustomerListParams)
        if r["test_clock"] == clock
        and ("email" not in params or r["email"] == params["email"])
        and matches_created(r, params.get("created"))
    ]
    return list_page(
        ctx,
        records,
        url="/v1/customers",
        render=lambda r: customer_view(ctx.store, r, expand),
        kind="customer",
        pool=ctx.store.customers,
    )
