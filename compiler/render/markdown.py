"""The plan as a pull-request comment (GitHub-flavoured markdown), from the macros of `templates/plan.md.j2`.

From the top, as a pricing reviewer reads it:

1. the headline: environment, counts per action, whether anything destructive happens (archives, replaces,
   repricing in place), then the account, API version, fingerprint and plan hash, and the callouts (shortened,
   live mode, many archives at once, problems);
2. the money table: every created, replaced, repriced and archived price and plan with its amount before and
   after at a telling quantity and the change in percent, grouped by what it means for customers and by reason
   (a reason shared by 500 prices is said once) (`render.money`);
3. the other changes (meters, products, updates that move no money), named per group;
4. the details: per group, the notes every member shares once, then each object folded in a `<details>`: its live
   object, what forces a replacement, its own notes, its price impact table and field diff;
5. the catalog's warnings and the problems that block the apply; the API calls, folded, with their parameters;
   the objects left alone, folded;
6. two hidden HTML comments: the sticky marker that lets a workflow find and update its comment
   (`sticky_marker`) and the plan hash (`hash_marker`).

GitHub refuses a comment over 65,536 characters. Past `limit` (bytes, `size`) the comment sheds the middle, in
this order, and says what it left out and where the full plan is: call parameters, field diffs, the call list,
then per-object details from the end, then the ids left alone and the names of other changes. The headline, the
money table and the problems stay (thousands of warnings or problems are listed up to a number, the rest counted);
if the money table alone is too big it is grouped harder (one line per price, prices with the same amounts on one
line) and, only past that, summarised per group.

Autoescape is off (this is markdown, not HTML); values from the catalog and the account go through the
filters below, which keep a `|` from splitting a table cell and a backtick from closing a code span.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import IntEnum
from functools import cache, partial
from typing import Any
from urllib.parse import quote

import jinja2

from compiler.changes.changeset import Action, Change, ChangeSet, FieldChange, MassArchive, MoneyWarning
from compiler.changes.problems import ALLOW_MASS_ARCHIVE
from compiler.errors import (
    Diagnosed,
    Diagnostic,
    InvalidCatalog,
    PricebookError,
    error_text,
    redact,
    sort_diagnostics,
)
from compiler.render.money import (
    EFFECT_MEANING,
    MoneyEffect,
    MoneyGroup,
    PriceMoney,
    amount_text,
    change_text,
    effect_of,
    money_groups,
    percent_range,
)
from compiler.render.subscribers import NOTHING, Cells, money_cells, read_lines, sentences
from compiler.render.values import (
    ACCOUNT_UNKNOWN,
    FORCES,
    KNOWN_AFTER_APPLY,
    NONE,
    SUMMARY_ORDER,
    SYMBOLS,
    impact_groups,
    impact_quantity,
    is_listing,
    left_alone_line,
    list_lines,
    percent_text,
    short_fingerprint,
    show,
    shown_fields,
    visible,
)
from compiler.stripe.kinds import KIND_ORDER, Kind

TEMPLATE = "plan.md.j2"

#: GitHub refuses a comment longer than this many characters
GITHUB_COMMENT_LIMIT = 65_536
#: the default size of the comment, in bytes (`size`): GitHub's limit, less room for what a CI step wraps around it
COMMENT_LIMIT = 60_000


def size(text: str) -> int:
    """The size of `text` as its limits count it: UTF-8 bytes. A job summary's 1 MiB is bytes; GitHub counts a
    comment's 65,536 in characters, which are never more than the bytes, so a byte count is safe for both."""
    return len(text.encode("utf-8"))

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


def html_text(value: Any) -> str:
    """Text inside an HTML tag (a `<summary>`: GitHub reads no markdown there), on one line."""
    return html.escape(" ".join(str(value).split()), quote=False)


# -- the hidden markers ---------------------------------------------------------------------------------------------

#: the start of the sticky marker; the whole marker is `<!-- pricebook-plan environment=NAME -->`
MARKER = "pricebook-plan"
#: the start of the hidden plan hash: `<!-- pricebook-plan-hash sha256:<64 hex> -->`
HASH_MARKER = "pricebook-plan-hash"
#: the start of what a blocked plan has in the hash's place: `<!-- pricebook-plan-blocked problems=N -->`
BLOCKED_MARKER = "pricebook-plan-blocked"


