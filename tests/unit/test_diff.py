"""The diff, pure: hand-built account states against hand-built catalogs."""

from __future__ import annotations

import dataclasses
import json
import random
from typing import Any

from compiler.changes.changeset import Action, Change, ChangeSet, Note, NoteTopic
from compiler.changes.diff import diff
from compiler.changes.impact import with_price_impact
from compiler.changes.model import Catalog, Resource
from compiler.changes.problems import PROBLEM_RULES
from compiler.changes.remaining import left_of_saved_plan
from compiler.stripe.calls import ApiCall, placeholder
from compiler.stripe.fields import MANAGED_METADATA, PLAN, canonical, catalog_canonical
from compiler.stripe.kinds import IDENTITY_FIELD, Kind
from compiler.stripe.pricing import HALF_UP, ZERO_USAGE_GRADUATED
from compiler.stripe.state import AccountState, LiveObject


def res(kind: Kind, key: str, **params: Any) -> Resource:
    """A catalog resource as the model builds it: identity set, ownership metadata added."""
    params = {IDENTITY_FIELD[kind]: key, **params}
    if kind is not Kind.METER:
        params["metadata"] = {**params.get("metadata", {}), **MANAGED_METADATA}
    return Resource(kind, key, params, catalog_canonical(kind, params))


def live(resource: Resource, object_id: str, **override: Any) -> LiveObject:
    """The live object an apply of `resource` leaves behind, with `override` edited by hand."""
    attrs = {**resource.attrs, **override}
    return LiveObject(resource.kind, object_id, resource.key, True, attrs)


def unmanaged(kind: Kind, object_id: str, key: str | None, **params: Any) -> LiveObject:
    return LiveObject(kind, object_id, key, False, canonical(kind, params))


METER = res(Kind.METER, "emails_sent", display_name="Emails sent", default_aggregation={"formula": "sum"})
PRODUCT = res(Kind.PRODUCT, "suite", name="Suite", default_price="seats")
SEATS = res(
    Kind.PRICE,
    "seats",
    product="suite",
    currency="usd",
    unit_amount=1000,
    recurring={"interval": "month"},
    transform_quantity={"divide_by": 5, "round": "up"},
)
EMAILS = res(
    Kind.PRICE,
    "emails",
    product="suite",
    currency="usd",
    unit_amount=10,
    recurring={"interval": "month", "usage_type": "metered", "meter": "emails_sent"},
)
GOLD = res(Kind.PLAN, "gold", product="suite", currency="usd", amount=2000, interval="month")
CATALOG = Catalog.of([METER, PRODUCT, SEATS, EMAILS, GOLD])


def applied(**edits: LiveObject) -> list[LiveObject]:
    """The account after applying CATALOG, with some objects swapped for edited ones."""
    objs = {
        "meter": live(METER, "mtr_1"),
        "product": live(PRODUCT, "suite"),
        "seats": live(SEATS, "price_seats"),
        "emails": live(EMAILS, "price_emails"),
        "gold": live(GOLD, "gold"),
    }
    objs.update(edits)
    return list(objs.values())


def state(objects: list[LiveObject]) -> AccountState:
    return AccountState.of(objects)


def planned(catalog: Catalog, account: AccountState) -> ChangeSet:
    """The diff with its price impact, as `plan` shows it."""
    return with_price_impact(diff(catalog, account))


def texts(found: Change) -> list[str]:
    return [note.text for note in found.notes]


def change(cs: ChangeSet, address: str) -> Change:
    (found,) = [c for c in cs.changes if c.address == address]
    return found


def calls_for(cs: ChangeSet, address: str) -> list[ApiCall]:
    return [c for c in cs.calls if c.address == address]


def test_empty_account_creates_everything_in_dependency_order() -> None:
    cs = diff(CATALOG, state([]))
    assert {c.address: c.action for c in cs.changes} == {
        "meter.emails_sent": Action.CREATE,
        "product.suite": Action.CREATE,
        "price.emails": Action.CREATE,
        "price.seats": Action.CREATE,
        "plan.gold": Action.CREATE,
    }
    assert [(c.action, c.address) for c in cs.calls] == [
        ("create", "meter.emails_sent"),
        ("create", "product.suite"),
        ("create", "price.emails"),
        ("create", "price.seats"),
        ("create", "plan.gold"),
        ("set default price", "product.suite"),
    ]
    product_create = cs.calls[1]
    assert "default_price" not in product_create.params  # the price does not exist yet
    emails = calls_for(cs, "price.emails")[0]
    assert emails.params["recurring"]["meter"] == placeholder("meter.emails_sent")
    assert cs.calls[-1].params == {"default_price": placeholder("price.seats")}
    assert not cs.problems and cs.has_changes


def test_account_built_from_the_catalog_plans_no_changes() -> None:
    cs = diff(CATALOG, state(applied()))
    assert all(c.action is Action.NOOP for c in cs.changes)
    assert len(cs.changes) == len(CATALOG)
    assert cs.calls == () and cs.problems == () and not cs.has_changes


def test_existing_meter_is_referenced_by_its_id() -> None:
    objs = [o for o in applied() if o.id != "price_emails"]
    cs = diff(CATALOG, state(objs))
    (create,) = calls_for(cs, "price.emails")
    assert create.params["recurring"]["meter"] == "mtr_1" and create.depends_on == ()


def test_drift_on_updatable_fields_is_set_back_in_place() -> None:
    named = res(Kind.PRICE, "seats", **{**SEATS.params, "nickname": "Seats", "metadata": {}})
    edited = live(named, "price_seats", nickname="edited by hand", metadata={**named.attrs["metadata"], "x": "1"})
    cs = diff(Catalog.of([METER, PRODUCT, named, EMAILS, GOLD]), state(applied(seats=edited)))
    seats = change(cs, "price.seats")
    assert seats.action is Action.UPDATE
    assert {(f.path, f.before, f.after, f.forces_replacement) for f in seats.fields} == {
        ("nickname", "edited by hand", "Seats", False),
        ("metadata.x", "1", None, False),
    }
    (call,) = cs.calls
    assert call.path == "/v1/prices/price_seats"
    # the catalog's nickname is set back; a metadata key added by hand is removed with ""
    assert call.params == {"nickname": "Seats", "metadata": {"x": ""}}


