"""Hold compiled calls against what Stripe's API takes, as the stripe SDK's generated request types say.

The SDK's `stripe/params/*_params.py` are generated from Stripe's OpenAPI spec; `sdkparams` is the one place
that reads them. A call conforms when its endpoint exists and its params have no unknown parameter, every
required one, enum values from the `Literal`s, and the right shapes and types. Cross-field rules (tiers with a
transform, ...) are the rules module's job, not this one's.
"""

from __future__ import annotations

from collections.abc import Iterable

from compiler.stripe import sdkparams
from compiler.stripe.calls import PLACEHOLDER, ApiCall
from compiler.stripe.sdkparams import ParamProblem

#: not a Stripe error code: Stripe answers an unknown route with a 404 "Unrecognized request URL" and no code
UNKNOWN_ENDPOINT = "unknown_endpoint"

#: every code a problem `check_call` finds has
CODES: tuple[str, ...] = (
    UNKNOWN_ENDPOINT,
    sdkparams.PARAMETER_UNKNOWN,
    sdkparams.PARAMETER_MISSING,
    sdkparams.PARAMETER_INVALID,
    sdkparams.PARAMETER_INVALID_INTEGER,
    sdkparams.PARAMETER_INVALID_EMPTY,
)

#: what a placeholder stands for in a path while the endpoint is looked up (any one path segment will do)
_ID_STANDIN = "id_placeholder"


def endpoint_class(call: ApiCall) -> type | None:
    """The SDK's params TypedDict for the call's endpoint; `/v1/products/{{...}}` is the update endpoint."""
    return sdkparams.params_class(call.method, PLACEHOLDER.sub(_ID_STANDIN, call.path))


def rule_id(code: str) -> str:
    """The rule id a problem of `code` is reported with (`compile --check`): `sdk-parameter-unknown`."""
    return f"sdk-{code.replace('_', '-')}"


def check_call(call: ApiCall) -> list[ParamProblem]:
    """Everything about `call`'s params that Stripe's API would refuse (empty when it conforms)."""
    cls = endpoint_class(call)
    if cls is None:
        return [ParamProblem(UNKNOWN_ENDPOINT, "", f"Unrecognized request URL ({call.method.upper()}: {call.path})")]
    _, problems = sdkparams.check(cls, call.params, form_encoded=False)
    return problems


def check_calls(calls: Iterable[ApiCall]) -> list[tuple[ApiCall, ParamProblem]]:
    """Every problem of every call, in call order."""
    return [(call, problem) for call in calls for problem in check_call(call)]


def describe(call: ApiCall, problem: ParamProblem) -> str:
    """One line for a person: `price.basic (POST /v1/prices): parameter_unknown colour: Received unknown ...`."""
    where = f" {problem.param}" if problem.param else ""
    return f"{call.address} ({call.method} {call.path}): {problem.code}{where}: {problem.message}"