def environment_name(environment: str | None, livemode: bool) -> str:
    """The environment a comment is about: the name given, else the account's mode (`test` or `live`)."""
    return environment or ("live" if livemode else "test")


def sticky_marker(environment: str) -> str:
    """`<!-- pricebook-plan environment=production -->`: one comment per environment, found and updated in place
    by a workflow (the plans of test and live never overwrite each other). Characters other than letters,
    digits, `.`, `_` and `-` are percent-encoded, so no name can end the HTML comment."""
    return f"<!-- {MARKER} environment={quote(environment, safe='')} -->"


def hash_marker(plan_hash: str) -> str:
    """`<!-- pricebook-plan-hash sha256:... -->`: the plan hash where a workflow can read it back."""
    return f"<!-- {HASH_MARKER} {plan_hash} -->"


def blocked_marker(problems: int) -> str:
    """`<!-- pricebook-plan-blocked problems=2 -->`: a plan problems block has no hash; this tells a workflow that
    reads the comment why (rather than a plan that failed, whose comment has neither)."""
    return f"<!-- {BLOCKED_MARKER} problems={problems} -->"


# -- the parts, as the template shows them ------------------------------------------------------------------------


class Detail(IntEnum):
    """How much of the per-object details and the call list a comment keeps, the least first."""

    NO_CALLS = 0
    NO_FIELDS = 1  # the call list, no field diffs
    NO_PARAMS = 2  # field diffs and the call list, no call parameters
    FULL = 3


class MoneyForm(IntEnum):
    """How the money table is written, the most readable first."""

    TABLE = 0  # a table per group, one row per price and currency
    COMPACT = 1  # one line per price (prices with the same amounts on one line): every before/after kept
    RANGES = 2  # per group: how many, and the range of the change in percent


@dataclass(frozen=True)
class Cut:
    """What a comment leaves out; the default leaves out nothing."""

    detail: Detail = Detail.FULL
    sections: int | None = None  # per-object details kept, from the top (None: all)
    left_alone_ids: bool = True
    names: int | None = None  # names shown per group of other changes (None: all)
    money: MoneyForm = MoneyForm.TABLE
    listed: int | None = None  # warnings and problems listed (None: all)


@dataclass(frozen=True)
class _Head:
    headline: str
    named: bool  # an environment was named (else the account's mode is all there is to say)
    where: str
    account: str | None  # its id; None when the key may not read it
    api_version: str
    fingerprint: str
    plan_hash: str | None  # None: blocked by a problem, nothing to approve
    livemode: bool
    problems: int
    money_warnings: tuple[MoneyWarning, ...]
    more_money_warnings: int
    shortened: str
    full_plan: str
    mass_archive: MassArchive | None = None
    allow_flag: str = ALLOW_MASS_ARCHIVE
    none: str = NONE
    account_unknown: str = ACCOUNT_UNKNOWN


@dataclass(frozen=True)
class _Line:
    quantity: int
    amount: str
    before: str
    after: str
    change: str
    subscribers: Cells | None  # who is on it (for a repricing in place: in this line's currency)


@dataclass(frozen=True)
class _Price:
    key: str
    lines: tuple[_Line, ...]
    others: str  # the other currencies of a new price


@dataclass(frozen=True)
class _Group:
    """A group of changes as its heading says it: `**`-/+` 412 prices to replace**: meaning. Why: reason`."""

    symbol: str
    number: int
    count: str  # `number` as it reads: `1,050`
    noun: str
    done: str
    meaning: str
    reason: str
    label: str = ""  # the money table's first column
    created: bool = False
    archived: bool = False
    who_pays: bool = False  # the money table has the subscriptions' columns
    prices: tuple[_Price, ...] = ()
    merged: tuple[tuple[str, tuple[str, ...]], ...] = ()
    range: str = ""
    keys: tuple[str, ...] = ()
    more: int = 0
    common_notes: tuple[str, ...] = ()
    forcing: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Section:
    address: str
    product_name: str | None
    summary: str
    live_id: str | None
    action: str
    forcing: tuple[str, ...]
    notes: tuple[str, ...]
    subscribers: tuple[str, ...]  # who is on its price, in words
    impact: tuple[tuple[str, list[Mapping[str, Any]]], ...]
    diff: str
    none: str = NONE

    def has_body(self, fields: bool) -> bool:
        """Whether the section tells more than its line in the lists above (`fields`: field diffs are shown)."""
        return bool(
            self.live_id or self.forcing or self.notes or self.subscribers or self.impact or (fields and self.diff)
        )


