"""The pieces every command depends on are imported, never optional: a missing or broken module fails loudly
instead of quietly leaving out the rules or a command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import compiler.cli
from compiler.catalog.check import check_catalog
from compiler.cli import cli, main

REPO = Path(__file__).resolve().parents[2]


def test_the_rules_run_even_when_compiler_rules_could_not_be_imported_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `check` once imported the rules lazily and skipped them on ImportError: validate then passed everything
    (tmp_path / "c.yaml").write_text(
        "prices:\n  - lookup_key: p\n    product: nowhere\n    currency: usd\n    unit_amount: 5\n"
    )
    monkeypatch.setitem(sys.modules, "compiler.catalog.rules", None)  # any import of it now raises ImportError
    result = check_catalog([str(tmp_path)])
    assert not result.ok
    assert "unknown-product" in {d.rule for d in result.errors}


def test_every_command_is_registered() -> None:
    assert set(cli.commands) == {"validate", "compile", "quote", "plan", "apply", "import", "emulator"}


@pytest.mark.parametrize("module", ["compiler.cli.quote", "compiler.catalog.rules"])
def test_a_missing_module_stops_the_command_line(module: str) -> None:
    code = f"import sys; sys.modules[{module!r}] = None; import compiler.cli"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "ModuleNotFoundError" in done.stderr or "ImportError" in done.stderr


def test_an_internal_error_is_printed_without_the_api_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    key = "sk_test_51SECRETsecretSECRET"
    monkeypatch.setenv("STRIPE_API_KEY", f" {key}\n")

    def boom(*args: object, **kwargs: object) -> int:
        raise RuntimeError(f"unexpected answer to a request with Authorization: Bearer {key}")

    monkeypatch.setattr(compiler.cli.cli, "main", boom)
    monkeypatch.delenv("PRICEBOOK_DEBUG", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert key not in err
    assert "internal error: RuntimeError: unexpected answer to a request with Authorization: Bearer [redacted]" in err
