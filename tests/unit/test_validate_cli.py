"""`pricebook validate`: exit codes, the text and JSON outputs, template variables."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import Result

from compiler.cli.validate import command
from tests.cli import invoke

ROOT = Path(__file__).resolve().parents[2]

VALID = """\
products:
  - id: p
    name: P
    prices:
      - lookup_key: p_monthly
        currency: usd
        unit_amount: 1000
        recurring: {interval: month}
"""

INVALID = """\
products:
  - id: p
    name: P
    colour: red
prices:
  - lookup_key: q
    product: p
    currency: usd
    unit_amount: 9.99
"""


def run(*args: str) -> Result:
    return invoke(command, *args)


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_example_catalog_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = run()  # PATHS defaults to plans/
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith("plans/: ") and result.stderr.endswith(" files valid\n")


def test_valid_catalog_exits_0(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", VALID)
    result = run(str(tmp_path))
    assert result.exit_code == 0
    assert result.stderr == f"{tmp_path}: 1 file valid\n"


def test_invalid_catalog_lists_every_problem_sorted_then_a_summary(tmp_path: Path) -> None:
    write(tmp_path, "b.yaml", INVALID)
    write(tmp_path, "a.yaml", "meters: [\n")
    result = run(str(tmp_path))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    located = [line for line in lines if not line.startswith("  hint: ")][:-1]
    assert [line.split(": ", 1)[0] for line in located] == [
        f"{tmp_path}/a.yaml:2:1",
        f"{tmp_path}/b.yaml:4:5",
        f"{tmp_path}/b.yaml:9:18",
    ]
    assert "error[yaml-syntax]" in located[0]
    assert "error[schema-unknown-field]: unknown field `colour` in a product" in located[1]
    assert "error[money-float]" in located[2]
    assert "  hint: " in result.stderr
    assert lines[-1] == "3 errors in 2 files"
    assert "Traceback" not in result.output


def test_json_format_is_the_same_list(tmp_path: Path) -> None:
    write(tmp_path, "b.yaml", INVALID)
    result = run(str(tmp_path), "--format", "json")
    assert result.exit_code == 1
    problems = json.loads(result.stdout)
    assert [(p["rule"], p["line"], p["col"], p["severity"]) for p in problems] == [
        ("schema-unknown-field", 4, 5, "error"),
        ("money-float", 9, 18, "error"),
    ]
    assert set(problems[0]) == {"file", "line", "col", "severity", "rule", "message", "hint"}
    valid = run(str(ROOT / "plans"), "--format", "json")
    assert valid.exit_code == 0
    assert json.loads(valid.stdout) == []


def test_warnings_alone_exit_0(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", VALID)
    write(tmp_path, "empty.yaml", "# nothing yet\n")
    result = run(str(tmp_path))
    assert result.exit_code == 0
    assert "warning[empty-file]" in result.stderr
    assert result.stderr.splitlines()[-1] == f"{tmp_path}: 2 files valid (1 warning)"


def test_missing_path_exits_1(tmp_path: Path) -> None:
    result = run(str(tmp_path / "nowhere"))
    assert result.exit_code == 1
    assert "error[path-not-found]" in result.stderr


def test_template_variables_from_var_and_vars(tmp_path: Path) -> None:
    catalog = tmp_path / "plans"
    catalog.mkdir()
    write(
        catalog,
        "t.yaml.j2",
        "products:\n  - id: {{ product }}\n    name: {{ name }}\n",
    )
    varsfile = write(tmp_path, "vars.yaml", "product: suite\nname: From the file\n")
    assert run(str(catalog)).exit_code == 1
    result = run(str(catalog), "--vars", str(varsfile), "--var", "name=From the option")
    assert result.exit_code == 0, result.stderr
    undefined = run(str(catalog), "--var", "product=x", "--format", "json")
    (problem,) = json.loads(undefined.stdout)
    assert (problem["rule"], problem["line"]) == ("template-undefined", 3)


def test_malformed_var_option_is_a_diagnostic(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", VALID)
    result = run(str(tmp_path), "--var", "novalue")
    assert result.exit_code == 1
    assert "error[var-option]" in result.stderr


def test_registered_in_the_command_group() -> None:
    from compiler.cli import cli

    result = invoke(cli, "validate", str(ROOT / "plans"))
    assert result.exit_code == 0
