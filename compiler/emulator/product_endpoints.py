"""The /v1/products endpoints: create (with `default_price_data`, a price made in the same request), retrieve,
update, delete (only without prices), list; `expand[]=default_price` shows the price itself.

A product's endpoints need prices (to make and show its default price), and prices need products (to name and
create theirs): the records live below in products.py, prices.py builds on them, and this module on both.
"""

from __future__ import annotations

from compiler.emulator.common import Ctx, expanded, list_page, matches_created, merge_metadata, require
from compiler.emulator.errors import invalid, no_such
from compiler.emulator.prices import build_family_record, price_view
from compiler.emulator.products import (
    EMPTY_LIST_FIELDS,
    UNSETTABLE,
    check_fields,
    create_product_record,
    product_view,
)
from compiler.emulator.store import Record, Store

EXPANDABLE = ("default_price",)


def _view(store: Store, record: Record, expand: frozenset[str]) -> Record:
    out = product_view(record)
    if "default_price" in expand and out["default_price"] in store.prices:
        out["default_price"] = price_view(store, store.prices[out["default_price"]], frozenset())
    return out


def _default_price_names() -> dict[str, str]:
    keys = ("unit_amount", "unit_amount_decimal", "custom_unit_amount", "tiers", "currency_options")
    names = {k: f"default_price_data[{k}]" for k in keys}
    names.update({f"recurring[{k}]": f"default_price_data[recurring][{k}]" for k in ("interval", "interval_count")})
    return names


def create_product(ctx: Ctx) -> Record:
    expand = expanded(ctx, EXPANDABLE, is_list=False)
    store, params = ctx.store, ctx.params
    record = create_product_record(store, params)
    data = params.get("default_price_data")
    if data is not None:
        try:
            price = build_family_record(
                ctx, {**data, "product": record["id"]}, kind="price", names=_default_price_names()
            )
        except Exception:
            del store.products[record["id"]]  # one request, one outcome: no product without its price
            raise
        store.prices[price["id"]] = price
        record["default_price"] = price["id"]
    return _view(store, record, expand)


def retrieve_product(ctx: Ctx) -> Record:
    expand = expanded(ctx, EXPANDABLE, is_list=False)
    return _view(ctx.store, require(ctx.store.products, str(ctx.object_id), "product"), expand)


def update_product(ctx: Ctx) -> Record:
    expand = expanded(ctx, EXPANDABLE, is_list=False)
    store, params = ctx.store, ctx.params
    record = require(store.products, str(ctx.object_id), "product")
    check_fields({k: v for k, v in params.items() if v != ""}, metadata=record["metadata"])
    for key in ("statement_descriptor", "unit_label"):
        if params.get(key) and record["type"] != "service":
            raise invalid(f"`{key}` may only be set if `type=service`.", param=key)
    if params.get("default_price"):
        price_id = params["default_price"]
        price = store.prices.get(price_id)
        if price is None:
            raise no_such("price", str(price_id), param="default_price", status=400)
        if price["product"] != record["id"]:
            raise invalid("The default price must belong to this product.", param="default_price")
        if not price["active"]:
            raise invalid("The default price must be active.", param="default_price")
    for key, value in params.items():
        if key in ("expand", "metadata"):
            continue
        if value == "" and (key in UNSETTABLE or key == "default_price"):
            record[key] = [] if key in EMPTY_LIST_FIELDS else None
        else:
            record[key] = value
    if "metadata" in params:
        record["metadata"] = merge_metadata(record["metadata"], params["metadata"])
    record["updated"] = store.now()
    return _view(store, record, expand)


def delete_product(ctx: Ctx) -> Record:
    store = ctx.store
    record = require(store.products, str(ctx.object_id), "product")
    if any(p["product"] == record["id"] for p in store.prices.values()):
        raise invalid("This product cannot be deleted because it has one or more user-created prices.")
    del store.products[record["id"]]
    return {"id": record["id"], "object": "product", "deleted": True}


def list_products(ctx: Ctx) -> Record:
    expand = expanded(ctx, EXPANDABLE, is_list=True)
    params = ctx.params
    ids = params.get("ids")
    if ids is not None and (params.get("starting_after") or params.get("ending_before")):
        raise invalid("`ids` cannot be used with `starting_after` or `ending_before`.", param="ids")
    records = [
        r
        for r in ctx.store.products.values()
        if (ids is None or r["id"] in ids)
        and all(k not in params or r[k] == params[k] for k in ("active", "shippable", "url", "type"))
        and matches_created(r, params.get("created"))
    ]
    return list_page(
        ctx,
        records,
        url="/v1/products",
        render=lambda r: _view(ctx.store, r, expand),
        kind="product",
        pool=ctx.store.products,
    )
