"""Plans read the archived prices only when something needs them: the cases that do, end to end through the
catalog loader, the reader and the diff (no server)."""

from __future__ import annotations

from pathlib import Path

from compiler.changes.changeset import ChangeSet
from compiler.changes.model import load_catalog
from compiler.changes.planning import changeset_for, state_between_rounds
from compiler.changes.remaining import left_of_saved_plan
from compiler.stripe.calls import CallAction
from compiler.stripe.fields import MANAGED_METADATA, REPLACES_KEY, SPECS
from compiler.stripe.kinds import Kind
from compiler.stripe.state import AccountState
from tests.stripe_lists import StripeLists
from tests.stripe_objects import stripe_price, stripe_product
from tests.unit.test_planfile import CATALOG  # suite, with seats at 1600 a month

PRICES = SPECS[Kind.PRICE].path


def catalog(tmp_path: Path, *files: tuple[str, str]) -> Path:
    directory = tmp_path / "plans"
    directory.mkdir()
    (directory / "suite.yaml").write_text(CATALOG)
    for name, text in files:
        (directory / name).write_text(text)
    return directory


def archived_read(lists: StripeLists) -> bool:
    return ("/v1/prices", "false") in [(p, q.get("active")) for p, q in lists.calls]


def test_a_kept_adoption_record_changes_nothing_once_pricebook_replaced_the_adopted_price(tmp_path: Path) -> None:
    # price_hand was adopted as seats, then replaced: price_new holds the lookup_key, price_hand is archived
    record = "adopt:\n  - account: acct_listpages\n    mode: test\n    prices: {seats: price_hand}\n"
    directory = catalog(tmp_path, ("adoptions.yaml", record))
    new = stripe_price(
        id="price_new",
        unit_amount=1600,
        unit_amount_decimal="1600",
        currency_options=None,
        metadata={**MANAGED_METADATA, REPLACES_KEY: "price_hand"},
    )
    hand = stripe_price(id="price_hand", lookup_key=None, active=False, currency_options=None)
    lists = StripeLists({SPECS[Kind.PRODUCT].path: [stripe_product(name="Suite")], PRICES: [new, hand]})
    changeset, _ = changeset_for(load_catalog([str(directory)]), lists)
    assert archived_read(lists)  # the record's price is not among the active ones: it is looked for
    assert changeset.problems == () and not changeset.has_changes


def saved_plan(tmp_path: Path) -> tuple[ChangeSet, AccountState, StripeLists]:
    """A saved plan that archives price_gone (no longer in the catalog) and replaces seats (1500 -> 1600)."""
    directory = catalog(tmp_path)
    lists = StripeLists(
        {
            SPECS[Kind.PRODUCT].path: [stripe_product(name="Suite")],
            PRICES: [
                stripe_price(id="price_seats", unit_amount=1500, unit_amount_decimal="1500", currency_options=None),
                stripe_price(id="price_gone", lookup_key="gone", currency_options=None),
            ],
        }
    )
    saved, start = changeset_for(load_catalog([str(directory)]), lists)
    assert saved.problems == () and not archived_read(lists)
    return saved, start, lists


def later_round(saved: ChangeSet, start: AccountState, lists: StripeLists, action: CallAction) -> ChangeSet:
    """The round after the one where the saved plan's `action` call went through but its answer was lost."""
    (unsure,) = [c for c in saved.calls if c.action is action]
    lists.update(PRICES, unsure.path.rsplit("/", 1)[1], active=False)
    lists.calls.clear()
    left, _ = left_of_saved_plan(saved, [unsure], {0}, {}, start, state_between_rounds(saved, lists))
    assert archived_read(lists)
    return left


def test_a_later_round_sees_an_archive_that_went_through_as_done(tmp_path: Path) -> None:
    saved, start, lists = saved_plan(tmp_path)
    left = later_round(saved, start, lists, CallAction.ARCHIVE)
    assert left.problems == () and left.calls == ()


def test_a_later_round_sees_an_old_version_archived_as_done(tmp_path: Path) -> None:
    saved, start, lists = saved_plan(tmp_path)
    # the replace's create went through in the first round: the new price holds seats, the old one lost it
    lists.update(PRICES, "price_seats", lookup_key=None)
    successor = stripe_price(
        id="price_seats2",
        unit_amount=1600,
        unit_amount_decimal="1600",
        currency_options=None,
        metadata={**MANAGED_METADATA, REPLACES_KEY: "price_seats"},
    )
    lists.insert(PRICES, successor)
    left = later_round(saved, start, lists, CallAction.ARCHIVE_OLD_VERSION)
    assert left.problems == () and left.calls == ()
