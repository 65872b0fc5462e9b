"""Prices and plans: one object family with one id space (a plan is a recurring price in the Plans API's shape).

Both endpoints store the same record (a price as Stripe renders it with every expansion); a plan is a view of
it. Plan params are translated to price params before the shared rules run, and `Names` maps the price param
names back so errors name what the client sent (`amount`, `transform_usage`, `interval_count`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from compiler.emulator import currencies
from compiler.emulator.common import (
    Ctx,
    check_length,
    check_lengths,
    check_metadata,
    dec_str,
    decimal_places,
    expanded,
    list_page,
    matches_created,
    merge_metadata,
    non_negative,
    positive,
    public,
    require,
)
from compiler.emulator.errors import ApiError, already_exists, exclusive, invalid, missing_param, no_such
from compiler.emulator.products import create_product_record, product_view
from compiler.emulator.store import Record, Store
from compiler.stripe.facts import (
    DEACTIVATED_METER,
    INTERVAL_ADJECTIVE,
    INTERVAL_COUNT,
    INTERVAL_TOO_LONG,
    ISK_NOT_WHOLE,
    ISK_NOT_WHOLE_CODE,
    LOOKUP_KEY,
    LOOKUP_KEY_TAKEN,
    LOOKUP_KEYS_PER_LIST,
    METERED_NEEDS_METER,
    OPTION_IS_PRICE_CURRENCY,
    PLAN_NAME_OF,
    PRICE_AMOUNT,
    RECURRING_FIELDS,
    REQUIRES_TIERED,
    TIER_AMOUNT_PAIRS,
    TIER_WITHOUT_AMOUNT,
    TRIAL_DAYS,
    TRIAL_TOO_LONG,
    plan_from_price,
    price_params_from_plan,
)

Names = Mapping[str, str]
PRICE_NAMES: Names = {}
PLAN_NAMES: Names = {
    **PLAN_NAME_OF,
    "transform_quantity[divide_by]": "transform_usage[divide_by]",
    **{f"recurring[{name}]": name for name in RECURRING_FIELDS},
    "product_data": "product",
}

PRICE_EXPANDABLE = ("tiers", "currency_options", "product")
PLAN_EXPANDABLE = ("tiers", "product")


def _n(names: Names, param: str) -> str:
    return names.get(param, param)


def _p(prefix: str, key: str, names: Names) -> str:
    """A param's name: top level through `names`, nested as `prefix` + key + "]" (`tiers[0][unit_amount]`)."""
    return _n(names, key) if not prefix else f"{prefix}{key}]"


# -- amounts ------------------------------------------------------------------------------------------------------


def _amount_pair(
    params: Mapping[str, Any], int_key: str, dec_key: str, prefix: str, names: Names
) -> tuple[int | None, str | None, bool]:
    """(integer amount, decimal string, whether any was given) for one `x` / `x_decimal` pair."""
    has_int, has_dec = params.get(int_key) is not None, params.get(dec_key) is not None
    p_int, p_dec = _p(prefix, int_key, names), _p(prefix, dec_key, names)
    if has_int and has_dec:
        raise exclusive(p_int, p_dec)
    if has_int:
        non_negative(params[int_key], p_int)
        value = int(params[int_key])
        return value, str(value), True
    if has_dec:
        dec = Decimal(params[dec_key])
        non_negative(dec, p_dec)
        decimal_places(dec, p_dec)
        integral = dec == dec.to_integral_value()
        return (int(dec) if integral else None), dec_str(dec), True
    return None, None, False


def _custom_unit_amount(value: Any, param: str) -> Record | None:
    # "Pass in `true` to enable `custom_unit_amount`, otherwise omit `custom_unit_amount`": not enabled is none
    if value is None or value.get("enabled") is not True:
        return None
    amounts = {k: value.get(k) for k in ("maximum", "minimum", "preset")}
    for key, amount in amounts.items():
        if amount is not None:
            non_negative(amount, f"{param}[{key}]")
    lo, preset, hi = amounts["minimum"], amounts["preset"], amounts["maximum"]
    if lo is not None and hi is not None and lo > hi:
        raise invalid("The minimum must be less than or equal to the maximum.", param=f"{param}[minimum]")
    if preset is not None and ((lo is not None and preset < lo) or (hi is not None and preset > hi)):
        raise invalid("The preset must be between the minimum and the maximum.", param=f"{param}[preset]")
    return amounts


