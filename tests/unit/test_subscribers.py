"""Who is on a price: reading the subscription lists (`stripe.subscriptions`) and pricing them
(`changes.subscribers`), on Stripe-shaped objects, without a server."""

from __future__ import annotations

import ast
import threading
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import compiler.changes
from compiler.changes.changeset import CurrencyAmounts, Effect, SubscriberImpact, SubscriberRead
from compiler.changes.diff import diff
from compiler.changes.model import Catalog, Resource
from compiler.changes.subscribers import (
    MONEY_WARNING_RULES,
    affected_prices,
    monthly_amount,
    raises_an_amount,
    subscriber_report,
    summarize,
    to_monthly,
    within_limit,
)
from compiler.stripe.facts import SUBSCRIPTIONS_PATH
from compiler.stripe.fields import MANAGED_METADATA, canonical, catalog_canonical
from compiler.stripe.kinds import IDENTITY_FIELD, Kind
from compiler.stripe.state import AccountState, LiveObject
from compiler.stripe.subscriptions import Line, Target, lines_of, read_subscribers
from tests.stripe_objects import plan_view, stripe_price, stripe_subscription

EUR_OPTION = {
    "custom_unit_amount": None,
    "tax_behavior": "unspecified",
    "unit_amount": 900,
    "unit_amount_decimal": "900",
}


def attrs(**fields: Any) -> dict[str, Any]:
    return canonical(Kind.PRICE, stripe_price(**fields))


def line(quantity: int | None = 1, currency: str = "usd", status: str = "active", **kw: Any) -> Line:
    return Line(kw.pop("subscription", "sub_1"), status, currency, quantity, metered=kw.pop("metered", False), **kw)


# -- reading the lists ----------------------------------------------------------------------------------------


def test_only_billing_statuses_are_kept() -> None:
    subs = [
        stripe_subscription(id=f"sub_{status}", status=status)
        for status in (
            "active",
            "trialing",
            "past_due",
            "incomplete",
            "incomplete_expired",
            "unpaid",
            "paused",
            "canceled",
        )
    ]
    assert [(x.subscription, x.status) for x in lines_of(subs, "price_1")] == [
        ("sub_active", "active"),
        ("sub_trialing", "trialing"),
        ("sub_past_due", "past_due"),
    ]


def test_a_line_has_the_items_quantity_and_the_subscriptions_currency() -> None:
    [found] = lines_of([stripe_subscription(quantity=7, currency="eur")], "price_1")
    assert found == Line("sub_1", "active", "eur", 7, metered=False)


def test_a_metered_item_has_no_quantity() -> None:
    metered = stripe_price(
        recurring={
            "interval": "month",
            "interval_count": 1,
            "usage_type": "metered",
            "meter": "mtr_1",
            "trial_period_days": None,
        }
    )
    [found] = lines_of([stripe_subscription(metered, quantity=None)], "price_1")
    assert found.metered and found.quantity is None


def test_the_item_on_the_price_is_picked_among_several() -> None:
    sub = stripe_subscription()
    other = {**sub["items"]["data"][0], "id": "si_2", "price": stripe_price(id="price_2"), "quantity": 40}
    sub["items"]["data"].insert(0, other)
    assert [x.quantity for x in lines_of([sub], "price_1")] == [1]
    assert [x.quantity for x in lines_of([sub], "price_2")] == [40]


def test_a_plan_item_is_found_by_its_plan_id() -> None:
    sub = stripe_subscription(stripe_price(id="gold"), quantity=3)
    sub["items"]["data"][0]["plan"] = plan_view(id="gold")
    assert [x.quantity for x in lines_of([sub], "gold")] == [3]


def test_a_subscription_whose_items_stop_short_of_the_price_is_counted_without_quantity() -> None:
    sub = stripe_subscription(stripe_price(id="price_other"))
    sub["items"]["has_more"] = True
    [found] = lines_of([sub], "price_1")
    assert found == Line("sub_1", "active", "usd", None, metered=False)


