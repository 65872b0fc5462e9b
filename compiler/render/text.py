"""The plan for a terminal, in Terraform's manner.

    # price.suite_monthly must be replaced
  -/+ price "suite_monthly" {
        ~ id          = "price_123" -> (known after apply)
        ~ unit_amount = 1000 -> 1200 # forces replacement
      }

Every line comes from the ChangeSet alone: the header (account mode, pinned API version, state fingerprint, and
whether it archives many objects at once), the warnings about money (above everything else: existing subscribers
paying more, subscriptions left with nowhere to go), one block per change with who is on its price and the price
impact, the API calls in the order apply sends them, the catalog's warnings, the problems that block the apply,
the summary line, a count of what pricebook leaves alone in the account, and how the subscribers were counted.
Colour is an argument (see `color.should_color`), so the output is reproducible.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from compiler.changes.changeset import Action, Change, ChangeSet, FieldChange, MoneyWarning, Problem
from compiler.changes.problems import ALLOW_MASS_ARCHIVE
from compiler.errors import Diagnostic
from compiler.render.subscribers import read_lines, sentences
from compiler.render.values import (
    ACCOUNT_UNKNOWN,
    FORCES,
    KNOWN_AFTER_APPLY,
    NONE,
    SUMMARY_ORDER,
    SYMBOLS,
    WORDING,
    impact_groups,
    impact_quantity,
    impact_text,
    is_listing,
    left_alone_line,
    list_lines,
    mode_name,
    show,
    shown_fields,
    summary_line,
    visible,
)
from compiler.stripe.calls import ApiCall
from compiler.stripe.kinds import KIND_ORDER

RESET = "\x1b[0m"
BOLD = "\x1b[1m"
RED = "\x1b[31m"
GREEN = "\x1b[32m"
YELLOW = "\x1b[33m"
CYAN = "\x1b[36m"

#: Terraform's colours: green adds, yellow changes, red removes; cyan takes over
SIGN_COLORS = {"+": GREEN, "~": YELLOW, "-": RED, "-/+": RED, "<=": CYAN, " ": ""}


@dataclass(frozen=True)
class _Paint:
    on: bool

    def __call__(self, text: str, *codes: str) -> str:
        codes = tuple(c for c in codes if c)
        if not self.on or not codes or not text:
            return text
        return "".join(codes) + text + RESET

    def sign(self, sign: str) -> str:
        if sign == "-/+":
            return self("-", RED) + "/" + self("+", GREEN) if self.on else sign
        return self(sign, SIGN_COLORS.get(sign, ""))


def render_text(changeset: ChangeSet, *, color: bool) -> str:
    paint = _Paint(color)
    shown = visible(changeset.changes)
    lines = _header(changeset, paint)
    left_alone = [left_alone_line(changeset)] if changeset.left_alone else []
    warnings = ["", *_warnings(changeset.warnings, paint)] if changeset.warnings else []
    if not shown and not changeset.problems:
        lines += warnings
        lines += ["", paint("No changes.", BOLD) + " The account matches the catalog: nothing to do.", *left_alone]
        return "\n".join(lines) + "\n"
    if changeset.money_warnings:
        lines += ["", *_money_warnings(changeset.money_warnings, paint)]
    if shown:
        lines += ["", "Resource actions are indicated with the following symbols:"]
        used = {c.action for c in shown}
        lines += [f"{paint.sign(SYMBOLS[a]).rjust(3 + _invisible(paint.sign(SYMBOLS[a])))} {WORDING[a].legend}"
                  for a in SUMMARY_ORDER if a in used]
        lines += ["", "pricebook will perform the following actions:"]
        for change in shown:
            lines += ["", *_change(change, paint)]
    if changeset.calls:
        lines += ["", *_calls(changeset.calls)]
    lines += warnings
    if changeset.problems:
        lines += ["", *_problems(changeset.problems, paint)]
    lines += ["", paint(summary_line(changeset.counts()), BOLD)]
    if changeset.problems:
        count = len(changeset.problems)
        noun = "problem blocks" if count == 1 else "problems block"
        lines.append(paint(f"{count} {noun} the apply: pricebook apply refuses to start until fixed.", RED, BOLD))
    lines += left_alone
    lines += _read(changeset)
    return "\n".join(lines) + "\n"


def _read(changeset: ChangeSet) -> list[str]:
    """How the subscribers were counted, when there was anything to count."""
    read = changeset.subscribers
    if read is not None and (read.skipped or read.prices_read or read.uncounted):
        return read_lines(read)
    return []


def render_text_summary(changeset: ChangeSet, *, color: bool) -> str:
    """The plan summed up, for a plan too long to print whole before apply: the header, the warnings about money,
    how many objects of each kind each action touches, how many calls apply sends, then the catalog's warnings,
    the problems, the summary line and how subscribers were counted, as `render_text` has them (what warns is
    never left out)."""
    paint = _Paint(color)
    lines = _header(changeset, paint)
    shown = visible(changeset.changes)
    if changeset.money_warnings:
        lines += ["", *_money_warnings(changeset.money_warnings, paint)]
    if shown:
        lines += ["", "pricebook will perform these actions:"]
        width = max(len(WORDING[a].verb) for a in SUMMARY_ORDER)
        for action in SUMMARY_ORDER:
            kinds = Counter(c.kind for c in shown if c.action is action)
            if kinds:
                counted = ", ".join(_many(kinds[k], k.value) for k in KIND_ORDER if k in kinds)
                sign = paint.sign(SYMBOLS[action])
                lines.append(f"{sign.rjust(5 + _invisible(sign))} {WORDING[action].verb.ljust(width)}  {counted}")
        lines += ["", f"{len(changeset.calls):,} API calls to send."]
    if changeset.warnings:
        lines += ["", *_warnings(changeset.warnings, paint)]
    if changeset.problems:
        lines += ["", *_problems(changeset.problems, paint)]
    lines += ["", paint(summary_line(changeset.counts()), BOLD)]
    if changeset.left_alone:
        lines.append(left_alone_line(changeset))
    lines += _read(changeset)
    return "\n".join(lines) + "\n"


def _many(count: int, noun: str) -> str:
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


def _invisible(text: str) -> int:
    """How many characters of `text` are colour codes (for padding coloured text)."""
    plain = text
    for code in (RESET, BOLD, RED, GREEN, YELLOW, CYAN):
        plain = plain.replace(code, "")
    return len(text) - len(plain)


def _header(changeset: ChangeSet, paint: _Paint) -> list[str]:
    mode = mode_name(changeset.livemode)
    mode = paint(mode, RED, BOLD) if changeset.livemode else mode
    account = changeset.account or f"({ACCOUNT_UNKNOWN})"
    lines = [f"pricebook plan: {mode} account {account}, Stripe API version {changeset.api_version or NONE}"]
    if changeset.fingerprint:
        lines.append(f"Account state fingerprint: {changeset.fingerprint}")
    if changeset.plan_hash is not None:
        lines.append(f"Plan hash: {changeset.plan_hash}")
    else:
        blocked = len(changeset.problems)
        problems = "1 problem blocks" if blocked == 1 else f"{blocked} problems block"
        lines.append(f"Plan hash: none: {problems} this plan, so there is nothing to approve until fixed")
    mass = changeset.mass_archive
    if mass is not None:
        if mass.allowed:
            lines.append(f"{paint('Mass archive:', YELLOW, BOLD)} this plan archives {mass.describe()}, "
                         f"allowed by {ALLOW_MASS_ARCHIVE}.")
        else:
            lines.append(f"{paint('Mass archive:', RED, BOLD)} this plan archives {mass.describe()}: "
                         f"blocked unless {ALLOW_MASS_ARCHIVE} is given.")
    return lines


def _change(change: Change, paint: _Paint) -> list[str]:
    sign = SYMBOLS[change.action]
    lines = [paint(f"  # {change.label} {WORDING[change.action].headline}", BOLD)]
    if change.reason:
        lines.append(f"  # {change.reason}")
    lead = paint.sign(sign).rjust(3 + _invisible(paint.sign(sign)))
    lines.append(f"{lead} {change.kind.value} {show(change.key)} {{")
    fields = shown_fields(change)
    width = max([len(f.path) for f in fields] + [2 if change.live_id else 0])
    if change.live_id:
        if change.action is Action.REPLACE:
            lines.append(f"      {paint.sign('~')} {'id'.ljust(width)} = {show(change.live_id)} -> {KNOWN_AFTER_APPLY}")
        else:
            lines.append(f"        {'id'.ljust(width)} = {show(change.live_id)}")
    for field in fields:
        lines += _field(field, change.action, width, paint)
    lines.append("    }")
    lines += [f"    {paint('# note:', CYAN)} {note.text}" for note in change.notes]
    if change.subscribers is not None:
        lines += [f"    {paint('# subscribers:', CYAN)} {text}" for text in sentences(change.subscribers)]
    if change.impact:
        pad = max(len(impact_quantity(i)) for i in change.impact)
        for currency, entries in impact_groups(change.impact):
            lines.append(f"    price impact ({currency}):" if currency else "    price impact:")
            lines += [f"      quantity {impact_quantity(i).rjust(pad)}: {impact_text(i)}" for i in entries]
    return lines


def _field_sign(field: FieldChange, action: Action) -> str:
    if action is Action.CREATE or (field.before is None and field.after is not None):
        return "+"
    if field.after is None and field.before is not None:
        return "-"
    return "~"


def _field(field: FieldChange, action: Action, width: int, paint: _Paint) -> list[str]:
    sign = _field_sign(field, action)
    forces = " " + paint(FORCES, RED) if field.forces_replacement else ""
    name = field.path.ljust(width)
    if is_listing(field.path, field.before, field.after):
        before = None if action is Action.CREATE else field.before
        items = list_lines(before, field.after)
        out = [f"      {paint.sign(sign)} {name} = [{forces}"]
        out += [f"          {paint.sign(item.sign)} {item.text}" for item in items]
        out.append("        ]")
        return out
    value = show(field.after) if sign == "+" else f"{show(field.before)} -> {show(field.after)}"
    return [f"      {paint.sign(sign)} {name} = {value}{forces}"]


def _calls(calls: Sequence[ApiCall]) -> list[str]:
    width = max(len(f"{c.method} {c.path}") for c in calls)
    action_width = max(len(c.action.value) for c in calls)
    number_width = len(str(len(calls)))
    lines = [f"API calls, in the order apply sends them ({len(calls)}):"]
    for number, call in enumerate(calls, 1):
        target = f"{call.method} {call.path}".ljust(width)
        action = call.action.value.ljust(action_width)
        lines.append(f"  {number:>{number_width}}. {target}  {action} {call.address}")
    return lines


def _blocks(label: str, entries: Iterable[tuple[str, str, str, str | None]]) -> list[str]:
    """`Label place: message [rule]` and its hint, one block each, a blank line between (as `validate` reports
    its diagnostics); `entries` are (place, message, rule, hint)."""
    lines: list[str] = []
    for place, message, rule, hint in entries:
        if lines:
            lines.append("")
        lines.append(f"{label} {place}: {message} [{rule}]")
        if hint:
            lines.append(f"  hint: {hint}")
    return lines


def _warnings(warnings: Sequence[Diagnostic], paint: _Paint) -> list[str]:
    label = paint("Warning:", YELLOW, BOLD)
    return _blocks(label, ((str(w.location), w.message, w.rule, w.hint) for w in warnings))


def _money_warnings(warnings: Sequence[MoneyWarning], paint: _Paint) -> list[str]:
    """The money warnings under a line that says what they are."""
    count = len(warnings)
    heading = paint(f"Money: {count} warning{'' if count == 1 else 's'} about what existing subscribers pay", BOLD)
    label = paint("Warning:", YELLOW, BOLD)
    return [heading, *_blocks(label, ((w.address, w.message, w.rule, w.hint) for w in warnings))]


def _problems(problems: Sequence[Problem], paint: _Paint) -> list[str]:
    label = paint("Error:", RED, BOLD)
    return _blocks(label, ((_place(p), p.message, p.rule, p.hint) for p in problems))


def _place(problem: Problem) -> str:
    """Where the catalog writes what the problem is about (when it does), then its address."""
    return problem.address if problem.location is None else f"{problem.location}: {problem.address}"