def _tiers(raw: Any, param: str) -> list[Record]:
    if not isinstance(raw, list) or not raw:
        raise missing_param(param)
    out: list[Record] = []
    previous = 0
    for i, tier in enumerate(raw):
        p = f"{param}[{i}]"
        up_to = tier.get("up_to")
        last = i == len(raw) - 1
        if up_to is None:
            raise missing_param(f"{p}[up_to]")
        if up_to == "inf":
            if not last:
                raise invalid("Only the last tier may have `up_to` set to `inf`.", param=f"{p}[up_to]")
        else:
            if last:
                raise invalid("The last tier must have `up_to` set to `inf`.", param=f"{p}[up_to]")
            if up_to < 1 or up_to <= previous:
                raise invalid(
                    "Tiers must be sorted by `up_to`, each greater than the previous and at least 1.",
                    param=f"{p}[up_to]",
                )
            previous = up_to
        unit, unit_dec, has_unit = _amount_pair(tier, *TIER_AMOUNT_PAIRS[0], f"{p}[", {})
        flat, flat_dec, has_flat = _amount_pair(tier, *TIER_AMOUNT_PAIRS[1], f"{p}[", {})
        if not (has_unit or has_flat):
            raise invalid(TIER_WITHOUT_AMOUNT, param=p)
        if flat_dec is not None and flat is None:
            raise invalid(
                "flat_amount_decimal must represent an integer in the currency's minor unit.",
                param=f"{p}[flat_amount_decimal]",
            )
        out.append(
            {
                "flat_amount": flat,
                "flat_amount_decimal": flat_dec,
                "unit_amount": unit,
                "unit_amount_decimal": unit_dec,
                "up_to": None if up_to == "inf" else up_to,  # Stripe returns the infinite tier as null
            }
        )
    return out


# -- shared rules for the family ----------------------------------------------------------------------------------


def _check_currency(value: Any, param: str) -> str:
    code = str(value)
    if not currencies.is_supported(code):
        raise invalid(currencies.unsupported_message(code), param=param)
    return code


def _recurring(store: Store, raw: Any, names: Names) -> Record | None:
    if raw is None:
        return None
    interval = raw["interval"]
    count = raw.get("interval_count", 1)
    positive(count, _n(names, "recurring[interval_count]"))
    cap = INTERVAL_COUNT[interval].value
    if count > cap:
        raise invalid(
            INTERVAL_TOO_LONG.format(adjective=INTERVAL_ADJECTIVE[interval], count=cap),
            param=_n(names, "recurring[interval_count]"),
        )
    usage_type = raw.get("usage_type", "licensed")
    meter_id = raw.get("meter")
    p_meter = _n(names, "recurring[meter]")
    if usage_type == "metered" and not meter_id:
        # API versions from 2025-03-31.basil on: legacy usage-based prices are gone.
        raise invalid(METERED_NEEDS_METER, param=p_meter)
    if meter_id and usage_type != "metered":
        raise invalid(f"`{p_meter}` can only be set when `usage_type` is `metered`.", param=p_meter)
    if meter_id:
        meter = store.meters.get(meter_id)
        if meter is None:
            raise no_such("billing.meter", str(meter_id), param=p_meter, status=400)
        if meter["status"] != "active":
            raise invalid(DEACTIVATED_METER.format(meter=meter_id), param=p_meter)
    trial = raw.get("trial_period_days")
    if trial is not None:
        p_trial = _n(names, "recurring[trial_period_days]")
        non_negative(trial, p_trial)
        if trial > TRIAL_DAYS.value:
            raise invalid(TRIAL_TOO_LONG, param=p_trial)
    return {
        "interval": interval,
        "interval_count": count,
        "meter": meter_id,
        "trial_period_days": trial,
        "usage_type": usage_type,
    }


