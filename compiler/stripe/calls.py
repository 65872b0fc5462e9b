"""An API call as plain data: what `compile` prints, what `plan` previews and what `apply` sends.

The dry run and the real run walk the same list of `ApiCall`s; one explains, one executes. Ids that exist only
after an earlier call (a meter's `mtr_...`, a new price's `price_...`) appear in params and paths as a named
placeholder `{{meter.emails_sent}}`, resolved by `apply` from the responses it has seen.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

PLACEHOLDER = re.compile(r"\{\{([a-z]+\.[^{}]+)\}\}")


def placeholder(address: str) -> str:
    """The stand-in for the Stripe id of the object at `address` (`meter.emails_sent`)."""
    return "{{" + address + "}}"


@dataclass(frozen=True)
class ApiCall:
    method: str  # "POST" (every write pricebook makes is a POST)
    path: str  # "/v1/prices", "/v1/prices/price_123", "/v1/products/{{...}}"
    params: Mapping[str, Any]  # nested values, as the stripe SDK takes them
    address: str  # the catalog object it is about: "price.emails_per_1000_monthly"
    action: str  # what it does, in words: "create", "update", "archive", "move default price", ...
    creates: str | None = None  # the address whose Stripe id this call's response carries
    depends_on: tuple[str, ...] = field(default=())  # addresses whose ids it needs

    def placeholders(self) -> set[str]:
        """The placeholders this call declares (in `depends_on`) and uses."""
        text = self.path + json.dumps(self.params, sort_keys=True, default=str)
        return set(PLACEHOLDER.findall(text)) & set(self.depends_on)

    def resolve(self, ids: Mapping[str, str]) -> ApiCall:
        """This call with its placeholders replaced by known ids; KeyError names a missing one.

        Only the addresses in `depends_on` are replaced, so a user's nickname that happens to look like
        `{{meter.x}}` is sent as written.
        """
        wanted = {address: ids[address] for address in self.depends_on}
        return ApiCall(
            self.method,
            _resolve(self.path, wanted),
            _resolve(self.params, wanted),
            self.address,
            self.action,
            self.creates,
            self.depends_on,
        )

    def idempotency_key(self, salt: str) -> str:
        """A key derived from what the call does (not random), so a retry can never create a second object.

        `salt` ties it to one ChangeSet (its account fingerprint): the same step re-sent within an apply replays,
        while a later apply against a changed account gets fresh keys (an archived price re-created on purpose
        must not be answered with Stripe's stored response for the old one).
        """
        body = json.dumps([self.method, self.path, self.params, salt], sort_keys=True, default=str)
        return "pricebook-" + hashlib.sha256(body.encode()).hexdigest()[:48]

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "params": _jsonable(self.params),
            "address": self.address,
            "action": self.action,
            "creates": self.creates,
            "depends_on": list(self.depends_on),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ApiCall:
        return cls(
            str(data["method"]),
            str(data["path"]),
            dict(data["params"]),
            str(data["address"]),
            str(data["action"]),
            data.get("creates"),
            tuple(data.get("depends_on") or ()),
        )


def _resolve(value: Any, ids: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return PLACEHOLDER.sub(lambda m: ids.get(m.group(1), m.group(0)), value)
    if isinstance(value, Mapping):
        return {k: _resolve(v, ids) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_resolve(v, ids) for v in value]
    return value


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)  # Decimal
