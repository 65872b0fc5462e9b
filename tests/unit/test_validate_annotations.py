"""`pricebook validate --format github` and `--format sarif`, held to the formats' own rules.

GitHub's workflow commands are read back here as the runner reads them (`::name k=v,k=v::data`, then each part
unescaped), so an escape that is missing or one too many shows up as a changed file, line or message. SARIF logs
are checked against the SARIF 2.1.0 JSON Schema (tests/fixtures/sarif, see its NOTICE.md), with the schema's
`uri` formats checked too. Both run over every rule case: each validate-time id comes out in both formats.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest

from compiler.catalog.rule_index import validate_rules
from compiler.cli.validate import command as validate
from compiler.errors import Diagnostic, Location, Severity
from compiler.render.annotations import (
    ANNOTATIONS_PER_STEP,
    escape_data,
    escape_property,
    render_github,
    repository_path,
)
from tests.cli import invoke
from tests.rule_cases import FAILING, Case, case_args, params, write_case
from tests.unit.test_rule_cases import EVERY_ID
from tests.unit.test_rule_cases import _unreadable as unreadable
from tests.unit.test_validate_cli import VALID

SARIF_SCHEMA = Path(__file__).resolve().parents[1] / "fixtures" / "sarif" / "sarif-schema-2.1.0.json"

# -- the runner's side: how a line of a step's output becomes a command ------------------------------------------


@dataclass(frozen=True)
class Command:
    name: str
    properties: dict[str, str]
    data: str


def _unescape_data(text: str) -> str:
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def _unescape_property(text: str) -> str:
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%3A", ":").replace("%2C", ",").replace("%25", "%")


_COMMAND = re.compile(r"::(?P<name>[a-z-]+)(?: (?P<props>[^:]*))?::(?P<data>.*)")


def parse_command(line: str) -> Command | None:
    """The command a line of output is to the runner, or None for plain text."""
    found = _COMMAND.fullmatch(line)
    if found is None:
        return None
    properties: dict[str, str] = {}
    for pair in filter(None, (found["props"] or "").split(",")):
        key, _, value = pair.partition("=")
        properties[key] = _unescape_property(value)
    return Command(found["name"], properties, _unescape_data(found["data"]))


def read_annotations(output: str) -> list[Command]:
    """The annotations of a step's output, skipping what `::stop-commands::` turned off, as the runner does."""
    found: list[Command] = []
    stopped: str | None = None
    for line in output.splitlines():
        if stopped is not None:
            if line == f"::{stopped}::":
                stopped = None
            continue
        command = parse_command(line)
        if command is None:
            continue
        if command.name == "stop-commands":
            stopped = command.data
        elif command.name in ("error", "warning", "notice"):
            found.append(command)
    assert stopped is None, "commands stopped and never resumed"
    return found


# -- escaping --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["plain", "100%", "a\nb\r\nc", "%0A is literal", "key: value, more", "::error::x"])
def test_escaped_text_reads_back_as_written(text: str) -> None:
    assert _unescape_data(escape_data(text)) == text
    assert _unescape_property(escape_property(text)) == text
    assert "\n" not in escape_data(text) and "\r" not in escape_data(text)
    assert not {":", ",", "\n"} & set(escape_property(text))


def test_escaping_is_what_the_runner_expects() -> None:
    assert escape_data("50% off\r\nnow") == "50%25 off%0D%0Anow"
    assert escape_property("a,b: 5%") == "a%2Cb%3A 5%25"


# -- --format github -------------------------------------------------------------------------------------------


def _diagnostic(n: int, severity: Severity = Severity.ERROR, rule: str = "schema-type") -> Diagnostic:
    return Diagnostic(Location("plans/a.yaml", n, 3), rule, f"problem {n}", f"fix {n}", severity)


def test_an_annotation_carries_the_place_the_rule_and_the_hint(tmp_path: Path) -> None:
    plans = tmp_path / "dir, with: commas"
    plans.mkdir()
    (plans / "a.yaml").write_text("products:\n  - id: p\n    name: P\n    colour: red\n", encoding="utf-8")
    result = invoke(validate, str(plans), "--format", "github")
    assert result.exit_code == 1
    (found,) = read_annotations(result.stdout)
    assert found.name == "error"
    assert found.properties == {
        "file": f"{plans}/a.yaml",  # outside the repository (the working directory): left as given
        "line": "4",
        "col": "5",
        "title": "pricebook: schema-unknown-field",
    }
    assert found.data.startswith("unknown field `colour` in a product\nhint: known fields: ")
    assert result.stdout.splitlines()[-1] == "1 error in 1 file"


