"""`pricebook plan`: read the account, print what apply would do. Never writes to the account.

Exit codes: 0 when it ran (with `--detailed-exitcode`: 0 nothing to do, 2 changes to make), 1 on any error,
including problems that block the apply (an identity held by an object pricebook does not own, a change Stripe
cannot make).

`--format markdown` is the pull-request comment (`render.markdown`); when there is no plan to show (an invalid
catalog, a read that failed, a refused key) it still prints a comment, one that shows the errors, so a workflow
that posts whatever the step printed never posts an empty one. The exit code is 1 all the same.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import click

from compiler import heap
from compiler.changes.changeset import ChangeSet
from compiler.changes.model import CheckedCatalog
from compiler.changes.planning import (
    PendingCatalog,
    changeset_while_reading,
    reading_gateway,
    remembered_boundaries,
)
from compiler.changes.subscribers import DEFAULT_LIMIT, SubscriberOptions
from compiler.cli.common import (
    F,
    catalog_options,
    connect,
    connection_options,
    environment_name_option,
    mass_archive_option,
    paths_argument,
    resolve_paths,
    select_environment,
    template_vars,
)
from compiler.errors import ExitCode, PricebookError, UsageError
from compiler.heap import collector_paused
from compiler.render.color import should_color
from compiler.render.json import CatalogJson, render_json
from compiler.render.markdown import COMMENT_LIMIT, GITHUB_COMMENT_LIMIT, render_markdown, render_markdown_failure
from compiler.render.text import render_text
from compiler.stripe.gateway import LIVE_PREFIXES

FORMATS = ("text", "markdown", "json")


def subscriber_options(func: F) -> F:
    """--no-subscribers and --max-subscriber-prices N: how much of who pays the plan reads."""
    func = click.option(
        "--max-subscriber-prices",
        "subscriber_limit",
        type=click.IntRange(min=0),
        default=DEFAULT_LIMIT,
        show_default=True,
        metavar="N",
        help="Count the subscribers of at most N affected prices (one list request each); the plan names the rest.",
    )(func)
    func = click.option(
        "--no-subscribers",
        is_flag=True,
        help="Do not read who is on the prices the plan replaces, archives or reprices (no extra requests).",
    )(func)
    return func


def subscribers_wanted(no_subscribers: bool, subscriber_limit: int) -> SubscriberOptions:
    return SubscriberOptions(read=not no_subscribers, limit=subscriber_limit)


@click.command("plan")
@paths_argument
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="text for a terminal, markdown for a pull-request comment, json for tools.",
)
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, writable=True),
    metavar="FILE",
    help="Also save the ChangeSet as JSON, for `pricebook apply --plan FILE`.",
)
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 when there is nothing to do, 2 when there are changes (1 on error either way).",
)
@click.option(
    "--max-bytes",
    type=click.IntRange(min=0),
    default=COMMENT_LIMIT,
    show_default=True,
    metavar="N",
    help="markdown: shorten the comment to N bytes, saying what it left out (GitHub refuses a comment over "
    f"{GITHUB_COMMENT_LIMIT:,} characters; a job summary takes 1 MiB: 1048576); 0 keeps everything.",
)
@click.option(
    "--full-plan-url",
    metavar="URL",
    callback=lambda _ctx, _param, value: _checked_url(value),
    help="markdown: where a shortened comment points for the full plan (the workflow run's job summary, an artifact).",
)
@subscriber_options
@mass_archive_option
@catalog_options
@connection_options
@environment_name_option
@collector_paused()  # the catalog stays to the end, and reading, diffing and writing make no garbage to look for
def command(
    paths: tuple[str, ...],
    fmt: str,
    out: str | None,
    detailed_exitcode: bool,
    max_bytes: int,
    full_plan_url: str | None,
    no_subscribers: bool,
    subscriber_limit: int,
    allow_mass_archive: bool,
    var: tuple[str, ...],
    vars_file: str | None,
    api_base: str | None,
    live: bool,
    env_name: str | None,
) -> None:
    """Show what it takes to make the Stripe account match the catalog below PATHS (default plans/)."""
    environment = None
    try:
        environment = select_environment(env_name)
        connection = connect(environment, api_base, live)  # refuses a key of the wrong mode, before any read
        subscribers = subscribers_wanted(no_subscribers, subscriber_limit)
        preset = template_vars(environment)
        # the catalog's part of the JSON is encoded while the account is read (see render.json)
        encoded = CatalogJson()
        compact = out is not None or (fmt == "json" and not sys.stdout.isatty())

        def ready(catalog: CheckedCatalog) -> None:
            heap.freeze()  # the catalog stays to the end: full collections need not walk it
            if compact:
                encoded.start(catalog.catalog.resources)

        pending = PendingCatalog(resolve_paths(paths), var, vars_file, preset, on_ready=ready)
        with pending as checked:
            changeset, _ = changeset_while_reading(
                checked,
                reading_gateway(connection),
                subscribers,
                allow_mass_archive=allow_mass_archive,
                memory=remembered_boundaries(connection),
            )
    except PricebookError as exc:
        if fmt == "markdown":  # a comment that shows the errors, rather than an empty one; the exit code stays 1
            name = environment.name if environment is not None else env_name
            livemode = environment.live if environment is not None else _key_is_live()
            click.echo(render_markdown_failure(exc, environment=name, livemode=livemode), nl=False)
        raise
    heap.freeze()  # what the command made lives until it ends: the collection when it ends need not walk it
    if fmt == "markdown":
        name = environment.name if environment is not None else None
        text = render_markdown(changeset, environment=name, limit=max_bytes or None, full_plan_url=full_plan_url)
    elif fmt == "json":
        text = render_json(changeset, pretty=sys.stdout.isatty(), catalog=encoded)
    else:
        text = render_text(changeset, color=should_color(sys.stdout, os.environ))
    click.echo(text, nl=False)
    ctx = click.get_current_context()
    if changeset.problems:
        count = len(changeset.problems)
        if fmt != "text":  # the text view ends with this already
            click.echo(f"pricebook: {count} problem(s) block the apply", err=True)
        if out:
            click.echo(f"pricebook: not saving {out}: a plan with problems cannot be applied", err=True)
        ctx.exit(ExitCode.ERROR)
    if out:
        save(changeset, out, encoded)
        click.echo(f"Saved the plan to {out}; apply it with: pricebook apply --plan {out}", err=True)
    if detailed_exitcode and changeset.has_changes:
        ctx.exit(ExitCode.CHANGES)
    ctx.exit(ExitCode.OK)


def _key_is_live() -> bool:
    """Whether STRIPE_API_KEY is a live-mode key (for a comment about a plan that could not be made)."""
    return os.environ.get("STRIPE_API_KEY", "").strip().startswith(LIVE_PREFIXES)


def _checked_url(value: str | None) -> str | None:
    """An http(s) URL a markdown link can hold as it is."""
    if value is not None and (not re.fullmatch(r"https?://[^\s<>]+", value)):
        raise click.BadParameter("give an http:// or https:// URL without spaces or angle brackets")
    return value


def save(changeset: ChangeSet, out: str, catalog: CatalogJson | None = None) -> None:
    """Write the ChangeSet JSON (it holds ids, amounts and the account fingerprint, never the API key)."""
    try:
        Path(out).write_text(render_json(changeset, catalog=catalog), encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror or exc}") from None
