"""Product rules: a product has a name, and every price or plan belongs to exactly one product."""

from __future__ import annotations

from collections.abc import Iterator

from compiler.catalog.rules.reading import has, is_nested
from compiler.catalog.rules.registry import OWN, Basis, Cover, Finding, entry_rule
from compiler.catalog.schema.messages import LENGTH, NESTED_PRODUCT, REQUIRED, UNKNOWN_FIELD
from compiler.catalog.source import Entry
from compiler.stripe.facts import INFERRED, PRICE_DOC, PRODUCT_DOC, VERIFIED
from compiler.stripe.kinds import Kind


@entry_rule(
    "product-name-required",
    "a product has a name",
    Basis(PRODUCT_DOC + "#create_product-name", VERIFIED),
    (Kind.PRODUCT,),
    covers=(Cover(REQUIRED, ("name",)), Cover(LENGTH, ("name",))),
)
def product_name_required(entry: Entry) -> Iterator[Finding]:
    name = entry.data.get("name")
    if not isinstance(name, str) or not name.strip():
        yield Finding(
            entry.where(), f"{entry.label()} has no name", "add name: (what customers see on invoices and receipts)"
        )


@entry_rule(
    "missing-product",
    "a top-level price or plan names its product",
    Basis(PRICE_DOC + "#create_price-product", INFERRED),
    covers=(Cover(REQUIRED, ("product",)),),
)
def missing_product(entry: Entry) -> Iterator[Finding]:
    if not is_nested(entry) and not has(entry.data, "product"):
        yield Finding(
            entry.where(),
            f"{entry.label()} belongs to no product",
            f"add product: <a product id of the catalog>, or nest the {entry.kind.value} under its product's prices:"
            if entry.kind is Kind.PRICE
            else "add product: <a product id of the catalog>",
        )


@entry_rule(
    "nested-price-product",
    "a price nested under a product does not name a product",
    OWN,
    (Kind.PRICE,),
    when=("product", "product_data"),
    covers=(Cover(NESTED_PRODUCT, ("product",)), Cover(UNKNOWN_FIELD, ("product_data",))),
)
def nested_price_product(entry: Entry) -> Iterator[Finding]:
    if not is_nested(entry):
        return
    for key in ("product", "product_data"):
        if key in entry.data:
            yield Finding(
                entry.where(key, key=True),
                f"{entry.label()} is nested under product {entry.nested_in!r} and also sets {key}",
                f"remove {key}: a nested price belongs to the product it is nested under",
            )
