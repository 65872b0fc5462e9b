"""Product rules: a product has a name and dimensions Stripe takes, and every price or plan belongs to exactly
one product."""

from __future__ import annotations

import math
from collections.abc import Iterator
from decimal import Decimal

from compiler.catalog.rules.reading import as_map, has, is_nested
from compiler.catalog.rules.registry import OWN, Basis, Cover, Finding, entry_rule
from compiler.catalog.schema.messages import LENGTH, NESTED_PRODUCT, REQUIRED, UNKNOWN_FIELD
from compiler.catalog.source import Entry
from compiler.stripe.facts import INFERRED, PACKAGE_DIMENSION_PLACES, PRICE_DOC, PRODUCT_DOC, VERIFIED
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
    "package-dimensions-format",
    f"package_dimensions are plain numbers with at most {PACKAGE_DIMENSION_PLACES.value} decimal places, which "
    "Stripe keeps as written",
    Basis.of(PACKAGE_DIMENSION_PLACES),
    (Kind.PRODUCT,),
    when=("package_dimensions",),
)
def package_dimensions_format(entry: Entry) -> Iterator[Finding]:
    # A number goes to Stripe as Python writes it (the SDK form-encodes str(value)): 1.255 would be refused, and
    # 1e+16 or 1e-05 is exponent notation, which Stripe does not document for numbers
    most = PACKAGE_DIMENSION_PLACES.value
    dimensions = as_map(entry.data.get("package_dimensions"))
    for name in ("height", "length", "weight", "width"):
        value = dimensions.get(name)
        unit = "ounces" if name == "weight" else "inches"
        where = entry.where("package_dimensions", name)
        field = f"package_dimensions.{name}"
        if isinstance(value, int) and not isinstance(value, bool) and float(value) != value:
            # Stripe returns a dimension as a JSON number, a float: 2**53 + 1 comes back as 2**53 and the plan
            # would never match the account
            yield Finding(
                where,
                f"`{field}` of {entry.label()} is {value}, more digits than Stripe keeps for a number "
                f"(it would store {int(float(value))})",
                f"write it with at most 15 significant digits, in {unit}",
            )
            continue
        if not isinstance(value, float):
            continue  # an integer is plain; the schema reports anything that is not a number
        if not math.isfinite(value):
            message = f"`{field}` of {entry.label()} is {value}, not a number Stripe takes"
            yield Finding(where, message, f"give it in {unit}, e.g. 12.5")
            continue
        number = Decimal(repr(value))
        exponent = number.normalize().as_tuple().exponent
        places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        if places > most:
            yield Finding(
                where,
                f"`{field}` of {entry.label()} is {number:f}; Stripe takes at most {most} decimal places",
                f"round it to {most} decimal places ({unit}): {number.quantize(Decimal(1).scaleb(-most)):f}",
            )
        elif "e" in repr(value):
            yield Finding(
                where,
                f"`{field}` of {entry.label()} is {value!r}, which would go to Stripe in exponent notation; Stripe "
                "takes plain decimal numbers",
                f"write it as a whole number: {int(value)}",
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
