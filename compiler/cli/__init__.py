"""`pricebook`: the command line. Each command lives in its own module of this package as `command`."""

from __future__ import annotations

import os
import sys

import click

from compiler.cli import apply, emulator, import_, plan, quote, validate
from compiler.cli import compile as compile_
from compiler.cli.common import report_error
from compiler.errors import ExitCode, PricebookError
from compiler.stripe.gateway import REDACTED

#: every command's module, in `--help` order; imported explicitly so a missing or broken one fails loudly
COMMANDS = (validate, compile_, quote, plan, apply, import_, emulator)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pricebook")
def cli() -> None:
    """Stripe pricing as code: validate, compile, plan and apply a catalog kept as YAML."""


for _module in COMMANDS:
    cli.add_command(_module.command)


def redact_key(text: str) -> str:
    """`text` without the API key of the environment (what `Gateway.redact` does for its connection's key)."""
    key = os.environ.get("STRIPE_API_KEY", "").strip()
    return text.replace(key, REDACTED) if key else text


def main() -> None:
    """Entry point: every PricebookError becomes a message and its exit code, never a traceback."""
    try:
        code = cli.main(standalone_mode=False)
    except PricebookError as exc:
        report_error(exc)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(ExitCode.ERROR)
    except click.ClickException as exc:
        exc.show()
        sys.exit(ExitCode.ERROR if exc.exit_code == 2 else exc.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except Exception as exc:  # a bug of ours: say so briefly; PRICEBOOK_DEBUG=1 shows the traceback
        if os.environ.get("PRICEBOOK_DEBUG"):
            raise
        # the text of an unexpected error may echo a request, API key included: scrubbed as the gateway does
        click.echo(f"pricebook: internal error: {redact_key(f'{type(exc).__name__}: {exc}')}", err=True)
        click.echo("  hint: run again with PRICEBOOK_DEBUG=1 for a traceback, and report it", err=True)
        sys.exit(ExitCode.ERROR)
    sys.exit(code if isinstance(code, int) else ExitCode.OK)