@dataclass(frozen=True)
class _Failure:
    headline: str
    message: str
    hint: str
    rule: str | None
    diagnostics: tuple[Diagnostic, ...]
    more: int


def _count(number: int) -> str:
    return f"{number:,}"


def _noun(kind: Kind, number: int) -> str:
    return _noun_of(kind.value, number)


def _noun_of(noun: str, number: int) -> str:
    return noun if number == 1 else f"{noun}s"


#: the groups of changes, in the order the comment shows them (the riskiest first)
class _Rank(IntEnum):
    REPRICED = 0
    REPLACED = 1
    ARCHIVED = 2
    UPDATED = 3
    CREATED = 4
    ADOPTED = 5


_RANK_OF: Mapping[Action, _Rank] = {
    Action.REPLACE: _Rank.REPLACED,
    Action.ARCHIVE: _Rank.ARCHIVED,
    Action.UPDATE: _Rank.UPDATED,
    Action.CREATE: _Rank.CREATED,
    Action.ADOPT: _Rank.ADOPTED,
}
_DONE: Mapping[_Rank, str] = {
    _Rank.REPRICED: "to reprice in place",
    _Rank.REPLACED: "to replace",
    _Rank.ARCHIVED: "to archive",
    _Rank.UPDATED: "to update in place",
    _Rank.CREATED: "to create",
    _Rank.ADOPTED: "to adopt",
}


def _rank(change: Change) -> _Rank:
    return _Rank.REPRICED if effect_of(change) is MoneyEffect.REPRICED else _RANK_OF[change.action]


def _symbol(rank: _Rank, action: Action) -> str:
    return SYMBOLS[Action.UPDATE] if rank is _Rank.REPRICED else SYMBOLS[action]


def _grouped(changes: Iterable[Change]) -> list[list[Change]]:
    """`changes` by rank, kind and reason (reasons in the order they first come), the plan's order inside a
    group: the order of the money table too (`money_groups`)."""
    groups: dict[tuple[_Rank, int, str], list[Change]] = {}
    for change in changes:
        groups.setdefault((_rank(change), KIND_ORDER.index(change.kind), change.reason), []).append(change)
    return [groups[key] for key in sorted(groups, key=lambda key: key[:2])]


def _heading(members: Sequence[Change], *, meaning: str = "") -> dict[str, Any]:
    first = members[0]
    rank = _rank(first)
    return {
        "symbol": _symbol(rank, first.action),
        "number": len(members),
        "count": _count(len(members)),
        "noun": _noun(first.kind, len(members)),
        "done": _DONE[rank],
        "meaning": meaning,
        "reason": first.reason,
    }


# -- money ----------------------------------------------------------------------------------------------------------


def _at(quantity: int) -> str:
    return "" if quantity == 1 else f" at {quantity:,}"


def price_amounts(price: PriceMoney) -> str:
    """One price's money on one line: `$10.00 → $12.00/month (+20%); €9.00 → €10.80/month (+20%)`, `$12.00/month
    (also eur, gbp)` for a new price, `$10.00/month until now` for an archived one."""
    parts: list[str] = []
    for line in price.lines:
        if line.before is None:
            text = amount_text(line.after, price.period_after)
        elif line.after is None:
            text = amount_text(line.before, price.period_before) + " until now"
        elif price.period_before == price.period_after:
            text = f"{line.before} → {amount_text(line.after, price.period_after)}"
        else:
            text = f"{amount_text(line.before, price.period_before)} → {amount_text(line.after, price.period_after)}"
        percent = change_text(line)
        parts.append(text + (f" ({percent})" if percent else "") + _at(line.quantity))
    text = "; ".join(parts) or "no amount to compute"
    if price.other_currencies:
        text += f" (also {', '.join(price.other_currencies)})"
    return text


def who_pays(change: Change) -> str:
    """` · subscriptions: 3 (quantity 8) $80.00 a month`: the money table's subscriber columns on one line, ""
    when they were not counted."""
    if change.subscribers is None:
        return ""
    cells = money_cells(change.subscribers)
    parts = []
    for currency, c in cells.items():
        amount = f" {c.monthly} a month" if c.monthly != NOTHING else ""
        parts.append(f"{currency + ' ' if currency else ''}{c.subscriptions}{amount}")
    return " · subscriptions: " + "; ".join(parts) if parts else ""


