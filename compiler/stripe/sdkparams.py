"""What Stripe accepts as parameters, read from the stripe SDK's generated TypedDicts.

`stripe/params/*_params.py` are generated from Stripe's OpenAPI spec, so they are the closest thing to Stripe's
own parameter validation we have offline. This module turns one of those TypedDicts into a small spec tree
(cached per class) and checks a parameter mapping against it, reporting problems with Stripe's error codes and
Stripe's bracket notation for `param` (`tiers[2][up_to]`).

Used by the emulator (per request, on form-decoded bodies) and by the conformance checker of compiled calls
(on Python-typed params, `form_encoded=False`).
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import re
import sys
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any, ForwardRef, Literal, Union

from compiler.stripe.facts import MISSING_PARAM

# Stripe's documented error codes for parameter problems.
PARAMETER_UNKNOWN = "parameter_unknown"
PARAMETER_MISSING = "parameter_missing"
PARAMETER_INVALID_INTEGER = "parameter_invalid_integer"
PARAMETER_INVALID_EMPTY = "parameter_invalid_empty"
# Stripe answers a bad boolean, decimal, enum value or shape ("Invalid boolean: maybe", "Invalid array") with an
# `invalid_request_error` that has a `param` but no documented `code`. pricebook names that case
# `parameter_invalid`; the emulator sends it without a `code`, as Stripe does.
PARAMETER_INVALID = "parameter_invalid"

# RequestOptions keys are SDK options (headers), never body parameters.
REQUEST_OPTION_KEYS = frozenset(
    {
        "api_key",
        "stripe_version",
        "stripe_account",
        "stripe_context",
        "max_network_retries",
        "idempotency_key",
        "content_type",
        "headers",
    }
)


@dataclass(frozen=True)
class ParamProblem:
    code: str
    param: str
    message: str


# ---------------------------------------------------------------------------------------------------------------
# The spec tree


@dataclass(frozen=True)
class Spec:
    """What one parameter accepts. `kinds` holds the shapes of a union: str, int, bool, float, decimal, obj,
    list, map. `enum` restricts str values (the SDK widens enums to `Literal[...]|str`; the Literal members
    are the real enum). `literals` are exact non-str-kind values such as `"inf"` in `Literal["inf"] | int`.
    `places` is the most decimal places a number takes, where the parameter's docstring states it."""

    kinds: frozenset[str]
    enum: frozenset[str] | None = None
    empty_ok: bool = False
    literals: frozenset[str] = frozenset()
    obj: ObjSpec | None = None
    item: Spec | None = None
    value: Spec | None = None
    places: int | None = None


@dataclass(frozen=True)
class FieldSpec:
    required: bool
    spec: Spec


@dataclass(frozen=True)
class ObjSpec:
    name: str
    fields: Mapping[str, FieldSpec] = field(default_factory=dict)


_EXPAND = FieldSpec(required=False, spec=Spec(kinds=frozenset({"list"}), item=Spec(kinds=frozenset({"str"}))))


def _is_typeddict(tp: Any) -> bool:
    return isinstance(tp, type) and hasattr(tp, "__required_keys__") and hasattr(tp, "__annotations__")


def _origin_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    return getattr(origin, "__name__", "") or getattr(origin, "_name", "") or str(origin)


def _resolve(tp: Any, ns: dict[str, Any]) -> Any:
    if isinstance(tp, str):
        return eval(tp, ns)  # generated, trusted source: the SDK's own annotations
    if isinstance(tp, ForwardRef):
        return eval(tp.__forward_arg__, ns)
    return tp


def _union_members(tp: Any) -> list[Any] | None:
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is Union:
        return list(typing.get_args(tp))
    return None


def _spec_of(tp: Any, ns: dict[str, Any]) -> Spec:
    """The spec of one annotation, a bare `Literal` closed into a str enum."""
    return _close_literal(_open_spec_of(tp, ns))


def _open_spec_of(tp: Any, ns: dict[str, Any]) -> Spec:
    tp = _resolve(tp, ns)
    members = _union_members(tp)
    parts = [_open_spec_of(m, ns) for m in members] if members is not None else [_single_spec(tp, ns)]
    return _merge(parts)


