"""The registry of plan-time problems (`changes/problems.py`): the diff reports no rule that is not in it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import compiler.changes
from compiler.changes.problems import PLAN_WARNING_RULES, PROBLEM_RULES

CHANGES = Path(compiler.changes.__file__).resolve().parent


def test_rules_have_unique_stable_ids_a_meaning_and_a_way_out() -> None:
    rules = (*PROBLEM_RULES, *PLAN_WARNING_RULES)
    ids = [rule.id for rule in rules]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule_id) for rule_id in ids)
    assert all(rule.means and rule.way_out for rule in rules)


def test_no_problem_is_made_with_a_rule_id_written_out() -> None:
    """Every `Problem(...)` in compiler/changes takes its rule from the registry (`RULE.id`, or a variable holding
    one), never a literal: so a new problem cannot skip the registry."""
    literal = []
    for path in sorted(CHANGES.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Problem"):
                continue
            rule = node.args[1] if len(node.args) > 1 else next(k.value for k in node.keywords if k.arg == "rule")
            if isinstance(rule, ast.Constant | ast.JoinedStr):
                literal.append(f"{path.name}:{node.lineno}")
    assert literal == []
