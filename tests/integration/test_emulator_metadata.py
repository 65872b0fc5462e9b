"""Stripe's limit of 50 metadata keys, through the real SDK: it holds for the object as a request leaves it (an
update's keys join the ones the object has; the ones it unsets with "" leave), on products, prices and plans."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
import stripe

from compiler.stripe.facts import METADATA_KEYS, TOO_MANY_METADATA_KEYS

LIMIT = METADATA_KEYS.value
PLAN_NUMBERS = itertools.count()


def keys(count: int, prefix: str = "k") -> dict[str, str]:
    return {f"{prefix}{n}": "v" for n in range(count)}


def _product(client: stripe.StripeClient, metadata: dict[str, str]) -> str:
    return client.v1.products.create(params={"name": "Other", "metadata": metadata}).id


def _price(client: stripe.StripeClient, metadata: dict[str, str]) -> str:
    params: Any = {"product": "suite", "currency": "usd", "unit_amount": 5, "metadata": metadata}
    return client.v1.prices.create(params=params).id


def _plan(client: stripe.StripeClient, metadata: dict[str, str]) -> str:
    params: Any = {
        "id": f"gold_{next(PLAN_NUMBERS)}",
        "product": "suite",
        "currency": "usd",
        "amount": 2000,
        "interval": "month",
        "metadata": metadata,
    }
    return client.v1.plans.create(params=params).id


Make = Callable[[stripe.StripeClient, dict[str, str]], str]
KINDS: dict[str, tuple[Make, str]] = {
    "product": (_product, "/v1/products/{id}"),
    "price": (_price, "/v1/prices/{id}"),
    "plan": (_plan, "/v1/plans/{id}"),
}
kinds = pytest.mark.parametrize("kind", list(KINDS))


def update(client: stripe.StripeClient, kind: str, object_id: str, metadata: dict[str, str]) -> dict[str, Any]:
    path = KINDS[kind][1].format(id=object_id)
    metadata_after: dict[str, Any] = client.raw_request("post", path, metadata=metadata).data["metadata"]
    return metadata_after


def metadata_of(client: stripe.StripeClient, kind: str, object_id: str) -> dict[str, Any]:
    metadata: dict[str, Any] = client.raw_request("get", KINDS[kind][1].format(id=object_id)).data["metadata"]
    return metadata


@kinds
def test_a_create_with_more_than_50_keys_is_refused(client: stripe.StripeClient, kind: str) -> None:
    make = KINDS[kind][0]
    object_id = make(client, keys(LIMIT))
    assert metadata_of(client, kind, object_id) == keys(LIMIT)
    with pytest.raises(stripe.InvalidRequestError) as info:
        make(client, keys(LIMIT + 1))
    assert info.value.http_status == 400
    assert info.value.user_message == TOO_MANY_METADATA_KEYS.format(limit=LIMIT, count=LIMIT + 1)


@kinds
def test_an_update_that_leaves_more_than_50_keys_is_refused_and_changes_nothing(
    client: stripe.StripeClient, kind: str
) -> None:
    object_id = KINDS[kind][0](client, keys(LIMIT - 1))
    with pytest.raises(stripe.InvalidRequestError) as info:
        update(client, kind, object_id, {"extra": "1", "more": "2"})  # two keys sent, 51 on the object
    assert info.value.http_status == 400
    assert info.value.user_message == TOO_MANY_METADATA_KEYS.format(limit=LIMIT, count=LIMIT + 1)
    assert metadata_of(client, kind, object_id) == keys(LIMIT - 1)


@kinds
def test_keys_an_update_unsets_make_room_for_the_ones_it_sets(client: stripe.StripeClient, kind: str) -> None:
    object_id = KINDS[kind][0](client, keys(LIMIT))
    # 50 keys unset and 50 set in one request: the object has 50 after it
    sent = {**{key: "" for key in keys(LIMIT)}, **keys(LIMIT, "new")}
    assert update(client, kind, object_id, sent) == keys(LIMIT, "new")
    # one unset, one set: still 50
    assert len(update(client, kind, object_id, {"new0": "", "other": "x"})) == LIMIT
