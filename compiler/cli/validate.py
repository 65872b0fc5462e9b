"""`pricebook validate [PATH...]`: the schema and Stripe's rules over the catalog, offline. Exit 0 valid, 1 not.

Besides text for a person and JSON, it speaks GitHub Actions' workflow commands (annotations on a pull request's
files) and SARIF (for code scanning): paths in those are relative to the repository's root, `GITHUB_WORKSPACE`
on a runner, else the current directory.
"""

from __future__ import annotations

import json
import os
from functools import partial
from importlib.metadata import version
from pathlib import Path

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
    type=click.Choice(["text", "json", "github", "sarif"]),
    default="text",
    show_default=True,
    help="text: one line per problem on stderr; json: a list of problems on stdout; github: GitHub Actions "
    "annotations on stdout (at most 10 of a kind per step, as GitHub shows them, then the full list); sarif: a "
    "SARIF 2.1.0 log on stdout, for code scanning.",
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
    elif fmt == "github":
        from compiler.render.annotations import render_github

        click.echo(render_github(result.diagnostics, summary(result, targets), place=_in_repository()), nl=False)
    elif fmt == "sarif":
        from compiler.catalog.rule_index import validate_rules
        from compiler.render.sarif import render_sarif

        log = render_sarif(result.diagnostics, validate_rules(), version=version("pricebook"), place=_in_repository())
        click.echo(log, nl=False)
    else:
        echo_diagnostics(result.diagnostics)
        click.echo(summary(result, targets), err=True)
    if not result.ok:
        click.get_current_context().exit(ExitCode.ERROR)


def _in_repository() -> partial[str]:
    """A diagnostic's file as a path from the repository's root (GitHub's names for files)."""
    from compiler.render.annotations import repository_path

    cwd = Path.cwd()
    return partial(repository_path, root=Path(os.environ.get("GITHUB_WORKSPACE") or cwd), cwd=cwd)


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
