"""Prices through the real SDK: Stripe's response shapes and its cross-field rules."""

from __future__ import annotations

from typing import Any, cast

import pytest
import stripe

from compiler.emulator import EmulatorHandle

TIERED: dict[str, Any] = {
    "currency": "usd",
    "billing_scheme": "tiered",
    "tiers_mode": "graduated",
    "tiers": [
        {"up_to": 5, "unit_amount": 700},
        {"up_to": 10, "unit_amount_decimal": "650.5", "flat_amount": 100},
        {"up_to": "inf", "unit_amount": 600},
    ],
    "recurring": {"interval": "month"},
}


def create(client: stripe.StripeClient, **params: Any) -> stripe.Price:
    return client.v1.prices.create(params={"product": "suite", **params})  # type: ignore[typeddict-item]


def refused(client: stripe.StripeClient, **params: Any) -> stripe.InvalidRequestError:
    with pytest.raises(stripe.InvalidRequestError) as info:
        create(client, **params)
    assert info.value.http_status == 400
    return info.value


# -- shapes ---------------------------------------------------------------------------------------------------


def test_defaults_are_filled_in(client: stripe.StripeClient, emulator: EmulatorHandle) -> None:
    price = create(client, currency="usd", unit_amount=1000, recurring={"interval": "month"})
    assert price.object == "price"
    assert price.billing_scheme == "per_unit"
    assert price.tax_behavior == "unspecified"
    assert price.type == "recurring"
    assert price.active is True
    assert price.livemode is False
    assert price.metadata.to_dict() == {}
    assert price.nickname is None and price.lookup_key is None
    assert price.transform_quantity is None and price.tiers_mode is None
    assert price.recurring is not None
    assert price.recurring.interval_count == 1
    assert price.recurring.usage_type == "licensed"
    assert price.recurring.meter is None
    assert price.unit_amount == 1000
    _, _, raw = emulator.raw("GET", f"/v1/prices/{price.id}")
    assert raw["unit_amount_decimal"] == "1000"  # a string on the wire (the SDK makes it a Decimal)


def test_one_time_price_has_no_recurring(client: stripe.StripeClient) -> None:
    price = create(client, currency="usd", unit_amount=5)
    assert price.type == "one_time"
    assert price.recurring is None


def test_decimal_only_price_has_null_unit_amount(client: stripe.StripeClient) -> None:
    price = create(client, currency="usd", unit_amount_decimal="0.5")
    assert price.unit_amount is None
    assert str(price.unit_amount_decimal) == "0.5"


def test_unexpanded_tiered_price_has_no_tiers_key(client: stripe.StripeClient, emulator: EmulatorHandle) -> None:
    price = create(client, **TIERED)
    assert "tiers" not in price
    assert "currency_options" not in price
    status, _, raw = emulator.raw("GET", f"/v1/prices/{price.id}")
    assert status == 200
    assert "tiers" not in raw
    assert raw["unit_amount"] is None


def test_expanded_tiers_have_null_last_up_to_and_decimal_strings(emulator: EmulatorHandle) -> None:
    client = emulator.client()
    client.v1.products.create(params={"id": "suite", "name": "Suite"})
    price = create(client, **TIERED)
    status, _, raw = emulator.raw("GET", f"/v1/prices/{price.id}?expand[]=tiers")
    assert status == 200
    assert raw["tiers"] == [
        {
            "flat_amount": None,
            "flat_amount_decimal": None,
            "unit_amount": 700,
            "unit_amount_decimal": "700",
            "up_to": 5,
        },
        {
            "flat_amount": 100,
            "flat_amount_decimal": "100",
            "unit_amount": None,
            "unit_amount_decimal": "650.5",
            "up_to": 10,
        },
        {
            "flat_amount": None,
            "flat_amount_decimal": None,
            "unit_amount": 600,
            "unit_amount_decimal": "600",
            "up_to": None,
        },
    ]


def test_expand_tiers_on_create_and_list(client: stripe.StripeClient) -> None:
    price = create(client, **TIERED, expand=["tiers"])
    assert price.tiers is not None and len(price.tiers) == 3
    page = client.v1.prices.list(params={"expand": ["data.tiers"]})
    assert page.data[0].tiers is not None and page.data[0].tiers[2].up_to is None