def _money_view(group: MoneyGroup) -> _Group:
    members = [p.change for p in group.prices]
    prices = tuple(_price_view(p) for p in group.prices)
    merged: dict[str, list[str]] = {}
    for price in group.prices:
        merged.setdefault(price_amounts(price) + who_pays(price.change), []).append(price.change.key)
    span = percent_range(group)
    return _Group(
        **_heading(members, meaning=EFFECT_MEANING[group.effect]),
        label=group.kind.value.capitalize(),
        created=group.effect is MoneyEffect.CREATED,
        archived=group.effect is MoneyEffect.ARCHIVED,
        who_pays=any(p.change.subscribers is not None for p in group.prices),
        prices=prices,
        merged=tuple((amounts, tuple(keys)) for amounts, keys in merged.items()),
        range=(percent_text(span[0]) + (" to " + percent_text(span[1]) if span[1] != span[0] else "")) if span else "",
    )


def _price_view(price: PriceMoney) -> _Price:
    cells = money_cells(price.change.subscribers) if price.change.subscribers is not None else {}
    lines = []
    for number, line in enumerate(price.lines):
        period_before = price.period_before
        period_after = price.period_after
        amount = line.after if line.before is None else line.before
        lines.append(
            _Line(
                line.quantity,
                amount_text(amount, period_after if line.before is None else period_before),
                amount_text(line.before, period_before),
                amount_text(line.after, period_after),
                change_text(line),
                cells.get("") if number == 0 and "" in cells else cells.get(line.currency),
            )
        )
    return _Price(price.change.key, tuple(lines), ", ".join(price.other_currencies))


# -- details --------------------------------------------------------------------------------------------------------


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


def _fields_summary(change: Change) -> str:
    count = len(shown_fields(change))
    if not count:
        return ""
    noun = "field" if count == 1 else "fields"
    return f"{count} {noun} to set" if change.action is Action.CREATE else f"{count} {noun} changed"


def _forcing(change: Change) -> tuple[str, ...]:
    return tuple(f.path for f in shown_fields(change) if f.forces_replacement)


def _section(change: Change, money: PriceMoney | None, common: _Common) -> _Section:
    forcing = _forcing(change)
    return _Section(
        address=change.address,
        product_name=change.product_name,
        summary=price_amounts(money) if money is not None else _fields_summary(change),
        live_id=change.live_id,
        action=change.action.value,
        forcing=() if forcing == common.forcing else forcing,
        notes=tuple(n.text for n in change.notes if n.text not in common.notes),
        subscribers=tuple(sentences(change.subscribers)) if change.subscribers is not None else (),
        impact=tuple(impact_groups(change.impact)),
        diff="\n".join(_diff_lines(change)),
    )


@dataclass(frozen=True)
class _Common:
    """What every member of a group of two or more shares, said once above their details."""

    notes: tuple[str, ...] = ()
    forcing: tuple[str, ...] = ()  # the fields that force each one's replacement


def _common(members: Sequence[Change]) -> _Common:
    if len(members) < 2:
        return _Common()
    shared = set.intersection(*({n.text for n in c.notes} for c in members))
    forcing = {_forcing(c) for c in members}
    return _Common(
        tuple(n.text for n in members[0].notes if n.text in shared),
        forcing.pop() if len(forcing) == 1 else (),
    )


def _read_notes(changeset: ChangeSet) -> tuple[list[str], list[str]]:
    """How the subscribers were counted: (the sentences, what the counts rest on); empty when nothing was to
    read."""
    read = changeset.subscribers
    if read is None or not (read.skipped or read.prices_read or read.uncounted):
        return [], []
    lines = read_lines(read)
    basis = [line.strip() for line in lines if line.startswith(" ")]
    return [line for line in lines if not line.startswith(" ")], basis


def _call_params(params: Mapping[str, Any]) -> str:
    return json.dumps(params, indent=2, ensure_ascii=False, default=str)


@cache
def _template() -> Any:
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
    env.filters["html"] = html_text
    env.filters["fenced"] = fenced
    env.filters["indent_by"] = indent
    env.filters["short_fingerprint"] = short_fingerprint
    env.filters["json"] = _call_params
    env.filters["quantity"] = impact_quantity
    env.filters["percent"] = percent_text
    return env.get_template(TEMPLATE).module


