"""Reading the account: raw Stripe-shaped objects normalised so an account built from the catalog equals it."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Sequence
from typing import Any

from compiler.changes.changeset import ChangeSet
from compiler.changes.model import Catalog, CheckedCatalog, Resource
from compiler.changes.planning import (
    CatalogNames,
    changeset_for,
    current_state,
    needs_archived_prices,
    needs_plans_list,
)
from compiler.stripe.boundaries import Remembered
from compiler.stripe.fields import REPLACES_KEY, catalog_canonical
from compiler.stripe.kinds import Kind
from compiler.stripe.state import (
    ARCHIVED_PRICES,
    LISTS,
    PLANS,
    AccountState,
    LiveObject,
    ReadSoFar,
    Role,
    _Builder,
    fingerprint,
    read_account,
    relinked,
)
from tests.stripe_lists import StripeLists
from tests.stripe_objects import (
    MANAGED,
    build_state,
    plan_in_price_list,
    plan_view,
    stripe_meter,
    stripe_price,
    stripe_product,
)


def catalog_plan(**params: Any) -> Catalog:
    """A catalog of one plan, `plan_view()`'s `gold` unless `params` say otherwise."""
    plan = {"id": "gold", "product": "suite", "currency": "usd", "amount": 2000, "interval": "month", **params}
    plan["metadata"] = MANAGED
    return Catalog.of([Resource(Kind.PLAN, plan["id"], plan, catalog_canonical(Kind.PLAN, plan))])


def only(state: AccountState, kind: Kind) -> LiveObject:
    (obj,) = state.of_kind(kind)
    return obj


def test_tiered_price_with_null_up_to_and_decimal_strings_equals_its_catalog_entry() -> None:
    catalog = {
        "lookup_key": "seats",
        "product": "suite",
        "currency": "usd",
        "billing_scheme": "tiered",
        "tiers_mode": "volume",
        "tiers": [{"up_to": 5, "unit_amount": 700}, {"up_to": "inf", "unit_amount_decimal": "650.5", "flat_amount": 0}],
        "recurring": {"interval": "month"},
        "currency_options": {
            "eur": {"tiers": [{"up_to": 5, "unit_amount": 600}, {"up_to": "inf", "unit_amount": 550}]}
        },
    }
    raw = stripe_price(
        billing_scheme="tiered",
        tiers_mode="volume",
        unit_amount=None,
        unit_amount_decimal=None,
        tiers=[
            {
                "flat_amount": None,
                "flat_amount_decimal": None,
                "unit_amount": 700,
                "unit_amount_decimal": "700",
                "up_to": 5,
            },
            {
                "flat_amount": 0,
                "flat_amount_decimal": "0",
                "unit_amount": None,
                "unit_amount_decimal": "650.5",
                "up_to": None,
            },
        ],
        currency_options={
            # Stripe lists the price's own currency among its options; the catalog never does
            "usd": {
                "tax_behavior": "unspecified",
                "unit_amount": None,
                "unit_amount_decimal": None,
                "custom_unit_amount": None,
                "tiers": [],
            },
            "eur": {
                "tax_behavior": "unspecified",
                "unit_amount": None,
                "unit_amount_decimal": None,
                "custom_unit_amount": None,
                "tiers": [
                    {
                        "up_to": 5,
                        "unit_amount": 600,
                        "unit_amount_decimal": "600",
                        "flat_amount": None,
                        "flat_amount_decimal": None,
                    },
                    {
                        "up_to": None,
                        "unit_amount": 550,
                        "unit_amount_decimal": "550",
                        "flat_amount": None,
                        "flat_amount_decimal": None,
                    },
                ],
            },
        },
    )
    state = build_state([], [], [raw], [])
    price = only(state, Kind.PRICE)
    assert price.key == "seats" and price.managed and price.id == "price_1"
    assert price.attrs == catalog_canonical(Kind.PRICE, catalog)


