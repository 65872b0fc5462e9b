"""Quantity transform rules: `transform_quantity` (a plan's `transform_usage`) divides the quantity before it
is priced, only on per-unit prices."""

from __future__ import annotations

from collections.abc import Iterator

from compiler.catalog.rules.reading import as_list, has, is_int, scheme, show, transform_key
from compiler.catalog.rules.registry import Basis, Cover, Finding, entry_rule
from compiler.catalog.schema.messages import ENUM, RANGE, REQUIRED, TYPE
from compiler.catalog.source import Entry
from compiler.stripe.facts import INFERRED, PLAN_NAME_OF, PRICE_DOC, VERIFIED

_TRANSFORMS = ("transform_quantity", PLAN_NAME_OF["transform_quantity"])
#: the schema's errors `transform-invalid` says better: not a mapping, divide_by or round missing, divide_by
#: below 1, round neither up nor down (a divide_by of the wrong type keeps the schema's "remove the quotes")
_TRANSFORM_ERRORS = tuple(
    Cover(schema_rule, (key, *path))
    for key in _TRANSFORMS
    for schema_rule, path in (
        (TYPE, ()),
        (REQUIRED, ("divide_by",)),
        (REQUIRED, ("round",)),
        (RANGE, ("divide_by",)),
        (ENUM, ("round",)),
    )
)


@entry_rule(
    "transform-needs-per-unit",
    "a quantity transform only with billing_scheme: per_unit",
    Basis(PRICE_DOC + "#create_price-transform_quantity", INFERRED),
    when=_TRANSFORMS,
)
def transform_needs_per_unit(entry: Entry) -> Iterator[Finding]:
    key = transform_key(entry)
    # with tiers present, `tiers-with-transform` already says it better
    if scheme(entry.data) == "tiered" and has(entry.data, key) and not as_list(entry.data.get("tiers")):
        yield Finding(
            entry.where(key, key=True),
            f"{entry.label()} is tiered, but {key} works only with billing_scheme: per_unit",
            f"remove {key}, or use billing_scheme: per_unit",
        )


@entry_rule(
    "transform-invalid",
    "a transform has divide_by ≥ 1 and round up or down",
    Basis(PRICE_DOC + "#create_price-transform_quantity", VERIFIED),
    when=_TRANSFORMS,
    covers=_TRANSFORM_ERRORS,
)
def transform_invalid(entry: Entry) -> Iterator[Finding]:
    key = transform_key(entry)
    if not has(entry.data, key):
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
    if not (is_int(divide_by) and divide_by >= 1):
        yield Finding(
            entry.where(key, "divide_by"),
            f"{key}.divide_by of {entry.label()} is {'missing' if divide_by is None else show(divide_by)}; "
            "it must be a whole number of at least 1",
            "divide_by is how many units make one billed unit, e.g. 5 for 'per 5 users'",
        )
    if rounding not in ("up", "down"):
        yield Finding(
            entry.where(key, "round"),
            f"{key}.round of {entry.label()} is {'missing' if rounding is None else show(rounding)}; "
            "it must be up or down",
            "round: up bills a started group in full, round: down only complete groups",
        )
