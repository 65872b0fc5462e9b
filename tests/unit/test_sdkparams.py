"""The params checker against the SDK's generated TypedDicts, with no server."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from compiler.stripe import sdkparams
from compiler.stripe.sdkparams import ParamProblem, check, params_class, spec_for


def cls(method: str, path: str) -> type:
    found = params_class(method, path)
    assert found is not None, (method, path)
    return found


PRICE_CREATE = cls("POST", "/v1/prices")


def problems(params: dict[str, Any], *, form: bool = False, klass: type = PRICE_CREATE) -> list[tuple[str, str]]:
    return [(p.code, p.param) for p in check(klass, params, form_encoded=form)[1]]


# -- endpoints ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "name"),
    [
        ("POST", "/v1/prices", "PriceCreateParams"),
        ("POST", "/v1/prices/{id}", "PriceUpdateParams"),
        ("POST", "/v1/prices/price_123", "PriceUpdateParams"),
        ("GET", "/v1/prices", "PriceListParams"),
        ("GET", "/v1/prices/price_123", "PriceRetrieveParams"),
        ("GET", "/v1/prices/search", "PriceSearchParams"),
        ("POST", "/v1/products", "ProductCreateParams"),
        ("POST", "/v1/products/prod_1", "ProductUpdateParams"),
        ("DELETE", "/v1/products/prod_1", "ProductDeleteParams"),
        ("GET", "/v1/products", "ProductListParams"),
        ("POST", "/v1/plans", "PlanCreateParams"),
        ("POST", "/v1/plans/gold", "PlanUpdateParams"),
        ("DELETE", "/v1/plans/gold", "PlanDeleteParams"),
        ("GET", "/v1/plans", "PlanListParams"),
        ("POST", "/v1/billing/meters", "MeterCreateParams"),
        ("POST", "/v1/billing/meters/mtr_1", "MeterUpdateParams"),
        ("POST", "/v1/billing/meters/mtr_1/deactivate", "MeterDeactivateParams"),
        ("POST", "/v1/billing/meters/mtr_1/reactivate", "MeterReactivateParams"),
        ("GET", "/v1/billing/meters", "MeterListParams"),
        ("POST", "/v1/billing/meter_events", "MeterEventCreateParams"),
        ("POST", "/v1/billing/meter_event_adjustments", "MeterEventAdjustmentCreateParams"),
        ("GET", "/v1/billing/meters/mtr_1/event_summaries", "MeterListEventSummariesParams"),
        ("POST", "/v2/billing/meter_event_session", "MeterEventSessionCreateParams"),
        ("POST", "/v2/billing/meter_event_stream", "MeterEventStreamCreateParams"),
        ("post", "/v1/prices?expand[]=tiers", "PriceCreateParams"),
        ("POST", "/v1/customers", "CustomerCreateParams"),
        ("GET", "/v1/subscriptions", "SubscriptionListParams"),
        ("DELETE", "/v1/subscriptions/sub_1", "SubscriptionCancelParams"),
        ("POST", "/v1/test_helpers/test_clocks/clock_1/advance", "TestClockAdvanceParams"),
    ],
)
def test_params_class(method: str, path: str, name: str) -> None:
    assert cls(method, path).__name__ == name


@pytest.mark.parametrize(
    ("method", "path"), [("PUT", "/v1/prices"), ("POST", "/v1/invoices"), ("DELETE", "/v1/prices/x")]
)
def test_no_params_class(method: str, path: str) -> None:
    assert params_class(method, path) is None


# -- typed (Python) params ------------------------------------------------------------------------------------


def test_a_good_price_has_no_problems_and_keeps_its_values() -> None:
    params = {
        "currency": "usd",
        "product": "suite",
        "billing_scheme": "tiered",
        "tiers_mode": "graduated",
        "tiers": [{"up_to": 5, "unit_amount": 700}, {"up_to": "inf", "flat_amount_decimal": Decimal("100")}],
        "recurring": {"interval": "month", "usage_type": "metered", "meter": "mtr_1"},
        "metadata": {"managed_by": "pricebook"},
        "expand": ["tiers"],
    }
    coerced, found = check(PRICE_CREATE, params, form_encoded=False)
    assert found == []
    assert coerced == params


def test_unknown_keys_nested_in_bracket_notation() -> None:
    assert problems({"currency": "usd", "recurring": {"interval": "month", "colour": "red"}}) == [
        ("parameter_unknown", "recurring[colour]")
    ]


def test_missing_required_keys_nested() -> None:
    found = problems({"currency": "usd", "tiers": [{"up_to": 1, "unit_amount": 1}, {"unit_amount": 1}]})
    assert found == [("parameter_missing", "tiers[1][up_to]")]
    assert problems({"unit_amount": 5}) == [("parameter_missing", "currency")]


def test_missing_message_is_stripes() -> None:
    _, found = check(PRICE_CREATE, {}, form_encoded=False)
    assert found == [ParamProblem("parameter_missing", "currency", "Missing required param: currency.")]


@pytest.mark.parametrize("value", [7840.000000000001, True, "1000", Decimal("10")])
def test_integers_must_be_ints(value: Any) -> None:
    assert problems({"currency": "usd", "unit_amount": value}) == [("parameter_invalid_integer", "unit_amount")]


def test_float_message_quotes_the_value() -> None:
    _, found = check(PRICE_CREATE, {"currency": "usd", "unit_amount": 7840.000000000001}, form_encoded=False)
    assert found[0].message == "Invalid integer: 7840.000000000001"


def test_booleans_must_be_bools() -> None:
    assert problems({"currency": "usd", "active": 1}) == [("parameter_invalid", "active")]


@pytest.mark.parametrize("value", ["0.5", Decimal("0.5"), 3])
def test_decimals_accept_decimal_strings_and_decimals(value: Any) -> None:
    coerced, found = check(PRICE_CREATE, {"currency": "usd", "unit_amount_decimal": value}, form_encoded=False)
    assert found == []
    assert coerced["unit_amount_decimal"] == Decimal(value)


@pytest.mark.parametrize("value", ["abc", "NaN", 0.5])
def test_bad_decimals(value: Any) -> None:
    assert problems({"currency": "usd", "unit_amount_decimal": value}) == [("parameter_invalid", "unit_amount_decimal")]


def test_up_to_takes_int_or_inf_only() -> None:
    tiers = [{"up_to": 5, "unit_amount": 1}, {"up_to": "inf", "unit_amount": 1}]
    assert problems({"currency": "usd", "tiers": tiers}) == []
    assert problems({"currency": "usd", "tiers": [{"up_to": "infinity"}]}) == [
        ("parameter_invalid_integer", "tiers[0][up_to]")
    ]


def test_enum_literal_members_are_the_real_enum() -> None:
    found = check(PRICE_CREATE, {"currency": "usd", "recurring": {"interval": "fortnight"}}, form_encoded=False)[1]
    assert [(p.code, p.param) for p in found] == [("parameter_invalid", "recurring[interval]")]
    assert found[0].message == "Invalid interval: must be one of day, month, week, or year"
    assert problems({"currency": "usd", "tax_behavior": "exclusive"}) == []


def test_closed_literal_is_an_enum_too() -> None:
    meter = cls("POST", "/v1/billing/meters")
    params = {
        "event_name": "e",
        "display_name": "E",
        "default_aggregation": {"formula": "sum"},
        "customer_mapping": {"event_payload_key": "k", "type": "by_email"},
    }
    assert problems(params, klass=meter) == [("parameter_invalid", "customer_mapping[type]")]


def test_empty_string_only_where_the_sdk_allows_unsetting() -> None:
    update = cls("POST", "/v1/products/p")
    assert problems({"description": "", "metadata": ""}, klass=update) == []
    assert problems({"name": ""}, klass=update) == [("parameter_invalid_empty", "name")]
    assert problems({"currency": "usd", "nickname": ""}) == [("parameter_invalid_empty", "nickname")]


def test_the_empty_string_message_is_stripes() -> None:
    _, found = check(cls("POST", "/v1/plans/gold"), {"trial_period_days": ""}, form_encoded=True)
    assert found == [
        ParamProblem(
            "parameter_invalid_empty",
            "trial_period_days",
            "You passed an empty string for 'trial_period_days'. We assume empty values are an attempt to unset a "
            "parameter; however 'trial_period_days' cannot be unset. You should remove 'trial_period_days' from "
            "your request or supply a non-empty value.",
        )
    ]


def test_empty_metadata_values_unset_keys() -> None:
    assert problems({"currency": "usd", "metadata": {"old": ""}}) == []


def test_maps_check_their_values() -> None:
    assert problems({"currency": "usd", "currency_options": {"eur": {"unit_amount": "9"}}}) == [
        ("parameter_invalid_integer", "currency_options[eur][unit_amount]")
    ]


def test_shapes() -> None:
    assert problems({"currency": "usd", "recurring": "month"}) == [("parameter_invalid", "recurring")]
    assert problems({"currency": "usd", "tiers": {"up_to": 1}}) == [("parameter_invalid", "tiers")]


def test_union_of_object_and_string() -> None:
    plan = cls("POST", "/v1/plans")
    base = {"currency": "usd", "interval": "month", "amount": 5}
    assert problems({**base, "product": "prod_1"}, klass=plan) == []
    assert problems({**base, "product": {"name": "Inline"}}, klass=plan) == []
    assert problems({**base, "product": {"nom": "Inline"}}, klass=plan) == [
        ("parameter_unknown", "product[nom]"),
        ("parameter_missing", "product[name]"),
    ]


def test_request_options_are_not_body_params() -> None:
    assert problems({"currency": "usd", "idempotency_key": "k", "api_key": "sk_test_x", "stripe_version": "v"}) == []


def test_request_options_in_a_form_body_are_unknown() -> None:
    assert problems({"currency": "usd", "api_key": "x"}, form=True) == [("parameter_unknown", "api_key")]


def test_expand_is_accepted_everywhere() -> None:
    for method, path in [("DELETE", "/v1/products/p"), ("POST", "/v1/billing/meters/m/deactivate")]:
        assert problems({"expand": ["x"]}, klass=cls(method, path)) == []


def test_update_params_are_only_the_mutable_fields() -> None:
    update = cls("POST", "/v1/prices/p")
    assert set(spec_for(update).fields) == {
        "active",
        "currency_options",
        "expand",
        "lookup_key",
        "metadata",
        "nickname",
        "tax_behavior",
        "transfer_lookup_key",
    }


def test_none_values_are_dropped_like_the_sdk_does() -> None:
    coerced, found = check(PRICE_CREATE, {"currency": "usd", "nickname": None}, form_encoded=False)
    assert found == []
    assert "nickname" not in coerced


# -- numbers (floats): plain decimal notation, with the precision the SDK's docstring states -------------------

PRODUCT_UPDATE = cls("POST", "/v1/products/p")


def dimensions(height: Any) -> dict[str, Any]:
    return {"package_dimensions": {"height": height, "length": 1, "weight": 1, "width": 1}}


def test_the_precision_comes_from_the_sdk_docstring() -> None:
    # "Height, in inches. Maximum precision is 2 decimal places."
    package = spec_for(PRODUCT_UPDATE).fields["package_dimensions"].spec.obj
    assert package is not None
    assert {name: f.spec.places for name, f in package.fields.items()} == dict.fromkeys(
        ("height", "length", "weight", "width"), 2
    )
    # a field whose docstring states none has no limit
    assert spec_for(PRODUCT_UPDATE).fields["name"].spec.places is None


@pytest.mark.parametrize("value", ["1.25", "1.250", "10", "0", "0.5"])
def test_plain_numbers_within_the_precision_pass(value: str) -> None:
    coerced, found = check(PRODUCT_UPDATE, dimensions(value), form_encoded=True)
    assert found == []
    assert coerced["package_dimensions"]["height"] == float(value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1.255", "Invalid float: 1.255. Maximum precision is 2 decimal places."),
        ("1e+16", "Invalid float: 1e+16"),
        ("1e-05", "Invalid float: 1e-05"),
        ("1E2", "Invalid float: 1E2"),
        ("inf", "Invalid float: inf"),
        ("nan", "Invalid float: nan"),
        ("1_000", "Invalid float: 1_000"),
        (" 1", "Invalid float:  1"),
    ],
)
def test_form_numbers_stripe_does_not_document_are_refused(value: str, message: str) -> None:
    _, found = check(PRODUCT_UPDATE, dimensions(value), form_encoded=True)
    assert found == [ParamProblem("parameter_invalid", "package_dimensions[height]", message)]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (1.255, "Invalid float: 1.255. Maximum precision is 2 decimal places."),
        (1e16, "Invalid float: 1e+16"),
        (0.00001, "Invalid float: 1e-05"),
        (float("inf"), "Invalid float: inf"),
    ],
)
def test_typed_floats_are_held_to_what_the_sdk_would_send(value: float, message: str) -> None:
    # the SDK form-encodes a float as str() writes it, so 1e16 goes out as "1e+16"
    _, found = check(PRODUCT_UPDATE, dimensions(value), form_encoded=False)
    assert found == [ParamProblem("parameter_invalid", "package_dimensions[height]", message)]


@pytest.mark.parametrize("value", [1.25, 3, 10**20, 0.0])
def test_typed_numbers_within_the_precision_pass(value: float) -> None:
    assert check(PRODUCT_UPDATE, dimensions(value), form_encoded=False)[1] == []


# -- form-encoded params --------------------------------------------------------------------------------------


def test_form_strings_are_coerced() -> None:
    params = {
        "currency": "usd",
        "active": "false",
        "unit_amount_decimal": "0.25",
        "tiers": {"1": {"up_to": "inf", "unit_amount": "5"}, "0": {"up_to": "10", "flat_amount": "0"}},
        "transform_quantity": {"divide_by": "5", "round": "up"},
        "expand": ["tiers"],
    }
    coerced, found = check(PRICE_CREATE, params, form_encoded=True)
    assert found == []
    assert coerced["active"] is False
    assert coerced["unit_amount_decimal"] == Decimal("0.25")
    assert coerced["tiers"] == [{"up_to": 10, "flat_amount": 0}, {"up_to": "inf", "unit_amount": 5}]
    assert coerced["transform_quantity"] == {"divide_by": 5, "round": "up"}


def test_form_errors_use_the_original_index() -> None:
    params = {"currency": "usd", "tiers": {"0": {"up_to": "1", "unit_amount": "1"}, "1": {"up_to": "x"}}}
    assert problems(params, form=True) == [("parameter_invalid_integer", "tiers[1][up_to]")]


@pytest.mark.parametrize(("field", "value"), [("unit_amount", "1.5"), ("unit_amount", "abc")])
def test_form_integers(field: str, value: str) -> None:
    assert problems({"currency": "usd", field: value}, form=True) == [("parameter_invalid_integer", field)]


def test_form_booleans() -> None:
    assert problems({"currency": "usd", "active": "maybe"}, form=True) == [("parameter_invalid", "active")]


def test_form_metadata_key_zero_is_not_an_index() -> None:
    coerced, found = check(PRICE_CREATE, {"currency": "usd", "metadata": {"0": "a"}}, form_encoded=True)
    assert found == []
    assert coerced["metadata"] == {"0": "a"}


def test_list_params_from_a_query_string() -> None:
    listing = cls("GET", "/v1/prices")
    coerced, found = check(
        listing,
        {"limit": "100", "lookup_keys": {"0": "a", "1": "b"}, "recurring": {"interval": "month"}, "active": "true"},
        form_encoded=True,
    )
    assert found == []
    assert coerced == {"limit": 100, "lookup_keys": ["a", "b"], "recurring": {"interval": "month"}, "active": True}


def test_problem_codes_are_stripes() -> None:
    assert {
        sdkparams.PARAMETER_UNKNOWN,
        sdkparams.PARAMETER_MISSING,
        sdkparams.PARAMETER_INVALID_INTEGER,
        sdkparams.PARAMETER_INVALID_EMPTY,
    } == {"parameter_unknown", "parameter_missing", "parameter_invalid_integer", "parameter_invalid_empty"}


def test_introspection_is_cached() -> None:
    # the emulator runs `check` on every request: the spec tree is built once per class (its per-request cost is
    # measured by the emulator benchmark, not bounded here, where a loaded CI machine could fail a time bound)
    assert spec_for(PRICE_CREATE) is spec_for(PRICE_CREATE)
    params = {"currency": "usd", "unit_amount": "1000", "recurring": {"interval": "month"}, "metadata": {"a": "b"}}
    first = check(PRICE_CREATE, params, form_encoded=True)
    assert all(check(PRICE_CREATE, params, form_encoded=True) == first for _ in range(100))
    assert first[1] == []


def test_check_against_the_class_of_an_endpoint() -> None:
    cls = params_class("POST", "/v1/plans/gold")
    assert cls is not None
    _, found = check(cls, {"amount": 5}, form_encoded=False)
    assert found == [ParamProblem("parameter_unknown", "amount", "Received unknown parameter: amount")]
