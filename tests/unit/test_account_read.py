"""Reading the account as several chains side by side: the state is the one a single chain per list reads.

Each list is read here both ways from the same fake list endpoints (`tests.stripe_lists`): once with one chain
per list (no round trip to hide), once cut into as many chains as the reader will make (a long round trip at
25 requests a second), over accounts whose `created` values come in every shape (spread, bursts, one second for
all, out of order), with objects created and archived while the read is under way.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.errors import StripeApiError
from compiler.stripe.kinds import Kind
from compiler.stripe.state import MAX_CHAINS, ExpectedSizes, ListPage, cut_points, read_account
from tests.stripe_lists import StripeLists
from tests.stripe_objects import stripe_price, stripe_product

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BASE = 1_700_000_000


def price(n: int, created: int, *, active: bool = True) -> dict[str, Any]:
    return stripe_price(id=f"price_{n}", lookup_key=f"key_{n}", created=created, active=active, unit_amount=n)


def account(created: list[int], *, archived: int = 0, products: int = 0) -> dict[str, list[dict[str, Any]]]:
    """Active prices with these `created` values (in list order, newest first as given), `archived` archived
    ones, and products."""
    prices = [price(n, t) for n, t in enumerate(created)]
    prices += [price(10_000 + n, BASE + n, active=False) for n in range(archived)]
    return {
        "/v1/prices": prices,
        "/v1/products": [stripe_product(id=f"prod_{n}", created=BASE + n // 3) for n in range(products)],
    }


def one_chain(objects: Mapping[str, list[dict[str, Any]]]) -> StripeLists:
    return StripeLists(objects, pace=25.0, round_trip=0.0)


def many_chains(objects: Mapping[str, list[dict[str, Any]]], **kwargs: Any) -> StripeLists:
    return StripeLists(objects, pace=25.0, round_trip=2.0, **kwargs)  # room for every chain the reader may make


def cut_requests(lists: StripeLists) -> int:
    return sum(1 for _, q in lists.calls if "created" in q)


@st.composite
def created_values(draw: st.DrawFn) -> list[int]:
    """`created` seconds in list order: bursts and gaps, newest first, sometimes not quite in order."""
    seconds: list[int] = []
    now = BASE + 100_000
    for _ in range(draw(st.integers(1, 6))):  # about 3,000 objects at most
        now -= draw(st.sampled_from([0, 1, 3, 60, 86_400]))
        per_second = draw(st.sampled_from([1, 5, 25, 100, 400]))
        span = draw(st.integers(1, 500 // per_second + 1))
        for second in range(span):
            seconds += [now - second] * draw(st.integers(0, per_second))
        now -= span
    if draw(st.booleans()) and len(seconds) > 2:  # a list order that does not follow `created` exactly
        i, j = sorted(draw(st.lists(st.integers(0, len(seconds) - 1), min_size=2, max_size=2, unique=True)))
        seconds[i], seconds[j] = seconds[j], seconds[i]
    return seconds


@SETTINGS
@given(
    created=created_values(),
    archived=st.integers(0, 250),
    products=st.integers(0, 450),
    hint=st.sampled_from([None, 0.1, 1.0, 10.0]),
)
def test_many_chains_read_exactly_what_one_chain_reads(
    created: list[int], archived: int, products: int, hint: float | None
) -> None:
    objects = account(created, archived=archived, products=products)
    expected = None if hint is None else ExpectedSizes(int(products * hint), int(len(created) * hint))
    single = one_chain(objects)
    alone = read_account(single, expected=expected)
    assert cut_requests(single) == 0
    lists = many_chains(objects)
    state = read_account(lists, expected=expected)
    assert state.fingerprint == alone.fingerprint and state.objects == alone.objects
    assert len(state.of_kind(Kind.PRICE)) == len(created) + archived  # every price, each once
    assert len(state.of_kind(Kind.PRODUCT)) == products
    # no object came in two chains' pages: the ranges of a list never overlap
    seen = Counter(o["id"] for path, q in lists.calls for o in _served(objects, path, q))
    assert not [i for i, n in seen.items() if n > 1]


def _served(objects: Mapping[str, list[dict[str, Any]]], path: str, query: Mapping[str, Any]) -> list[dict[str, Any]]:
    """What a request was answered with (served again from an account nobody changes)."""
    return StripeLists(objects).list_page(path, query).objects


def test_a_long_list_is_read_in_chains_over_disjoint_created_ranges() -> None:
    created = [BASE + 4000 - n // 25 for n in range(4000)]  # written at 25 a second, as an apply does
    lists = many_chains(account(created))
    state = read_account(lists, expected=ExpectedSizes(0, 4000))
    assert len(state.of_kind(Kind.PRICE)) == 4000
    ranges = {
        (q["created"].get("gte"), q["created"].get("lt"))
        for q in lists.requests_to("/v1/prices", "true")
        if "created" in q and "starting_after" not in q
    }
    assert len(ranges) >= 4  # read by several chains side by side
    pages = len(lists.requests_to("/v1/prices", "true"))
    assert pages <= 40 + MAX_CHAINS  # every chain but one may end in a part-filled page, nothing more


def test_one_second_for_every_object_cannot_be_cut_and_is_read_whole() -> None:
    lists = many_chains(account([BASE] * 750))
    state = read_account(lists, expected=ExpectedSizes(0, 750))
    assert len(state.of_kind(Kind.PRICE)) == 750
    assert len(lists.requests_to("/v1/prices", "true")) == 8


@SETTINGS
@given(created=created_values(), seed=st.integers(0, 2**32))
def test_objects_created_during_the_read_are_read_at_most_once_and_nothing_else_is_missed(
    created: list[int], seed: int
) -> None:
    rng = random.Random(seed)
    newest = max(created, default=BASE)
    made: list[str] = []

    def create(lists: StripeLists, path: str, query: Mapping[str, Any]) -> None:
        if path == "/v1/prices" and rng.random() < 0.3:
            number = 20_000 + len(made)
            made.append(f"price_{number}")
            lists.insert("/v1/prices", price(number, newest + rng.randint(0, 2)))  # now, or a little later

    lists = many_chains(account(created), before_page=create)
    state = read_account(lists, expected=ExpectedSizes(0, len(created)))
    ids = Counter(o.id for o in state.objects)
    assert not [i for i, n in ids.items() if n > 1]
    assert {f"price_{n}" for n in range(len(created))} <= set(ids)
    assert set(ids) - {f"price_{n}" for n in range(len(created))} <= set(made)


@SETTINGS
@given(created=created_values(), seed=st.integers(0, 2**32))
def test_a_price_archived_during_the_read_is_never_missed(created: list[int], seed: int) -> None:
    rng = random.Random(seed)
    archived: list[int] = []

    def archive(lists: StripeLists, path: str, query: Mapping[str, Any]) -> None:
        if path == "/v1/prices" and created and rng.random() < 0.3:
            number = rng.randrange(len(created))
            archived.append(number)
            lists.update("/v1/prices", f"price_{number}", active=False)

    lists = many_chains(account(created), before_page=archive)
    state = read_account(lists, expected=ExpectedSizes(0, len(created)))
    assert sorted(o.id for o in state.of_kind(Kind.PRICE)) == sorted(f"price_{n}" for n in range(len(created)))


def test_a_chain_that_repeats_its_page_is_an_error_not_an_endless_read() -> None:
    created = [BASE + 4000 - n // 25 for n in range(4000)]
    repeated: list[Mapping[str, Any]] = []

    class Repeating(StripeLists):
        """Answers the first cursor of a cut-off chain with that chain's first page again."""

        def list_page(self, path: str, params: Mapping[str, Any] | None = None) -> ListPage:
            query = dict(params or {})
            if "created" in query and "starting_after" in query and query.get("active") == "true" and not repeated:
                repeated.append(query)
                query.pop("starting_after")
            return super().list_page(path, query)

    with pytest.raises(StripeApiError) as info:
        read_account(Repeating(account(created), pace=25.0, round_trip=2.0), expected=ExpectedSizes(0, 4000))
    assert info.value.rule == "list-cursor" and repeated


