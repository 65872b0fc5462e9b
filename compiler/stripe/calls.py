"""An API call as plain data: what `compile` prints, what `plan` previews and what `apply` sends.

The dry run and the real run walk the same list of `ApiCall`s; one explains, one executes. Ids that exist only
after an earlier call (a meter's `mtr_...`, a new price's `price_...`) appear in params and paths as a named
placeholder `{{meter.emails_sent}}`, resolved by `apply` from the responses it has seen.

Each call says what it does (`CallAction`) and so which `Stage` it runs in. The stages are the order Stripe
needs: apply finishes every call of a stage before it starts one of the next, and runs the calls inside a stage
in parallel (those on one object one after the other). Nothing decides order from the wording of a call.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from compiler.stripe.kinds import Kind

PLACEHOLDER = re.compile(r"\{\{([a-z]+\.[^{}]+)\}\}")


class CallAction(StrEnum):
    """What a call does to its object (the value is how the plan and apply's report name it)."""

    #: marks an object made by hand as pricebook's (metadata, a price's lookup_key), with any field to set
    ADOPT = "adopt"
    CREATE = "create"
    UPDATE = "update"
    #: Stripe cannot remove one currency option: the options are cleared, then the remaining ones set
    CLEAR_CURRENCY_OPTIONS = "clear currency options"
    DEACTIVATE = "deactivate"  # a meter's status changes only through /deactivate and /reactivate
    REACTIVATE = "reactivate"
    SET_DEFAULT_PRICE = "set default price"
    ARCHIVE = "archive"  # active=false: an object the catalog no longer lists, or one it says is inactive
    ARCHIVE_OLD_VERSION = "archive old version"  # the price a replace leaves behind


class Stage(StrEnum):
    """When a call runs, in this order (`rank`). Why this order:

    - meters first: a metered price or plan names its meter's id;
    - products next (those adopted among them): a price or plan names its product;
    - then new prices and plans, then updates of existing ones (reactivations and adoptions among them), before
      the default price moves: Stripe refuses an archived price as a product's default;
    - archives after the moves: Stripe refuses to archive a product's default price;
    - products last, once nothing still to run is about their prices.
    """

    METERS = "meters"
    PRODUCTS = "products"
    CREATES = "creates"
    UPDATES = "updates"
    DEFAULT_PRICES = "default prices"
    ARCHIVES = "archives"
    PRODUCT_ARCHIVES = "product archives"

    @property
    def rank(self) -> int:
        return _RANKS[self]


_RANKS: Mapping[Stage, int] = {stage: rank for rank, stage in enumerate(Stage)}

#: the stage of every call pricebook makes, by the kind of object it is about and what it does; a pair not
#: here is a call pricebook never makes
STAGES: Mapping[tuple[Kind, CallAction], Stage] = {
    (Kind.METER, CallAction.CREATE): Stage.METERS,
    (Kind.METER, CallAction.UPDATE): Stage.METERS,
    (Kind.METER, CallAction.DEACTIVATE): Stage.METERS,
    (Kind.METER, CallAction.REACTIVATE): Stage.METERS,
    (Kind.PRODUCT, CallAction.CREATE): Stage.PRODUCTS,
    (Kind.PRODUCT, CallAction.UPDATE): Stage.PRODUCTS,
    (Kind.PRODUCT, CallAction.ADOPT): Stage.PRODUCTS,
    (Kind.PRICE, CallAction.CREATE): Stage.CREATES,
    (Kind.PLAN, CallAction.CREATE): Stage.CREATES,
    (Kind.PRICE, CallAction.UPDATE): Stage.UPDATES,
    (Kind.PLAN, CallAction.UPDATE): Stage.UPDATES,
    (Kind.PRICE, CallAction.CLEAR_CURRENCY_OPTIONS): Stage.UPDATES,
    (Kind.PRICE, CallAction.ADOPT): Stage.UPDATES,
    (Kind.PLAN, CallAction.ADOPT): Stage.UPDATES,
    (Kind.PRODUCT, CallAction.SET_DEFAULT_PRICE): Stage.DEFAULT_PRICES,
    (Kind.PRICE, CallAction.ARCHIVE): Stage.ARCHIVES,
    (Kind.PLAN, CallAction.ARCHIVE): Stage.ARCHIVES,
    (Kind.PRICE, CallAction.ARCHIVE_OLD_VERSION): Stage.ARCHIVES,
    (Kind.PRODUCT, CallAction.ARCHIVE): Stage.PRODUCT_ARCHIVES,
}


def placeholder(address: str) -> str:
    """The stand-in for the Stripe id of the object at `address` (`meter.emails_sent`)."""
    return "{{" + address + "}}"


@dataclass(frozen=True)
class ApiCall:
    method: str  # "POST" (every write pricebook makes is a POST)
    path: str  # "/v1/prices", "/v1/prices/price_123", "/v1/products/{{...}}"
    params: Mapping[str, Any]  # nested values, as the stripe SDK takes them
    address: str  # the catalog object it is about: "price.emails_per_1000_monthly"
    action: CallAction
    creates: str | None = None  # the address whose Stripe id this call's response carries
    depends_on: tuple[str, ...] = field(default=())  # addresses whose ids it needs

    @property
    def kind(self) -> Kind:
        """The kind of object the call is about (from its address); ValueError for an address of no kind."""
        return Kind(self.address.partition(".")[0])

    @property
    def stage(self) -> Stage:
        """The stage the call runs in (`STAGES`); ValueError for a call pricebook never makes."""
        stage = STAGES.get((self.kind, self.action))
        if stage is None:
            raise ValueError(f"pricebook never sends {self.action.value!r} for a {self.kind.value}")
        return stage

    @property
    def moves_lookup_key(self) -> bool:
        """Whether the call takes a lookup_key from the price holding it (a replace's create): the one write
        that changes an object other than its own."""
        return self.params.get("transfer_lookup_key") is True

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
        return dataclasses.replace(self, path=_resolve(self.path, wanted), params=_resolve(self.params, wanted))

    def with_known_ids(self, ids: Mapping[str, str]) -> ApiCall:
        """This call with the ids of `ids` put in for its placeholders; the others stay (and in `depends_on`).
        Resolving the result later sends exactly what resolving this call with all the ids would."""
        known = {address: ids[address] for address in self.depends_on if address in ids}
        if not known:
            return self
        return dataclasses.replace(
            self,
            path=_resolve(self.path, known),
            params=_resolve(self.params, known),
            depends_on=tuple(address for address in self.depends_on if address not in known),
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
            "action": self.action.value,
            "stage": self.stage.value,
            "creates": self.creates,
            "depends_on": list(self.depends_on),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ApiCall:
        """A call as `to_json` wrote it; ValueError when its action or stage is not one pricebook gives it."""
        call = cls(
            str(data["method"]),
            str(data["path"]),
            dict(data["params"]),
            str(data["address"]),
            CallAction(data["action"]),
            data.get("creates"),
            tuple(data.get("depends_on") or ()),
        )
        if data.get("stage") != call.stage.value:
            stage = data.get("stage")
            raise ValueError(f"{call.address}: {call.action.value} runs in stage {call.stage.value!r}, not {stage!r}")
        return call


def in_stage_order(calls: Iterable[ApiCall]) -> tuple[ApiCall, ...]:
    """`calls` by stage, each stage's calls in the order given (the order apply sends them in)."""
    return tuple(sorted(calls, key=lambda call: call.stage.rank))


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
