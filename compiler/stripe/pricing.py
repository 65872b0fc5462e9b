"""What a customer pays for a price (or legacy plan) at a quantity, computed the way Stripe does.

As Stripe documents pricing models: the quantity transform (per_unit only), volume and graduated tiers with flat
fees, exact decimal amounts rounded half-up once per invoice line. Everything works from the *canonical attrs* of a
price or plan (`resources.canonical`), so the same calculator prices the catalog and the live account; `plan`'s
"price impact" compares the two at `telling_quantities`.

Amounts are `Decimal`s in the currency's minor unit (cents), exactly as Stripe stores them; only the final line
total is rounded, to a whole minor unit. Where Stripe's behaviour is unverified the quote says which assumption it
made (`Assumption`), and only when that assumption affects the amount shown.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from typing import Any

from compiler.errors import NotQuotable
from compiler.stripe.currencies import DIVISIBLE_BY_100, EXACT, THREE_DECIMAL
from compiler.stripe.fields import decimal_text
from compiler.stripe.kinds import Kind
from compiler.stripe.money import format_money

PER_UNIT = "per_unit"
TIERED = "tiered"
GRADUATED = "graduated"
VOLUME = "volume"

#: how many tier boundaries `telling_quantities` samples (each gives up_to and up_to + 1)
MAX_TIER_BOUNDARIES = 4
#: the largest quantity `quote` takes: a billion billion units is beyond any invoice line, and the bound keeps the
#: amounts it prints to a few dozen digits
MAX_QUANTITY = 10**18


# ---------------------------------------------------------------------------------------------------------
# terms


@dataclass(frozen=True)
class Transform:
    """`transform_quantity` (price) / `transform_usage` (plan): divide, then round up or down."""

    divide_by: int
    round: str  # "up" | "down"

    def apply(self, quantity: int) -> int:
        if self.round == "up":
            return -(-quantity // self.divide_by)
        return quantity // self.divide_by


@dataclass(frozen=True)
class Tier:
    """One tier, amounts in minor units. `up_to` None is the last, unbounded tier (Stripe's `inf`)."""

    up_to: int | None
    unit_amount: Decimal = Decimal(0)
    flat_amount: Decimal = Decimal(0)


@dataclass(frozen=True)
class PriceTerms:
    """The pricing terms of one price or plan in one currency: all the calculator needs.

    Build it with `PriceTerms.from_attrs(kind, attrs, currency)` from canonical attrs; `currency` picks one of a
    price's `currency_options` (None or the price's own currency means the top-level amounts).
    """

    currency: str
    billing_scheme: str = PER_UNIT
    unit_amount: Decimal | None = None  # per_unit only
    tiers: tuple[Tier, ...] = ()  # tiered only
    tiers_mode: str | None = None  # graduated | volume
    transform: Transform | None = None  # per_unit only: Stripe takes no transform on a tiered price
    usage_type: str = "licensed"

    @classmethod
    def from_attrs(cls, kind: Kind, attrs: Mapping[str, Any], currency: str | None = None) -> PriceTerms:
        if kind is Kind.PRICE:
            return _price_terms(attrs, currency)
        if kind is Kind.PLAN:
            return _plan_terms(attrs, currency)
        raise NotQuotable(f"a {kind.value} has no amount to quote; name a price or a plan")

    @property
    def is_tiered(self) -> bool:
        return self.billing_scheme == TIERED

    def describe(self) -> str:
        """One line for a person: `$10.00 per unit, divide_by 5 round up` or `graduated, 3 tiers (usd)`."""
        if self.is_tiered:
            count = len(self.tiers)
            return f"{self.tiers_mode}, {count} tier{'s' if count != 1 else ''} ({self.currency})"
        text = f"{format_money(self.unit_amount or Decimal(0), self.currency)} per unit"
        if self.transform is not None:
            text += f", divide_by {self.transform.divide_by} round {self.transform.round}"
        return text


def currencies_of(kind: Kind, attrs: Mapping[str, Any]) -> list[str]:
    """The currencies a price or plan can be quoted in: its own first, then its currency options."""
    own = str(attrs.get("currency") or "").lower()
    options = attrs.get("currency_options") if kind is Kind.PRICE else None
    extra = sorted(str(c).lower() for c in options) if isinstance(options, Mapping) else []
    return [own, *(c for c in extra if c != own)]


def _price_terms(attrs: Mapping[str, Any], currency: str | None) -> PriceTerms:
    own = str(attrs.get("currency") or "").lower()
    chosen = (currency or own).lower()
    amounts: Mapping[str, Any] = attrs
    if chosen != own:
        options = attrs.get("currency_options")
        option = options.get(chosen) if isinstance(options, Mapping) else None
        if not isinstance(option, Mapping):
            have = ", ".join(currencies_of(Kind.PRICE, attrs))
            raise NotQuotable(f"the price has no {chosen} amount (its currencies: {have})")
        amounts = option  # an option carries amounts and tiers; scheme, mode and transform stay the price's
    if amounts.get("custom_unit_amount"):
        raise NotQuotable("the price has custom_unit_amount: the customer chooses what to pay")
    recurring = attrs.get("recurring")
    usage_type = recurring.get("usage_type") if isinstance(recurring, Mapping) else None
    return _terms(
        currency=chosen,
        scheme=attrs.get("billing_scheme"),
        unit=_amount(amounts.get("unit_amount"), amounts.get("unit_amount_decimal"), "unit_amount"),
        tiers=amounts.get("tiers"),
        tiers_mode=attrs.get("tiers_mode"),
        transform=attrs.get("transform_quantity"),
        usage_type=usage_type,
    )


def _plan_terms(attrs: Mapping[str, Any], currency: str | None) -> PriceTerms:
    own = str(attrs.get("currency") or "").lower()
    if currency is not None and currency.lower() != own:
        raise NotQuotable(f"the plan is only in {own}: plans have no currency options")
    return _terms(
        currency=own,
        scheme=attrs.get("billing_scheme"),
        unit=_amount(attrs.get("amount"), attrs.get("amount_decimal"), "amount"),
        tiers=attrs.get("tiers"),
        tiers_mode=attrs.get("tiers_mode"),
        transform=attrs.get("transform_usage"),
        usage_type=attrs.get("usage_type"),
    )


def _terms(
    *, currency: str, scheme: Any, unit: Decimal | None, tiers: Any, tiers_mode: Any, transform: Any, usage_type: Any
) -> PriceTerms:
    usage = str(usage_type or "licensed")
    if scheme == TIERED or (scheme is None and tiers):
        if tiers_mode not in (GRADUATED, VOLUME):
            raise NotQuotable(f"tiered pricing needs tiers_mode graduated or volume, not {tiers_mode!r}")
        parsed = _parse_tiers(tiers)
        if not parsed:
            raise NotQuotable(f"tiered pricing without tiers in {currency}")
        return PriceTerms(currency, TIERED, tiers=parsed, tiers_mode=str(tiers_mode), usage_type=usage)
    if unit is None:
        raise NotQuotable(f"the {currency} price has no unit amount")
    return PriceTerms(currency, PER_UNIT, unit_amount=unit, transform=_parse_transform(transform), usage_type=usage)


def _amount(integer: Any, decimal: Any, name: str) -> Decimal | None:
    """An amount from Stripe's (integer, decimal string) pair; the decimal one wins as it is the exact one."""
    if decimal is not None:
        try:
            value = Decimal(str(decimal))
        except InvalidOperation:
            raise NotQuotable(f"{name}_decimal {decimal!r} is not a decimal number") from None
        if not value.is_finite() or value < 0:
            raise NotQuotable(f"{name}_decimal {decimal!r} is not a non-negative amount")
        return value
    if isinstance(integer, int) and not isinstance(integer, bool):
        if integer < 0:
            raise NotQuotable(f"{name} {integer} is negative")
        return Decimal(integer)
    return None


def _parse_tiers(raw: Any) -> tuple[Tier, ...]:
    if not isinstance(raw, Sequence):
        return ()
    tiers: list[Tier] = []
    previous = 0
    for number, item in enumerate(raw, start=1):
        if not isinstance(item, Mapping):
            raise NotQuotable(f"tier {number} is not a mapping")
        up_to = item.get("up_to")
        if up_to in (None, "inf"):
            bound = None
        elif isinstance(up_to, int) and not isinstance(up_to, bool) and up_to > previous:
            bound = up_to
        else:
            raise NotQuotable(f"tier {number} has up_to {up_to!r}: bounds must be increasing integers or inf")
        if tiers and tiers[-1].up_to is None:
            raise NotQuotable("only the last tier may be up_to inf")
        unit = _amount(item.get("unit_amount"), item.get("unit_amount_decimal"), "unit_amount")
        flat = _amount(item.get("flat_amount"), item.get("flat_amount_decimal"), "flat_amount")
        tiers.append(Tier(bound, unit or Decimal(0), flat or Decimal(0)))
        previous = bound if bound is not None else previous
    return tuple(tiers)


def _parse_transform(raw: Any) -> Transform | None:
    if not isinstance(raw, Mapping):
        return None
    divide_by, rounding = raw.get("divide_by"), raw.get("round")
    if not isinstance(divide_by, int) or isinstance(divide_by, bool) or divide_by < 1:
        raise NotQuotable(f"transform divide_by {divide_by!r} is not a positive integer")
    if rounding not in ("up", "down"):
        raise NotQuotable(f"transform round {rounding!r} is not up or down")
    return Transform(divide_by, str(rounding))


# ---------------------------------------------------------------------------------------------------------
# results


@dataclass(frozen=True)
class Assumption:
    """A choice the calculator made where Stripe's behaviour is not documented."""

    id: str
    text: str

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "text": self.text}


