"""What pricebook knows about each kind of Stripe object: its fields, which ones Stripe lets us update,
and the canonical form both sides of a diff are compared in.

This is the one place that knows which field changes force a replacement (prices), or cannot be made at all
(plans, meters, a product's id), and what removing a field from the catalog sends (`Removal`). `canonical()`
turns either a catalog object or a live Stripe object into the same shape (Stripe's, with defaults filled in and
amounts normalised), so an account built from the catalog compares equal to it. References are by catalog
identity on both sides: a price's `product` is the product id, `recurring.meter` / a plan's `meter` is the
meter's `event_name`, a product's `default_price` is a lookup_key.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from compiler.stripe.currencies import EXACT
from compiler.stripe.facts import DECIMAL_LENGTH, PLAN_AMOUNT, PLAN_NAME_OF, PRICE_AMOUNT, TIER_AMOUNT_PAIRS
from compiler.stripe.kinds import Kind

MANAGED_BY_KEY = "managed_by"
MANAGED_BY_VALUE = "pricebook"
MANAGED_METADATA: Mapping[str, str] = {MANAGED_BY_KEY: MANAGED_BY_VALUE}
#: on a price that replaced another, the id of the one it replaced. The old version loses its lookup_key to the
#: new price (transfer_lookup_key) and is archived by the same apply; if that apply stops before the archive,
#: this is what tells the old version, left active without a lookup_key, for pricebook's own leftover
REPLACES_KEY = "pricebook_replaces"
#: the catalog id of a product or plan whose Stripe id is another (one adopted from an account where Stripe made
#: up the id): the catalog id names the object with that id, or the one whose metadata holds it under this key
PRICEBOOK_ID_KEY = "pricebook_id"
#: the metadata keys pricebook writes itself: a catalog may not set them (nor count on Stripe's room for them)
RESERVED_METADATA_KEYS: tuple[str, ...] = (MANAGED_BY_KEY, REPLACES_KEY, PRICEBOOK_ID_KEY)
#: how many of them one object carries at most: the mark, and the price a price replaced or the catalog id of an
#: adopted product or plan (never both: a price has no pricebook_id, a product or plan replaces nothing)
RESERVED_ON_ONE_OBJECT = 2
#: why a catalog entry has room for fewer metadata keys than Stripe allows, for messages
RESERVED_ROOM = (
    f"pricebook writes up to {RESERVED_ON_ONE_OBJECT} keys of its own on one object ({MANAGED_BY_KEY}, and "
    f"{REPLACES_KEY} on a price that replaced another or {PRICEBOOK_ID_KEY} on an adopted product or plan)"
)

#: what Stripe returns for a meter's optional settings when they were not given
DEFAULT_CUSTOMER_MAPPING: Mapping[str, str] = {"event_payload_key": "stripe_customer_id", "type": "by_id"}
DEFAULT_VALUE_SETTINGS: Mapping[str, str] = {"event_payload_key": "value"}


class Mutability:
    """How a field change can be carried out."""

    UPDATE = "update"  # POST /v1/<resource>/{id} accepts it
    REPLACE = "replace"  # a new object must be created and the old one archived (prices)
    IMPOSSIBLE = "impossible"  # Stripe cannot change it; the catalog needs a new identity (plans, meters)
    IDENTITY = "identity"  # the identity itself


class Removal(StrEnum):
    """What an update sends for an updatable field the catalog drops (or gives as an empty list).

    From the SDK's generated update params (`stripe/params/*_update_params.py`): a field typed `...|Literal[""]`
    is unset by sending `""`; any other field Stripe refuses `""` for (400 `parameter_invalid_empty`), so once set
    it keeps a value. Form encoding has no empty list (`images: []` sends nothing, and Stripe keeps the old
    images), so an emptied list is cleared with `""` too.
    """

    UNSET = "unset"  # send "" (Stripe then returns null, or [] for a list)
    DEFAULT = "default"  # send the field's default value back (active: true)
    PER_KEY = "per key"  # a map changed key by key: metadata keys unset with "", currency options cleared first
    REFUSED = "refused"  # Stripe cannot unset it: the plan reports a Problem instead of sending anything
    #: a catalog that does not name it leaves the account's value as it is (Stripe has no "" for it either);
    #: where the catalog could name that value, the plan warns that it stays (`field-kept`)
    KEPT = "kept"


@dataclass(frozen=True)
class NoneChoice:
    """Where Stripe cannot unset a field: the value a catalog writes to say "none" instead, and what it means."""

    value: Any
    means: str


@dataclass(frozen=True)
class Field:
    name: str
    default: Any = None
    mutability: str = Mutability.UPDATE
    #: for fields that are updatable only from some values (tax_behavior): may (before, after) be an update?
    update_allowed: Callable[[Any, Any], bool] | None = None
    #: whether a catalog file may set it (False: compared with the account, always its default in the catalog)
    in_catalog: bool = True
    #: what an update sends when the catalog drops the field: decided for each UPDATE field, None for the others
    #: (an update never sends them)
    removal: Removal | None = None
    #: for a field Stripe cannot unset (Removal.REFUSED): the catalog's explicit "none", if there is one
    none_choice: NoneChoice | None = None

    def how_to_change(self, before: Any, after: Any) -> str:
        if self.mutability == Mutability.UPDATE and self.update_allowed and not self.update_allowed(before, after):
            return Mutability.REPLACE
        return self.mutability


@dataclass(frozen=True)
class KindSpec:
    kind: Kind
    path: str  # the collection's API path
    fields: tuple[Field, ...]
    #: what an immutable field change means for this kind (REPLACE for prices, IMPOSSIBLE otherwise)
    immutable_means: str
    #: the way out that an IMPOSSIBLE change suggests
    way_out: str = ""

    @property
    def by_name(self) -> Mapping[str, Field]:
        return {f.name: f for f in self.fields}

    def field(self, name: str) -> Field:
        return self.by_name[name]


def _tax_behavior_updatable(before: Any, after: Any) -> bool:
    # Stripe: "Once specified as either inclusive or exclusive, it cannot be changed."
    return before in (None, "unspecified")


def _currency_options_updatable(before: Any, after: Any) -> bool:
    # Options may be added, removed or re-priced in place, but an option's tax_behavior is fixed once set.
    if not isinstance(before, Mapping) or not isinstance(after, Mapping):
        return True
    for currency, old in before.items():
        new = after.get(currency)
        if not (isinstance(old, Mapping) and isinstance(new, Mapping)):
            continue
        old_tax, new_tax = old.get("tax_behavior"), new.get("tax_behavior")
        if old_tax != new_tax and not _tax_behavior_updatable(old_tax, new_tax):
            return False
    return True


U, R, X, ID = Mutability.UPDATE, Mutability.REPLACE, Mutability.IMPOSSIBLE, Mutability.IDENTITY
# The removal of each updatable field, from the SDK's update params (a test holds the two together). Required
# fields (a product's name, a plan's product, a meter's display_name) are REFUSED too: the schema never lets
# the catalog drop them.
UNSET, DEFAULT, PER_KEY, REFUSED, KEPT = Removal.UNSET, Removal.DEFAULT, Removal.PER_KEY, Removal.REFUSED, Removal.KEPT

METER = KindSpec(
    Kind.METER,
    path="/v1/billing/meters",
    fields=(
        Field("event_name", mutability=ID),
        Field("display_name", removal=REFUSED),
        Field("default_aggregation", mutability=X),
        Field("customer_mapping", dict(DEFAULT_CUSTOMER_MAPPING), mutability=X),
        Field("value_settings", dict(DEFAULT_VALUE_SETTINGS), mutability=X),
        Field("event_time_window", mutability=X),
        # not a body parameter: changed through /deactivate and /reactivate; pricebook's meters are active
        Field("status", "active", in_catalog=False, removal=DEFAULT),
    ),
    immutable_means=X,
    way_out="Stripe lets a meter change only its display_name: define a new meter with a new event_name "
    "(and point the prices at it)",
)

PRODUCT = KindSpec(
    Kind.PRODUCT,
    path="/v1/products",
    fields=(
        Field("id", mutability=ID),
        Field("name", removal=REFUSED),
        Field("active", True, removal=DEFAULT),
        Field("description", removal=UNSET),
        Field("images", [], removal=UNSET),
        Field("marketing_features", [], removal=UNSET),
        Field("package_dimensions", removal=UNSET),
        Field("shippable", removal=REFUSED, none_choice=NoneChoice(False, "says the product is not shipped")),
        Field("statement_descriptor", removal=REFUSED),
        Field("tax_code", removal=UNSET),
        Field("unit_label", removal=UNSET),
        Field("url", removal=UNSET),
        Field("metadata", {}, removal=PER_KEY),
        # a catalog that never names one leaves the default price to the Dashboard, and it follows its price
        # through a replace; Stripe's product update cannot unset it (no ""), so a removal is only warned about
        Field("default_price", removal=KEPT),
    ),
    immutable_means=X,
)

PRICE = KindSpec(
    Kind.PRICE,
    path="/v1/prices",
    fields=(
        Field("lookup_key", mutability=ID),
        Field("product", mutability=R),
        Field("currency", mutability=R),
        Field("active", True, removal=DEFAULT),
        Field("nickname", removal=REFUSED),
        Field("metadata", {}, removal=PER_KEY),
        # back to "unspecified" is a change Stripe refuses once it is set: a replace (update_allowed)
        Field("tax_behavior", "unspecified", update_allowed=_tax_behavior_updatable, removal=DEFAULT),
        Field("currency_options", {}, update_allowed=_currency_options_updatable, removal=PER_KEY),
        Field("billing_scheme", "per_unit", mutability=R),
        Field("unit_amount", mutability=R),
        Field("unit_amount_decimal", mutability=R),
        Field("custom_unit_amount", mutability=R),
        Field("recurring", mutability=R),
        Field("tiers_mode", mutability=R),
        Field("tiers", mutability=R),
        Field("transform_quantity", mutability=R),
    ),
    immutable_means=R,
)

PLAN = KindSpec(
    Kind.PLAN,
    path="/v1/plans",
    fields=(
        Field("id", mutability=ID),
        # Stripe: product "cannot be changed once it has been used in a subscription"; offline we can't tell
        Field("product", removal=REFUSED),
        Field("active", True, removal=DEFAULT),
        Field("nickname", removal=REFUSED),
        Field("metadata", {}, removal=PER_KEY),
        Field("trial_period_days", removal=REFUSED, none_choice=NoneChoice(0, "means no trial")),
        Field("currency", mutability=X),
        Field("amount", mutability=X),
        Field("amount_decimal", mutability=X),
        Field("interval", mutability=X),
        Field("interval_count", 1, mutability=X),
        Field("usage_type", "licensed", mutability=X),
        Field("meter", mutability=X),
        Field("billing_scheme", "per_unit", mutability=X),
        Field("tiers_mode", mutability=X),
        Field("tiers", mutability=X),
        Field("transform_usage", mutability=X),
    ),
    immutable_means=X,
    way_out="By design Stripe cannot change a plan's amount, currency or billing cycle: give the plan a new id "
    "(the old one is archived, its subscribers keep it)",
)

SPECS: Mapping[Kind, KindSpec] = {s.kind: s for s in (METER, PRODUCT, PRICE, PLAN)}

#: what Stripe sends about an object beyond what it is: ids, times, mode, the object's type, derived values
_ABOUT = frozenset({"id", "object", "created", "updated", "livemode"})
READ_ONLY: Mapping[Kind, frozenset[str]] = {
    Kind.METER: _ABOUT | {"status_transitions"},
    Kind.PRODUCT: _ABOUT,
    Kind.PRICE: _ABOUT | {"type"},  # recurring or one_time, from `recurring`
    Kind.PLAN: _ABOUT,
}
#: fields a catalog cannot state, at the value every object made without them has (anything else is a field the
#: catalog would lose)
_UNSTATED_DEFAULTS: Mapping[Kind, Mapping[str, Any]] = {Kind.PRODUCT: {"type": "service"}}
#: what a price's `recurring` may hold that a catalog states (the rest it cannot)
RECURRING_STATED = frozenset({"interval", "interval_count", "usage_type", "meter", "trial_period_days"})


# ---------------------------------------------------------------------------------------------------------
# canonical form


def _decimal(value: Any) -> Decimal | None:
    """`value` as a finite Decimal of a size an amount can have; None for anything else (`1e99999` from a server
    that is not Stripe would otherwise be written out in 100,000 digits)."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite() or (number and abs(number.adjusted()) > DECIMAL_LENGTH.value):
        return None
    return number


