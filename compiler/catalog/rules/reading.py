"""Reading catalog entries defensively: the rules see objects the schema may not have fully checked (a
deferred schema error lets an object through), so every reader takes any value and never raises."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, TypeGuard

from compiler.catalog.source import Entry, NodePath
from compiler.stripe.facts import CUSTOM_AMOUNT_BOUNDS, PLAN_AMOUNT, PLAN_NAME_OF, PRICE_AMOUNT
from compiler.stripe.kinds import Kind

#: the kinds that carry amounts
PRICED = (Kind.PRICE, Kind.PLAN)
#: the fields where tier tables live: a rule about tiers has nothing to check without one of them
TIERED = ("tiers", "currency_options")


def is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)  # YAML `true` is not an amount


def as_map(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def has(data: Mapping[str, Any], key: str) -> bool:
    return data.get(key) is not None


def is_nested(entry: Entry) -> bool:
    """A price written under a product's `prices:` (even when that product has no usable id)."""
    return bool(entry.path) and entry.path[0] == "products"


def scheme(data: Mapping[str, Any]) -> str:
    value = data.get("billing_scheme")
    return value if isinstance(value, str) else "per_unit"


def amount_keys(entry: Entry) -> tuple[str, str]:
    """The (integer, decimal) amount fields of a price, or of a plan under their Plans API names."""
    return PLAN_AMOUNT if entry.kind is Kind.PLAN else PRICE_AMOUNT


def transform_key(entry: Entry) -> str:
    return PLAN_NAME_OF["transform_quantity"] if entry.kind is Kind.PLAN else "transform_quantity"


def show(value: object) -> str:
    return repr(value) if isinstance(value, str) else str(value)


_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def decimal_amount(value: object) -> Decimal | None:
    """A decimal amount as Stripe would read it, or None when it is not one (the schema reports those)."""
    if is_int(value):
        return Decimal(value)
    if isinstance(value, str) and len(value) <= 1000 and _DECIMAL.fullmatch(value):
        try:
            return Decimal(value)
        except InvalidOperation:  # pragma: no cover - the pattern admits only valid literals
            return None
    return None


@dataclass(frozen=True)
class Recurring:
    """Where the recurring fields of a price (`recurring.*`) or a legacy plan (top level) live."""

    prefix: NodePath
    data: Mapping[str, Any]

    def usage_type(self) -> str:
        value = self.data.get("usage_type")
        return value if isinstance(value, str) else "licensed"


def recurring_of(entry: Entry) -> Recurring | None:
    if entry.kind is Kind.PLAN:
        return Recurring((), entry.data)
    recurring = entry.data.get("recurring")
    return Recurring(("recurring",), recurring) if isinstance(recurring, dict) else None


@dataclass(frozen=True)
class Site:
    """A place that carries amounts in one currency: the price itself, or one of its currency options."""

    path: NodePath
    currency: str | None
    data: Mapping[str, Any]
    amount_keys: tuple[str, str]

    @property
    def is_option(self) -> bool:
        return bool(self.path)


def _read_sites(entry: Entry) -> tuple[Site, ...]:
    currency = entry.data.get("currency")
    sites = [Site((), currency if isinstance(currency, str) else None, entry.data, amount_keys(entry))]
    if entry.kind is Kind.PRICE:  # plans have no currency_options
        for code, option in as_map(entry.data.get("currency_options")).items():
            if isinstance(code, str) and isinstance(option, dict):
                sites.append(Site(("currency_options", code), code, option, PRICE_AMOUNT))
    return tuple(sites)


@dataclass(frozen=True)
class Money:
    """One amount field: where it is, its currency, its raw value, and what kind of amount it is."""

    path: NodePath
    currency: str | None
    value: Any
    is_decimal: bool  # a `*decimal_amount` string field
    integral: bool  # must be a whole number of minor units (`flat_amount_decimal`, and every integer field)


#: the amount fields of a tier: (name, is_decimal, integral); `flat_amount_decimal` is "a decimal value
#: representing an integer", so it must be whole
_TIER_MONEY = (
    ("unit_amount", False, True),
    ("flat_amount", False, True),
    ("unit_amount_decimal", True, False),
    ("flat_amount_decimal", True, True),
)


def _read_money(sites: tuple[Site, ...]) -> tuple[Money, ...]:
    found: list[Money] = []
    for site in sites:
        int_key, dec_key = site.amount_keys
        fields: list[tuple[NodePath, Any, bool, bool]] = [
            ((int_key,), site.data.get(int_key), False, True),
            ((dec_key,), site.data.get(dec_key), True, False),
        ]
        custom = as_map(site.data.get("custom_unit_amount"))
        fields += [(("custom_unit_amount", k), custom.get(k), False, True) for k in CUSTOM_AMOUNT_BOUNDS]
        for index, tier in enumerate(as_list(site.data.get("tiers"))):
            if isinstance(tier, dict):
                fields += [(("tiers", index, key), tier.get(key), dec, whole) for key, dec, whole in _TIER_MONEY]
        found += (
            Money((*site.path, *path), site.currency, value, is_decimal, integral)
            for path, value, is_decimal, integral in fields
            if value is not None
        )
    return tuple(found)


@dataclass(frozen=True)
class Parsed:
    """What the amount, tier and currency-option rules read of one entry (`parse`)."""

    sites: tuple[Site, ...]
    money: tuple[Money, ...]
    tier_tables: tuple[tuple[NodePath, list[Any]], ...]


def parse(entry: Entry) -> Parsed:
    """The entry's sites, amounts and non-empty tier tables (its own and its currency options'), each with its
    path: read once per entry by `run_rules`, for every rule that takes them."""
    sites = _read_sites(entry)
    tables = tuple(
        ((*site.path, "tiers"), tiers) for site in sites if isinstance(tiers := site.data.get("tiers"), list) and tiers
    )
    return Parsed(sites, _read_money(sites), tables)


def param_name(path: NodePath) -> str:
    """`("tiers", 2, "up_to")` -> `tiers[2][up_to]`, as Stripe names a parameter in its errors."""
    return str(path[0]) + "".join(f"[{part}]" for part in path[1:]) if path else ""


def every(count: object, interval: object) -> str:
    return f"every {interval}" if count == 1 else f"every {count} {interval}s"


def field_name(path: NodePath) -> str:
    """`("tiers", 2, "up_to")` -> `tiers[2].up_to`, as a billing engineer reads it in the file."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text
