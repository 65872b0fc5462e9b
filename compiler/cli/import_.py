"""`pricebook import`: write the account's catalog as YAML files. Reads the account; never writes to it.

After an import, `pricebook plan DIR` shows no changes. What is left out and why (archived objects, objects
pricebook does not manage) is said on the terminal and at the top of the files.
Exit 0 when the files were written (or there was nothing to write), 1 on any error.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import click

from compiler.catalog.files import CATALOG_SUFFIXES, TEMPLATE_SUFFIXES
from compiler.catalog.schema import schema_text
from compiler.changes.planning import reading_gateway, remembered_boundaries
from compiler.cli.common import connect, connection_options, environment_option
from compiler.cli.environments import Environment
from compiler.errors import ExitCode, UsageError
from compiler.export import (
    ADOPT_STEP,
    ARCHIVED,
    NO_IDENTITY,
    UNMANAGED,
    UNMANAGED_FILE,
    UNREFERENCED,
    Export,
    ExportFile,
    describe_archived,
    describe_counts,
    export_account,
)
from compiler.stripe.state import read_account

DEFAULT_OUT = "imported/"
#: the catalog schema's file name: in `schemas/` of a catalog repository (`pricebook schema --out`), or beside
#: the files when import writes its own copy
SCHEMA_FILE = "catalog.schema.json"


@click.command("import")
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False),
    default=DEFAULT_OUT,
    show_default=True,
    metavar="DIR",
    help="Write the catalog files into this directory (meters.yaml, products.yaml, plans.yaml).",
)
@click.option("--force", is_flag=True, help="Overwrite catalog files that DIR already holds.")
@click.option(
    "--include-unmanaged",
    is_flag=True,
    help=f"Also write the products, prices and plans pricebook does not manage, to {UNMANAGED_FILE} "
    "(plan refuses them until they are adopted).",
)
@click.option("--all-meters", is_flag=True, help="Also write the active meters that no written price or plan uses.")
@click.option(
    "--include-archived",
    is_flag=True,
    help="Also write archived products, prices and plans, with active: false (as `adopt --include-archived` does).",
)
@connection_options
@environment_option
def command(
    out: str,
    force: bool,
    include_unmanaged: bool,
    all_meters: bool,
    include_archived: bool,
    api_base: str | None,
    live: bool,
    environment: Environment | None,
) -> None:
    """Write the Stripe account's catalog (what pricebook manages) as YAML files into DIR."""
    connection = connect(environment, api_base, live)  # refuses a key of the wrong mode, before any read
    target = Path(out)
    existing = catalog_files(target)
    if existing and not force:
        shown = ", ".join(str(p) for p in existing[:3]) + (", ..." if len(existing) > 3 else "")
        raise UsageError(
            f"{target} already holds catalog files ({shown})",
            hint="choose another --out DIR, or pass --force to overwrite the files import writes",
        )
    # every plan too: the price lists may leave legacy plans out (see state.py), and import must miss none
    state = read_account(reading_gateway(connection), plans_list=True, memory=remembered_boundaries(connection))
    schema = committed_schema(target)
    result = export_account(
        state,
        include_unmanaged=include_unmanaged,
        all_meters=all_meters,
        include_archived=include_archived,
        schema_ref=schema_ref(target, schema),
    )
    read = describe_counts(Counter(o.kind for o in state.objects))
    click.echo(f"Read the {'live' if state.livemode else 'test'}-mode account: {read}.")
    written = write(result, target, schema_copy=schema is None)
    report(result, target)
    if result.files and schema is not None and not _is_current(schema):
        click.echo(
            f"warning: the files point at {_shown(schema)}, which is not this pricebook's schema: refresh it with "
            f"pricebook schema --out {_shown(schema)}",
            err=True,
        )
    others = [p for p in existing if p.resolve() not in written]
    if others:
        click.echo(f"Note: {target} also holds {', '.join(map(str, others))}, which plan reads too.", err=True)
    click.get_current_context().exit(ExitCode.OK)


def catalog_files(directory: Path) -> list[Path]:
    """The files below `directory` that `plan DIR` would read (an absent directory holds none)."""
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"{directory} is not a directory", hint="--out names a directory to write the files into")
    if not directory.is_dir():
        return []
    suffixes = (*CATALOG_SUFFIXES, *TEMPLATE_SUFFIXES)
    return sorted(p for p in directory.rglob("*") if p.is_file() and p.name.endswith(suffixes))


def committed_schema(directory: Path) -> Path | None:
    """The schema copy that catalog files in `directory` point their `$schema` comment at, so that it resolves
    in every clone: `catalog.schema.json` beside them, else `schemas/catalog.schema.json` in the directory or
    the nearest one above it, up to the repository's root (the directory holding `.git`). None: no copy yet."""
    directory = directory.resolve()
    if (directory / SCHEMA_FILE).is_file():
        return directory / SCHEMA_FILE
    for folder in (directory, *directory.parents):
        if (folder / "schemas" / SCHEMA_FILE).is_file():
            return folder / "schemas" / SCHEMA_FILE
        if (folder / ".git").exists():
            break
    return None


