"""What `pricebook adopt` proposes, pure: names for what Stripe named with ids, matches in a second account, the
record's targets, and what it leaves out."""

from __future__ import annotations

import dataclasses
from typing import Any

from compiler.adopt import Mode, Options, Proposal, choose_mode, propose
from compiler.changes.model import Adoption, Catalog, Resource
from compiler.stripe.fields import MANAGED_METADATA, catalog_canonical
from compiler.stripe.kinds import IDENTITY_FIELD, Kind
from compiler.stripe.state import AccountState
from tests.stripe_objects import build_state, plan_view, stripe_meter, stripe_price, stripe_product

ACCOUNT = "acct_1Nv0FGQ9RKHgCVdK"
MONTH = {"interval": "month", "interval_count": 1, "meter": None, "trial_period_days": None, "usage_type": "licensed"}
YEAR = {**MONTH, "interval": "year"}


def product(id: str, name: str, **fields: Any) -> dict[str, Any]:
    return stripe_product(id=id, name=name, metadata={}, **fields)


def price(id: str, product: str, amount: int, **fields: Any) -> dict[str, Any]:
    usd = {"usd": {"custom_unit_amount": None, "tax_behavior": "unspecified", "unit_amount": amount,
                   "unit_amount_decimal": str(amount)}}  # fmt: skip
    base = {"lookup_key": None, "recurring": MONTH, "unit_amount": amount, "unit_amount_decimal": str(amount)}
    return stripe_price(id=id, product=product, currency_options=usd, **{"metadata": {}, **base, **fields})


def hand_built(*extra: dict[str, Any]) -> AccountState:
    """An account made in the Dashboard: two products, three prices (one with a lookup_key, one archived)."""
    prices = [
        price("price_1AnalyticsMonthly", "prod_E9aWj8Nap9i0Ub", 4900, created=1),
        price("price_1AnalyticsYearly", "prod_E9aWj8Nap9i0Ub", 49000, recurring=YEAR, created=2),
        price("price_1SeatsMonthly", "seats", 1000, lookup_key="seats_monthly", created=3),
        price("price_1AnalyticsOld", "prod_E9aWj8Nap9i0Ub", 3900, active=False, created=0),
    ]
    products = [product("prod_E9aWj8Nap9i0Ub", "Analytics Pro", default_price="price_1AnalyticsMonthly"),
                product("seats", "Team Seats")]  # fmt: skip
    state = build_state([], products, [*prices, *(e for e in extra if e["object"] == "price")], [])
    return dataclasses.replace(state, account=ACCOUNT)


def keys(proposal: Proposal) -> dict[str, str]:
    """Stripe id -> the catalog identity it gets (new entries) or matched."""
    out = {o.id: str(o.key) for o in proposal.new}
    out.update({o.id: key for o, key in proposal.matched})
    return out


def test_a_first_adoption_names_every_active_object_readably_and_records_it() -> None:
    proposal = propose(Catalog(), hand_built())
    assert keys(proposal) == {
        "prod_E9aWj8Nap9i0Ub": "analytics_pro",  # Stripe made the id up: named after the product
        "seats": "seats",  # a person chose this one
        "price_1AnalyticsMonthly": "analytics_pro_monthly_usd",
        "price_1AnalyticsYearly": "analytics_pro_yearly_usd",
        "price_1SeatsMonthly": "seats_monthly",  # its own lookup_key
    }
    assert [o.id for o in proposal.named] == ["price_1AnalyticsMonthly", "price_1AnalyticsYearly"]
    assert [o.id for o in proposal.left_out] == ["price_1AnalyticsOld"]  # archived
    assert dict(proposal.targets) == {
        (Kind.PRODUCT, "analytics_pro"): "prod_E9aWj8Nap9i0Ub",
        (Kind.PRODUCT, "seats"): "seats",
        (Kind.PRICE, "analytics_pro_monthly_usd"): "price_1AnalyticsMonthly",
        (Kind.PRICE, "analytics_pro_yearly_usd"): "price_1AnalyticsYearly",
        (Kind.PRICE, "seats_monthly"): "price_1SeatsMonthly",
    }
    # references follow the names: the entries written name the product and the default price by them
    analytics = next(o for o in proposal.new if o.id == "prod_E9aWj8Nap9i0Ub")
    assert analytics.attrs["default_price"] == "analytics_pro_monthly_usd"
    monthly = next(o for o in proposal.new if o.id == "price_1AnalyticsMonthly")
    assert monthly.attrs["product"] == "analytics_pro"


