"""docs/rules.md lists every validate-time rule id, as the registries say, and each can be produced by `validate`
(the failing cases of tests/rule_cases.py are run through `validate` by test_rule_cases.py)."""

from __future__ import annotations

import json
import re

from compiler.changes.problems import PLAN_WARNING_RULES, PROBLEM_RULES
from compiler.changes.subscribers import MONEY_WARNING_RULES
from scripts.rules_doc import BEGIN, DOC, END, generated, render
from tests.rule_cases import FAILING


def test_the_reference_is_what_the_registries_say() -> None:
    current = DOC.read_text(encoding="utf-8")
    assert current == render(current), "run `python -m scripts.rules_doc` and commit docs/rules.md"


def test_every_id_in_the_reference_has_a_case_validate_reports() -> None:
    listed = re.findall(r"^\| `([a-z0-9-]+)` \|", generated(), re.MULTILINE)
    assert len(listed) == len(set(listed))
    assert set(listed) == {case.rule for case in FAILING}


def test_the_reference_keeps_its_hand_written_parts() -> None:
    current = DOC.read_text(encoding="utf-8")
    head, _, rest = current.partition(BEGIN)
    _, _, tail = rest.partition(END)
    assert head.startswith("# Rules\n") and "## Plan-time problems" in tail


def test_every_plan_time_problem_is_in_the_reference() -> None:
    # with test_problems (no Problem in compiler/changes is made but from the registry), every id a plan reports
    current = DOC.read_text(encoding="utf-8")
    section = current[current.index("## Plan-time problems") : current.index("## Warnings about money")]
    listed = re.findall(r"^\| `([a-z0-9-]+)` \|", section, re.MULTILINE)
    assert listed == [rule.id for rule in (*PROBLEM_RULES, *PLAN_WARNING_RULES)]


def test_every_money_warning_is_in_the_reference_and_the_changeset_schema() -> None:
    current = DOC.read_text(encoding="utf-8")
    section = current[current.index("## Warnings about money") : current.index("## Usage files")]
    listed = re.findall(r"^\| `([a-z0-9-]+)` \|", section, re.MULTILINE)
    assert listed == [rule.id for rule in MONEY_WARNING_RULES]
    schema = json.loads((DOC.parents[1] / "schemas" / "changeset.schema.json").read_text(encoding="utf-8"))
    assert schema["$defs"]["money_warning"]["properties"]["rule"]["enum"] == listed
