"""The plan as a pull-request comment (GitHub-flavoured markdown), rendered from `templates/plan.md.j2`.

The summary table lets a reviewer see the whole change at a glance; each change then gets a section with its
reason, the consequences (notes), the price impact as a table, and its field-by-field diff folded in a
`<details>`. The objects pricebook leaves alone are counted under the summary, their ids folded. The catalog's
warnings and the problems that block the apply follow the changes; the API calls, in the order apply sends them,
are folded at the end with their parameters.

Autoescape is off (this is markdown, not HTML); values from the catalog and the account go through the
filters below, which keep a `|` from splitting a table cell and a backtick from closing a code span.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import jinja2

from compiler.changes.changeset import Action, Change, ChangeSet, FieldChange
from compiler.render.subscribers import money_rows, read_lines, sentences
from compiler.render.values import (
    FORCES,
    KNOWN_AFTER_APPLY,
    NONE,
    SYMBOLS,
    WORDING,
    impact_groups,
    impact_quantity,
    is_listing,
    left_alone_line,
    list_lines,
    mode_name,
    short_fingerprint,
    show,
    shown_fields,
    summary_line,
    visible,
)

TEMPLATE = "plan.md.j2"

_TEXT_SPECIAL = re.compile(r"([\\`*|<>\[\]~])")
#: an underscore at the edge of a word can open or close emphasis; inside one (lookup_key) it cannot
_EDGE_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")


def escape_text(value: Any) -> str:
    """Plain text for a table cell or a paragraph: markdown's active characters backslash-escaped, one line."""
    text = _TEXT_SPECIAL.sub(r"\\\1", " ".join(str(value).split()))
    return _EDGE_UNDERSCORE.sub(r"\\_", text)