def test_names_are_unique_and_the_same_every_time() -> None:
    twin = price("price_1AnalyticsMonthly2", "prod_E9aWj8Nap9i0Ub", 5900, created=5)
    taken = price("price_1Taken", "seats", 1, lookup_key="analytics_pro_yearly_usd", created=6)
    first = keys(propose(Catalog(), hand_built(twin, taken)))
    assert first["price_1AnalyticsMonthly"] == "analytics_pro_monthly_usd"  # the older one keeps the plain name
    assert first["price_1AnalyticsMonthly2"] == "analytics_pro_monthly_usd_2"
    assert first["price_1AnalyticsYearly"] == "analytics_pro_yearly_usd_2"  # another price holds the plain one
    assert keys(propose(Catalog(), hand_built(taken, twin))) == first


def test_archived_ones_on_request_and_picks_by_id_or_kind() -> None:
    assert "price_1AnalyticsOld" in keys(propose(Catalog(), hand_built(), Options(include_archived=True)))
    # an archived one by its id; a kind picks the active ones
    assert "price_1AnalyticsOld" in keys(
        propose(Catalog(), hand_built(), Options(picked=frozenset({"price_1AnalyticsOld"})))
    )
    assert "price_1AnalyticsOld" not in keys(propose(Catalog(), hand_built(), Options(picked=frozenset({"price"}))))
    picked = propose(Catalog(), hand_built(), Options(picked=frozenset({"price_1AnalyticsYearly"})))
    # a price brings its product, whatever was picked
    assert set(keys(picked)) == {"price_1AnalyticsYearly", "prod_E9aWj8Nap9i0Ub"}
    assert set(keys(propose(Catalog(), hand_built(), Options(picked=frozenset({"product"}))))) == {
        "prod_E9aWj8Nap9i0Ub",
        "seats",
    }


def test_meters_come_with_the_prices_that_bill_from_them_and_a_plan_with_its_id() -> None:
    metered = price("price_1Api", "seats", 0, recurring={**MONTH, "usage_type": "metered", "meter": "mtr_1"})
    state = build_state(
        [stripe_meter(id="mtr_1", event_name="api_calls"), stripe_meter(id="mtr_2", event_name="unused")],
        [product("seats", "Team Seats")],
        [metered],
        [plan_view(id="gold", product="seats", metadata={}), plan_view(id="plan_Gk0Z7xMv7bP1Lm", product="seats",
                                                                        metadata={}, amount=100)],
    )  # fmt: skip
    proposal = propose(Catalog(), dataclasses.replace(state, account=ACCOUNT))
    assert keys(proposal) == {
        "mtr_1": "api_calls",
        "seats": "seats",
        "price_1Api": "seats_monthly_usd_metered",
        "gold": "gold",
        "plan_Gk0Z7xMv7bP1Lm": "seats_monthly_usd",  # plans and prices are named apart
    }
    assert [o.id for o in proposal.left_out] == ["mtr_2"]  # nothing adopted bills from it
    assert (Kind.METER, "api_calls") not in proposal.targets  # naming it is all it takes


def catalog_of(state: AccountState) -> Catalog:
    """The catalog a first adoption of `state` writes (as the model reads it back)."""
    resources = []
    for obj in propose(Catalog(), state).new:
        params = {k: v for k, v in obj.attrs.items() if v is not None and k != "metadata"}
        params[IDENTITY_FIELD[obj.kind]] = obj.key
        if obj.kind is not Kind.METER:
            params["metadata"] = dict(MANAGED_METADATA)
        resources.append(Resource(obj.kind, str(obj.key), params, catalog_canonical(obj.kind, params)))
    return Catalog.of(resources)


