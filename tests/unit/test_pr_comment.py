"""The pull-request comment at scale: the two plans that broke it (1,050 creates; a repricing of 500 prices), a
comment too big even for its money table, the comment for a plan that could not be made, and the markers a
workflow reads back.

The big plans are real ones: a generated catalog (`tests.bench.generate`) planned against an empty account, or
applied to an emulated account (`tests.inprocess`: the emulator without a server) and planned again after every
amount went up 10 %. What each test checks is read from the ChangeSet, not from the renderer's own model, so the
comment cannot agree with itself and still be wrong.

`tests/golden/pr_comment/repricing_500.md` is the whole comment for the repricing; after an intended change,
`PRICEBOOK_UPDATE_GOLDEN=1 .venv/bin/pytest tests/unit/test_pr_comment.py` rewrites it (read the diff first).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler.changes.changeset import Action, Change, ChangeSet
from compiler.changes.model import load_catalog
from compiler.changes.planning import changeset_for
from compiler.cli import main
from compiler.render.markdown import (
    COMMENT_LIMIT,
    GITHUB_COMMENT_LIMIT,
    hash_marker,
    render_markdown,
    render_markdown_failure,
    size,
    sticky_marker,
)
from compiler.stripe.kinds import Kind
from tests.bench.generate import generate_catalog
from tests.inprocess import apply_catalog, emulated_gateway
from tests.unit.test_golden import AccountLists

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "pr_comment"
UPDATE = os.environ.get("PRICEBOOK_UPDATE_GOLDEN") == "1"

#: 929 prices make 1,050 objects with their 93 products, 18 meters and 10 legacy plans
CREATES_PRICES = 929
REPRICED_PRICES = 500


def _raise_amounts(node: Any) -> None:
    """Every amount of the prices below `node` 10 % up (rounded up to the next minor unit)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("unit_amount", "flat_amount") and isinstance(value, int) and value:
                node[key] = value * 11 // 10 + 1
            elif key == "unit_amount_decimal":
                node[key] = str((Decimal(value) * Decimal("1.1")).quantize(Decimal("0.0001")))
            else:
                _raise_amounts(value)
    elif isinstance(node, list):
        for item in node:
            _raise_amounts(item)


@pytest.fixture(scope="module")
def creates(tmp_path_factory: pytest.TempPathFactory) -> ChangeSet:
    folder = tmp_path_factory.mktemp("creates")
    generate_catalog(folder, CREATES_PRICES)
    changeset, _ = changeset_for(load_catalog([str(folder)]), AccountLists([]))
    return changeset


@pytest.fixture(scope="module")
def repricing(tmp_path_factory: pytest.TempPathFactory) -> ChangeSet:
    folder = tmp_path_factory.mktemp("repricing")
    generate_catalog(folder, REPRICED_PRICES)
    gateway = emulated_gateway(seed=1)
    apply_catalog([str(folder)], gateway)
    for path in folder.glob("*.yaml"):
        data = yaml.safe_load(path.read_text())
        _raise_amounts(data.get("prices"))
        for product in data.get("products") or ():
            _raise_amounts(product.get("prices"))
        path.write_text(yaml.safe_dump(data, sort_keys=False))
    changeset, _ = changeset_for(load_catalog([str(folder)]), gateway)
    return changeset


# -- reading a comment back ------------------------------------------------------------------------------------------


def section(comment: str, heading: str) -> str:
    """The text under `#### heading`, up to the next heading of that level."""
    start = comment.index(f"#### {heading}\n")
    end = comment.find("\n#### ", start + 1)
    return comment[start : end if end >= 0 else len(comment)]


def price_blocks(money: str) -> dict[str, str]:
    """The money table's lines per price key: a table row opens a price with its key and continues with the rows
    of its other currencies (an empty first cell); a compact line `- `a`, `b`: amounts` belongs to each key."""
    blocks: dict[str, str] = {}
    current: str | None = None
    for line in money.splitlines():
        opened = re.match(r"\| `([^`]+)` \|", line)
        if opened:
            current = opened.group(1)
            blocks[current] = line
        elif line.startswith("|  |") and current is not None:
            blocks[current] += "\n" + line
        elif line.startswith("- `"):
            keys, _, _amounts = line.partition(": ")
            for key in re.findall(r"`([^`]+)`", keys):
                blocks[key] = line
            current = None
        else:
            current = None
    return blocks


def by_currency(change: Change) -> Iterator[list[Mapping[str, Any]]]:
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for row in change.impact:
        groups.setdefault(str(row["currency"]), []).append(row)
    yield from groups.values()