def code(value: Any) -> str:
    """An inline code span that survives any content: a fence longer than the longest backtick run inside,
    and `|` escaped (GFM splits table cells before it reads code spans, and honours `\\|` inside them)."""
    text = " ".join(str(value).split()).replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if longest or text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def fenced(body: str, lang: str = "") -> str:
    """A fenced code block whose fence no line of `body` can close."""
    longest = max((len(run) for run in re.findall(r"`{3,}", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{lang}\n{body}\n{fence}"


def indent(text: str, width: int) -> str:
    pad = " " * width
    return "\n".join(pad + line if line else line for line in text.split("\n"))


@dataclass(frozen=True)
class _Section:
    change: Change
    symbol: str
    heading: str
    diff: str  # the body of a ```diff block
    field_count: int
    forcing: tuple[str, ...]  # the paths that force the replacement


def _diff_lines(change: Change) -> list[str]:
    """The field changes as a unified diff: GitHub colours `-` red and `+` green."""
    fields = shown_fields(change)
    width = max([len(f.path) for f in fields] + [2 if change.live_id else 0])
    lines: list[str] = []
    if change.live_id:
        if change.action is Action.REPLACE:
            lines += [f"- {'id'.ljust(width)} = {show(change.live_id)}", f"+ {'id'.ljust(width)} = {KNOWN_AFTER_APPLY}"]
        else:
            lines.append(f"  {'id'.ljust(width)} = {show(change.live_id)}")
    for field in fields:
        lines += _field_lines(field, change.action, width)
    return lines


def _field_lines(field: FieldChange, action: Action, width: int) -> list[str]:
    forces = f"  {FORCES}" if field.forces_replacement else ""
    name = field.path.ljust(width)
    before = None if action is Action.CREATE else field.before
    if is_listing(field.path, before, field.after):
        out = [f"  {name} = [{forces}"]
        out += [f"{item.sign}     {item.text}" for item in list_lines(before, field.after)]
        out.append("  ]")
        return out
    out = [f"- {name} = {show(before)}"] if before is not None else []
    out.append(f"+ {name} = {show(field.after)}{forces}")
    return out


def _section(change: Change) -> _Section:
    fields = shown_fields(change)
    return _Section(
        change=change,
        symbol=SYMBOLS[change.action],
        heading=WORDING[change.action].verb,
        diff="\n".join(_diff_lines(change)),
        field_count=len(fields),
        forcing=tuple(f.path for f in fields if f.forces_replacement),
    )


def _call_params(params: Mapping[str, Any]) -> str:
    return json.dumps(params, indent=2, ensure_ascii=False, default=str)


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("compiler.render", "templates"),
        autoescape=False,  # markdown: escaping is done per value by the filters
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["text"] = escape_text
    env.filters["code"] = code
    env.filters["fenced"] = fenced
    env.filters["indent_by"] = indent
    env.filters["short_fingerprint"] = short_fingerprint
    env.filters["json"] = _call_params
    env.filters["quantity"] = impact_quantity
    env.filters["by_currency"] = impact_groups
    env.filters["subscriber_sentences"] = sentences
    return env


#: at most this many ids of one kind in the folded list of objects left alone (the JSON has them all)
MAX_LEFT_ALONE_IDS = 20

#: in the order the summary sentence counts them (`left_alone_line`)
_LEFT_ALONE_LABELS = {
    "product": "Products not managed by pricebook",
    "price": "Prices not managed by pricebook",
    "plan": "Plans not managed by pricebook",
    "meter": "Meters not in the catalog",
}


def _left_alone_groups(changeset: ChangeSet) -> list[tuple[str, list[str], int]]:
    """(label, the ids shown, how many more) per kind that has any."""
    by_kind = changeset.left_alone_ids()
    return [
        (label, by_kind[kind][:MAX_LEFT_ALONE_IDS], max(0, len(by_kind[kind]) - MAX_LEFT_ALONE_IDS))
        for kind, label in _LEFT_ALONE_LABELS.items()
        if by_kind.get(kind)
    ]


#: GitHub refuses a comment longer than 65,536 characters; leave room for what a CI step wraps around it
COMMENT_LIMIT = 60_000

#: what each level of detail keeps, most first: the field diffs need 2, the call list 1, call parameters 3
FULL, NO_PARAMS, NO_FIELDS, SUMMARY_ONLY = 3, 2, 1, 0


def render_markdown(changeset: ChangeSet, *, limit: int | None = COMMENT_LIMIT) -> str:
    """The PR comment. Past `limit` characters it sheds detail and says so, rather than being refused by GitHub:
    call parameters, then field diffs, then the call list, then change sections from the end (the summary table
    keeps every row while it can), then table rows. `limit=None` keeps everything."""
    everything = [_section(c) for c in visible(changeset.changes)]
    text = _render(changeset, everything, everything, FULL)
    if limit is None or len(text) <= limit:
        return text
    for detail in (NO_PARAMS, NO_FIELDS, SUMMARY_ONLY):
        text = _render(changeset, everything, everything, detail)
        if len(text) <= limit:
            return text

    def with_sections(n: int) -> str:
        return _render(changeset, everything, everything[:n], SUMMARY_ONLY)

    keep = _most_that_fit(len(everything), with_sections, limit)
    if keep > 0 or len(_render(changeset, everything, [], SUMMARY_ONLY)) <= limit:
        return _render(changeset, everything, everything[:keep], SUMMARY_ONLY)
    rows = _most_that_fit(len(everything), lambda n: _render(changeset, everything[:n], [], SUMMARY_ONLY), limit)
    return _render(changeset, everything[:rows], [], SUMMARY_ONLY)


def _most_that_fit(count: int, render: Callable[[int], str], limit: int) -> int:
    """The largest n <= count whose rendering fits in `limit` (0 if none does): a binary search, one render a try."""
    low, high = 0, count
    while low < high:
        middle = (low + high + 1) // 2
        if len(render(middle)) <= limit:
            low = middle
        else:
            high = middle - 1
    return low


def _left_out(detail: int, rows_omitted: int, sections_omitted: int) -> str:
    """`the field diffs and the call parameters`: what a shortened comment does not show."""
    parts = [
        *([f"{rows_omitted} changes"] if rows_omitted else []),
        *([f"the details of {sections_omitted} changes"] if sections_omitted > rows_omitted else []),
        *(["the API calls"] if detail < NO_FIELDS else []),
        *(["the field diffs"] if detail < NO_PARAMS else []),
        *(["the call parameters"] if detail < FULL else []),
    ]
    return ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else "".join(parts)


def _read_notes(changeset: ChangeSet) -> tuple[list[str], list[str]]:
    """How the subscribers were counted: (the sentences, what the counts rest on); empty when nothing was to
    read."""
    read = changeset.subscribers
    if read is None or not (read.skipped or read.prices_read or read.uncounted):
        return [], []
    lines = read_lines(read)
    return [line for line in lines if not line.startswith(" ")], [
        line.strip() for line in lines if line.startswith(" ")
    ]


def _render(changeset: ChangeSet, rows: Sequence[_Section], sections: Sequence[_Section], detail: int) -> str:
    counts = changeset.counts()
    total = len(visible(changeset.changes))
    text = (
        _environment()
        .get_template(TEMPLATE)
        .render(
            cs=changeset,
            mode=mode_name(changeset.livemode),
            summary=summary_line(counts),
            unchanged=counts.get(Action.NOOP.value, 0),
            rows=rows,
            rows_omitted=total - len(rows),
            sections=sections,
            sections_omitted=total - len(sections),
            calls=list(enumerate(changeset.calls, 1)),
            none=NONE,
            detail=detail,
            full=FULL,
            left_out=_left_out(detail, total - len(rows), total - len(sections)),
            left_alone=left_alone_line(changeset),
            left_alone_groups=_left_alone_groups(changeset),
            money_rows=money_rows(changeset.changes),
            read=_read_notes(changeset),
        )
    )
    # one blank line between blocks however the template's conditionals fell
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
