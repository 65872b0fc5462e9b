"""A saved plan sends only what it shows: the file is read only as pricebook writes it, applied only to its
account in its state, and what apply sends is derived again from the plan's catalog and the account, refused
unless it is exactly what the file shows. Each tampering the issue reproduced has a case here."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from compiler.changes.changeset import ChangeSet
from compiler.changes.model import load_catalog
from compiler.changes.planfile import MAX_DEPTH, check_account, load_changeset, rederived
from compiler.changes.planning import changeset_for, current_state
from compiler.errors import StalePlan, UnsafeChange, UsageError
from compiler.render.json import render_json
from compiler.stripe.fields import SPECS
from compiler.stripe.kinds import Kind
from compiler.stripe.state import AccountState
from tests.stripe_lists import StripeLists
from tests.stripe_objects import stripe_price, stripe_product
from tests.unit.test_golden import GOLDEN, SCENARIOS, AccountLists

CATALOG = """\
products:
  - id: suite
    name: Suite
    prices:
      - lookup_key: seats
        currency: usd
        unit_amount: 1600
        recurring: {interval: month}
"""
#: the account: pricebook's price at 1500 (the catalog's 1600 replaces it) and a price made by hand
ACCOUNT = {
    SPECS[Kind.PRODUCT].path: [stripe_product(name="Suite")],
    SPECS[Kind.PRICE].path: [
        stripe_price(id="price_seats", unit_amount=1500, unit_amount_decimal="1500", currency_options=None),
        stripe_price(id="price_hand", lookup_key=None, metadata={}, unit_amount=700, unit_amount_decimal="700"),
    ],
}


def planned(tmp_path: Path, **lister: Any) -> tuple[Path, StripeLists]:
    """`pricebook plan --out` of CATALOG against ACCOUNT: the saved file, and the account to apply it to."""
    (tmp_path / "plans").mkdir(exist_ok=True)
    (tmp_path / "plans" / "suite.yaml").write_text(CATALOG)
    pages = StripeLists(ACCOUNT, **lister)
    changeset, _ = changeset_for(load_catalog([str(tmp_path / "plans")]), pages)
    saved = tmp_path / "plan.json"
    saved.write_text(render_json(changeset))
    return saved, pages


def apply_plan(path: Path, pages: StripeLists) -> ChangeSet:
    """What `apply --plan` does before it sends anything."""
    saved = load_changeset(path)
    state = current_state(saved, pages)
    check_account(saved, state)
    return rederived(saved, state, str(path))


def tampered(path: Path, edit: Callable[[dict[str, Any]], object], *, rehash: bool = True) -> Path:
    """The saved plan edited; with `rehash`, its plan_hash made the hash of what it now holds, as someone who
    knows the format would (so that the checks behind that one are the ones tried)."""
    data = json.loads(path.read_text())
    edit(data)
    if rehash:
        with contextlib.suppress(KeyError, ValueError, TypeError):  # an edit that breaks the format is refused first
            data["plan_hash"] = ChangeSet.from_json(data).plan_hash
    path.write_text(json.dumps(data))
    return path


def call(data: dict[str, Any], action: str) -> dict[str, Any]:
    return next(c for c in data["calls"] if c["action"] == action)


# -- an untouched plan goes through -------------------------------------------------------------------------------


#: the scenarios `plan --out` saves (it refuses a plan with problems)
SAVED = [s for s in SCENARIOS if not json.loads((GOLDEN / s / "expected.json").read_text())["problems"]]


@pytest.mark.parametrize("scenario", SAVED)
def test_every_saved_plan_is_derived_again_exactly_as_it_was_saved(scenario: str, tmp_path: Path) -> None:
    folder = GOLDEN / scenario
    lister = AccountLists(json.loads((folder / "account.json").read_text()))
    changeset, _ = changeset_for(load_catalog([str(folder / "plans")]), lister)
    saved = tmp_path / "plan.json"
    saved.write_text(render_json(changeset))
    loaded = load_changeset(saved)
    state = current_state(loaded, lister)
    assert check_account(loaded, state) is None
    assert render_json(rederived(loaded, state, str(saved))) == render_json(changeset)


def test_the_plan_names_its_account_and_its_catalog(tmp_path: Path) -> None:
    path, pages = planned(tmp_path)
    data = json.loads(path.read_text())
    assert data["account"] == "acct_listpages"
    assert [(r["kind"], r["key"]) for r in data["catalog"]] == [("product", "suite"), ("price", "seats")]
    assert data["catalog"][1]["params"]["unit_amount"] == 1600
    sent = apply_plan(path, pages)
    assert [(c.action.value, c.address) for c in sent.calls] == [
        ("create", "price.seats"),
        ("archive old version", "price.seats"),
    ]


# -- 1. calls that say what the changes do not --------------------------------------------------------------------


def test_an_amount_edited_in_the_calls_only_is_refused(tmp_path: Path) -> None:
    # the issue: apply printed `unit_amount = 1500 -> 1600` and sent 1
    path, pages = planned(tmp_path)
    tampered(path, lambda d: call(d, "create")["params"].update(unit_amount=1))
    with pytest.raises(UnsafeChange) as info:
        apply_plan(path, pages)
    assert info.value.message == (
        f"{path} does not send what it shows: call 1, create price.seats (POST /v1/prices), sends unit_amount 1 "
        "where its changes give 1600; nothing was changed"
    )
    assert "pricebook plan --out FILE" in (info.value.hint or "")


def test_a_change_edited_to_show_something_else_is_refused(tmp_path: Path) -> None:
    path, pages = planned(tmp_path)
    tampered(path, lambda d: d["changes"][1]["fields"][0].update(after=1))
    with pytest.raises(UnsafeChange, match=r"the change it shows for price\.seats is not what its catalog gives"):
        apply_plan(path, pages)


def test_a_catalog_and_calls_edited_to_agree_still_do_not_match_what_is_shown(tmp_path: Path) -> None:
    path, pages = planned(tmp_path)

    def edit(data: dict[str, Any]) -> None:
        data["catalog"][1]["params"]["unit_amount"] = 1
        call(data, "create")["params"]["unit_amount"] = 1

    tampered(path, edit)
    with pytest.raises(UnsafeChange, match=r"the change it shows for price\.seats is not what its catalog gives"):
        apply_plan(path, pages)


@pytest.mark.parametrize(
    ("edit", "said"),
    [
        (lambda d: d["calls"].pop(), "it leaves out call 2, archive old version price.seats"),
        (
            lambda d: d["calls"].append({**call(d, "archive old version"), "address": "product.suite",
                                         "action": "archive", "stage": "product archives",
                                         "path": "/v1/products/suite"}),
            "call 3, archive product.suite (POST /v1/products/suite), is not one its changes give",
        ),
        (lambda d: call(d, "create")["params"].pop("currency"), "sends currency (none) where its changes give \"usd\""),
        (lambda d: call(d, "create")["params"].update(livemode=True), "sends livemode true where"),
        (lambda d: d["left_alone"]["price"].clear(), "its left_alone differs from what its catalog gives"),
    ],
)
def test_anything_else_the_changes_do_not_give_is_refused(
    tmp_path: Path, edit: Callable[[dict[str, Any]], object], said: str
) -> None:
    path, pages = planned(tmp_path)
    tampered(path, edit)
    with pytest.raises(UnsafeChange) as info:
        apply_plan(path, pages)
    assert said in info.value.message


def test_a_call_on_a_price_pricebook_does_not_own_is_refused(tmp_path: Path) -> None:
    # the issue: an update's path pointed at an unmanaged price archived it
    path, pages = planned(tmp_path)
    tampered(path, lambda d: call(d, "archive old version").update(path="/v1/prices/price_hand"))
    with pytest.raises(UnsafeChange) as info:
        apply_plan(path, pages)
    assert info.value.message == (
        f"{path} holds archive old version price.seats (POST /v1/prices/price_hand), and price price_hand is not "
        "pricebook's (no metadata managed_by=pricebook); nothing was changed"
    )


def test_an_appended_archive_of_a_price_pricebook_does_not_own_is_refused(tmp_path: Path) -> None:
    path, pages = planned(tmp_path)
    archive: dict[str, Any] = {"method": "POST", "path": "/v1/prices/price_hand", "params": {"active": False},
               "address": "price.price_hand", "action": "archive", "stage": "archives", "creates": None,
               "depends_on": []}
    tampered(path, lambda d: d["calls"].append(archive))
    with pytest.raises(UnsafeChange, match="price price_hand is not pricebook's"):
        apply_plan(path, pages)


def test_a_call_on_an_object_the_account_does_not_have_is_refused(tmp_path: Path) -> None:
    path, pages = planned(tmp_path)
    tampered(path, lambda d: call(d, "archive old version").update(path="/v1/prices/price_elsewhere"))
    with pytest.raises(UnsafeChange, match="price price_elsewhere is not in the account"):
        apply_plan(path, pages)


def test_a_stale_plan_is_still_refused_first(tmp_path: Path) -> None:
    path, _ = planned(tmp_path)
    changed = {**ACCOUNT, SPECS[Kind.PRODUCT].path: [stripe_product(name="Renamed")]}
    with pytest.raises(StalePlan):
        apply_plan(path, StripeLists(changed))


# -- the file itself ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "where"),
    [
        (lambda d: d.update(api_base="http://127.0.0.1:9"), "at the top level: Additional properties are not "
         "allowed ('api_base' was unexpected)"),
        (lambda d: d["calls"][0].update(headers={"Stripe-Account": "acct_x"}), "at calls[0]: Additional"),
        (lambda d: d["catalog"][0].update(location="x"), "at catalog[0]: Additional"),
        (lambda d: d["changes"][0].update(force=True), "at changes[0]: Additional"),
        (lambda d: d["calls"][0].update(method="post"), "at calls[0].method: 'post' is not one of"),
        (lambda d: d.pop("catalog"), "at the top level: 'catalog' is a required property"),
        (lambda d: d.update(account="someone"), "at account: 'someone' does not match"),
    ],
)
def test_a_field_pricebook_never_writes_is_an_error(
    tmp_path: Path, edit: Callable[[dict[str, Any]], object], where: str
) -> None:
    path, _ = planned(tmp_path)
    tampered(path, edit)
    with pytest.raises(UsageError) as info:
        load_changeset(path)
    assert info.value.message.startswith(f"{path} is not a plan pricebook saved: {where}")
    assert info.value.message.endswith("; nothing was changed")
    assert "never ignored" in (info.value.hint or "")


def test_a_plan_hash_that_is_not_the_hash_of_its_calls_and_changes_is_refused(tmp_path: Path) -> None:
    # the hash a reviewer approves must be the hash of what is sent: it cannot be swapped for another
    path, _ = planned(tmp_path)
    real = json.loads(path.read_text())["plan_hash"]
    tampered(path, lambda d: d.update(plan_hash="sha256:" + "0" * 64), rehash=False)
    with pytest.raises(UsageError) as info:
        load_changeset(path)
    assert info.value.message == (
        f"{path} gives its plan hash as sha256:{'0' * 64}, but its calls and changes hash to {real}; "
        "nothing was changed"
    )


def test_a_catalog_that_defines_an_identity_twice_is_refused(tmp_path: Path) -> None:
    path, _ = planned(tmp_path)
    tampered(path, lambda d: d["catalog"].append(d["catalog"][1]))
    with pytest.raises(UsageError, match=r"holds price\.seats twice in its catalog"):
        load_changeset(path)


def test_a_binary_file_is_no_plan(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_bytes(b'{"calls": []}\x00\xff\xfe')
    with pytest.raises(UsageError) as info:
        load_changeset(path)
    assert info.value.message == f"{path} is not a saved pricebook plan: it is not UTF-8 text (byte 0xff at offset 14)"


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 200_000])
def test_a_deeply_nested_file_is_no_plan(tmp_path: Path, depth: int) -> None:
    path = tmp_path / "plan.json"
    path.write_text('{"calls": ' + "[" * depth + "]" * depth + "}")
    with pytest.raises(UsageError) as info:
        load_changeset(path)
    assert info.value.message == (
        f"{path} is not a saved pricebook plan: it nests deeper than {MAX_DEPTH} levels, which no plan does"
    )


# -- the account it was made against ------------------------------------------------------------------------------


def state_of(account: str | None) -> AccountState:
    return AccountState(account=account)


def test_a_plan_made_against_another_account_is_refused() -> None:
    # two empty accounts have the same fingerprint: only the account's id tells them apart
    saved = ChangeSet(account="acct_A", fingerprint=state_of(None).fingerprint)
    with pytest.raises(UsageError) as info:
        check_account(saved, state_of("acct_B"))
    assert info.value.message == (
        "this plan was made against account acct_A, but the key belongs to account acct_B; nothing was changed"
    )
    assert check_account(saved, state_of("acct_A")) is None


def test_a_plan_that_names_its_account_needs_a_key_that_can_read_it() -> None:
    with pytest.raises(UsageError, match="the key cannot read which account it belongs to"):
        check_account(ChangeSet(account="acct_A"), state_of(None))


@pytest.mark.parametrize("now", [None, "acct_B"])
def test_a_plan_made_with_a_key_that_could_not_read_its_account_says_the_check_is_weaker(now: str | None) -> None:
    notice = check_account(ChangeSet(account=None), state_of(now))
    assert notice is not None
    assert "does not name the account it was made against" in notice and "two empty ones" in notice


def test_a_restricted_key_plans_without_an_account(tmp_path: Path) -> None:
    path, pages = planned(tmp_path, account=None)
    assert json.loads(path.read_text())["account"] is None
    pages.account = None
    assert [c.action.value for c in apply_plan(path, pages).calls] == ["create", "archive old version"]


def test_the_schema_apply_checks_against_is_the_one_the_repository_publishes() -> None:
    shipped = Path(__file__).resolve().parents[2] / "compiler" / "data" / "changeset.schema.json"
    published = Path(__file__).resolve().parents[2] / "schemas" / "changeset.schema.json"
    assert shipped.read_bytes() == published.read_bytes()


def test_a_plan_that_archives_many_is_derived_again_under_the_flag_it_records(tmp_path: Path) -> None:
    # twelve prices of pricebook's the catalog no longer lists: more than pricebook archives without being told
    gone = [
        stripe_price(id=f"price_gone{n}", lookup_key=f"gone{n}", unit_amount=100, unit_amount_decimal="100")
        for n in range(12)
    ]
    account = {**ACCOUNT, SPECS[Kind.PRICE].path: [*ACCOUNT[SPECS[Kind.PRICE].path], *gone]}
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "suite.yaml").write_text(CATALOG)
    pages = StripeLists(account)
    changeset, _ = changeset_for(load_catalog([str(tmp_path / "plans")]), pages, allow_mass_archive=True)
    path = tmp_path / "plan.json"
    path.write_text(render_json(changeset))
    sent = apply_plan(path, pages)
    assert sum(c.action.value == "archive" for c in sent.calls) == 12
    # the same file saying the flag was not given shows archives its changes would block
    tampered(path, lambda d: d["mass_archive"].update(allowed=False))
    with pytest.raises(UnsafeChange, match="does not send what it shows"):
        apply_plan(path, pages)
