"""The four kinds of Stripe object a catalog describes, and the order Stripe needs them created in."""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    """The four kinds of catalog object, in the order they must be created."""

    METER = "meter"
    PRODUCT = "product"
    PRICE = "price"
    PLAN = "plan"


#: creation order: a price needs its product and meter, a product's default_price needs the price
KIND_ORDER: tuple[Kind, ...] = (Kind.METER, Kind.PRODUCT, Kind.PRICE, Kind.PLAN)
