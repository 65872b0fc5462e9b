"""The four kinds of Stripe object a catalog describes: the order Stripe needs them created in, where a catalog
file lists them and the field that identifies each."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class Kind(StrEnum):
    """The four kinds of catalog object, in the order they must be created."""

    METER = "meter"
    PRODUCT = "product"
    PRICE = "price"
    PLAN = "plan"


#: creation order: a price needs its product and meter, a product's default_price needs the price
KIND_ORDER: tuple[Kind, ...] = (Kind.METER, Kind.PRODUCT, Kind.PRICE, Kind.PLAN)

#: the top-level list of each kind in a catalog file, in creation order
SECTION: Mapping[Kind, str] = {Kind.METER: "meters", Kind.PRODUCT: "products", Kind.PRICE: "prices", Kind.PLAN: "plans"}

#: the field that identifies an object of each kind, in the catalog and in Stripe
IDENTITY_FIELD: Mapping[Kind, str] = {
    Kind.METER: "event_name",
    Kind.PRODUCT: "id",
    Kind.PRICE: "lookup_key",
    Kind.PLAN: "id",
}
