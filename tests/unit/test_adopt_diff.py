"""The diff of a catalog that adopts objects made by hand (its `adopt:` record for the account), and of a catalog
against an account whose products and plans carry their catalog id in metadata `pricebook_id` (pure)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from compiler.changes.changeset import Action, ChangeSet
from compiler.changes.diff import diff
from compiler.changes.model import Adoption, Catalog, CheckedCatalog
from compiler.changes.planfile import load_changeset, rederived
from compiler.changes.planning import plan_against
from compiler.errors import UnsafeChange
from compiler.render.json import render_json
from compiler.stripe.calls import CallAction, Stage
from compiler.stripe.fields import MANAGED_METADATA, canonical
from compiler.stripe.kinds import Kind
from compiler.stripe.state import AccountState, LiveObject
from tests.unit.test_diff import CATALOG, EMAILS, GOLD, METER, PRODUCT, SEATS, live, res

ACCOUNT = "acct_1Nv0FGQ9RKHgCVdK"
#: what the catalog takes over in ACCOUNT: every entry but the meter (a meter is named, not marked)
TARGETS = {
    (Kind.PRODUCT, "suite"): "prod_E9aWj8Nap9i0Ub",
    (Kind.PRICE, "seats"): "price_1Seats",
    (Kind.PRICE, "emails"): "price_1Emails",
    (Kind.PLAN, "gold"): "gold",
}


def hand_made(kind: Kind, object_id: str, key: str | None, **params: Any) -> LiveObject:
    """An object made in the Dashboard: no mark (whatever `params` say); a product's or plan's identity is its
    Stripe id."""
    params = {k: v for k, v in params.items() if k != "metadata"}
    return LiveObject(kind, object_id, key, False, canonical(kind, {"id": object_id, **params}))


def by_hand(**edits: LiveObject) -> list[LiveObject]:
    """The catalog's content, made by hand: Stripe's ids, no lookup keys, no marks."""
    objs = {
        "meter": live(METER, "mtr_1"),
        "product": hand_made(
            Kind.PRODUCT, "prod_E9aWj8Nap9i0Ub", "prod_E9aWj8Nap9i0Ub", name="Suite", default_price="price_1Seats"
        ),
        "seats": hand_made(Kind.PRICE, "price_1Seats", None, **{**SEATS.params, "product": "prod_E9aWj8Nap9i0Ub"}),
        "emails": hand_made(Kind.PRICE, "price_1Emails", None, **{**EMAILS.params, "product": "prod_E9aWj8Nap9i0Ub"}),
        "gold": hand_made(Kind.PLAN, "gold", "gold", **{**GOLD.params, "product": "prod_E9aWj8Nap9i0Ub"}),
    }
    for obj in objs.values():
        if obj.kind is not Kind.METER:
            assert "managed_by" not in obj.attrs["metadata"]
    objs.update(edits)
    return list(objs.values())


def account(objects: list[LiveObject], account_id: str | None = ACCOUNT, *, livemode: bool = False) -> AccountState:
    return dataclasses.replace(AccountState.of(objects, livemode=livemode), account=account_id)


def adopting(targets: dict[tuple[Kind, str], str] = TARGETS, catalog: Catalog = CATALOG, **kw: Any) -> Catalog:
    return Catalog.of(list(catalog), [Adoption(kw.get("account", ACCOUNT), kw.get("livemode", False), targets)])


def actions(changeset: ChangeSet) -> dict[str, str]:
    return {c.address: c.action.value for c in changeset.changes}


def test_the_record_turns_objects_made_by_hand_into_adopt_actions_and_nothing_else() -> None:
    changeset = diff(adopting(), account(by_hand()))
    assert changeset.problems == ()
    assert actions(changeset) == {
        "meter.emails_sent": "no-op",  # named in the catalog: pricebook's already
        "product.suite": "adopt",
        "price.emails": "adopt",
        "price.seats": "adopt",
        "plan.gold": "adopt",
    }
    calls = [(c.path, c.params, c.action, c.stage) for c in changeset.calls]
    assert calls == [
        (
            "/v1/products/prod_E9aWj8Nap9i0Ub",
            {"metadata": {**MANAGED_METADATA, "pricebook_id": "suite"}},
            CallAction.ADOPT,
            Stage.PRODUCTS,
        ),
        ("/v1/prices/price_1Emails", {"metadata": MANAGED_METADATA, "lookup_key": "emails"}, CallAction.ADOPT,
         Stage.UPDATES),
        ("/v1/prices/price_1Seats", {"metadata": MANAGED_METADATA, "lookup_key": "seats"}, CallAction.ADOPT,
         Stage.UPDATES),
        ("/v1/plans/gold", {"metadata": MANAGED_METADATA}, CallAction.ADOPT, Stage.UPDATES),
    ]  # fmt: skip
    # the default price is the same object under its new name: nothing moves
    seats = next(c for c in changeset.changes if c.key == "seats")
    assert [(f.path, f.before, f.after) for f in seats.fields] == [
        ("lookup_key", None, "seats"),
        ("metadata.managed_by", None, "pricebook"),
    ]
    assert seats.live_id == "price_1Seats"
    assert seats.reason.startswith("made outside pricebook: the catalog takes it over")
    product = next(c for c in changeset.changes if c.kind is Kind.PRODUCT)
    assert [f.path for f in product.fields] == ["metadata.pricebook_id", "metadata.managed_by"]
    assert changeset.left_alone == ()  # what is being adopted is not left alone
    assert changeset.counts()["adopt"] == 4


def test_once_applied_the_objects_are_pricebooks_and_the_plan_is_empty() -> None:
    adopted_product = live(PRODUCT, "prod_E9aWj8Nap9i0Ub")  # known by its pricebook_id: key "suite"
    changeset = diff(
        adopting(),
        account(
            [
                live(METER, "mtr_1"),
                adopted_product,
                live(SEATS, "price_1Seats"),
                live(EMAILS, "price_1Emails"),
                live(GOLD, "gold"),
            ]
        ),
    )
    assert changeset.problems == () and changeset.calls == ()
    assert set(actions(changeset).values()) == {"no-op"}


def test_differences_that_can_change_in_place_are_set_by_the_adopt_call() -> None:
    seats = hand_made(
        Kind.PRICE, "price_1Seats", "old_key", **{**SEATS.params, "product": "prod_E9aWj8Nap9i0Ub", "nickname": "Old"}
    )
    catalog = Catalog.of(
        [METER, PRODUCT, res(Kind.PRICE, "seats", **{**SEATS.params, "nickname": "Seats"}), EMAILS, GOLD]
    )
    changeset = diff(adopting(catalog=catalog), account(by_hand(seats=seats)))
    (call,) = [c for c in changeset.calls if c.address == "price.seats"]
    assert call.params == {"metadata": MANAGED_METADATA, "nickname": "Seats", "lookup_key": "seats"}
    change = next(c for c in changeset.changes if c.key == "seats")
    assert ("lookup_key", "old_key", "seats") in [(f.path, f.before, f.after) for f in change.fields]
    assert change.reason == "made outside pricebook: the catalog takes it over, and sets nickname as the catalog says"


def test_an_archived_object_stays_archived_and_one_the_catalog_archives_is_archived_after_the_moves() -> None:
    gold = hand_made(Kind.PLAN, "gold", "gold", **{**GOLD.params, "product": "prod_E9aWj8Nap9i0Ub", "active": False})
    kept = diff(adopting(catalog=Catalog.of([METER, PRODUCT, SEATS, EMAILS, res(Kind.PLAN, "gold", **{**GOLD.params,
                                                                                           "active": False})])),
                account(by_hand(gold=gold)))  # fmt: skip
    assert [c.params for c in kept.calls if c.address == "plan.gold"] == [{"metadata": MANAGED_METADATA}]
    archived = diff(
        adopting(
            catalog=Catalog.of(
                [METER, PRODUCT, SEATS, EMAILS, res(Kind.PLAN, "gold", **{**GOLD.params, "active": False})]
            )
        ),
        account(by_hand()),
    )
    assert [(c.action, c.stage) for c in archived.calls if c.address == "plan.gold"] == [
        (CallAction.ADOPT, Stage.UPDATES),
        (CallAction.ARCHIVE, Stage.ARCHIVES),
    ]


def test_the_record_of_another_account_or_mode_adopts_nothing() -> None:
    for catalog in (adopting(account="acct_other"), adopting(livemode=True)):
        changeset = diff(catalog, account(by_hand()))
        assert actions(changeset) == {
            "meter.emails_sent": "no-op",
            "product.suite": "create",  # the account's ids are not the catalog's: nothing names them
            "price.emails": "create",
            "price.seats": "create",
        }
        assert [p.rule for p in changeset.problems] == ["plan-id-held-by-unmanaged-plan"]
        assert len(changeset.left_alone) == 4


def test_an_object_the_record_names_that_is_missing_or_of_another_kind_is_a_problem() -> None:
    targets = {**TARGETS, (Kind.PRICE, "seats"): "price_gone", (Kind.PRICE, "emails"): "gold"}
    problems = {(p.address, p.rule) for p in diff(adopting(targets), account(by_hand())).problems}
    assert problems == {("price.seats", "adopt-target-missing"), ("price.emails", "adopt-target-missing")}


def test_an_object_already_pricebooks_under_another_identity_is_a_problem() -> None:
    other = live(res(Kind.PRICE, "other", **SEATS.params), "price_1Seats")
    changeset = diff(adopting(), account(by_hand(seats=other)))
    (problem,) = [p for p in changeset.problems if p.address == "price.seats"]
    assert (problem.address, problem.rule) == ("price.seats", "adopt-target-owned")
    assert "price.other" in problem.message


def test_an_identity_another_object_holds_is_a_problem() -> None:
    holder = hand_made(Kind.PRICE, "price_1Other", "seats", **{**SEATS.params, "product": "prod_E9aWj8Nap9i0Ub"})
    changeset = diff(adopting(), account([*by_hand(), holder]))
    (problem,) = changeset.problems
    assert (problem.address, problem.rule) == ("price.seats", "adopt-identity-taken")
    assert "price_1Other" in problem.message


def test_a_difference_stripe_cannot_make_in_place_is_a_problem_not_a_replace() -> None:
    seats = hand_made(
        Kind.PRICE, "price_1Seats", None, **{**SEATS.params, "product": "prod_E9aWj8Nap9i0Ub", "unit_amount": 900}
    )
    changeset = diff(adopting(), account(by_hand(seats=seats)))
    (problem,) = changeset.problems
    assert (problem.address, problem.rule) == ("price.seats", "adopt-changes-fixed-field")
    assert "unit_amount: 900 -> 1000" in problem.message
    assert not [c for c in changeset.calls if c.address == "price.seats"]


def test_a_second_account_knows_the_catalogs_objects_by_pricebook_id() -> None:
    """Stripe made up the product's id there: references go to that id, and nothing is created twice."""
    product = live(PRODUCT, "prod_Q9live")  # key "suite", Stripe id prod_Q9live
    objects = [live(METER, "mtr_9"), product, live(SEATS, "price_9S"), live(EMAILS, "price_9E"), live(GOLD, "gold")]
    assert diff(CATALOG, account(objects)).calls == ()
    # a new price, made the product's default: both calls name the product by its Stripe id
    extra = res(
        Kind.PRICE, "seats_yearly", product="suite", currency="usd", unit_amount=1, recurring={"interval": "year"}
    )
    suite = res(Kind.PRODUCT, "suite", name="Suite", default_price="seats_yearly")
    changeset = diff(Catalog.of([METER, suite, SEATS, EMAILS, GOLD, extra]), account(objects))
    assert [
        (c.action.value, c.path, c.params.get("product", c.params.get("default_price"))) for c in changeset.calls
    ] == [
        ("create", "/v1/prices", "prod_Q9live"),
        ("set default price", "/v1/products/prod_Q9live", "{{price.seats_yearly}}"),
    ]