def test_metered_price_names_its_meter_by_event_name() -> None:
    raw = stripe_price(
        recurring={
            "interval": "month",
            "interval_count": 1,
            "meter": "mtr_1",
            "trial_period_days": None,
            "usage_type": "metered",
        }
    )
    state = build_state([stripe_meter()], [], [raw], [])
    price = only(state, Kind.PRICE)
    assert price.attrs["recurring"]["meter"] == "emails_sent"
    catalog = {
        "lookup_key": "seats",
        "product": "suite",
        "currency": "usd",
        "unit_amount": 1000,
        "recurring": {"interval": "month", "usage_type": "metered", "meter": "emails_sent"},
    }
    assert price.attrs == catalog_canonical(Kind.PRICE, catalog)
    meter = only(state, Kind.METER)
    assert meter.key == "emails_sent" and meter.managed  # meters carry no metadata: the event_name decides
    assert meter.attrs == catalog_canonical(
        Kind.METER,
        {"event_name": "emails_sent", "display_name": "Emails sent", "default_aggregation": {"formula": "sum"}},
    )


def test_product_default_price_becomes_the_lookup_key_or_stays_an_id() -> None:
    prices = [stripe_price(), stripe_price(id="price_2", lookup_key=None, metadata={})]
    with_key = build_state([], [stripe_product(default_price="price_1")], prices, [])
    assert only(with_key, Kind.PRODUCT).attrs["default_price"] == "seats"
    without = build_state([], [stripe_product(default_price="price_2")], prices, [])
    assert only(without, Kind.PRODUCT).attrs["default_price"] == "price_2"
    catalog = {"id": "suite", "name": "Suite", "default_price": "seats"}
    assert only(with_key, Kind.PRODUCT).attrs == catalog_canonical(Kind.PRODUCT, catalog)


def test_a_plan_in_the_price_list_is_a_plan_and_equals_its_catalog_entry() -> None:
    plan_as_price = stripe_price(
        id="standard-cost-per-5-users",
        lookup_key=None,
        nickname="Standard Cost Per 5 Users",
        transform_quantity={"divide_by": 5, "round": "up"},
    )
    state = build_state([], [], [plan_as_price], [])
    plan = only(state, Kind.PLAN)
    assert plan.key == plan.id == "standard-cost-per-5-users"
    catalog = {
        "id": "standard-cost-per-5-users",
        "product": "suite",
        "nickname": "Standard Cost Per 5 Users",
        "currency": "usd",
        "amount": 1000,
        "interval": "month",
        "usage_type": "licensed",
        "transform_usage": {"divide_by": 5, "round": "up"},
    }
    assert plan.attrs == catalog_canonical(Kind.PLAN, catalog)


def test_a_price_in_the_plans_list_stays_a_price_and_each_object_is_read_once() -> None:
    price = stripe_price()
    as_plan = plan_view(id="price_1", amount=1000, amount_decimal="1000")
    one_time = stripe_price(id="price_3", lookup_key=None, recurring=None, type="one_time", metadata={})
    state = build_state([], [], [price, one_time], [as_plan])
    assert sorted((o.kind, o.id) for o in state.objects) == [(Kind.PRICE, "price_1"), (Kind.PRICE, "price_3")]
    loose = next(o for o in state.objects if o.id == "price_3")
    assert loose.key is None and not loose.managed


def test_a_recurring_price_that_lost_its_lookup_key_to_a_replacement_is_still_a_price() -> None:
    # after transfer_lookup_key the old version has no lookup_key; its Stripe-given id says it is a price
    old = stripe_price(id="price_old", lookup_key=None, active=False)
    new = stripe_price(id="price_new", unit_amount=1200, unit_amount_decimal="1200")
    state = build_state([], [], [new, old], [])
    assert sorted((o.kind, o.id, o.key) for o in state.objects) == [
        (Kind.PRICE, "price_new", "seats"),
        (Kind.PRICE, "price_old", None),
    ]
    replaced = next(o for o in state.objects if o.id == "price_old")
    assert replaced.address == "price.price_old" and replaced.managed and not replaced.active
    assert replaced.attrs["unit_amount"] == 1000


def test_plan_shown_only_by_the_plans_list_is_read_in_its_own_shape() -> None:
    plan = plan_view(active=False, amount=None, amount_decimal="12.5", interval="year", product={"id": "suite"})
    obj = only(build_state([], [], [], [plan]), Kind.PLAN)
    assert obj.attrs["amount_decimal"] == "12.5" and obj.attrs["product"] == "suite" and not obj.active