def _is_current(schema: Path) -> bool:
    """Whether the copy at `schema` is this pricebook's schema (an unreadable one is not)."""
    try:
        return schema.read_text(encoding="utf-8") == schema_text()
    except (OSError, UnicodeDecodeError):
        return False


def _shown(path: Path) -> str:
    """`path` relative to where pricebook runs when it is below it, else as it is."""
    here = Path.cwd().resolve()
    return str(path.relative_to(here)) if path.is_relative_to(here) else str(path)


def schema_ref(target: Path, schema: Path | None) -> str:
    """What the files written into `target` name in their `$schema` comment, relative to them: the committed copy
    `schema` (see `committed_schema`), else the copy written beside them."""
    return Path(os.path.relpath(schema or target.resolve() / SCHEMA_FILE, target.resolve())).as_posix()


def write(result: Export, target: Path, schema_copy: bool) -> set[Path]:
    """Write the files, and with `schema_copy` the schema beside them; the resolved paths written."""
    if not result.files:
        click.echo("The account holds nothing pricebook manages: no file written.")
        return set()
    return write_files(target, result.files, schema_copy=schema_copy)


def write_files(
    target: Path,
    files: Sequence[ExportFile],
    *,
    schema_copy: bool,
    says: Callable[[ExportFile], str] = lambda file: describe_counts(file.counts),
) -> set[Path]:
    """Write `files` into `target` (made if need be), each announced with what it holds (`says`), and with
    `schema_copy` the schema beside them; the resolved paths written. A file that cannot be written is a
    UsageError."""
    written: set[Path] = set()
    try:
        target.mkdir(parents=True, exist_ok=True)
        for file in files:
            path = target / file.name
            path.write_text(file.text, encoding="utf-8")
            written.add(path.resolve())
            click.echo(f"Wrote {path} ({says(file)})")
        if schema_copy:
            path = target / SCHEMA_FILE
            path.write_text(schema_text(), encoding="utf-8")
            click.echo(f"Wrote {path} (the schema the files' $schema comment names, for editors: commit it too)")
    except OSError as exc:
        raise UsageError(f"cannot write into {target}: {exc.strerror or exc}") from None
    return written


def report(result: Export, target: Path) -> None:
    """What was left out and why, the warnings, and the next step."""
    archived = result.left_out.get(ARCHIVED, {})
    if archived:
        click.echo(
            f"Left out {describe_archived(archived)}: archived objects are not part of the catalog unless "
            "--include-archived writes them (with active: false)."
        )
    unmanaged = result.left_out.get(UNMANAGED, {})
    if unmanaged:
        click.echo(
            f"Left out {describe_counts(unmanaged)} that pricebook does not manage (it never touches those). "
            f"To manage one, {ADOPT_STEP}; --include-unmanaged writes them to {UNMANAGED_FILE}."
        )
    unreferenced = result.left_out.get(UNREFERENCED, {})
    if unreferenced:
        click.echo(
            f"Left out {describe_counts(unreferenced)} that no written price or plan bills from "
            "(--all-meters writes them)."
        )
    if result.left_out.get(NO_IDENTITY):
        click.echo(
            f"Left out {describe_counts(result.left_out[NO_IDENTITY])} without a lookup_key, which a catalog "
            f"names a price by (`pricebook adopt --out {target}` writes an entry for each, with a lookup_key)."
        )
    for warning in (*result.warnings, *result.refused):
        click.echo(f"warning: {warning}", err=True)
    unmanaged_file = result.file(UNMANAGED_FILE) is not None
    if unmanaged_file:
        click.echo(
            f"To take the objects of {UNMANAGED_FILE} over, run `pricebook adopt --out {target}`: it records each "
            "one (plan then adopts them) and writes what import leaves out, such as prices without a lookup_key. "
            f"{UNMANAGED_FILE} names products and plans by their Stripe ids; `pricebook adopt` into an empty "
            "directory instead gives them readable ones."
        )
    if result.refused:
        count = len(result.refused)
        click.echo(
            f"Edit the {count} {'entry' if count == 1 else 'entries'} the warnings above name, which validate "
            f"refuses as written; then check the files with: pricebook plan {target}"
        )
    elif unmanaged_file:
        click.echo(
            f"Check it with: pricebook plan {target} (it refuses the objects of {UNMANAGED_FILE} until each is "
            "adopted or deleted from the file, then shows no changes)"
        )
    elif result.files:
        click.echo(f"Check it with: pricebook plan {target} (it shows no changes)")