def test_immutable_price_change_is_a_replace_in_order_create_move_default_archive() -> None:
    new_seats = res(
        Kind.PRICE,
        "seats",
        product="suite",
        currency="usd",
        unit_amount=1200,
        recurring={"interval": "month"},
        transform_quantity={"divide_by": 5, "round": "up"},
    )
    catalog = Catalog.of([METER, PRODUCT, new_seats, EMAILS, GOLD])
    cs = planned(catalog, state(applied()))
    seats = change(cs, "price.seats")
    assert seats.action is Action.REPLACE and seats.live_id == "price_seats"
    assert [(f.path, f.before, f.after, f.forces_replacement) for f in seats.fields] == [
        ("unit_amount", 1000, 1200, True)
    ]
    assert any("subscriptions on the old price keep it" in n for n in texts(seats))
    assert any("default price moves" in n for n in texts(seats))
    assert [(c.method, c.path, c.action) for c in cs.calls] == [
        ("POST", "/v1/prices", "create"),
        ("POST", "/v1/products/suite", "set default price"),
        ("POST", "/v1/prices/price_seats", "archive old version"),
    ]
    create, move, archive = cs.calls
    assert create.params["transfer_lookup_key"] is True and create.params["unit_amount"] == 1200
    assert create.creates == "price.seats"
    assert move.params == {"default_price": placeholder("price.seats")}
    assert archive.params == {"active": False}
    # price impact: what 6 users pay, before and after
    six = next(i for i in seats.impact if i["quantity"] == 6)
    assert six == {"quantity": 6, "before": "$20.00", "after": "$24.00", "currency": "usd", "change_percent": 20.0}
    assert change(cs, "product.suite").action is Action.NOOP


def test_replace_of_a_price_that_is_not_a_default_moves_nothing() -> None:
    new_emails = res(
        Kind.PRICE,
        "emails",
        product="suite",
        currency="eur",
        unit_amount=10,
        recurring={"interval": "month", "usage_type": "metered", "meter": "emails_sent"},
    )
    cs = diff(Catalog.of([METER, PRODUCT, SEATS, new_emails, GOLD]), state(applied()))
    assert [c.action for c in cs.calls] == ["create", "archive old version"]
    assert change(cs, "price.emails").fields[0].path == "currency"


def test_new_default_price_is_moved_after_the_price_is_created() -> None:
    product = res(Kind.PRODUCT, "suite", name="Suite", default_price="annual")
    annual = res(
        Kind.PRICE, "annual", product="suite", currency="usd", unit_amount=9000, recurring={"interval": "year"}
    )
    cs = planned(Catalog.of([METER, product, SEATS, EMAILS, GOLD, annual]), state(applied()))
    prod = change(cs, "product.suite")
    assert prod.action is Action.UPDATE
    assert [(f.path, f.before, f.after) for f in prod.fields] == [("default_price", "seats", "annual")]
    assert [(c.action, c.address) for c in cs.calls] == [
        ("create", "price.annual"),
        ("set default price", "product.suite"),
    ]
    created = change(cs, "price.annual")
    assert created.impact[0]["before"] is None and created.impact[0]["after"] == "$90.00"


def test_managed_objects_missing_from_the_catalog_are_archived_unmanaged_ones_untouched() -> None:
    old = live(res(Kind.PRICE, "old", product="suite", currency="usd", unit_amount=5), "price_old")
    old_plan = live(res(Kind.PLAN, "silver", product="suite", currency="usd", amount=1, interval="month"), "silver")
    foreign = unmanaged(Kind.PRICE, "price_foreign", "theirs", product="suite", currency="usd", unit_amount=7)
    foreign_product = unmanaged(Kind.PRODUCT, "other", "other", name="Other")
    gone_meter = LiveObject(Kind.METER, "mtr_2", "gone", True, canonical(Kind.METER, {"event_name": "gone"}))
    cs = diff(CATALOG, state([*applied(), old, old_plan, foreign, foreign_product, gone_meter]))
    assert change(cs, "price.old").action is Action.ARCHIVE
    assert change(cs, "plan.silver").action is Action.ARCHIVE
    assert [(c.path, c.params) for c in cs.calls] == [
        ("/v1/prices/price_old", {"active": False}),
        ("/v1/plans/silver", {"active": False}),
    ]
    addresses = {c.address for c in cs.changes}
    assert "price.theirs" not in addresses and "product.other" not in addresses
    assert "meter.gone" not in addresses  # a meter is pricebook's only while the catalog names it


def test_objects_pricebook_does_not_own_are_listed_as_left_alone() -> None:
    foreign = unmanaged(Kind.PRICE, "price_foreign", "theirs", product="suite", currency="usd", unit_amount=7)
    one_time = unmanaged(Kind.PRICE, "price_fee", None, product="other", currency="usd", unit_amount=9)
    foreign_plan = unmanaged(Kind.PLAN, "gold-2019", "gold-2019", product="suite", currency="usd", amount=4900,
                             interval="month")
    foreign_product = unmanaged(Kind.PRODUCT, "other", "other", name="Other")
    archived = unmanaged(Kind.PRICE, "price_gone", "gone", product="suite", currency="usd", unit_amount=1,
                         active=False)
    other_meter = LiveObject(Kind.METER, "mtr_2", "api_calls", True,
                             canonical(Kind.METER, {"event_name": "api_calls", "status": "active"}))
    off_meter = LiveObject(Kind.METER, "mtr_3", "old_calls", True,
                           canonical(Kind.METER, {"event_name": "old_calls", "status": "inactive"}))
    objs = [*applied(), foreign, one_time, foreign_plan, foreign_product, archived, other_meter, off_meter]
    cs = diff(CATALOG, state(objs))
    # sorted by kind, then id; the catalog's own objects, the archived price and the deactivated meter are not
    assert cs.left_alone == (
        "meter.mtr_2",
        "product.other",
        "price.price_fee",
        "price.price_foreign",
        "plan.gold-2019",
    )
    assert cs.left_alone_ids() == {"meter": ["mtr_2"], "product": ["other"], "price": ["price_fee", "price_foreign"],
                                   "plan": ["gold-2019"]}
    assert ChangeSet.from_json(json.loads(json.dumps(cs.to_json()))).left_alone == cs.left_alone
    assert diff(CATALOG, state(applied())).left_alone == ()