@dataclass(frozen=True)
class Line:
    """One part of the amount: the per-unit charge, or one tier reached (units in it × unit price + flat fee)."""

    quantity: int
    unit_amount: Decimal
    flat_amount: Decimal = Decimal(0)
    tier: int | None = None  # 1-based tier number; None for per_unit
    first: int | None = None  # the tier's lowest and highest quantity (None: unbounded)
    last: int | None = None

    @property
    def subtotal(self) -> Decimal:
        with localcontext(EXACT):
            return self.quantity * self.unit_amount + self.flat_amount

    def describe(self, currency: str) -> str:
        """`tier 2 (6-10): 1 × $6.50 + $1.00 flat = $7.50`, or `2 × $10.00 = $20.00`."""
        text = f"{self.quantity} × {format_money(self.unit_amount, currency)}"
        if self.flat_amount:
            text += f" + {format_money(self.flat_amount, currency)} flat"
        text += f" = {format_money(self.subtotal, currency)}"
        if self.tier is None:
            return text
        span = f"{self.first}+" if self.last is None else f"{self.first}-{self.last}"
        return f"tier {self.tier} ({span}): {text}"

    def to_json(self) -> dict[str, Any]:
        return {
            "tier": self.tier,
            "first": self.first,
            "last": self.last,
            "quantity": self.quantity,
            "unit_amount_decimal": decimal_text(self.unit_amount),
            "flat_amount_decimal": decimal_text(self.flat_amount),
            "subtotal_decimal": decimal_text(self.subtotal),
        }