def test_the_object_bound_holds_for_a_whole_list_over_all_its_chains(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRICEBOOK_MAX_LIST_OBJECTS", "1000")
    created = [BASE + 4000 - n // 25 for n in range(4000)]
    lists = many_chains(account(created))
    with pytest.raises(StripeApiError) as info:
        read_account(lists, expected=ExpectedSizes(0, 4000))
    assert info.value.rule == "list-too-long"
    assert len({str(q["created"]) for q in lists.requests_to("/v1/prices", "true") if "created" in q}) > 1
    assert len(lists.requests_to("/v1/prices", "true")) < 20 + MAX_CHAINS  # stopped near 1000, not at 4000


def test_cut_points_fall_strictly_stay_above_the_range_and_run_out_with_the_seconds() -> None:
    # 10 objects a second: parts of 100 objects are 10 seconds apart, the first keeps the rest of second 1000
    assert cut_points(1000, None, 10.0, [100, 100, 100, 100]) == [991, 981, 971]
    assert cut_points(1000, 975, 10.0, [100, 100, 100, 100]) == [991, 981]  # no part at or below the range
    # denser than one part a second: still one second apart at least
    assert cut_points(1000, None, 1000.0, [100, 100, 100]) == [1000, 999]
    assert cut_points(1000, 999, 1000.0, [100, 100, 100]) == [1000]
    assert cut_points(1000, None, 0.0, [100, 100]) == []