def test_removed_product_is_archived_after_its_prices_unless_a_foreign_price_uses_it() -> None:
    extra = res(Kind.PRODUCT, "legacy", name="Legacy")
    extra_price = res(Kind.PRICE, "legacy_monthly", product="legacy", currency="usd", unit_amount=5)
    objs = [*applied(), live(extra, "legacy"), live(extra_price, "price_legacy")]
    cs = diff(CATALOG, state(objs))
    assert [(c.path, c.action) for c in cs.calls] == [
        ("/v1/prices/price_legacy", "archive"),
        ("/v1/products/legacy", "archive"),
    ]
    foreign = unmanaged(Kind.PRICE, "price_f", "f", product="legacy", currency="usd", unit_amount=1)
    another = unmanaged(Kind.PRICE, "price_e", None, product="legacy", currency="usd", unit_amount=2)
    archived = unmanaged(Kind.PRICE, "price_d", "d", product="legacy", currency="usd", unit_amount=3, active=False)
    elsewhere = unmanaged(Kind.PRICE, "price_c", "c", product="suite", currency="usd", unit_amount=4)
    kept = diff(CATALOG, state([*objs, foreign, another, archived, elsewhere]))
    assert change(kept, "product.legacy").action is Action.NOOP
    assert change(kept, "product.legacy").reason.endswith("use it (price_e, price_f)")  # the active ones, sorted
    assert [c.path for c in kept.calls] == ["/v1/prices/price_legacy"]


def test_archived_managed_price_listed_again_is_reactivated() -> None:
    cs = diff(CATALOG, state(applied(emails=live(EMAILS, "price_emails", active=False))))
    emails = change(cs, "price.emails")
    assert emails.action is Action.UPDATE and "reactivate" in emails.reason
    assert [(c.path, c.params) for c in cs.calls] == [("/v1/prices/price_emails", {"active": True})]


def test_unmanaged_price_holding_the_lookup_key_is_a_problem_that_says_how_to_adopt_it() -> None:
    theirs = unmanaged(Kind.PRICE, "price_x", "seats", product="suite", currency="usd", unit_amount=1000)
    cs = diff(CATALOG, state(applied(seats=theirs)))
    (problem,) = cs.problems
    assert problem.rule == "lookup-key-held-by-unmanaged-price" and problem.address == "price.seats"
    assert "price_x" in problem.message and "managed_by=pricebook" in problem.hint
    assert not calls_for(cs, "price.seats")  # never touched, never archived
    assert all(c.path != "/v1/prices/price_x" for c in cs.calls)


def test_unmanaged_product_and_plan_holding_catalog_ids_are_problems() -> None:
    cs = diff(
        CATALOG,
        state(
            applied(
                product=unmanaged(Kind.PRODUCT, "suite", "suite", name="Suite"),
                gold=unmanaged(Kind.PLAN, "gold", "gold", currency="usd", amount=2000, interval="month"),
            )
        ),
    )
    assert [p.rule for p in cs.problems] == ["plan-id-held-by-unmanaged-plan", "product-id-held-by-unmanaged-product"]


def test_plan_amount_change_is_an_error_with_the_way_out() -> None:
    gold = res(Kind.PLAN, "gold", product="suite", currency="usd", amount=2500, interval="month")
    cs = diff(Catalog.of([METER, PRODUCT, SEATS, EMAILS, gold]), state(applied()))
    (problem,) = cs.problems
    assert problem.rule == "plan-immutable-field" and "amount" in problem.message
    assert problem.hint == PLAN.way_out
    assert cs.calls == ()


def test_plan_nickname_is_updated_in_place() -> None:
    gold = res(Kind.PLAN, "gold", **{**GOLD.params, "nickname": "Gold", "metadata": {}})
    cs = diff(Catalog.of([METER, PRODUCT, SEATS, EMAILS, gold]), state(applied(gold=live(gold, "gold", nickname="x"))))
    assert [(c.path, c.params) for c in cs.calls] == [("/v1/plans/gold", {"nickname": "Gold"})]


def test_a_nickname_stripe_cannot_unset_is_a_problem_not_a_call() -> None:
    # Stripe answers nickname="" with 400 parameter_invalid_empty: the plan says what to write instead
    cs = diff(CATALOG, state(applied(gold=live(GOLD, "gold", nickname="by hand"))))
    assert cs.calls == ()
    (problem,) = cs.problems
    assert (problem.address, problem.rule) == ("plan.gold", "field-cannot-be-unset")
    assert "`nickname`" in problem.message and '"by hand"' in problem.message
    assert problem.hint == 'give `nickname` a value again (`nickname: "by hand"` keeps what the account has); ' + (
        "Stripe has no empty nickname"
    )


def test_meter_aggregation_change_is_an_error_and_display_name_an_update() -> None:
    other = res(Kind.METER, "emails_sent", display_name="Emails sent", default_aggregation={"formula": "count"})
    cs = diff(Catalog.of([other, PRODUCT, SEATS, EMAILS, GOLD]), state(applied()))
    (problem,) = cs.problems
    assert problem.rule == "meter-immutable-field" and "default_aggregation" in problem.message
    assert "new event_name" in problem.hint

    renamed = live(METER, "mtr_1", display_name="Old name")
    cs = diff(CATALOG, state(applied(meter=renamed)))
    assert change(cs, "meter.emails_sent").action is Action.UPDATE
    assert [(c.path, c.params) for c in cs.calls] == [("/v1/billing/meters/mtr_1", {"display_name": "Emails sent"})]


