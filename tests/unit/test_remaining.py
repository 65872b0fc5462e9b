"""What is left of a saved plan after a round with unknown outcomes: its own calls only, those the account shows
done taken out, the ids they made put in, and a problem wherever the account is no longer the plan's."""

from __future__ import annotations

from typing import Any

from compiler.changes.changeset import Action, Change, ChangeSet
from compiler.changes.model import Adoption
from compiler.changes.remaining import left_of_saved_plan
from compiler.stripe.calls import ApiCall, CallAction
from compiler.stripe.kinds import Kind
from compiler.stripe.state import AccountState, LiveObject


def price(object_id: str, key: str | None, *, managed: bool = True, active: bool = True) -> LiveObject:
    return LiveObject(Kind.PRICE, object_id, key, managed, {"active": active, "lookup_key": key})


def product(object_id: str, *, managed: bool = True) -> LiveObject:
    return LiveObject(Kind.PRODUCT, object_id, object_id, managed, {"active": True})


def account(*objects: LiveObject) -> AccountState:
    return AccountState.of(objects)


def create_price(key: str, *, transfer: bool = False) -> ApiCall:
    params: dict[str, Any] = {"lookup_key": key, "product": "suite", "unit_amount": 100, "currency": "usd"}
    if transfer:
        params["transfer_lookup_key"] = True
    return ApiCall("POST", "/v1/prices", params, f"price.{key}", CallAction.CREATE, f"price.{key}")


def move_default(key: str) -> ApiCall:
    return ApiCall(
        "POST",
        "/v1/products/suite",
        {"default_price": "{{price." + key + "}}"},
        "product.suite",
        CallAction.SET_DEFAULT_PRICE,
        None,
        (f"price.{key}",),
    )


def archive(object_id: str, key: str) -> ApiCall:
    path = f"/v1/prices/{object_id}"
    return ApiCall("POST", path, {"active": False}, f"price.{key}", CallAction.ARCHIVE_OLD_VERSION)


#: a saved plan replacing price `pro` (price_old): create with transfer, move the default, archive the old one
REPLACE = [create_price("pro", transfer=True), move_default("pro"), archive("price_old", "pro")]
SAVED = ChangeSet(
    changes=(Change(Kind.PRICE, "pro", Action.REPLACE, "amount changed", live_id="price_old"),),
    calls=tuple(REPLACE),
    fingerprint="sha256:saved",
)
START = account(product("suite"), price("price_old", "pro"))


def test_a_create_the_account_shows_done_is_not_sent_again_and_its_id_goes_where_it_is_needed() -> None:
    now = account(product("suite"), price("price_old", None), price("price_new", "pro"))
    nxt, ids = left_of_saved_plan(SAVED, REPLACE, {0}, {}, START, now)
    assert not nxt.problems
    assert ids == {"price.pro": "price_new"}
    assert [c.action for c in nxt.calls] == [CallAction.SET_DEFAULT_PRICE, CallAction.ARCHIVE_OLD_VERSION]
    assert nxt.calls[0].params == {"default_price": "price_new"} and nxt.calls[0].depends_on == ()
    assert nxt.fingerprint == SAVED.fingerprint  # the keys stay those of the saved plan


def test_a_create_the_account_does_not_show_is_sent_again_under_the_key_it_had() -> None:
    # the replaced price still holds the key: the create did not happen
    nxt, ids = left_of_saved_plan(SAVED, REPLACE, {0}, {}, START, START)
    assert not nxt.problems and ids == {}
    assert nxt.calls == tuple(REPLACE)
    assert nxt.calls[0].idempotency_key(nxt.fingerprint) == REPLACE[0].idempotency_key(SAVED.fingerprint)


def test_ids_filled_in_early_give_the_same_call_and_key_once_resolved() -> None:
    early = move_default("pro").with_known_ids({"price.pro": "price_new"})
    late = move_default("pro").resolve({"price.pro": "price_new"})
    sent = early.resolve({})
    assert (sent.path, sent.params) == (late.path, late.params)
    assert sent.idempotency_key("fp") == late.idempotency_key("fp")


def test_a_create_not_sent_yet_is_left_as_it_is_even_if_something_holds_its_key() -> None:
    # only a create whose outcome is unknown may be found done; a create never sent stays (Stripe would refuse a
    # second lookup_key, and no object of someone else's is taken for the plan's)
    saved = ChangeSet(calls=(create_price("basic"),), fingerprint="fp")
    now = account(product("suite"), price("price_x", "basic"))
    nxt, ids = left_of_saved_plan(saved, saved.calls, set(), {}, account(product("suite")), now)
    assert ids == {} and nxt.calls == saved.calls and not nxt.problems


def test_a_key_taken_by_a_price_pricebook_does_not_own_is_a_problem() -> None:
    now = account(product("suite"), price("price_old", None), price("price_hand", "pro", managed=False))
    nxt, _ = left_of_saved_plan(SAVED, REPLACE, {0}, {}, START, now)
    assert nxt.calls == ()
    assert [p.rule for p in nxt.problems] == ["account-changed-while-applying"]
    assert "price_hand" in nxt.problems[0].message