def test_a_catalog_id_two_objects_answer_to_is_a_problem() -> None:
    by_metadata = live(PRODUCT, "prod_Q9live")
    by_id = hand_made(Kind.PRODUCT, "suite", "suite", name="Another suite")
    changeset = diff(CATALOG, account([*by_hand(), by_metadata, by_id]))
    assert ("product.suite", "catalog-id-ambiguous") in {(p.address, p.rule) for p in changeset.problems}


def problem_scenarios() -> list[ChangeSet]:
    """A diff that reports each problem of adopting (for the test that every problem rule is reported)."""
    seats = hand_made(
        Kind.PRICE, "price_1Seats", None, **{**SEATS.params, "product": "prod_E9aWj8Nap9i0Ub", "unit_amount": 900}
    )
    holder = hand_made(Kind.PRICE, "price_1Other", "emails", **{**EMAILS.params, "product": "prod_E9aWj8Nap9i0Ub"})
    return [
        diff(adopting({**TARGETS, (Kind.PLAN, "gold"): "gone"}), account([*by_hand(seats=seats), holder])),
        diff(adopting(), account(by_hand(gold=live(res(Kind.PLAN, "silver", **GOLD.params), "gold")))),
        diff(CATALOG, account([*by_hand(), live(PRODUCT, "prod_Q9live"), hand_made(Kind.PRODUCT, "suite", "suite")])),
        diff(adopting(), account(by_hand(), None)),
    ]