def test_inactive_meter_is_reactivated_before_prices_use_it() -> None:
    objs = [o for o in applied(meter=live(METER, "mtr_1", status="inactive")) if o.id != "price_emails"]
    cs = diff(CATALOG, state(objs))
    assert [c.path for c in cs.calls] == ["/v1/billing/meters/mtr_1/reactivate", "/v1/prices"]


def test_removed_default_price_of_a_kept_product_is_a_problem() -> None:
    product = res(Kind.PRODUCT, "suite", name="Suite")  # names no default price
    gone = live(res(Kind.PRICE, "gone", product="suite", currency="usd", unit_amount=1), "price_gone")
    objs = applied(product=live(PRODUCT, "suite", default_price="gone"))
    cs = diff(Catalog.of([METER, product, SEATS, EMAILS, GOLD]), state([*objs, gone]))
    assert [p.rule for p in cs.problems] == ["default-price-removed"]


def test_the_diff_is_deterministic_whatever_the_order_of_the_account() -> None:
    old = live(res(Kind.PRICE, "old", product="suite", currency="usd", unit_amount=5), "price_old")
    objs = [*applied(seats=live(SEATS, "price_seats", unit_amount=900)), old]
    first = json.dumps(diff(CATALOG, state(objs)).to_json(), sort_keys=True)
    for seed in range(5):
        random.Random(seed).shuffle(objs)
        assert json.dumps(diff(CATALOG, state(objs)).to_json(), sort_keys=True) == first


def test_changeset_round_trips_through_json_with_fingerprint_and_version() -> None:
    account = state(applied(seats=live(SEATS, "price_seats", unit_amount=900)))
    cs = diff(CATALOG, account, api_version="2026-10-28.endive")
    assert cs.fingerprint == account.fingerprint and cs.api_version == "2026-10-28.endive"
    again = ChangeSet.from_json(json.loads(json.dumps(cs.to_json())))
    assert again.to_json() == cs.to_json()


def test_default_price_follows_its_price_through_a_replace_even_when_the_catalog_names_none() -> None:
    product = res(Kind.PRODUCT, "suite", name="Suite")
    cheaper = res(
        Kind.PRICE, "seats", product="suite", currency="usd", unit_amount=900, recurring={"interval": "month"}
    )
    old_seats = live(
        res(Kind.PRICE, "seats", product="suite", currency="usd", unit_amount=1000, recurring={"interval": "month"}),
        "price_seats",
    )
    objs = [live(product, "suite", default_price="seats"), old_seats]
    cs = diff(Catalog.of([product, cheaper]), state(objs))
    assert [c.action for c in cs.calls] == ["create", "set default price", "archive old version"]
    assert change(cs, "product.suite").action is Action.NOOP  # the catalog does not manage it, nothing to show
    assert [w.rule for w in cs.warnings] == ["field-kept"]  # but the plan says that it stays


def test_a_default_price_deleted_from_the_catalog_stays_and_the_plan_says_so() -> None:
    """Stripe cannot unset a product's default_price (its update takes no ""): deleting the line changes nothing
    in Stripe, so "no changes" comes with a warning that names what stays and what to write."""
    product = res(Kind.PRODUCT, "suite", name="Suite")
    seats = res(Kind.PRICE, "seats", product="suite", currency="usd", unit_amount=900, recurring={"interval": "month"})
    objs = [live(product, "suite", default_price="seats"), live(seats, "price_seats")]
    cs = diff(Catalog.of([product, seats]), state(objs))
    assert cs.calls == () and cs.problems == ()
    (warning,) = cs.warnings
    assert (warning.rule, warning.severity.value) == ("field-kept", "warning")
    assert "product 'suite' names no default_price, so the account's stays: seats" in warning.message
    assert warning.hint == "write `default_price: seats` to say so, or name another of the product's prices"
    # named, or a default price no catalog entry could name (made by hand, without a lookup_key): nothing to say
    named = res(Kind.PRODUCT, "suite", name="Suite", default_price="seats")
    assert diff(Catalog.of([named, seats]), state([live(named, "suite"), objs[1]])).warnings == ()
    assert diff(Catalog.of([product]), state([live(product, "suite", default_price="price_byhand")])).warnings == ()


def test_a_price_reactivated_as_the_new_default_is_active_before_the_product_points_at_it() -> None:
    # Stripe refuses an archived price as a product's default: the reactivation must be sent first.
    product = res(Kind.PRODUCT, "suite", name="Suite", default_price="emails")
    catalog = Catalog.of([METER, product, SEATS, EMAILS, GOLD])
    account = applied(
        product=live(PRODUCT, "suite"),  # its default is still seats
        emails=live(EMAILS, "price_emails", active=False),  # archived by hand
    )
    cs = diff(catalog, state(account))
    order = [(c.address, c.action.value) for c in cs.calls]
    assert order.index(("price.emails", "update")) < order.index(("product.suite", "set default price"))
    assert calls_for(cs, "price.emails")[0].params == {"active": True}


def test_replaced_price_still_another_products_default_is_a_problem_not_a_failed_archive() -> None:
    # The price moves to another product; its old version is still the old product's default price, which
    # Stripe would refuse to archive half-way through the apply.
    other = res(Kind.PRODUCT, "other", name="Other")
    moved = res(Kind.PRICE, "seats", **{**SEATS.params, "product": "other"})
    product = res(Kind.PRODUCT, "suite", name="Suite")  # names no default price any more
    catalog = Catalog.of([METER, product, other, moved, EMAILS, GOLD])
    account = [*applied(), live(other, "other")]
    cs = diff(catalog, state(account))
    assert [(p.address, p.rule) for p in cs.problems] == [("price.seats", "default-price-blocks-replace")]
    assert "product suite" in cs.problems[0].hint
    assert not [c for c in cs.calls if c.path == "/v1/prices/price_seats"]  # no archive of the default