def test_fingerprint_is_stable_across_order_and_moves_with_any_compared_value() -> None:
    a = build_state([stripe_meter()], [stripe_product()], [stripe_price(), stripe_price(id="p2", lookup_key="b")], [])
    b = build_state([stripe_meter()], [stripe_product()], [stripe_price(id="p2", lookup_key="b"), stripe_price()], [])
    assert a.fingerprint == b.fingerprint and a.fingerprint.startswith("sha256:")
    c = build_state([stripe_meter(display_name="x")], [stripe_product()], [stripe_price()], [])
    d = build_state([stripe_meter()], [stripe_product()], [stripe_price()], [])
    assert c.fingerprint != d.fingerprint


def test_read_account_sends_one_list_per_resource_type_with_the_expansions() -> None:
    active = [stripe_price(id=f"price_{n}", lookup_key=f"k{n}") for n in range(250)]
    lists = StripeLists(
        {
            "/v1/prices": [*active, stripe_price(id="price_old", lookup_key="old", active=False)],
            "/v1/products": [stripe_product(default_price="price_7")],
        }
    )
    state = read_account(lists)
    expand = ["data.tiers", "data.currency_options"]
    assert sorted((p, q.get("active") or "", q.get("starting_after") or "") for p, q in lists.calls) == [
        ("/v1/billing/meters", "", ""),
        ("/v1/prices", "false", ""),
        ("/v1/prices", "true", ""),
        ("/v1/prices", "true", "price_199"),
        ("/v1/prices", "true", "price_99"),
        ("/v1/products", "", ""),
    ]
    # the archived prices are asked for once every active one has been read
    order = [(p, q.get("active")) for p, q in lists.calls]
    assert order.index(("/v1/prices", "false")) > max(i for i, c in enumerate(order) if c == ("/v1/prices", "true"))
    assert all(q["expand"] == expand for p, q in lists.calls if p == "/v1/prices")
    assert {s.path for s in LISTS} == {p for p, _ in lists.calls}
    prices = {o.key: o.active for o in state.of_kind(Kind.PRICE)}
    assert len(prices) == 251 and prices["old"] is False
    assert only(state, Kind.PRODUCT).attrs["default_price"] == "k7"
    assert (lists.account_reads, state.account) == (1, "acct_listpages")  # one more request: the account's id

    with_plans = StripeLists({})
    read_account(with_plans, plans_list=True)
    paths = [p for p, _ in with_plans.calls]
    assert sorted(paths) == sorted([*(s.path for s in LISTS), PLANS.path])
    assert paths.index(PLANS.path) > max(i for i, p in enumerate(paths) if p == "/v1/prices")
    assert with_plans.requests_to(PLANS.path)[0]["expand"] == ["data.tiers"]


def test_the_state_fingerprint_is_the_fingerprint_of_its_objects_in_any_order() -> None:
    state = build_state([stripe_meter()], [stripe_product(default_price="price_1")], [stripe_price()], [])
    assert state.fingerprint == fingerprint(state.objects) == AccountState.of(reversed(state.objects)).fingerprint


def fresh_fingerprint(objects: Sequence[LiveObject]) -> str:
    """The fingerprint as its docstring defines it, each row made afresh from the object's fields as they are."""
    rows = []
    for obj in objects:
        row: list[Any] = [obj.kind.value, obj.id, obj.key, obj.managed, dict(obj.attrs)]
        if obj.replaces is not None:
            row.append(obj.replaces)
        rows.append(json.dumps(row, sort_keys=True, default=str))
    return "sha256:" + hashlib.sha256("\n".join(sorted(rows)).encode()).hexdigest()


def adopted_account() -> AccountState:
    """A meter, a product known by its pricebook_id with a price of it left by a replace, one with a default
    price, and a plan."""
    return build_state(
        [stripe_meter()],
        [
            stripe_product(default_price="price_1"),
            stripe_product(id="prod_A", metadata={**MANAGED, "pricebook_id": "suite2"}, default_price="price_2"),
        ],
        [
            stripe_price(),
            stripe_price(
                id="price_2", lookup_key=None, product="prod_A", metadata={**MANAGED, REPLACES_KEY: "price_0"}
            ),
        ],
        [plan_view()],
    )


def test_the_fingerprint_keeps_its_value() -> None:
    # saved plans and the goldens hold fingerprints: how it is computed may change, its value may not
    state = adopted_account()
    expected = "sha256:f176dbdd99a459a9ca310d68a8d9bd52e20da4b61fd0e6046f15c0783e666a5d"
    assert state.fingerprint == fresh_fingerprint(state.objects) == expected