def test_each_problem_of_adopting_has_a_scenario() -> None:
    reported = {p.rule for cs in problem_scenarios() for p in cs.problems}
    assert reported >= {
        "adopt-target-missing",
        "adopt-target-owned",
        "adopt-identity-taken",
        "adopt-changes-fixed-field",
        "catalog-id-ambiguous",
        "adopt-account-unknown",
    }


def test_a_replace_says_what_the_old_price_has_that_the_new_one_will_not() -> None:
    raw = {"id": "price_1Seats", "recurring": {"interval": "month", "aggregate_usage": "max"}, "tax_details": {}}
    old = dataclasses.replace(live(SEATS, "price_1Seats", unit_amount=900), raw=raw)
    changeset = diff(CATALOG, account(by_hand(seats=old)))
    (change,) = [c for c in changeset.changes if c.key == "seats"]
    assert change.action is Action.REPLACE
    assert any("recurring.aggregate_usage, which a catalog cannot state" in n.text for n in change.notes)


def test_every_view_names_the_product_beside_the_id() -> None:
    from compiler.render.json import render_json
    from compiler.render.markdown import render_markdown
    from compiler.render.text import render_text

    gone = hand_made(Kind.PRICE, "price_1Gone", "gone", product="prod_E9aWj8Nap9i0Ub", currency="usd", unit_amount=5)
    managed_gone = dataclasses.replace(gone, managed=True)
    changeset = diff(adopting(), account([*by_hand(), managed_gone]))
    names = {c.address: c.product_name for c in changeset.changes}
    # the catalog's name for its entries; the account's for what only the account has
    assert names["price.seats"] == names["product.suite"] == names["plan.gold"] == "Suite"
    assert names["price.gone"] == "Suite" and names["meter.emails_sent"] is None
    assert "  # price.seats (Suite) will be adopted" in render_text(changeset, color=False)
    markdown = render_markdown(changeset)
    assert "<summary><code>price.seats</code> (Suite): 2 fields changed</summary>" in markdown
    # adoptions of a kind share their reason (the marks are in the fields), so the comment groups them
    assert (
        "- **`<=` 2 prices to adopt** (made outside pricebook: the catalog takes it over): `emails`, `seats`"
        in markdown
    )
    assert '"product_name":"Suite"' in render_json(changeset)


