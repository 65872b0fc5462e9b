"""Customer-chosen amounts (`custom_unit_amount`, "pay what you want"): enabled, bounded, and only on a
per-unit price."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from compiler.catalog.rules.reading import Parsed, Site, as_list, field_name, has, is_int, param_name, scheme, show
from compiler.catalog.rules.registry import WARNING, Basis, Cover, Finding, entry_rule, parsed_rule
from compiler.catalog.schema.messages import REQUIRED
from compiler.catalog.source import Entry
from compiler.stripe.facts import INFERRED, MISSING_PARAM, PRICE_DOC, UNVERIFIED, VERIFIED
from compiler.stripe.kinds import Kind


def _custom_sites(parsed: Parsed) -> Iterator[tuple[Site, Mapping[str, Any]]]:
    for site in parsed.sites:
        custom = site.data.get("custom_unit_amount")
        if isinstance(custom, dict):
            yield site, custom


@parsed_rule(
    "custom-unit-amount-enabled",
    "custom_unit_amount has enabled: true",
    Basis(PRICE_DOC + "#create_price-custom_unit_amount-enabled", VERIFIED),
    kinds=(Kind.PRICE,),
    when=("custom_unit_amount", "currency_options"),
    covers=(Cover(REQUIRED, ("**", "custom_unit_amount", "enabled")),),
)
def custom_unit_amount_enabled(entry: Entry, parsed: Parsed) -> Iterator[Finding]:
    for site, custom in _custom_sites(parsed):
        if custom.get("enabled") is not True:
            path = (*site.path, "custom_unit_amount")
            missing = "enabled" not in custom
            yield Finding(
                entry.where(*path, *(() if missing else ("enabled",))),
                f"{field_name(path)} of {entry.label()} "
                + ("lacks enabled: true" if missing else f"has enabled: {show(custom.get('enabled'))}"),
                "add enabled: true; to turn the feature off, remove custom_unit_amount and set unit_amount"
                + (
                    f'; Stripe would answer: "{MISSING_PARAM.format(param=param_name((*path, "enabled")))}"'
                    if missing
                    else ""
                ),
            )


@parsed_rule(
    "custom-unit-amount-range",
    "custom_unit_amount minimum ≤ preset ≤ maximum",
    Basis(PRICE_DOC + "#create_price-custom_unit_amount", INFERRED),
    kinds=(Kind.PRICE,),
    when=("custom_unit_amount", "currency_options"),
)
def custom_unit_amount_range(entry: Entry, parsed: Parsed) -> Iterator[Finding]:
    for site, custom in _custom_sites(parsed):
        low, preset, high = (custom.get(k) for k in ("minimum", "preset", "maximum"))
        path = (*site.path, "custom_unit_amount")
        checks = (
            ("minimum", low, "maximum", high),
            ("minimum", low, "preset", preset),
            ("preset", preset, "maximum", high),
        )
        for small_key, small, big_key, big in checks:
            if is_int(small) and is_int(big) and small > big:
                yield Finding(
                    entry.where(*path, big_key),
                    f"{field_name(path)} of {entry.label()} has {small_key} {small} above {big_key} {big}",
                    "the customer picks an amount between minimum and maximum, starting at preset: "
                    "keep minimum ≤ preset ≤ maximum",
                )


@entry_rule(
    "custom-unit-amount-with-tiers",
    "custom_unit_amount not on a tiered price",
    Basis(PRICE_DOC + "#create_price-custom_unit_amount", INFERRED),
    kinds=(Kind.PRICE,),
    when=("custom_unit_amount",),
)
def custom_unit_amount_with_tiers(entry: Entry) -> Iterator[Finding]:
    if has(entry.data, "custom_unit_amount") and (scheme(entry.data) == "tiered" or as_list(entry.data.get("tiers"))):
        yield Finding(
            entry.where("custom_unit_amount", key=True),
            f"{entry.label()} lets the customer choose the amount (custom_unit_amount) but is also tiered",
            "use either custom_unit_amount on a per_unit price, or tiers",
        )


@entry_rule(
    "custom-unit-amount-recurring",
    "custom_unit_amount on a recurring price",
    Basis(PRICE_DOC + "#create_price-custom_unit_amount", UNVERIFIED),
    kinds=(Kind.PRICE,),
    severity=WARNING,
    when=("custom_unit_amount",),
)
def custom_unit_amount_recurring(entry: Entry) -> Iterator[Finding]:
    if has(entry.data, "custom_unit_amount") and has(entry.data, "recurring"):
        yield Finding(
            entry.where("custom_unit_amount", key=True),
            f"{entry.label()} is recurring but lets the customer choose the amount; Stripe documents "
            "custom_unit_amount for Checkout Sessions and Payment Links (one-time payments)",
            "remove recurring for a pay-what-you-want price, or set unit_amount",
        )
