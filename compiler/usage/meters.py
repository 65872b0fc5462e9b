"""The meters usage is recorded against, by event_name: from the account (one paginated list) or, for an offline
check, from the catalog."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from compiler.changes.model import Catalog
from compiler.errors import UnexpectedAnswer
from compiler.stripe import facts
from compiler.stripe.facts import MeterFormula
from compiler.stripe.kinds import Kind


@dataclass(frozen=True)
class Meter:
    """What recording usage needs of a meter: where its payload keeps the customer and the value."""

    event_name: str
    display_name: str
    formula: MeterFormula
    customer_key: str
    value_key: str
    active: bool = True
    id: str | None = None  # None for a catalog meter the account may not have yet

    @classmethod
    def from_object(cls, obj: Mapping[str, Any], *, from_account: bool) -> Meter:
        """From a Stripe meter object, or a catalog meter (same field names; a catalog meter is active)."""
        data = dict(obj)
        return cls(
            event_name=str(data["event_name"]),
            display_name=str(data.get("display_name") or data["event_name"]),
            formula=facts.meter_formula(data),
            customer_key=facts.meter_customer_key(data),
            value_key=facts.meter_value_key(data),
            active=data.get("status", "active") == "active",
            id=str(data["id"]) if from_account else None,
        )

    @property
    def needs_value(self) -> bool:
        """A count meter counts events; the others read a whole number from the payload."""
        return self.formula is not MeterFormula.COUNT

    def describe(self) -> str:
        return f"{self.event_name} ({self.display_name}, {self.formula.value})"


@dataclass(frozen=True)
class Meters:
    by_event_name: Mapping[str, Meter]
    source: str  # "the account" or "the catalog (plans/)": where they were read, for messages

    def get(self, event_name: str) -> Meter | None:
        return self.by_event_name.get(event_name)

    def __iter__(self) -> Iterator[Meter]:
        return iter(self.by_event_name.values())

    def names(self) -> list[str]:
        return sorted(self.by_event_name)

    @property
    def account_ids(self) -> frozenset[str] | None:
        """The meters' ids, which tell one account from another (see `journal.journal_for`); None for a
        catalog's meters, which have none."""
        ids = frozenset(meter.id for meter in self if meter.id is not None)
        return ids if len(ids) == len(self.by_event_name) else None


class Pages(Protocol):
    def pages(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[list[dict[str, Any]]]: ...


def account_meters(gateway: Pages) -> Meters:
    """Every meter of the account, active or not (an inactive one refuses events: the check says so)."""
    found: dict[str, Meter] = {}
    for page in gateway.pages(facts.METERS_PATH):
        for obj in page:
            try:
                meter = Meter.from_object(obj, from_account=True)
            except (KeyError, ValueError, TypeError, AttributeError):  # no Stripe meter lacks these or has others
                raise UnexpectedAnswer(
                    f"the answer to GET {facts.METERS_PATH} holds {obj.get('id')!r}, which is no meter "
                    "(an event_name, a known aggregation formula and mappings are missing or of another type)"
                ) from None
            # event names are unique per account; should two show up, the active one is the one events reach
            if meter.event_name not in found or meter.active:
                found[meter.event_name] = meter
    return Meters(found, "the account")


def catalog_meters(catalog: Catalog, where: str) -> Meters:
    meters = {r.key: Meter.from_object(r.params, from_account=False) for r in catalog.of_kind(Kind.METER)}
    return Meters(meters, f"the catalog ({where})")
