"""Subscriber impact in words: the sentences the text and markdown views share."""

from __future__ import annotations

from compiler.changes.changeset import CurrencyAmounts, Effect, SubscriberImpact, SubscriberRead
from compiler.render.subscribers import read_lines, sentences


def impact(effect: Effect, *currencies: CurrencyAmounts, **kw: object) -> SubscriberImpact:
    n = sum(c.subscriptions for c in currencies)
    q = sum(c.quantity for c in currencies)
    return SubscriberImpact("price_old", effect, n, q, currencies, **kw)  # type: ignore[arg-type]


def test_the_issues_wording_for_a_replace() -> None:
    stay = impact(Effect.STAY, CurrencyAmounts("usd", 142, 1310, 426000))
    assert sentences(stay) == [
        "142 subscriptions (quantity 1,310) stay on the old price: $4,260.00 a month; new subscribers pay the new price"
    ]


def test_an_archive_and_its_statuses() -> None:
    archived = impact(
        Effect.STILL_BILLED, CurrencyAmounts("usd", 37, 40, 111000), statuses=(("active", 35), ("past_due", 2))
    )
    assert sentences(archived) == [
        "37 subscriptions (quantity 40; 2 past due) still bill on this price after it is archived: $1,110.00 a month"
    ]


def test_a_repricing_in_place_per_currency() -> None:
    repriced = impact(Effect.NEW_AMOUNT, CurrencyAmounts("eur", 38, 45, 114000, 136800))
    assert sentences(repriced) == [
        "38 subscriptions in eur (quantity 45) pay the new amount from their next invoice: €1,140.00 → €1,368.00 "
        "a month"
    ]


def test_amounts_in_several_currencies_are_never_added() -> None:
    stay = impact(Effect.STAY, CurrencyAmounts("eur", 1, 1, 900), CurrencyAmounts("usd", 2, 3, 3000))
    assert sentences(stay)[0].endswith(": €9.00 + $30.00 a month; new subscribers pay the new price")
    assert sentences(stay)[0].startswith("3 subscriptions (quantity 4) stay")


def test_one_subscription_reads_in_the_singular() -> None:
    one = impact(Effect.STAY, CurrencyAmounts("usd", 1, 1, 1000))
    assert sentences(one)[0].startswith("1 subscription (quantity 1) stays on the old price: $10.00 a month")


def test_metered_items_are_said_to_be_counted_not_priced() -> None:
    metered = impact(
        Effect.STILL_BILLED, CurrencyAmounts("usd", 2, 0, None, metered=2, unpriced=2), metered=2, unpriced=2
    )
    assert sentences(metered) == [
        "2 subscriptions still bill on this price after it is archived; 2 metered (counted, not priced: no "
        "quantity until usage)"
    ]


def test_nobody_on_the_price_is_said_too() -> None:
    assert sentences(impact(Effect.STILL_BILLED)) == ["no subscriptions bill on this price"]
    assert sentences(impact(Effect.NEW_AMOUNT)) == [
        "no subscriptions bill in the repriced currencies: nobody's invoice changes"
    ]
    assert sentences(impact(Effect.DEFAULT_MOVED)) == ["no subscriptions bill on the old default price price_old"]


def test_how_it_was_read_and_what_was_left_out() -> None:
    read = SubscriberRead(
        requests=103,
        prices_read=100,
        limit=100,
        uncounted=tuple(f"price.p{i}" for i in range(12)),
        basis=("a month is a twelfth",),
    )
    lines = read_lines(read)
    assert lines[0] == "Subscribers: read with 103 requests (one list per price) for 100 affected prices."
    assert lines[1] == (
        "Subscribers NOT counted for 12 more affected prices (at most 100 are read; --max-subscriber-prices N reads "
        "more): price.p0, price.p1, price.p2, price.p3, price.p4, price.p5, price.p6, price.p7, price.p8, price.p9 "
        "and 2 more."
    )
    assert lines[2] == "  a month is a twelfth"
    assert read_lines(SubscriberRead(skipped=True)) == ["Subscribers: not counted (--no-subscribers)."]
