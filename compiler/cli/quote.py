"""`pricebook quote`: what a customer pays for a price or plan of the catalog at some quantities, offline."""

from __future__ import annotations

import difflib
import json
from collections.abc import Sequence

import click

from compiler.changes.model import Catalog, Resource
from compiler.cli.common import (
    catalog_options,
    environment_option,
    load_checked,
    paths_argument,
    resolve_paths,
)
from compiler.cli.environments import Environment
from compiler.errors import UsageError
from compiler.stripe.kinds import Kind
from compiler.stripe.pricing import Assumption, PriceTerms, Quote, quote

QUOTABLE = (Kind.PRICE, Kind.PLAN)


@click.command("quote")
@paths_argument
@click.option("--price", "key", required=True, metavar="KEY", help="A price lookup_key or a plan id.")
@click.option(
    "--quantity",
    "quantities",
    type=click.IntRange(min=0),
    multiple=True,
    required=True,
    metavar="N",
    help="Units, or usage for a metered price (repeatable).",
)
@click.option("--currency", metavar="CUR", help="Quote one of the price's currency_options.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@catalog_options
@environment_option
def command(
    paths: tuple[str, ...],
    key: str,
    quantities: tuple[int, ...],
    currency: str | None,
    fmt: str,
    var: tuple[str, ...],
    vars_file: str | None,
    environment: Environment | None,
) -> None:
    """What a customer pays for the price (or plan) KEY at each --quantity: transform, tiers, flat fees."""
    # checked first: quoting an invalid catalog would price something Stripe would refuse to create
    catalog = load_checked(resolve_paths(paths), var, vars_file, environment)
    resource = find_quotable(catalog, key)
    terms = PriceTerms.from_attrs(resource.kind, resource.attrs, currency)
    quotes = [quote(terms, q) for q in quantities]
    if fmt == "json":
        click.echo(json.dumps(to_json(resource, terms, quotes), indent=2))
    else:
        click.echo(render_text(resource, terms, quotes))


def find_quotable(catalog: Catalog, key: str) -> Resource:
    """The price (by lookup_key) or plan (by id) named `key`; `price.KEY` / `plan.KEY` say which when both exist."""
    kind_text, dot, rest = key.partition(".")
    if dot and kind_text in (Kind.PRICE.value, Kind.PLAN.value):
        explicit = catalog.get(Kind(kind_text), rest)
        if explicit is not None:
            return explicit
    found = [r for r in (catalog.get(kind, key) for kind in QUOTABLE) if r is not None]
    if len(found) == 1:
        return found[0]
    if found:
        raise UsageError(
            f"{key!r} is both a price lookup_key and a plan id",
            hint=f"say which: --price price.{key} or --price plan.{key}",
        )
    known = sorted(r.key for kind in QUOTABLE for r in catalog.of_kind(kind))
    close = difflib.get_close_matches(key, known, n=3, cutoff=0.7)
    if close:
        hint = "did you mean " + ", ".join(close) + "?"
    elif known:
        hint = "the catalog has: " + ", ".join(known[:10]) + (", ..." if len(known) > 10 else "")
    else:
        hint = "the catalog has no prices or plans"
    raise UsageError(f"no price lookup_key or plan id {key!r} in the catalog", hint=hint)


def _assumptions(quotes: Sequence[Quote]) -> dict[Assumption, list[int]]:
    """Each assumption once, in the order the quantities met it, with the quantities it affected."""
    seen: dict[Assumption, list[int]] = {}
    for q in quotes:
        for assumption in q.assumptions:
            affected = seen.setdefault(assumption, [])
            if q.quantity not in affected:
                affected.append(q.quantity)
    return seen


def render_text(resource: Resource, terms: PriceTerms, quotes: Sequence[Quote]) -> str:
    rows = [("quantity", "billed", "amount")]
    rows += [(str(q.quantity), str(q.billed_quantity), q.formatted) for q in quotes]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [f"{resource.address}: {terms.describe()}", ""]
    for index, row in enumerate(rows):
        lines.append("  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
        if index and terms.is_tiered:  # tiers: show how the amount is made, tier by tier
            indent = " " * (widths[0] + 2)
            lines.extend(indent + line.describe(terms.currency) for line in quotes[index - 1].lines)
    assumptions = _assumptions(quotes)
    if assumptions:
        lines += ["", "assumptions:"]
        for assumption, affected in assumptions.items():
            label = "quantity" if len(affected) == 1 else "quantities"
            lines.append(f"  - {label} {', '.join(map(str, affected))}: {assumption.text}")
    return "\n".join(lines)


def to_json(resource: Resource, terms: PriceTerms, quotes: Sequence[Quote]) -> dict[str, object]:
    return {
        "kind": resource.kind.value,
        "key": resource.key,
        "currency": terms.currency,
        "billing_scheme": terms.billing_scheme,
        "tiers_mode": terms.tiers_mode,
        "usage_type": terms.usage_type,
        "quotes": [q.to_json() for q in quotes],
        "assumptions": [
            {**assumption.to_json(), "quantities": affected} for assumption, affected in _assumptions(quotes).items()
        ],
    }
