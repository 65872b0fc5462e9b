"""Tier rules: tiered pricing needs its scheme, a mode and a well-formed table of tiers."""

from __future__ import annotations

from collections.abc import Iterator

from compiler.catalog.rules.reading import (
    TIERED,
    Parsed,
    amount_keys,
    as_list,
    as_map,
    field_name,
    has,
    is_int,
    param_name,
    scheme,
    show,
    transform_key,
)
from compiler.catalog.rules.registry import WARNING, Basis, Cover, Finding, entry_rule, parsed_rule
from compiler.catalog.schema.messages import REQUIRED, TYPE
from compiler.catalog.source import Entry
from compiler.stripe.facts import (
    INFERRED,
    MAX_TIERS,
    MISSING_PARAM,
    ONE_OF_PARAMS,
    PRICE_DOC,
    REQUIRES_TIERED,
    TIER_AMOUNT_PAIRS,
    TIER_WITHOUT_AMOUNT,
    VERIFIED,
)


@entry_rule(
    "tiers-need-tiered-scheme",
    "tiers and tiers_mode only with billing_scheme: tiered",
    Basis(PRICE_DOC + "#create_price-tiers", VERIFIED),
    when=("tiers", "tiers_mode"),
)
def tiers_need_tiered_scheme(entry: Entry) -> Iterator[Finding]:
    if scheme(entry.data) == "tiered":
        return
    for key in ("tiers", "tiers_mode"):
        if has(entry.data, key):
            yield Finding(
                entry.where(key, key=True),
                f"{entry.label()} has {key} but its billing_scheme is {scheme(entry.data)}",
                f'add billing_scheme: tiered (or remove {key}); Stripe would answer: "{REQUIRES_TIERED}"',
            )


@entry_rule(
    "tiered-needs-tiers",
    "billing_scheme: tiered has a non-empty tiers list",
    Basis(PRICE_DOC + "#create_price-billing_scheme", VERIFIED),
    when=("billing_scheme",),
)
def tiered_needs_tiers(entry: Entry) -> Iterator[Finding]:
    if scheme(entry.data) == "tiered" and not as_list(entry.data.get("tiers")):
        yield Finding(
            entry.where("billing_scheme"),
            f"{entry.label()} is tiered but has no tiers",
            "add tiers (the last with up_to: inf), or use billing_scheme: per_unit with an amount",
        )


@entry_rule(
    "tiered-needs-tiers-mode",
    "billing_scheme: tiered has tiers_mode",
    Basis(PRICE_DOC + "#create_price-tiers_mode", INFERRED),
    when=("billing_scheme",),
)
def tiered_needs_tiers_mode(entry: Entry) -> Iterator[Finding]:
    if scheme(entry.data) == "tiered" and not has(entry.data, "tiers_mode"):
        yield Finding(
            entry.where("billing_scheme"),
            f"{entry.label()} is tiered but does not say how: tiers_mode is missing",
            "add tiers_mode: graduated (each tier prices its own units) or volume (one tier prices all units)",
        )


@entry_rule(
    "tiered-with-unit-amount",
    "a tiered price or plan has no top-level unit amount",
    Basis(PRICE_DOC + "#create_price-unit_amount", INFERRED),
    when=("billing_scheme",),
)
def tiered_with_unit_amount(entry: Entry) -> Iterator[Finding]:
    if scheme(entry.data) != "tiered":
        return
    for key in amount_keys(entry):
        if has(entry.data, key):
            yield Finding(
                entry.where(key, key=True),
                f"{entry.label()} is tiered, so its amounts belong in the tiers, not in {key}",
                f"remove {key} and put the amount into tiers[].unit_amount (or flat_amount)",
            )


#: the schema's errors about a tier's up_to (missing, or not an integer ≥ 1 or "inf"): whichever of the three
#: up_to rules applies says what is wrong with it in the tier table
_UP_TO_ERRORS = (Cover(TYPE, ("**", "tiers", "*", "up_to")), Cover(REQUIRED, ("**", "tiers", "*", "up_to")))


def _is_inf(value: object) -> bool:
    return value == "inf"


@parsed_rule(
    "last-tier-not-inf",
    "the last tier has up_to: inf",
    Basis(PRICE_DOC + "#create_price-tiers-up_to", INFERRED),
    when=TIERED,
    covers=_UP_TO_ERRORS,
)
def last_tier_not_inf(entry: Entry, parsed: Parsed) -> Iterator[Finding]:
    for path, tiers in parsed.tier_tables:
        last = len(tiers) - 1
        up_to = as_map(tiers[last]).get("up_to")
        if not _is_inf(up_to):
            shown = "no up_to" if up_to is None else f"up_to {show(up_to)}"
            yield Finding(
                entry.where(*path, last, "up_to"),
                f"the last tier of {entry.label()} ({field_name((*path, last))}) has {shown}, "
                "but the last tier must be up_to: inf",
                "set up_to: inf on the last tier (null does not work: Stripe answers "
                f'"{MISSING_PARAM.format(param=param_name((*path, last, "up_to")))}")',
            )


@parsed_rule(
    "inf-tier-not-last",
    "up_to: inf only on the last tier",
    Basis(PRICE_DOC + "#create_price-tiers-up_to", INFERRED),
    when=TIERED,
)
def inf_tier_not_last(entry: Entry, parsed: Parsed) -> Iterator[Finding]:
    for path, tiers in parsed.tier_tables:
        for index, tier in enumerate(tiers[:-1]):
            if _is_inf(as_map(tier).get("up_to")):
                yield Finding(
                    entry.where(*path, index, "up_to"),
                    f"{field_name((*path, index))} of {entry.label()} has up_to: inf but is not the last tier; "
                    "the tiers after it could never be reached",
                    "give this tier an integer up_to, or remove the tiers after it",
                )