def _single_spec(tp: Any, ns: dict[str, Any]) -> Spec:
    origin = typing.get_origin(tp)
    name = _origin_name(tp)
    if name in ("NotRequired", "Required"):
        return _open_spec_of(typing.get_args(tp)[0], ns)
    if origin is Literal or name == "Literal":
        values = frozenset(str(v) for v in typing.get_args(tp))
        if values == {""}:
            return Spec(kinds=frozenset(), empty_ok=True)
        return Spec(kinds=frozenset({"literal"}), literals=values)
    if origin in (list, typing.List) or name in ("list", "List"):  # noqa: UP006
        return Spec(kinds=frozenset({"list"}), item=_spec_of(typing.get_args(tp)[0], ns))
    if origin in (dict, typing.Dict) or name in ("dict", "Dict"):  # noqa: UP006
        return Spec(kinds=frozenset({"map"}), value=_spec_of(typing.get_args(tp)[1], ns))
    if origin is not None and getattr(origin, "__name__", "") == "UntypedStripeObject":
        return Spec(kinds=frozenset({"map"}), value=_spec_of(typing.get_args(tp)[0], ns))
    if _is_typeddict(tp):
        return Spec(kinds=frozenset({"obj"}), obj=_obj_spec(tp))
    simple = {str: "str", int: "int", bool: "bool", float: "float", Decimal: "decimal"}
    if tp in simple:
        return Spec(kinds=frozenset({simple[tp]}))
    if tp is type(None):
        return Spec(kinds=frozenset())
    return Spec(kinds=frozenset({"any"}))


def _merge(parts: list[Spec]) -> Spec:
    if len(parts) == 1:
        return parts[0]
    kinds: set[str] = set()
    literals: set[str] = set()
    empty_ok = False
    obj = item = value = None
    for p in parts:
        kinds |= p.kinds
        literals |= p.literals
        empty_ok = empty_ok or p.empty_ok
        obj = obj or p.obj
        item = item or p.item
        value = value or p.value
    enum: frozenset[str] | None = None
    kinds.discard("literal")
    if literals and "str" in kinds:
        # `Literal['a', 'b'] | str`: the SDK's widened enum. The Literal members are what Stripe accepts.
        enum, literals = frozenset(literals), set()
    elif literals and not kinds:
        enum, literals, kinds = frozenset(literals), set(), {"str"}
    return Spec(
        kinds=frozenset(kinds),
        enum=enum,
        empty_ok=empty_ok,
        literals=frozenset(literals),
        obj=obj,
        item=item,
        value=value,
    )


def _close_literal(spec: Spec) -> Spec:
    if "literal" in spec.kinds:  # a bare Literal is a closed enum of strings
        return Spec(kinds=frozenset({"str"}), enum=spec.literals)
    return spec


#: how the generated docstrings state a number's precision ("Height, in inches. Maximum precision is 2 decimal
#: places.")
_PRECISION = re.compile(r"Maximum precision is (\d+) decimal places")


@cache
def _field_docs(module: str) -> Mapping[str, Mapping[str, str]]:
    """Each TypedDict field's docstring in a generated params module, by class and field name.

    The generator writes a field's description from the OpenAPI spec as a string right after its annotation;
    Python keeps no such attribute docstrings at run time, so they are read from the module's source.
    """
    try:
        tree = ast.parse(inspect.getsource(sys.modules[module]))
    except (OSError, TypeError, SyntaxError):
        return {}
    out: dict[str, dict[str, str]] = {}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        docs = out.setdefault(node.name, {})
        for stmt, following in zip(node.body, node.body[1:], strict=False):
            if (
                isinstance(stmt, ast.AnnAssign)
                and isinstance(stmt.target, ast.Name)
                and isinstance(following, ast.Expr)
                and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)
            ):
                docs[stmt.target.id] = following.value.value
    return out


def _with_docs(spec: Spec, doc: str) -> Spec:
    """The facts a field's docstring adds to its type: the precision of a number."""
    precision = _PRECISION.search(doc)
    if precision is None or "float" not in spec.kinds:
        return spec
    return dataclasses.replace(spec, places=int(precision.group(1)))