def _scheme_amounts(params: Mapping[str, Any], scheme: str, currency: str, prefix: str, names: Names) -> Record:
    """The amount fields of a price or of one currency option, checked against its billing scheme and currency."""
    unit, unit_dec, has_amount = _amount_pair(params, *PRICE_AMOUNT, prefix, names)
    p_custom, p_tiers = _p(prefix, "custom_unit_amount", names), _p(prefix, "tiers", names)
    custom = _custom_unit_amount(params.get("custom_unit_amount"), p_custom)
    p_unit = _p(prefix, "unit_amount", names)
    if scheme == "tiered":
        if has_amount:
            raise exclusive(p_tiers, p_unit)
        if custom is not None:  # the customer picks one amount: nothing to tier
            raise exclusive(p_tiers, p_custom)
        tiers = _tiers(params.get("tiers"), p_tiers)
    else:
        if params.get("tiers") is not None:
            raise invalid(REQUIRES_TIERED, param=p_tiers)
        if has_amount and custom is not None:
            raise exclusive(p_unit, p_custom)
        if not has_amount and custom is None:
            raise missing_param(p_unit)
        tiers = None
    if currencies.whole_units_only(currency):
        amounts = [(p_unit, unit)]
        amounts += [(f"{p_custom}[{k}]", v) for k, v in (custom or {}).items()]
        for i, tier in enumerate(tiers or []):
            amounts += [(f"{p_tiers}[{i}][{k}]", tier[k]) for k in ("unit_amount", "flat_amount")]
        for param, amount in amounts:
            if amount is not None and amount % 100:
                raise ApiError(400, ISK_NOT_WHOLE, code=ISK_NOT_WHOLE_CODE, param=param)
    return {
        "custom_unit_amount": custom,
        "tiers": tiers,
        "unit_amount": unit,
        "unit_amount_decimal": unit_dec,
    }


def _option(raw: Mapping[str, Any], scheme: str, currency: str, prefix: str, default_tax: str) -> Record:
    amounts = _scheme_amounts(raw, scheme, currency, prefix, {})
    option = {
        "custom_unit_amount": amounts["custom_unit_amount"],
        "tax_behavior": raw.get("tax_behavior", default_tax),
        "unit_amount": amounts["unit_amount"],
        "unit_amount_decimal": amounts["unit_amount_decimal"],
    }
    if scheme == "tiered":
        option["tiers"] = amounts["tiers"]
    return option


def _currency_options(raw: Any, record: Record) -> dict[str, Record]:
    """Checked options keyed by currency, without the price's own currency (Stripe adds that one itself)."""
    out: dict[str, Record] = {}
    for code, option in dict(raw).items():
        param = f"currency_options[{code}]"
        _check_currency(code, param)
        if code == record["currency"]:
            raise invalid(OPTION_IS_PRICE_CURRENCY, param=param)
        out[code] = _option(option, record["billing_scheme"], code, f"{param}[", record["tax_behavior"])
    return out


def _own_option(record: Record) -> Record:
    option = {
        "custom_unit_amount": record["custom_unit_amount"],
        "tax_behavior": record["tax_behavior"],
        "unit_amount": record["unit_amount"],
        "unit_amount_decimal": record["unit_amount_decimal"],
    }
    if record["billing_scheme"] == "tiered":
        option["tiers"] = record["tiers"]
    return option


def _lookup_key_holder(store: Store, key: Any, transfer: bool, own_id: str | None) -> Record | None:
    """The price that holds `key` and must give it up; raises when it is taken and not transferred."""
    if key is None:
        return None
    check_length(key, "lookup_key", LOOKUP_KEY.value)
    holder = store.holder_of(str(key))
    if holder is not None and holder["id"] == own_id:
        return None
    if holder is not None and not transfer:
        raise invalid(LOOKUP_KEY_TAKEN.format(price=holder["id"]), param="lookup_key")
    return holder


def _check_product(store: Store, params: Mapping[str, Any]) -> None:
    product, data = params.get("product"), params.get("product_data")
    if product is not None and data is not None:
        raise exclusive("product", "product_data")
    if data is None and product is None:
        raise missing_param("product")
    if data is None and product not in store.products:
        raise no_such("product", str(product), param="product", status=400)


