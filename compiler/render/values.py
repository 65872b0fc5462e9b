"""Values as a reviewer reads them, shared by the text and markdown views.

Amounts stay the integers (or decimal strings) Stripe stores, so a field line shows exactly what will be sent;
the money a customer pays is shown separately, in the price impact lines. `None` reads `(none)`; nested values
(recurring, transform, a tier) are written on one line in a YAML-like flow style.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from compiler.changes.changeset import Action, Change, ChangeSet, FieldChange

NONE = "(none)"
#: the new object's id in a replace, which Stripe makes up only when the call is sent
KNOWN_AFTER_APPLY = "(known after apply)"

#: after a field that forces its object's replacement
FORCES = "# forces replacement"


@dataclass(frozen=True)
class Wording:
    """How the views name one action."""

    verb: str  # the markdown table cell and section heading: `replace`
    legend: str  # what it does, in the text view's legend: `replace (create new, then archive old)`
    headline: str  # after the address in the text view: `# price.x must be replaced`


WORDING: Mapping[Action, Wording] = {
    Action.ADOPT: Wording("adopt", "adopt (made outside pricebook: mark it as pricebook's)", "will be adopted"),
    Action.CREATE: Wording("create", "create", "will be created"),
    Action.UPDATE: Wording("update in place", "update in place", "will be updated in place"),
    Action.REPLACE: Wording("replace", "replace (create new, then archive old)", "must be replaced"),
    Action.ARCHIVE: Wording("archive", "archive (active=false)", "will be archived"),
}
SYMBOLS: Mapping[Action, str] = {
    Action.ADOPT: "<=",
    Action.CREATE: "+",
    Action.UPDATE: "~",
    Action.REPLACE: "-/+",
    Action.ARCHIVE: "-",
}
#: summary order, as in `Plan: 2 to adopt, 2 to create, 1 to update, 1 to replace, 1 to archive.`
SUMMARY_ORDER: tuple[Action, ...] = (Action.ADOPT, Action.CREATE, Action.UPDATE, Action.REPLACE, Action.ARCHIVE)


def show(value: Any) -> str:
    """One value on one line: strings quoted (so `"1000"` is told from `1000`), mappings without their empty keys."""
    if value is None:
        return NONE
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        # Stripe's infinite tier reads better bare, as the catalog writes it
        items = [
            f"{key}: {'inf' if key == 'up_to' and item == 'inf' else show(item)}"
            for key, item in value.items()
            if item is not None
        ]
        return "{" + ", ".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(show(item) for item in value) + "]"
    return str(value)


def is_listing(path: str, before: Any, after: Any) -> bool:
    """Tiers are shown one per line: a one-line list of five tiers hides which one changed."""
    last = path.rsplit(".", 1)[-1]
    return last == "tiers" and all(v is None or isinstance(v, list | tuple) for v in (before, after))


@dataclass(frozen=True)
class ItemLine:
    """One element of a list shown one per line: `-` only before, `+` only after, ` ` the same on both sides."""

    sign: str
    text: str


def list_lines(before: Any, after: Any) -> list[ItemLine]:
    """Element-by-element comparison of two lists (tiers are ordered by up_to, so position is identity)."""
    old: Sequence[Any] = before if isinstance(before, list | tuple) else ()
    new: Sequence[Any] = after if isinstance(after, list | tuple) else ()
    lines: list[ItemLine] = []
    for index in range(max(len(old), len(new))):
        was = old[index] if index < len(old) else None
        now = new[index] if index < len(new) else None
        if index < len(old) and index < len(new) and was == now:
            lines.append(ItemLine(" ", show(now)))
            continue
        if index < len(old):
            lines.append(ItemLine("-", show(was)))
        if index < len(new):
            lines.append(ItemLine("+", show(now)))
    return lines


def shown_fields(change: Change) -> tuple[FieldChange, ...]:
    """The field lines of a change. A create without field changes lists what it will send (the `after`
    attrs that are set); everything else lists exactly the field changes the diff recorded."""
    if change.fields or change.action is not Action.CREATE or not change.after:
        return change.fields
    return tuple(
        FieldChange(name, None, value)
        for name, value in change.after.items()
        if value is not None and value != {} and value != []
    )


def visible(changes: Sequence[Change]) -> list[Change]:
    """The changes a reviewer needs to read: no-ops are counted, not shown."""
    return [c for c in changes if c.action is not Action.NOOP]


def short_fingerprint(value: str) -> str:
    """`sha256:bd47a9ae947e`: enough to tell two readings apart in a comment (the JSON keeps the whole digest)."""
    algorithm, sep, digest = value.partition(":")
    return f"{algorithm}:{digest[:12]}" if sep and len(digest) > 12 else value


def summary_line(counts: Mapping[str, int]) -> str:
    """Every action's count, but adoptions only when there are some (as Terraform counts imports)."""
    parts = [
        f"{counts.get(action.value, 0)} to {action.value}"
        for action in SUMMARY_ORDER
        if action is not Action.ADOPT or counts.get(action.value)
    ]
    return "Plan: " + ", ".join(parts) + "."


def _count(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def left_alone_line(changeset: ChangeSet) -> str:
    """`Left alone: 1 product, 2 prices not managed by pricebook, 1 meter not in the catalog.`; "" when none."""
    ids = changeset.left_alone_ids()
    owned = [_count(len(ids[k]), k) for k in ("product", "price", "plan") if ids.get(k)]
    parts = [", ".join(owned) + " not managed by pricebook"] if owned else []
    if ids.get("meter"):
        parts.append(_count(len(ids["meter"]), "meter") + " not in the catalog")
    return "Left alone: " + ", ".join(parts) + "." if parts else ""


def mode_name(livemode: bool) -> str:
    return "LIVE mode" if livemode else "test mode"


#: what the plan says of an account whose id the key may not read (a restricted key)
ACCOUNT_UNKNOWN = "id not readable with this key"


def impact_quantity(entry: Mapping[str, Any]) -> str:
    """`6`: the quantity of an impact line (its currency heads the group it is shown in, see `impact_groups`)."""
    return str(entry.get("quantity", "?"))


def impact_groups(impact: Sequence[Mapping[str, Any]]) -> list[tuple[str, list[Mapping[str, Any]]]]:
    """The impact lines by currency, in their order (the price's own currency first): `[("usd", [...]), ...]`.
    Lines without a currency form a group named "", shown without a currency heading."""
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for entry in impact:
        groups.setdefault(str(entry.get("currency") or ""), []).append(entry)
    return list(groups.items())


def percent_text(value: Any) -> str:
    """`+20%`, `-3.5%`, `0%` for an impact row's `change_percent`; "" when there is none."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return ""
    text = f"{value:+.1f}" if value else "0"
    return f"{text.removesuffix('.0')}%"


def impact_text(entry: Mapping[str, Any]) -> str:
    """`$20.00 -> $24.00 (+20%)`, `$24.00` for a new price, `$20.00 (unchanged)` when the amount is the same."""
    before, after = entry.get("before"), entry.get("after")
    percent = percent_text(entry.get("change_percent"))
    if before is None:
        text = str(after)
    elif after is None:
        text = f"{before} -> {NONE}"
    elif before == after:
        text = f"{after} (unchanged)"
    else:
        text = f"{before} -> {after}" + (f" ({percent})" if percent else "")
    note = entry.get("note")
    return f"{text}  ({note})" if note else text