@dataclass(frozen=True)
class Quote:
    """The amount of one invoice line: `quantity` (as reported), `billed_quantity` (after the transform), the
    exact total and the total rounded to a whole minor unit, with the lines it is made of."""

    currency: str
    quantity: int
    billed_quantity: int
    lines: tuple[Line, ...]
    exact: Decimal  # minor units, before rounding
    amount: int  # minor units, rounded half-up once for the whole line
    assumptions: tuple[Assumption, ...] = ()

    @property
    def formatted(self) -> str:
        return format_money(self.amount, self.currency)

    def to_json(self) -> dict[str, Any]:
        return {
            "quantity": self.quantity,
            "billed_quantity": self.billed_quantity,
            "currency": self.currency,
            "amount": self.amount,
            "amount_exact": decimal_text(self.exact),
            "formatted": self.formatted,
            "lines": [line.to_json() for line in self.lines],
            "assumptions": [a.to_json() for a in self.assumptions],
        }


# ---------------------------------------------------------------------------------------------------------
# the calculator


def quote(terms: PriceTerms, quantity: int) -> Quote:
    """What Stripe charges for `quantity` units (or units of usage) of `terms`, as one invoice line."""
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
        raise ValueError(f"quantity must be a non-negative integer, not {quantity!r}")
    if quantity > MAX_QUANTITY:
        raise NotQuotable(
            f"quantity {_show_quantity(quantity)} is above the largest quantity pricebook quotes ({MAX_QUANTITY:,})",
            hint="quote a quantity of at most 10^18",
            rule="quantity-too-large",
        )
    assumptions: list[Assumption] = []
    if not terms.is_tiered:
        billed = terms.transform.apply(quantity) if terms.transform else quantity
        lines: tuple[Line, ...] = (Line(billed, terms.unit_amount or Decimal(0)),)
    elif terms.tiers_mode == VOLUME:
        billed = quantity
        lines = (_volume_line(terms.tiers, quantity),)
        if quantity == 0 and lines[0].flat_amount:
            assumptions.append(ZERO_USAGE_VOLUME)
    else:
        billed = quantity
        lines = _graduated_lines(terms.tiers, quantity)
        if quantity == 0 and terms.tiers[0].flat_amount:
            assumptions.append(ZERO_USAGE_GRADUATED)
    with localcontext(EXACT):  # sums of exact products stay exact whatever their size
        exact = sum((line.subtotal for line in lines), Decimal(0))
        amount = int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
        assumptions.extend(_rounding_assumptions(terms.currency, lines, exact, amount))
    return Quote(terms.currency, quantity, billed, lines, exact, amount, tuple(assumptions))