@parsed_rule(
    "tier-up-to-invalid",
    "every tier but the last has an integer up_to",
    Basis(PRICE_DOC + "#create_price-tiers-up_to", VERIFIED),
    when=TIERED,
    covers=_UP_TO_ERRORS,
)
def tier_up_to_invalid(entry: Entry, parsed: Parsed) -> Iterator[Finding]:
    for path, tiers in parsed.tier_tables:
        for index, tier in enumerate(tiers[:-1]):
            up_to = as_map(tier).get("up_to")
            if not is_int(up_to) and not _is_inf(up_to):
                shown = "no up_to" if up_to is None else f"up_to {show(up_to)}"
                yield Finding(
                    entry.where(*path, index, "up_to"),
                    f"{field_name((*path, index))} of {entry.label()} has {shown}; it must be a whole number of units",
                    f'Stripe would answer: "{MISSING_PARAM.format(param=param_name((*path, index, "up_to")))}"; '
                    "write the tier's upper bound, like up_to: 1000",
                )


@parsed_rule(
    "tier-bounds-not-increasing",
    "integer up_to values are at least 1 and strictly increasing",
    Basis(PRICE_DOC + "#create_price-tiers-up_to", INFERRED),
    when=TIERED,
    covers=_UP_TO_ERRORS,
)
def tier_bounds_not_increasing(entry: Entry, parsed: Parsed) -> Iterator[Finding]:
    for path, tiers in parsed.tier_tables:
        previous: int | None = None
        for index, tier in enumerate(tiers):
            up_to = as_map(tier).get("up_to")
            if not is_int(up_to):
                continue
            name = field_name((*path, index, "up_to"))
            if previous is None and up_to < 1:
                yield Finding(
                    entry.where(*path, index, "up_to"),
                    f"{name} of {entry.label()} is {up_to}; the first tier must cover at least 1 unit",
                    "tiers count from 1: the first tier's up_to is its last unit, at least 1",
                )
            elif previous is not None and up_to <= previous:
                yield Finding(
                    entry.where(*path, index, "up_to"),
                    f"{name} of {entry.label()} is {up_to}, not above the previous tier's {previous}",
                    "each tier starts at the previous up_to + 1, so up_to values must strictly increase",
                )
            previous = up_to if previous is None else max(previous, up_to)


@parsed_rule(
    "tier-amount-conflict",
    "a tier sets at most one of each amount pair",
    Basis(PRICE_DOC + "#create_price-tiers", VERIFIED),
    when=TIERED,
)
def tier_amount_conflict(entry: Entry, parsed: Parsed) -> Iterator[Finding]:
    for path, tiers in parsed.tier_tables:
        for index, tier in enumerate(tiers):
            tier = as_map(tier)
            for plain, decimal in TIER_AMOUNT_PAIRS:
                if has(tier, plain) and has(tier, decimal):
                    both = ", ".join(param_name((*path, index, key)) for key in (plain, decimal))
                    yield Finding(
                        entry.where(*path, index, decimal, key=True),
                        f"{field_name((*path, index))} of {entry.label()} sets both {plain} and {decimal}",
                        f'keep one; Stripe would answer: "{ONE_OF_PARAMS.format(params=both)}"',
                    )


@parsed_rule(
    "tier-missing-amount",
    "a tier sets at least one amount",
    Basis(PRICE_DOC + "#create_price-tiers", VERIFIED),
    when=TIERED,
)
def tier_missing_amount(entry: Entry, parsed: Parsed) -> Iterator[Finding]:
    amounts = [key for pair in TIER_AMOUNT_PAIRS for key in pair]
    for path, tiers in parsed.tier_tables:
        for index, tier in enumerate(tiers):
            if not any(has(as_map(tier), key) for key in amounts):
                yield Finding(
                    entry.where(*path, index),
                    f"{field_name((*path, index))} of {entry.label()} has no amount",
                    f'set unit_amount and/or flat_amount (0 counts); Stripe would answer: "{TIER_WITHOUT_AMOUNT}"',
                )


@entry_rule(
    "tiers-with-transform",
    "no tiers together with a quantity transform",
    Basis(PRICE_DOC + "#create_price-transform_quantity", VERIFIED),
    when=("tiers",),
)
def tiers_with_transform(entry: Entry) -> Iterator[Finding]:
    key = transform_key(entry)
    if as_list(entry.data.get("tiers")) and has(entry.data, key):
        yield Finding(
            entry.where(key, key=True),
            f"{entry.label()} has both tiers and {key}; Stripe cannot transform the quantity of a tiered price",
            f'Stripe would answer: "{ONE_OF_PARAMS.format(params=f"tiers, {key}")}" '
            "Scale the tiers' up_to bounds instead, or use a per_unit price with the transform",
        )


@parsed_rule("too-many-tiers", f"more than {MAX_TIERS.value} tiers", Basis.of(MAX_TIERS), severity=WARNING, when=TIERED)
def too_many_tiers(entry: Entry, parsed: Parsed) -> Iterator[Finding]:
    for path, tiers in parsed.tier_tables:
        if len(tiers) > MAX_TIERS.value:
            yield Finding(
                entry.where(*path, key=True),
                f"{entry.label()} has {len(tiers)} tiers"
                + (f" in {field_name(path)}" if len(path) > 1 else "")
                + f"; Stripe documents no limit, "
                f"but more than {MAX_TIERS.value} is untested",
                "merge tiers, or try the price in a Stripe sandbox first",
            )
