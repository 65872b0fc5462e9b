"""The pieces every command depends on are imported, never optional: a missing or broken module fails loudly
instead of quietly leaving out the rules or a command."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import compiler.cli
from compiler.catalog.check import check_catalog
from compiler.cli import cli, main
from compiler.stripe.facts import API_VERSION

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
    ctx = click.Context(cli)
    assert cli.list_commands(ctx) == [
        "validate",
        "compile",
        "quote",
        "plan",
        "apply",
        "import",
        "adopt",
        "usage",
        "schema",
        "ci",
        "emulator",
    ]
    for name in cli.list_commands(ctx):
        command = cli.get_command(ctx, name)
        assert command is not None and command.name == name


@pytest.mark.parametrize(
    ("module", "args"),
    [("compiler.cli.quote", ["quote", "--help"]), ("compiler.catalog.rules", ["validate", "plans/"])],
)
def test_a_missing_module_stops_the_command_that_needs_it(module: str, args: list[str]) -> None:
    # commands are imported when they run: a missing one must fail that command, not leave it out quietly
    code = f"import sys; sys.modules[{module!r}] = None; sys.argv = ['pricebook', *{args!r}]; "
    code += "from compiler.cli import main; main()"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "internal error: ModuleNotFoundError" in done.stderr


#: commands that never talk to Stripe, with arguments that make them do their whole work on the example catalog
OFFLINE = [
    ["validate", "plans/"],
    ["validate", "plans/", "--format", "github"],
    ["validate", "plans/", "--format", "sarif"],
    ["compile", "plans/"],
    ["compile", "plans/", "--format", "curl"],
    ["quote", "plans/", "--price", "standard-cost-per-5-users", "--quantity", "6"],
    ["schema"],
    ["--version"],
]


@pytest.mark.parametrize("args", OFFLINE, ids=" ".join)
def test_offline_commands_do_not_load_the_stripe_sdk(args: list[str]) -> None:
    # the SDK's import alone takes longer than checking a small catalog: hooks and editors run validate often
    code = (
        "import sys\n"
        f"sys.argv = ['pricebook', *{args!r}]\n"
        "from compiler.cli import main\n"
        "try:\n    main()\n"
        "except SystemExit as exit:\n    code = exit.code\n"
        "loaded = sorted(m for m in sys.modules if m == 'stripe' or m.startswith('stripe.'))\n"
        "print('exit', code, 'loaded', loaded, file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.stderr.splitlines()[-1] == "exit 0 loaded []", done.stderr


def test_a_command_that_talks_to_stripe_does_load_it() -> None:
    # the check above can fail: the same probe sees the SDK when a command imports it
    code = "import sys; from compiler.cli import cli; cli.get_command(None, 'plan'); print('stripe' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "True", done.stderr


def test_version_names_the_stripe_api_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"pricebook {version('pricebook')} (Stripe API version {API_VERSION})\n"


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
