"""Products: custom ids, update with Stripe's unset convention, archive, delete only without prices."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from compiler.emulator.common import (
    Ctx,
    check_length,
    check_metadata,
    expanded,
    list_page,
    matches_created,
    merge_metadata,
    public,
    require,
)
from compiler.emulator.errors import already_exists, invalid, no_such
from compiler.emulator.store import Record, Store
from compiler.stripe.facts import (
    MARKETING_FEATURE_NAME,
    MARKETING_FEATURES,
    PRODUCT_DESCRIPTION,
    PRODUCT_IMAGES,
    STATEMENT_DESCRIPTOR,
    STATEMENT_DESCRIPTOR_FORBIDDEN,
    STRING_LENGTH,
    UNIT_LABEL,
)

EXPANDABLE = ("default_price",)
LIMITS = {
    "name": STRING_LENGTH.value,
    "description": PRODUCT_DESCRIPTION.value,
    "statement_descriptor": STATEMENT_DESCRIPTOR.value,
    "unit_label": UNIT_LABEL.value,
    "url": STRING_LENGTH.value,
}
UNSETTABLE = (
    "description",
    "images",
    "marketing_features",
    "package_dimensions",
    "tax_code",
    "tax_details",
    "unit_label",
    "url",
)
_EMPTY_LIST_FIELDS = ("images", "marketing_features")


def _check_fields(params: Mapping[str, Any], param_prefix: str = "") -> None:
    def name(key: str) -> str:
        return f"{param_prefix}[{key}]" if param_prefix else key

    for key, limit in LIMITS.items():
        check_length(params.get(key), name(key), limit)
    descriptor = params.get("statement_descriptor")
    if isinstance(descriptor, str):
        if any(c in descriptor for c in STATEMENT_DESCRIPTOR_FORBIDDEN):
            raise invalid(
                "The statement descriptor may not include `<`, `>`, `\\`, `\"`, `'`.",
                param=name("statement_descriptor"),
            )
        if not any(c.isalpha() for c in descriptor):
            raise invalid(
                "The statement descriptor must contain at least one letter.", param=name("statement_descriptor")
            )
    images = params.get("images")
    if isinstance(images, list) and len(images) > PRODUCT_IMAGES.value:
        raise invalid(f"You can specify up to {PRODUCT_IMAGES.value} images.", param=name("images"))
    features = params.get("marketing_features")
    if isinstance(features, list) and len(features) > MARKETING_FEATURES.value:
        raise invalid(
            f"You can specify up to {MARKETING_FEATURES.value} marketing features.", param=name("marketing_features")
        )
    for index, feature in enumerate(features if isinstance(features, list) else []):
        if isinstance(feature, Mapping):
            param = f"{name('marketing_features')}[{index}][name]"
            check_length(feature.get("name"), param, MARKETING_FEATURE_NAME.value)
    check_metadata(params.get("metadata"), name("metadata"))


def create_product_record(store: Store, params: Mapping[str, Any], *, param: str = "") -> Record:
    """Check and store a product (also used for a price's `product_data` and a plan's inline `product`)."""
    _check_fields(params, param)
    product_id = params.get("id") or store.new_id("prod_")
    if product_id in store.products:
        raise already_exists("Product already exists.", param=f"{param}[id]" if param else "id")
    now = store.now()
    record: Record = {
        "id": product_id,
        "object": "product",
        "active": params.get("active", True),
        "created": now,
        "default_price": None,
        "description": params.get("description"),
        "images": list(params.get("images") or []),
        "livemode": False,
        "marketing_features": [dict(f) for f in params.get("marketing_features") or []],
        "metadata": merge_metadata({}, params.get("metadata") or {}),
        "name": params["name"],
        "package_dimensions": params.get("package_dimensions"),
        "shippable": params.get("shippable"),
        "statement_descriptor": params.get("statement_descriptor"),
        "tax_code": params.get("tax_code"),
        "tax_details": params.get("tax_details"),
        "type": params.get("type", "service"),
        "unit_label": params.get("unit_label"),
        "updated": now,
        "url": params.get("url"),
        "_seq": store.next_seq(),
    }
    store.products[product_id] = record
    return record


def product_view(store: Store, record: Record, expand: frozenset[str]) -> Record:
    out = public(record)
    if "default_price" in expand and out["default_price"] in store.prices:
        from compiler.emulator.prices import price_view  # prices render products: import late

        out["default_price"] = price_view(store, store.prices[out["default_price"]], frozenset())
    return out


def _default_price_names() -> dict[str, str]:
    keys = ("unit_amount", "unit_amount_decimal", "custom_unit_amount", "tiers", "currency_options")
    names = {k: f"default_price_data[{k}]" for k in keys}
    names.update({f"recurring[{k}]": f"default_price_data[recurring][{k}]" for k in ("interval", "interval_count")})
    return names


def create_product(ctx: Ctx) -> Record:
    from compiler.emulator.prices import build_family_record

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
    return product_view(store, record, expand)


def retrieve_product(ctx: Ctx) -> Record:
    expand = expanded(ctx, EXPANDABLE, is_list=False)
    return product_view(ctx.store, require(ctx.store.products, str(ctx.object_id), "product"), expand)


def update_product(ctx: Ctx) -> Record:
    expand = expanded(ctx, EXPANDABLE, is_list=False)
    store, params = ctx.store, ctx.params
    record = require(store.products, str(ctx.object_id), "product")
    _check_fields({k: v for k, v in params.items() if v != ""})
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
            record[key] = [] if key in _EMPTY_LIST_FIELDS else None
        else:
            record[key] = value
    if "metadata" in params:
        record["metadata"] = merge_metadata(record["metadata"], params["metadata"])
    record["updated"] = store.now()
    return product_view(store, record, expand)


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
        render=lambda r: product_view(ctx.store, r, expand),
        kind="product",
        pool=ctx.store.products,
    )
