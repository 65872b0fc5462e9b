"""Stripe's cross-field rules (rulebook section 2), checked offline before anything is sent.

The JSON Schema has already checked types, enums, lengths and unknown fields of each object; these rules
check what the schema cannot: fields that exclude or require each other, tier tables, currency quirks, and
the catalog-wide facts (identities unique across files, references that resolve). The code stays defensive
anyway: any input gives diagnostics, never an exception.

Every rule has a stable id (used in `file:line:col: error[<id>]: ...` and in docs) and points at the field
that has to change. Rules the rulebook marks as unverified (U) are warnings, as are the subscription
compatibility rules.

| id | rulebook | severity | what it checks |
|---|---|---|---|
| `amount-required` | R1 | error | a per_unit price or plan has an amount |
| `amount-conflict` | R1, R16 | error | at most one of the amount fields (and `custom_unit_amount`) |
| `decimal-format` | R3 | error | a `*_decimal` amount is a non-negative decimal string with at most 12 decimal places |
| `flat-amount-not-integral` | R3 | error | `flat_amount_decimal` is a whole number of minor units |
| `amount-too-large` | R4 | error | integer amounts are at most 99,999,999 minor units |
| `decimal-amount-large` | R4 | warning | decimal amounts of 100,000,000 minor units or more |
| `tiers-need-tiered-scheme` | R5 | error | `tiers` / `tiers_mode` only with `billing_scheme: tiered` |
| `tiered-needs-tiers` | R5 | error | `billing_scheme: tiered` has a non-empty `tiers` list |
| `tiered-needs-tiers-mode` | R5 | error | `billing_scheme: tiered` has `tiers_mode` |
| `tiered-with-unit-amount` | R5 | error | a tiered price/plan has no top-level unit amount |
| `last-tier-not-inf` | R6 | error | the last tier has `up_to: inf` |
| `inf-tier-not-last` | R6 | error | `up_to: inf` only on the last tier |
| `tier-up-to-invalid` | R6 | error | every other tier has an integer `up_to` |
| `tier-bounds-not-increasing` | R6 | error | integer `up_to` values are ≥ 1 and strictly increasing |
| `tier-amount-conflict` | R7 | error | a tier sets at most one of each amount pair |
| `tier-missing-amount` | R7 | error | a tier sets at least one amount |
| `tiers-with-transform` | R8 | error | no `tiers` together with `transform_quantity` / `transform_usage` |
| `too-many-tiers` | R9 | warning | more than 100 tiers (Stripe's limit is not documented) |
| `transform-needs-per-unit` | R10 | error | a transform only with `billing_scheme: per_unit` |
| `transform-invalid` | R10 | error | a transform has an integer `divide_by` ≥ 1 and `round` up or down |
| `interval-count-range` | R11 | error | `interval_count` ≥ 1 and the period at most 3 years / 36 months / 156 weeks |
| `interval-days-too-long` | R11 | warning | a daily period above 1095 days (Stripe's day cap is unverified) |
| `metered-needs-meter` | R12 | error | `usage_type: metered` names a `meter` |
| `meter-needs-metered` | R13 | error | a `meter` only with `usage_type: metered` |
| `one-time-with-recurring-fields` | R13, R26 | error | a one-time price has no interval, usage_type, meter |
| `unknown-meter` | R13 | error | the `meter` a price/plan names is a meter of the catalog |
| `aggregate-usage-removed` | R14 | error | no `aggregate_usage` (gone since API 2025-03-31.basil) |
| `trial-too-long` | R15 | error | `trial_period_days` at most 730 |
| `custom-unit-amount-enabled` | R16 | error | `custom_unit_amount` has `enabled: true` |
| `custom-unit-amount-range` | R16 | error | minimum ≤ preset ≤ maximum |
| `custom-unit-amount-with-tiers` | R16 | error | `custom_unit_amount` not on a tiered price |
| `custom-unit-amount-recurring` | R16 | warning | `custom_unit_amount` on a recurring price |
| `unsupported-currency` | R18, R19 | error | currency and `currency_options` keys are Stripe codes |
| `currency-option-same-currency` | R19 | error | no currency option for the price's own currency |
| `currency-option-scheme` | R19 | error | each currency option mirrors the price's scheme |
| `currency-option-tier-bounds` | R19 | warning | a currency option's tiers have the price's up_to bounds (unverified) |
| `zero-decimal-fraction` | R20 | warning | fractional decimal amounts in a zero-decimal currency |
| `three-decimal-last-digit` | R20 | error | amounts in BHD, JOD, KWD, OMR, TND end in 0 |
| `isk-divisible-by-100` | R20 | error | ISK amounts are divisible by 100 |
| `currency-special-case` | R20 | warning | HUF, TWD, UGX amounts not divisible by 100 |
| `duplicate-lookup-key` | R21 | error | each price `lookup_key` once in the catalog |
| `reserved-metadata-key` | R22 | error | `managed_by` is pricebook's own metadata key |
| `metadata-invalid` | R22 | error | Stripe's metadata limits (49 keys + pricebook's); none on meters |
| `product-name-required` | R23 | error | a product has a `name` |
| `duplicate-product` | R23 | error | each product `id` once in the catalog |
| `duplicate-plan` | R23 | error | each plan `id` once in the catalog |
| `missing-product` | R24 | error | a top-level price or plan names its `product` |
| `nested-price-product` | R24 | error | a price nested under a product does not name a product |
| `unknown-product` | R24 | error | the `product` a price/plan names is a product of the catalog |
| `unknown-default-price` | §1.1 | error | a product's `default_price` is the lookup_key of one of its own prices |
| `uncombinable-recurring-price` | R25 | warning | a metered price fits none of its product's licensed ones |
| `duplicate-meter` | R27 | error | each meter `event_name` once in the catalog |

Not checked here, on purpose:
- R2 (integer amounts, no floats) is the loader's and the schema's; R23's and R22's basic shapes are the
  schema's too (the rules above repeat only what gives a better message).
- R17 (`tax_behavior` cannot change once `inclusive` or `exclusive`) depends on the live value, so the diff
  enforces it; offline there is nothing to check beyond the schema's enum.
- R13's "the meter must be active" and R18's "supported by this account's country" need the account.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, TypeGuard

from compiler.catalog.source import Entry, NodePath
from compiler.errors import Diagnostic, Location, Severity, sort_diagnostics
from compiler.stripe import currencies
from compiler.stripe.fields import MANAGED_BY_KEY
from compiler.stripe.kinds import IDENTITY_FIELD, Kind

MAX_AMOUNT = 99_999_999  # "up to eight digits" (R4)
MAX_DECIMAL_PLACES = 12  # R3
MAX_TIERS = 100  # R9: no documented limit, warn above this
MAX_TRIAL_DAYS = 730  # R15
MAX_INTERVAL_COUNT: Mapping[str, int] = {"year": 3, "month": 36, "week": 156}  # R11
MAX_INTERVAL_DAYS = 1095  # R11, unverified
# R22: Stripe allows 50 keys, and pricebook adds its own `managed_by` to every object it creates
METADATA_MAX_KEYS, METADATA_KEY_LENGTH, METADATA_VALUE_LENGTH = 49, 40, 500

ERROR, WARNING = Severity.ERROR, Severity.WARNING
PRICED = (Kind.PRICE, Kind.PLAN)
_TIERED = ("tiers", "currency_options")  # where tier tables live
_TRANSFORMS = ("transform_quantity", "transform_usage")


# --- the registry ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """What a check found; the rule adds its id and severity to make it a `Diagnostic`."""

    location: Location
    message: str
    hint: str | None = None


EntryCheck = Callable[[Entry], Iterable[Finding]]
#: a per-entry check that reads the entry's amounts, tier tables or currency options: `run_rules` reads those
#: once per entry (`_parse`) and hands them to each such check
ParsedCheck = Callable[[Entry, "_Parsed"], Iterable[Finding]]
CatalogCheck = Callable[[Sequence[Entry]], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    """One rule: a stable id, where it comes from, and its check.

    A per-entry rule (`check_entry`) sees one object of the `kinds` it applies to, and only when the object
    has one of the `when` fields (a shortcut that skips most rules for most prices; a test checks it loses
    nothing); a catalog rule (`check_catalog`) sees all entries at once and must stay linear in their number.
    """

    id: str
    rulebook: str
    severity: Severity
    summary: str
    kinds: tuple[Kind, ...] = ()
    check_entry: EntryCheck | None = None
    check_catalog: CatalogCheck | None = None
    #: the check behind `check_entry` when it takes the entry's parsed amounts (`run_rules` calls this one)
    check_parsed: ParsedCheck | None = None
    #: top-level fields without which the per-entry check cannot find anything (empty: always run it)
    when: frozenset[str] = frozenset()

    def applies_to(self, entry: Entry) -> bool:
        return entry.kind in self.kinds and (not self.when or not self.when.isdisjoint(entry.data))

    def diagnostic(self, finding: Finding) -> Diagnostic:
        return Diagnostic(finding.location, self.id, finding.message, finding.hint, self.severity)


_REGISTRY: list[Rule] = []


def _entry_rule(
    rule_id: str,
    rulebook: str,
    summary: str,
    kinds: Sequence[Kind] = PRICED,
    severity: Severity = ERROR,
    when: Sequence[str] = (),
) -> Callable[[EntryCheck], EntryCheck]:
    def register(check: EntryCheck) -> EntryCheck:
        rule = Rule(rule_id, rulebook, severity, summary, tuple(kinds), check_entry=check, when=frozenset(when))
        _REGISTRY.append(rule)
        return check

    return register


def _parsed_rule(
    rule_id: str,
    rulebook: str,
    summary: str,
    kinds: Sequence[Kind] = PRICED,
    severity: Severity = ERROR,
    when: Sequence[str] = (),
) -> Callable[[ParsedCheck], ParsedCheck]:
    """`_entry_rule` for a check that takes the entry's parsed amounts too; its `check_entry` parses them."""

    def register(check: ParsedCheck) -> ParsedCheck:
        def on_entry(entry: Entry) -> Iterable[Finding]:
            return check(entry, _parse(entry))

        rule = Rule(
            rule_id,
            rulebook,
            severity,
            summary,
            tuple(kinds),
            check_entry=on_entry,
            when=frozenset(when),
            check_parsed=check,
        )
        _REGISTRY.append(rule)
        return check

    return register


