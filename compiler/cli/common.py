"""Options and helpers shared by the commands."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import click

from compiler import bounds
from compiler.changes.problems import ALLOW_MASS_ARCHIVE, MASS_ARCHIVE_LIMIT
from compiler.errors import Diagnosed, Diagnostic, PricebookError, error_text, sort_diagnostics

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_PATHS = ("plans/",)


class DiagnosticPrinter:
    """Prints diagnostics on stderr, the first `bounds.DIAGNOSTICS_SHOWN` of them; `finish` counts the rest, as a
    compiler does (a million times the same error would take minutes to print and nobody would read it)."""

    def __init__(self) -> None:
        self.shown = bounds.DIAGNOSTICS_SHOWN.count
        self.printed = 0
        self.errors = 0  # not printed
        self.warnings = 0

    def __call__(self, diagnostic: Diagnostic) -> None:
        if self.printed < self.shown:
            click.echo(diagnostic.format(), err=True)
            self.printed += 1
        elif diagnostic.is_error:
            self.errors += 1
        else:
            self.warnings += 1

    def finish(self) -> None:
        counts = [
            f"{n:,} more {word}{'' if n == 1 else 's'}"
            for n, word in ((self.errors, "error"), (self.warnings, "warning"))
            if n
        ]
        if counts:
            click.echo(
                f"pricebook: {' and '.join(counts)} not shown (the first {self.shown:,} are above); "
                f"set {bounds.DIAGNOSTICS_SHOWN.env}=N to see more",
                err=True,
            )


def echo_diagnostics(diagnostics: Iterable[Diagnostic]) -> None:
    """`diagnostics` on stderr, as `DiagnosticPrinter` prints them."""
    printer = DiagnosticPrinter()
    for diagnostic in diagnostics:
        printer(diagnostic)
    printer.finish()


def report_error(exc: PricebookError) -> None:
    """Print an error for a person: the diagnostics of an invalid catalog, or the message and its hint."""
    if isinstance(exc, Diagnosed):
        echo_diagnostics(sort_diagnostics(exc.diagnostics))
        click.echo(f"pricebook: {exc.message}", err=True)
        return
    label = f"error[{exc.rule}]" if exc.rule else "error"
    click.echo(f"pricebook: {label}: {error_text(exc)}", err=True)
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


def mass_archive_option(func: F) -> F:
    """--allow-mass-archive: many archives at once (see `changes.problems.MASS_ARCHIVE`) are meant."""
    return click.option(
        ALLOW_MASS_ARCHIVE,
        "allow_mass_archive",
        is_flag=True,
        help=f"Allow archiving more than {MASS_ARCHIVE_LIMIT} objects the catalog no longer lists, or every managed "
        "object of a kind, at once (without it such a plan is blocked: an empty or partial catalog looks like that).",
    )(func)


def resolve_paths(paths: tuple[str, ...]) -> list[str]:
    return list(paths) if paths else list(DEFAULT_PATHS)