def _show_quantity(quantity: int) -> str:
    return f"{quantity:,}" if quantity < 10**60 else f"of about {math.ceil(quantity.bit_length() * 0.30103):,} digits"


def _tier_spans(tiers: Sequence[Tier]) -> list[tuple[int, int | None, Tier]]:
    """Each tier with its first and last quantity: a tier starts at the previous `up_to` + 1."""
    spans = []
    previous = 0
    for tier in tiers:
        spans.append((previous + 1, tier.up_to, tier))
        previous = tier.up_to if tier.up_to is not None else previous
    return spans


def _volume_line(tiers: Sequence[Tier], quantity: int) -> Line:
    # The one tier that holds the total quantity prices all of it; zero falls in the first tier (unverified).
    for number, (first, last, tier) in enumerate(_tier_spans(tiers), start=1):
        if last is None or quantity <= last:
            return Line(quantity, tier.unit_amount, tier.flat_amount, number, first, last)
    raise NotQuotable(f"quantity {quantity} is above the last tier (up_to {tiers[-1].up_to}) and no tier is inf")


def _graduated_lines(tiers: Sequence[Tier], quantity: int) -> tuple[Line, ...]:
    # Each tier reached prices the units inside it and adds its flat fee once; quantity 0 reaches none (unverified).
    lines = []
    for number, (first, last, tier) in enumerate(_tier_spans(tiers), start=1):
        if quantity < first:
            break
        inside = (quantity if last is None else min(quantity, last)) - first + 1
        lines.append(Line(inside, tier.unit_amount, tier.flat_amount, number, first, last))
    if tiers[-1].up_to is not None and quantity > tiers[-1].up_to:
        raise NotQuotable(f"quantity {quantity} is above the last tier (up_to {tiers[-1].up_to}) and no tier is inf")
    return tuple(lines)