def decimal_text(value: Any) -> str | None:
    """A decimal amount as Stripe writes it back: a plain string without exponent or trailing zeros (anything
    that is no such amount, as written)."""
    if value is None:
        return None
    number = _decimal(value)
    if number is None:
        return str(value)
    text = format(number.normalize(EXACT), "f")
    return "0" if text in ("-0", "") else text


def amount_pair(integer: Any, decimal: Any) -> tuple[int | None, str | None]:
    """One amount from an (integer, decimal string) pair, as (int, None) when whole, else (None, "0.5").

    Stripe fills in both (`unit_amount: 1000, unit_amount_decimal: "1000"`) and takes either; comparing the
    normalised pair means `unit_amount: 1000` and `unit_amount_decimal: "1000"` are the same price.
    """
    text = decimal_text(decimal)
    if text is not None:
        number = _decimal(text)
        if number is not None and number == number.to_integral_value():
            return (int(number), None)
        return (None, text)
    if isinstance(integer, int) and not isinstance(integer, bool):
        return (integer, None)
    return (None, None)


def _amounts(raw: Mapping[str, Any], pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """Each (integer, decimal) amount pair of `raw`, normalised by `amount_pair`."""
    out: dict[str, Any] = {}
    for integer, decimal in pairs:
        out[integer], out[decimal] = amount_pair(raw.get(integer), raw.get(decimal))
    return out


def _tier(raw: Mapping[str, Any]) -> dict[str, Any]:
    up_to = raw.get("up_to")
    # Stripe takes "inf" and sends back null
    return {"up_to": "inf" if up_to in (None, "inf") else up_to, **_amounts(raw, TIER_AMOUNT_PAIRS)}


def _tiers(raw: Any) -> list[dict[str, Any]] | None:
    if not raw:
        return None
    return [_tier(t) for t in raw if isinstance(t, Mapping)]


def _custom_unit_amount(raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, Mapping):
        return None
    if raw.get("enabled") is False:
        return None
    # Stripe returns {maximum, minimum, preset}; `enabled` is a request-only switch
    return {k: raw.get(k) for k in ("maximum", "minimum", "preset")}


def _transform(raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, Mapping):
        return None
    return {"divide_by": raw.get("divide_by"), "round": raw.get("round")}


def _currency_option(raw: Mapping[str, Any], price_tax_behavior: Any) -> dict[str, Any]:
    return {
        **_amounts(raw, (PRICE_AMOUNT,)),
        "custom_unit_amount": _custom_unit_amount(raw.get("custom_unit_amount")),
        # an option given without one takes the price's tax_behavior, as Stripe fills it in
        "tax_behavior": raw.get("tax_behavior") or price_tax_behavior or "unspecified",
        "tiers": _tiers(raw.get("tiers")),
    }


def _currency_options(raw: Any, top_currency: Any, tax_behavior: Any = None) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        return {}
    # Stripe adds the top-level currency to currency_options by itself; the catalog never lists it
    return {
        str(cur).lower(): _currency_option(opt, tax_behavior)
        for cur, opt in sorted(raw.items())
        if str(cur).lower() != str(top_currency).lower() and isinstance(opt, Mapping)
    }


def _recurring(raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, Mapping):
        return None
    return {
        "interval": raw.get("interval"),
        "interval_count": raw.get("interval_count") or 1,
        "usage_type": raw.get("usage_type") or "licensed",
        "meter": raw.get("meter"),
        "trial_period_days": raw.get("trial_period_days"),
    }


def _metadata(raw: Any) -> dict[str, str]:
    """Metadata as compared: pricebook's record of a replace is its own, never the catalog's to set or unset."""
    if not isinstance(raw, Mapping):
        return {}
    # pricebook_id is an identity (see `catalog_key`), not a field to compare
    return {str(k): str(v) for k, v in sorted(raw.items()) if k not in (REPLACES_KEY, PRICEBOOK_ID_KEY)}


def _with_defaults(spec: KindSpec, values: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in spec.fields:
        value = values.get(f.name)
        if value is None or (value == [] and f.default == []):
            value = f.default
        out[f.name] = value
    return out


def canonical(kind: Kind, raw: Mapping[str, Any]) -> dict[str, Any]:
    """The comparable form of an object of `kind`, from the catalog or from Stripe (references resolved to
    catalog identities first). Only the fields pricebook manages; defaults filled in as Stripe fills them."""
    spec = SPECS[kind]
    values = dict(raw)
    values["metadata"] = _metadata(raw.get("metadata")) if kind is not Kind.METER else None
    if kind is Kind.PRICE:
        values.update(_amounts(raw, (PRICE_AMOUNT,)))
        values["tiers"] = _tiers(raw.get("tiers"))
        values["transform_quantity"] = _transform(raw.get("transform_quantity"))
        values["recurring"] = _recurring(raw.get("recurring"))
        values["custom_unit_amount"] = _custom_unit_amount(raw.get("custom_unit_amount"))
        values["currency_options"] = _currency_options(
            raw.get("currency_options"), raw.get("currency"), raw.get("tax_behavior")
        )
        values["billing_scheme"] = raw.get("billing_scheme") or ("tiered" if raw.get("tiers") else "per_unit")
    elif kind is Kind.PLAN:
        values.update(_amounts(raw, (PLAN_AMOUNT,)))
        values["tiers"] = _tiers(raw.get("tiers"))
        values["transform_usage"] = _transform(raw.get(PLAN_NAME_OF["transform_quantity"]))
        values["billing_scheme"] = raw.get("billing_scheme") or ("tiered" if raw.get("tiers") else "per_unit")
    elif kind is Kind.METER:
        agg = raw.get("default_aggregation")
        values["default_aggregation"] = {"formula": agg.get("formula")} if isinstance(agg, Mapping) else None
        for name in ("customer_mapping", "value_settings"):
            if isinstance(raw.get(name), Mapping):
                values[name] = {k: v for k, v in sorted(raw[name].items())}
    out = _with_defaults(spec, values)
    if kind is Kind.METER:
        out.pop("metadata", None)
    return out


def catalog_canonical(kind: Kind, params: Mapping[str, Any]) -> dict[str, Any]:
    """The canonical form the catalog asks for: what the user wrote plus pricebook's ownership mark."""
    values = dict(params)
    if kind is not Kind.METER:
        values["metadata"] = {**_metadata(params.get("metadata")), **MANAGED_METADATA}
    return canonical(kind, values)


def currency_options_to_send(params: Mapping[str, Any]) -> dict[str, Any] | None:
    """A price's `currency_options` as pricebook sends them: as written, each option without a `tax_behavior`
    given the price's own explicitly.

    The canonical form assumes an option takes the price's tax_behavior (what `_currency_option` does); sending
    it explicitly makes that true whatever Stripe fills in by itself, so after apply the plan shows no changes.
    """
    options = params.get("currency_options")
    if not isinstance(options, Mapping):
        return None
    tax = params.get("tax_behavior")
    out: dict[str, Any] = {}
    for currency, option in options.items():
        sent = dict(option) if isinstance(option, Mapping) else option
        if isinstance(sent, dict) and tax and "tax_behavior" not in sent:
            sent["tax_behavior"] = tax
        out[currency] = sent
    return out


def unstated(kind: Kind, raw: Mapping[str, Any]) -> list[str]:
    """The fields (dotted paths) of a Stripe object as Stripe sends it that carry a value a catalog cannot state:
    not in the field table, not about the object (its id, times, mode), not empty and not the value every object
    has without it. An import or an adoption leaves them as they are; a replace would not carry them over."""
    known = {f.name for f in SPECS[kind].fields} | READ_ONLY[kind]
    defaults = _UNSTATED_DEFAULTS.get(kind, {})
    out = [
        name
        for name, value in raw.items()
        if name not in known and not _empty(value) and defaults.get(name, _NO_DEFAULT) != value
    ]
    recurring = raw.get("recurring") if kind is Kind.PRICE else None
    if isinstance(recurring, Mapping):
        out += [f"recurring.{k}" for k, v in recurring.items() if k not in RECURRING_STATED and not _empty(v)]
    return sorted(out)


_NO_DEFAULT = object()


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def metadata_after(current: Any, sent: Mapping[str, Any]) -> dict[str, str]:
    """An object's metadata (`current`, as Stripe sends it) once an update's `metadata` is merged in: the keys sent
    are set, the ones sent as `""` unset, the others stay (what Stripe's limit on keys counts)."""
    after = {str(k): str(v) for k, v in current.items()} if isinstance(current, Mapping) else {}
    for key, value in sent.items():
        if value == "":
            after.pop(key, None)
        else:
            after[key] = str(value)
    return after


def is_managed(metadata: Any) -> bool:
    return isinstance(metadata, Mapping) and metadata.get(MANAGED_BY_KEY) == MANAGED_BY_VALUE


def replaced_id(metadata: Any) -> str | None:
    """The id of the price a price replaced, from its metadata (`REPLACES_KEY`), if pricebook recorded one."""
    value = metadata.get(REPLACES_KEY) if isinstance(metadata, Mapping) else None
    return value if isinstance(value, str) and value else None


def catalog_key(raw: Mapping[str, Any]) -> str:
    """The catalog id of a product or plan as Stripe sends it: its metadata `pricebook_id`, else its own id."""
    metadata = raw.get("metadata")
    named = metadata.get(PRICEBOOK_ID_KEY) if isinstance(metadata, Mapping) else None
    return named if isinstance(named, str) and named else str(raw["id"])


def meter_of(kind: Kind, values: Mapping[str, Any]) -> str | None:
    """The meter a metered price (`recurring.meter`) or plan (`meter`) bills from, in the canonical form's terms
    (the meter's event_name); None for anything else."""
    if kind is Kind.PRICE:
        recurring = values.get("recurring")
        value = recurring.get("meter") if isinstance(recurring, Mapping) else None
    elif kind is Kind.PLAN:
        value = values.get("meter")
    else:
        value = None
    return value if isinstance(value, str) else None