def test_a_changed_object_is_fingerprinted_as_it_is_now() -> None:
    # each object's row is made with it: a copy with other fields must not keep the row of the original
    state = adopted_account()
    price = next(o for o in state.objects if o.id == "price_1")
    product = next(o for o in state.objects if o.id == "suite")
    changed = [
        price.with_key("seats_yearly"),
        *relinked([price], products={"suite": "suite3"}),
        *relinked([product], prices={"seats": "seats_yearly"}),
        dataclasses.replace(price, managed=False),
        dataclasses.replace(price, attrs={**price.attrs, "nickname": "by hand"}),
        dataclasses.replace(price, replaces="price_0"),
    ]
    for obj in changed:
        assert fingerprint([obj]) == fresh_fingerprint([obj]) != fingerprint([price]), obj
    renamed = state.renamed({"prod_A": "suite4", "price_2": "seats_monthly", "mtr_1": "ignored"})
    assert fingerprint(renamed.objects) == fresh_fingerprint(renamed.objects) != state.fingerprint
    assert renamed.fingerprint == state.fingerprint  # the state keeps the fingerprint of what was read


def test_a_product_is_the_same_whichever_page_comes_first() -> None:
    # a product is made once its default price has been read (named by its lookup_key), or at the end
    products = [
        stripe_product(default_price="price_1"),  # a price with a lookup_key
        stripe_product(id="keyless", default_price="price_2"),  # a price without
        stripe_product(id="gone", default_price="price_9"),  # never read
        stripe_product(id="bare", default_price=None),
        stripe_product(id="expanded", default_price={"id": "price_1", "object": "price"}),
    ]
    prices = [stripe_price(), stripe_price(id="price_2", lookup_key=None)]
    orders = [
        [(Role.METERS, []), (Role.PRODUCTS, products), (Role.PRICES, prices)],
        [(Role.METERS, []), (Role.PRICES, prices), (Role.PRODUCTS, products)],
        [(Role.PRICES, prices[1:]), (Role.PRODUCTS, products[:2]), (Role.METERS, []), (Role.PRODUCTS, products[2:]),
         (Role.PRICES, prices[:1])],
    ]  # fmt: skip
    states = []
    for order in orders:
        builder = _Builder()
        for role, page in order:
            builder.add(role, page)
            if role is Role.METERS:
                builder.meters_done()
        states.append(builder.finish(livemode=False))
    defaults = {o.id: o.attrs["default_price"] for o in states[0].of_kind(Kind.PRODUCT)}
    assert defaults == {"suite": "seats", "keyless": "price_2", "gone": "price_9", "bare": None, "expanded": "seats"}
    assert states[0] == states[1] == states[2]
    assert states[0].fingerprint == states[1].fingerprint == states[2].fingerprint


def test_a_catalog_plan_the_price_list_did_not_show_is_looked_for_in_the_plans_list() -> None:
    plan = plan_view()
    catalog = catalog_plan()
    lists = StripeLists({"/v1/plans": [plan]})  # an account whose price list leaves plans out
    changeset, state = changeset_for(CheckedCatalog(catalog), lists)
    # one pass: each list once, the plans list after the price lists (nothing is read twice)
    paths = [(p, q.get("active")) for p, q in lists.calls]
    assert sorted(paths, key=str) == sorted(
        [
            ("/v1/billing/meters", None),
            ("/v1/prices", "true"),
            ("/v1/prices", "false"),
            ("/v1/plans", None),
            ("/v1/products", None),
        ],
        key=str,
    )
    assert paths.index(("/v1/plans", None)) > paths.index(("/v1/prices", "false"))
    assert [(c.address, c.action.value) for c in changeset.changes] == [("plan.gold", "no-op")]
    assert only(state, Kind.PLAN).id == "gold"

    found = StripeLists({"/v1/prices": [plan_in_price_list()]})
    changeset_for(CheckedCatalog(catalog), found)
    assert "/v1/plans" not in [p for p, _ in found.calls]  # found in the price list: one read is enough
    # and among the active prices: the archived ones cannot change the plan, and are not read either
    assert sorted(p for p, _ in found.calls) == sorted(s.path for s in LISTS if s is not ARCHIVED_PRICES)