@cache
def _obj_spec(cls: type) -> ObjSpec:
    ns = dict(vars(sys.modules[cls.__module__]))
    ns.setdefault("Literal", Literal)
    docs = _field_docs(cls.__module__).get(cls.__name__, {})
    fields: dict[str, FieldSpec] = {}
    required: frozenset[str] = getattr(cls, "__required_keys__", frozenset())
    for key, ann in cls.__annotations__.items():
        if key in REQUEST_OPTION_KEYS:
            continue
        spec = _with_docs(_spec_of(ann, ns), docs.get(key, ""))
        fields[key] = FieldSpec(required=key in required, spec=spec)
    return ObjSpec(name=cls.__name__, fields=fields)


def spec_for(cls: type) -> ObjSpec:
    """The cached spec tree of a params TypedDict (with `expand` accepted, as it is everywhere)."""
    spec = _obj_spec(cls)
    if "expand" in spec.fields:
        return spec
    return _with_expand(cls)


@cache
def _with_expand(cls: type) -> ObjSpec:
    spec = _obj_spec(cls)
    return ObjSpec(name=spec.name, fields={**spec.fields, "expand": _EXPAND})


# ---------------------------------------------------------------------------------------------------------------
# Endpoints


_ROUTES: tuple[tuple[str, str, str, str], ...] = (
    # method, path pattern ({id} = one path segment), module, class
    ("POST", "/v1/products", "stripe.params._product_create_params", "ProductCreateParams"),
    ("GET", "/v1/products", "stripe.params._product_list_params", "ProductListParams"),
    ("GET", "/v1/products/search", "stripe.params._product_search_params", "ProductSearchParams"),
    ("GET", "/v1/products/{id}", "stripe.params._product_retrieve_params", "ProductRetrieveParams"),
    ("POST", "/v1/products/{id}", "stripe.params._product_update_params", "ProductUpdateParams"),
    ("DELETE", "/v1/products/{id}", "stripe.params._product_delete_params", "ProductDeleteParams"),
    ("POST", "/v1/prices", "stripe.params._price_create_params", "PriceCreateParams"),
    ("GET", "/v1/prices", "stripe.params._price_list_params", "PriceListParams"),
    ("GET", "/v1/prices/search", "stripe.params._price_search_params", "PriceSearchParams"),
    ("GET", "/v1/prices/{id}", "stripe.params._price_retrieve_params", "PriceRetrieveParams"),
    ("POST", "/v1/prices/{id}", "stripe.params._price_update_params", "PriceUpdateParams"),
    ("POST", "/v1/plans", "stripe.params._plan_create_params", "PlanCreateParams"),
    ("GET", "/v1/plans", "stripe.params._plan_list_params", "PlanListParams"),
    ("GET", "/v1/plans/{id}", "stripe.params._plan_retrieve_params", "PlanRetrieveParams"),
    ("POST", "/v1/plans/{id}", "stripe.params._plan_update_params", "PlanUpdateParams"),
    ("DELETE", "/v1/plans/{id}", "stripe.params._plan_delete_params", "PlanDeleteParams"),
    ("POST", "/v1/billing/meters", "stripe.params.billing._meter_create_params", "MeterCreateParams"),
    ("GET", "/v1/billing/meters", "stripe.params.billing._meter_list_params", "MeterListParams"),
    ("GET", "/v1/billing/meters/{id}", "stripe.params.billing._meter_retrieve_params", "MeterRetrieveParams"),
    ("POST", "/v1/billing/meters/{id}", "stripe.params.billing._meter_update_params", "MeterUpdateParams"),
    (
        "POST",
        "/v1/billing/meters/{id}/deactivate",
        "stripe.params.billing._meter_deactivate_params",
        "MeterDeactivateParams",
    ),
    (
        "POST",
        "/v1/billing/meters/{id}/reactivate",
        "stripe.params.billing._meter_reactivate_params",
        "MeterReactivateParams",
    ),
    (
        "POST",
        "/v1/billing/meter_events",
        "stripe.params.billing._meter_event_create_params",
        "MeterEventCreateParams",
    ),
    (
        "POST",
        "/v1/billing/meter_event_adjustments",
        "stripe.params.billing._meter_event_adjustment_create_params",
        "MeterEventAdjustmentCreateParams",
    ),
    (
        "GET",
        "/v1/billing/meters/{id}/event_summaries",
        "stripe.params.billing._meter_list_event_summaries_params",
        "MeterListEventSummariesParams",
    ),
    # v2 endpoints take JSON bodies: check them with `form_encoded=False`
    (
        "POST",
        "/v2/billing/meter_event_session",
        "stripe.params.v2.billing._meter_event_session_create_params",
        "MeterEventSessionCreateParams",
    ),
    (
        "POST",
        "/v2/billing/meter_event_stream",
        "stripe.params.v2.billing._meter_event_stream_create_params",
        "MeterEventStreamCreateParams",
    ),
    ("POST", "/v1/customers", "stripe.params._customer_create_params", "CustomerCreateParams"),
    ("GET", "/v1/customers", "stripe.params._customer_list_params", "CustomerListParams"),
    ("GET", "/v1/customers/{id}", "stripe.params._customer_retrieve_params", "CustomerRetrieveParams"),
    ("POST", "/v1/subscriptions", "stripe.params._subscription_create_params", "SubscriptionCreateParams"),
    ("GET", "/v1/subscriptions", "stripe.params._subscription_list_params", "SubscriptionListParams"),
    ("GET", "/v1/subscriptions/{id}", "stripe.params._subscription_retrieve_params", "SubscriptionRetrieveParams"),
    ("DELETE", "/v1/subscriptions/{id}", "stripe.params._subscription_cancel_params", "SubscriptionCancelParams"),
    ("POST", "/v1/test_helpers/test_clocks", "stripe.params.test_helpers._test_clock_create_params",
     "TestClockCreateParams"),
    ("GET", "/v1/test_helpers/test_clocks", "stripe.params.test_helpers._test_clock_list_params",
     "TestClockListParams"),
    ("GET", "/v1/test_helpers/test_clocks/{id}", "stripe.params.test_helpers._test_clock_retrieve_params",
     "TestClockRetrieveParams"),
    ("DELETE", "/v1/test_helpers/test_clocks/{id}", "stripe.params.test_helpers._test_clock_delete_params",
     "TestClockDeleteParams"),
    ("POST", "/v1/test_helpers/test_clocks/{id}/advance", "stripe.params.test_helpers._test_clock_advance_params",
     "TestClockAdvanceParams"),
)