def test_list_expand_without_data_prefix_is_refused(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.prices.list(params={"expand": ["tiers"]})
    assert info.value.user_message == (
        "This property cannot be expanded (tiers). You may want to try expanding 'data.tiers' instead."
    )


def test_unknown_expansion_is_refused(client: stripe.StripeClient) -> None:
    price = create(client, currency="usd", unit_amount=5)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.prices.retrieve(price.id, params={"expand": ["nickname"]})


def test_currency_options_include_the_top_level_currency_when_expanded(client: stripe.StripeClient) -> None:
    price = create(client, currency="usd", unit_amount=1000, currency_options={"eur": {"unit_amount": 900}})
    assert "currency_options" not in price
    full = client.v1.prices.retrieve(price.id, params={"expand": ["currency_options"]})
    assert full.currency_options is not None
    options = full.currency_options.to_dict()
    assert set(options) == {"usd", "eur"}
    assert options["usd"]["unit_amount"] == 1000
    assert options["eur"]["unit_amount"] == 900


# -- parameter validation from the SDK's params ---------------------------------------------------------------


def test_unknown_parameter(client: stripe.StripeClient) -> None:
    err = refused(client, currency="usd", unit_amount=5, colour="red")
    assert (err.code, err.param) == ("parameter_unknown", "colour")


def test_missing_currency(client: stripe.StripeClient) -> None:
    err = refused(client, unit_amount=5)
    assert (err.code, err.param) == ("parameter_missing", "currency")


def test_float_amount_is_an_invalid_integer(client: stripe.StripeClient) -> None:
    err = refused(client, currency="usd", unit_amount=7840.000000000001)
    assert (err.code, err.param) == ("parameter_invalid_integer", "unit_amount")
    assert "Invalid integer: 7840.000000000001" in str(err.user_message)


def test_enum_outside_the_literal_is_refused(client: stripe.StripeClient) -> None:
    err = refused(client, currency="usd", unit_amount=5, recurring={"interval": "fortnight"})
    assert err.param == "recurring[interval]"


def test_nested_param_uses_bracket_notation(client: stripe.StripeClient) -> None:
    tiers = [{"up_to": "ten", "unit_amount": 1}, {"up_to": "inf", "unit_amount": 1}]
    err = refused(client, currency="usd", billing_scheme="tiered", tiers_mode="volume", tiers=tiers)
    assert (err.code, err.param) == ("parameter_invalid_integer", "tiers[0][up_to]")


def test_empty_string_for_a_field_that_cannot_be_unset(client: stripe.StripeClient) -> None:
    err = refused(client, currency="usd", unit_amount=5, nickname="")
    assert (err.code, err.param) == ("parameter_invalid_empty", "nickname")


# -- cross-field rules --------------------------------------------------------------------------------------------


def test_both_amount_fields(client: stripe.StripeClient) -> None:
    err = refused(client, currency="usd", unit_amount=0, unit_amount_decimal="0")
    assert err.code == "parameters_exclusive"
    assert "unit_amount, unit_amount_decimal" in str(err.user_message)


def test_per_unit_needs_an_amount(client: stripe.StripeClient) -> None:
    err = refused(client, currency="usd")
    assert err.code == "parameter_missing"
    assert err.param == "unit_amount"


def test_tiers_with_transform(client: stripe.StripeClient) -> None:
    err = refused(client, **TIERED, transform_quantity={"divide_by": 5, "round": "up"})
    assert err.user_message == "You may only specify one of these parameters: tiers, transform_quantity."


def test_tiers_need_billing_scheme_tiered(client: stripe.StripeClient) -> None:
    err = refused(client, currency="usd", tiers=[{"up_to": "inf", "unit_amount": 1}], tiers_mode="volume")
    assert err.param in ("tiers", "tiers_mode")


def test_tiered_without_tiers_mode(client: stripe.StripeClient) -> None:
    params = {k: v for k, v in TIERED.items() if k != "tiers_mode"}
    err = refused(client, **params)
    assert (err.code, err.param) == ("parameter_missing", "tiers_mode")


def test_tiered_without_tiers(client: stripe.StripeClient) -> None:
    params = {k: v for k, v in TIERED.items() if k != "tiers"}
    err = refused(client, **params)
    assert (err.code, err.param) == ("parameter_missing", "tiers")


def test_tiered_forbids_top_level_amount(client: stripe.StripeClient) -> None:
    err = refused(client, **TIERED, unit_amount=5)
    assert err.code == "parameters_exclusive"


def test_last_tier_must_be_inf(client: stripe.StripeClient) -> None:
    tiers = [{"up_to": 5, "unit_amount": 1}, {"up_to": 10, "unit_amount": 1}]
    err = refused(client, **{**TIERED, "tiers": tiers})
    assert err.param == "tiers[1][up_to]"


def test_inf_only_last(client: stripe.StripeClient) -> None:
    tiers = [{"up_to": "inf", "unit_amount": 1}, {"up_to": 10, "unit_amount": 1}]
    err = refused(client, **{**TIERED, "tiers": tiers})
    assert err.param == "tiers[0][up_to]"


def test_tier_bounds_increase(client: stripe.StripeClient) -> None:
    tiers = [{"up_to": 10, "unit_amount": 1}, {"up_to": 10, "unit_amount": 1}, {"up_to": "inf", "unit_amount": 1}]
    err = refused(client, **{**TIERED, "tiers": tiers})
    assert err.param == "tiers[1][up_to]"


def test_tier_needs_an_amount(client: stripe.StripeClient) -> None:
    tiers = [{"up_to": 10, "unit_amount": 1}, {"up_to": "inf"}]
    err = refused(client, **{**TIERED, "tiers": tiers})
    assert err.user_message == "An entry in the tiers array is missing an amount."
    assert err.param == "tiers[1]"


def test_tier_zero_counts_as_an_amount(client: stripe.StripeClient) -> None:
    tiers = [{"up_to": 10, "unit_amount": 0}, {"up_to": "inf", "flat_amount": 0}]
    assert create(client, **{**TIERED, "tiers": tiers}).billing_scheme == "tiered"


def test_tier_two_unit_amounts(client: stripe.StripeClient) -> None:
    tiers = [{"up_to": "inf", "unit_amount": 1, "unit_amount_decimal": "1"}]
    err = refused(client, **{**TIERED, "tiers": tiers})
    assert err.code == "parameters_exclusive"


def test_decimal_places_limit(client: stripe.StripeClient) -> None:
    err = refused(client, currency="usd", unit_amount_decimal="0.1234567890123")
    assert err.param == "unit_amount_decimal"
    assert create(client, currency="usd", unit_amount_decimal="0.123456789012").unit_amount is None


def test_negative_amount(client: stripe.StripeClient) -> None:
    err = refused(client, currency="usd", unit_amount=-1)
    assert err.param == "unit_amount"


@pytest.mark.parametrize(
    ("interval", "count", "ok"),
    [("month", 36, True), ("month", 37, False), ("year", 4, False), ("day", 1095, True), ("day", 1096, False)],
)
def test_interval_limits(client: stripe.StripeClient, interval: str, count: int, ok: bool) -> None:
    params = {"currency": "usd", "unit_amount": 5, "recurring": {"interval": interval, "interval_count": count}}
    if ok:
        assert create(client, **params).recurring is not None
    else:
        assert refused(client, **params).param == "recurring[interval_count]"


def test_custom_unit_amount_is_enabled_or_absent(client: stripe.StripeClient) -> None:
    # "Pass in `true` to enable `custom_unit_amount`, otherwise omit `custom_unit_amount`": without it, no amount
    err = refused(client, currency="usd", custom_unit_amount={"enabled": False, "minimum": 100})
    assert err.param == "unit_amount"
    assert create(client, currency="usd", custom_unit_amount={"enabled": True}).custom_unit_amount is not None


def test_custom_unit_amount_is_not_tiered(client: stripe.StripeClient) -> None:
    err = refused(client, **{**TIERED, "custom_unit_amount": {"enabled": True}})
    assert err.code == "parameters_exclusive"


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"unit_amount": 150}, "unit_amount"),
        ({"currency_options": {"isk": {"unit_amount": 150}}}, "currency_options[isk][unit_amount]"),
    ],
)
def test_isk_amounts_are_whole_kronur(client: stripe.StripeClient, params: dict[str, Any], param: str) -> None:
    base = {"currency": "isk", "unit_amount": 500} if "unit_amount" in params else {"currency": "usd", "unit_amount": 5}
    err = refused(client, **{**base, **params})
    assert (err.code, err.param) == ("invalid_charge_amount_no_decimal_compatible", param)


