"""Every command that loads a catalog shows its warnings: `plan` in each of its views (and in the plan it saves),
`apply` in the plan it prints (from the catalog, or from a saved plan), `quote`, `compile` and `usage import
--dry-run --catalog` on stderr."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compiler.cli import apply, plan, quote, usage
from compiler.cli import compile as compile_
from compiler.emulator import EmulatorHandle
from tests.cli import invoke

#: the warning every catalog below carries: an empty file among the catalog files
WARNING = "plans/empty.yaml:1:1"
TEXT = f"Warning: {WARNING}: the file holds no catalog objects [empty-file]"


@pytest.fixture
def warned(plans: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The example catalog plus an empty file (a warning, not an error), with the current directory above it."""
    (plans / "empty.yaml").write_text("# nothing here yet\n")
    monkeypatch.chdir(plans.parent)
    return plans


def env(emulator: EmulatorHandle) -> dict[str, str]:
    return {"STRIPE_API_KEY": emulator.api_key, "STRIPE_API_BASE": emulator.url, "NO_COLOR": "1"}


def test_plan_shows_the_warnings_in_text_markdown_and_json(emulator: EmulatorHandle, warned: Path) -> None:
    text = invoke(plan.command, "plans", env=env(emulator))
    assert text.exit_code == 0, text.output
    assert TEXT in text.stdout
    markdown = invoke(plan.command, "plans", "--format", "markdown", env=env(emulator))
    assert "#### Catalog warnings" in markdown.stdout
    assert f"- **`{WARNING}`** `empty-file`: the file holds no catalog objects" in markdown.stdout
    as_json = invoke(plan.command, "plans", "--format", "json", env=env(emulator))
    (warning,) = json.loads(as_json.stdout)["warnings"]
    assert (warning["file"], warning["line"], warning["col"], warning["rule"], warning["severity"]) == (
        "plans/empty.yaml", 1, 1, "empty-file", "warning"
    )


def test_apply_shows_the_warnings_from_the_catalog_and_from_a_saved_plan(
    emulator: EmulatorHandle, warned: Path
) -> None:
    saved = warned.parent / "changes.json"
    planned = invoke(plan.command, "plans", "--out", str(saved), env=env(emulator))
    assert planned.exit_code == 0, planned.output
    assert json.loads(saved.read_text())["warnings"][0]["rule"] == "empty-file"
    from_saved = invoke(apply.command, "--plan", str(saved), "--auto-approve", env=env(emulator))
    assert from_saved.exit_code == 0, from_saved.output
    assert TEXT in from_saved.stdout
    again = invoke(apply.command, "plans", "--auto-approve", env=env(emulator))  # nothing left to do
    assert again.exit_code == 0, again.output
    assert TEXT in again.stdout and "No changes." in again.stdout


def test_quote_and_compile_print_the_warnings_on_stderr(warned: Path) -> None:
    quoted = invoke(quote.command, "plans", "--price", "standard-cost-per-5-users", "--quantity", "6")
    assert quoted.exit_code == 0, quoted.output
    assert f"{WARNING}: warning[empty-file]: the file holds no catalog objects" in quoted.stderr
    assert "empty-file" not in quoted.stdout  # the quote itself stays clean for a pipe
    compiled = invoke(compile_.command, "plans")
    assert compiled.exit_code == 0, compiled.output
    assert f"{WARNING}: warning[empty-file]" in compiled.stderr


def test_a_usage_dry_run_against_the_catalog_prints_its_warnings_once(warned: Path) -> None:
    rows = warned.parent / "usage.jsonl"
    rows.write_text('{"event_name": "api_requests", "payload": {"stripe_customer_id": "cus_1", "requests": 40}}\n')
    checked = invoke(usage.command, "import", str(rows), "--dry-run", "--catalog", "plans")
    assert checked.exit_code == 0, checked.output
    assert checked.stderr.count(f"{WARNING}: warning[empty-file]") == 1


def test_a_var_no_template_reads_is_a_warning_in_every_command(emulator: EmulatorHandle, warned: Path) -> None:
    unused = ("--var", "suport_rate=2500")  # misspelt: the template reads support_rate
    planned = invoke(plan.command, "plans", *unused, env=env(emulator))
    assert planned.exit_code == 0, planned.output
    assert "Warning: --var: --var suport_rate=... is read by no template of the catalog [var-unused]" in planned.stdout
    assert "the templates read support_rate" in planned.stdout
    compiled = invoke(compile_.command, "plans", *unused)
    assert "--var: warning[var-unused]: --var suport_rate=... is read by no template" in compiled.stderr
    used = invoke(compile_.command, "plans", "--var", "support_rate=2500")
    assert used.exit_code == 0 and "var-unused" not in used.stderr