def _product_for(ctx: Ctx, params: Mapping[str, Any], names: Names) -> str:
    data = params.get("product_data")
    if data is not None:
        return str(create_product_record(ctx.store, data, param=_n(names, "product_data"))["id"])
    return str(params["product"])


def build_family_record(ctx: Ctx, params: Mapping[str, Any], *, kind: str, names: Names) -> Record:
    """Check price-shaped params with Stripe's cross-field rules and build the stored record. Nothing is
    written to the store except an inline product (`product_data`), and only once every rule has passed."""
    store = ctx.store
    check_lengths(
        {k: v for k, v in params.items() if k in ("nickname", "lookup_key", "id")}, {"lookup_key": LOOKUP_KEY.value}
    )
    check_metadata(params.get("metadata"))
    currency = _check_currency(params["currency"], "currency")
    _check_product(store, params)
    scheme = params.get("billing_scheme", "per_unit")
    transform = params.get("transform_quantity")
    if params.get("tiers") is not None and transform is not None:
        raise exclusive("tiers", _n(names, "transform_quantity"))
    if scheme == "tiered" and transform is not None:
        raise invalid(
            f"`{_n(names, 'transform_quantity')}` only works with `billing_scheme=per_unit`.",
            param=_n(names, "transform_quantity"),
        )
    if params.get("tiers") is not None and scheme != "tiered":
        raise invalid(REQUIRES_TIERED, param="tiers")
    if scheme == "tiered" and not params.get("tiers_mode"):
        raise missing_param("tiers_mode")
    if scheme != "tiered" and params.get("tiers_mode"):
        raise invalid(REQUIRES_TIERED, param="tiers_mode")
    amounts = _scheme_amounts(params, scheme, currency, "", names)
    if transform is not None:
        positive(transform["divide_by"], _n(names, "transform_quantity[divide_by]"))
        transform = {"divide_by": transform["divide_by"], "round": transform["round"]}
    recurring = _recurring(store, params.get("recurring"), names)
    record: Record = {
        "id": params.get("id") or store.new_id("price_"),
        "object": "price",
        "active": params.get("active", True),
        "billing_scheme": scheme,
        "created": store.now(),
        "currency": currency,
        "custom_unit_amount": amounts["custom_unit_amount"],
        "livemode": False,
        "lookup_key": params.get("lookup_key"),
        "metadata": merge_metadata({}, params.get("metadata") or {}),
        "nickname": params.get("nickname"),
        "product": None,
        "recurring": recurring,
        "tax_behavior": params.get("tax_behavior", "unspecified"),
        "tiers": amounts["tiers"],
        "tiers_mode": params.get("tiers_mode"),
        "transform_quantity": transform,
        "type": "recurring" if recurring else "one_time",
        "unit_amount": amounts["unit_amount"],
        "unit_amount_decimal": amounts["unit_amount_decimal"],
        "_kind": kind,
    }
    options = _currency_options(params.get("currency_options") or {}, record)
    record["currency_options"] = {currency: _own_option(record), **options}
    if params.get("id") is not None and record["id"] in store.prices:
        raise already_exists("Plan already exists.", param="id")
    holder = _lookup_key_holder(store, params.get("lookup_key"), bool(params.get("transfer_lookup_key")), None)
    # Writes start here. The inline product checks itself before it writes anything.
    record["product"] = _product_for(ctx, params, names)
    if holder is not None:
        store.set_lookup_key(holder, None)  # transfer_lookup_key moves the key atomically
    record["lookup_key"] = None
    store.set_lookup_key(record, params.get("lookup_key"))
    record["_seq"] = store.next_seq()
    return record


# -- views --------------------------------------------------------------------------------------------------------


def price_view(store: Store, record: Record, expand: frozenset[str]) -> Record:
    out = public(record)
    out["object"] = "price"
    if "tiers" not in expand:
        out.pop("tiers", None)  # real Stripe omits the key entirely unless expanded
    if "currency_options" not in expand:
        out.pop("currency_options", None)
    if "product" in expand and out["product"] in store.products:
        out["product"] = product_view(store.products[out["product"]])
    return out


