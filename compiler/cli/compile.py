"""`pricebook compile [PATH...] [--format json|curl] [--check]`: the API calls that build the catalog in an
empty account, offline. Exit 0, or 1 for an invalid catalog (or, with --check, a call Stripe would refuse)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

import click

from compiler import heap
from compiler.changes.changeset import FORMAT_VERSION
from compiler.changes.compile import compile_catalog, iter_calls
from compiler.changes.model import Catalog
from compiler.cli.common import (
    catalog_options,
    environment_option,
    load_checked,
    paths_argument,
    resolve_paths,
)
from compiler.cli.environments import Environment
from compiler.errors import Diagnostic, InvalidCatalog, Location
from compiler.render.curl import render_calls
from compiler.stripe.calls import ApiCall
from compiler.stripe.conformance import check_calls, rule_id
from compiler.stripe.facts import API_VERSION


@click.command("compile")
@paths_argument
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "curl"]),
    default="json",
    show_default=True,
    help="json: the calls for machines; curl: as Stripe's docs print them, with the key as $STRIPE_API_KEY.",
)
@click.option(
    "--check",
    "conform",
    is_flag=True,
    help="Also hold every call against the stripe SDK's request types (unknown, missing or mistyped params).",
)
@catalog_options
@environment_option
def command(
    paths: tuple[str, ...],
    fmt: str,
    conform: bool,
    var: tuple[str, ...],
    vars_file: str | None,
    environment: Environment | None,
) -> None:
    """Print the ordered API calls that create the catalog below PATHS (default plans/) in an empty account."""
    catalog = load_checked(resolve_paths(paths), var, vars_file, environment)
    heap.freeze()  # the catalog stays to the end: full collections while compiling need not walk it
    if conform:  # the calls are made twice rather than held: cheap next to holding 100,000 of them
        problems = conformance_diagnostics(catalog, iter_calls(catalog))
        if problems:
            raise InvalidCatalog(problems)
    if fmt == "curl":
        click.echo(render_calls(compile_catalog(catalog), api_version=API_VERSION), nl=False)
    else:
        write_json(iter_calls(catalog), lambda text: click.echo(text, nl=False))


def write_json(calls: Iterable[ApiCall], write: Callable[[str], object]) -> None:
    """The calls as `ApiCall.to_json` writes them, the same objects as a saved ChangeSet's `calls` (so under the
    ChangeSet's format version: one version for the call format, not two that could disagree), written as they
    come, one call a line: nothing is built whole, and the lines still diff and grep well."""
    head = json.dumps({"format_version": FORMAT_VERSION, "api_version": API_VERSION}, ensure_ascii=False)
    write(head[:-1] + ', "calls": [')
    separator = "\n"
    for call in calls:
        write(separator + json.dumps(call.to_json(), ensure_ascii=False))
        separator = ",\n"
    write("\n]}\n")


def conformance_diagnostics(catalog: Catalog, calls: Iterable[ApiCall]) -> list[Diagnostic]:
    """Each call Stripe would refuse, as a problem at the place of the catalog object it came from."""
    places = {resource.address: resource.location for resource in catalog}
    out = []
    for call, problem in check_calls(calls):
        where = f" {problem.param}" if problem.param else ""
        out.append(
            Diagnostic(
                places.get(call.address) or Location("<compiled>"),
                rule_id(problem.code),
                f"{call.address} ({call.method} {call.path}){where}: {problem.message}",
                hint="pricebook compiled a call the stripe SDK's request types do not allow; please report it",
            )
        )
    return out
