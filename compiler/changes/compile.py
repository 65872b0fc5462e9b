"""The catalog as the ordered API calls that create it in an empty account.

Order: meters, then products, then prices and plans, then each product's `default_price` (the price must exist
first, and `default_price_data` on product create takes no tiers, meter or transform:
https://docs.stripe.com/api/products/create#create_product-default_price_data).

Params are exactly what the user wrote (plus the ownership metadata the model already added): no defaults are
filled in, so Stripe's documented examples come out parameter for parameter. References become Stripe ids
through `ref`: pricebook creates products with their catalog ids, so in an empty account a price's `product` is
used as written (in an account where a product was adopted, `ref` gives its Stripe id); meter and price ids exist
only after their create call, so in an empty account they are placeholders (`{{meter.emails_sent}}`) that apply
resolves from the responses it has seen.

`create_call` and `default_price_call` are also the building blocks the diff uses for its creates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import quote

from compiler.changes.model import Catalog, Resource
from compiler.stripe.calls import PLACEHOLDER, ApiCall, CallAction, placeholder
from compiler.stripe.fields import REPLACES_KEY, SPECS, currency_options_to_send
from compiler.stripe.kinds import Kind

#: how a call names the Stripe id of a referenced object: a live id, or a placeholder when it doesn't exist yet
Ref = Callable[[Kind, str], str]

#: catalog fields that are not body parameters of the create call
_NOT_CREATE_PARAMS: Mapping[Kind, frozenset[str]] = {
    # a nested price list is catalog structure; default_price is update-only (set by default_price_call)
    Kind.PRODUCT: frozenset({"prices", "default_price"}),
    # POST /v1/billing/meters takes no `status` (400 parameter_unknown): a meter is created active and changes
    # status only through /deactivate and /reactivate
    Kind.METER: frozenset({"status"}),
}


def placeholder_ref(kind: Kind, key: str) -> str:
    """The `ref` for an empty account: a product is created with its catalog id; any other referenced id is a
    placeholder."""
    return key if kind is Kind.PRODUCT else placeholder(f"{kind.value}.{key}")


def create_call(resource: Resource, ref: Ref, *, replaces: str | None = None) -> ApiCall:
    """The POST that creates `resource`, with meter references turned into ids by `ref`.

    `replaces` (prices only) is the id of the live price this one replaces: the lookup_key moves from it
    (`transfer_lookup_key=true`), and the new price records it in metadata (`REPLACES_KEY`), in the same call, so
    the old version stays identifiable as pricebook's own if the apply stops before archiving it.
    """
    if replaces is not None and resource.kind is not Kind.PRICE:
        raise ValueError(f"only a price replaces another, not {resource.address}")
    skip = _NOT_CREATE_PARAMS.get(resource.kind, frozenset())
    # A shallow copy: nested values are shared with the catalog (both are read-only plain data by contract),
    # and the one nested value rewritten, `recurring`, is copied first. Compiling 10,000 prices stays cheap.
    params: dict[str, Any] = {k: v for k, v in resource.params.items() if k not in skip}
    found: list[str] = []  # the placeholders `ref` gave, in order
    if resource.kind in (Kind.PRICE, Kind.PLAN) and isinstance(params.get("product"), str):
        params["product"] = _ref(ref, Kind.PRODUCT, params["product"], found)
    if resource.kind is Kind.PRICE:
        recurring = params.get("recurring")
        if isinstance(recurring, Mapping) and isinstance(recurring.get("meter"), str):
            params["recurring"] = {**recurring, "meter": _ref(ref, Kind.METER, recurring["meter"], found)}
        options = currency_options_to_send(params)
        if options is not None:
            params["currency_options"] = options
        if replaces is not None:
            params["transfer_lookup_key"] = True
            params["metadata"] = {**(params.get("metadata") or {}), REPLACES_KEY: replaces}
    elif resource.kind is Kind.PLAN and isinstance(params.get("meter"), str):
        params["meter"] = _ref(ref, Kind.METER, params["meter"], found)
    return ApiCall(
        method="POST",
        path=SPECS[resource.kind].path,
        params=params,
        address=resource.address,
        action=CallAction.CREATE,
        creates=resource.address,
        depends_on=tuple(dict.fromkeys(found)),
    )


def default_price_call(product_key: str, product_id: str, price_id: str) -> ApiCall:
    """POST /v1/products/{id} setting the product's default_price (a price id or a placeholder for one)."""
    params = {"default_price": price_id}
    return ApiCall(
        method="POST",
        path=f"{SPECS[Kind.PRODUCT].path}/{path_id(product_id)}",
        params=params,
        address=f"{Kind.PRODUCT.value}.{product_key}",
        action=CallAction.SET_DEFAULT_PRICE,
        creates=None,
        depends_on=tuple(PLACEHOLDER.findall(price_id)),
    )


def compile_catalog(catalog: Catalog) -> list[ApiCall]:
    """Every call that builds `catalog` in an empty account, in stage order (`stripe.calls.Stage`)."""
    return list(iter_calls(catalog))


def iter_calls(catalog: Catalog) -> Iterator[ApiCall]:
    """`compile_catalog`, one call at a time: 100,000 prices are written out without holding their calls."""
    # Catalog keeps resources in creation order (meters, products, prices, plans), file order within a kind:
    # the creates come stage by stage as they are made, and the default price moves follow them.
    for resource in catalog:
        yield create_call(resource, placeholder_ref)
    for product in catalog.of_kind(Kind.PRODUCT):
        default = product.params.get("default_price")
        if isinstance(default, str):
            yield default_price_call(product.key, product.key, placeholder_ref(Kind.PRICE, default))


def path_id(value: str) -> str:
    """An id as one URL path segment. Placeholders stay readable (apply resolves them before sending)."""
    if PLACEHOLDER.fullmatch(value):
        return value
    return quote(value, safe="-_.~")


def _ref(ref: Ref, kind: Kind, key: str, found: list[str]) -> str:
    value = ref(kind, key)
    found.extend(PLACEHOLDER.findall(value))
    return value