ZERO_USAGE_GRADUATED = Assumption(
    "zero-usage-flat-fee",
    "flat fee at zero usage: graduated tiers charge no flat fee when the quantity is 0 (unverified)",
)
ZERO_USAGE_VOLUME = Assumption(
    "zero-usage-flat-fee",
    "flat fee at zero usage: volume tiers charge the first tier's flat fee when the quantity is 0 "
    "(unverified)",
)
HALF_UP = Assumption(
    "half-up",
    "half a minor unit is rounded up (half-up, not half-even; unverified)",
)


def _rounding_assumptions(currency: str, lines: Sequence[Line], exact: Decimal, amount: int) -> list[Assumption]:
    found: list[Assumption] = []
    if exact - exact.to_integral_value(rounding=ROUND_FLOOR) == Decimal("0.5"):
        found.append(HALF_UP)
    if len(lines) > 1:
        # Stripe rounds "on the line item level"; whether a graduated line rounds each tier first is unverified.
        per_tier = sum(int(line.subtotal.quantize(Decimal(1), rounding=ROUND_HALF_UP)) for line in lines)
        if per_tier != amount:
            found.append(
                Assumption(
                    "round-per-line",
                    f"graduated tiers are rounded once for the whole line, giving {format_money(amount, currency)}; "
                    f"rounding each tier first would give {format_money(per_tier, currency)} "
                    "(unverified)",
                )
            )
    code = currency.lower()
    if code in THREE_DECIMAL and amount % 10:
        found.append(
            Assumption(
                "three-decimal",
                f"{code.upper()} amounts are shown to the last minor digit; Stripe needs it to be 0 to charge, "
                "and how an invoice rounds to it is unverified",
            )
        )
    if code in DIVISIBLE_BY_100 and amount % 100:
        found.append(
            Assumption(
                "divisible-by-100",
                f"{code.upper()} amounts must be divisible by 100 to charge; how an invoice rounds to it is unverified",
            )
        )
    return found


# ---------------------------------------------------------------------------------------------------------
# where to look


def telling_quantities(terms: PriceTerms) -> list[int]:
    """A handful of quantities where the amount's shape shows: each transform step, each tier boundary and
    the one past it, zero when a flat fee makes zero usage interesting. Sorted, no duplicates."""
    found: set[int] = {1}
    if terms.is_tiered:
        if any(t.flat_amount for t in terms.tiers):
            found.add(0)
        bounds = [t.up_to for t in terms.tiers if t.up_to is not None]
        for bound in _spread(bounds, MAX_TIER_BOUNDARIES):
            found.update((bound, bound + 1))
        if not bounds:
            found.add(10)
    elif terms.transform is not None:
        d = terms.transform.divide_by
        # rounding up charges a new step one past each multiple; rounding down charges at each multiple
        steps = (d, d + 1, 2 * d, 2 * d + 1) if terms.transform.round == "up" else (d - 1, d, 2 * d - 1, 2 * d)
        found.update(q for q in steps if q >= 0)
    else:
        found.add(10)
        unit = terms.unit_amount or Decimal(0)
        if 0 < unit < 1:
            # a sub-cent price: also the first round quantity that costs a whole major unit or more
            found.add(_first_power_of_ten_reaching(unit, Decimal(100)))
    return sorted(found)


def impact_quantities(terms: Iterable[PriceTerms]) -> list[int]:
    """The telling quantities of several terms together (a price before and after a change)."""
    return sorted({q for t in terms for q in telling_quantities(t)})


def _spread(values: Sequence[int], most: int) -> list[int]:
    """At most `most` of `values`, first and last kept, the rest evenly between."""
    if len(values) <= most:
        return list(values)
    return [values[round(i * (len(values) - 1) / (most - 1))] for i in range(most)]


def _first_power_of_ten_reaching(unit: Decimal, target: Decimal) -> int:
    quantity = 10
    while quantity * unit < target and quantity < 10**15:
        quantity *= 10
    return quantity
