"""Price impact: what a customer pays at a few telling quantities before and after a change, in each currency.

A pass over the diff's result (`with_price_impact`), not part of the diff: the diff says what changes, this says
what it costs a customer, for every created, replaced or repriced price or plan. The amounts come from the same
calculator as `pricebook quote`, so the plan and `quote` never disagree.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from compiler.changes.changeset import Action, Change, ChangeSet, Note, NoteTopic
from compiler.changes.diff import repriced_currencies
from compiler.errors import PricebookError
from compiler.stripe.kinds import Kind
from compiler.stripe.money import format_money
from compiler.stripe.pricing import PriceTerms, currencies_of, impact_quantities, quote

#: at most this many quantities in a price impact table
MAX_IMPACT_ROWS = 8
#: how every note about the price impact starts (they come after the change's other notes)
IMPACT_NOTE = "price impact"
#: at most this many quantities per currency option, and this many options, in a price impact
MAX_OPTION_ROWS = 3
MAX_OPTION_CURRENCIES = 4


@dataclass(frozen=True)
class Impact:
    """A change's price impact: the rows (`quantity`, `before`, `after`, `currency`, `change_percent`, and a
    `note` naming the assumptions an amount depends on) and the notes that spell those assumptions out, once each."""

    rows: tuple[dict[str, Any], ...] = ()
    notes: tuple[Note, ...] = ()


def with_price_impact(changeset: ChangeSet) -> ChangeSet:
    """`changeset` with the price impact of each created, replaced or repriced price or plan: its rows, and its
    notes after the change's own."""
    changes = tuple(_priced(change) for change in changeset.changes)
    return dataclasses.replace(changeset, changes=changes)


def _priced(change: Change) -> Change:
    if change.kind not in (Kind.PRICE, Kind.PLAN) or change.after is None:
        return change
    if change.action in (Action.CREATE, Action.REPLACE):
        impact = impact_of(change.kind, change.before, change.after)
    elif change.action in (Action.UPDATE, Action.ADOPT) and change.kind is Kind.PRICE and change.before is not None:
        # an update in place reaches existing subscribers only through repriced currency options
        if not repriced_currencies(change.before, change.after):
            return change
        impact = impact_of(change.kind, change.before, change.after, changed_only=True)
    else:
        return change
    if not impact.rows and not impact.notes:
        return change
    return dataclasses.replace(change, notes=(*change.notes, *impact.notes), impact=impact.rows)


def impact_of(
    kind: Kind, before: Mapping[str, Any] | None, after: Mapping[str, Any], *, changed_only: bool = False
) -> Impact:
    """The price impact of a created, replaced or repriced price or plan.

    The price's own currency comes first, with up to `MAX_IMPACT_ROWS` telling quantities (before in the old
    price's own currency, which a replace may have changed). Each currency option (before or after) follows with
    up to `MAX_OPTION_ROWS`, taken from the quantities whose amount changes. An existing price's option whose
    amounts do not change gets no rows but a note, and `changed_only` (an update in place) drops unchanged rows
    of the own currency too. At most `MAX_OPTION_CURRENCIES` options get rows; a note names the others. The
    assumptions a shown amount depends on (`Quote.assumptions`) are marked on its row and spelled out once in
    `notes`, in the quote calculator's words (`stripe.pricing`).

    Empty for objects that have no amount to compute (a customer-chosen amount, a meter, a product)."""
    if kind not in (Kind.PRICE, Kind.PLAN):
        return Impact()
    try:
        new_terms = PriceTerms.from_attrs(kind, after)
        old_terms = PriceTerms.from_attrs(kind, before) if before is not None else None
    except (PricebookError, ValueError):
        return Impact()
    main = _impact_rows(old_terms, new_terms, MAX_IMPACT_ROWS)
    if main is None:
        return Impact()
    rows = [r for r in main if not changed_only or r[0]["before"] != r[0]["after"]]
    options = set(currencies_of(kind, after)[1:]) | (set(currencies_of(kind, before)[1:]) if before else set())
    shown: list[str] = []
    hidden: list[str] = []
    unchanged: list[str] = []
    for currency in sorted(options - {new_terms.currency}):
        was, now = _terms_in(kind, before, currency), _terms_in(kind, after, currency)
        if before is not None and was is not None and was == now:
            unchanged.append(currency)  # the same terms: the same amounts at every quantity
            continue
        option = _impact_rows(was, now, MAX_IMPACT_ROWS)
        if not option:
            continue
        if len(shown) >= MAX_OPTION_CURRENCIES:
            hidden.append(currency)
            continue
        shown.append(currency)
        # fewer rows than the own currency: the quantities where the amount changes, if any
        changed = [r for r in option if r[0]["before"] != r[0]["after"]]
        few = set(_few(sorted(r[0]["quantity"] for r in changed or option), MAX_OPTION_ROWS))
        rows += [r for r in option if r[0]["quantity"] in few]
    notes: list[Note] = []
    if hidden:
        text = f"{IMPACT_NOTE} not shown for {len(hidden)} more currencies ({', '.join(hidden)})"
        notes.append(Note(text, NoteTopic.PRICE_IMPACT))
    if unchanged:
        notes.append(Note(f"{IMPACT_NOTE}: amounts in {', '.join(unchanged)} do not change", NoteTopic.PRICE_IMPACT))
    assumed = dict.fromkeys(pair for _row, pairs in rows for pair in pairs)  # once each, first seen first
    notes += [Note(f"{IMPACT_NOTE} assumes {text}", NoteTopic.ASSUMPTION, ident) for text, ident in assumed]
    return Impact(tuple(row for row, _pairs in rows), tuple(notes))