def test_reading_the_plans_list_changes_the_fingerprint_only_by_what_it_adds() -> None:
    # the plans list shows the price list's plan again (in its own shape) and every recurring price
    plan_as_price = plan_in_price_list()
    gold = plan_view()
    price_as_plan = {**gold, "id": "price_1", "amount": 1000, "amount_decimal": "1000"}
    account = {
        "/v1/prices": [stripe_price(), plan_as_price],
        "/v1/plans": [gold, price_as_plan],
        "/v1/products": [stripe_product(default_price="price_1")],
    }
    without = read_account(StripeLists(account))
    with_plans = read_account(StripeLists(account), plans_list=True)
    assert with_plans.objects == without.objects and with_plans.fingerprint == without.fingerprint
    hidden = {**gold, "id": "silver"}
    more = read_account(StripeLists({**account, "/v1/plans": [gold, hidden]}), plans_list=True)
    assert more.fingerprint != without.fingerprint and {o.id for o in more.of_kind(Kind.PLAN)} == {"gold", "silver"}


def test_a_managed_plan_removed_from_the_catalog_is_archived_from_the_price_list_alone() -> None:
    # a catalog without plans costs no reading of /v1/plans: the price list shows the plans (a plan is a price)
    retired = plan_in_price_list(id="retired", unit_amount=500, unit_amount_decimal="500")
    lists = StripeLists({"/v1/prices": [stripe_price(), retired], "/v1/plans": [plan_view(id="retired")]})
    changeset, _ = changeset_for(CheckedCatalog(Catalog.of([])), lists)
    assert ("plan.retired", "archive") in [(c.address, c.action.value) for c in changeset.changes]
    assert "/v1/plans" not in [p for p, _ in lists.calls]


def test_the_plans_list_is_read_exactly_when_a_catalog_plan_is_missing_from_the_price_lists() -> None:
    gold = plan_in_price_list()
    assert not needs_plans_list([], [])  # no catalog plan: nothing to look for
    family = build_state([], [], [gold, stripe_price()], []).objects
    assert not needs_plans_list(["gold"], family)
    assert needs_plans_list(["gold", "silver"], family)
    assert needs_plans_list(["gold"], build_state([], [], [stripe_price()], []).objects)
    # an adopted plan is found by its catalog id too: the id Stripe made up is not the catalog's
    adopted = plan_in_price_list(id="plan_Q1x", metadata={**MANAGED, "pricebook_id": "gold"})
    assert not needs_plans_list(["gold"], build_state([], [], [adopted], []).objects)
    assert needs_plans_list(["silver"], build_state([], [], [adopted], []).objects)


def test_apply_plan_reads_the_account_as_the_plan_did_so_an_unchanged_account_is_fresh() -> None:
    gold = plan_in_price_list()
    hidden = plan_view(id="silver", amount=3000, amount_decimal="3000")
    catalog = catalog_plan(id="silver", amount=3000)
    # the price list shows one managed plan (gold) but leaves the catalog's silver out: plan reads /v1/plans
    account = {"/v1/prices": [gold], "/v1/plans": [hidden]}
    planned, _ = changeset_for(CheckedCatalog(catalog), StripeLists(account))
    saved = ChangeSet.from_json(planned.to_json())
    lists = StripeLists(account)
    assert current_state(saved, lists).fingerprint == planned.fingerprint
    assert "/v1/plans" in [p for p, _ in lists.calls]
    assert read_account(StripeLists(account)).fingerprint != planned.fingerprint  # the read apply used to make

    # no catalog plan: neither side reads the plans list; a removed managed plan comes from the price list
    retired = plan_in_price_list(id="retired")
    account = {"/v1/prices": [retired], "/v1/plans": [plan_view(id="retired")]}
    planned, _ = changeset_for(CheckedCatalog(Catalog.of([])), StripeLists(account))
    lists = StripeLists(account)
    assert current_state(ChangeSet.from_json(planned.to_json()), lists).fingerprint == planned.fingerprint
    assert "/v1/plans" not in [p for p, _ in lists.calls]
    changed = {"/v1/prices": [{**retired, "nickname": "renamed"}]}
    assert current_state(planned, StripeLists(changed)).fingerprint != planned.fingerprint


