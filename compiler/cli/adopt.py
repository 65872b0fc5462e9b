"""`pricebook adopt`: write catalog entries for objects made outside pricebook, and the record of what they take
over in this account. Reads the account; never writes to it: `plan` then shows an adopt action for each, and
`apply` carries them out, as for any change.

Into a directory without catalog files (a first adoption) it writes meters.yaml, products.yaml and plans.yaml as
`import` does. Into a catalog it matches the account's objects to its entries, and writes what matches none as
new entries, to adopted.yaml, as its mode says (`adopt.choose_mode`, printed with the reason): all of them when
the catalog is this account's, only what `--only` picks (and the prices marked as pricebook's that no lookup_key
names) when it serves another account too (`--match-only` / `--add-unmatched` choose). The record goes to
adoptions.yaml either way. Exit 0 when it ran (unmatched objects are listed, not an error), 1 on any error.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import click

from compiler.adopt import (
    ADD_UNMATCHED,
    MATCH_ONLY,
    Mode,
    Options,
    Proposal,
    choose_mode,
    count_kinds,
    described,
    propose,
)
from compiler.changes.model import Adoption, Catalog, CheckedCatalog, load_catalog
from compiler.changes.planning import reading_gateway, remembered_boundaries
from compiler.cli.common import (
    catalog_options,
    connect,
    connection_options,
    echo_diagnostics,
    environment_option,
    template_vars,
)
from compiler.cli.environments import Environment
from compiler.cli.import_ import catalog_files, committed_schema, schema_ref, write_files
from compiler.errors import ExitCode, UsageError
from compiler.export import ADOPTIONS_FILE, describe_counts, export_objects, record_file
from compiler.stripe.facts import RESTRICTED_KEYS_DOC
from compiler.stripe.kinds import SECTION, Kind
from compiler.stripe.state import AccountState, read_account

DEFAULT_OUT = "plans/"
#: the file new entries go to when the directory holds a catalog already (`adopted-2.yaml` if it is taken)
NEW_ENTRIES_FILE = "adopted"
KINDS = {name for kind in Kind for name in (kind.value, SECTION[kind])}


@click.command("adopt")
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False),
    default=DEFAULT_OUT,
    show_default=True,
    metavar="DIR",
    help="The catalog directory: its entries are matched, and the new ones and adoptions.yaml are written there.",
)
@click.option(
    "--include-archived",
    is_flag=True,
    help="Also adopt archived products, prices and plans (written with active: false).",
)
@click.option(
    "--only",
    "picked",
    multiple=True,
    metavar="ID|KIND",
    help="Adopt only these: Stripe ids (prod_..., price_..., a plan's or meter's id; an archived object too) or kinds "
    "(product, price, plan, meter: their active objects). Repeatable. What they name that matches no catalog entry "
    "is written as a new entry.",
)
@click.option(
    f"{MATCH_ONLY}/{ADD_UNMATCHED}",
    "match_only",
    default=None,
    help="What becomes of an object that matches no entry of the catalog in DIR: listed only (for another account "
    "of the same catalog), or written as a new entry. By default new entries, unless the catalog's adoptions.yaml "
    "records another account; adopt says which it does and why.",
)
@catalog_options
@connection_options
@environment_option
def command(
    out: str,
    include_archived: bool,
    picked: tuple[str, ...],
    match_only: bool | None,
    var: tuple[str, ...],
    vars_file: str | None,
    api_base: str | None,
    live: bool,
    environment: Environment | None,
) -> None:
    """Write catalog entries for the objects of the Stripe account that pricebook does not manage yet."""
    connection = connect(environment, api_base, live)  # refuses a key of the wrong mode, before any read
    target = Path(out)
    existing = catalog_files(target)
    preset = template_vars(environment)
    checked = load_catalog([str(target)], var, vars_file, preset) if existing else CheckedCatalog(Catalog())
    echo_diagnostics(checked.warnings)
    gateway = reading_gateway(connection)
    # every plan too: the price lists may leave legacy plans out (see state.py), and adopt must miss none
    state = read_account(gateway, plans_list=True, memory=remembered_boundaries(connection))
    if state.account is None:
        raise UsageError(
            "the key cannot read which account it belongs to (GET /v1/account refused it), and the record adopt "
            "writes names the account",
            hint=f"run adopt with a secret key of the account, or a restricted key allowed to read it "
            f"({RESTRICTED_KEYS_DOC})",
        )
    _check_picks(picked, state)
    asked = None if match_only is None else (Mode.MATCH if match_only else Mode.ADD)
    mode, why = choose_mode(checked.catalog, state.account, state.livemode, asked)
    proposal = propose(checked.catalog, state, Options(include_archived, frozenset(picked), mode))
    account_mode = "live" if state.livemode else "test"
    click.echo(f"Read the {account_mode}-mode account {state.account}: {describe_counts(count_kinds(state.objects))}.")
    click.echo(f"Mode: {mode.value}, because {why}.")
    refused: tuple[str, ...] = ()  # what validate will refuse in the written entries
    if proposal.empty and proposal.unmatched:
        click.echo(
            f"Wrote nothing: {describe_counts(count_kinds(u.obj for u in proposal.unmatched))} of the account "
            "could not be matched (below)."
        )
    elif proposal.empty:
        click.echo("Nothing to adopt: every object of the account is pricebook's or recorded (or left out below).")
    else:
        schema = committed_schema(target)
        ref = schema_ref(target, schema)
        entries = export_objects(
            proposal.new,
            single_file=_free_name(target) if existing else None,
            schema_ref=ref,
            livemode=state.livemode,
        )
        record = record_file(_merged_record(checked.catalog, proposal, target), schema_ref=ref)
        what = f"what the catalog takes over in this account: {describe_counts(_target_counts(proposal))}"
        write_files(
            target,
            [*entries.files, record],
            schema_copy=schema is None and not existing,
            says=lambda file: what if file.name == ADOPTIONS_FILE else describe_counts(file.counts),
        )
        refused = entries.refused
        for warning in (*entries.warnings, *refused):
            click.echo(f"warning: {warning}", err=True)
    _report(proposal, target, mode, refused=len(refused))
    click.get_current_context().exit(ExitCode.OK)


def _check_picks(picked: Sequence[str], state: AccountState) -> None:
    ids = {o.id for o in state.objects}
    unknown = [p for p in picked if p not in ids and p not in KINDS]
    if unknown:
        raise UsageError(
            f"--only names what the account does not have: {', '.join(unknown)}",
            hint="give Stripe ids of the account's objects (prod_..., price_..., a plan's or meter's id) or kinds: "
            "product, price, plan, meter",
        )


def _free_name(target: Path) -> str:
    """adopted.yaml, or adopted-2.yaml... the first the directory does not hold."""
    n = 1
    while True:
        name = f"{NEW_ENTRIES_FILE}{'' if n == 1 else f'-{n}'}.yaml"
        if not (target / name).exists():
            return name
        n += 1


def _merged_record(catalog: Catalog, proposal: Proposal, target: Path) -> list[Adoption]:
    """The items of target/adoptions.yaml, this account's with the proposal's targets added (a new item last)."""
    record_path = (target / ADOPTIONS_FILE).resolve()
    items: list[Adoption] = []
    mine: Adoption | None = None
    for adoption in catalog.adoptions:
        where = Path(adoption.location.file).resolve() if adoption.location is not None else None
        ours = adoption.account == proposal.account and adoption.livemode == proposal.livemode
        if where != record_path:
            if ours:
                raise UsageError(
                    f"the record of account {proposal.account} is in {adoption.location}, and adopt keeps it in "
                    f"{target / ADOPTIONS_FILE}",
                    hint=f"move that item of the adopt: section into {target / ADOPTIONS_FILE}, then run adopt again",
                )
            continue
        if ours:
            mine = Adoption(adoption.account, adoption.livemode, {**adoption.targets, **proposal.targets})
            items.append(mine)
        else:
            items.append(adoption)
    if mine is None:
        items.append(Adoption(proposal.account, proposal.livemode, dict(proposal.targets)))
    return items


def _target_counts(proposal: Proposal) -> Counter[Kind]:
    return Counter(kind for kind, _key in proposal.targets)


def _report(proposal: Proposal, target: Path, mode: Mode, *, refused: int) -> None:
    if proposal.named:
        click.echo(
            f"Named {len(proposal.named)} price(s) without a lookup_key (a catalog names a price by it; rename one "
            f"in its entry and in {ADOPTIONS_FILE} alike before applying, if you like):"
        )
        width = max(len(str(o.key)) for o in proposal.named)
        for obj in proposal.named:
            click.echo(f"  {str(obj.key).ljust(width)}  {described(obj)}")
    if proposal.matched:
        click.echo(f"Matched {describe_counts(count_kinds(o for o, _ in proposal.matched))} to catalog entries:")
        width = max(len(f"{o.kind.value}.{key}") for o, key in proposal.matched)
        for obj, key in proposal.matched:
            click.echo(f"  {f'{obj.kind.value}.{key}'.ljust(width)}  <=  {described(obj)}")
    if proposal.unmatched:
        ways = "`--only ID` writes one as a new catalog entry, or edit the catalog and run adopt again"
        if mode is Mode.MATCH:
            ways = f"`{ADD_UNMATCHED}` writes them all as new catalog entries, {ways}"
        click.echo(
            f"Could not match {describe_counts(count_kinds(u.obj for u in proposal.unmatched))} (left alone; "
            f"{ways}):"
        )
        for item in proposal.unmatched:
            click.echo(f"  {described(item.obj)}: {item.why}")
    if proposal.missing and (proposal.matched or proposal.unmatched):
        shown = ", ".join(r.address for r in proposal.missing)
        click.echo(f"In the catalog but not in this account (plan will create them): {shown}")
    archived = [o for o in proposal.left_out if not o.active]
    if archived:
        click.echo(f"Left out {describe_counts(count_kinds(archived))}, archived (--include-archived adopts them too).")
    meters = [o for o in proposal.left_out if o.active]
    if meters:
        click.echo(
            f"Left out {describe_counts(count_kinds(meters))} that no adopted price or plan bills from (--only meter "
            "or its id adopts it)."
        )
    if refused:
        click.echo(
            f"Next: edit the {refused} {'entry' if refused == 1 else 'entries'} the warnings above name, which "
            f"validate refuses as written; then `pricebook plan {target}` shows an adopt action for each, and "
            f"`pricebook apply {target}` carries them out. Nothing was written to Stripe."
        )
    elif not proposal.empty:
        click.echo(
            f"Next: `pricebook plan {target}` shows an adopt action for each, `pricebook apply {target}` carries them "
            "out. Nothing was written to Stripe."
        )


__all__ = ["command"]
