"""`pricebook validate [PATH...]`: the schema and Stripe's rules over the catalog, offline. Exit 0 valid, 1 not."""

from __future__ import annotations

import json

import click

from compiler.catalog.check import CheckResult, check_with_options
from compiler.cli.common import (
    catalog_options,
    echo_diagnostics,
    environment_option,
    paths_argument,
    resolve_paths,
    template_vars,
)
from compiler.cli.environments import Environment
from compiler.errors import ExitCode


@click.command("validate")
@paths_argument
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: one line per problem on stderr; json: a list of problems on stdout.",
)
@catalog_options
@environment_option
def command(
    paths: tuple[str, ...], fmt: str, var: tuple[str, ...], vars_file: str | None, environment: Environment | None
) -> None:
    """Check the catalog files below PATHS (default plans/) against the schema and Stripe's rules."""
    targets = resolve_paths(paths)
    result = check_with_options(targets, var, vars_file, template_vars(environment))
    if fmt == "json":
        click.echo(json.dumps([d.to_json() for d in result.diagnostics], indent=2, ensure_ascii=False))
    else:
        echo_diagnostics(result.diagnostics)
        click.echo(summary(result, targets), err=True)
    if not result.ok:
        click.get_current_context().exit(ExitCode.ERROR)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def summary(result: CheckResult, targets: list[str]) -> str:
    """`2 errors, 1 warning in 3 files` or `plans/: 4 files valid`."""
    files = _plural(result.files, "file")
    warnings = len(result.warnings)
    if result.ok:
        text = f"{', '.join(targets)}: {files} valid"
        return text + (f" ({_plural(warnings, 'warning')})" if warnings else "")
    counts = [_plural(len(result.errors), "error")]
    if warnings:
        counts.append(_plural(warnings, "warning"))
    return f"{', '.join(counts)} in {files}"
