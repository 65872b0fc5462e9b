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
from compiler.emulator.tables import Table


@dataclass(frozen=True)
class Stored:
    fingerprint: str
    status: int
    body: dict[str, Any]
    headers: tuple[tuple[str, str], ...] = ()


def fingerprint(method: str, path: str, params: dict[str, Any]) -> str:
    return json.dumps([method, path, params], sort_keys=True, separators=(",", ":"))


class IdempotencyCache:
    """The keys seen, each with the request's fingerprint and the answer it got (a copy: the record it came from
    may change later, the answer a key replays must not)."""

    MAX_KEY_LENGTH = 255

    def __init__(self) -> None:
        self.entries = Table("idempotency")

    def lookup(self, key: str, fp: str) -> Stored | None:
        if len(key) > self.MAX_KEY_LENGTH:
            raise ApiError(
                400,
                f"Idempotency-Key must be at most {self.MAX_KEY_LENGTH} characters long.",
                type="idempotency_error",
            )
        entry = self.entries.get(key)
        if entry is None:
            return None
        if entry["fingerprint"] != fp:
            raise ApiError(
                400,
                "Keys for idempotent requests can only be used with the same parameters they were first used "
                f"with. Try using a key other than '{key}' if you meant to execute a different request.",
                type="idempotency_error",
            )
        return Stored(entry["fingerprint"], entry["status"], entry["body"], tuple(tuple(h) for h in entry["headers"]))

    def store(self, key: str, stored: Stored) -> None:
        self.entries[key] = {
            "fingerprint": stored.fingerprint,
            "status": stored.status,
            "body": json.loads(json.dumps(stored.body, default=str)),
            "headers": [list(h) for h in stored.headers],
        }

    def reset(self) -> None:
        dict.clear(self.entries)