def test_a_second_account_is_matched_by_content_and_what_does_not_match_is_listed() -> None:
    catalog = catalog_of(hand_built())
    second = build_state(
        [],
        [
            product("prod_Q1live", "Analytics Pro"),
            product("prod_Q2live", "Team Seats"),
            product("prod_Q3extraExtra99", "Extra"),
        ],
        [
            price("price_9Monthly", "prod_Q1live", 4900),
            price("price_9Yearly", "prod_Q1live", 49000, recurring=YEAR),
            price("price_9Seats", "prod_Q2live", 1000),
            price("price_9Other", "prod_Q1live", 4800),
        ],
        [],
    )
    proposal = propose(catalog, dataclasses.replace(second, account="acct_2"), Options(mode=Mode.MATCH))
    assert {o.id: key for o, key in proposal.matched} == {
        "prod_Q1live": "analytics_pro",
        "prod_Q2live": "seats",  # by name: its id differs
        "price_9Monthly": "analytics_pro_monthly_usd",
        "price_9Yearly": "analytics_pro_yearly_usd",
        "price_9Seats": "seats_monthly",  # by content: no lookup_key there
    }
    assert proposal.new == ()
    assert {u.obj.id: u.why for u in proposal.unmatched} == {
        "prod_Q3extraExtra99": "no catalog product is named 'Extra'",
        "price_9Other": "no catalog price has its product, currency, amounts and billing period",
    }
    assert proposal.missing == ()
    # picked, an unmatched object becomes a new entry of the catalog
    picked = propose(
        catalog,
        dataclasses.replace(second, account="acct_2"),
        Options(picked=frozenset({"prod_Q3extraExtra99"}), mode=Mode.MATCH),
    )
    assert [(o.id, o.key) for o in picked.new] == [("prod_Q3extraExtra99", "extra")]


def test_adding_to_a_catalog_matches_what_it_can_and_writes_the_rest_as_new_entries() -> None:
    """A catalog written by hand, then adopt into it: what matches an entry the account lacks is recorded, and
    everything else becomes a new entry (nothing is silently left out)."""
    catalog = Catalog.of(
        [
            Resource(
                Kind.PRODUCT,
                "team_seats",
                {"name": "Team Seats"},
                catalog_canonical(Kind.PRODUCT, {"id": "team_seats", "name": "Team Seats"}),
            )
        ]
    )
    proposal = propose(catalog, hand_built(), Options(mode=Mode.ADD))
    assert {o.id: key for o, key in proposal.matched} == {"seats": "team_seats"}  # by name
    assert keys(proposal) == {
        "seats": "team_seats",
        "prod_E9aWj8Nap9i0Ub": "analytics_pro",
        "price_1AnalyticsMonthly": "analytics_pro_monthly_usd",
        "price_1AnalyticsYearly": "analytics_pro_yearly_usd",
        "price_1SeatsMonthly": "seats_monthly",
    }
    assert proposal.unmatched == () and set(proposal.targets.values()) == set(keys(proposal))


def test_the_mode_is_found_from_the_catalog_and_its_record_unless_asked() -> None:
    entry = Resource(Kind.PRODUCT, "seats", {"name": "Seats"}, catalog_canonical(Kind.PRODUCT, {"id": "seats"}))
    mode, why = choose_mode(Catalog(), ACCOUNT, False, Mode.MATCH)
    assert mode is Mode.FIRST  # nothing to match
    assert "--match-only has no entries to match against" in why  # the flag is not dropped in silence
    assert choose_mode(Catalog.of([entry]), ACCOUNT, False, None)[0] is Mode.ADD
    elsewhere = Catalog.of([entry], [Adoption("acct_test", False, {(Kind.PRODUCT, "seats"): "prod_1"})])
    mode, why = choose_mode(elsewhere, ACCOUNT, True, None)
    assert mode is Mode.MATCH and "acct_test" in why and "--add-unmatched" in why
    # the same account in the other mode is another account too (a test account's record, a live account)
    assert choose_mode(elsewhere, "acct_test", True, None)[0] is Mode.MATCH
    assert choose_mode(elsewhere, "acct_test", False, None)[0] is Mode.ADD
    assert choose_mode(elsewhere, ACCOUNT, True, Mode.ADD)[0] is Mode.ADD


