"""`pricebook schema` (the catalog schema for a catalog repository to commit) and where `import` points the files'
`$schema` comment, so that it resolves in any clone of that repository."""

from __future__ import annotations

import subprocess
from pathlib import Path

from click.testing import CliRunner

from compiler.cli.import_ import committed_schema
from compiler.cli.schema import command
from tests.cli import PRICEBOOK

REPO = Path(__file__).resolve().parents[2]
SCHEMA = (REPO / "schemas" / "catalog.schema.json").read_text(encoding="utf-8")


def schema(*args: str) -> subprocess.CompletedProcess[str]:
    """`pricebook schema ARGS` as a user runs it (errors become a message, a hint and exit 1)."""
    return subprocess.run([*PRICEBOOK, "schema", *args], cwd=REPO, capture_output=True, text=True, timeout=60)


def test_prints_the_schema_as_committed_here() -> None:
    result = CliRunner().invoke(command, [])
    assert result.exit_code == 0, result.output
    assert result.stdout == SCHEMA


def test_writes_the_schema_and_checks_a_copy(tmp_path: Path) -> None:
    out = tmp_path / "schemas" / "catalog.schema.json"
    missing = schema("--out", str(out), "--check")
    assert missing.returncode == 1
    assert f"{out} is missing" in missing.stderr
    assert f"hint: write it with: pricebook schema --out {out}" in missing.stderr

    written = CliRunner().invoke(command, ["--out", str(out)])
    assert written.exit_code == 0, written.output
    assert written.stdout == f"Wrote {out}\n"
    assert out.read_text(encoding="utf-8") == SCHEMA
    assert CliRunner().invoke(command, ["--out", str(out), "--check"]).stdout == f"{out} is up to date\n"

    out.write_text(SCHEMA.replace("catalog", "katalog"), encoding="utf-8")
    stale = schema("--out", str(out), "--check")
    assert stale.returncode == 1
    assert "differs from this pricebook's schema" in stale.stderr
    assert out.read_text(encoding="utf-8") != SCHEMA  # --check writes nothing


def test_check_needs_a_file() -> None:
    result = schema("--check")
    assert result.returncode == 1
    assert "--check needs --out FILE" in result.stderr


def test_import_finds_the_copy_a_repository_commits(tmp_path: Path) -> None:
    repository = tmp_path / "billing"
    (repository / ".git").mkdir(parents=True)
    catalog = repository / "catalog" / "stripe"
    assert committed_schema(catalog) is None  # nothing yet: import writes a copy beside the files

    schemas = repository / "schemas" / "catalog.schema.json"
    schemas.parent.mkdir()
    schemas.write_text(SCHEMA, encoding="utf-8")
    assert committed_schema(catalog) == schemas.resolve()

    catalog.mkdir(parents=True)
    beside = catalog / "catalog.schema.json"
    beside.write_text(SCHEMA, encoding="utf-8")
    assert committed_schema(catalog) == beside.resolve()  # a copy beside the files wins


def test_import_looks_no_higher_than_the_repository_root(tmp_path: Path) -> None:
    # a schemas/ folder outside the repository is in no teammate's clone
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "catalog.schema.json").write_text(SCHEMA, encoding="utf-8")
    (tmp_path / "billing" / ".git").mkdir(parents=True)
    assert committed_schema(tmp_path / "billing" / "catalog") is None
    assert committed_schema(tmp_path / "elsewhere") == (tmp_path / "schemas" / "catalog.schema.json").resolve()