def test_replaced_price_of_a_product_leaving_the_catalog_stays_active_with_a_note() -> None:
    other = res(Kind.PRODUCT, "other", name="Other")
    moved = res(Kind.PRICE, "seats", **{**SEATS.params, "product": "other"})
    catalog = Catalog.of([METER, other, moved])
    account = [live(METER, "mtr_1"), live(PRODUCT, "suite"), live(SEATS, "price_seats"), live(other, "other")]
    cs = diff(catalog, state(account))
    assert not cs.problems
    assert change(cs, "price.seats").action is Action.REPLACE
    assert change(cs, "product.suite").action is Action.ARCHIVE
    assert any("stays active" in note for note in texts(change(cs, "product.suite")))
    assert not [c for c in cs.calls if c.path == "/v1/prices/price_seats"]


def test_a_repriced_currency_option_is_an_update_that_says_existing_subscribers_pay_it() -> None:
    priced = res(Kind.PRICE, "seats", **{**SEATS.params, "currency_options": {"eur": {"unit_amount": 900}}})
    was = res(Kind.PRICE, "seats", **{**SEATS.params, "currency_options": {"eur": {"unit_amount": 800}}})
    cs = diff(Catalog.of([METER, PRODUCT, priced, EMAILS, GOLD]), state(applied(seats=live(was, "price_seats"))))
    seats = change(cs, "price.seats")
    assert seats.action is Action.UPDATE
    assert any("existing subscriptions billed in eur pay the new amounts" in note for note in texts(seats))
    assert calls_for(cs, "price.seats")[0].params == {"currency_options": {"eur": {"unit_amount": 900}}}


def _rows(found: Change, currency: str) -> dict[int, tuple[Any, Any]]:
    return {r["quantity"]: (r["before"], r["after"]) for r in found.impact if r["currency"] == currency}


def test_price_impact_covers_every_currency_the_main_one_in_full() -> None:
    options = {"eur": {"unit_amount": 900}, "gbp": {"unit_amount": 800}}
    annual = res(Kind.PRICE, "annual", product="suite", currency="usd", unit_amount=1000,
                 recurring={"interval": "year"}, transform_quantity={"divide_by": 5, "round": "up"},
                 currency_options=options)
    created = change(planned(Catalog.of([METER, PRODUCT, SEATS, EMAILS, GOLD, annual]), state(applied())),
                     "price.annual")
    assert [r["currency"] for r in created.impact] == ["usd"] * 5 + ["eur"] * 3 + ["gbp"] * 3  # own currency first
    assert _rows(created, "usd") == {1: (None, "$10.00"), 5: (None, "$10.00"), 6: (None, "$20.00"),
                                     10: (None, "$20.00"), 11: (None, "$30.00")}
    assert _rows(created, "eur") == {1: (None, "€9.00"), 6: (None, "€18.00"), 11: (None, "€27.00")}


def test_price_impact_of_a_replace_shows_the_options_that_change_where_they_change() -> None:
    def tiered(up_to: int, eur: int) -> Resource:
        return res(Kind.PRICE, "volume", product="suite", currency="usd", billing_scheme="tiered",
                   tiers_mode="volume", recurring={"interval": "month"},
                   tiers=[{"up_to": up_to, "unit_amount": 1000}, {"up_to": "inf", "unit_amount": 800}],
                   currency_options={
                       "eur": {"tiers": [{"up_to": up_to, "unit_amount": eur}, {"up_to": "inf", "unit_amount": 700}]},
                       "gbp": {"tiers": [{"up_to": 5, "unit_amount": 850}, {"up_to": "inf", "unit_amount": 650}]},
                   })

    cs = planned(Catalog.of([METER, PRODUCT, SEATS, EMAILS, GOLD, tiered(10, 900)]),
                 state([*applied(), live(tiered(5, 900), "price_volume")]))
    volume = change(cs, "price.volume")
    assert volume.action is Action.REPLACE
    assert _rows(volume, "usd")[6] == ("$48.00", "$60.00")
    # eur moves at the same boundary: only the quantities whose amount changes; gbp does not change at all
    assert _rows(volume, "eur") == {6: ("€42.00", "€54.00"), 10: ("€70.00", "€90.00")}
    assert _rows(volume, "gbp") == {}
    assert Note("price impact: amounts in gbp do not change", NoteTopic.PRICE_IMPACT) in volume.notes


def test_price_impact_says_once_what_it_assumed_and_marks_the_rows() -> None:
    graduated = res(Kind.PRICE, "graduated", product="suite", currency="usd", billing_scheme="tiered",
                    tiers_mode="graduated", recurring={"interval": "month"},
                    tiers=[{"up_to": 5, "unit_amount": 1000, "flat_amount": 500},
                           {"up_to": "inf", "unit_amount": 800}],
                    currency_options={"eur": {"tiers": [{"up_to": 5, "unit_amount": 900, "flat_amount": 400},
                                                        {"up_to": "inf", "unit_amount": 700}]}})
    half = res(Kind.PRICE, "half", product="suite", currency="usd", unit_amount_decimal="0.5",
               recurring={"interval": "month"})
    cs = planned(Catalog.of([METER, PRODUCT, SEATS, EMAILS, GOLD, graduated, half]), state(applied()))
    found = change(cs, "price.graduated")
    zero = Note(f"price impact assumes {ZERO_USAGE_GRADUATED.text}", NoteTopic.ASSUMPTION, "zero-usage-flat-fee")
    assert list(found.notes) == [zero]  # once, though two currencies assume it
    marked = [(r["currency"], r["quantity"]) for r in found.impact if r.get("note")]
    assert marked == [("usd", 0), ("eur", 0)]
    assert all(r["note"] == "assumes zero-usage-flat-fee" for r in found.impact if r.get("note"))
    halves = change(cs, "price.half")
    assert Note(f"price impact assumes {HALF_UP.text}", NoteTopic.ASSUMPTION, "half-up") in halves.notes
    assert next(r for r in halves.impact if r["quantity"] == 1) == {
        "quantity": 1, "before": None, "after": "$0.01", "currency": "usd", "change_percent": None,
        "note": "assumes half-up"}