def test_a_replace_left_to_do_whose_key_moved_elsewhere_is_a_problem() -> None:
    # never sent (not unsure), but the key it would move is now on another price than the one it replaces
    now = account(product("suite"), price("price_old", None), price("price_other", "pro"))
    nxt, _ = left_of_saved_plan(SAVED, REPLACE, set(), {}, START, now)
    assert nxt.calls == ()
    messages = [p.message for p in nxt.problems]
    assert any("held by price price_other, not by price_old" in m for m in messages)


def test_a_call_on_an_object_gone_or_no_longer_pricebooks_is_a_problem() -> None:
    left = [archive("price_old", "pro")]
    gone = account(product("suite"))
    nxt, _ = left_of_saved_plan(SAVED, left, set(), {"price.pro": "price_new"}, START, gone)
    assert "price price_old is no longer in the account" in nxt.problems[0].message
    disowned = account(product("suite"), price("price_old", None, managed=False))
    nxt, _ = left_of_saved_plan(SAVED, left, set(), {"price.pro": "price_new"}, START, disowned)
    assert "no longer pricebook's" in nxt.problems[0].message


def test_a_price_of_pricebooks_left_active_without_its_key_is_a_problem_unless_the_plan_archives_it() -> None:
    # another apply replaced `pro` too, after ours: our new price lost the key and is still active
    done_ours = account(
        product("suite"), price("price_old", None, active=False), price("price_ours", None), price("theirs", "pro")
    )
    nxt, _ = left_of_saved_plan(SAVED, [], set(), {"price.pro": "price_ours"}, START, done_ours)
    assert [p.address for p in nxt.problems] == ["price.price_ours"]
    assert "another apply moved its lookup_key" in nxt.problems[0].message
    # the old price between its replace's create and its archive is keyless too, and the plan archives it
    midway = account(product("suite"), price("price_old", None), price("price_new", "pro"))
    nxt, _ = left_of_saved_plan(SAVED, [archive("price_old", "pro")], set(), {}, START, midway)
    assert not nxt.problems


def test_a_call_on_an_object_the_plan_itself_creates_is_left_to_do() -> None:
    # a product is created under its catalog id, and its default price move names that id in its path
    params = {"id": "suite", "name": "S"}
    new_product = ApiCall("POST", "/v1/products", params, "product.suite", CallAction.CREATE, "product.suite")
    saved = ChangeSet(calls=(new_product, create_price("pro"), move_default("pro")), fingerprint="fp")
    nxt, _ = left_of_saved_plan(saved, saved.calls, {0}, {}, account(), account())
    assert not nxt.problems and nxt.calls == saved.calls


def test_a_default_move_or_archive_the_account_shows_done_is_not_sent_again() -> None:
    moved = LiveObject(Kind.PRODUCT, "suite", "suite", True, {"active": True, "default_price": "pro"})
    now = account(moved, price("price_old", None, active=False), price("price_new", "pro"))
    left = REPLACE[1:]
    nxt, _ = left_of_saved_plan(SAVED, left, {0, 1}, {"price.pro": "price_new"}, START, now)
    assert nxt.calls == () and not nxt.problems
    # not shown done (the default still on the old price, which is still active): both are sent again
    still = account(product("suite"), price("price_old", None), price("price_new", "pro"))
    nxt, _ = left_of_saved_plan(SAVED, left, {0, 1}, {"price.pro": "price_new"}, START, still)
    assert [c.action for c in nxt.calls] == [CallAction.SET_DEFAULT_PRICE, CallAction.ARCHIVE_OLD_VERSION]


def test_an_adoption_left_to_do_is_sent_again_and_one_the_account_shows_is_done() -> None:
    # the plan's record takes over price_hand (made by hand, not yet pricebook's): its adopt call stays valid
    adopt = ApiCall("POST", "/v1/prices/price_hand", {"lookup_key": "hand"}, "price.hand", CallAction.ADOPT)
    record = Adoption("acct_1", False, {(Kind.PRICE, "hand"): "price_hand"})
    saved = ChangeSet(calls=(adopt,), fingerprint="fp", adoption=record)
    before = account(product("suite"), price("price_hand", None, managed=False))
    nxt, _ = left_of_saved_plan(saved, [adopt], {0}, {}, before, before)
    assert nxt.calls == (adopt,) and not nxt.problems
    after = account(product("suite"), price("price_hand", "hand"))
    nxt, _ = left_of_saved_plan(saved, [adopt], {0}, {}, before, after)
    assert nxt.calls == () and not nxt.problems
    # an object no record names is no one's to adopt
    stray = ChangeSet(calls=(adopt,), fingerprint="fp")
    nxt, _ = left_of_saved_plan(stray, [adopt], set(), {}, before, before)
    assert "no longer pricebook's" in nxt.problems[0].message
