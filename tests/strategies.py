"""Hypothesis strategies for catalogs over the whole schema: the fields the benchmark generator leaves out
(product and meter options, one-time and custom-amount prices, tiered and decimal plans, metadata, trial days,
package dimensions), as the plain data a catalog file holds. Used by the conformance property (every call a valid
catalog compiles to is one Stripe's types take) and the convergence property (every plan converges)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

_CURRENCIES = ("usd", "eur", "gbp", "jpy")
_amount = st.integers(0, 99_999)
_interval = st.sampled_from(["day", "week", "month", "year"])
_metadata = st.dictionaries(
    st.sampled_from(["team", "segment", "tier"]), st.sampled_from(["a", "b c", "42"]), max_size=2
)
#: a package dimension validate takes (at most 2 decimal places, as an integer or a float)
_dimension = st.one_of(st.integers(0, 10**17), st.integers(0, 10**9).map(lambda cents: cents / 100))
#: or any float, some of which validate refuses (1.255, 1e+16)
_any_dimension = st.one_of(_dimension, st.floats(0, 1e20, allow_nan=False, allow_infinity=False))
_transform = st.fixed_dictionaries({"divide_by": st.integers(2, 1000), "round": st.sampled_from(["up", "down"])})


@st.composite
def _tiers(draw: st.DrawFn) -> list[dict[str, Any]]:
    bounds = sorted(draw(st.sets(st.integers(1, 10_000), min_size=1, max_size=4)))
    tiers: list[dict[str, Any]] = []
    for up_to in [*bounds, "inf"]:
        tier: dict[str, Any] = {"up_to": up_to}
        choice = draw(st.sampled_from(["unit", "decimal", "flat", "both"]))
        if choice in ("unit", "both"):
            tier["unit_amount"] = draw(_amount)
        if choice == "decimal":
            tier["unit_amount_decimal"] = f"{draw(st.integers(0, 999))}.{draw(st.integers(0, 99)):02d}"
        if choice in ("flat", "both"):
            tier["flat_amount"] = draw(_amount)
        tiers.append(tier)
    return tiers


def _recurring(draw: st.DrawFn, meters: list[str]) -> dict[str, Any]:
    interval = draw(_interval)
    out: dict[str, Any] = {"interval": interval}
    if draw(st.booleans()):
        out["interval_count"] = draw(st.integers(1, {"day": 365, "week": 52, "month": 12, "year": 1}[interval]))
    if draw(st.booleans()) and meters:
        out["usage_type"] = "metered"
        out["meter"] = draw(st.sampled_from(meters))
    elif draw(st.booleans()):
        out["usage_type"] = "licensed"
    return out


@st.composite
def price(draw: st.DrawFn, key: str, meters: list[str]) -> dict[str, Any]:
    currency = draw(st.sampled_from(_CURRENCIES[:3]))  # jpy amounts have their own rules; the generator covers it
    price: dict[str, Any] = {"lookup_key": key, "currency": currency}
    recurring = _recurring(draw, meters) if draw(st.booleans()) else None
    # custom_unit_amount is for one-time prices only
    schemes = ["unit", "decimal", "tiered"] + (["custom"] if recurring is None else [])
    scheme = draw(st.sampled_from(schemes))
    if scheme == "unit":
        price["unit_amount"] = draw(_amount)
    elif scheme == "decimal":
        price["unit_amount_decimal"] = f"{draw(st.integers(0, 9999))}.{draw(st.integers(0, 9999)):04d}"
    elif scheme == "tiered":
        price.update(billing_scheme="tiered", tiers_mode=draw(st.sampled_from(["graduated", "volume"])))
        price["tiers"] = draw(_tiers())
    else:
        price["custom_unit_amount"] = {"enabled": True, "minimum": 100, "maximum": 10_000, "preset": 500}
    if scheme in ("unit", "decimal") and draw(st.booleans()):
        price["transform_quantity"] = draw(_transform)
    if scheme == "unit" and draw(st.booleans()):
        other = next(c for c in _CURRENCIES[:3] if c != currency)
        price["currency_options"] = {other: {"unit_amount": draw(_amount)}}
    if recurring is not None:
        price["recurring"] = recurring
    if draw(st.booleans()):
        price["nickname"] = draw(st.sampled_from(["Basic", "Per 5 users", "$10 & up"]))
    if draw(st.booleans()):
        price["tax_behavior"] = draw(st.sampled_from(["exclusive", "inclusive", "unspecified"]))
    if draw(st.booleans()):
        price["metadata"] = draw(_metadata)
    if draw(st.booleans()):
        price["active"] = draw(st.booleans())
    return price


@st.composite
def plan(draw: st.DrawFn, plan_id: str, product: str, meters: list[str]) -> dict[str, Any]:
    plan: dict[str, Any] = {"id": plan_id, "product": product, "currency": "usd", "interval": draw(_interval)}
    if draw(st.booleans()):
        plan.update(billing_scheme="tiered", tiers_mode=draw(st.sampled_from(["graduated", "volume"])))
        plan["tiers"] = draw(_tiers())
    elif draw(st.booleans()):
        plan["amount"] = draw(_amount)
    else:
        plan["amount_decimal"] = f"{draw(st.integers(0, 999))}.5"
    if "tiers" not in plan and draw(st.booleans()):
        plan["transform_usage"] = draw(_transform)
    if draw(st.booleans()) and meters:
        plan.update(usage_type="metered", meter=draw(st.sampled_from(meters)))
    if draw(st.booleans()):
        plan["nickname"] = "A plan"
    if draw(st.booleans()):
        plan["trial_period_days"] = draw(st.integers(1, 30))
    return plan


@st.composite
def catalogs(draw: st.DrawFn, refused: bool = True) -> dict[str, Any]:
    """A catalog; with `refused`, sometimes holding what validate must refuse (a meter's status, a package
    dimension Stripe does not take)."""
    meters = [f"m{i}" for i in range(draw(st.integers(0, 2)))]
    doc: dict[str, Any] = {"meters": [], "products": [], "prices": [], "plans": []}
    for name in meters:
        meter: dict[str, Any] = {
            "event_name": name,
            "display_name": f"Meter {name}",
            "default_aggregation": {"formula": draw(st.sampled_from(["sum", "count", "last"]))},
        }
        if draw(st.booleans()):
            meter["customer_mapping"] = {"event_payload_key": "customer", "type": "by_id"}
        if draw(st.booleans()):
            meter["value_settings"] = {"event_payload_key": "n"}
        if draw(st.booleans()):
            meter["event_time_window"] = draw(st.sampled_from(["day", "hour"]))
        if refused and draw(st.integers(0, 3)) == 0:
            # not a catalog field (the schema refuses it) and never a create param: if the schema ever takes it,
            # compile must still not send it (POST /v1/billing/meters has no `status`)
            meter["status"] = draw(st.sampled_from(["active", "inactive"]))
        doc["meters"].append(meter)
    for p in range(draw(st.integers(1, 3))):
        product: dict[str, Any] = {"id": f"prod_{p}", "name": f"Product {p}"}
        if draw(st.booleans()):
            product["description"] = "Something to sell"
        if draw(st.booleans()):
            product["unit_label"] = "seat"
        if draw(st.booleans()):
            dimension = _any_dimension if refused else _dimension
            product["package_dimensions"] = {name: draw(dimension) for name in ("height", "length", "weight", "width")}
        if draw(st.booleans()):
            product["shippable"] = draw(st.booleans())
        if draw(st.booleans()):
            product["statement_descriptor"] = "ACME SUITE"
        if draw(st.booleans()):
            product["images"] = ["https://example.com/a.png"]
        if draw(st.booleans()):
            product["marketing_features"] = [{"name": "Fast"}, {"name": "Friendly"}]
        if draw(st.booleans()):
            product["metadata"] = draw(_metadata)
        prices = [draw(price(f"price_{p}_{i}", meters)) for i in range(draw(st.integers(0, 3)))]
        if draw(st.booleans()) and prices:
            product["default_price"] = prices[0]["lookup_key"]
        if draw(st.booleans()):
            product["prices"] = prices
        else:
            doc["prices"].extend({**price, "product": product["id"]} for price in prices)
        doc["products"].append(product)
        if draw(st.booleans()):
            doc["plans"].append(draw(plan(f"plan-{p}", product["id"], meters)))
    return {k: v for k, v in doc.items() if v}


__all__ = ["catalogs", "plan", "price"]