def test_a_repriced_currency_option_shows_what_its_subscribers_will_pay() -> None:
    priced = res(Kind.PRICE, "seats", **{**SEATS.params, "currency_options": {"eur": {"unit_amount": 900},
                                                                               "gbp": {"unit_amount": 800}}})
    was = res(Kind.PRICE, "seats", **{**SEATS.params, "currency_options": {"eur": {"unit_amount": 800},
                                                                            "gbp": {"unit_amount": 800}}})
    cs = planned(Catalog.of([METER, PRODUCT, priced, EMAILS, GOLD]), state(applied(seats=live(was, "price_seats"))))
    seats = change(cs, "price.seats")
    assert seats.action is Action.UPDATE
    # the usd amounts cannot change in place, gbp's do not: only eur, where they do
    assert {r["currency"] for r in seats.impact} == {"eur"}
    assert _rows(seats, "eur")[6] == ("€16.00", "€18.00")
    assert "price impact: amounts in gbp do not change" in texts(seats)


def test_price_impact_shows_a_few_option_currencies_and_names_the_rest() -> None:
    codes = ["aud", "cad", "chf", "eur", "gbp", "sek"]
    many = res(Kind.PRICE, "many", product="suite", currency="usd", unit_amount=1000, recurring={"interval": "month"},
               currency_options={c: {"unit_amount": 900} for c in codes})
    found = change(planned(Catalog.of([METER, PRODUCT, SEATS, EMAILS, GOLD, many]), state(applied())), "price.many")
    assert list(dict.fromkeys(r["currency"] for r in found.impact)) == ["usd", "aud", "cad", "chf", "eur"]
    assert "price impact not shown for 2 more currencies (gbp, sek)" in texts(found)


def test_impact_notes_come_after_the_default_price_note() -> None:
    new_seats = res(Kind.PRICE, "seats", **{**SEATS.params, "unit_amount_decimal": "1000.5", "unit_amount": None})
    cs = planned(Catalog.of([METER, PRODUCT, new_seats, EMAILS, GOLD]), state(applied()))
    notes = change(cs, "price.seats").notes
    assert [n.topic for n in notes] == [NoteTopic.CONSEQUENCE] * 3 + [NoteTopic.ASSUMPTION]
    assert "default price moves" in notes[2].text
    assert notes[-1] == Note(f"price impact assumes {HALF_UP.text}", NoteTopic.ASSUMPTION, "half-up")


def test_the_diff_alone_computes_no_price_impact() -> None:
    # what changes is the diff's; what it costs a customer is a pass over its result
    new_seats = res(Kind.PRICE, "seats", **{**SEATS.params, "unit_amount": 1200})
    annual = res(Kind.PRICE, "annual", product="suite", currency="usd", unit_amount=9000,
                 recurring={"interval": "year"})
    account = state(applied())
    alone = diff(Catalog.of([METER, PRODUCT, new_seats, EMAILS, GOLD, annual]), account)
    assert all(c.impact == () for c in alone.changes)
    assert all(n.topic is NoteTopic.CONSEQUENCE for c in alone.changes for n in c.notes)
    priced = with_price_impact(alone)
    assert {c.address for c in priced.changes if c.impact} == {"price.seats", "price.annual"}
    assert priced.calls == alone.calls and priced.problems == alone.problems
    # a change with nothing to price (a nickname in place, a meter, a product) is left as the diff made it
    renamed = diff(Catalog.of([METER, PRODUCT, res(Kind.PRICE, "seats", **{**SEATS.params, "nickname": "Seats"}),
                               EMAILS, GOLD]), account)
    assert with_price_impact(renamed) == renamed


def test_calls_come_stage_by_stage_in_the_order_the_diff_made_them() -> None:
    # a changeset that touches every stage: a new meter, a product update, a new and a replaced price, a plan
    # update, a default price move, archives of a price and a product the catalog no longer lists
    meter = res(Kind.METER, "api_calls", display_name="API calls", default_aggregation={"formula": "sum"})
    product = res(Kind.PRODUCT, "suite", name="Suite 2", default_price="seats")
    seats = res(Kind.PRICE, "seats", **{**SEATS.params, "unit_amount": 1200})
    extra = res(Kind.PRICE, "extra", product="suite", currency="usd", unit_amount=5, recurring={"interval": "month"})
    gold = res(Kind.PLAN, "gold", **{**GOLD.params, "nickname": "Gold"})
    gone = live(res(Kind.PRICE, "gone", product="suite", currency="usd", unit_amount=1), "price_gone")
    old_product = live(res(Kind.PRODUCT, "old", name="Old"), "old")
    cs = diff(Catalog.of([METER, meter, product, seats, EMAILS, extra, gold]), state([*applied(), gone, old_product]))
    stages = [c.stage for c in cs.calls]
    assert [s.value for s in dict.fromkeys(stages)] == [
        "meters", "products", "creates", "updates", "default prices", "archives", "product archives"
    ]
    assert [c.stage.rank for c in cs.calls] == sorted(c.stage.rank for c in cs.calls)
    assert [(c.action.value, c.address) for c in cs.calls if c.stage.value == "creates"] == [
        ("create", "price.extra"),  # the catalog's order: extra and seats are both prices, sorted by key
        ("create", "price.seats"),
    ]


def test_a_price_the_catalog_marks_inactive_is_archived_after_the_default_price_moves() -> None:
    # until the move, it may still be the product's default price, which Stripe refuses to archive
    product = res(Kind.PRODUCT, "suite", name="Suite", default_price="emails")
    seats = res(Kind.PRICE, "seats", **{**SEATS.params, "active": False, "nickname": "Retired"})
    cs = diff(Catalog.of([METER, product, seats, EMAILS, GOLD]), state(applied()))
    assert change(cs, "price.seats").action is Action.UPDATE
    assert [(c.action.value, c.stage.value, c.address) for c in cs.calls] == [
        ("set default price", "default prices", "product.suite"),
        ("archive", "archives", "price.seats"),
    ]
    assert cs.calls[-1].params == {"active": False, "nickname": "Retired"}