def test_a_marked_price_without_a_lookup_key_is_adopted_rather_than_a_problem() -> None:
    made = hand_made(Kind.PRICE, "price_1Seats", None, **{**SEATS.params, "product": "prod_E9aWj8Nap9i0Ub"})
    marked = dataclasses.replace(made, managed=True, attrs={**made.attrs, "metadata": dict(MANAGED_METADATA)})
    without_record = diff(CATALOG, account(by_hand(seats=marked)))
    assert "managed-price-without-lookup-key" in {p.rule for p in without_record.problems}
    changeset = diff(adopting(), account(by_hand(seats=marked)))
    assert changeset.problems == ()
    (change,) = [c for c in changeset.changes if c.key == "seats"]
    assert change.action is Action.ADOPT and change.reason.startswith("marked as pricebook's, but no lookup_key")
    (call,) = [c for c in changeset.calls if c.address == "price.seats"]
    assert call.params == {"lookup_key": "seats"}  # the mark is there already


def test_a_key_that_cannot_read_its_account_blocks_what_the_record_would_adopt_and_nothing_else() -> None:
    waiting = diff(adopting(), account(by_hand(), None))
    assert [(p.address, p.rule) for p in waiting.problems if p.rule == "adopt-account-unknown"] == [
        ("plan.gold", "adopt-account-unknown")
    ]
    (problem,) = [p for p in waiting.problems if p.rule == "adopt-account-unknown"]
    assert "takes over gold, price_1Emails, price_1Seats, prod_E9aWj8Nap9i0Ub," in problem.message
    adopted = [live(METER, "mtr_1"), live(PRODUCT, "prod_E9aWj8Nap9i0Ub"), live(SEATS, "price_1Seats"),
               live(EMAILS, "price_1Emails"), live(GOLD, "gold")]  # fmt: skip
    assert diff(adopting(), account(adopted, None)).problems == ()  # done: the record has nothing left to do


def test_a_saved_plan_adopts_only_what_the_record_it_holds_names(tmp_path: Path) -> None:
    state = account(by_hand())
    changeset = plan_against(CheckedCatalog(adopting()), state)
    saved = tmp_path / "plan.json"
    saved.write_text(render_json(changeset))
    again = rederived(load_changeset(saved), state, str(saved))
    assert again.calls == changeset.calls and again.adoption == changeset.adoption
    data = json.loads(saved.read_text())
    assert data["adopt"]["prices"] == {"emails": "price_1Emails", "seats": "price_1Seats"}
    del data["adopt"]["prices"]["seats"]  # the adopt call on price_1Seats stays: nothing names it now
    saved.write_text(json.dumps(data))
    with pytest.raises(UnsafeChange, match="price price_1Seats is not pricebook's"):
        rederived(load_changeset(saved), state, str(saved))
