"""The plan as JSON: `ChangeSet.to_json()`, the contract described by `schemas/changeset.schema.json`.

This is what `plan --out` saves and `apply --plan` reads back (`ChangeSet.from_json`), so it holds nothing
that depends on the time or the machine: the same catalog and account always give the same bytes.
Key order is the contract's own (format_version first), not sorted, and stable because every mapping in it
is built in a fixed order. It is compact (machine output: indenting 10,000 prices costs a third of a second of a
plan's critical path) unless `pretty`, which the CLI asks for when a person reads it on a terminal.
"""

from __future__ import annotations

import json

from compiler.changes.changeset import ChangeSet, json_value


def render_json(changeset: ChangeSet, *, pretty: bool = False) -> str:
    data = changeset.to_json()
    if pretty:
        return json.dumps(data, indent=2, ensure_ascii=False, default=json_value) + "\n"
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False, default=json_value) + "\n"
