"""Options and helpers shared by the commands."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any, TypeVar

import click

from compiler import bounds
from compiler.errors import Diagnosed, Diagnostic, PricebookError, UsageError, error_text, redact, sort_diagnostics

# Imported where used: every command imports this module for `report_error`, and `pricebook --version` or
# `pricebook emulator` need neither the catalog's reader nor the stripe SDK (which validate never loads either).
if TYPE_CHECKING:
    from compiler.catalog.files import PresetVariables
    from compiler.changes.model import Catalog
    from compiler.cli.environments import Environment
    from compiler.stripe.gateway import Connection

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
            click.echo(redact(diagnostic.format()), err=True)
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
    """Print an error for a person: the diagnostics of an invalid catalog, or the message and its hint. Every
    line is scrubbed of secrets, whichever field (message, code, hint) brought one."""
    if isinstance(exc, Diagnosed):
        echo_diagnostics(sort_diagnostics(exc.diagnostics))
        click.echo(redact(f"pricebook: {exc.message}"), err=True)
        return
    label = f"error[{exc.rule}]" if exc.rule else "error"
    click.echo(redact(f"pricebook: {label}: {error_text(exc)}"), err=True)
    if exc.hint:
        click.echo(redact(f"  hint: {exc.hint}"), err=True)


class RedactingStream:
    """A text stream that writes through `errors.redact`: the last net under everything a command prints, so a
    secret that reached some output no one thought of (a catalog value, an echoed argument) is still not shown.

    Each write is scrubbed whole; click writes a message and its newline in one write."""

    def __init__(self, inner: IO[str]) -> None:
        self._inner = inner

    def write(self, text: str) -> int:
        if not isinstance(text, str):  # click probes for a binary stream by writing b""; this one is text only
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self._inner.write(redact(text))
        return len(text)

    def writelines(self, lines: Iterator[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self._inner.flush()

    def isatty(self) -> bool:
        return self._inner.isatty()

    def fileno(self) -> int:
        return self._inner.fileno()

    # click reads these to decide whether a stream needs wrapping for its encoding: this one is the one under it
    @property
    def encoding(self) -> str:
        return str(getattr(self._inner, "encoding", None) or "utf-8")

    @property
    def errors(self) -> str | None:
        return getattr(self._inner, "errors", None)


@contextmanager
def redacted_output() -> Iterator[None]:
    """stdout and stderr through `RedactingStream` for the duration (the command line's entry point)."""
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = RedactingStream(out), RedactingStream(err)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err


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
    """--api-base URL and --live. The key itself only ever comes from an environment variable (`connect`)."""
    func = click.option("--live", is_flag=True, help="Allow a live-mode key (sk_live_/rk_live_).")(func)
    func = click.option(
        "--api-base",
        metavar="URL",
        help="Talk to this API base (e.g. the emulator) [the environment's api_base, else STRIPE_API_BASE].",
    )(func)
    return func


def select_environment(name: str | None) -> Environment | None:
    """The environment `--env NAME` names, else pricebook.toml's default one (None: neither)."""
    from compiler.cli.environments import select

    return select(name)


def _env_option(func: F, name: str, callback: Callable[..., Any] | None) -> F:
    from compiler.cli.environments import CONFIG_FILE

    return click.option(
        "--env",
        name,
        metavar="NAME",
        callback=callback,
        help=f"The environment of {CONFIG_FILE} to use: its key, mode and template variables "
        "[its default_environment].",
    )(func)


def environment_option(func: F) -> F:
    """--env NAME: an environment of pricebook.toml (else its default_environment, if it names one), passed to
    the command as `environment`: its key and mode for `connect`, its template variables for `template_vars`."""
    return _env_option(func, "environment", lambda _ctx, _param, value: select_environment(value))


def environment_name_option(func: F) -> F:
    """--env NAME as the name alone (`env_name`), for a command that reports even a bad environment its own way
    (`plan --format markdown` prints a comment that shows the error): it calls `select_environment` itself."""
    return _env_option(func, "env_name", None)


def template_vars(environment: Environment | None) -> PresetVariables:
    """What templates get from the environment: its variables (--vars and --var override them) and `env`
    (which nothing overrides)."""
    from compiler.catalog.files import ENV_VARIABLE, NO_PRESET, PresetVariables

    if environment is None:
        return NO_PRESET
    return PresetVariables(environment.variables, {ENV_VARIABLE: environment.template_value()})


def load_checked(
    paths: Sequence[str], var: Sequence[str], vars_file: str | None, environment: Environment | None
) -> Catalog:
    """The checked catalog below `paths` for a command that shows its warnings at once (plan and apply carry them
    in the ChangeSet instead): an invalid one stops here, every diagnostic shown once; its warnings on stderr."""
    from compiler.changes.model import load_catalog

    checked = load_catalog(paths, var, vars_file, template_vars(environment))
    echo_diagnostics(checked.warnings)
    return checked.catalog


def connect(environment: Environment | None, api_base: str | None, live: bool) -> Connection:
    """The connection a command talks to Stripe through: the environment's key, mode and API base, or without
    one STRIPE_API_KEY with --live for a live key. Refused before anything is sent (a missing key, a key of the
    wrong mode)."""
    from compiler.stripe.gateway import DeclaredMode, connection_from_env

    if environment is None:
        return connection_from_env(api_base, live=live)
    if live and not environment.live:
        raise UsageError(
            f"--live contradicts environment {environment.name!r}, which {environment.location} declares test-mode",
            hint="drop --live, or choose the live environment with --env",
        )
    declared = DeclaredMode(environment.name, environment.live, str(environment.location))
    return connection_from_env(
        api_base or environment.api_base, live=live, key_variable=environment.api_key_env, declared=declared
    )


def mass_archive_option(func: F) -> F:
    """--allow-mass-archive: many archives at once (see `changes.problems.MASS_ARCHIVE`) are meant."""
    from compiler.changes.problems import ALLOW_MASS_ARCHIVE, MASS_ARCHIVE_LIMIT

    return click.option(
        ALLOW_MASS_ARCHIVE,
        "allow_mass_archive",
        is_flag=True,
        help=f"Allow archiving more than {MASS_ARCHIVE_LIMIT} objects the catalog no longer lists, or every managed "
        "object of a kind, at once (without it such a plan is blocked: an empty or partial catalog looks like that).",
    )(func)


def resolve_paths(paths: tuple[str, ...]) -> list[str]:
    return list(paths) if paths else list(DEFAULT_PATHS)