def _terms_in(kind: Kind, attrs: Mapping[str, Any] | None, currency: str) -> PriceTerms | None:
    """The terms of `attrs` in `currency`, None when it has no amount in it."""
    if attrs is None:
        return None
    try:
        return PriceTerms.from_attrs(kind, attrs, currency)
    except (PricebookError, ValueError):
        return None


#: a row, and the (text, id) of each assumption its amounts depend on
_Row = tuple[dict[str, Any], tuple[tuple[str, str], ...]]


def _impact_rows(old: PriceTerms | None, new: PriceTerms | None, most: int) -> list[_Row] | None:
    """Rows in `new`'s currency (or `old`'s for a removed option) at up to `most` telling quantities, each with
    the assumptions its amounts depend on; None when an amount cannot be computed."""
    terms = [t for t in (old, new) if t is not None]
    if not terms:
        return []
    rows: list[_Row] = []
    try:
        for quantity in _few(impact_quantities(terms), most):
            row: dict[str, Any] = {"quantity": quantity, "before": None, "after": None, "currency": terms[-1].currency}
            assumed: dict[str, str] = {}  # text -> id
            amounts: dict[str, int] = {}
            for side, side_terms in (("before", old), ("after", new)):
                if side_terms is not None:
                    priced = quote(side_terms, quantity)
                    row[side] = format_money(priced.amount, side_terms.currency)
                    amounts[side] = priced.amount
                    assumed.update((a.text, a.id) for a in priced.assumptions)
            comparable = old is not None and new is not None and old.currency == new.currency
            row["change_percent"] = change_percent(amounts.get("before"), amounts.get("after")) if comparable else None
            if assumed:
                row["note"] = "assumes " + ", ".join(dict.fromkeys(assumed.values()))
            rows.append((row, tuple(assumed.items())))
    except (PricebookError, ValueError):
        return None
    return rows


def change_percent(before: int | None, after: int | None) -> float | None:
    """`after` against `before` (minor units) in percent, one decimal (`10.0`, `-3.5`); None when there is
    nothing to compare with (no amount on one side, or a `before` of zero: from free, any amount is infinitely
    more)."""
    if before is None or after is None:
        return None
    if before == 0:
        return 0.0 if after == 0 else None
    return float((Decimal(after - before) * 100 / before).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _few(values: Sequence[int], most: int) -> list[int]:
    """At most `most` of `values`, the first and last kept and the rest evenly between."""
    if len(values) <= most:
        return list(values)
    picked = {values[round(i * (len(values) - 1) / (most - 1))] for i in range(most)}
    return sorted(picked)


__all__ = ["Impact", "change_percent", "impact_of", "with_price_impact"]