def _catalog_rule(
    rule_id: str, rulebook: str, summary: str, severity: Severity = ERROR
) -> Callable[[CatalogCheck], CatalogCheck]:
    def register(check: CatalogCheck) -> CatalogCheck:
        _REGISTRY.append(Rule(rule_id, rulebook, severity, summary, check_catalog=check))
        return check

    return register


# --- reading entries defensively ------------------------------------------------------------------------


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)  # YAML `true` is not an amount


def _map(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _has(data: Mapping[str, Any], key: str) -> bool:
    return data.get(key) is not None


def _is_nested(entry: Entry) -> bool:
    """A price written under a product's `prices:` (even when that product has no usable id)."""
    return bool(entry.path) and entry.path[0] == "products"


def _scheme(data: Mapping[str, Any]) -> str:
    scheme = data.get("billing_scheme")
    return scheme if isinstance(scheme, str) else "per_unit"


def _amount_keys(entry: Entry) -> tuple[str, str]:
    return ("amount", "amount_decimal") if entry.kind is Kind.PLAN else ("unit_amount", "unit_amount_decimal")


def _transform_key(entry: Entry) -> str:
    return "transform_usage" if entry.kind is Kind.PLAN else "transform_quantity"


def _show(value: object) -> str:
    return repr(value) if isinstance(value, str) else str(value)


_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def _decimal(value: object) -> Decimal | None:
    """A decimal amount as Stripe would read it, or None when it is not one (the schema reports those)."""
    if _is_int(value):
        return Decimal(value)
    if isinstance(value, str) and len(value) <= 1000 and _DECIMAL.fullmatch(value):
        try:
            return Decimal(value)
        except InvalidOperation:  # pragma: no cover - the pattern admits only valid literals
            return None
    return None


@dataclass(frozen=True)
class _Recurring:
    """Where the recurring fields of a price (`recurring.*`) or a legacy plan (top level) live."""

    prefix: NodePath
    data: Mapping[str, Any]

    def usage_type(self) -> str:
        value = self.data.get("usage_type")
        return value if isinstance(value, str) else "licensed"


def _recurring(entry: Entry) -> _Recurring | None:
    if entry.kind is Kind.PLAN:
        return _Recurring((), entry.data)
    recurring = entry.data.get("recurring")
    return _Recurring(("recurring",), recurring) if isinstance(recurring, dict) else None


@dataclass(frozen=True)
class _Site:
    """A place that carries amounts in one currency: the price itself, or one of its currency options."""

    path: NodePath
    currency: str | None
    data: Mapping[str, Any]
    amount_keys: tuple[str, str]

    @property
    def is_option(self) -> bool:
        return bool(self.path)


def _read_sites(entry: Entry) -> tuple[_Site, ...]:
    currency = entry.data.get("currency")
    sites = [_Site((), currency if isinstance(currency, str) else None, entry.data, _amount_keys(entry))]
    if entry.kind is Kind.PRICE:  # plans have no currency_options
        for code, option in _map(entry.data.get("currency_options")).items():
            if isinstance(code, str) and isinstance(option, dict):
                sites.append(_Site(("currency_options", code), code, option, ("unit_amount", "unit_amount_decimal")))
    return tuple(sites)


@dataclass(frozen=True)
class _Money:
    """One amount field: where it is, its currency, its raw value, and what kind of amount it is."""

    path: NodePath
    currency: str | None
    value: Any
    is_decimal: bool  # a `*_decimal` string field
    integral: bool  # must be a whole number of minor units (`flat_amount_decimal`, and every integer field)


#: the amount fields of a tier: (name, is_decimal, integral)
_TIER_MONEY = (
    ("unit_amount", False, True),
    ("flat_amount", False, True),
    ("unit_amount_decimal", True, False),
    ("flat_amount_decimal", True, True),
)


def _read_money(sites: tuple[_Site, ...]) -> tuple[_Money, ...]:
    found: list[_Money] = []
    for site in sites:
        int_key, dec_key = site.amount_keys
        fields: list[tuple[NodePath, Any, bool, bool]] = [
            ((int_key,), site.data.get(int_key), False, True),
            ((dec_key,), site.data.get(dec_key), True, False),
        ]
        custom = _map(site.data.get("custom_unit_amount"))
        fields += [(("custom_unit_amount", k), custom.get(k), False, True) for k in ("minimum", "maximum", "preset")]
        for index, tier in enumerate(_list(site.data.get("tiers"))):
            if isinstance(tier, dict):
                fields += [(("tiers", index, key), tier.get(key), dec, whole) for key, dec, whole in _TIER_MONEY]
        found += (
            _Money((*site.path, *path), site.currency, value, is_decimal, integral)
            for path, value, is_decimal, integral in fields
            if value is not None
        )
    return tuple(found)


@dataclass(frozen=True)
class _Parsed:
    """What the amount, tier and currency-option rules read of one entry (`_parse`)."""

    sites: tuple[_Site, ...]
    money: tuple[_Money, ...]
    tier_tables: tuple[tuple[NodePath, list[Any]], ...]


def _parse(entry: Entry) -> _Parsed:
    """The entry's sites, amounts and non-empty tier tables (its own and its currency options'), each with its
    path: read once per entry by `run_rules`, for every rule that takes them."""
    sites = _read_sites(entry)
    tables = tuple(
        ((*site.path, "tiers"), tiers) for site in sites if isinstance(tiers := site.data.get("tiers"), list) and tiers
    )
    return _Parsed(sites, _read_money(sites), tables)


def _param(path: NodePath) -> str:
    """`("tiers", 2, "up_to")` -> `tiers[2][up_to]`, as Stripe names a parameter in its errors."""
    return str(path[0]) + "".join(f"[{part}]" for part in path[1:]) if path else ""


def _every(count: object, interval: object) -> str:
    return f"every {interval}" if count == 1 else f"every {count} {interval}s"


def _field_name(path: NodePath) -> str:
    """`("tiers", 2, "up_to")` -> `tiers[2].up_to`, as a billing engineer reads it in the file."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


# --- R1 to R4: amounts ----------------------------------------------------------------------------------


@_entry_rule("amount-required", "R1", "a per_unit price or plan has an amount")
def amount_required(entry: Entry) -> Iterator[Finding]:
    if _scheme(entry.data) != "per_unit" or _list(entry.data.get("tiers")):
        return  # tiers without billing_scheme: tiered is `tiers-need-tiered-scheme`'s to explain
    int_key, dec_key = _amount_keys(entry)
    keys = [int_key, dec_key] + (["custom_unit_amount"] if entry.kind is Kind.PRICE else [])
    if not any(_has(entry.data, key) for key in keys):
        yield Finding(
            entry.where(),
            f"{entry.label()} has no amount: a per_unit {entry.kind.value} needs one of {', '.join(keys)}",
            f"add {int_key} in minor units (0 for free), or make it tiered; Stripe would answer: "
            f'"One of {", ".join(keys)} is required, unless billing_scheme=tiered."',
        )


@_parsed_rule("amount-conflict", "R1, R16", "at most one of the amount fields")
def amount_conflict(entry: Entry, parsed: _Parsed) -> Iterator[Finding]:
    for site in parsed.sites:
        keys = [*site.amount_keys] + (["custom_unit_amount"] if entry.kind is Kind.PRICE else [])
        present = [key for key in keys if _has(site.data, key)]
        if len(present) > 1:
            where = f"currency option {site.currency!r} of {entry.label()}" if site.is_option else entry.label()
            yield Finding(
                entry.where(*site.path, present[1], key=True),
                f"{where} sets both {present[0]} and {present[1]}",
                f"keep only one of them; Stripe would answer: "
                f'"You may only specify one of these parameters: {", ".join(present)}."',
            )


@_parsed_rule("decimal-format", "R3", "decimal amounts are non-negative with at most 12 decimal places")
def decimal_format(entry: Entry, parsed: _Parsed) -> Iterator[Finding]:
    for money in parsed.money:
        if not money.is_decimal:
            continue
        value = _decimal(money.value)
        field = _field_name(money.path)
        if value is None:
            yield Finding(
                entry.where(*money.path),
                f"{field} of {entry.label()} is {_show(money.value)}, not a non-negative decimal amount",
                'write it as a quoted decimal string in minor units, like "0.5" (half a cent in usd)',
            )
        elif isinstance(money.value, str) and "." in money.value:
            places = len(money.value.split(".", 1)[1])
            if places > MAX_DECIMAL_PLACES:
                yield Finding(
                    entry.where(*money.path),
                    f"{field} of {entry.label()} has {places} decimal places; Stripe takes at most "
                    f"{MAX_DECIMAL_PLACES}",
                    f"round {field} to {MAX_DECIMAL_PLACES} decimal places",
                )


@_parsed_rule("flat-amount-not-integral", "R3", "flat_amount_decimal is a whole number of minor units", when=_TIERED)
def flat_amount_not_integral(entry: Entry, parsed: _Parsed) -> Iterator[Finding]:
    for money in parsed.money:
        if not (money.is_decimal and money.integral):
            continue
        value = _decimal(money.value)
        if value is not None and value != value.to_integral_value():
            yield Finding(
                entry.where(*money.path),
                f"{_field_name(money.path)} of {entry.label()} is {_show(money.value)}, but Stripe takes "
                "flat_amount_decimal only as a whole number of minor units",
                'use a whole number like "150" (1.50 in a two-decimal currency)',
            )


@_parsed_rule("amount-too-large", "R4", "integer amounts are at most 99,999,999 minor units")
def amount_too_large(entry: Entry, parsed: _Parsed) -> Iterator[Finding]:
    for money in parsed.money:
        if not money.is_decimal and _is_int(money.value) and money.value > MAX_AMOUNT:
            yield Finding(
                entry.where(*money.path),
                f"{_field_name(money.path)} of {entry.label()} is {money.value:,}, above Stripe's maximum of "
                f"{MAX_AMOUNT:,} minor units",
                "amounts are in minor units (1000 is 10.00 usd); Stripe supports up to eight digits",
            )


@_parsed_rule("decimal-amount-large", "R4", "decimal amounts of 100,000,000 minor units or more", severity=WARNING)
def decimal_amount_large(entry: Entry, parsed: _Parsed) -> Iterator[Finding]:
    for money in parsed.money:
        value = _decimal(money.value) if money.is_decimal else None
        # the Dashboard takes prices up to 99999999.999999999999, so only 100,000,000 and above is suspect
        if value is not None and value >= MAX_AMOUNT + 1:
            yield Finding(
                entry.where(*money.path),
                f"{_field_name(money.path)} of {entry.label()} is {money.value}, beyond eight digits of minor units",
                "Stripe charges at most eight digits; check that the amount is in minor units",
            )


# --- R5 to R9: tiers ------------------------------------------------------------------------------------


@_entry_rule(
    "tiers-need-tiered-scheme",
    "R5",
    "tiers and tiers_mode only with billing_scheme: tiered",
    when=("tiers", "tiers_mode"),
)
def tiers_need_tiered_scheme(entry: Entry) -> Iterator[Finding]:
    if _scheme(entry.data) == "tiered":
        return
    for key in ("tiers", "tiers_mode"):
        if _has(entry.data, key):
            yield Finding(
                entry.where(key, key=True),
                f"{entry.label()} has {key} but its billing_scheme is {_scheme(entry.data)}",
                f"add billing_scheme: tiered (or remove {key}); Stripe would answer: "
                '"This parameter requires billing_scheme to be set to tiered."',
            )


@_entry_rule("tiered-needs-tiers", "R5", "billing_scheme: tiered has a non-empty tiers list", when=("billing_scheme",))
def tiered_needs_tiers(entry: Entry) -> Iterator[Finding]:
    if _scheme(entry.data) == "tiered" and not _list(entry.data.get("tiers")):
        yield Finding(
            entry.where("billing_scheme"),
            f"{entry.label()} is tiered but has no tiers",
            "add tiers (the last with up_to: inf), or use billing_scheme: per_unit with an amount",
        )


@_entry_rule("tiered-needs-tiers-mode", "R5", "billing_scheme: tiered has tiers_mode", when=("billing_scheme",))
def tiered_needs_tiers_mode(entry: Entry) -> Iterator[Finding]:
    if _scheme(entry.data) == "tiered" and not _has(entry.data, "tiers_mode"):
        yield Finding(
            entry.where("billing_scheme"),
            f"{entry.label()} is tiered but does not say how: tiers_mode is missing",
            "add tiers_mode: graduated (each tier prices its own units) or volume (one tier prices all units)",
        )


@_entry_rule(
    "tiered-with-unit-amount", "R5", "a tiered price or plan has no top-level unit amount", when=("billing_scheme",)
)
def tiered_with_unit_amount(entry: Entry) -> Iterator[Finding]:
    if _scheme(entry.data) != "tiered":
        return
    for key in _amount_keys(entry):
        if _has(entry.data, key):
            yield Finding(
                entry.where(key, key=True),
                f"{entry.label()} is tiered, so its amounts belong in the tiers, not in {key}",
                f"remove {key} and put the amount into tiers[].unit_amount (or flat_amount)",
            )


def _is_inf(value: object) -> bool:
    return value == "inf"


@_parsed_rule("last-tier-not-inf", "R6", "the last tier has up_to: inf", when=_TIERED)
def last_tier_not_inf(entry: Entry, parsed: _Parsed) -> Iterator[Finding]:
    for path, tiers in parsed.tier_tables:
        last = len(tiers) - 1
        up_to = _map(tiers[last]).get("up_to")
        if not _is_inf(up_to):
            shown = "no up_to" if up_to is None else f"up_to {_show(up_to)}"
            yield Finding(
                entry.where(*path, last, "up_to"),
                f"the last tier of {entry.label()} ({_field_name((*path, last))}) has {shown}, "
                "but the last tier must be up_to: inf",
                "set up_to: inf on the last tier (null does not work: Stripe answers "
                f'"Missing required param: {_param((*path, last, "up_to"))}")',
            )


@_parsed_rule("inf-tier-not-last", "R6", "up_to: inf only on the last tier", when=_TIERED)
def inf_tier_not_last(entry: Entry, parsed: _Parsed) -> Iterator[Finding]:
    for path, tiers in parsed.tier_tables:
        for index, tier in enumerate(tiers[:-1]):
            if _is_inf(_map(tier).get("up_to")):
                yield Finding(
                    entry.where(*path, index, "up_to"),
                    f"{_field_name((*path, index))} of {entry.label()} has up_to: inf but is not the last tier; "
                    "the tiers after it could never be reached",
                    "give this tier an integer up_to, or remove the tiers after it",
                )


@_parsed_rule("tier-up-to-invalid", "R6", "every tier but the last has an integer up_to", when=_TIERED)
def tier_up_to_invalid(entry: Entry, parsed: _Parsed) -> Iterator[Finding]:
    for path, tiers in parsed.tier_tables:
        for index, tier in enumerate(tiers[:-1]):
            up_to = _map(tier).get("up_to")
            if not _is_int(up_to) and not _is_inf(up_to):
                shown = "no up_to" if up_to is None else f"up_to {_show(up_to)}"
                yield Finding(
                    entry.where(*path, index, "up_to"),
                    f"{_field_name((*path, index))} of {entry.label()} has {shown}; it must be a whole number of units",
                    f'Stripe would answer: "Missing required param: {_param((*path, index, "up_to"))}"; '
                    "write the tier's upper bound, like up_to: 1000",
                )


@_parsed_rule(
    "tier-bounds-not-increasing", "R6", "integer up_to values are at least 1 and strictly increasing", when=_TIERED
)
def tier_bounds_not_increasing(entry: Entry, parsed: _Parsed) -> Iterator[Finding]:
    for path, tiers in parsed.tier_tables:
        previous: int | None = None
        for index, tier in enumerate(tiers):
            up_to = _map(tier).get("up_to")
            if not _is_int(up_to):
                continue
            where = entry.where(*path, index, "up_to")
            name = _field_name((*path, index, "up_to"))
            if previous is None and up_to < 1:
                yield Finding(
                    where,
                    f"{name} of {entry.label()} is {up_to}; the first tier must cover at least 1 unit",
                    "tiers count from 1: the first tier's up_to is its last unit, at least 1",
                )
            elif previous is not None and up_to <= previous:
                yield Finding(
                    where,
                    f"{name} of {entry.label()} is {up_to}, not above the previous tier's {previous}",
                    "each tier starts at the previous up_to + 1, so up_to values must strictly increase",
                )
            previous = up_to if previous is None else max(previous, up_to)


_TIER_PAIRS = (("unit_amount", "unit_amount_decimal"), ("flat_amount", "flat_amount_decimal"))


@_parsed_rule("tier-amount-conflict", "R7", "a tier sets at most one of each amount pair", when=_TIERED)
def tier_amount_conflict(entry: Entry, parsed: _Parsed) -> Iterator[Finding]:
    for path, tiers in parsed.tier_tables:
        for index, tier in enumerate(tiers):
            tier = _map(tier)
            for plain, decimal in _TIER_PAIRS:
                if _has(tier, plain) and _has(tier, decimal):
                    yield Finding(
                        entry.where(*path, index, decimal, key=True),
                        f"{_field_name((*path, index))} of {entry.label()} sets both {plain} and {decimal}",
                        f'keep one; Stripe would answer: "Only one of {plain} and {decimal} can be set."',
                    )


@_parsed_rule("tier-missing-amount", "R7", "a tier sets at least one amount", when=_TIERED)
def tier_missing_amount(entry: Entry, parsed: _Parsed) -> Iterator[Finding]:
    amounts = [key for pair in _TIER_PAIRS for key in pair]
    for path, tiers in parsed.tier_tables:
        for index, tier in enumerate(tiers):
            if not any(_has(_map(tier), key) for key in amounts):
                yield Finding(
                    entry.where(*path, index),
                    f"{_field_name((*path, index))} of {entry.label()} has no amount",
                    "set unit_amount and/or flat_amount (0 counts); Stripe would answer: "
                    '"An entry in the tiers array is missing an amount."',
                )


@_entry_rule("tiers-with-transform", "R8", "no tiers together with a quantity transform", when=("tiers",))
def tiers_with_transform(entry: Entry) -> Iterator[Finding]:
    key = _transform_key(entry)
    if _list(entry.data.get("tiers")) and _has(entry.data, key):
        yield Finding(
            entry.where(key, key=True),
            f"{entry.label()} has both tiers and {key}; Stripe cannot transform the quantity of a tiered price",
            f'Stripe would answer: "You may only specify one of these parameters: tiers, {key}." '
            "Scale the tiers' up_to bounds instead, or use a per_unit price with the transform",
        )


@_parsed_rule("too-many-tiers", "R9", "more than 100 tiers", severity=WARNING, when=_TIERED)
def too_many_tiers(entry: Entry, parsed: _Parsed) -> Iterator[Finding]:
    for path, tiers in parsed.tier_tables:
        if len(tiers) > MAX_TIERS:
            yield Finding(
                entry.where(*path, key=True),
                f"{entry.label()} has {len(tiers)} tiers"
                + (f" in {_field_name(path)}" if len(path) > 1 else "")
                + f"; Stripe documents no limit, "
                f"but more than {MAX_TIERS} is untested",
                "merge tiers, or try the price in a Stripe sandbox first",
            )


# --- R10: quantity transform ----------------------------------------------------------------------------


@_entry_rule(
    "transform-needs-per-unit", "R10", "a quantity transform only with billing_scheme: per_unit", when=_TRANSFORMS
)
def transform_needs_per_unit(entry: Entry) -> Iterator[Finding]:
    key = _transform_key(entry)
    # with tiers present, `tiers-with-transform` already says it better
    if _scheme(entry.data) == "tiered" and _has(entry.data, key) and not _list(entry.data.get("tiers")):
        yield Finding(
            entry.where(key, key=True),
            f"{entry.label()} is tiered, but {key} works only with billing_scheme: per_unit",
            f"remove {key}, or use billing_scheme: per_unit",
        )


@_entry_rule("transform-invalid", "R10", "a transform has divide_by ≥ 1 and round up or down", when=_TRANSFORMS)
def transform_invalid(entry: Entry) -> Iterator[Finding]:
    key = _transform_key(entry)
    if not _has(entry.data, key):
        return
    transform = entry.data.get(key)
    if not isinstance(transform, dict):
        yield Finding(
            entry.where(key),
            f"{key} of {entry.label()} must be a mapping",
            f"write {key}: {{divide_by: 5, round: up}}",
        )
        return
    divide_by, rounding = transform.get("divide_by"), transform.get("round")
    if not (_is_int(divide_by) and divide_by >= 1):
        yield Finding(
            entry.where(key, "divide_by"),
            f"{key}.divide_by of {entry.label()} is {'missing' if divide_by is None else _show(divide_by)}; "
            "it must be a whole number of at least 1",
            "divide_by is how many units make one billed unit, e.g. 5 for 'per 5 users'",
        )
    if rounding not in ("up", "down"):
        yield Finding(
            entry.where(key, "round"),
            f"{key}.round of {entry.label()} is {'missing' if rounding is None else _show(rounding)}; "
            "it must be up or down",
            "round: up bills a started group in full, round: down only complete groups",
        )


# --- R11 to R15: recurring and metered ------------------------------------------------------------------


@_entry_rule(
    "interval-count-range",
    "R11",
    "interval_count ≥ 1 and at most 3 years / 36 months / 156 weeks",
    when=("recurring", "interval_count"),
)
def interval_count_range(entry: Entry) -> Iterator[Finding]:
    recurring = _recurring(entry)
    if recurring is None or recurring.data.get("interval_count") is None:
        return
    count, interval = recurring.data.get("interval_count"), recurring.data.get("interval")
    where = entry.where(*recurring.prefix, "interval_count")
    if not _is_int(count) or count < 1:
        yield Finding(
            where,
            f"interval_count of {entry.label()} is {_show(count)}; it must be a whole number of at least 1",
            'Stripe would answer: "Invalid positive integer"',
        )
    elif isinstance(interval, str) and count > MAX_INTERVAL_COUNT.get(interval, count):
        cap = MAX_INTERVAL_COUNT[interval]
        yield Finding(
            where,
            f"{entry.label()} bills {_every(count, interval)}; Stripe allows at most {cap} "
            f"(3 years, 36 months or 156 weeks)",
            f"use an interval_count of at most {cap}",
        )


@_entry_rule(
    "interval-days-too-long",
    "R11",
    "a daily period above 1095 days",
    severity=WARNING,
    when=("recurring", "interval_count"),
)
def interval_days_too_long(entry: Entry) -> Iterator[Finding]:
    recurring = _recurring(entry)
    if recurring is None or recurring.data.get("interval") != "day":
        return
    count = recurring.data.get("interval_count")
    if _is_int(count) and count > MAX_INTERVAL_DAYS:
        yield Finding(
            entry.where(*recurring.prefix, "interval_count"),
            f"{entry.label()} bills every {count} days; Stripe's cap is 3 years, probably {MAX_INTERVAL_DAYS} days",
            "use interval: month or year for long periods",
        )


@_entry_rule("metered-needs-meter", "R12", "usage_type: metered names a meter", when=("recurring", "usage_type"))
def metered_needs_meter(entry: Entry) -> Iterator[Finding]:
    recurring = _recurring(entry)
    if recurring is not None and recurring.usage_type() == "metered" and not _has(recurring.data, "meter"):
        yield Finding(
            entry.where(*recurring.prefix, "usage_type"),
            f"{entry.label()} is metered but names no meter",
            "define the meter under meters: and set meter: <its event_name>; since API 2025-03-31.basil "
            "Stripe refuses a metered price without a meter",
        )


@_entry_rule("meter-needs-metered", "R13", "a meter only with usage_type: metered", when=("recurring", "meter"))
def meter_needs_metered(entry: Entry) -> Iterator[Finding]:
    recurring = _recurring(entry)
    if recurring is not None and _has(recurring.data, "meter") and recurring.usage_type() != "metered":
        yield Finding(
            entry.where(*recurring.prefix, "meter", key=True),
            f"{entry.label()} names a meter but its usage_type is {recurring.usage_type()}",
            "add usage_type: metered (or remove meter for a licensed price billed by quantity)",
        )


_RECURRING_ONLY = ("interval", "interval_count", "usage_type", "meter", "trial_period_days", "aggregate_usage")


@_entry_rule(
    "one-time-with-recurring-fields", "R13, R26", "a one-time price has no recurring fields", kinds=(Kind.PRICE,)
)
def one_time_with_recurring_fields(entry: Entry) -> Iterator[Finding]:
    if _has(entry.data, "recurring"):
        return
    for key in _RECURRING_ONLY:
        if key in entry.data:
            yield Finding(
                entry.where(key, key=True),
                f"{entry.label()} has no recurring block, so it is a one-time price, yet it sets {key}",
                f"move {key} under recurring: (prices take recurring: {{interval: month, ...}}); a one-time "
                "price cannot go on a subscription",
            )


@_entry_rule(
    "aggregate-usage-removed",
    "R14",
    "no aggregate_usage (removed in API 2025-03-31.basil)",
    when=("recurring", "aggregate_usage"),
)
def aggregate_usage_removed(entry: Entry) -> Iterator[Finding]:
    recurring = _recurring(entry)
    if recurring is not None and "aggregate_usage" in recurring.data:
        yield Finding(
            entry.where(*recurring.prefix, "aggregate_usage", key=True),
            f"{entry.label()} sets aggregate_usage, which Stripe removed in API version 2025-03-31.basil",
            "remove it; aggregate usage with a meter instead (meters: default_aggregation: {formula: sum, "
            "count or last}) and name it with meter:",
        )


@_entry_rule("trial-too-long", "R15", "trial_period_days at most 730", when=("recurring", "trial_period_days"))
def trial_too_long(entry: Entry) -> Iterator[Finding]:
    recurring = _recurring(entry)
    days = recurring.data.get("trial_period_days") if recurring is not None else None
    if recurring is not None and _is_int(days) and days > MAX_TRIAL_DAYS:
        yield Finding(
            entry.where(*recurring.prefix, "trial_period_days"),
            f"trial_period_days of {entry.label()} is {days}; Stripe allows at most {MAX_TRIAL_DAYS}",
            'Stripe would answer: "The maximum number of trial period days is 730 (2 years)."',
        )


# --- R16: custom unit amount ----------------------------------------------------------------------------


def _custom_sites(parsed: _Parsed) -> Iterator[tuple[_Site, Mapping[str, Any]]]:
    for site in parsed.sites:
        custom = site.data.get("custom_unit_amount")
        if isinstance(custom, dict):
            yield site, custom


@_parsed_rule(
    "custom-unit-amount-enabled",
    "R16",
    "custom_unit_amount has enabled: true",
    kinds=(Kind.PRICE,),
    when=("custom_unit_amount", "currency_options"),
)
def custom_unit_amount_enabled(entry: Entry, parsed: _Parsed) -> Iterator[Finding]:
    for site, custom in _custom_sites(parsed):
        if custom.get("enabled") is not True:
            path = (*site.path, "custom_unit_amount")
            missing = "enabled" not in custom
            yield Finding(
                entry.where(*path, *(() if missing else ("enabled",))),
                f"{_field_name(path)} of {entry.label()} "
                + ("lacks enabled: true" if missing else f"has enabled: {_show(custom.get('enabled'))}"),
                "add enabled: true; to turn the feature off, remove custom_unit_amount and set unit_amount"
                + ('; Stripe would answer: "Missing required param: custom_unit_amount[enabled]."' if missing else ""),
            )


@_parsed_rule(
    "custom-unit-amount-range",
    "R16",
    "custom_unit_amount minimum ≤ preset ≤ maximum",
    kinds=(Kind.PRICE,),
    when=("custom_unit_amount", "currency_options"),
)
def custom_unit_amount_range(entry: Entry, parsed: _Parsed) -> Iterator[Finding]:
    for site, custom in _custom_sites(parsed):
        low, preset, high = (custom.get(k) for k in ("minimum", "preset", "maximum"))
        path = (*site.path, "custom_unit_amount")
        checks = (
            ("minimum", low, "maximum", high),
            ("minimum", low, "preset", preset),
            ("preset", preset, "maximum", high),
        )
        for small_key, small, big_key, big in checks:
            if _is_int(small) and _is_int(big) and small > big:
                yield Finding(
                    entry.where(*path, big_key),
                    f"{_field_name(path)} of {entry.label()} has {small_key} {small} above {big_key} {big}",
                    "the customer picks an amount between minimum and maximum, starting at preset: "
                    "keep minimum ≤ preset ≤ maximum",
                )


@_entry_rule(
    "custom-unit-amount-with-tiers",
    "R16",
    "custom_unit_amount not on a tiered price",
    kinds=(Kind.PRICE,),
    when=("custom_unit_amount",),
)
def custom_unit_amount_with_tiers(entry: Entry) -> Iterator[Finding]:
    if _has(entry.data, "custom_unit_amount") and (_scheme(entry.data) == "tiered" or _list(entry.data.get("tiers"))):
        yield Finding(
            entry.where("custom_unit_amount", key=True),
            f"{entry.label()} lets the customer choose the amount (custom_unit_amount) but is also tiered",
            "use either custom_unit_amount on a per_unit price, or tiers",
        )


@_entry_rule(
    "custom-unit-amount-recurring",
    "R16",
    "custom_unit_amount on a recurring price",
    kinds=(Kind.PRICE,),
    severity=WARNING,
    when=("custom_unit_amount",),
)
def custom_unit_amount_recurring(entry: Entry) -> Iterator[Finding]:
    if _has(entry.data, "custom_unit_amount") and _has(entry.data, "recurring"):
        yield Finding(
            entry.where("custom_unit_amount", key=True),
            f"{entry.label()} is recurring but lets the customer choose the amount; Stripe documents "
            "custom_unit_amount for Checkout Sessions and Payment Links (one-time payments)",
            "remove recurring for a pay-what-you-want price, or set unit_amount",
        )


# --- R18 to R20: currencies -----------------------------------------------------------------------------


@_parsed_rule("unsupported-currency", "R18, R19", "currencies are Stripe currency codes, lowercase")
def unsupported_currency(entry: Entry, parsed: _Parsed) -> Iterator[Finding]:
    for site in parsed.sites:
        code = site.currency if site.is_option else entry.data.get("currency")
        if not isinstance(code, str) or code in currencies.SUPPORTED:
            continue
        where = entry.where(*site.path, key=True) if site.is_option else entry.where("currency")
        if code.lower() in currencies.SUPPORTED:
            hint = f"write it in lowercase: {code.lower()} (Stripe takes only lowercase codes)"
        else:
            hint = "use a three-letter ISO code Stripe supports (see docs.stripe.com/currencies), e.g. usd, eur"
        what = "currency option" if site.is_option else "currency"
        yield Finding(where, f"{what} {code!r} of {entry.label()} is not a currency Stripe supports", hint)


@_parsed_rule(
    "currency-option-same-currency",
    "R19",
    "no currency option for the price's own currency",
    (Kind.PRICE,),
    when=("currency_options",),
)
def currency_option_same_currency(entry: Entry, parsed: _Parsed) -> Iterator[Finding]:
    currency = entry.data.get("currency")
    for site in parsed.sites[1:]:
        if isinstance(currency, str) and site.currency is not None and site.currency.lower() == currency.lower():
            yield Finding(
                entry.where(*site.path, key=True),
                f"{entry.label()} has a currency option for {site.currency!r}, its own currency",
                'remove this option; Stripe would answer: "You are specifying a currency option that matches the '
                "top-level currency for this price. Please remove this currency option and it will be added "
                'automatically on creation."',
            )


@_parsed_rule(
    "currency-option-scheme",
    "R19",
    "each currency option mirrors the price's scheme",
    (Kind.PRICE,),
    when=("currency_options",),
)
def currency_option_scheme(entry: Entry, parsed: _Parsed) -> Iterator[Finding]:
    tiered = _scheme(entry.data) == "tiered"
    amount_keys = ("unit_amount", "unit_amount_decimal", "custom_unit_amount")
    for site in parsed.sites[1:]:
        has_tiers = bool(_list(site.data.get("tiers")))
        has_amount = any(_has(site.data, key) for key in amount_keys)
        name = f"currency option {site.currency!r} of {entry.label()}"
        if tiered and not has_tiers:
            yield Finding(
                entry.where(*site.path, key=True),
                f"{name} has no tiers, but the price is tiered",
                "give the option its own tiers with the same up_to bounds as the price's",
            )
        elif tiered and has_amount:
            key = next(key for key in amount_keys if _has(site.data, key))
            yield Finding(
                entry.where(*site.path, key, key=True),
                f"{name} sets {key}, but the price is tiered: the option's amounts belong in its tiers",
                f"remove {key} from the option",
            )
        elif not tiered and has_tiers:
            yield Finding(
                entry.where(*site.path, "tiers", key=True),
                f"{name} has tiers, but the price is per_unit",
                "give the option a unit_amount (or make the price tiered)",
            )
        elif not tiered and not has_amount:
            yield Finding(
                entry.where(*site.path, key=True),
                f"{name} has no amount",
                "add unit_amount (in that currency's minor units) to the option",
            )


def _bounds(tiers: list[Any]) -> list[Any]:
    return [_map(tier).get("up_to") for tier in tiers]


@_parsed_rule(
    "currency-option-tier-bounds",
    "R19",
    "a currency option's tiers have the price's up_to bounds",
    (Kind.PRICE,),
    severity=WARNING,
    when=("currency_options",),
)
def currency_option_tier_bounds(entry: Entry, parsed: _Parsed) -> Iterator[Finding]:
    """The rulebook's "mirror the price's scheme" (I): Stripe is not known to reject other bounds, but a
    currency whose tiers break at other quantities bills a different product, which is rarely meant."""
    own = _list(entry.data.get("tiers"))
    if not own:
        return
    for site in parsed.sites[1:]:
        tiers = _list(site.data.get("tiers"))
        if tiers and _bounds(tiers) != _bounds(own):
            yield Finding(
                entry.where(*site.path, "tiers", key=True),
                f"the {site.currency!r} tiers of {entry.label()} break at up_to {_bounds(tiers)}, the price's own "
                f"tiers at {_bounds(own)}",
                "give every currency the same tier bounds, with amounts in that currency",
            )


def _whole(money: _Money) -> int | None:
    """The amount as a whole number of minor units, when it must be one (integer fields, flat decimals)."""
    if not money.integral:
        return None
    value = money.value if _is_int(money.value) else _decimal(money.value)
    if value is None or value != int(value):
        return None
    return int(value)


@_parsed_rule("zero-decimal-fraction", "R20", "fractional decimal amounts in a zero-decimal currency", severity=WARNING)
def zero_decimal_fraction(entry: Entry, parsed: _Parsed) -> Iterator[Finding]:
    for money in parsed.money:
        if money.currency not in currencies.ZERO_DECIMAL or not money.is_decimal:
            continue
        value = _decimal(money.value)
        if value is not None and value != value.to_integral_value():
            yield Finding(
                entry.where(*money.path),
                f"{_field_name(money.path)} of {entry.label()} is {money.value} {money.currency}, a fraction of "
                f"the smallest {money.currency} unit ({money.currency} has no minor unit)",
                f"amounts in {money.currency} are whole units (500 is 500 {money.currency}); check it was not "
                "multiplied by 100 or meant as cents",
            )


@_parsed_rule("three-decimal-last-digit", "R20", "amounts in three-decimal currencies end in 0")
def three_decimal_last_digit(entry: Entry, parsed: _Parsed) -> Iterator[Finding]:
    for money in parsed.money:
        value = _whole(money) if money.currency in currencies.THREE_DECIMAL else None
        if value is not None and value % 10:
            yield Finding(
                entry.where(*money.path),
                f"{_field_name(money.path)} of {entry.label()} is {value} {money.currency}; Stripe requires "
                f"the last of {money.currency}'s three decimal digits to be 0",
                f"round to a multiple of ten: {value - value % 10} or {value - value % 10 + 10}",
            )


@_parsed_rule("isk-divisible-by-100", "R20", "ISK amounts are divisible by 100")
def isk_divisible_by_100(entry: Entry, parsed: _Parsed) -> Iterator[Finding]:
    for money in parsed.money:
        value = _whole(money) if money.currency in currencies.DIVISIBLE_BY_100 else None
        if value is not None and value % 100:
            yield Finding(
                entry.where(*money.path),
                f"{_field_name(money.path)} of {entry.label()} is {value} isk; Stripe requires ISK amounts, "
                "prices included, to be evenly divisible by 100",
                f"ISK is two-decimal in the API but has no fractions: use {value - value % 100} or "
                f"{value - value % 100 + 100}",
            )


@_parsed_rule("currency-special-case", "R20", "HUF, TWD and UGX amounts not divisible by 100", severity=WARNING)
def currency_special_case(entry: Entry, parsed: _Parsed) -> Iterator[Finding]:
    for money in parsed.money:
        value = _whole(money) if money.currency in currencies.SPECIAL_CASE_100 else None
        if value is not None and value % 100:
            yield Finding(
                entry.where(*money.path),
                f"{_field_name(money.path)} of {entry.label()} is {value} {money.currency}, not divisible by "
                f"100; Stripe has charge and payout special cases for {money.currency} that round such amounts",
                "see docs.stripe.com/currencies#special-cases; prefer amounts divisible by 100",
            )


# --- R22 to R24: metadata, products, product references -------------------------------------------------


@_entry_rule(
    "reserved-metadata-key",
    "R22",
    "managed_by is pricebook's own metadata key",
    (Kind.PRODUCT, *PRICED),
    when=("metadata",),
)
def reserved_metadata_key(entry: Entry) -> Iterator[Finding]:
    if MANAGED_BY_KEY in _map(entry.data.get("metadata")):
        yield Finding(
            entry.where("metadata", MANAGED_BY_KEY, key=True),
            f"{entry.label()} sets metadata {MANAGED_BY_KEY}, which pricebook writes itself to mark what it owns",
            f"remove metadata.{MANAGED_BY_KEY}; pricebook sets it to 'pricebook' on every object it creates",
        )


@_entry_rule("metadata-invalid", "R22", "Stripe's metadata limits", tuple(Kind), when=("metadata",))
def metadata_invalid(entry: Entry) -> Iterator[Finding]:
    if "metadata" not in entry.data:
        return
    metadata = entry.data.get("metadata")
    if entry.kind is Kind.METER:
        yield Finding(
            entry.where("metadata", key=True),
            f"{entry.label()} has metadata, but Stripe meters have none",
            "remove metadata from the meter (pricebook knows its meters by event_name)",
        )
        return
    if not isinstance(metadata, dict):
        return  # the schema reports the type
    if len(metadata) > METADATA_MAX_KEYS:
        yield Finding(
            entry.where("metadata", key=True),
            f"{entry.label()} has {len(metadata)} metadata keys; Stripe allows 50 and pricebook adds {MANAGED_BY_KEY}",
            f"keep at most {METADATA_MAX_KEYS} keys",
        )
    for key, value in metadata.items():
        text = str(key)
        problem = None
        if len(text) > METADATA_KEY_LENGTH:
            problem = f"key {text[:20]!r}... is longer than {METADATA_KEY_LENGTH} characters"
        elif "[" in text or "]" in text:
            problem = f"key {text!r} contains [ or ]"
        elif not isinstance(value, str):
            problem = f"value of {text!r} is {_show(value)}, not a string"
        elif len(value) > METADATA_VALUE_LENGTH:
            problem = f"value of {text!r} is longer than {METADATA_VALUE_LENGTH} characters"
        if problem:
            yield Finding(
                entry.where("metadata", key) if isinstance(key, str) else entry.where("metadata"),
                f"metadata of {entry.label()}: {problem}",
                "Stripe metadata takes string values up to 500 characters, keys up to 40 without [ or ]; "
                'quote numbers ("3")',
            )


@_entry_rule("product-name-required", "R23", "a product has a name", (Kind.PRODUCT,))
def product_name_required(entry: Entry) -> Iterator[Finding]:
    name = entry.data.get("name")
    if not isinstance(name, str) or not name.strip():
        yield Finding(
            entry.where(), f"{entry.label()} has no name", "add name: (what customers see on invoices and receipts)"
        )


@_entry_rule("missing-product", "R24", "a top-level price or plan names its product")
def missing_product(entry: Entry) -> Iterator[Finding]:
    if not _is_nested(entry) and not _has(entry.data, "product"):
        yield Finding(
            entry.where(),
            f"{entry.label()} belongs to no product",
            f"add product: <a product id of the catalog>, or nest the {entry.kind.value} under its product's prices:"
            if entry.kind is Kind.PRICE
            else "add product: <a product id of the catalog>",
        )


@_entry_rule(
    "nested-price-product",
    "R24",
    "a price nested under a product does not name a product",
    (Kind.PRICE,),
    when=("product", "product_data"),
)
def nested_price_product(entry: Entry) -> Iterator[Finding]:
    if not _is_nested(entry):
        return
    for key in ("product", "product_data"):
        if key in entry.data:
            yield Finding(
                entry.where(key, key=True),
                f"{entry.label()} is nested under product {entry.nested_in!r} and also sets {key}",
                f"remove {key}: a nested price belongs to the product it is nested under",
            )


# --- catalog-wide rules: identities and references ------------------------------------------------------


def _duplicates(entries: Sequence[Entry], kind: Kind) -> Iterator[tuple[Entry, Entry]]:
    """(first definition, later definition) for each identity of `kind` defined more than once."""
    first: dict[str, Entry] = {}
    for entry in entries:
        ident = entry.identity if entry.kind is kind else None
        if ident is None:
            continue
        if ident in first:
            yield first[ident], entry
        else:
            first[ident] = entry


def _duplicate_findings(entries: Sequence[Entry], kind: Kind, what: str, hint: str) -> Iterator[Finding]:
    field = IDENTITY_FIELD[kind]
    for original, again in _duplicates(entries, kind):
        yield Finding(
            again.where(field),
            f"{what} {again.identity!r} is defined twice; also defined at {original.where(field)}",
            hint,
        )


@_catalog_rule("duplicate-lookup-key", "R21", "each price lookup_key once in the catalog")
def duplicate_lookup_key(entries: Sequence[Entry]) -> Iterator[Finding]:
    yield from _duplicate_findings(
        entries,
        Kind.PRICE,
        "lookup_key",
        'lookup keys are unique across the account (Stripe: "A price already uses that lookup key."); '
        "rename one of them",
    )


@_catalog_rule("duplicate-product", "R23", "each product id once in the catalog")
def duplicate_product(entries: Sequence[Entry]) -> Iterator[Finding]:
    yield from _duplicate_findings(
        entries, Kind.PRODUCT, "product id", "product ids are unique per account; merge the two or rename one"
    )


@_catalog_rule("duplicate-plan", "R23", "each plan id once in the catalog")
def duplicate_plan(entries: Sequence[Entry]) -> Iterator[Finding]:
    yield from _duplicate_findings(
        entries, Kind.PLAN, "plan id", "plan ids are unique per account; merge the two or rename one"
    )


@_catalog_rule("duplicate-meter", "R27", "each meter event_name once in the catalog")
def duplicate_meter(entries: Sequence[Entry]) -> Iterator[Finding]:
    yield from _duplicate_findings(
        entries,
        Kind.METER,
        "meter event_name",
        "meter event names are unique per account (a deactivated meter keeps its name); rename one",
    )


def _did_you_mean(name: str, known: Iterable[str]) -> str:
    candidates = list(known)
    if len(candidates) > 300:  # fuzzy matching is linear per unknown name: keep big broken catalogs fast
        return ""
    close = difflib.get_close_matches(name, candidates, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _identities(entries: Sequence[Entry], kind: Kind) -> set[str]:
    return {ident for entry in entries if entry.kind is kind and (ident := entry.identity) is not None}


@_catalog_rule("unknown-product", "R24", "a price's or plan's product is a product of the catalog")
def unknown_product(entries: Sequence[Entry]) -> Iterator[Finding]:
    products = _identities(entries, Kind.PRODUCT)
    for entry in entries:
        if entry.kind not in PRICED or _is_nested(entry):
            continue
        product = entry.data.get("product")
        if isinstance(product, str) and product not in products:
            yield Finding(
                entry.where("product"),
                f"{entry.label()} names product {product!r}, which the catalog does not define"
                + _did_you_mean(product, products),
                "define the product under products: (in any file), or fix the id",
            )


@_catalog_rule("unknown-meter", "R13", "the meter a price or plan names is a meter of the catalog")
def unknown_meter(entries: Sequence[Entry]) -> Iterator[Finding]:
    meters = _identities(entries, Kind.METER)
    for entry in entries:
        recurring = _recurring(entry) if entry.kind in PRICED else None
        meter = recurring.data.get("meter") if recurring is not None else None
        if recurring is not None and isinstance(meter, str) and meter not in meters:
            yield Finding(
                entry.where(*recurring.prefix, "meter"),
                f"{entry.label()} is billed by meter {meter!r}, which the catalog does not define"
                + _did_you_mean(meter, meters),
                "define it under meters: with that event_name (pricebook creates it and links its id)",
            )


@_catalog_rule("unknown-default-price", "§1.1", "a product's default_price is the lookup_key of one of its prices")
def unknown_default_price(entries: Sequence[Entry]) -> Iterator[Finding]:
    owner: dict[str, str | None] = {}
    for entry in entries:
        if entry.kind is Kind.PRICE and entry.identity is not None:
            owner.setdefault(entry.identity, entry.product)
    for entry in entries:
        key = entry.data.get("default_price") if entry.kind is Kind.PRODUCT else None
        if not isinstance(key, str):
            continue
        if key not in owner:
            yield Finding(
                entry.where("default_price"),
                f"{entry.label()} names default_price {key!r}, but no price of the catalog has that lookup_key"
                + _did_you_mean(key, (k for k, product in owner.items() if product == entry.identity)),
                "default_price is the lookup_key of one of this product's prices",
            )
        elif owner[key] != entry.identity:
            yield Finding(
                entry.where("default_price"),
                f"{entry.label()} names default_price {key!r}, a price of product {owner[key]!r}",
                "a product's default price must be one of its own prices",
            )


_Period = tuple[str, str, int]


def _billing_period(entry: Entry) -> _Period | None:
    """(currency, interval, interval_count) of a recurring price or plan; None for one-time or malformed ones."""
    recurring = _recurring(entry)
    if recurring is None:
        return None
    currency, interval = entry.data.get("currency"), recurring.data.get("interval")
    count = recurring.data.get("interval_count")
    count = 1 if count is None else count
    if isinstance(currency, str) and isinstance(interval, str) and _is_int(count):
        return currency.lower(), interval, count
    return None


@_catalog_rule(
    "uncombinable-recurring-price",
    "R25",
    "a metered price fits none of its product's licensed ones",
    severity=WARNING,
)
def uncombinable_recurring_price(entries: Sequence[Entry]) -> Iterator[Finding]:
    """A product that has both licensed and metered recurring prices is sold as a base fee plus usage on one
    subscription, and Stripe requires the items of a subscription to share currency and interval. So a metered
    price whose (currency, interval, interval_count) matches none of its product's licensed prices could never
    be added next to them. Monthly and yearly licensed prices side by side are alternatives, not a
    combination, and a product with only metered (or only licensed) prices is not warned about.
    """
    licensed: dict[str, set[_Period]] = defaultdict(set)
    metered: list[tuple[Entry, _Period]] = []
    for entry in entries:
        period = _billing_period(entry) if entry.kind in PRICED else None
        recurring = _recurring(entry)
        if period is None or recurring is None or entry.product is None:
            continue
        if recurring.usage_type() == "metered":
            metered.append((entry, period))
        else:
            licensed[entry.product].add(period)
    for entry, period in metered:
        product = entry.product or ""
        periods = licensed.get(product)
        if periods and period not in periods:
            currency, interval, count = period
            offered = ", ".join(sorted(f"{c} {_every(n, i)}" for c, i, n in periods))
            yield Finding(
                entry.where("recurring", key=True) if entry.kind is Kind.PRICE else entry.where("interval"),
                f"{entry.label()} ({currency} {_every(count, interval)}) cannot go on one subscription with any "
                f"licensed price of product {product!r} ({offered})",
                'Stripe would answer: "Currency and interval fields must match across all plans on this '
                "subscription.\"; add a matching licensed price or change this one's currency or interval",
            )


#: every rule, in the order of the rulebook's sections
RULES: tuple[Rule, ...] = tuple(_REGISTRY)
RULES_BY_ID: Mapping[str, Rule] = {rule.id: rule for rule in RULES}
#: per kind, each per-entry rule with its check: (rule, check_entry, check_parsed or None)
_ENTRY_CHECKS: Mapping[Kind, tuple[tuple[Rule, EntryCheck, ParsedCheck | None], ...]] = {
    kind: tuple(
        (r, r.check_entry, r.check_parsed) for r in RULES if r.check_entry is not None and kind in r.kinds
    )
    for kind in Kind
}
_CATALOG_CHECKS: tuple[tuple[Rule, CatalogCheck], ...] = tuple(
    (r, r.check_catalog) for r in RULES if r.check_catalog is not None
)


def run_rules(entries: Sequence[Entry]) -> list[Diagnostic]:
    """Every rule over the catalog's entries (those that passed the schema); diagnostics sorted by place."""
    entries = list(entries)
    found: list[Diagnostic] = []
    # plain loops: this runs ~40 checks per entry, so per-call overhead is most of the cost
    for entry in entries:
        parsed: _Parsed | None = None  # read at the first rule that needs it, then shared by the others
        for rule, check, check_parsed in _ENTRY_CHECKS.get(entry.kind, ()):
            if rule.when and rule.when.isdisjoint(entry.data):
                continue
            if check_parsed is not None:
                if parsed is None:
                    parsed = _parse(entry)
                findings = check_parsed(entry, parsed)
            else:
                findings = check(entry)
            for finding in findings:
                found.append(rule.diagnostic(finding))
    for rule, catalog_check in _CATALOG_CHECKS:
        for finding in catalog_check(entries):
            found.append(rule.diagnostic(finding))
    return sort_diagnostics(found)
