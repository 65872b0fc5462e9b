"""Catalog-wide identity rules: each identity is defined once, and every reference names an object of the
catalog."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Sequence

from compiler.catalog.rules.reading import PRICED, is_nested, recurring_of
from compiler.catalog.rules.registry import Basis, Finding, catalog_rule
from compiler.catalog.source import Entry
from compiler.stripe.facts import INFERRED, LOOKUP_KEY_TAKEN, METER_DOC, PLAN_DOC, PRICE_DOC, PRODUCT_DOC, VERIFIED
from compiler.stripe.kinds import IDENTITY_FIELD, Kind


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


@catalog_rule(
    "duplicate-lookup-key",
    "each price lookup_key once in the catalog",
    Basis(PRICE_DOC + "#create_price-transfer_lookup_key", VERIFIED),
)
def duplicate_lookup_key(entries: Sequence[Entry]) -> Iterator[Finding]:
    yield from _duplicate_findings(
        entries,
        Kind.PRICE,
        "lookup_key",
        f'lookup keys are unique across the account (Stripe: "{LOOKUP_KEY_TAKEN.format(price="price_...")}"); '
        "rename one of them",
    )


@catalog_rule(
    "duplicate-product", "each product id once in the catalog", Basis(PRODUCT_DOC + "#create_product-id", VERIFIED)
)
def duplicate_product(entries: Sequence[Entry]) -> Iterator[Finding]:
    yield from _duplicate_findings(
        entries, Kind.PRODUCT, "product id", "product ids are unique per account; merge the two or rename one"
    )


@catalog_rule("duplicate-plan", "each plan id once in the catalog", Basis(PLAN_DOC + "#create_plan-id", VERIFIED))
def duplicate_plan(entries: Sequence[Entry]) -> Iterator[Finding]:
    yield from _duplicate_findings(
        entries, Kind.PLAN, "plan id", "plan ids are unique per account; merge the two or rename one"
    )


@catalog_rule(
    "duplicate-meter",
    "each meter event_name once in the catalog",
    Basis(METER_DOC + "#create_billing_meter-event_name", VERIFIED),
)
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


@catalog_rule(
    "unknown-product",
    "a price's or plan's product is a product of the catalog",
    Basis(PRICE_DOC + "#create_price-product", VERIFIED),
)
def unknown_product(entries: Sequence[Entry]) -> Iterator[Finding]:
    products = _identities(entries, Kind.PRODUCT)
    for entry in entries:
        if entry.kind not in PRICED or is_nested(entry):
            continue
        product = entry.data.get("product")
        if isinstance(product, str) and product not in products:
            yield Finding(
                entry.where("product"),
                f"{entry.label()} names product {product!r}, which the catalog does not define"
                + _did_you_mean(product, products),
                "define the product under products: (in any file), or fix the id",
            )


@catalog_rule(
    "unknown-meter",
    "the meter a price or plan names is a meter of the catalog",
    Basis(PRICE_DOC + "#create_price-recurring-meter", VERIFIED),
)
def unknown_meter(entries: Sequence[Entry]) -> Iterator[Finding]:
    meters = _identities(entries, Kind.METER)
    for entry in entries:
        recurring = recurring_of(entry) if entry.kind in PRICED else None
        meter = recurring.data.get("meter") if recurring is not None else None
        if recurring is not None and isinstance(meter, str) and meter not in meters:
            yield Finding(
                entry.where(*recurring.prefix, "meter"),
                f"{entry.label()} is billed by meter {meter!r}, which the catalog does not define"
                + _did_you_mean(meter, meters),
                "define it under meters: with that event_name (pricebook creates it and links its id)",
            )


@catalog_rule(
    "unknown-default-price",
    "a product's default_price is the lookup_key of one of its prices",
    Basis("https://docs.stripe.com/api/products/update#update_product-default_price", INFERRED),
)
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


@catalog_rule(
    "archived-default-price",
    "a product's default_price is not a price the catalog archives",
    Basis("https://docs.stripe.com/api/products/update#update_product-default_price", INFERRED),
)
def archived_default_price(entries: Sequence[Entry]) -> Iterator[Finding]:
    # Stripe refuses to archive a product's default price ("This price cannot be archived because it is the
    # default price of its product.") and takes only an active price as one: no apply could reach this catalog
    archived = {
        entry.identity
        for entry in entries
        if entry.kind is Kind.PRICE and entry.identity is not None and entry.data.get("active") is False
    }
    for entry in entries:
        key = entry.data.get("default_price") if entry.kind is Kind.PRODUCT else None
        if isinstance(key, str) and key in archived:
            yield Finding(
                entry.where("default_price"),
                f"{entry.label()} names default_price {key!r}, a price the catalog archives (active: false); "
                "Stripe keeps a product's default price active",
                f"make {key!r} active, or give the product another default_price (or none)",
            )

