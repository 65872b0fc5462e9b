"""The quote calculator against the examples of Stripe's pricing docs and the seeds' tables."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from compiler.errors import NotQuotable
from compiler.stripe.fields import canonical, catalog_canonical
from compiler.stripe.kinds import Kind
from compiler.stripe.money import format_money
from compiler.stripe.pricing import (
    HALF_UP,
    MAX_QUANTITY,
    ZERO_USAGE_GRADUATED,
    ZERO_USAGE_VOLUME,
    PriceTerms,
    Tier,
    Transform,
    currencies_of,
    impact_quantities,
    quote,
    telling_quantities,
)


def price(**params: Any) -> PriceTerms:
    """Terms of a price written as in a catalog file, through the canonical form the diff uses."""
    currency = params.pop("quote_currency", None)
    return PriceTerms.from_attrs(Kind.PRICE, catalog_canonical(Kind.PRICE, {"currency": "usd", **params}), currency)


def plan(**params: Any) -> PriceTerms:
    base = {"currency": "usd", "interval": "month"}
    return PriceTerms.from_attrs(Kind.PLAN, catalog_canonical(Kind.PLAN, {**base, **params}))


def amounts(terms: PriceTerms, *quantities: int) -> list[str]:
    return [quote(terms, q).formatted for q in quantities]


# the tiers of docs.stripe.com/subscriptions/pricing-models/tiered-pricing
DOCS_TIERS = [
    {"up_to": 5, "unit_amount": 700},
    {"up_to": 10, "unit_amount": 650},
    {"up_to": "inf", "unit_amount": 600},
]


# --- the seeds: transform_usage / transform_quantity -------------------------------------------------------


def test_seed_per_5_users_plan_rounds_up() -> None:
    terms = plan(amount=1000, usage_type="licensed", transform_usage={"divide_by": 5, "round": "up"})
    assert amounts(terms, 1, 3, 5, 6, 7) == ["$10.00", "$10.00", "$10.00", "$20.00", "$20.00"]
    assert [quote(terms, q).billed_quantity for q in (1, 3, 5, 6, 7)] == [1, 1, 1, 2, 2]


def test_seed_per_5_users_as_a_price_matches_the_plan() -> None:
    terms = price(unit_amount=1000, recurring={"interval": "month"}, transform_quantity={"divide_by": 5, "round": "up"})
    assert amounts(terms, 1, 5, 6) == ["$10.00", "$10.00", "$20.00"]


def test_seed_metered_emails_round_down() -> None:
    terms = price(
        unit_amount=10,
        recurring={"interval": "month", "usage_type": "metered", "meter": "emails_sent"},
        transform_quantity={"divide_by": 1000, "round": "down"},
    )
    assert amounts(terms, 999, 1000, 1999, 2500) == ["$0.00", "$0.10", "$0.10", "$0.20"]
    assert terms.usage_type == "metered"


def test_minutes_example_from_the_docs() -> None:
    terms = price(unit_amount=1000, transform_quantity={"divide_by": 60, "round": "up"})
    assert quote(terms, 150).formatted == "$30.00"


def test_zero_quantity_with_transform_is_free() -> None:
    terms = plan(amount=1000, transform_usage={"divide_by": 5, "round": "up"})
    result = quote(terms, 0)
    assert (result.billed_quantity, result.amount, result.assumptions) == (0, 0, ())


# --- tiers ------------------------------------------------------------------------------------------------


def test_volume_tiers_price_the_whole_quantity_in_one_tier() -> None:
    terms = price(billing_scheme="tiered", tiers_mode="volume", tiers=DOCS_TIERS)
    assert amounts(terms, 5, 6, 20, 25) == ["$35.00", "$39.00", "$120.00", "$150.00"]
    assert [line.tier for line in quote(terms, 6).lines] == [2]


def test_volume_total_can_go_down_as_quantity_rises() -> None:
    tiers = [{"up_to": 10, "unit_amount": 1000}, {"up_to": "inf", "unit_amount": 800}]
    terms = price(billing_scheme="tiered", tiers_mode="volume", tiers=tiers)
    assert amounts(terms, 10, 11) == ["$100.00", "$88.00"]


def test_graduated_tiers_sum_each_tier() -> None:
    terms = price(billing_scheme="tiered", tiers_mode="graduated", tiers=DOCS_TIERS)
    assert amounts(terms, 6, 20) == ["$41.50", "$127.50"]
    lines = quote(terms, 20).lines
    assert [(line.tier, line.first, line.last, line.quantity) for line in lines] == [
        (1, 1, 5, 5),
        (2, 6, 10, 5),
        (3, 11, None, 10),
    ]
    assert [str(line.subtotal) for line in lines] == ["3500", "3250", "6000"]


def test_graduated_tier_boundary_is_inclusive() -> None:
    terms = price(billing_scheme="tiered", tiers_mode="graduated", tiers=DOCS_TIERS)
    assert [len(quote(terms, q).lines) for q in (5, 6, 10, 11)] == [1, 2, 2, 3]


def test_flat_fee_plus_usage_graduated() -> None:
    # the cryptolens seed: $10/month flat, then usage on top, modelled as a graduated first tier with a flat fee
    tiers = [{"up_to": 100, "flat_amount": 1000, "unit_amount": 0}, {"up_to": "inf", "unit_amount": 5}]
    terms = price(
        billing_scheme="tiered",
        tiers_mode="graduated",
        tiers=tiers,
        recurring={"interval": "month", "usage_type": "metered", "meter": "api_calls"},
    )
    assert amounts(terms, 1, 100, 101, 300) == ["$10.00", "$10.00", "$10.05", "$20.00"]


def test_flat_fee_per_tier_is_added_once_the_tier_is_reached() -> None:
    tiers = [{"up_to": 10, "flat_amount": 500}, {"up_to": "inf", "flat_amount": 800, "unit_amount": 100}]
    terms = price(billing_scheme="tiered", tiers_mode="graduated", tiers=tiers)
    assert amounts(terms, 10, 11, 12) == ["$5.00", "$14.00", "$15.00"]


def test_volume_flat_fee_of_the_tier_reached() -> None:
    tiers = [
        {"up_to": 10, "flat_amount": 500, "unit_amount": 100},
        {"up_to": "inf", "flat_amount": 0, "unit_amount": 90},
    ]
    terms = price(billing_scheme="tiered", tiers_mode="volume", tiers=tiers)
    assert amounts(terms, 10, 11) == ["$15.00", "$9.90"]


def test_zero_usage_graduated_charges_no_flat_fee_and_says_so() -> None:
    tiers = [{"up_to": 100, "flat_amount": 1000}, {"up_to": "inf", "unit_amount": 5}]
    result = quote(price(billing_scheme="tiered", tiers_mode="graduated", tiers=tiers), 0)
    assert result.amount == 0
    assert result.lines == ()
    assert result.assumptions == (ZERO_USAGE_GRADUATED,)


def test_zero_usage_volume_charges_the_first_flat_fee_and_says_so() -> None:
    tiers = [{"up_to": 100, "flat_amount": 1000}, {"up_to": "inf", "unit_amount": 5}]
    result = quote(price(billing_scheme="tiered", tiers_mode="volume", tiers=tiers), 0)
    assert result.formatted == "$10.00"
    assert result.assumptions == (ZERO_USAGE_VOLUME,)


def test_zero_usage_without_flat_fee_needs_no_assumption() -> None:
    for mode in ("graduated", "volume"):
        result = quote(price(billing_scheme="tiered", tiers_mode=mode, tiers=DOCS_TIERS), 0)
        assert (result.amount, result.assumptions) == (0, ())


def test_tiers_as_stripe_returns_them_quote_the_same() -> None:
    # live shape: up_to null, decimal strings beside integers
    live = {
        "currency": "usd",
        "billing_scheme": "tiered",
        "tiers_mode": "graduated",
        "tiers": [
            {"up_to": 5, "unit_amount": 700, "unit_amount_decimal": "700", "flat_amount": None},
            {"up_to": 10, "unit_amount": 650, "unit_amount_decimal": "650", "flat_amount": None},
            {"up_to": None, "unit_amount": 600, "unit_amount_decimal": "600", "flat_amount": None},
        ],
    }
    terms = PriceTerms.from_attrs(Kind.PRICE, canonical(Kind.PRICE, live))
    assert amounts(terms, 6, 20) == ["$41.50", "$127.50"]


# --- decimals and rounding ----------------------------------------------------------------------------------


def test_decimal_unit_amount_rounds_once_per_line() -> None:
    # 0.05 * 30 = 1.5, rounded half-up to 2 cents
    result = quote(price(unit_amount_decimal="0.05"), 30)
    assert result.exact == Decimal("1.5")
    assert result.amount == 2
    assert result.formatted == "$0.02"
    assert HALF_UP in result.assumptions


def test_ties_round_half_up_not_half_even() -> None:
    # 2.5 cents: half-even would give 2
    assert quote(price(unit_amount_decimal="0.05"), 50).amount == 3


def test_decimal_rounding_below_half_goes_down_without_assumption() -> None:
    result = quote(price(unit_amount_decimal="0.05"), 29)
    assert (result.amount, result.assumptions) == (1, ())


def test_decimal_amounts_stay_exact_at_large_quantities() -> None:
    # float arithmetic would drift here; Decimal keeps every digit
    result = quote(price(unit_amount_decimal="0.000000000001"), 10**18 - 1)
    assert result.exact == Decimal("999999.999999999999")
    assert result.amount == 10**6


def test_the_largest_quantity_is_quoted_exactly_beyond_decimals_default_28_digits() -> None:
    # 38 significant digits: Decimal's default context would round them, or raise InvalidOperation (as it did)
    tiers = [
        {"up_to": 1, "unit_amount_decimal": "0.5"},
        {"up_to": "inf", "unit_amount_decimal": "99999999.999999999999"},
    ]
    terms = price(billing_scheme="tiered", tiers_mode="graduated", tiers=tiers)
    result = quote(terms, MAX_QUANTITY)
    # 0.5 + (10**18 - 1) x 99999999.999999999999
    assert result.exact == Decimal("99999999999999999899000000.500000000001")
    assert result.amount == 99999999999999999899000001
    assert result.formatted == "$999,999,999,999,999,998,990,000.01"
    assert result.to_json()["amount_exact"] == "99999999999999999899000000.500000000001"
    assert result.lines[1].describe("usd").endswith("= $999,999,999,999,999,998,990,000.00000000000001")


def test_a_quantity_above_the_largest_is_refused_with_its_rule() -> None:
    with pytest.raises(NotQuotable) as refused:
        quote(price(unit_amount=1), MAX_QUANTITY + 1)
    assert refused.value.rule == "quantity-too-large"
    assert "1,000,000,000,000,000,001" in refused.value.message and refused.value.hint


def test_graduated_rounds_the_line_not_each_tier_and_says_so_when_it_matters() -> None:
    tiers = [{"up_to": 1, "unit_amount_decimal": "0.4"}, {"up_to": "inf", "unit_amount_decimal": "0.4"}]
    terms = price(billing_scheme="tiered", tiers_mode="graduated", tiers=tiers)
    result = quote(terms, 2)  # 0.4 + 0.4 = 0.8 -> 1 cent; per tier 0 + 0 = 0
    assert result.amount == 1
    assert [a.id for a in result.assumptions] == ["round-per-line"]
    assert "$0.01" in result.assumptions[0].text and "$0.00" in result.assumptions[0].text


def test_tiered_plan() -> None:
    terms = plan(billing_scheme="tiered", tiers_mode="graduated", tiers=DOCS_TIERS)
    assert amounts(terms, 6, 20) == ["$41.50", "$127.50"]


def test_unexpanded_live_tiers_are_not_quoted_as_free() -> None:
    # Stripe omits tiers unless expanded: refuse rather than quote $0
    live = canonical(Kind.PRICE, {"currency": "usd", "billing_scheme": "tiered", "tiers_mode": "volume"})
    with pytest.raises(NotQuotable, match="without tiers"):
        PriceTerms.from_attrs(Kind.PRICE, live)


def test_plan_amount_decimal() -> None:
    assert amounts(plan(amount_decimal="12.5"), 1, 2) == ["$0.13", "$0.25"]


# --- currencies ---------------------------------------------------------------------------------------------


def test_zero_decimal_currency() -> None:
    terms = price(currency="jpy", unit_amount=500)
    assert amounts(terms, 1, 3) == ["¥500", "¥1,500"]


def test_three_decimal_currency_and_its_last_digit() -> None:
    terms = price(currency="kwd", unit_amount=1250)
    assert quote(terms, 2).formatted == "2.500 KWD"
    odd = quote(price(currency="kwd", unit_amount_decimal="0.5"), 3)
    assert odd.amount == 2
    assert [a.id for a in odd.assumptions] == ["half-up", "three-decimal"]


def test_currency_option_replaces_amounts_but_keeps_transform() -> None:
    params = {
        "unit_amount": 1000,
        "transform_quantity": {"divide_by": 5, "round": "up"},
        "currency_options": {"eur": {"unit_amount": 900}, "jpy": {"unit_amount": 1500}},
    }
    assert amounts(price(**params, quote_currency="eur"), 6) == ["€18.00"]
    assert amounts(price(**params, quote_currency="JPY"), 6) == ["¥3,000"]
    assert amounts(price(**params, quote_currency="usd"), 6) == ["$20.00"]


def test_currency_option_tiers() -> None:
    params = {
        "billing_scheme": "tiered",
        "tiers_mode": "volume",
        "tiers": DOCS_TIERS,
        "currency_options": {
            "gbp": {"tiers": [{"up_to": 5, "unit_amount": 500}, {"up_to": "inf", "unit_amount": 400}]}
        },
    }
    assert amounts(price(**params, quote_currency="gbp"), 5, 6) == ["£25.00", "£24.00"]


def test_missing_currency_names_the_ones_there_are() -> None:
    with pytest.raises(NotQuotable, match=r"no chf amount \(its currencies: usd, eur\)"):
        price(unit_amount=1000, currency_options={"eur": {"unit_amount": 900}}, quote_currency="chf")
    with pytest.raises(NotQuotable, match="plans have no currency options"):
        PriceTerms.from_attrs(Kind.PLAN, catalog_canonical(Kind.PLAN, {"currency": "usd", "amount": 1}), "eur")


def test_currencies_of() -> None:
    attrs = catalog_canonical(
        Kind.PRICE, {"currency": "usd", "unit_amount": 1, "currency_options": {"jpy": {}, "eur": {}}}
    )
    assert currencies_of(Kind.PRICE, attrs) == ["usd", "eur", "jpy"]


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (1000, "usd", "$10.00"),
        (500, "jpy", "¥500"),
        (150, "eur", "€1.50"),
        (200, "gbp", "£2.00"),
        (1250, "chf", "12.50 CHF"),
        (1250, "CHF", "12.50 CHF"),
        (123456789, "usd", "$1,234,567.89"),
        (Decimal("0.05"), "usd", "$0.0005"),
        (Decimal("1000"), "usd", "$10.00"),
        (1500, "bhd", "1.500 BHD"),
        (0, "usd", "$0.00"),
        (-150, "usd", "-$1.50"),
    ],
)
def test_format_money(amount: int | Decimal, currency: str, text: str) -> None:
    assert format_money(amount, currency) == text


# --- what cannot be quoted ----------------------------------------------------------------------------------


def test_custom_unit_amount_is_not_quotable() -> None:
    with pytest.raises(NotQuotable, match="customer chooses"):
        price(custom_unit_amount={"enabled": True, "minimum": 100})


def test_a_product_is_not_quotable() -> None:
    with pytest.raises(NotQuotable):
        PriceTerms.from_attrs(Kind.PRODUCT, {"id": "x"})


def test_quantity_must_be_a_non_negative_integer() -> None:
    terms = price(unit_amount=1)
    for bad in (-1, True, 1.5):
        with pytest.raises(ValueError):
            quote(terms, bad)  # type: ignore[arg-type]


def test_quantity_above_a_bounded_last_tier() -> None:
    terms = PriceTerms("usd", "tiered", tiers=(Tier(5, Decimal(1)),), tiers_mode="graduated")
    assert quote(terms, 5).amount == 5
    with pytest.raises(NotQuotable, match="above the last tier"):
        quote(terms, 6)


# --- telling quantities -------------------------------------------------------------------------------------


def test_telling_quantities_for_a_transform_up() -> None:
    terms = plan(amount=1000, transform_usage={"divide_by": 5, "round": "up"})
    assert telling_quantities(terms) == [1, 5, 6, 10, 11]


def test_telling_quantities_for_a_transform_down_show_the_edge_below_each_step() -> None:
    terms = PriceTerms("usd", unit_amount=Decimal(10), transform=Transform(1000, "down"))
    assert telling_quantities(terms) == [1, 999, 1000, 1999, 2000]
    assert amounts(terms, *telling_quantities(terms)) == ["$0.00", "$0.00", "$0.10", "$0.10", "$0.20"]


def test_telling_quantities_for_tiers() -> None:
    graduated = price(billing_scheme="tiered", tiers_mode="graduated", tiers=DOCS_TIERS)
    assert telling_quantities(graduated) == [1, 5, 6, 10, 11]
    flat = [{"up_to": 100, "flat_amount": 1000}, {"up_to": "inf", "unit_amount": 5}]
    assert telling_quantities(price(billing_scheme="tiered", tiers_mode="volume", tiers=flat)) == [0, 1, 100, 101]


def test_telling_quantities_stay_a_handful_with_many_tiers() -> None:
    tiers = (*(Tier(n * 10, Decimal(100 - n)) for n in range(1, 30)), Tier(None, Decimal(1)))
    found = telling_quantities(PriceTerms("usd", "tiered", tiers=tiers, tiers_mode="volume"))
    assert len(found) <= 1 + 2 * 4
    assert found == sorted(set(found))
    assert {10, 11, 290, 291} <= set(found)  # the first and the last boundary are kept


def test_telling_quantities_plain_and_sub_cent() -> None:
    assert telling_quantities(price(unit_amount=1000)) == [1, 10]
    assert telling_quantities(price(unit_amount_decimal="0.05")) == [1, 10, 10000]


def test_impact_quantities_union_before_and_after() -> None:
    before = plan(amount=1000, transform_usage={"divide_by": 5, "round": "up"})
    after = plan(amount=1200, transform_usage={"divide_by": 4, "round": "up"})
    assert impact_quantities([before, after]) == [1, 4, 5, 6, 8, 9, 10, 11]
    assert quote(before, 6).formatted == "$20.00"
    assert quote(after, 6).formatted == "$24.00"
