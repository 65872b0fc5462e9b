"""`pricebook`: the command line. Each command lives in its own module of this package as `command`.

A command's module is imported only when that command runs (or `--help` lists it): `validate` and `compile`
never load the stripe SDK, which alone takes longer to import than a small catalog takes to check.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys
import traceback
from typing import NoReturn

import click

from compiler.cli.common import redacted_output, report_error
from compiler.cli.interrupts import exit_now
from compiler.errors import ExitCode, PricebookError, keep_secret, redact
from compiler.stripe.facts import API_VERSION

#: every command, in `--help` order: its name and the module of this package that defines it as `command`
COMMANDS = {
    "validate": "validate",
    "compile": "compile",
    "quote": "quote",
    "plan": "plan",
    "apply": "apply",
    "import": "import_",
    "adopt": "adopt",
    "usage": "usage",
    "schema": "schema",
    "ci": "ci",
    "emulator": "emulator",
}


class LazyGroup(click.Group):
    """A group that imports a command's module when the command is asked for. A missing or broken module
    fails loudly then, instead of the command quietly disappearing."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMANDS.get(cmd_name)
        if module is None:
            return None
        command = importlib.import_module(f"{__name__}.{module}").command
        if not isinstance(command, click.Command) or command.name != cmd_name:
            raise TypeError(f"{__name__}.{module}.command is not the `{cmd_name}` command")
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(
    package_name="pricebook", prog_name="pricebook", message=f"%(prog)s %(version)s (Stripe API version {API_VERSION})"
)
def cli() -> None:
    """Stripe pricing as code: validate, compile, plan and apply a catalog kept as YAML; record usage."""


#: what a Stripe secret or restricted key starts with, in either mode
_KEY_PREFIXES = ("sk_", "rk_")


def keep_environment_secrets() -> None:
    """Make every API key this process may read a secret `redact` removes: STRIPE_API_KEY's, and that of any
    environment variable holding a Stripe key, since an environment of pricebook.toml reads its key from a
    variable of its own."""
    for name, value in os.environ.items():
        key = value.strip()
        if key and (name == "STRIPE_API_KEY" or (key.startswith(_KEY_PREFIXES) and len(key) > 12)):
            keep_secret(key)


def interrupted() -> NoReturn:
    """Exit after Ctrl-C: 130 (128 + SIGINT, what shells report), a line on stderr, no traceback. A command that
    changes anything reports what it did before it gets here (`apply` handles Ctrl-C itself)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not interrupt the exit itself
    click.echo("pricebook: interrupted", err=True)
    exit_now(ExitCode.INTERRUPTED)


def main() -> None:
    """Entry point: every PricebookError becomes a message and its exit code, never a traceback; nothing printed
    shows a secret (the keys of the environment are known as secrets from the start)."""
    keep_environment_secrets()
    with redacted_output():
        code = _run()
    sys.exit(code)


def _run() -> int:
    try:
        code = cli.main(standalone_mode=False)
    except PricebookError as exc:
        report_error(exc)
        return exc.exit_code
    except click.exceptions.Abort as exc:
        # click turns Ctrl-C (and end of input at a prompt) into Abort; a Ctrl-C stays one
        if isinstance(exc.__cause__ or exc.__context__, KeyboardInterrupt):
            interrupted()
        click.echo("Aborted.", err=True)
        return ExitCode.ERROR
    except click.ClickException as exc:
        exc.show()
        return ExitCode.ERROR if exc.exit_code == 2 else exc.exit_code
    except KeyboardInterrupt:
        interrupted()
    except Exception as exc:  # a bug of ours: say so briefly; PRICEBOOK_DEBUG=1 shows the traceback
        # the text of an unexpected error may echo a request, key or session token included
        if os.environ.get("PRICEBOOK_DEBUG"):
            click.echo(redact(traceback.format_exc()), err=True, nl=False)
        click.echo(redact(f"pricebook: internal error: {type(exc).__name__}: {exc}"), err=True)
        click.echo("  hint: run again with PRICEBOOK_DEBUG=1 for a traceback, and report it", err=True)
        return ExitCode.ERROR
    return code if isinstance(code, int) else ExitCode.OK