def test_every_problem_rule_is_one_the_diff_reports() -> None:
    """The registry of plan-time problems is the whole list: each of its rules comes out of some diff (or of the
    check of what is left of a saved plan between rounds of apply)."""
    gone = live(res(Kind.PRICE, "gone", product="suite", currency="usd", unit_amount=1), "price_gone")
    suite = res(Kind.PRODUCT, "suite", name="Suite")  # names no default price
    forty_eight = {f"k{n}": "v" for n in range(48)}
    # 50 keys, two of them pricebook's own that an update keeps: the catalog's 48th key would make 51
    crowded = {f"k{n}": "v" for n in range(47)} | {**MANAGED_METADATA, "pricebook_id": "x", "pricebook_replaces": "y"}
    scenarios = [
        diff(CATALOG, state(applied(seats=unmanaged(Kind.PRICE, "price_x", "seats", product="suite",
                                                          currency="usd", unit_amount=1000)))),
        diff(CATALOG, state(applied(gold=unmanaged(Kind.PRICE, "gold", "gold_price", product="suite",
                                                         currency="usd", unit_amount=2000)))),
        diff(CATALOG, state(applied(product=unmanaged(Kind.PRODUCT, "suite", "suite", name="Suite"),
                                    gold=unmanaged(Kind.PLAN, "gold", "gold", currency="usd", amount=2000,
                                                   interval="month")))),
        diff(Catalog.of([METER, PRODUCT, SEATS, EMAILS, res(Kind.PLAN, "gold", **{**GOLD.params, "amount": 1})]),
             state(applied())),
        diff(Catalog.of([res(Kind.METER, "emails_sent", display_name="E", default_aggregation={"formula": "count"}),
                         PRODUCT, SEATS, EMAILS, GOLD]), state(applied())),
        diff(Catalog.of([METER, suite, res(Kind.PRODUCT, "other", name="Other"),
                         res(Kind.PRICE, "seats", **{**SEATS.params, "product": "other"}), EMAILS, GOLD]),
             state([*applied(), live(res(Kind.PRODUCT, "other", name="Other"), "other")])),
        diff(Catalog.of([METER, suite, SEATS, EMAILS, GOLD]),
             state([*applied(product=live(PRODUCT, "suite", default_price="gone")), gone])),
        diff(CATALOG, state(applied(gold=live(GOLD, "gold", nickname="by hand")))),
        diff(CATALOG, state([*applied(), keyless("price_by_hand")])),
        diff(Catalog.of([METER, PRODUCT, SEATS, EMAILS]), state(applied())),
        diff(Catalog.of([METER, res(Kind.PRODUCT, "suite", name="Suite", default_price="seats", metadata=forty_eight),
                         SEATS, EMAILS, GOLD]),
             state(applied(product=dataclasses.replace(live(PRODUCT, "suite"), raw={"metadata": crowded})))),
    ]
    from tests.unit.test_adopt_diff import problem_scenarios  # it builds on this module's catalog

    # and the one a saved plan's later round finds: a price of pricebook's left active without its lookup key
    left = LiveObject(Kind.PRICE, "price_left", None, True, {"active": True})
    later, _ = left_of_saved_plan(ChangeSet(), [], set(), {}, AccountState.of([]), AccountState.of([left]))
    reported = {p.rule for cs in [*scenarios, *problem_scenarios(), later] for p in cs.problems}
    assert reported == {rule.id for rule in PROBLEM_RULES}


# -- what no catalog entry can name, and pricebook's own leftovers ----------------------------------------------


def keyless(object_id: str, *, replaced_by: LiveObject | None = None, **override: Any) -> LiveObject:
    """A managed active price without a lookup_key (as `transfer_lookup_key` leaves the old version of a price)."""
    attrs = {**live(SEATS, object_id).attrs, "unit_amount": 900, **override}
    return LiveObject(Kind.PRICE, object_id, None, True, attrs)


def successor(of: str, resource: Resource = SEATS, object_id: str = "price_seats") -> LiveObject:
    """The live price that replaced `of`: it holds the lookup_key, and names `of` (metadata pricebook_replaces)."""
    return dataclasses.replace(live(resource, object_id), replaces=of)


def test_a_managed_price_without_a_lookup_key_is_a_problem_never_an_archive() -> None:
    cs = diff(CATALOG, state([*applied(), keyless("price_by_hand")]))
    (problem,) = cs.problems
    assert (problem.rule, problem.address) == ("managed-price-without-lookup-key", "price.price_by_hand")
    assert "no lookup_key" in problem.message and "adopt" in problem.hint and "lookup_key" in problem.hint
    assert cs.calls == ()
    assert all(c.action is Action.NOOP for c in cs.changes)
    assert cs.mass_archive is None


def test_the_old_version_an_interrupted_replace_left_active_is_archived() -> None:
    # the replace created price_seats (which took the lookup_key and names price_old) and stopped before
    # archiving price_old: the next plan finishes the replace
    cs = diff(CATALOG, state([*applied(seats=successor("price_old")), keyless("price_old")]))
    assert cs.problems == ()
    old = change(cs, "price.price_old")
    assert old.action is Action.ARCHIVE and old.live_id == "price_old"
    assert "old version of price.seats" in old.reason and "stopped before archiving" in old.reason
    assert [(c.path, c.params, c.action.value) for c in cs.calls] == [
        ("/v1/prices/price_old", {"active": False}, "archive old version")
    ]
    assert cs.mass_archive is None  # finishing pricebook's own replace is no removal


