"""Stripe's 50 metadata keys, counted on the object as an update or an adoption leaves it: the diff reports a
problem before anything is sent rather than a call Stripe refuses half way through an apply (pure)."""

from __future__ import annotations

from typing import Any

from compiler.changes.changeset import ChangeSet
from compiler.changes.diff import diff
from compiler.changes.model import Catalog
from compiler.changes.problems import TOO_MANY_METADATA_KEYS
from compiler.stripe.facts import METADATA_KEYS
from compiler.stripe.fields import (
    MANAGED_BY_KEY,
    MANAGED_METADATA,
    PRICEBOOK_ID_KEY,
    REPLACES_KEY,
    canonical,
    metadata_after,
)
from compiler.stripe.kinds import Kind
from compiler.stripe.state import LiveObject
from tests.unit.test_adopt_diff import account, adopting, by_hand
from tests.unit.test_diff import EMAILS, GOLD, METER, PRODUCT, SEATS, live, res, state

#: the most metadata keys a catalog entry may have (validate's limit: Stripe's, less pricebook's two)
CATALOG_MOST = METADATA_KEYS.value - 2


def keys(count: int, prefix: str = "k") -> dict[str, str]:
    return {f"{prefix}{n}": "v" for n in range(count)}


def read(kind: Kind, object_id: str, key: str | None, raw_metadata: dict[str, str], **params: Any) -> LiveObject:
    """An object as the account reader makes it from what Stripe sends (`raw_metadata` is all of its metadata)."""
    raw = {"id": object_id, **params, "metadata": raw_metadata}
    managed = raw_metadata.get(MANAGED_BY_KEY) == "pricebook"
    return LiveObject(kind, object_id, key, managed, canonical(kind, raw), raw, raw_metadata.get(REPLACES_KEY))


def problem_rules(changeset: ChangeSet) -> list[tuple[str, str]]:
    return [(p.address, p.rule) for p in changeset.problems]


def test_metadata_after_merges_sets_and_unsets_into_what_the_object_has() -> None:
    assert metadata_after({"a": "1", "b": "2"}, {"a": "", "c": "3"}) == {"b": "2", "c": "3"}
    assert metadata_after(None, {"a": "1", "b": ""}) == {"a": "1"}


# -- adopting --------------------------------------------------------------------------------------------------


def _product_catalog(count: int) -> Catalog:
    product = res(Kind.PRODUCT, "suite", name="Suite", default_price="seats", metadata=keys(count))
    return adopting(catalog=Catalog.of([METER, product, SEATS, EMAILS, GOLD]))


def _hand_product(metadata: dict[str, str]) -> LiveObject:
    return read(
        Kind.PRODUCT, "prod_E9aWj8Nap9i0Ub", "prod_E9aWj8Nap9i0Ub", metadata, name="Suite", default_price="price_1Seats"
    )


def test_adopting_an_object_full_of_keys_unsets_them_and_fits() -> None:
    # 50 keys by hand, 48 in the catalog: the adoption unsets the 50, sets the 48 and pricebook's 2
    changeset = diff(_product_catalog(CATALOG_MOST), account(by_hand(product=_hand_product(keys(50, "hand")))))
    assert changeset.problems == ()
    (call,) = [c for c in changeset.calls if c.address == "product.suite" and c.action == "adopt"]
    assert len(metadata_after(keys(50, "hand"), call.params["metadata"])) == METADATA_KEYS.value


def test_adopting_an_object_whose_own_keys_pricebook_keeps_would_pass_the_limit_is_a_problem() -> None:
    # a product made by hand that carries pricebook_replaces (copied from a price, say): the adoption keeps it, so
    # the product would have the catalog's 48, managed_by, pricebook_id and pricebook_replaces
    hand = _hand_product({**keys(49, "hand"), REPLACES_KEY: "price_1Old"})
    changeset = diff(_product_catalog(CATALOG_MOST), account(by_hand(product=hand)))
    assert problem_rules(changeset) == [("product.suite", TOO_MANY_METADATA_KEYS.id)]
    (problem,) = changeset.problems
    assert problem.message == (
        "after this adoption, product prod_E9aWj8Nap9i0Ub would have 51 metadata keys (the catalog's 48, "
        "managed_by, pricebook_id, and pricebook_replaces, which the product has and the adoption keeps), and Stripe "
        "allows 50 (https://docs.stripe.com/api/metadata)"
    )
    assert problem.hint == (
        "remove metadata pricebook_replaces from product prod_E9aWj8Nap9i0Ub in the Dashboard, or keep at most 47 "
        "metadata keys in the catalog entry"
    )
    assert not [c for c in changeset.calls if c.address == "product.suite" and c.action == "adopt"]
    assert "product.suite" not in {c.address for c in changeset.changes}
    # one key fewer in the catalog fits
    assert diff(_product_catalog(CATALOG_MOST - 1), account(by_hand(product=hand))).problems == ()


