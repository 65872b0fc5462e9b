"""Idempotency keys as Stripe keeps them (docs.stripe.com/api/idempotent_requests).

A key remembers the request it was first used with and the response it got. The same key with the same
parameters replays the response (`Idempotent-Replayed: true`); with other parameters it is a 400
`idempotency_error`. Only responses of requests whose execution began are stored: successes and the 500 of a
fault after the commit, never a validation failure.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from compiler.emulator.errors import ApiError


@dataclass(frozen=True)
class Stored:
    fingerprint: str
    status: int
    body: dict[str, Any]
    headers: tuple[tuple[str, str], ...] = ()


def fingerprint(method: str, path: str, params: dict[str, Any]) -> str:
    return json.dumps([method, path, params], sort_keys=True, separators=(",", ":"))


class IdempotencyCache:
    MAX_KEY_LENGTH = 255

    def __init__(self) -> None:
        self._entries: dict[str, Stored] = {}

    def lookup(self, key: str, fp: str) -> Stored | None:
        if len(key) > self.MAX_KEY_LENGTH:
            raise ApiError(
                400,
                f"Idempotency-Key must be at most {self.MAX_KEY_LENGTH} characters long.",
                type="idempotency_error",
            )
        stored = self._entries.get(key)
        if stored is None:
            return None
        if stored.fingerprint != fp:
            raise ApiError(
                400,
                "Keys for idempotent requests can only be used with the same parameters they were first used "
                f"with. Try using a key other than '{key}' if you meant to execute a different request.",
                type="idempotency_error",
            )
        return stored

    def store(self, key: str, stored: Stored) -> None:
        self._entries[key] = stored

    def reset(self) -> None:
        self._entries.clear()

    def to_json(self) -> dict[str, Any]:
        return {
            k: {"fingerprint": s.fingerprint, "status": s.status, "body": s.body, "headers": list(s.headers)}
            for k, s in self._entries.items()
        }

    def load_json(self, data: dict[str, Any]) -> None:
        self._entries = {
            k: Stored(v["fingerprint"], int(v["status"]), v["body"], tuple(tuple(h) for h in v["headers"]))
            for k, v in data.items()
        }