def test_files_are_named_from_the_repository_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    catalog = tmp_path / "billing" / "catalog"
    catalog.mkdir(parents=True)
    (catalog / "a.yaml").write_text("products:\n  - id: p\n", encoding="utf-8")
    monkeypatch.chdir(catalog)
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path / "billing"))
    (found,) = read_annotations(invoke(validate, ".", "--format", "github").stdout)
    assert found.properties["file"] == "catalog/a.yaml"
    sarif = json.loads(invoke(validate, str(catalog), "--format", "sarif").stdout)
    (result,) = sarif["runs"][0]["results"]
    artifact = result["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": "catalog/a.yaml", "uriBaseId": "%SRCROOT%"}


def test_repository_path() -> None:
    root = Path("/work/repo")
    assert repository_path("plans/a.yaml", root, root) == "plans/a.yaml"
    assert repository_path("a.yaml", root, root / "plans") == "plans/a.yaml"
    assert repository_path("/work/repo/plans/a.yaml", root, Path("/elsewhere")) == "plans/a.yaml"
    assert repository_path("/elsewhere/a.yaml", root, root) == "/elsewhere/a.yaml"


def test_a_valid_catalog_prints_no_command(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(VALID, encoding="utf-8")
    result = invoke(validate, str(tmp_path), "--format", "github")
    assert result.exit_code == 0
    assert result.stdout == f"{tmp_path}: 1 file valid\n"


def test_up_to_the_limit_every_problem_is_an_annotation() -> None:
    diagnostics = [_diagnostic(n) for n in range(1, 11)] + [_diagnostic(n, Severity.WARNING) for n in range(20, 30)]
    output = render_github(diagnostics, "summary")
    found = read_annotations(output)
    assert [(a.name, a.data) for a in found] == [
        (d.severity.value, f"{d.message}\nhint: {d.hint}") for d in diagnostics
    ]
    assert "::group::" not in output and "::stop-commands::" not in output


def test_past_the_limit_one_annotation_counts_the_rest_and_the_log_lists_everything() -> None:
    errors = [_diagnostic(n, rule="schema-type" if n % 3 else "money-float") for n in range(1, 26)]
    warnings = [_diagnostic(n, Severity.WARNING, "empty-file") for n in range(100, 112)]
    output = render_github([*warnings, *errors], "25 errors, 12 warnings in 1 file", token="tok")
    found = read_annotations(output)
    by_kind = {kind: [a for a in found if a.name == kind] for kind in ("error", "warning")}
    assert [len(by_kind["error"]), len(by_kind["warning"])] == [ANNOTATIONS_PER_STEP, ANNOTATIONS_PER_STEP]
    assert [a.data for a in by_kind["error"][:9]] == [f"problem {n}\nhint: fix {n}" for n in range(1, 10)]
    rest = by_kind["error"][-1]
    assert rest.properties == {"title": "pricebook: 16 more errors"}
    assert rest.data.startswith("16 more errors than GitHub shows as annotations (schema-type ×11, money-float ×5)")
    assert by_kind["warning"][-1].properties == {"title": "pricebook: 3 more warnings"}
    assert "(empty-file ×3)" in by_kind["warning"][-1].data
    lines = output.splitlines()
    start, end = lines.index("::stop-commands::tok"), lines.index("::tok::")
    listed = lines[start + 1 : end]
    assert [line for line in listed if not line.startswith("  hint: ")] == [
        d.format().splitlines()[0] for d in sorted([*errors, *warnings], key=Diagnostic.sort_key)
    ]
    assert lines[start - 1] == "::group::Every problem (37)" and lines[end + 1] == "::endgroup::"
    assert lines[-1] == "25 errors, 12 warnings in 1 file"


def test_text_from_a_catalog_cannot_become_a_command() -> None:
    sneaky = Diagnostic(Location("plans/a.yaml", 1, 1), "schema-type", "x\n::error::forged", None)
    output = render_github([sneaky, *[_diagnostic(n) for n in range(2, 13)]], "s", token="tok")
    assert all(a.data != "forged" for a in read_annotations(output))
    one = render_github([sneaky], "s")
    assert [a.data for a in read_annotations(one)] == ["x\n::error::forged"]


def test_every_stop_token_is_new() -> None:
    many = [_diagnostic(n) for n in range(1, 20)]
    tokens = {re.search(r"::stop-commands::(\w+)", render_github(many, "s"))[1] for _ in range(3)}  # type: ignore[index]
    assert len(tokens) == 3 and all(len(token) >= 32 for token in tokens)


# -- --format sarif --------------------------------------------------------------------------------------------


def _uri(value: object) -> bool:
    return not isinstance(value, str) or bool(urlsplit(value).scheme)


def _uri_reference(value: object) -> bool:
    if isinstance(value, str):
        urlsplit(value)  # raises ValueError for what is no reference at all
    return True


@cache
def sarif_validator() -> jsonschema.Draft4Validator:
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    checker = jsonschema.FormatChecker()
    checker.checks("uri", raises=ValueError)(_uri)
    checker.checks("uri-reference", raises=ValueError)(_uri_reference)
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema, format_checker=checker)