class FakePager:
    """A list endpoint over canned subscriptions, `per_page` a page, recording every request."""

    def __init__(self, subscriptions: Mapping[str, list[dict[str, Any]]], per_page: int = 100) -> None:
        self.subscriptions = subscriptions
        self.per_page = per_page
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()

    def pages(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[list[dict[str, Any]]]:
        query = dict(params or {})
        on = query.get("price") or query.get("plan")
        found = self.subscriptions.get(str(on), [])
        for start in range(0, max(len(found), 1), self.per_page):
            with self._lock:
                self.requests.append((path, query))
            yield found[start : start + self.per_page]


def test_one_list_per_price_paginated_never_one_request_per_subscription() -> None:
    many = [stripe_subscription(id=f"sub_{i}") for i in range(250)]
    pager = FakePager({"price_1": many, "gold": [stripe_subscription(stripe_price(id="gold"))]}, per_page=100)
    read = read_subscribers(
        pager, [Target(Kind.PRICE, "price_1"), Target(Kind.PLAN, "gold"), Target(Kind.PRICE, "price_none")]
    )
    assert [r.target.id for r in read] == ["price_1", "gold", "price_none"]
    assert [len(r.lines) for r in read] == [250, 1, 0]
    assert [r.requests for r in read] == [3, 1, 1]
    assert sorted(q for _path, q in ((p, tuple(sorted(q.items()))) for p, q in pager.requests)) == sorted(
        [(("price", "price_1"),)] * 3 + [(("plan", "gold"),), (("price", "price_none"),)]
    )
    assert {path for path, _q in pager.requests} == {SUBSCRIPTIONS_PATH}


def test_no_targets_no_requests() -> None:
    pager = FakePager({})
    assert read_subscribers(pager, []) == []
    assert pager.requests == []


# -- a month ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "interval", "count", "monthly"),
    [
        (1000, "month", 1, Decimal(1000)),
        (12000, "year", 1, Decimal(1000)),
        (3000, "month", 3, Decimal(1000)),
        (1200, "week", 1, Decimal(5200)),
        (120, "day", 1, Decimal(3650)),
    ],
)
def test_a_period_as_a_month(amount: int, interval: str, count: int, monthly: Decimal) -> None:
    assert to_monthly(amount, interval, count) == monthly


def test_monthly_amount_uses_the_quote_calculator() -> None:
    per_5_users = attrs(transform_quantity={"divide_by": 5, "round": "up"})
    assert monthly_amount(Kind.PRICE, per_5_users, "usd", 6) == 2000  # 6 users: two blocks of 5 at $10
    assert monthly_amount(Kind.PRICE, attrs(recurring={"interval": "year", "interval_count": 1}), "usd", 3) == 250
    assert monthly_amount(Kind.PRICE, attrs(currency_options={"eur": EUR_OPTION}), "eur", 2) == 1800
    assert monthly_amount(Kind.PRICE, attrs(), "gbp", 1) is None  # no amount in that currency
    assert monthly_amount(Kind.PRICE, attrs(recurring=None, type="one_time"), "usd", 1) is None
    gold = canonical(Kind.PLAN, plan_view(interval="year", amount=24000, amount_decimal="24000"))
    assert monthly_amount(Kind.PLAN, gold, "usd", 1) == 2000


# -- summaries ----------------------------------------------------------------------------------------------------


def test_subscribers_staying_on_a_replaced_price() -> None:
    lines = [
        line(10, subscription="a"),
        line(5, subscription="b", status="trialing"),
        line(1, subscription="c", status="past_due"),
    ]
    impact = summarize(Effect.STAY, Kind.PRICE, "price_1", lines, attrs())
    assert impact.subscriptions == 3 and impact.quantity == 16
    assert impact.statuses == (("active", 1), ("trialing", 1), ("past_due", 1))
    assert impact.currencies == (CurrencyAmounts("usd", 3, 16, 16000),)
    assert impact.raised == 0


def test_amounts_stay_apart_per_currency() -> None:
    price = attrs(currency_options={"eur": EUR_OPTION})
    impact = summarize(Effect.STILL_BILLED, Kind.PRICE, "price_1", [line(2), line(3, "eur"), line(1, "eur")], price)
    assert impact.currencies == (CurrencyAmounts("eur", 2, 4, 3600), CurrencyAmounts("usd", 1, 2, 2000))


def test_the_total_is_rounded_once_after_normalising() -> None:
    weekly = attrs(recurring={"interval": "week", "interval_count": 1}, unit_amount=1, unit_amount_decimal=None)
    # each: 1 cent a week = 4.333... cents a month; three of them 13 cents, not 3 × 4
    impact = summarize(Effect.STAY, Kind.PRICE, "price_1", [line(1), line(1), line(1)], weekly)
    assert impact.currencies[0].monthly == 13


