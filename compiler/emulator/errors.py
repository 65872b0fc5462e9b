"""Stripe's error responses: `{"error": {"type", "code", "param", "message"}}` with the HTTP status."""

from __future__ import annotations

from typing import Any

from compiler.stripe.facts import MISSING_PARAM, ONE_OF_PARAMS

DOC_URL = "https://stripe.com/docs/error-codes/"


class ApiError(Exception):
    """One Stripe error response. Raised anywhere in request handling, rendered once by the app."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = DOC_URL + self.code.replace("_", "-")
        if self.param:
            error["param"] = self.param
        return {"error": error}


def invalid(message: str, *, param: str | None = None, code: str | None = None) -> ApiError:
    return ApiError(400, message, param=param, code=code)


def missing_param(param: str) -> ApiError:
    return ApiError(400, MISSING_PARAM.format(param=param), param=param, code="parameter_missing")


def exclusive(*params: str) -> ApiError:
    return ApiError(
        400,
        ONE_OF_PARAMS.format(params=", ".join(params)),
        param=params[-1],
        code="parameters_exclusive",
    )


def no_such(kind: str, object_id: str, *, param: str | None = None, status: int = 404) -> ApiError:
    """404 for the object a URL names; 400 for an id given in a parameter, as Stripe answers both."""
    return ApiError(
        status, f"No such {kind}: '{object_id}'", param=param or kind.replace(" ", "_"), code="resource_missing"
    )


def already_exists(message: str, *, param: str) -> ApiError:
    return ApiError(400, message, param=param, code="resource_already_exists")