def test_interval_count_must_be_positive(client: stripe.StripeClient) -> None:
    err = refused(client, currency="usd", unit_amount=5, recurring={"interval": "month", "interval_count": 0})
    assert err.param == "recurring[interval_count]"


@pytest.mark.parametrize("currency", ["xyz", "USD"])
def test_unsupported_currency(client: stripe.StripeClient, currency: str) -> None:
    err = refused(client, currency=currency, unit_amount=5)
    assert err.param == "currency"
    assert str(err.user_message).startswith(f"Invalid currency: {currency}.")


def test_currency_option_equal_to_top_level_currency(client: stripe.StripeClient) -> None:
    err = refused(client, currency="usd", unit_amount=5, currency_options={"usd": {"unit_amount": 5}})
    assert "matches the top-level currency" in str(err.user_message)


def test_currency_option_needs_an_amount(client: stripe.StripeClient) -> None:
    err = refused(client, currency="usd", unit_amount=5, currency_options={"eur": {"tax_behavior": "exclusive"}})
    assert err.param == "currency_options[eur][unit_amount]"


def test_product_must_exist(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.prices.create(params={"product": "nope", "currency": "usd", "unit_amount": 5})
    assert (info.value.code, info.value.param) == ("resource_missing", "product")


def test_product_or_product_data(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.prices.create(params={"currency": "usd", "unit_amount": 5})
    assert info.value.param == "product"
    price = client.v1.prices.create(params={"currency": "usd", "unit_amount": 5, "product_data": {"name": "Inline"}})
    assert client.v1.products.retrieve(str(price.product)).name == "Inline"


# -- lookup keys ----------------------------------------------------------------------------------------------


def test_lookup_key_taken_unless_transferred(client: stripe.StripeClient) -> None:
    first = create(client, currency="usd", unit_amount=5, lookup_key="std")
    err = refused(client, currency="usd", unit_amount=6, lookup_key="std")
    assert err.param == "lookup_key"
    assert first.id in str(err.user_message)
    second = create(client, currency="usd", unit_amount=6, lookup_key="std", transfer_lookup_key=True)
    assert second.lookup_key == "std"
    assert client.v1.prices.retrieve(first.id).lookup_key is None


def test_lookup_keys_filter_and_limit(client: stripe.StripeClient) -> None:
    create(client, currency="usd", unit_amount=5, lookup_key="a")
    create(client, currency="usd", unit_amount=5, lookup_key="b")
    found = client.v1.prices.list(params={"lookup_keys": ["a", "zzz"]})
    assert [p.lookup_key for p in found.data] == ["a"]
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.prices.list(params={"lookup_keys": [f"k{i}" for i in range(11)]})
    assert info.value.http_status == 400
    assert info.value.param == "lookup_keys"


# -- update ---------------------------------------------------------------------------------------------------


def test_only_mutable_fields_on_update(client: stripe.StripeClient) -> None:
    price = create(client, currency="usd", unit_amount=5)
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.prices.update(price.id, params=cast(Any, {"unit_amount": 6}))
    assert (info.value.code, info.value.param) == ("parameter_unknown", "unit_amount")
    updated = client.v1.prices.update(
        price.id, params={"nickname": "n", "metadata": {"managed_by": "pricebook"}, "lookup_key": "k"}
    )
    assert (updated.nickname, updated.lookup_key) == ("n", "k")
    assert updated.metadata.to_dict() == {"managed_by": "pricebook"}


def test_tax_behavior_fixed_once_set(client: stripe.StripeClient) -> None:
    open_price = create(client, currency="usd", unit_amount=5)
    assert client.v1.prices.update(open_price.id, params={"tax_behavior": "exclusive"}).tax_behavior == "exclusive"
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.prices.update(open_price.id, params={"tax_behavior": "inclusive"})
    assert info.value.param == "tax_behavior"


def test_archive_and_list_by_active(client: stripe.StripeClient) -> None:
    kept = create(client, currency="usd", unit_amount=5)
    archived = create(client, currency="usd", unit_amount=6)
    client.v1.prices.update(archived.id, params={"active": False})
    assert [p.id for p in client.v1.prices.list(params={"active": True}).data] == [kept.id]
    assert [p.id for p in client.v1.prices.list(params={"active": False}).data] == [archived.id]


def test_price_list_without_active_lists_active_prices(client: stripe.StripeClient) -> None:
    kept = create(client, currency="usd", unit_amount=5, lookup_key="kept")
    archived = create(client, currency="usd", unit_amount=6, lookup_key="gone")
    client.v1.prices.update(archived.id, params={"active": False})
    assert [p.id for p in client.v1.prices.list().data] == [kept.id]
    # ... but a lookup_keys query without `active` also returns archived prices (a third-party report).
    assert {p.id for p in client.v1.prices.list(params={"lookup_keys": ["kept", "gone"]}).data} == {
        kept.id,
        archived.id,
    }


# -- lists ----------------------------------------------------------------------------------------------------


def test_lists_are_newest_first_and_page_with_cursors(client: stripe.StripeClient) -> None:
    ids = [create(client, currency="usd", unit_amount=i).id for i in range(5)]
    newest_first = list(reversed(ids))
    first = client.v1.prices.list(params={"limit": 2})
    assert first["object"] == "list"
    assert first.url == "/v1/prices"
    assert [p.id for p in first.data] == newest_first[:2]
    assert first.has_more is True
    second = client.v1.prices.list(params={"limit": 2, "starting_after": first.data[-1].id})
    assert [p.id for p in second.data] == newest_first[2:4]
    last = client.v1.prices.list(params={"limit": 2, "starting_after": second.data[-1].id})
    assert [p.id for p in last.data] == newest_first[4:]
    assert last.has_more is False
    back = client.v1.prices.list(params={"limit": 2, "ending_before": newest_first[4]})
    assert [p.id for p in back.data] == newest_first[2:4]
    assert [p.id for p in client.v1.prices.list().auto_paging_iter()] == newest_first


@pytest.mark.parametrize("limit", [0, 101])
def test_limit_bounds(client: stripe.StripeClient, limit: int) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.prices.list(params={"limit": limit})
    assert info.value.param == "limit"


def test_default_limit_is_ten(client: stripe.StripeClient) -> None:
    for i in range(11):
        create(client, currency="usd", unit_amount=i)
    page = client.v1.prices.list()
    assert len(page.data) == 10
    assert page.has_more is True


def test_price_list_filters(client: stripe.StripeClient) -> None:
    client.v1.products.create(params={"id": "other", "name": "Other"})
    one_time = create(client, currency="usd", unit_amount=5)
    monthly = create(client, currency="usd", unit_amount=5, recurring={"interval": "month"})
    yearly_eur = create(client, currency="eur", unit_amount=5, recurring={"interval": "year"})
    other = client.v1.prices.create(params={"product": "other", "currency": "usd", "unit_amount": 1})

    def ids(**params: Any) -> list[str]:
        return [p.id for p in client.v1.prices.list(params=params).data]  # type: ignore[arg-type]

    assert ids(type="one_time") == [other.id, one_time.id]
    assert ids(currency="eur") == [yearly_eur.id]
    assert ids(product="other") == [other.id]
    assert ids(recurring={"interval": "month"}) == [monthly.id]


def test_update_currency_options_and_their_tax_behavior(client: stripe.StripeClient) -> None:
    price = create(client, currency="usd", unit_amount=1000)
    updated = client.v1.prices.update(
        price.id,
        params={
            "currency_options": {"eur": {"unit_amount": 900, "tax_behavior": "exclusive"}},
            "expand": ["currency_options"],
        },
    )
    assert updated.currency_options is not None
    assert set(updated.currency_options.to_dict()) == {"usd", "eur"}
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.prices.update(
            price.id, params={"currency_options": {"eur": {"unit_amount": 900, "tax_behavior": "inclusive"}}}
        )
    assert info.value.param == "currency_options[eur][tax_behavior]"
    cleared = client.v1.prices.update(price.id, params={"currency_options": "", "expand": ["currency_options"]})
    assert cleared.currency_options is not None
    assert set(cleared.currency_options.to_dict()) == {"usd"}


def test_tiered_currency_option_needs_tiers(client: stripe.StripeClient) -> None:
    err = refused(client, **TIERED, currency_options={"eur": {"unit_amount": 5}})
    assert err.param in ("currency_options[eur][tiers]", "currency_options[eur][unit_amount]")


def test_default_price_must_belong_to_the_product(client: stripe.StripeClient) -> None:
    client.v1.products.create(params={"id": "other", "name": "Other"})
    foreign = client.v1.prices.create(params={"product": "other", "currency": "usd", "unit_amount": 1})
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.products.update("suite", params={"default_price": foreign.id})
    assert info.value.param == "default_price"


def test_transform_quantity(client: stripe.StripeClient) -> None:
    price = create(client, currency="usd", unit_amount=1000, transform_quantity={"divide_by": 5, "round": "up"})
    assert price.transform_quantity is not None
    assert (price.transform_quantity.divide_by, price.transform_quantity.round) == (5, "up")
    err = refused(client, currency="usd", unit_amount=1, transform_quantity={"divide_by": 0, "round": "up"})
    assert err.param == "transform_quantity[divide_by]"