def test_adopting_a_plan_whose_id_is_another_counts_the_pricebook_id_it_adds() -> None:
    plan = res(Kind.PLAN, "gold", **{**GOLD.params, "metadata": keys(CATALOG_MOST)})
    catalog = Catalog.of([METER, PRODUCT, SEATS, EMAILS, plan])
    targets = {(Kind.PRODUCT, "suite"): "prod_E9aWj8Nap9i0Ub", (Kind.PLAN, "gold"): "price_1Gold"}
    hand = read(
        Kind.PLAN,
        "price_1Gold",
        "price_1Gold",
        {**keys(CATALOG_MOST), REPLACES_KEY: "price_1Old"},
        **{**GOLD.params, "product": "prod_E9aWj8Nap9i0Ub"},
    )
    changeset = diff(adopting(targets, catalog), account(by_hand(gold=hand)))
    assert problem_rules(changeset) == [("plan.gold", TOO_MANY_METADATA_KEYS.id)]
    message = changeset.problems[0].message
    assert "would have 51 metadata keys (the catalog's 48, managed_by, pricebook_id, and pricebook_replaces" in message


# -- a plain update --------------------------------------------------------------------------------------------


def _price_with(count: int) -> Any:
    return res(Kind.PRICE, "seats", **{**SEATS.params, "metadata": keys(count)})


def test_an_update_that_adds_a_key_to_an_object_with_pricebooks_keys_and_a_stray_one_is_a_problem() -> None:
    # the price replaced another (pricebook_replaces) and someone set pricebook_id on it by hand: with 47 keys of
    # the catalog it had 50; the catalog's 48th key would make 51
    raw = {**keys(CATALOG_MOST - 1), **MANAGED_METADATA, REPLACES_KEY: "price_1Old", PRICEBOOK_ID_KEY: "x"}
    seats = read(Kind.PRICE, "price_seats", "seats", raw, **SEATS.params)
    before = state([live(METER, "mtr_1"), live(PRODUCT, "suite"), seats, live(EMAILS, "price_emails")])
    catalog = Catalog.of([METER, PRODUCT, _price_with(CATALOG_MOST), EMAILS])
    changeset = diff(catalog, before)
    assert problem_rules(changeset) == [("price.seats", TOO_MANY_METADATA_KEYS.id)]
    (problem,) = changeset.problems
    assert "would have 51 metadata keys" in problem.message
    assert "pricebook_id, pricebook_replaces, which the price has and the update keeps" in problem.message
    assert [c for c in changeset.calls if c.address == "price.seats"] == []
    # a changed value sends one key and adds none: it fits
    assert diff(Catalog.of([METER, PRODUCT, _price_with(CATALOG_MOST - 1), EMAILS]), before).problems == ()


def test_an_update_that_unsets_keys_by_hand_counts_what_is_left() -> None:
    # 50 keys on a managed product: 49 by hand and the mark; the catalog's 48 replace the 49
    raw = {**keys(49, "hand"), **MANAGED_METADATA}
    product = read(Kind.PRODUCT, "suite", "suite", raw, name="Suite", default_price="seats")
    catalog_product = res(Kind.PRODUCT, "suite", name="Suite", default_price="seats", metadata=keys(CATALOG_MOST))
    applied = [live(METER, "mtr_1"), product, live(SEATS, "price_seats"), live(EMAILS, "price_emails")]
    changeset = diff(Catalog.of([METER, catalog_product, SEATS, EMAILS]), state(applied))
    assert changeset.problems == ()
    (call,) = [c for c in changeset.calls if c.address == "product.suite"]
    assert len(metadata_after(raw, call.params["metadata"])) == CATALOG_MOST + 1


def test_a_product_update_is_held_to_the_limit_too() -> None:
    raw = {**keys(CATALOG_MOST - 1), **MANAGED_METADATA, PRICEBOOK_ID_KEY: "suite", REPLACES_KEY: "price_1Old"}
    product = read(Kind.PRODUCT, "prod_1", "suite", raw, name="Suite", default_price="seats")
    catalog_product = res(Kind.PRODUCT, "suite", name="Suite", default_price="seats", metadata=keys(CATALOG_MOST))
    applied = [live(METER, "mtr_1"), product, live(SEATS, "price_seats"), live(EMAILS, "price_emails")]
    changeset = diff(Catalog.of([METER, catalog_product, SEATS, EMAILS]), state(applied))
    assert problem_rules(changeset) == [("product.suite", TOO_MANY_METADATA_KEYS.id)]
    assert [c for c in changeset.calls if c.address == "product.suite"] == []
