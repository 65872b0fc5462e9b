"""The only caller of the stripe SDK.

Everything that talks to Stripe (or the emulator) goes through a `Gateway`: reads as whole paginated lists,
writes as `ApiCall`s with an idempotency key. The SDK's exceptions are converted to `StripeApiError` here, once,
and the API key never leaves this module (it is not printed, logged or stored).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import stripe

from compiler.calls import ApiCall
from compiler.errors import StripeApiError, UsageError

#: The Stripe API version pricebook speaks, pinned on every request and shown in every plan.
API_VERSION = "2026-10-28.endive"
PAGE_SIZE = 100
LIVE_PREFIXES = ("sk_live_", "rk_live_")


@dataclass(frozen=True)
class Connection:
    """Where to talk to and with what key. `repr` never shows the key."""

    api_key: str
    api_base: str | None = None
    live: bool = False

    def __repr__(self) -> str:
        return f"Connection(api_base={self.api_base!r}, livemode={self.livemode})"

    @property
    def livemode(self) -> bool:
        return self.api_key.startswith(LIVE_PREFIXES)


def connection_from_env(api_base: str | None = None, *, live: bool = False) -> Connection:
    """The key from STRIPE_API_KEY, the base from --api-base or STRIPE_API_BASE; a live key needs --live."""
    key = os.environ.get("STRIPE_API_KEY", "").strip()
    if not key:
        raise UsageError(
            "STRIPE_API_KEY is not set",
            hint="export STRIPE_API_KEY=sk_test_... (or run `pricebook emulator` and use any sk_test_ key with "
            "--api-base http://127.0.0.1:12111)",
        )
    base = api_base or os.environ.get("STRIPE_API_BASE") or None
    conn = Connection(key, base, live)
    if conn.livemode and not live:
        raise UsageError(
            "refusing to use a live-mode key without --live",
            hint="this would read or change your live Stripe account; pass --live if that is what you mean",
        )
    return conn


def convert_error(exc: stripe.StripeError) -> StripeApiError:
    """A stripe SDK error as pricebook's own (message and code as Stripe sent them)."""
    err = getattr(exc, "error", None)
    code = getattr(err, "code", None) or getattr(exc, "code", None)
    param = getattr(err, "param", None)
    message = getattr(err, "message", None) or exc.user_message or str(exc) or type(exc).__name__
    return StripeApiError(str(message), status=exc.http_status, code=code, param=param)


class Gateway:
    def __init__(self, connection: Connection, *, max_network_retries: int = 0) -> None:
        self._connection = connection
        addresses: dict[str, str] = {"api": connection.api_base} if connection.api_base else {}
        self._client = stripe.StripeClient(
            connection.api_key,
            stripe_version=API_VERSION,
            base_addresses=addresses,  # type: ignore[arg-type]
            max_network_retries=max_network_retries,
        )

    @property
    def livemode(self) -> bool:
        return self._connection.livemode

    def request(
        self, method: str, path: str, params: Mapping[str, Any], *, idempotency_key: str | None = None
    ) -> tuple[dict[str, Any], Mapping[str, str]]:
        """One HTTP request; returns the JSON body and the response headers."""
        options: dict[str, Any] = {}
        if idempotency_key is not None and method.upper() == "POST":
            options["idempotency_key"] = idempotency_key
        try:
            response = self._client.raw_request(method.lower(), path, **dict(params), **options)
        except stripe.StripeError as exc:
            raise convert_error(exc) from None
        body: dict[str, Any] = json.loads(response.body)
        return body, response.headers

    def list_all(self, path: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Every object of a list endpoint, 100 a page, following `starting_after`."""
        query: dict[str, Any] = {**(params or {}), "limit": PAGE_SIZE}
        out: list[dict[str, Any]] = []
        while True:
            page, _ = self.request("GET", path, query)
            data = page.get("data") or []
            out.extend(data)
            if not page.get("has_more") or not data:
                return out
            query["starting_after"] = data[-1]["id"]

    def send(self, call: ApiCall, idempotency_key: str) -> dict[str, Any]:
        """One write; `call` must have no placeholders left."""
        body, _ = self.request(call.method, call.path, call.params, idempotency_key=idempotency_key)
        return body
