"""`pricebook apply` before it sends anything: how it shows a long plan, and the approved plan's hash."""

from __future__ import annotations

import dataclasses

import click
import pytest

from compiler.changes.changeset import ChangeSet, Problem
from compiler.cli.apply import MAX_PLAN_LINES, _expected_hash, check_hash, show_changes
from compiler.errors import PlanChanged
from compiler.render.text import render_text, render_text_summary
from tests.unit.test_render import HUF, _big_changeset, _changeset


def test_a_short_plan_is_shown_whole(capsys: pytest.CaptureFixture[str]) -> None:
    changeset = _changeset()
    show_changes(changeset, whole=False, color=False)
    assert capsys.readouterr().out == render_text(changeset, color=False)


def test_a_long_plan_is_summed_up_unless_asked_for(capsys: pytest.CaptureFixture[str]) -> None:
    changeset = _big_changeset(400)
    whole = render_text(changeset, color=False)
    assert whole.count("\n") > MAX_PLAN_LINES
    show_changes(changeset, whole=False, color=False)
    out = capsys.readouterr().out
    assert out.count("\n") < 30
    assert "\n  -/+ replace          400 prices\n" in out
    assert "400 API calls to send.\n" in out
    assert "Plan hash: none: 1 problem blocks this plan" in out  # blocked: nothing to approve
    assert "lookup-key-held-by-unmanaged-price" in out  # the problems are never left out
    assert "Plan: 0 to create, 0 to update, 400 to replace, 0 to archive." in out
    assert f"The whole plan ({whole.count(chr(10)):,} lines) is not shown here: `pricebook apply --show-plan`" in out
    show_changes(changeset, whole=True, color=False)
    assert capsys.readouterr().out == whole


def test_the_summary_keeps_the_warnings() -> None:
    import dataclasses

    summary = render_text_summary(dataclasses.replace(_changeset(), warnings=(HUF,)), color=False)
    assert "currency-special-case" in summary
    assert (
        "pricebook will perform these actions:\n"
        "    + create           1 product, 1 price\n"
        "    ~ update in place  1 price\n"
        "  -/+ replace          1 price\n"
        "    - archive          1 price\n"
        "\n4 API calls to send.\n"
    ) in summary


def test_a_plan_other_than_the_approved_one_is_refused() -> None:
    changeset = _changeset()
    check_hash(changeset, None)
    check_hash(changeset, changeset.plan_hash)
    with pytest.raises(PlanChanged) as refused:
        check_hash(changeset, "sha256:" + "0" * 64)
    assert changeset.plan_hash is not None
    assert changeset.plan_hash in refused.value.message and "nothing was changed" in refused.value.message
    assert refused.value.hint and "approve its hash" in refused.value.hint
    assert ChangeSet().plan_hash != changeset.plan_hash


def test_a_blocked_plan_is_never_the_approved_one() -> None:
    # blocked, its calls are those of a plan with nothing to do: approving that hash must not approve it
    empty = ChangeSet()
    assert empty.plan_hash is not None
    problem = Problem("plan.legacy", "plan-immutable-field", "Stripe cannot change amount", "give it a new id")
    blocked = dataclasses.replace(empty, problems=(problem,))
    with pytest.raises(PlanChanged) as refused:
        check_hash(blocked, empty.plan_hash)
    assert refused.value.message.startswith("the plan is blocked by 1 problem(s) (above), so it is not the approved")
    assert refused.value.hint and "fix the problems" in refused.value.hint


@pytest.mark.parametrize(
    ("given", "taken"),
    [("sha256:" + "ab" * 32, "sha256:" + "ab" * 32), ("AB" * 32, "sha256:" + "ab" * 32),
     (" sha256:" + "0f" * 32 + "\n", "sha256:" + "0f" * 32)],
)
def test_the_expected_hash_is_taken_as_the_plan_shows_it(given: str, taken: str) -> None:
    assert _expected_hash(click.Context(click.Command("apply")), click.Option(["--x"]), given) == taken


@pytest.mark.parametrize("given", ["sha256:abc", "ab" * 31, "md5:" + "ab" * 32, "sha256:" + "zz" * 32])
def test_a_shortened_or_foreign_hash_is_refused(given: str) -> None:
    with pytest.raises(click.BadParameter):
        _expected_hash(click.Context(click.Command("apply")), click.Option(["--x"]), given)