def check_sarif(log: Any) -> None:
    errors = sorted(sarif_validator().iter_errors(log), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def test_the_schema_check_can_fail() -> None:
    with pytest.raises(AssertionError, match="is not one of"):
        check_sarif({"version": "2.0.0", "runs": []})
    with pytest.raises(AssertionError, match="'uri'"):
        relative = {"name": "x", "informationUri": "docs/rules.md"}
        check_sarif({"version": "2.1.0", "runs": [{"tool": {"driver": relative}}]})


def test_a_valid_catalog_is_a_run_without_results(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(VALID, encoding="utf-8")
    result = invoke(validate, str(tmp_path), "--format", "sarif")
    assert result.exit_code == 0
    log = json.loads(result.stdout)
    check_sarif(log)
    (run,) = log["runs"]
    assert run["results"] == [] and run["tool"]["driver"]["rules"] == []
    assert run["tool"]["driver"]["name"] == "pricebook"


def test_every_validate_time_id_is_described() -> None:
    infos = validate_rules()
    assert set(infos) == EVERY_ID
    assert all(info.summary and info.id == rule_id for rule_id, info in infos.items())
    docs = [info.doc for info in infos.values() if info.doc]
    assert len(docs) > 20 and all(doc.startswith("https://docs.stripe.com/") for doc in docs)


@pytest.mark.parametrize("case", params(FAILING))
def test_every_rule_case_in_both_formats(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plans = write_case(case, tmp_path)
    if case.unreadable:
        unreadable(monkeypatch, case.file)
    monkeypatch.chdir(tmp_path)
    args = [str(plans.relative_to(tmp_path)), *case_args(case, plans)]
    env = dict(case.env)
    expected = json.loads(invoke(validate, *args, "--format", "json", env=env).stdout)

    sarif = invoke(validate, *args, "--format", "sarif", env=env)
    assert sarif.exit_code == (1 if any(d["severity"] == "error" for d in expected) else 0)
    log = json.loads(sarif.stdout)
    check_sarif(log)
    (run,) = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert {r["ruleId"] for r in run["results"]} == case.ids == {rule["id"] for rule in rules}
    assert len(run["results"]) == len(expected)
    for rule in rules:
        doc = validate_rules()[rule["id"]].doc
        assert rule.get("helpUri") == doc
        assert doc is None or f"]({doc})" in rule["help"]["markdown"]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] == validate_rules()[result["ruleId"]].severity.value
        assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"] == "%SRCROOT%"

    github = invoke(validate, *args, "--format", "github", env=env)
    assert github.exit_code == sarif.exit_code
    found = read_annotations(github.stdout)
    assert len(found) == len(expected)  # no case has more than 10 problems of a kind
    assert {a.properties["title"].removeprefix("pricebook: ") for a in found} == case.ids
    places = sorted((a.properties["file"], int(a.properties.get("line", 0)), a.data) for a in found)
    hinted = [(d, d["message"] + (f"\nhint: {d['hint']}" if d["hint"] else "")) for d in expected]
    assert places == sorted((repository_path(d["file"], tmp_path, tmp_path), d["line"], text) for d, text in hinted)
