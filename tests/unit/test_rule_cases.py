"""Every validate-time rule id reaches a user: `pricebook validate` reports exactly each case's id (and the rule
at the line the case marks), and every id of reading the files, the schema and the rules has a case."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from compiler.catalog.check import ADOPTION_RULE_IDS, READING_RULE_IDS
from compiler.catalog.rules import RULES, RULES_BY_ID
from compiler.catalog.schema import RULE_IDS as SCHEMA_RULE_IDS
from compiler.cli.validate import command as validate
from tests.cli import invoke
from tests.rule_cases import FAILING, PASSING, Case, case_args, params, passing_params, write_case

EVERY_ID = {*READING_RULE_IDS, *SCHEMA_RULE_IDS, *ADOPTION_RULE_IDS, *RULES_BY_ID}


def _unreadable(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Reading the file `name` fails as an unreadable file does (a test may run as a user who can read all)."""
    open_file = Path.open

    def refuse(path: Path, *args: Any, **kwargs: Any) -> Any:
        if path.name == name:
            raise PermissionError(13, "Permission denied", str(path))
        return open_file(path, *args, **kwargs)

    monkeypatch.setattr(Path, "open", refuse)


@pytest.mark.parametrize("case", params(FAILING))
def test_validate_reports_exactly_the_case_rule(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plans = write_case(case, tmp_path)
    if case.unreadable:
        _unreadable(monkeypatch, case.file)
    result = invoke(validate, str(plans), "--format", "json", *case_args(case, plans), env=dict(case.env))
    found = json.loads(result.stdout)
    assert {d["rule"] for d in found} == case.ids, found
    errors = [d for d in found if d["severity"] == "error"]
    assert result.exit_code == (1 if errors else 0)
    assert all(d["message"] for d in found)
    line = case.marked_line()
    if line is not None:
        lines = [d["line"] for d in found if d["rule"] == case.rule and d["file"].endswith("/" + case.file)]
        assert lines == [line], found


@pytest.mark.parametrize("case", passing_params(PASSING))
def test_validate_passes_each_near_miss(case: object, tmp_path: Path) -> None:
    from tests.rule_cases import BASE, Passing

    assert isinstance(case, Passing)
    plans = tmp_path / "plans"
    plans.mkdir()
    (plans / "base.yaml").write_text(BASE, encoding="utf-8")
    (plans / "case.yaml").write_text(case.text, encoding="utf-8")
    result = invoke(validate, str(plans), "--format", "json")
    assert json.loads(result.stdout) == []
    assert result.exit_code == 0


def test_every_validate_time_rule_id_has_a_failing_case() -> None:
    assert {case.rule for case in FAILING} == EVERY_ID


def test_every_cross_field_rule_has_a_passing_near_miss() -> None:
    near = {rule for case in PASSING for rule in case.near}
    assert {rule.id for rule in RULES} <= near <= set(RULES_BY_ID)