def test_a_metered_price_beside_a_licensed_one_is_named_for_it_and_names_are_stable() -> None:
    metered = {**MONTH, "usage_type": "metered", "meter": "mtr_1"}
    prices = [
        price("price_1Monthly", "prod_E9aWj8Nap9i0Ub", 4900, created=1),
        price("price_2Metered", "prod_E9aWj8Nap9i0Ub", 10, recurring=metered, created=2),
        price("price_3Licensed", "prod_E9aWj8Nap9i0Ub", 5900, created=3),
    ]
    meters = [stripe_meter(id="mtr_1", event_name="api_calls")]
    state = build_state(meters, [product("prod_E9aWj8Nap9i0Ub", "Analytics Pro")], prices, [])
    state = dataclasses.replace(state, account=ACCOUNT)
    named = keys(propose(Catalog(), state))
    assert named["price_2Metered"] == "analytics_pro_monthly_usd_metered"
    assert named["price_1Monthly"] == "analytics_pro_monthly_usd"  # the older keeps the plain name
    assert named["price_3Licensed"] == "analytics_pro_monthly_usd_2"
    assert keys(propose(Catalog(), state)) == named


def test_two_objects_matching_one_entry_are_both_listed() -> None:
    catalog = catalog_of(hand_built())
    second = build_state(
        [],
        [product("prod_Q1live", "Analytics Pro"), product("prod_Q1copy", "Analytics Pro")],
        [],
        [],
    )
    proposal = propose(catalog, dataclasses.replace(second, account="acct_2"))
    assert proposal.matched == ()
    assert sorted(u.obj.id for u in proposal.unmatched) == ["prod_Q1copy", "prod_Q1live"]
    assert (
        "2 objects of the account (prod_Q1copy, prod_Q1live) match product.analytics_pro" in proposal.unmatched[0].why
    )
    assert {r.address for r in proposal.missing} >= {"product.analytics_pro", "price.analytics_pro_monthly_usd"}


def test_what_the_record_names_already_is_left_to_it() -> None:
    state = hand_built()
    recorded = Adoption(ACCOUNT, False, {(Kind.PRODUCT, "analytics"): "prod_E9aWj8Nap9i0Ub"})
    catalog = Catalog.of(list(catalog_of(state)), [recorded])
    proposal = propose(catalog, state, Options(picked=frozenset({"product"})))
    assert [o.id for o in proposal.new] == []  # seats is the catalog's by its id: matched, not new
    assert [o.id for o, _key in proposal.matched] == ["seats"]


def test_a_marked_price_without_a_lookup_key_gets_one_and_its_product_comes_with_it() -> None:
    """Marked by script, no lookup_key: no catalog entry could name it. The old version of a price pricebook
    replaced (the new one names it) is not one of those: the plan archives it."""
    marked = {"managed_by": "pricebook"}
    state = build_state(
        [],
        [stripe_product(id="prod_E9aWj8Nap9i0Ub", name="Analytics Pro", metadata=marked)],
        [
            price("price_1Marked", "prod_E9aWj8Nap9i0Ub", 4900, metadata=marked),
            price("price_1Old", "prod_E9aWj8Nap9i0Ub", 100, metadata=marked),
            price("price_1New", "prod_E9aWj8Nap9i0Ub", 200, metadata={**marked, "pricebook_replaces": "price_1Old"},
                  lookup_key="analytics_basic"),
        ],
        [],
    )  # fmt: skip
    proposal = propose(Catalog(), dataclasses.replace(state, account=ACCOUNT))
    # the product is pricebook's already: written under its own id (so the price has it), not recorded
    assert keys(proposal) == {
        "price_1Marked": "analytics_pro_monthly_usd",
        "prod_E9aWj8Nap9i0Ub": "prod_E9aWj8Nap9i0Ub",
    }
    assert dict(proposal.targets) == {(Kind.PRICE, "analytics_pro_monthly_usd"): "price_1Marked"}
    # into a catalog that has the product, the price alone
    catalog = Catalog.of(
        [
            Resource(
                Kind.PRODUCT,
                "prod_E9aWj8Nap9i0Ub",
                {"name": "Analytics Pro"},
                catalog_canonical(Kind.PRODUCT, {"id": "prod_E9aWj8Nap9i0Ub", "name": "Analytics Pro"}),
            )
        ]
    )
    assert [o.id for o in propose(catalog, dataclasses.replace(state, account=ACCOUNT)).new] == ["price_1Marked"]