def test_an_adopted_product_or_plan_is_known_by_its_pricebook_id_and_references_follow() -> None:
    adopted = {**MANAGED, "pricebook_id": "suite"}
    state = build_state(
        [],
        [stripe_product(id="prod_E9aWj8Nap9i0Ub", metadata=adopted, default_price="price_1")],
        [stripe_price(product="prod_E9aWj8Nap9i0Ub")],
        [plan_view(id="plan_Q1x", product="prod_E9aWj8Nap9i0Ub", metadata={**MANAGED, "pricebook_id": "gold"})],
    )
    product, price, plan = only(state, Kind.PRODUCT), only(state, Kind.PRICE), only(state, Kind.PLAN)
    assert (product.id, product.key, product.attrs["id"]) == ("prod_E9aWj8Nap9i0Ub", "suite", "suite")
    assert product.attrs["default_price"] == "seats"
    assert product.attrs["metadata"] == MANAGED  # pricebook_id is the identity, not a field to compare
    assert price.attrs["product"] == "suite"
    assert (plan.id, plan.key, plan.attrs["product"]) == ("plan_Q1x", "gold", "suite")
    # without the key, the Stripe id is the catalog id
    plain = build_state(
        [], [stripe_product(id="prod_E9aWj8Nap9i0Ub")], [stripe_price(product="prod_E9aWj8Nap9i0Ub")], []
    )
    assert only(plain, Kind.PRODUCT).key == "prod_E9aWj8Nap9i0Ub"
    assert only(plain, Kind.PRICE).attrs["product"] == "prod_E9aWj8Nap9i0Ub"


def test_renamed_names_objects_by_the_identity_they_will_have_and_renames_references() -> None:
    state = build_state(
        [],
        [stripe_product(id="prod_A", metadata={}, default_price="price_A")],
        [stripe_price(id="price_A", lookup_key=None, product="prod_A", metadata={})],
        [],
    )
    renamed = state.renamed({"prod_A": "suite", "price_A": "seats_monthly"})
    product, price = only(renamed, Kind.PRODUCT), only(renamed, Kind.PRICE)
    assert (product.id, product.key, product.attrs["id"], product.attrs["default_price"]) == (
        "prod_A",
        "suite",
        "suite",
        "seats_monthly",
    )
    assert (price.key, price.attrs["lookup_key"], price.attrs["product"]) == ("seats_monthly", "seats_monthly", "suite")
    assert renamed.fingerprint == state.fingerprint  # what was read is unchanged


def catalog_prices(*keys: str) -> Catalog:
    """A catalog of `stripe_product()`'s product and `stripe_price()`'s price under each of `keys`."""
    product = {"id": "suite", "name": "Suite", "metadata": MANAGED}
    resources = [Resource(Kind.PRODUCT, "suite", product, catalog_canonical(Kind.PRODUCT, product))]
    for key in keys:
        price = {
            "lookup_key": key,
            "product": "suite",
            "currency": "usd",
            "unit_amount": 1000,
            "recurring": {"interval": "month"},
            "metadata": MANAGED,
        }
        resources.append(Resource(Kind.PRICE, key, price, catalog_canonical(Kind.PRICE, price)))
    return Catalog.of(resources)


def found(*prices: dict[str, Any], account: str | None = "acct_1") -> ReadSoFar:
    """What the archived-prices rule sees after the active prices `prices` of test-mode account `account`."""
    return ReadSoFar(build_state([], [], list(prices), []).objects, account, False)


def test_the_archived_prices_are_read_exactly_when_the_active_ones_leave_something_unexplained() -> None:
    seats = stripe_price()
    assert not needs_archived_prices(CatalogNames(frozenset({"seats"})), found(seats))
    assert not needs_archived_prices(CatalogNames(), found(seats))  # nothing looked for, nothing left over
    # a catalog price no active price holds: archived by hand, or `active: false` in the catalog
    assert needs_archived_prices(CatalogNames(frozenset({"seats", "gone"})), found(seats))
    # a catalog plan missing from the active family
    assert needs_archived_prices(CatalogNames(plans=("gold",)), found(seats))
    # a price this account's adoption record takes over, not among the active ones
    record = CatalogNames(adopted={("acct_1", False): frozenset({"price_hand"})})
    assert needs_archived_prices(record, found(seats))
    assert not needs_archived_prices(record, found(seats, stripe_price(id="price_hand", lookup_key="hand")))
    assert not needs_archived_prices(record, found(seats, account="acct_2"))  # another account's record
    assert not needs_archived_prices(record, found(seats, account=None))
    # pricebook's leftover of an interrupted replace: its successor, which names it, may be archived
    assert needs_archived_prices(CatalogNames(), found(seats, stripe_price(id="price_old", lookup_key=None)))
    # ... but a price without a lookup_key that pricebook does not own is only left alone
    foreign = stripe_price(id="price_theirs", lookup_key=None, metadata={})
    assert not needs_archived_prices(CatalogNames(), found(seats, foreign))