def test_metered_items_are_counted_but_not_priced() -> None:
    metered = attrs(recurring={"interval": "month", "interval_count": 1, "usage_type": "metered", "meter": "m"})
    impact = summarize(
        Effect.STAY, Kind.PRICE, "price_1", [line(None, metered=True), line(None, metered=True)], metered
    )
    assert (impact.subscriptions, impact.metered, impact.unpriced, impact.quantity) == (2, 2, 2, 0)
    assert impact.currencies == (CurrencyAmounts("usd", 2, 0, None, metered=2, unpriced=2),)


def test_a_customer_chosen_amount_is_counted_but_not_priced() -> None:
    chosen = attrs(unit_amount=None, unit_amount_decimal=None, custom_unit_amount={"enabled": True})
    impact = summarize(Effect.STAY, Kind.PRICE, "price_1", [line(1)], chosen)
    assert impact.subscriptions == 1 and impact.unpriced == 1 and impact.currencies[0].monthly is None


def test_a_repriced_option_counts_only_its_currency_and_says_who_pays_more() -> None:
    before = attrs(currency_options={"eur": EUR_OPTION})
    after = attrs(currency_options={"eur": {**EUR_OPTION, "unit_amount": 1200, "unit_amount_decimal": "1200"}})
    lines = [line(2, "eur"), line(1, "eur", status="trialing"), line(50, "usd")]
    impact = summarize(Effect.NEW_AMOUNT, Kind.PRICE, "price_1", lines, before, after, currencies=["eur"])
    assert impact.subscriptions == 2 and impact.quantity == 3
    assert impact.currencies == (CurrencyAmounts("eur", 2, 3, 2700, 3600, raised=2),)
    assert impact.raised == 2
    cheaper = summarize(Effect.NEW_AMOUNT, Kind.PRICE, "price_1", lines, after, before, currencies=["eur"])
    assert cheaper.raised == 0


def test_no_subscribers_is_a_zero_not_a_gap() -> None:
    impact = summarize(Effect.STILL_BILLED, Kind.PRICE, "price_1", [], attrs())
    assert (impact.subscriptions, impact.quantity, impact.currencies) == (0, 0, ())


def test_json_round_trips() -> None:
    impact = SubscriberImpact(
        "price_1",
        Effect.NEW_AMOUNT,
        3,
        12,
        (CurrencyAmounts("eur", 3, 12, 114000, 136800, 0, 0, 3),),
        (("active", 2), ("past_due", 1)),
    )
    assert SubscriberImpact.from_json(impact.to_json()) == impact
    read = SubscriberRead(requests=4, prices_read=3, limit=100, uncounted=("price.x",), basis=("a month",))
    assert SubscriberRead.from_json(read.to_json()) == read


# -- which prices a ChangeSet affects, and the warnings ----------------------------------------------------------


def res(kind: Kind, key: str, **params: Any) -> Resource:
    params = {IDENTITY_FIELD[kind]: key, **params}
    if kind is not Kind.METER:
        params["metadata"] = {**params.get("metadata", {}), **MANAGED_METADATA}
    return Resource(kind, key, params, catalog_canonical(kind, params))


def live(resource: Resource, object_id: str, **override: Any) -> LiveObject:
    return LiveObject(resource.kind, object_id, resource.key, True, {**resource.attrs, **override})


MONTHLY: dict[str, Any] = {"product": "suite", "currency": "usd", "recurring": {"interval": "month"}}
SUITE = res(Kind.PRODUCT, "suite", name="Suite", default_price="seats")
SEATS = res(Kind.PRICE, "seats", unit_amount=1000, **MONTHLY)
SUPPORT = res(Kind.PRICE, "support", unit_amount=500, **MONTHLY, currency_options={"eur": {"unit_amount": 450}})
LEGACY = res(Kind.PRICE, "legacy", unit_amount=700, product="suite", currency="usd", recurring={"interval": "year"})
ADDON = res(Kind.PRODUCT, "addon", name="Add-on", default_price="addon_basic")
BASIC = res(Kind.PRICE, "addon_basic", unit_amount=300, **{**MONTHLY, "product": "addon"})
PLUS = res(Kind.PRICE, "addon_plus", unit_amount=600, **{**MONTHLY, "product": "addon"})
ACCOUNT = AccountState.of(
    [
        live(SUITE, "suite"),
        live(SEATS, "price_seats"),
        live(SUPPORT, "price_support"),
        live(LEGACY, "price_legacy"),
        live(ADDON, "addon"),
        live(BASIC, "price_basic"),
        live(PLUS, "price_plus"),
    ]
)


