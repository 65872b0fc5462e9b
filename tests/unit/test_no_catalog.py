"""No catalog files found is an error in every command that reads a catalog, never an empty catalog: planned
against an account, an empty catalog would archive everything pricebook manages. (`plan` and `apply` against the
emulator: tests/integration/test_safety_emulator.py.)"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.cli import PRICEBOOK

OFFLINE = [
    ["validate"],
    ["compile"],
    ["quote", "--price", "p", "--quantity", "1"],
]


@pytest.mark.parametrize("args", OFFLINE, ids=[a[0] for a in OFFLINE])
@pytest.mark.parametrize("where", ["empty", "mistyped"])
def test_no_catalog_files_is_an_error(args: list[str], where: str, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "README.md").write_text("not a catalog\n")
    path = "empty" if where == "empty" else "plnas"
    result = subprocess.run(
        [*PRICEBOOK, args[0], path, *args[1:]], capture_output=True, text=True, check=False, cwd=tmp_path
    )
    assert result.returncode == 1, result.stderr
    rule = "no-files" if where == "empty" else "path-not-found"
    assert f"{path}: error[{rule}]" in result.stderr
    assert "hint: " in result.stderr
    assert "Traceback" not in result.stderr