_SEGMENT = "[^/]+"


@cache
def _compiled_routes() -> tuple[tuple[str, re.Pattern[str], str, str], ...]:
    out = []
    for method, pattern, module, name in _ROUTES:
        regex = re.compile("^" + re.escape(pattern).replace(re.escape("{id}"), _SEGMENT) + "$")
        out.append((method, regex, module, name))
    return tuple(out)


@cache
def _load(module: str, name: str) -> type:
    cls = getattr(importlib.import_module(module), name)
    assert isinstance(cls, type)
    return cls


def params_class(method: str, path: str) -> type | None:
    """The SDK's params TypedDict for an endpoint: ("POST", "/v1/prices/price_123") -> PriceUpdateParams.
    Literal paths win over `{id}` (`/v1/prices/search` is search, not a retrieve)."""
    path = path.split("?", 1)[0].rstrip("/") or "/"
    method = method.upper()
    for m, regex, module, name in _compiled_routes():  # the table lists literal paths before {id} ones
        if m == method and regex.match(path):
            return _load(module, name)
    return None


# ---------------------------------------------------------------------------------------------------------------
# Checking


_INT = re.compile(r"^-?\d+$")
#: a number as Stripe documents it: plain decimal notation (no exponent, no inf or nan, no `_`)
_PLAIN_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_KIND_ORDER = ("literal", "int", "bool", "decimal", "float", "str", "obj", "map", "list", "any")


def _join(path: str, key: str) -> str:
    return f"{path}[{key}]" if path else key


