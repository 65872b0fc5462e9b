"""The emulator without a server: pricebook's real gateway and the real stripe SDK, whose HTTP client hands each
request to `Emulator.handle` in this process. For unit tests that need an account built by real applies (hundreds
of prices, deterministic ids with a seed) and no socket.

    gateway = emulated_gateway(seed=1)
    apply_catalog(["plans/"], gateway)          # the account now holds the catalog
    changeset, _ = changeset_for(load_catalog(["plans/"]), gateway)
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any

import stripe

from compiler.apply import apply_changeset
from compiler.changes.changeset import ChangeSet
from compiler.changes.model import load_catalog
from compiler.changes.planning import changeset_for
from compiler.emulator import TEST_API_KEY, Emulator, Knobs
from compiler.stripe.gateway import Connection, Gateway

#: never resolved: every request goes to the emulator object, not over the network
UNREACHABLE_BASE = "http://emulator.invalid"


class InProcessHttp(stripe.HTTPClient):
    """The SDK's HTTP client, answered by an `Emulator` in this process."""

    name = "in-process"

    def __init__(self, emulator: Emulator) -> None:
        super().__init__()
        self.emulator = emulator

    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[str, int, Mapping[str, str]]:
        parts = urllib.parse.urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        lowered = {name.lower(): value for name, value in (headers or {}).items()}
        body = post_data.encode() if isinstance(post_data, str) else (post_data or b"")
        response = self.emulator.handle(method, target, lowered, body)
        return json.dumps(response.body), response.status, dict(response.headers)

    def close(self) -> None:
        pass


def emulated_gateway(seed: int = 1) -> Gateway:
    """A gateway on a fresh, empty emulated account (ids fixed by `seed`), unpaced."""
    emulator = Emulator(Knobs(seed=seed))
    return Gateway(Connection(TEST_API_KEY, UNREACHABLE_BASE), rate=1e9, http_client=InProcessHttp(emulator))


def apply_catalog(paths: Sequence[str], gateway: Gateway) -> ChangeSet:
    """Plan the catalog at `paths` against the account and apply it, one call at a time (so the ids a seeded
    emulator gives are always the same); the ChangeSet applied."""
    changeset, _ = changeset_for(load_catalog(list(paths)), gateway)
    result = apply_changeset(changeset, gateway, workers=1)
    assert result.ok, result.failed
    return changeset


__all__ = ["InProcessHttp", "apply_catalog", "emulated_gateway"]