def assert_money_is_complete(comment: str, changeset: ChangeSet) -> None:
    """Every created, replaced or repriced price and plan is in the money table, with, for each of its currencies
    whose amounts change (a new price: its own currency), one of its quantities' before and after amounts."""
    blocks = price_blocks(section(comment, "Price changes"))
    priced = [c for c in changeset.changes if c.kind in (Kind.PRICE, Kind.PLAN) and c.impact
              and c.action in (Action.CREATE, Action.REPLACE, Action.UPDATE)]
    assert priced
    for change in priced:
        assert change.key in blocks, f"{change.address} is not in the money table"
        block = blocks[change.key]
        currencies = list(by_currency(change))
        if change.action is Action.CREATE:
            currencies = currencies[:1]
        for rows in currencies:
            changed = [r for r in rows if r["before"] != r["after"]] or rows
            assert any(
                str(r["after"]) in block and (r["before"] is None or str(r["before"]) in block) for r in changed
            ), f"{change.address} ({rows[0]['currency']}): no before/after of its in {block!r}"


def expected_headline(changeset: ChangeSet, destructive: str) -> str:
    counts = changeset.counts()
    doing = ", ".join(f"{counts[a]:,} to {a}" for a in ("create", "update", "replace", "archive") if counts[a])
    return f"### pricebook plan · test mode · {doing} · {destructive}"


# -- 1,050 creates ---------------------------------------------------------------------------------------------------


def test_1050_creates_fit_with_a_true_headline_and_every_amount(creates: ChangeSet) -> None:
    assert creates.counts()["create"] == 1_050
    comment = render_markdown(creates)
    assert len(comment) <= size(comment) <= COMMENT_LIMIT < GITHUB_COMMENT_LIMIT
    # the first line is true however short the rest had to be (it once read "No changes")
    assert comment.splitlines()[0] == expected_headline(creates, "nothing destructive")
    assert "No changes" not in comment
    assert_money_is_complete(comment, creates)
    # the objects without money are all named, and what was left out is said, with where to find it
    others = section(comment, "Other changes")
    for change in creates.changes:
        if change.kind in (Kind.METER, Kind.PRODUCT):
            assert f"`{change.key}`" in others
    note = re.search(r"> Shortened to fit in a pull-request comment: (.*)", comment)
    assert note is not None and "left out the details of " in note.group(1) and "--max-bytes 0" in note.group(1)
    assert comment.index("#### Price changes") < comment.index("#### Other changes") < comment.index("<details>")
    assert creates.plan_hash is not None
    assert comment.endswith(sticky_marker("test") + "\n" + hash_marker(creates.plan_hash) + "\n")


def test_with_a_link_the_shortened_comment_points_to_the_full_plan(creates: ChangeSet) -> None:
    url = "https://github.com/acme/catalog/actions/runs/42"
    comment = render_markdown(creates, full_plan_url=url)
    assert f"[The full plan](<{url}>) has everything." in comment
    # a job summary (1 MiB) takes every object's details, without the call parameters that repeat them
    summary = render_markdown(creates, limit=1_048_576)
    assert size(summary) <= 1_048_576 < size(render_markdown(creates, limit=None))
    assert summary.count("<details><summary><code>") == 1_050 and "```diff" in summary
    assert "left out the call parameters." in summary


# -- a repricing of 500 prices ---------------------------------------------------------------------------------------


def test_500_repriced_prices_all_show_before_and_after(repricing: ChangeSet) -> None:
    counts = repricing.counts()
    assert counts["replace"] == REPRICED_PRICES and counts["update"] == counts["create"] == counts["archive"] == 0
    comment = render_markdown(repricing)
    assert size(comment) <= COMMENT_LIMIT
    assert comment.splitlines()[0] == expected_headline(
        repricing, "⚠️ destructive: 500 replaced (old versions archived)"
    )
    assert_money_is_complete(comment, repricing)
    money = section(comment, "Price changes")
    assert re.search(r"\| `gen_price_1` \| 1 \| \$1,996\.93/year \| \$2,196\.63/year \| \+10% \|", money)


def test_a_reason_and_a_note_shared_by_hundreds_are_said_once_per_group(repricing: ChangeSet) -> None:
    comment = render_markdown(repricing)
    reasons = {c.reason for c in repricing.changes if c.action is Action.REPLACE}
    assert 1 < len(reasons) < 10
    for reason in reasons:
        # in the money table's group heading and the details' group heading (if any fit), never per price
        assert comment.count(reason) in (1, 2), reason
    shared = "the lookup_key moves to the new price (transfer_lookup_key=true)"
    assert all(any(n.text == shared for n in c.notes) for c in repricing.changes if c.action is Action.REPLACE)
    assert comment.count(shared) <= len(reasons)
    # with the repetition gone, four times as many prices as before get their details, and the note counts them
    shown = comment.count("<details><summary><code>price.")
    assert shown >= 20
    left_out = REPRICED_PRICES - shown
    assert f"left out the details of {left_out} of the {REPRICED_PRICES} changes that have any" in comment