def edited_catalog(*, eur: int = 540) -> Catalog:
    """Seats repriced (a replace), support's eur amount changed in place, legacy removed (archived), and the
    add-on's default price moved from basic to plus."""
    return Catalog.of(
        [
            SUITE,
            res(Kind.PRICE, "seats", unit_amount=1200, **MONTHLY),
            res(Kind.PRICE, "support", unit_amount=500, **MONTHLY, currency_options={"eur": {"unit_amount": eur}}),
            res(Kind.PRODUCT, "addon", name="Add-on", default_price="addon_plus"),
            BASIC,
            PLUS,
        ]
    )


def subs_on(price: Resource, price_id: str, *quantities: int, currency: str = "usd", **fields: Any) -> list[Any]:
    live_price = stripe_price(
        id=price_id, lookup_key=price.key, **{k: v for k, v in price.params.items() if k in ("currency", "unit_amount")}
    )
    return [
        stripe_subscription(live_price, q, id=f"sub_{price_id}_{currency}_{n}", currency=currency, **fields)
        for n, q in enumerate(quantities)
    ]


def test_affected_prices_in_order_of_who_is_hurt_most() -> None:
    changeset = diff(edited_catalog(), ACCOUNT)
    found = [(a.effect, a.address, a.target.id, a.currencies) for a in affected_prices(changeset, ACCOUNT)]
    assert found == [
        (Effect.NEW_AMOUNT, "price.support", "price_support", ("eur",)),
        (Effect.STILL_BILLED, "price.legacy", "price_legacy", None),
        (Effect.STAY, "price.seats", "price_seats", None),
        (Effect.DEFAULT_MOVED, "product.addon", "price_basic", None),
    ]


def test_the_default_price_of_a_product_known_by_its_pricebook_id_is_found() -> None:
    # a product adopted from an account where Stripe made its id up: its catalog id is not its Stripe id
    account = AccountState.of([live(ADDON, "prod_Q9live") if o.id == "addon" else o for o in ACCOUNT.objects])
    moved = [(a.address, a.target.id) for a in affected_prices(diff(edited_catalog(), account), account)]
    assert ("product.addon", "price_basic") in moved


def test_a_replaced_default_price_is_read_once_for_its_replace() -> None:
    # seats is suite's default: the replace moves the default too, and the old price is read once, as a replace
    changeset = diff(edited_catalog(), ACCOUNT)
    targets = [a.target.id for a in affected_prices(changeset, ACCOUNT)]
    assert targets.count("price_seats") == 1


def test_an_unchanged_catalog_affects_nothing() -> None:
    catalog = Catalog.of([SUITE, SEATS, SUPPORT, LEGACY, ADDON, BASIC, PLUS])
    assert affected_prices(diff(catalog, ACCOUNT), ACCOUNT) == []


def test_within_limit_reads_the_first_and_names_the_rest() -> None:
    affected = affected_prices(diff(edited_catalog(), ACCOUNT), ACCOUNT)
    read, left = within_limit(affected, 2)
    assert [a.address for a in read] == ["price.support", "price.legacy"]
    assert [a.address for a in left] == ["price.seats", "product.addon"]
    assert within_limit(affected, None) == (affected, [])


def test_the_report_counts_each_affected_price_with_one_list() -> None:
    pager = FakePager(
        {
            "price_seats": subs_on(SEATS, "price_seats", 10, 4),
            "price_support": subs_on(SUPPORT, "price_support", 2, 1, currency="eur")
            + subs_on(SUPPORT, "price_support", 9),
            "price_legacy": subs_on(LEGACY, "price_legacy", 3),
            "price_basic": subs_on(BASIC, "price_basic", 1, 1, 1),
        }
    )
    catalog = edited_catalog()
    report = subscriber_report(diff(catalog, ACCOUNT), catalog, ACCOUNT, pager)
    assert report.read.requests == 4 == len(pager.requests)
    assert report.read.prices_read == 4 and report.read.uncounted == ()
    seats = report.impacts["price.seats"]
    assert (seats.effect, seats.subscriptions, seats.quantity) == (Effect.STAY, 2, 14)
    assert seats.currencies == (CurrencyAmounts("usd", 2, 14, 14000),)  # what they go on paying: the old price
    support = report.impacts["price.support"]
    assert support.currencies == (CurrencyAmounts("eur", 2, 3, 1350, 1620, raised=2),)  # the usd one is untouched
    legacy = report.impacts["price.legacy"]
    assert legacy.currencies == (CurrencyAmounts("usd", 1, 3, 175),)  # 3 × $7.00 a year = $1.75 a month
    assert report.impacts["product.addon"].subscriptions == 3
    rules = sorted((w.rule, w.address) for w in report.warnings)
    assert rules == [
        ("default-price-moves-with-subscribers", "product.addon"),
        ("existing-subscribers-pay-more", "price.support"),
        ("subscribers-without-replacement", "price.legacy"),  # nothing else bills suite yearly in usd
    ]
    pay_more = next(w for w in report.warnings if w.rule == "existing-subscribers-pay-more")
    assert pay_more.message == (
        "its amounts change in place: 2 subscriptions in eur pay more from their next invoice: "
        "€13.50 → €16.20 a month"
    )


