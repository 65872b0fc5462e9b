"""`make actionlint` (scripts/lint_actions.py): the action and the example workflows pass, and each kind of mistake
it is there for is caught (an input the action does not have, an expression naming no input, a script shellcheck
refuses, an outdated action, an output of no step)."""

from __future__ import annotations

import re

import pytest
import yaml

from scripts.lint_actions import ACTION, DOC, THIS_ACTION, _bin, action_as_workflow, example_workflows, lint

ACTIONLINT, SHELLCHECK = _bin("actionlint"), _bin("shellcheck")


def findings(action: str | None = None, doc: str | None = None) -> str:
    action_text = ACTION.read_text(encoding="utf-8") if action is None else action
    markdown = DOC.read_text(encoding="utf-8") if doc is None else doc
    return "\n".join(lint(action_text, markdown, ACTIONLINT, SHELLCHECK))


def test_the_action_and_the_examples_pass() -> None:
    assert findings() == ""


def test_the_examples_are_found_and_use_this_action() -> None:
    workflows = example_workflows(DOC.read_text(encoding="utf-8"))
    assert set(workflows) == {
        ".github/workflows/pricebook.yml",
        ".github/workflows/pricebook-matrix.yml",
        ".github/workflows/pricebook-checks.yml",
    }
    for text in workflows.values():
        assert yaml.safe_load(text)["jobs"]
        uses = re.findall(r"uses: (\S+)", text)
        assert [u for u in uses if "pricebook" in u] == [u for u in uses if THIS_ACTION.fullmatch(u)] != []


def test_the_action_steps_become_a_job() -> None:
    workflow = yaml.safe_load(action_as_workflow(ACTION.read_text(encoding="utf-8")))
    action = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    assert set(workflow["on"]["workflow_dispatch"]["inputs"]) == set(action["inputs"])
    assert workflow["jobs"]["action"]["steps"] == action["runs"]["steps"]


@pytest.mark.parametrize(
    ("where", "old", "new", "said"),
    [
        ("doc", "command: drift\n", "command: drift\n          bogus: 1\n", 'input "bogus" is not defined'),
        ("doc", "secrets.STRIPE_WRITE_KEY", "secret.STRIPE_WRITE_KEY", 'undefined variable "secret"'),
        ("action", "inputs.catalog }}", "inputs.catalogue }}", 'property "catalogue" is not defined'),
        ("action", 'pricebook ci "$PRICEBOOK_COMMAND"', "pricebook ci $PRICEBOOK_COMMAND", "SC2086"),
        ("action", "actions/setup-python@v6", "actions/setup-python@v5", 'runtime "node20" is deprecated'),
        ("action", "steps.pricebook.outputs.drift", "steps.pricebok.outputs.drift", "output `drift` reads"),
    ],
)
def test_a_mistake_is_caught(where: str, old: str, new: str, said: str) -> None:
    text = (ACTION if where == "action" else DOC).read_text(encoding="utf-8")
    assert old in text
    broken = text.replace(old, new, 1)
    found = findings(action=broken) if where == "action" else findings(doc=broken)
    assert said in found, found


def test_a_page_without_examples_is_a_finding() -> None:
    assert "no example workflow found" in findings(doc="# nothing here\n")
