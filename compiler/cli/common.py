"""Options and helpers shared by the commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from compiler.errors import Diagnosed, PricebookError, error_text, sort_diagnostics

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_PATHS = ("plans/",)


def report_error(exc: PricebookError) -> None:
    """Print an error for a person: the diagnostics of an invalid catalog, or the message and its hint."""
    if isinstance(exc, Diagnosed):
        for diagnostic in sort_diagnostics(exc.diagnostics):
            click.echo(diagnostic.format(), err=True)
        click.echo(f"pricebook: {exc.message}", err=True)
        return
    click.echo(f"pricebook: error: {error_text(exc)}", err=True)
    if exc.hint:
        click.echo(f"  hint: {exc.hint}", err=True)


def paths_argument(func: F) -> F:
    return click.argument("paths", nargs=-1, type=click.Path())(func)


def catalog_options(func: F) -> F:
    """--var NAME=VALUE and --vars FILE, for `*.yaml.j2` templates."""
    func = click.option(
        "--vars", "vars_file", type=click.Path(dir_okay=False), help="YAML/JSON file of template variables."
    )(func)
    func = click.option(
        "--var", "var", multiple=True, metavar="NAME=VALUE", help="A template variable (repeatable)."
    )(func)
    return func


def connection_options(func: F) -> F:
    """--api-base URL (or STRIPE_API_BASE) and --live. The key itself only ever comes from STRIPE_API_KEY."""
    func = click.option("--live", is_flag=True, help="Allow a live-mode key (sk_live_/rk_live_).")(func)
    func = click.option(
        "--api-base", envvar="STRIPE_API_BASE", metavar="URL", help="Talk to this API base (e.g. the emulator)."
    )(func)
    return func


def resolve_paths(paths: tuple[str, ...]) -> list[str]:
    return list(paths) if paths else list(DEFAULT_PATHS)
