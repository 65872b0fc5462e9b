"""`pricebook schema`: the catalog's JSON Schema, for a catalog repository to commit (editors complete and check
the YAML with it). Printed, or written with --out; --check tells whether a committed copy is this version's.
Exit 0, or 1 when --check finds the copy missing or different."""

from __future__ import annotations

from pathlib import Path

import click

from compiler.catalog.schema import schema_text
from compiler.errors import UsageError

#: where a catalog repository keeps it; `import` points its files' `$schema` comment there when it finds it
SUGGESTED_PATH = "schemas/catalog.schema.json"


@click.command("schema")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help=f"Write the schema to FILE (e.g. {SUGGESTED_PATH}) instead of printing it.",
)
@click.option("--check", is_flag=True, help="Write nothing; exit 1 unless FILE is this version's schema (for CI).")
def command(out: Path | None, check: bool) -> None:
    """Print the catalog's JSON Schema, or write it to FILE for the repository to commit."""
    text = schema_text()
    if out is None:
        if check:
            raise UsageError("--check needs --out FILE", hint=f"pricebook schema --out {SUGGESTED_PATH} --check")
        click.echo(text, nl=False)
        return
    current = _read(out)
    if check:
        if current != text:
            state = "is missing" if current is None else "differs from this pricebook's schema"
            raise UsageError(f"{out} {state}", hint=f"write it with: pricebook schema --out {out}")
        click.echo(f"{out} is up to date")
        return
    if current == text:
        click.echo(f"{out} is up to date")
        return
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror or exc}") from None
    click.echo(f"Wrote {out}")


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError):
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