def plan_view(store: Store, record: Record, expand: frozenset[str]) -> Record:
    out = plan_from_price(record)
    out.update(created=record["created"], livemode=False)
    if "tiers" not in expand:
        out.pop("tiers")
    if "product" in expand and out["product"] in store.products:
        out["product"] = product_view(store.products[out["product"]])
    return out


# -- prices -------------------------------------------------------------------------------------------------------


def create_price(ctx: Ctx) -> Record:
    expand = expanded(ctx, PRICE_EXPANDABLE, is_list=False)
    record = build_family_record(ctx, ctx.params, kind="price", names=PRICE_NAMES)
    ctx.store.prices[record["id"]] = record
    return price_view(ctx.store, record, expand)


def retrieve_price(ctx: Ctx) -> Record:
    expand = expanded(ctx, PRICE_EXPANDABLE, is_list=False)
    record = require(ctx.store.prices, str(ctx.object_id), "price")
    return price_view(ctx.store, record, expand)


def _check_tax_change(current: str, new: str, param: str) -> None:
    if current in ("inclusive", "exclusive") and new != current:
        raise invalid(
            "Once specified as either `inclusive` or `exclusive`, `tax_behavior` cannot be changed.", param=param
        )


def _default_price_of(store: Store, record: Record) -> bool:
    product = store.products.get(record["product"])
    return product is not None and product.get("default_price") == record["id"]


def update_price(ctx: Ctx) -> Record:
    expand = expanded(ctx, PRICE_EXPANDABLE, is_list=False)
    store, params = ctx.store, ctx.params
    record = require(store.prices, str(ctx.object_id), "price")
    check_metadata(params.get("metadata"), current=record["metadata"])
    check_lengths({k: v for k, v in params.items() if k == "nickname"}, {})
    if params.get("active") is False and record["active"] and _default_price_of(store, record):
        raise invalid("This price cannot be archived because it is the default price of its product.", param="active")
    if "tax_behavior" in params:
        _check_tax_change(record["tax_behavior"], params["tax_behavior"], "tax_behavior")
    options = record["currency_options"]
    if "currency_options" in params:
        raw = params["currency_options"]
        if raw == "":
            options = {record["currency"]: options[record["currency"]]}
        else:
            for code, option in dict(raw).items():
                current = options.get(code)
                if current is not None and "tax_behavior" in option:
                    _check_tax_change(
                        current["tax_behavior"], option["tax_behavior"], f"currency_options[{code}][tax_behavior]"
                    )
            options = {**options, **_currency_options(raw, record)}
    holder = _lookup_key_holder(store, params.get("lookup_key"), bool(params.get("transfer_lookup_key")), record["id"])
    # Every check passed: apply.
    if holder is not None:
        store.set_lookup_key(holder, None)
    if "lookup_key" in params:
        store.set_lookup_key(record, params["lookup_key"])
    for key in ("active", "nickname", "tax_behavior"):
        if key in params:
            record[key] = params[key]
    if "tax_behavior" in params:
        options[record["currency"]]["tax_behavior"] = params["tax_behavior"]
    record["currency_options"] = options
    if "metadata" in params:
        record["metadata"] = merge_metadata(record["metadata"], params["metadata"])
    return price_view(store, record, expand)


def _filter_prices(store: Store, params: Mapping[str, Any]) -> list[Record]:
    keys = params.get("lookup_keys")
    if keys is not None and len(keys) > LOOKUP_KEYS_PER_LIST.value:
        raise invalid(f"You can specify up to {LOOKUP_KEYS_PER_LIST.value} lookup_keys.", param="lookup_keys")
    wanted = set(keys) if keys is not None else None
    recurring = params.get("recurring") or {}
    # "Returns a list of your active prices ... For the list of inactive prices, set active to false" [S];
    # a lookup_keys query without `active` returns archived prices too (a third-party report).
    active = params.get("active", None if wanted is not None else True)
    out = []
    if wanted is not None:  # through the index: a lookup_keys query must not scan the account
        found = (store.holder_of(k) for k in wanted)
        candidates: Iterable[Record] = [r for r in found if r is not None]
    else:
        candidates = store.prices.values()
    # the filters looked up once, not once a price: a list page of 10,000 prices goes through them all
    currency, product, kind, created = (params.get(k) for k in ("currency", "product", "type", "created"))
    for r in candidates:
        if active is not None and r["active"] != active:
            continue
        if currency is not None and r["currency"] != currency:
            continue
        if product is not None and r["product"] != product:
            continue
        if kind is not None and r["type"] != kind:
            continue
        if recurring:
            rec = r["recurring"]
            if rec is None or any(rec.get(k) != v for k, v in recurring.items()):
                continue
        if created is not None and not matches_created(r, created):
            continue
        out.append(r)
    return out