def test_the_repricing_comment_golden(repricing: ChangeSet) -> None:
    comment = render_markdown(repricing)
    path = GOLDEN / "repricing_500.md"
    if UPDATE:
        path.write_text(comment, encoding="utf-8")
    assert comment == path.read_text(encoding="utf-8"), "differs (PRICEBOOK_UPDATE_GOLDEN=1 rewrites it; review first)"


# -- a money table too big for one comment ---------------------------------------------------------------------------


def test_a_money_table_too_big_is_grouped_harder_and_keeps_every_amount(repricing: ChangeSet) -> None:
    table = section(render_markdown(repricing, limit=None), "Price changes")
    compact = render_markdown(repricing, limit=size(table))  # the table alone would not fit
    assert size(compact) <= size(table)
    assert "| Price | Quantity | Before | After | Change |" not in compact
    assert "the price changes are listed one line per price, not as a table" in compact
    assert_money_is_complete(compact, repricing)
    assert compact.splitlines()[0] == render_markdown(repricing).splitlines()[0]


def test_past_that_the_money_table_is_counted_and_says_so(repricing: ChangeSet) -> None:
    tiny = render_markdown(repricing, limit=3_000)
    assert size(tiny) <= 3_000
    assert "counted per group, not listed (too many for one comment)" in tiny
    money = section(tiny, "Price changes")
    assert re.search(r"- \*\*`-/\+` \d+ prices to replace\*\* .* Changes from \+\d+(\.\d)?% to \+\d+(\.\d)?%\.", money)
    assert tiny.splitlines()[0] == render_markdown(repricing).splitlines()[0]
    assert repricing.plan_hash is not None
    assert hash_marker(repricing.plan_hash) in tiny


# -- no plan to show -------------------------------------------------------------------------------------------------


def test_an_invalid_catalog_still_gets_a_comment_and_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bad.yaml").write_text(
        "products:\n  - id: p\n    name: P\n    colour: red\nprices:\n"
        "  - lookup_key: q\n    product: p\n    currency: usd\n    unit_amount: 9.99\n"
    )
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_commentKEY")
    monkeypatch.setattr(sys, "argv", ["pricebook", "plan", str(tmp_path), "--format", "markdown"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 1
    out, err = capsys.readouterr()
    assert out.splitlines()[0] == "### pricebook plan · test mode · ❌ the catalog is invalid: 2 errors"
    assert f"- **`{tmp_path}/bad.yaml:4:5`** error `schema-unknown-field`: unknown field \\`colour\\`" in out
    assert f"- **`{tmp_path}/bad.yaml:9:18`** error `money-float`:" in out
    assert "  - Hint: " in out
    assert out.endswith(sticky_marker("test") + "\n")  # it takes the place of the last plan comment
    assert "pricebook-plan-hash" not in out  # nothing to approve
    assert "error[money-float]" in err  # stderr says it as always
    assert "sk_test_commentKEY" not in out + err


def test_a_refused_key_gets_a_comment_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STRIPE_API_KEY", "sk_live_commentKEY")
    monkeypatch.setattr(sys, "argv", ["pricebook", "plan", str(tmp_path), "--format", "markdown"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 1
    out, _ = capsys.readouterr()
    assert out.startswith("### pricebook plan · LIVE mode · ❌ no plan: refusing to use a live-mode key")
    assert "> [!CAUTION]" in out and "Hint: " in out
    assert out.endswith(sticky_marker("live") + "\n")
    assert "sk_live_commentKEY" not in out


def test_the_failure_comment_lists_every_error_up_to_a_bound() -> None:
    from compiler.errors import Diagnostic, InvalidCatalog, Location

    many = [Diagnostic(Location("plans/a.yaml", n, 1), "schema-type", f"problem {n}", None) for n in range(1, 251)]
    text = render_markdown_failure(InvalidCatalog(many), environment="staging")
    assert text.splitlines()[0] == "### pricebook plan · staging (test mode) · ❌ the catalog is invalid: 250 errors"
    assert text.count("`schema-type`") == 200 and "… and 50 more" in text
    assert text.endswith(sticky_marker("staging") + "\n")


def test_the_failure_comment_names_the_rule_of_an_error_that_has_one() -> None:
    from compiler.errors import UsageError

    text = render_markdown_failure(
        UsageError("cannot reach http://127.0.0.1:1", hint="is the emulator running?", rule="connection-failed")
    )
    assert "> pricebook could not compute the plan: cannot reach http://127.0.0.1:1. `[connection-failed]`" in text
    assert "Hint: is the emulator running?" in text
