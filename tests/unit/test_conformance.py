"""Every compiled call is one Stripe's API takes, as the stripe SDK's generated request types describe it; and
the checker does catch calls Stripe would refuse."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from compiler.catalog.check import check_catalog, check_documents
from compiler.catalog.schema import schema_document
from compiler.catalog.yaml_reader import load_text
from compiler.changes.compile import _NOT_CREATE_PARAMS, compile_catalog, create_call, placeholder_ref
from compiler.changes.model import Catalog, Resource, build_catalog
from compiler.cli import compile as compile_cli
from compiler.cli import main
from compiler.stripe import sdkparams
from compiler.stripe.calls import ApiCall, CallAction
from compiler.stripe.conformance import UNKNOWN_ENDPOINT, check_call, check_calls, describe, endpoint_class
from compiler.stripe.facts import PACKAGE_DIMENSION_PLACES
from compiler.stripe.fields import SPECS
from compiler.stripe.kinds import Kind
from compiler.stripe.sdkparams import (
    PARAMETER_INVALID,
    PARAMETER_INVALID_INTEGER,
    PARAMETER_MISSING,
    PARAMETER_UNKNOWN,
    ParamProblem,
)
from tests.bench.generate import generate_catalog
from tests.strategies import catalogs

REPO = Path(__file__).resolve().parents[2]
PLANS = REPO / "plans"


def checked_catalog(paths: list[str]) -> Catalog:
    result = check_catalog(paths)
    assert result.ok, [d.format() for d in result.errors]
    return build_catalog(result.entries)


def problems_of(calls: list[ApiCall]) -> list[str]:
    return [describe(call, problem) for call, problem in check_calls(calls)]


# ---------------------------------------------------------------------------------------------------------------
# Everything compiled conforms


def test_every_call_compiled_from_plans_conforms() -> None:
    calls = compile_catalog(checked_catalog([str(PLANS)]))
    assert {c.path.split("/")[2] for c in calls} >= {"billing", "products", "prices", "plans"}
    assert problems_of(calls) == []


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_prices=st.integers(1, 120))
def test_generated_benchmark_catalogs_conform(seed: int, n_prices: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        generate_catalog(directory, n_prices, seed=seed)
        calls = compile_catalog(checked_catalog([directory]))
    assert len([c for c in calls if c.path == "/v1/prices"]) == n_prices
    assert problems_of(calls) == []




@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(catalogs())
def test_generated_catalogs_compile_to_conforming_calls(data: dict[str, Any]) -> None:
    doc, diagnostics = load_text(yaml.safe_dump(data, sort_keys=False), "generated.yaml")
    assert doc is not None, diagnostics
    result = check_documents([doc], diagnostics)
    assume(result.ok)  # Stripe's cross-field rules are the rules' business; conformance is about valid catalogs
    calls = compile_catalog(build_catalog(result.entries))
    assert problems_of(calls) == []


def test_the_precision_validate_holds_package_dimensions_to_is_the_sdks() -> None:
    # the rule's number and the one the emulator and this checker read from the SDK's docstrings are one fact
    for method, path in (("POST", "/v1/products"), ("POST", "/v1/products/p")):
        cls = sdkparams.params_class(method, path)
        assert cls is not None
        package = sdkparams.spec_for(cls).fields["package_dimensions"].spec.obj
        assert package is not None
        assert {f.spec.places for f in package.fields.values()} == {PACKAGE_DIMENSION_PLACES.value}


#: the schema's definition of each kind's objects
_SCHEMA_DEFS = {Kind.METER: "meter", Kind.PRODUCT: "product", Kind.PRICE: "price", Kind.PLAN: "plan"}


@pytest.mark.parametrize("kind", list(_SCHEMA_DEFS), ids=lambda k: k.value)
def test_every_catalog_field_is_a_create_param_or_left_out_of_the_create(kind: Kind) -> None:
    # A field the schema takes but the create endpoint does not (a meter's `status` once) passes validate and
    # fails at apply with 400 parameter_unknown.
    fields = set(schema_document()["$defs"][_SCHEMA_DEFS[kind]]["properties"])
    sent = fields - _NOT_CREATE_PARAMS.get(kind, frozenset())
    cls = sdkparams.params_class("POST", SPECS[kind].path)
    assert cls is not None
    assert sorted(sent - set(sdkparams.spec_for(cls).fields)) == []


@pytest.mark.parametrize("kind", list(_SCHEMA_DEFS), ids=lambda k: k.value)
def test_a_catalog_field_takes_an_empty_string_only_where_the_create_endpoint_does(kind: Kind) -> None:
    # "" passed validate and Stripe answered 400 parameter_invalid_empty (a product's description once)
    schema = schema_document()
    fields = schema["$defs"][_SCHEMA_DEFS[kind]]["properties"]
    cls = sdkparams.params_class("POST", SPECS[kind].path)
    assert cls is not None
    create = sdkparams.spec_for(cls).fields
    takes_empty = [
        name
        for name, sub in fields.items()
        if name in create and Draft202012Validator({**sub, "$defs": schema["$defs"]}).is_valid("")
    ]
    assert [name for name in takes_empty if not create[name].spec.empty_ok] == []


def test_a_meter_status_is_never_a_create_param() -> None:
    params = {"event_name": "e", "display_name": "E", "default_aggregation": {"formula": "sum"}}
    for status in ("active", "inactive"):
        meter = Resource(Kind.METER, "e", {**params, "status": status}, {**params, "status": status})
        call = create_call(meter, placeholder_ref)
        assert dict(call.params) == params
        assert check_call(call) == []


def test_a_meter_status_does_not_validate(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text(
        "meters:\n  - event_name: e\n    display_name: E\n    default_aggregation: {formula: sum}\n"
        "    status: inactive\n"
    )
    result = check_catalog([str(tmp_path)])
    assert [(d.rule, d.location.line) for d in result.errors] == [("schema-unknown-field", 5)]


# ---------------------------------------------------------------------------------------------------------------
# Wrong calls are caught


def price_call(**params: Any) -> ApiCall:
    base: dict[str, Any] = {"currency": "usd", "unit_amount": 1000, "product": "prod_1"}
    base.update(params)
    return ApiCall("POST", "/v1/prices", {k: v for k, v in base.items() if v is not ...}, "price.p", CallAction.CREATE)


def codes(call: ApiCall) -> list[tuple[str, str]]:
    return [(p.code, p.param) for p in check_call(call)]


def test_a_right_call_has_no_problems() -> None:
    assert codes(price_call(transform_quantity={"divide_by": 5, "round": "up"})) == []


def test_unknown_parameter() -> None:
    assert codes(price_call(colour="blue")) == [(PARAMETER_UNKNOWN, "colour")]
    assert codes(price_call(recurring={"interval": "month", "aggregate_usage": "sum"})) == [
        (PARAMETER_UNKNOWN, "recurring[aggregate_usage]")
    ]


def test_missing_currency() -> None:
    assert codes(price_call(currency=...)) == [(PARAMETER_MISSING, "currency")]


def test_missing_nested_required_param() -> None:
    assert codes(price_call(transform_quantity={"divide_by": 5})) == [(PARAMETER_MISSING, "transform_quantity[round]")]


def test_enum_values_come_from_the_literals() -> None:
    assert codes(price_call(transform_quantity={"divide_by": 5, "round": "sideways"})) == [
        (PARAMETER_INVALID, "transform_quantity[round]")
    ]
    assert codes(price_call(tiers_mode="stairs")) == [(PARAMETER_INVALID, "tiers_mode")]


def test_a_string_where_an_integer_goes() -> None:
    assert codes(price_call(unit_amount="1000")) == [(PARAMETER_INVALID_INTEGER, "unit_amount")]
    tiers = [{"up_to": "5", "unit_amount": 1}]  # "inf" is the only string up_to takes
    assert codes(price_call(tiers=tiers)) == [(PARAMETER_INVALID_INTEGER, "tiers[0][up_to]")]


def test_wrong_shapes() -> None:
    assert codes(price_call(recurring="month")) == [(PARAMETER_INVALID, "recurring")]
    assert codes(price_call(tiers={"up_to": "inf"})) == [(PARAMETER_INVALID, "tiers")]
    assert codes(price_call(active="yes")) == [(PARAMETER_INVALID, "active")]


def test_each_kind_is_checked_against_its_own_endpoint() -> None:
    params = {"event_name": "e", "display_name": "E"}
    meter = ApiCall("POST", "/v1/billing/meters", params, "meter.e", CallAction.CREATE)
    assert codes(meter) == [(PARAMETER_MISSING, "default_aggregation")]
    with_metadata = ApiCall(
        "POST",
        "/v1/billing/meters",
        {"event_name": "e", "display_name": "E", "default_aggregation": {"formula": "sum"}, "metadata": {"a": "b"}},
        "meter.e",
        CallAction.CREATE,
    )
    assert codes(with_metadata) == [(PARAMETER_UNKNOWN, "metadata")]  # meters have no metadata
    plan = ApiCall("POST", "/v1/plans", {"currency": "usd", "transform_quantity": {}}, "plan.p", CallAction.CREATE)
    assert codes(plan) == [(PARAMETER_UNKNOWN, "transform_quantity"), (PARAMETER_MISSING, "interval")]
    product = ApiCall("POST", "/v1/products", {"id": "p", "default_price": "price_1"}, "product.p", CallAction.CREATE)
    assert sorted(codes(product)) == [(PARAMETER_MISSING, "name"), (PARAMETER_UNKNOWN, "default_price")]


def test_placeholder_paths_resolve_to_the_update_endpoint() -> None:
    call = ApiCall(
        "POST", "/v1/products/{{product.a/b}}", {"default_price": "{{price.x}}"}, "product.p",
        CallAction.SET_DEFAULT_PRICE,
    )
    assert endpoint_class(call) is not None
    assert endpoint_class(call).__name__ == "ProductUpdateParams"  # type: ignore[union-attr]
    assert codes(call) == []
    # `id` is create-only: refusing it proves the update endpoint's types were used
    assert codes(ApiCall("POST", "/v1/products/{{product.p}}", {"id": "p"}, "product.p", CallAction.UPDATE)) == [
        (PARAMETER_UNKNOWN, "id")
    ]


def test_an_unknown_endpoint() -> None:
    call = ApiCall("POST", "/v1/coupons_of_the_day", {}, "x.y", CallAction.CREATE)
    assert codes(call) == [(UNKNOWN_ENDPOINT, "")]


def test_check_calls_pairs_problems_with_their_calls_in_order() -> None:
    good, bad = price_call(), price_call(colour="blue", currency=...)
    found = check_calls([good, bad, good])
    assert [call for call, _ in found] == [bad, bad]
    assert all(isinstance(p, ParamProblem) for _, p in found)
    assert describe(*found[0]).startswith("price.p (POST /v1/prices): parameter_unknown colour: ")


# ---------------------------------------------------------------------------------------------------------------
# The command


def test_compile_json_with_check() -> None:
    result = CliRunner().invoke(compile_cli.command, [str(PLANS), "--check"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["api_version"] == "2026-10-28.endive"
    calls = [ApiCall.from_json(c) for c in data["calls"]]
    assert calls == compile_catalog(checked_catalog([str(PLANS)]))


def test_check_failure_names_the_catalog_place(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(catalog: Catalog) -> list[ApiCall]:
        resource = catalog.of_kind(catalog.resources[0].kind)[0]
        return [ApiCall("POST", "/v1/prices", {"currency": "usd", "colour": "x"}, resource.address, CallAction.CREATE)]

    monkeypatch.setattr(compile_cli, "iter_calls", broken)
    monkeypatch.setattr(sys, "argv", ["pricebook", "compile", str(PLANS), "--check"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "error[sdk-parameter-unknown]" in err and "colour" in err
    assert ".yaml:" in err  # the place of the catalog object the call came from
    assert "Traceback" not in err


def test_an_invalid_catalog_exits_1_with_its_diagnostics(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bad.yaml").write_text("prices:\n  - lookup_key: bad\n    currency: usd\n    unit_amount: 9.99\n")
    monkeypatch.setattr(sys, "argv", ["pricebook", "compile", str(tmp_path), "--format", "curl"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 1
    captured = capsys.readouterr()
    assert "bad.yaml:4:" in captured.err
    assert "curl" not in captured.out
    assert "Traceback" not in captured.err
