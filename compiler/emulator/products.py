"""Product records: the field checks, the record a create stores (a product's own, a price's `product_data`, a plan's
inline `product`), and the product as a price shows it when it expands its product.

Below prices.py, which names and creates products; the /v1/products endpoints, which expand a product's default
price and create one from `default_price_data`, sit above both in product_endpoints.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from compiler.emulator.common import check_length, check_metadata, merge_metadata, public
from compiler.emulator.errors import already_exists, invalid
from compiler.emulator.store import Record, Store
from compiler.stripe.facts import (
    MARKETING_FEATURE_NAME,
    MARKETING_FEATURES,
    PRODUCT_DESCRIPTION,
    PRODUCT_IMAGES,
    STATEMENT_DESCRIPTOR,
    STATEMENT_DESCRIPTOR_FORBIDDEN,
    STRING_LENGTH,
    UNIT_LABEL,
)

LIMITS = {
    "name": STRING_LENGTH.value,
    "description": PRODUCT_DESCRIPTION.value,
    "statement_descriptor": STATEMENT_DESCRIPTOR.value,
    "unit_label": UNIT_LABEL.value,
    "url": STRING_LENGTH.value,
}
UNSETTABLE = (
    "description",
    "images",
    "marketing_features",
    "package_dimensions",
    "tax_code",
    "tax_details",
    "unit_label",
    "url",
)
#: the fields Stripe keeps as an empty list rather than null when unset
EMPTY_LIST_FIELDS = ("images", "marketing_features")


def check_fields(
    params: Mapping[str, Any], param_prefix: str = "", *, metadata: Mapping[str, str] | None = None
) -> None:
    """A product's fields as a create or an update gives them; `metadata` is what an updated product has."""

    def name(key: str) -> str:
        return f"{param_prefix}[{key}]" if param_prefix else key

    for key, limit in LIMITS.items():
        check_length(params.get(key), name(key), limit)
    descriptor = params.get("statement_descriptor")
    if isinstance(descriptor, str):
        if any(c in descriptor for c in STATEMENT_DESCRIPTOR_FORBIDDEN):
            raise invalid(
                "The statement descriptor may not include `<`, `>`, `\\`, `\"`, `'`.",
                param=name("statement_descriptor"),
            )
        if not any(c.isalpha() for c in descriptor):
            raise invalid(
                "The statement descriptor must contain at least one letter.", param=name("statement_descriptor")
            )
    images = params.get("images")
    if isinstance(images, list) and len(images) > PRODUCT_IMAGES.value:
        raise invalid(f"You can specify up to {PRODUCT_IMAGES.value} images.", param=name("images"))
    features = params.get("marketing_features")
    if isinstance(features, list) and len(features) > MARKETING_FEATURES.value:
        raise invalid(
            f"You can specify up to {MARKETING_FEATURES.value} marketing features.", param=name("marketing_features")
        )
    for index, feature in enumerate(features if isinstance(features, list) else []):
        if isinstance(feature, Mapping):
            param = f"{name('marketing_features')}[{index}][name]"
            check_length(feature.get("name"), param, MARKETING_FEATURE_NAME.value)
    check_metadata(params.get("metadata"), name("metadata"), metadata)


def create_product_record(store: Store, params: Mapping[str, Any], *, param: str = "") -> Record:
    """Check and store a product (also used for a price's `product_data` and a plan's inline `product`)."""
    check_fields(params, param)
    product_id = params.get("id") or store.new_id("prod_")
    if product_id in store.products:
        raise already_exists("Product already exists.", param=f"{param}[id]" if param else "id")
    now = store.now()
    record: Record = {
        "id": product_id,
        "object": "product",
        "active": params.get("active", True),
        "created": now,
        "default_price": None,
        "description": params.get("description"),
        "images": list(params.get("images") or []),
        "livemode": False,
        "marketing_features": [dict(f) for f in params.get("marketing_features") or []],
        "metadata": merge_metadata({}, params.get("metadata") or {}),
        "name": params["name"],
        "package_dimensions": params.get("package_dimensions"),
        "shippable": params.get("shippable"),
        "statement_descriptor": params.get("statement_descriptor"),
        "tax_code": params.get("tax_code"),
        "tax_details": params.get("tax_details"),
        "type": params.get("type", "service"),
        "unit_label": params.get("unit_label"),
        "updated": now,
        "url": params.get("url"),
        "_seq": store.next_seq(),
    }
    store.products[product_id] = record
    return record


def product_view(record: Record) -> Record:
    """The product as the API shows it, its default price as an id."""
    return public(record)