def _last(path: str) -> str:
    return path.rsplit("[", 1)[-1].rstrip("]") if path else path


def _or_list(values: frozenset[str]) -> str:
    ordered = sorted(values)
    if len(ordered) <= 2:
        return " or ".join(ordered)
    return ", ".join(ordered[:-1]) + ", or " + ordered[-1]


class _Checker:
    def __init__(self, form_encoded: bool) -> None:
        self.form = form_encoded
        self.problems: list[ParamProblem] = []

    def problem(self, code: str, param: str, message: str) -> None:
        self.problems.append(ParamProblem(code=code, param=param, message=message))

    def obj(self, spec: ObjSpec, value: Mapping[str, Any], path: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, raw in value.items():
            param = _join(path, str(key))
            fs = spec.fields.get(key)
            if fs is None:
                self.problem(PARAMETER_UNKNOWN, param, f"Received unknown parameter: {param}")
                continue
            if raw is None and not self.form:
                continue  # the SDK drops None values before encoding
            out[key] = self.value(fs.spec, raw, param)
        for key, fs in spec.fields.items():
            if fs.required and key not in out and value.get(key) is None:
                param = _join(path, key)
                self.problem(PARAMETER_MISSING, param, MISSING_PARAM.format(param=param))
        return out

    def value(self, spec: Spec, raw: Any, param: str) -> Any:
        if isinstance(raw, str) and raw == "":
            return "" if spec.empty_ok else self._empty(param)
        if isinstance(raw, Mapping):
            return self._mapping(spec, raw, param)
        if isinstance(raw, (list, tuple)):
            return self._list(spec, list(raw), param)
        return self._scalar(spec, raw, param)

    def _empty(self, param: str) -> Any:
        self.problem(
            PARAMETER_INVALID_EMPTY,
            param,
            f"You passed an empty string for '{param}'. We assume empty values are an attempt to unset a "
            f"parameter; however '{param}' cannot be unset. You should remove '{param}' from your request or "
            "supply a non-empty value.",
        )
        return None

    def _mapping(self, spec: Spec, raw: Mapping[str, Any], param: str) -> Any:
        if spec.obj is not None:
            return self.obj(spec.obj, raw, param)
        if spec.value is not None and "map" in spec.kinds:
            # An empty value in a map (`metadata[key]=`) unsets that key: Stripe accepts it.
            return {str(k): v if v == "" else self.value(spec.value, v, _join(param, str(k))) for k, v in raw.items()}
        if spec.item is not None and all(_INT.match(str(k)) for k in raw):
            # Indexed form arrays (`tiers[0][up_to]`) decode as mappings keyed "0", "1", ...
            ordered = [raw[k] for k in sorted(raw, key=lambda k: int(k))]
            return self._list(spec, ordered, param, indexes=sorted(int(k) for k in raw))
        if "any" in spec.kinds:
            return dict(raw)
        return self._invalid(spec, raw, param)

    def _list(self, spec: Spec, raw: list[Any], param: str, indexes: list[int] | None = None) -> Any:
        if spec.item is None:
            if "any" in spec.kinds:
                return raw
            return self._invalid(spec, raw, param)
        idx = indexes or list(range(len(raw)))
        return [self.value(spec.item, v, f"{param}[{i}]") for i, v in zip(idx, raw, strict=True)]

    def _scalar(self, spec: Spec, raw: Any, param: str) -> Any:
        if self.form and isinstance(raw, str):
            return self._form_scalar(spec, raw, param)
        return self._typed_scalar(spec, raw, param)

    def _form_scalar(self, spec: Spec, raw: str, param: str) -> Any:
        kinds = spec.kinds
        if raw in spec.literals:
            return raw
        if "int" in kinds and _INT.match(raw):
            return int(raw)
        if "bool" in kinds and raw in ("true", "false"):
            return raw == "true"
        if "decimal" in kinds:
            dec = _decimal(raw)
            if dec is not None:
                return dec
        if "float" in kinds and _PLAIN_NUMBER.match(raw):
            return self._number(spec, raw, param)
        if "str" in kinds:
            return self._enum(spec, raw, param)
        if "any" in kinds:
            return raw
        return self._invalid(spec, raw, param)

    def _typed_scalar(self, spec: Spec, raw: Any, param: str) -> Any:
        kinds = spec.kinds
        if isinstance(raw, str) and raw in spec.literals:
            return raw
        if isinstance(raw, bool):
            if "bool" in kinds:
                return raw
        elif isinstance(raw, int):
            if "int" in kinds:
                return raw
            if "decimal" in kinds:
                return Decimal(raw)
            if "float" in kinds:
                return self._number(spec, str(raw), param)
        elif isinstance(raw, float):
            # the SDK sends a float as str() writes it: 1e+16 and 1e-05 are exponent notation
            if "float" in kinds and _PLAIN_NUMBER.match(repr(raw)):
                return self._number(spec, repr(raw), param)
        elif isinstance(raw, Decimal):
            if "decimal" in kinds and raw.is_finite():
                return raw
        elif isinstance(raw, str):
            if "decimal" in kinds:
                dec = _decimal(raw)
                if dec is not None:
                    return dec
            if "str" in kinds:
                return self._enum(spec, raw, param)
        if "any" in kinds:
            return raw
        return self._invalid(spec, raw, param)

    def _number(self, spec: Spec, text: str, param: str) -> Any:
        """A number in plain notation (`text`), held to the precision its docstring states."""
        exponent = Decimal(text).normalize().as_tuple().exponent
        places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        if spec.places is not None and places > spec.places:
            self.problem(
                PARAMETER_INVALID,
                param,
                f"Invalid float: {text}. Maximum precision is {spec.places} decimal places.",
            )
            return None
        return float(text)

    def _enum(self, spec: Spec, raw: str, param: str) -> Any:
        if spec.enum is not None and raw not in spec.enum:
            self.problem(PARAMETER_INVALID, param, f"Invalid {_last(param)}: must be one of {_or_list(spec.enum)}")
            return None
        return raw

    def _invalid(self, spec: Spec, raw: Any, param: str) -> Any:
        shown = raw if not isinstance(raw, (Mapping, list)) else ""
        primary = next((k for k in _KIND_ORDER if k in spec.kinds), "str")
        if primary == "literal" and spec.literals:
            primary = "str"
        if primary == "int":
            self.problem(PARAMETER_INVALID_INTEGER, param, f"Invalid integer: {shown}")
        elif primary == "bool":
            self.problem(PARAMETER_INVALID, param, f"Invalid boolean: {shown}")
        elif primary == "decimal":
            self.problem(PARAMETER_INVALID, param, f"Invalid decimal: {shown}")
        elif primary == "float":
            self.problem(PARAMETER_INVALID, param, f"Invalid float: {shown}")
        elif primary == "obj" or primary == "map":
            self.problem(PARAMETER_INVALID, param, "Invalid object")
        elif primary == "list":
            self.problem(PARAMETER_INVALID, param, "Invalid array")
        else:
            self.problem(PARAMETER_INVALID, param, f"Invalid string: {shown}")
        return None


def _decimal(raw: str) -> Decimal | None:
    try:
        dec = Decimal(raw.strip())
    except InvalidOperation:
        return None
    return dec if dec.is_finite() and raw.strip() == raw and raw != "" else None


def check(cls: type, params: Mapping[str, Any], *, form_encoded: bool) -> tuple[dict[str, Any], list[ParamProblem]]:
    """Check `params` against the SDK's TypedDict `cls`.

    Returns the params coerced to their types (ints, bools, `Decimal`s, lists; `""` kept where it means
    "unset") and the problems in Stripe's terms. With `form_encoded=True` scalars are the strings of a form
    body and indexed arrays may arrive as mappings keyed "0", "1", ...; with `form_encoded=False` values must
    already have their Python types (an int is not a bool, a float is not an int).
    """
    checker = _Checker(form_encoded)
    # Python callers may pass SDK request options in the same dict; a form body never carries them.
    body = dict(params) if form_encoded else {k: v for k, v in params.items() if k not in REQUEST_OPTION_KEYS}
    coerced = checker.obj(spec_for(cls), body, "")
    return coerced, checker.problems