def _part(text: Any) -> str:
    """A rendered macro, with one blank line between blocks however its conditionals fell."""
    return re.sub(r"\n{3,}", "\n\n", str(text)).strip()


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


# -- the headline ---------------------------------------------------------------------------------------------------


def _where(environment: str | None, livemode: bool) -> str:
    mode = "LIVE mode" if livemode else "test mode"
    return f"{environment} ({mode})" if environment else mode


def headline(changeset: ChangeSet, environment: str | None = None) -> str:
    """The comment's first line (without the heading marks): where, what, and whether anything destructive happens.

    `pricebook plan · test mode · 412 to replace, 2 to archive · ⚠️ destructive: 2 archived, 412 replaced (old
    versions archived)`; `pricebook plan · production (LIVE mode) · no changes`."""
    parts = [f"pricebook plan · {_where(environment, changeset.livemode)}"]
    if changeset.problems:
        count = len(changeset.problems)
        parts.append(f"❌ {_count(count)} {'problem blocks' if count == 1 else 'problems block'} the apply")
    counts = changeset.counts()
    doing = [f"{_count(counts[a.value])} to {a.value}" for a in SUMMARY_ORDER if counts[a.value]]
    if not doing:
        if not changeset.problems:
            parts.append("no changes")
        return " · ".join(parts)
    parts.append(", ".join(doing))
    parts.append(destructive_text(changeset))
    return " · ".join(parts)


def destructive_text(changeset: ChangeSet) -> str:
    """`⚠️ destructive: 2 archived, 412 replaced (old versions archived), 3 repriced in place (...)`, or `nothing
    destructive`: what takes something away from customers (an object archived, by its removal from the catalog
    or by `active: false`; a meter deactivated) or changes what existing subscriptions pay."""
    archived = deactivated = replaced = repriced = 0
    for change in changeset.changes:
        if change.action is Action.REPLACE:
            replaced += 1
        elif _switched_off(change):
            if change.kind is Kind.METER:
                deactivated += 1
            else:
                archived += 1
        if effect_of(change) is MoneyEffect.REPRICED:
            repriced += 1
    parts = [
        *([f"{_count(archived)} archived"] if archived else []),
        *([f"{_count(replaced)} replaced (old {'version' if replaced == 1 else 'versions'} archived)"]
          if replaced else []),
        *([f"{_count(deactivated)} {'meter' if deactivated == 1 else 'meters'} deactivated"] if deactivated else []),
        *([f"{_count(repriced)} repriced in place (existing subscriptions pay the new amount)"] if repriced else []),
    ]
    return "⚠️ destructive: " + ", ".join(parts) if parts else "nothing destructive"


def _switched_off(change: Change) -> bool:
    """An archive, or an update that sets `active` to false (a meter: `status` to inactive)."""
    if change.action is Action.ARCHIVE:
        return True
    return change.action in (Action.UPDATE, Action.ADOPT) and any(
        (f.path == "active" and f.before is True and f.after is False)
        or (f.path == "status" and f.before == "active" and f.after == "inactive")
        for f in change.fields
    )


# -- putting it together --------------------------------------------------------------------------------------------


