"""The plan as JSON: `ChangeSet.to_json()`, the contract described by `schemas/changeset.schema.json`.

This is what `plan --out` saves and `apply --plan` reads back (`ChangeSet.from_json`), so it holds nothing
that depends on the time or the machine: the same catalog and account always give the same bytes.
Key order is the contract's own (format_version first), not sorted, and stable because every mapping in it
is built in a fixed order.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from compiler.changes.changeset import ChangeSet


def _default(value: Any) -> Any:
    # canonical attrs keep decimal amounts as strings already; a stray Decimal is written the same way
    if isinstance(value, Decimal):
        return format(value, "f")
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def render_json(changeset: ChangeSet) -> str:
    return json.dumps(changeset.to_json(), indent=2, ensure_ascii=False, default=_default) + "\n"
