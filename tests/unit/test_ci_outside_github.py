"""`pricebook ci pr` outside a GitHub Actions job says so, and how to see the plan comment on this machine."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from compiler.cli.ci import command
from compiler.errors import GitHubError
from tests.cli import invoke


def test_ci_pr_outside_github_actions_points_at_the_local_preview(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("GITHUB_")]:
        monkeypatch.delenv(name)
    result = invoke(command, "pr")
    error = result.exception
    assert isinstance(error, GitHubError), result.output
    assert error.rule == "ci-outside-github-actions"
    assert "not on no event" not in error.message and "GITHUB_EVENT_NAME is not set" in error.message
    assert error.hint is not None and "`pricebook plan --format markdown`" in error.hint
    assert "command: apply" not in error.hint


def test_ci_pr_on_another_event_names_the_event_and_the_commands_for_it(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("GITHUB_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("GITHUB_EVENT_NAME", "push")
    error = invoke(command, "pr").exception
    assert isinstance(error, GitHubError)
    assert (error.rule, error.message) == (
        "ci-not-a-pull-request",
        "`pricebook ci pr` runs on a pull_request event, not on push",
    )
    assert error.hint is not None and "command: apply" in error.hint


def test_ci_pr_on_a_pull_request_event_without_its_number_says_the_payload_is_wrong(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in [n for n in os.environ if n.startswith("GITHUB_")]:
        monkeypatch.delenv(name)
    (tmp_path / "event.json").write_text('{"pull_request": {"title": "no number"}}', encoding="utf-8")
    monkeypatch.setenv("GITHUB_EVENT_NAME", "pull_request")
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(tmp_path / "event.json"))
    error = invoke(command, "pr").exception
    assert isinstance(error, GitHubError)
    assert (error.rule, error.message) == (
        "ci-event-invalid",
        "the payload of the pull_request event names no pull request (pull_request.number)",
    )
    assert error.hint is not None and "GITHUB_EVENT_PATH" in error.hint