class _Comment:
    """The parts of one comment, each rendered once, and `compose(cut)`: the comment with `cut` left out."""

    def __init__(self, changeset: ChangeSet, environment: str | None, full_plan_url: str | None) -> None:
        self.cs = changeset
        self.environment = environment
        self.full_plan_url = full_plan_url
        self.macros = _template()
        self.plan_hash = changeset.plan_hash
        shown = visible(changeset.changes)
        self.money = money_groups(changeset)
        money_of = {id(p.change): p for g in self.money for p in g.prices}
        self.in_money = set(money_of)
        self.money_views = [_money_view(g) for g in self.money]
        self.other_groups = _grouped(c for c in shown if id(c) not in money_of)
        self.detail_groups = _grouped(shown)
        self.common = [_common(g) for g in self.detail_groups]
        self.sections = [
            _section(c, money_of.get(id(c)), common)
            for group, common in zip(self.detail_groups, self.common, strict=True)
            for c in group
        ]
        self.group_of = [number for number, group in enumerate(self.detail_groups) for _ in group]
        self._cache: dict[tuple[str, Any], str] = {}

    def _once(self, key: tuple[str, Any], make: Callable[[], Any]) -> str:
        if key not in self._cache:
            self._cache[key] = _part(make())
        return self._cache[key]

    # each part, rendered once per form it takes

    def money_part(self, form: MoneyForm) -> str:
        """The money table in `form`, then who else pays (subscriptions on a default price that moves) and how the
        subscribers were counted."""
        macro = {MoneyForm.TABLE: "money_table", MoneyForm.COMPACT: "money_compact", MoneyForm.RANGES: "money_ranges"}

        def make() -> str:
            table = _part(getattr(self.macros, macro[form])(self.money_views, NONE)) if self.money_views else ""
            others = [
                (c.address, sentences(c.subscribers))
                for c in self.cs.changes
                if c.subscribers is not None and id(c) not in self.in_money
            ]
            read = _read_notes(self.cs)
            rest = _part(self.macros.who_else_pays(others, *read)) if others or read[0] else ""
            if rest and not table:
                rest = "#### Who pays\n\n" + rest
            return "\n\n".join(part for part in (table, rest) if part)

        return self._once(("money", form), make)

    def others_part(self, names: int | None) -> str:
        if not self.other_groups:
            return ""

        def make() -> Any:
            views = []
            for members in self.other_groups:
                keys = tuple(c.key for c in members)
                shown = keys if names is None else keys[:names]
                views.append(_Group(**_heading(members), keys=shown, more=len(keys) - len(shown)))
            return self.macros.others(views)

        return self._once(("others", names), make)

    def unchanged_part(self) -> str:
        """`5 other objects already match the catalog.`, or that there is nothing to do."""
        unchanged = self.cs.counts()[Action.NOOP.value]
        if not self.sections and not self.cs.problems:
            objects = f" ({_count(unchanged)} {_noun_of('object', unchanged)})" if unchanged else ""
            return f"**No changes.** The account matches the catalog{objects}: nothing to do."
        if not unchanged:
            return ""
        verb = "matches" if unchanged == 1 else "match"
        other = "other " if self.sections else ""
        return f"{_count(unchanged)} {other}{_noun_of('object', unchanged)} already {verb} the catalog."

    def section_part(self, index: int, fields: bool) -> str:
        return self._once(("section", (index, fields)), lambda: self.macros.section(self.sections[index], fields))

    def details_heading(self, group: int, shown: int, told: int) -> str:
        members = self.detail_groups[group]

        def make() -> Any:
            common = self.common[group]
            view = _Group(**_heading(members), common_notes=common.notes, forcing=common.forcing)
            return self.macros.details_heading(view, shown, told)

        return self._once(("details", (group, shown, told)), make)

    def told(self, detail: Detail) -> list[int]:
        """The sections with anything to tell at this detail (a created meter without its field diff has
        nothing the lists above have not said), in order."""
        fields = detail >= Detail.NO_PARAMS
        return [i for i, s in enumerate(self.sections) if s.has_body(fields)]

    def details_part(self, sections: int, detail: Detail) -> list[str]:
        """The details of the first `sections` of the sections with anything to tell, under their groups'
        headings."""
        told = self.told(detail)
        kept = told[:sections]
        out: list[str] = []
        for number in range(len(self.detail_groups)):
            in_group = [i for i in told if self.group_of[i] == number]
            shown = [i for i in kept if self.group_of[i] == number]
            if shown:
                out.append(self.details_heading(number, len(shown), len(in_group)))
                out += [self.section_part(i, detail >= Detail.NO_PARAMS) for i in shown]
        return out

    def tail_parts(self, listed: int | None) -> list[str]:
        out = []
        for name, items in (("warnings", self.cs.warnings), ("problems", self.cs.problems)):
            if items:
                shown = items if listed is None else items[:listed]
                make = partial(getattr(self.macros, name), shown, len(items) - len(shown))
                out.append(self._once((name, listed), make))
        return out

    def calls_part(self, detail: Detail) -> str:
        if not self.cs.calls or detail < Detail.NO_FIELDS:
            return ""
        params = detail >= Detail.FULL
        return self._once(("calls", params), lambda: self.macros.calls(list(enumerate(self.cs.calls, 1)), params))

    def left_alone_part(self, ids: bool) -> str:
        line = left_alone_line(self.cs)
        if not line:
            return ""
        return self._once(("left_alone", ids), lambda: self.macros.left_alone(line, _left_alone_groups(self.cs), ids))

    def head_part(self, cut: Cut) -> str:
        head = _Head(
            headline=headline(self.cs, self.environment),
            named=self.environment is not None,
            where=f"**{_where(self.environment, True)}**" if self.cs.livemode else _where(self.environment, False),
            account=self.cs.account,
            api_version=self.cs.api_version,
            fingerprint=self.cs.fingerprint,
            plan_hash=self.plan_hash,
            livemode=self.cs.livemode,
            problems=len(self.cs.problems),
            money_warnings=self.cs.money_warnings[: cut.listed],
            more_money_warnings=max(0, len(self.cs.money_warnings) - (cut.listed or len(self.cs.money_warnings))),
            shortened=self.left_out(cut),
            full_plan=self.full_plan_text(),
            mass_archive=self.cs.mass_archive,
        )
        return _part(self.macros.head(head))

    def full_plan_text(self) -> str:
        if self.full_plan_url:
            return f"[The full plan](<{self.full_plan_url}>) has everything."
        return "`pricebook plan --format markdown --max-bytes 0` (or `--format json`) shows everything."

    def left_out(self, cut: Cut) -> str:
        """`left out: the details of 380 of 1,050 changes, the API calls and the field diffs`; "" for nothing."""
        parts = []
        told = len(self.told(cut.detail))
        if cut.sections is not None and cut.sections < told:
            parts.append(f"the details of {_count(told - cut.sections)} of the {_count(told)} changes that have any")
        if self.cs.calls and cut.detail < Detail.NO_FIELDS:
            parts.append("the API calls")
        if cut.detail < Detail.NO_PARAMS and (cut.sections is None or cut.sections > 0):
            parts.append("the field diffs")
        if self.cs.calls and cut.detail < Detail.FULL and cut.detail >= Detail.NO_FIELDS:
            parts.append("the call parameters")
        if not cut.left_alone_ids and self.cs.left_alone:
            parts.append("the ids of the objects left alone")
        if cut.names is not None:
            hidden = sum(max(0, len(g) - cut.names) for g in self.other_groups)
            if hidden:
                parts.append(f"the names of {_count(hidden)} other changes")
        if cut.listed is not None:
            lists = (self.cs.warnings, self.cs.problems, self.cs.money_warnings)
            hidden = sum(max(0, len(items) - cut.listed) for items in lists)
            if hidden:
                parts.append(f"{_count(hidden)} warnings and problems")
        text = ""
        if parts:
            text = "left out " + (", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0])
        money = {
            MoneyForm.COMPACT: "the price changes are listed one line per price, not as a table",
            MoneyForm.RANGES: "the price changes are counted per group, not listed (too many for one comment)",
        }.get(cut.money)
        if money:
            text = f"{text}; {money}" if text else money
        return text

    def markers(self) -> str:
        """The hidden last lines: the sticky marker, and the plan hash unless a problem blocks the plan (a blocked
        plan has nothing a reviewer could approve: a workflow reading the comment finds the blocked marker)."""
        sticky = sticky_marker(environment_name(self.environment, self.cs.livemode))
        last = blocked_marker(len(self.cs.problems)) if self.plan_hash is None else hash_marker(self.plan_hash)
        return sticky + "\n" + last

    def compose(self, cut: Cut) -> str:
        sections = len(self.sections) if cut.sections is None else cut.sections
        parts = [
            self.head_part(cut),
            self.money_part(cut.money),
            self.others_part(cut.names),
            self.unchanged_part(),
            *self.details_part(sections, cut.detail),
            *self.tail_parts(cut.listed),
            self.calls_part(cut.detail),
            self.left_alone_part(cut.left_alone_ids),
            self.markers(),
        ]
        return "\n\n".join(p for p in parts if p) + "\n"


def render_markdown(
    changeset: ChangeSet,
    *,
    limit: int | None = COMMENT_LIMIT,
    environment: str | None = None,
    full_plan_url: str | None = None,
) -> str:
    """The PR comment for `environment` (None: the account's mode names it). Past `limit` bytes it sheds
    the middle and says so, pointing to `full_plan_url` (the run's job summary, an artifact) for the rest;
    `limit=None` keeps everything."""
    comment = _Comment(changeset, environment, full_plan_url)
    everything = comment.compose(Cut())
    if limit is None or size(everything) <= limit:
        return everything
    return _fitted(comment, limit)


def _fitted(comment: _Comment, limit: int) -> str:
    """The comment with the least left out that fits in `limit` (see the module doc for the order)."""

    def fits(cut: Cut) -> bool:
        return size(comment.compose(cut)) <= limit

    for detail in (Detail.NO_PARAMS, Detail.NO_FIELDS):
        if fits(Cut(detail=detail)):
            return comment.compose(Cut(detail=detail))
    told = len(comment.told(Detail.NO_CALLS))
    most_names = max((len(group) for group in comment.other_groups), default=0)
    cs = comment.cs
    most_listed = max(len(cs.warnings), len(cs.problems), len(cs.money_warnings))
    for money in MoneyForm:
        base = Cut(detail=Detail.NO_CALLS, money=money)
        for trimmed in (base, replace(base, left_alone_ids=False)):
            sections = _most(told, partial(_fits_with, fits, trimmed, "sections"))
            if sections is not None:
                return comment.compose(replace(trimmed, sections=sections))
        bare = replace(base, left_alone_ids=False, sections=0)
        names = _most(most_names, partial(_fits_with, fits, bare, "names"))
        if names is not None:
            return comment.compose(replace(bare, names=names))
        # thousands of warnings or problems: each list shortened, saying how many more, before the money table
        listed = _most(most_listed, partial(_fits_with, fits, replace(bare, names=0), "listed"))
        if listed is not None:
            return comment.compose(replace(bare, names=0, listed=listed))
    text = comment.compose(Cut(Detail.NO_CALLS, 0, False, 0, MoneyForm.RANGES, 0))
    # nothing is left to shed but the headline and the groups' counts: cut it off rather than have GitHub refuse it
    while size(text) > limit:
        text = text[: len(text) - (size(text) - limit) - 1] + "\n"
    return text


def _fits_with(fits: Callable[[Cut], bool], cut: Cut, knob: str, value: int) -> bool:
    """Whether `cut` with `knob` set to `value` fits."""
    changes: dict[str, Any] = {knob: value}
    return fits(replace(cut, **changes))


def _most(count: int, fits: Callable[[int], bool]) -> int | None:
    """The largest n <= count with `fits(n)`, None when not even 0 fits: a binary search, one try a step."""
    if not fits(0):
        return None
    low, high = 0, count
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    return low


# -- when there is no plan ------------------------------------------------------------------------------------------

#: at most this many diagnostics in a failure comment (`pricebook validate` lists them all)
MAX_FAILURE_DIAGNOSTICS = 200


def render_markdown_failure(
    error: PricebookError, *, environment: str | None = None, livemode: bool = False
) -> str:
    """The comment when there is no plan to show: the catalog is invalid, the account could not be read, the key
    was refused. It names the errors (each with its place, rule and hint) and carries the same sticky marker as
    the plan would, so it takes the place of the last plan comment; it has no plan hash (nothing to approve)."""
    diagnostics = sort_diagnostics(error.diagnostics) if isinstance(error, Diagnosed) else []
    errors = [d for d in diagnostics if d.is_error]
    where = _where(environment, livemode)
    if isinstance(error, InvalidCatalog):
        noun = "error" if len(errors) == 1 else "errors"
        title = f"pricebook plan · {where} · ❌ the catalog is invalid: {_count(len(errors))} {noun}"
    else:
        title = f"pricebook plan · {where} · ❌ no plan: {error_text(error)}"
    shown = tuple(diagnostics[:MAX_FAILURE_DIAGNOSTICS])
    failure = _Failure(
        headline=title,
        message=f"pricebook could not compute the plan: {error_text(error)}.".replace("..", "."),
        hint=redact(error.hint or ""),
        rule=error.rule,
        diagnostics=shown,
        more=len(diagnostics) - len(shown),
    )
    marker = sticky_marker(environment_name(environment, livemode))
    return _part(_template().failure(failure)) + "\n\n" + marker + "\n"


__all__ = [
    "BLOCKED_MARKER",
    "COMMENT_LIMIT",
    "GITHUB_COMMENT_LIMIT",
    "HASH_MARKER",
    "MARKER",
    "Cut",
    "Detail",
    "MoneyForm",
    "blocked_marker",
    "code",
    "destructive_text",
    "environment_name",
    "escape_text",
    "fenced",
    "hash_marker",
    "headline",
    "price_amounts",
    "render_markdown",
    "render_markdown_failure",
    "size",
    "sticky_marker",
]