def test_a_catalog_price_archived_by_hand_is_found_among_the_archived_and_reactivated() -> None:
    archived = stripe_price(active=False)
    lists = StripeLists({"/v1/prices": [archived], "/v1/products": [stripe_product()]})
    changeset, _ = changeset_for(CheckedCatalog(catalog_prices("seats")), lists)
    assert [q.get("active") for p, q in lists.calls if p == "/v1/prices"] == ["true", "false"]
    (change,) = [c for c in changeset.changes if c.address == "price.seats"]
    assert change.action.value == "update" and [(c.action.value, c.params) for c in changeset.calls] == [
        ("update", {"active": True})
    ]


def test_an_interrupted_replace_is_finished_when_its_successor_is_archived_too() -> None:
    # an apply replaced price_old with price_new, then stopped before archiving price_old; price_new was since
    # archived by hand and its lookup_key left the catalog. The successor is only among the archived prices.
    old = stripe_price(id="price_old", lookup_key=None)
    new = stripe_price(
        id="price_new", lookup_key="seats", active=False, metadata={**MANAGED, REPLACES_KEY: "price_old"}
    )
    lists = StripeLists({"/v1/prices": [new, old], "/v1/products": [stripe_product()]})
    changeset, _ = changeset_for(CheckedCatalog(catalog_prices()), lists)
    assert ("/v1/prices", "false") in [(p, q.get("active")) for p, q in lists.calls]
    assert changeset.problems == ()
    assert [(c.action.value, c.path) for c in changeset.calls] == [("archive old version", "/v1/prices/price_old")]


def test_an_account_that_holds_what_the_catalog_names_is_planned_without_its_archived_prices() -> None:
    archived = [stripe_price(id=f"price_a{n}", lookup_key=f"retired_{n}", active=False) for n in range(250)]
    account = {"/v1/prices": [stripe_price(), *archived], "/v1/products": [stripe_product()]}
    lists = StripeLists(account)
    changeset, state = changeset_for(CheckedCatalog(catalog_prices("seats")), lists)
    assert ("/v1/prices", "false") not in [(p, q.get("active")) for p, q in lists.calls]
    assert not changeset.has_changes and changeset.problems == ()
    # apply --plan decides from the saved plan's catalog just as plan did: the same fingerprint
    saved = ChangeSet.from_json(changeset.to_json())
    again = StripeLists(account)
    assert current_state(saved, again).fingerprint == state.fingerprint == changeset.fingerprint
    assert sorted(p for p, _ in again.calls) == sorted(p for p, _ in lists.calls)


class Memory:
    """Boundaries kept in memory, as `boundaries.BoundaryFiles` keeps them in files."""

    def __init__(self) -> None:
        self.kept: dict[str, Remembered] = {}

    def expects(self) -> bool:
        return bool(self.kept)

    def load(self, account: str) -> Remembered | None:
        return self.kept.get(account)

    def save(self, remembered: Remembered) -> None:
        self.kept[remembered.account] = remembered


def test_a_remembered_read_farther_away_than_the_last_cuts_further_at_page_boundaries_only() -> None:
    # 3,000 prices written 25 a second, newest first: a page boundary every four seconds
    prices = [stripe_price(id=f"price_{n}", lookup_key=f"k{n}", created=1_700_010_000 - n // 25) for n in range(3000)]
    memory = Memory()
    near = StripeLists({"/v1/prices": prices})  # no round trip to hide: one chain, and the boundaries kept
    first = read_account(near, memory=memory)
    assert memory.kept["acct_listpages"].lists["prices"].total == 3000
    far = StripeLists({"/v1/prices": prices}, round_trip=0.3)  # now one chain alone would outlast the pacer
    again = read_account(far, memory=memory)
    assert again.fingerprint == first.fingerprint
    pages = [q for p, q in far.calls if p == "/v1/prices" and q.get("active") == "true"]
    assert len([q for q in pages if "starting_after" not in q]) > 2  # cut into several chains as it went
    assert len(pages) == 30  # every one of them a full page: the cuts fell where pages end