def test_an_interrupted_replace_that_left_the_old_version_the_default_moves_the_default_first() -> None:
    # stopped after the create, before the default price move: the product still points at the old version
    product = live(PRODUCT, "suite", default_price="price_old")  # a price without lookup_key shows as its id
    catalog = Catalog.of([METER, res(Kind.PRODUCT, "suite", name="Suite"), SEATS, EMAILS, GOLD])  # names none
    cs = diff(catalog, state([*applied(product=product, seats=successor("price_old")), keyless("price_old")]))
    assert cs.problems == ()
    assert [(c.action.value, c.path, c.params) for c in cs.calls] == [
        ("set default price", "/v1/products/suite", {"default_price": "price_seats"}),
        ("archive old version", "/v1/prices/price_old", {"active": False}),
    ]
    moved = change(cs, "product.suite")
    assert moved.action is Action.UPDATE
    assert [(f.path, f.before, f.after) for f in moved.fields] == [("default_price", "price_old", "seats")]


def test_a_second_new_version_two_applies_made_at_once_is_archived() -> None:
    # both replaced price_old; price_later took the lookup_key from price_earlier, left active without one
    earlier = dataclasses.replace(keyless("price_earlier"), replaces="price_old")
    later = successor("price_old", object_id="price_later")
    cs = diff(CATALOG, state([*applied(seats=later), earlier]))
    assert cs.problems == ()
    twin = change(cs, "price.price_earlier")
    assert twin.action is Action.ARCHIVE
    assert "second new version of price.seats" in twin.reason and "price_later" in twin.reason
    assert [(c.path, c.action.value) for c in cs.calls] == [("/v1/prices/price_earlier", "archive old version")]
    # a price that replaced something, but whose key nobody holds for that replace, is still nobody's to archive
    alone = diff(CATALOG, state([*applied(), earlier]))
    assert [p.rule for p in alone.problems] == ["managed-price-without-lookup-key"]


def test_only_a_managed_successor_makes_a_price_pricebook_s_leftover() -> None:
    foreign = dataclasses.replace(
        unmanaged(Kind.PRICE, "price_theirs", "theirs", product="suite", currency="usd", unit_amount=7),
        replaces="price_old",
    )
    cs = diff(CATALOG, state([*applied(), foreign, keyless("price_old")]))
    assert [p.rule for p in cs.problems] == ["managed-price-without-lookup-key"]
    assert cs.calls == ()


def test_a_replace_names_the_price_it_replaces_on_the_new_price() -> None:
    seats = res(Kind.PRICE, "seats", **{**SEATS.params, "unit_amount": 1200})
    cs = diff(Catalog.of([METER, PRODUCT, seats, EMAILS, GOLD]), state(applied()))
    (create,) = [c for c in cs.calls if c.action.value == "create"]
    assert create.params["metadata"] == {"managed_by": "pricebook", "pricebook_replaces": "price_seats"}
    # and the record is pricebook's, never compared: the new price, as Stripe returns it, is up to date
    raw = {**create.params, "id": "price_new", "object": "price", "active": True, "type": "recurring"}
    assert canonical(Kind.PRICE, raw)["metadata"] == seats.attrs["metadata"]


# -- many archives at once ----------------------------------------------------------------------------------------


def extra_prices(count: int) -> list[LiveObject]:
    return [
        live(res(Kind.PRICE, f"old_{n}", product="suite", currency="usd", unit_amount=n + 1), f"price_old_{n}")
        for n in range(count)
    ]


def test_archiving_more_than_the_limit_is_blocked_unless_allowed() -> None:
    account = state([*applied(), *extra_prices(11)])
    cs = diff(CATALOG, account)
    assert cs.mass_archive is not None
    assert (cs.mass_archive.count, cs.mass_archive.limit, cs.mass_archive.whole_kinds) == (11, 10, ())
    assert not cs.mass_archive.allowed
    (problem,) = cs.problems
    assert problem.rule == "mass-archive" and "11 objects the catalog no longer lists (more than 10)" in problem.message
    assert "--allow-mass-archive" in problem.hint
    allowed = diff(CATALOG, account, allow_mass_archive=True)
    assert allowed.problems == () and allowed.mass_archive is not None and allowed.mass_archive.allowed
    assert len([c for c in allowed.calls if c.action.value == "archive"]) == 11
    # ten are few enough
    assert diff(CATALOG, state([*applied(), *extra_prices(10)])).mass_archive is None


def test_archiving_every_managed_object_of_a_kind_is_blocked() -> None:
    cs = diff(Catalog.of([METER, PRODUCT, SEATS, EMAILS]), state(applied()))  # the only plan is gone
    assert cs.mass_archive is not None and cs.mass_archive.whole_kinds == (Kind.PLAN,)
    assert [p.rule for p in cs.problems] == ["mass-archive"]
    assert "every managed plan" in cs.problems[0].message
    # an empty catalog: every product, price and plan (none of them a default price, which would stay active)
    empty = diff(Catalog.of([]), state(applied(product=live(PRODUCT, "suite", default_price=None))))
    assert empty.mass_archive is not None
    assert empty.mass_archive.whole_kinds == (Kind.PRODUCT, Kind.PRICE, Kind.PLAN)
    # a price without a lookup_key cannot be removed, so the others are still every price a catalog can name
    prices_gone = diff(Catalog.of([METER, res(Kind.PRODUCT, "suite", name="Suite"), GOLD]),
                       state([*applied(product=live(PRODUCT, "suite", default_price=None)), keyless("price_k")]))
    assert prices_gone.mass_archive is not None and prices_gone.mass_archive.whole_kinds == (Kind.PRICE,)


def test_the_mass_archive_record_round_trips_through_json() -> None:
    cs = diff(CATALOG, state([*applied(), *extra_prices(12)]), allow_mass_archive=True)
    back = ChangeSet.from_json(json.loads(json.dumps(cs.to_json())))
    assert back.mass_archive == cs.mass_archive
    assert cs.to_json()["mass_archive"] == {"count": 12, "limit": 10, "every_managed": [], "allowed": True}
    assert diff(CATALOG, state(applied())).to_json()["mass_archive"] is None