def list_prices(ctx: Ctx) -> Record:
    expand = expanded(ctx, PRICE_EXPANDABLE, is_list=True)
    return list_page(
        ctx,
        _filter_prices(ctx.store, ctx.params),
        url="/v1/prices",
        render=lambda r: price_view(ctx.store, r, expand),
        kind="price",
        pool=ctx.store.prices,
    )


# -- plans --------------------------------------------------------------------------------------------------------


def plan_params_as_price(params: Mapping[str, Any]) -> dict[str, Any]:
    out = price_params_from_plan(params)
    product = out.pop("product", None)
    if isinstance(product, Mapping):  # a plan may create its product inline
        out["product_data"] = product
    elif product is not None:
        out["product"] = product
    return out


def create_plan(ctx: Ctx) -> Record:
    expand = expanded(ctx, PLAN_EXPANDABLE, is_list=False)
    if ctx.params.get("metadata") == "":
        raise invalid("metadata cannot be unset on create.", param="metadata")
    params = plan_params_as_price(ctx.params)
    record = build_family_record(ctx, params, kind="plan", names=PLAN_NAMES)
    ctx.store.prices[record["id"]] = record
    return plan_view(ctx.store, record, expand)


def _plan_record(ctx: Ctx) -> Record:
    record = require(ctx.store.prices, str(ctx.object_id), "plan")
    if record["recurring"] is None:  # a one-time price is no plan
        raise no_such("plan", str(ctx.object_id), param="id")
    return record


def retrieve_plan(ctx: Ctx) -> Record:
    expand = expanded(ctx, PLAN_EXPANDABLE, is_list=False)
    return plan_view(ctx.store, _plan_record(ctx), expand)


def update_plan(ctx: Ctx) -> Record:
    expand = expanded(ctx, PLAN_EXPANDABLE, is_list=False)
    store, params = ctx.store, ctx.params
    record = _plan_record(ctx)
    check_metadata(params.get("metadata"), current=record["metadata"])
    if "product" in params and params["product"] not in store.products:
        raise no_such("product", str(params["product"]), param="product", status=400)
    if "trial_period_days" in params:
        non_negative(params["trial_period_days"], "trial_period_days")
        if params["trial_period_days"] > TRIAL_DAYS.value:
            raise invalid(TRIAL_TOO_LONG, param="trial_period_days")
    if params.get("active") is False and record["active"] and _default_price_of(store, record):
        raise invalid("This price cannot be archived because it is the default price of its product.", param="active")
    for key in ("active", "nickname", "product"):
        if key in params:
            record[key] = params[key]
    if "trial_period_days" in params:
        record["recurring"]["trial_period_days"] = params["trial_period_days"]
    if "metadata" in params:
        record["metadata"] = merge_metadata(record["metadata"], params["metadata"])
    return plan_view(store, record, expand)


def delete_plan(ctx: Ctx) -> Record:
    record = _plan_record(ctx)
    del ctx.store.prices[record["id"]]
    return {"id": record["id"], "object": "plan", "deleted": True}


def list_plans(ctx: Ctx) -> Record:
    expand = expanded(ctx, PLAN_EXPANDABLE, is_list=True)
    params = ctx.params
    records = [
        r
        for r in ctx.store.prices.values()
        if r["recurring"] is not None  # GET /v1/plans lists recurring prices too: one family, one id space
        and ("active" not in params or r["active"] == params["active"])
        and ("product" not in params or r["product"] == params["product"])
        and matches_created(r, params.get("created"))
    ]
    return list_page(
        ctx,
        records,
        url="/v1/plans",
        render=lambda r: plan_view(ctx.store, r, expand),
        kind="plan",
        pool=ctx.store.prices,
    )