def test_a_replacement_in_the_catalog_silences_the_warning() -> None:
    yearly = res(
        Kind.PRICE, "suite_yearly", unit_amount=9000, product="suite", currency="usd", recurring={"interval": "year"}
    )
    catalog = Catalog.of([*edited_catalog(), yearly])
    pager = FakePager({"price_legacy": subs_on(LEGACY, "price_legacy", 3)})
    report = subscriber_report(diff(catalog, ACCOUNT), catalog, ACCOUNT, pager)
    assert "subscribers-without-replacement" not in {w.rule for w in report.warnings}


def test_nobody_on_the_prices_no_warnings_about_them() -> None:
    catalog = edited_catalog()
    report = subscriber_report(diff(catalog, ACCOUNT), catalog, ACCOUNT, FakePager({}))
    assert report.warnings == ()
    assert all(i.subscriptions == 0 for i in report.impacts.values())
    assert report.read.requests == 4


def test_a_cheaper_option_is_no_warning() -> None:
    catalog = edited_catalog(eur=400)
    pager = FakePager({"price_support": subs_on(SUPPORT, "price_support", 2, currency="eur")})
    report = subscriber_report(diff(catalog, ACCOUNT), catalog, ACCOUNT, pager)
    assert "existing-subscribers-pay-more" not in {w.rule for w in report.warnings}


def test_over_the_limit_the_rest_is_named_and_still_warned_about_from_the_amounts() -> None:
    catalog = edited_catalog()
    pager = FakePager({})
    report = subscriber_report(diff(catalog, ACCOUNT), catalog, ACCOUNT, pager, limit=0)
    assert pager.requests == [] and report.impacts == {}
    assert report.read.uncounted == ("price.support", "price.legacy", "price.seats", "product.addon")
    [warning] = report.warnings
    assert warning.rule == "existing-subscribers-pay-more" and "subscribers not counted" in warning.message


def test_no_subscribers_reads_nothing_and_still_warns_who_pays_more() -> None:
    catalog = edited_catalog()
    report = subscriber_report(diff(catalog, ACCOUNT), catalog, ACCOUNT, None)
    assert report.read.skipped and report.impacts == {}
    [warning] = report.warnings
    assert "--no-subscribers" in warning.message and "eur" in warning.message


def test_some_pay_more_and_some_less_when_tiers_are_reshaped() -> None:
    before = attrs()  # $10.00 a unit
    after = attrs(
        billing_scheme="tiered",
        tiers_mode="volume",
        unit_amount=None,
        unit_amount_decimal=None,
        tiers=[
            {
                "up_to": 5,
                "unit_amount": 800,
                "unit_amount_decimal": None,
                "flat_amount": None,
                "flat_amount_decimal": None,
            },
            {
                "up_to": None,
                "unit_amount": 1200,
                "unit_amount_decimal": None,
                "flat_amount": None,
                "flat_amount_decimal": None,
            },
        ],
    )
    impact = summarize(Effect.NEW_AMOUNT, Kind.PRICE, "price_1", [line(2), line(20)], before, after, currencies=["usd"])
    assert impact.raised == 1
    assert raises_an_amount(Kind.PRICE, before, after, "usd")
    assert raises_an_amount(Kind.PRICE, after, before, "usd")  # the other way round, the small ones pay more


def test_money_warnings_come_from_their_registry() -> None:
    """Unique stable ids with a meaning and a way out, and every `MoneyWarning(...)` of compiler/changes takes
    its rule from the registry, never a literal."""
    ids = [rule.id for rule in MONEY_WARNING_RULES]
    assert len(ids) == len(set(ids)) and all(rule.means and rule.way_out for rule in MONEY_WARNING_RULES)
    literal = []
    for path in sorted(Path(compiler.changes.__file__).resolve().parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            if node.func.id == "MoneyWarning" and isinstance(node.args[1], ast.Constant | ast.JoinedStr):
                literal.append(f"{path.name}:{node.lineno}")
    assert literal == []
