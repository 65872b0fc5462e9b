"""From a row to a meter event Stripe will count, or to the reasons it would not.

Every check here is one Stripe makes, on the request or while processing the event afterwards (when a bad event
is dropped silently, which is why pricebook checks first). Each problem is reported as
`file:line: error[rule-id]: message` with a hint; docs/rules.md ("Usage files") lists the rule ids.

A timestamp is never moved: one outside Stripe's window is an error, however close to it.
"""

from __future__ import annotations

import difflib
import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from compiler.errors import Diagnostic, Location
from compiler.stripe import facts
from compiler.usage.meters import Meter, Meters
from compiler.usage.rows import SourceRow

IDENTIFIER_PREFIX = "pbu_"
#: changes every derived identifier if the way they are derived ever changes
DERIVATION = "pricebook-usage-1"
_MILLISECONDS_FROM = 10**11  # a Unix time this large is in the year 5138: milliseconds, most likely


@dataclass(frozen=True, slots=True)
class UsageEvent:
    """One meter event ready to send, with the row it came from."""

    number: int
    line: int
    event_name: str
    identifier: str
    payload: Mapping[str, str]
    customer: str
    value: int | None  # None: a count meter's event without a value
    timestamp: int | None  # None: Stripe stamps it when it receives it
    #: the row as written (`SourceRow.source`), to write it back if Stripe refuses the event
    source: Any = field(default=None, compare=False, repr=False)

    def v1_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {
            "event_name": self.event_name,
            "identifier": self.identifier,
            "payload": dict(self.payload),
        }
        if self.timestamp is not None:
            params["timestamp"] = self.timestamp
        return params

    def stream_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "event_name": self.event_name,
            "identifier": self.identifier,
            "payload": dict(self.payload),
        }
        if self.timestamp is not None:
            item["timestamp"] = iso_timestamp(self.timestamp)
        return item


def iso_timestamp(timestamp: int) -> str:
    """The stream's timestamps: ISO 8601 in UTC, as Stripe writes them (`2024-06-01T12:00:00.000Z`)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(timestamp))


def derive_identifier(event_name: str, payload: Mapping[str, str], timestamp: int | None, number: int) -> str:
    """The identifier of a row that has none: from its content and its position in the file, so the same file
    gives the same identifiers every time (and two equal rows two different ones). Never random."""
    fields = "\x1f".join(f"{key}={payload[key]}" for key in sorted(payload))
    text = f"{DERIVATION}\x1f{event_name}\x1f{'' if timestamp is None else timestamp}\x1f{number}\x1f{fields}"
    return IDENTIFIER_PREFIX + hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def rejected_identifier(file_digest: str, number: int) -> str:
    """The identifier a rejected row without one is written back with (see `rows.RowWriter`): from the content of
    the whole file it came from and its position there, so it is no other row's, in either file."""
    text = f"{DERIVATION}\x1frejected\x1f{file_digest}\x1f{number}"
    return IDENTIFIER_PREFIX + hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


@dataclass(frozen=True, slots=True)
class Checked:
    """A row checked: the event (None when it cannot be made) and every problem found."""

    event: UsageEvent | None
    problems: tuple[Diagnostic, ...] = ()

    @property
    def ok(self) -> bool:
        return self.event is not None and not any(p.is_error for p in self.problems)


class RowChecker:
    """Checks rows against the meters and a moment `now` (Unix seconds). Remembers the explicit identifiers it
    has seen (8 bytes each) to catch one used twice in a file."""

    def __init__(self, meters: Meters, now: int, display: str) -> None:
        self.meters = meters
        self.now = now
        self.display = display
        self._identifiers: set[int] = set()

    def check(self, row: SourceRow) -> Checked:
        problems = list(row.problems)
        if problems and row.event_name is None and not row.payload:
            return Checked(None, tuple(problems))  # nothing could be read from the row
        event_name = self._event_name(row, problems)
        meter = self._meter(event_name, row, problems) if event_name is not None else None
        payload = self._payload(row, problems)
        timestamp = self._timestamp(row, problems)
        identifier = self._identifier(row, problems)
        if meter is None or payload is None or event_name is None:
            return Checked(None, tuple(problems))
        customer = self._customer(meter, payload, row, problems)
        value = self._value(meter, payload, row, problems)
        if customer is None or (value is None and meter.needs_value):
            return Checked(None, tuple(problems))
        if value is not None:
            payload[meter.value_key] = str(value)
        if identifier is None:
            identifier = derive_identifier(event_name, payload, timestamp, row.number)
        event = UsageEvent(
            row.number, row.line, event_name, identifier, payload, customer, value, timestamp, row.source
        )
        return Checked(event, tuple(problems))

    def _at(self, row: SourceRow) -> Location:
        """The row's place, made only for a problem (a row that passes costs no Location)."""
        return Location(self.display, row.line)

    # -- the parts -------------------------------------------------------------------------------------------------

    def _event_name(self, row: SourceRow, problems: list[Diagnostic]) -> str | None:
        raw = row.event_name
        if type(raw) is str and 0 < len(raw) <= facts.METER_EVENT_NAME.value:
            return raw
        here = self._at(row)
        if not isinstance(raw, str) or not raw:
            problems.append(
                Diagnostic(
                    here,
                    "usage-event-name",
                    "the row has no event_name",
                    hint="event_name names the meter the usage counts on, as in the catalog",
                )
            )
            return None
        if len(raw) > facts.METER_EVENT_NAME.value:
            problems.append(
                Diagnostic(
                    here,
                    "usage-event-name",
                    f"event_name has {len(raw)} characters; Stripe takes at most {facts.METER_EVENT_NAME.value}",
                    hint="event names are a meter's event_name, which is at most 100 characters long",
                )
            )
            return None
        return raw

    def _meter(self, event_name: str, row: SourceRow, problems: list[Diagnostic]) -> Meter | None:
        meter = self.meters.get(event_name)
        if meter is not None and meter.active:
            return meter
        here = self._at(row)
        if meter is None:
            close = difflib.get_close_matches(event_name, self.meters.names(), n=1, cutoff=0.7)
            if close:
                hint = f"did you mean {close[0]!r}?"
            elif self.meters.names():
                hint = f"meters in {self.meters.source}: {', '.join(self.meters.names()[:10])}"
            else:
                hint = f"{self.meters.source} has no meters: add one to the catalog and apply it"
            problems.append(
                Diagnostic(
                    here,
                    "usage-unknown-meter",
                    f"no meter has the event_name {event_name!r} in {self.meters.source}; Stripe would drop the event",
                    hint=hint,
                )
            )
            return None
        if not meter.active:
            problems.append(
                Diagnostic(
                    here,
                    "usage-inactive-meter",
                    f"the meter {event_name!r} is deactivated; Stripe drops its events",
                    hint=f"reactivate it (POST {facts.METERS_PATH}/{meter.id}/reactivate) or record the usage "
                    "on an active meter",
                )
            )
            return None
        return meter

    def _payload(self, row: SourceRow, problems: list[Diagnostic]) -> dict[str, str] | None:
        raw = row.payload
        if all(type(value) is str for value in raw.values()):
            return dict(raw)
        payload: dict[str, str] = {}
        good = True
        for key, value in raw.items():
            if isinstance(value, str):
                payload[str(key)] = value
            elif isinstance(value, int) and not isinstance(value, bool):
                payload[str(key)] = str(value)
            else:
                good = False
                problems.append(
                    Diagnostic(
                        self._at(row),
                        "usage-payload-value",
                        f"payload[{key}] is {value!r}; Stripe's payload holds strings",
                        hint="write it as a string (or, for the value, a whole number)",
                    )
                )
        return payload if good else None

    def _customer(
        self, meter: Meter, payload: dict[str, str], row: SourceRow, problems: list[Diagnostic]
    ) -> str | None:
        key = meter.customer_key
        customer = payload.get(key)
        if customer and customer == customer.strip():
            return customer
        here = self._at(row)
        if not customer:
            column = f"payload_{key}" if here.file.lower().endswith(".csv") else f"payload.{key}"
            problems.append(
                Diagnostic(
                    here,
                    "usage-customer",
                    f"the row has no customer: the meter {meter.event_name!r} reads it from the payload key {key!r}",
                    hint=f"fill in {column} with the Stripe customer id (cus_...); the key is the meter's "
                    f"customer_mapping.event_payload_key ({facts.METER_CONFIG_DOC})",
                )
            )
            return None
        if customer != customer.strip():
            problems.append(
                Diagnostic(
                    here,
                    "usage-customer",
                    f"the customer {customer!r} has spaces around it; Stripe would not find that customer",
                    hint="remove the spaces (a CSV written with ', ' between fields has them)",
                )
            )
            return None
        return customer

    def _value(self, meter: Meter, payload: dict[str, str], row: SourceRow, problems: list[Diagnostic]) -> int | None:
        key = meter.value_key
        raw = payload.get(key)
        if raw is None:
            here = self._at(row)
            if meter.needs_value:
                problems.append(
                    Diagnostic(
                        here,
                        "usage-value",
                        f"the row has no value: the meter {meter.event_name!r} sums the payload key {key!r}",
                        hint=f"add the usage as a whole number under {key!r} (the meter's "
                        "value_settings.event_payload_key)",
                    )
                )
            return None
        digits = raw[1:] if raw.startswith("-") else raw
        if not (digits.isascii() and digits.isdigit()):
            problems.append(
                Diagnostic(
                    self._at(row),
                    "usage-value",
                    f"the value {raw!r} is not a whole number; Stripe takes whole numbers only and drops this event",
                    hint="record usage in a unit small enough to be whole (milliseconds, not seconds), with no "
                    f"spaces or thousands separators ({facts.RECORDING_USAGE_DOC}#usage-values)",
                )
            )
            return None
        return int(raw)

    def _timestamp(self, row: SourceRow, problems: list[Diagnostic]) -> int | None:
        raw = row.timestamp
        if raw is None:
            return None
        timestamp = parse_timestamp(raw)
        if isinstance(timestamp, str):
            problems.append(Diagnostic(self._at(row), "usage-timestamp", timestamp, hint=TIMESTAMP_HINT))
            return None
        oldest = self.now - facts.METER_EVENT_PAST.value
        latest = self.now + facts.METER_EVENT_FUTURE.value
        if oldest <= timestamp <= latest:
            return timestamp
        here = self._at(row)
        if timestamp < oldest:
            days = (self.now - timestamp) / 86400
            problems.append(
                Diagnostic(
                    here,
                    "usage-timestamp-too-old",
                    f"the timestamp {iso_timestamp(timestamp)} is {days:.1f} days ago; Stripe takes events from "
                    "the past 35 days only",
                    hint="pricebook never moves a timestamp: usage this old cannot be recorded as meter events "
                    f"(bill it another way, e.g. an invoice item) ({facts.RECORDING_USAGE_DOC}#event-timestamps)",
                )
            )
        elif timestamp > latest:
            hint = "Stripe allows 5 minutes for clock drift; check the clock and time zone of the export"
            if timestamp >= _MILLISECONDS_FROM:
                hint = "this looks like milliseconds since the epoch: Stripe takes seconds (divide by 1000)"
            problems.append(
                Diagnostic(
                    here,
                    "usage-timestamp-in-future",
                    f"the timestamp {_shown(timestamp)} is more than 5 minutes ahead of now "
                    f"({iso_timestamp(self.now)})",
                    hint=hint,
                )
            )
        return timestamp

    def _identifier(self, row: SourceRow, problems: list[Diagnostic]) -> str | None:
        raw = row.identifier
        if raw is None:
            return None
        here = self._at(row)
        if not isinstance(raw, str) or not raw:
            problems.append(
                Diagnostic(
                    here,
                    "usage-identifier",
                    f"the identifier {raw!r} is not a string",
                    hint="write it as a string, or leave it out for pricebook to derive one",
                )
            )
            return None
        if len(raw) > facts.METER_EVENT_IDENTIFIER.value:
            problems.append(
                Diagnostic(
                    here,
                    "usage-identifier",
                    f"the identifier has {len(raw)} characters; Stripe takes at most "
                    f"{facts.METER_EVENT_IDENTIFIER.value}",
                    hint="shorten it, or leave the identifier column empty for pricebook to derive one",
                )
            )
            return None
        fingerprint = int.from_bytes(hashlib.blake2b(raw.encode(), digest_size=8).digest(), "big")
        if fingerprint in self._identifiers:
            problems.append(
                Diagnostic(
                    here,
                    "usage-identifier",
                    f"the identifier {raw!r} is used by an earlier row of the file",
                    hint="Stripe keeps one event per identifier: the second would count as already recorded and "
                    "its usage would be lost; give each row its own identifier",
                )
            )
            return None
        self._identifiers.add(fingerprint)
        return raw


TIMESTAMP_HINT = "write Unix seconds (1717243200) or an ISO 8601 time with its zone (2024-06-01T12:00:00Z)"


def parse_timestamp(raw: Any) -> int | str:
    """Unix seconds from an integer, a string of digits or an ISO 8601 time with a zone; else what is wrong."""
    if type(raw) is str and raw.isascii() and raw.isdigit():
        return int(raw)
    if isinstance(raw, bool):
        return f"the timestamp {raw!r} is not a time"
    if isinstance(raw, int):
        return raw if raw >= 0 else f"the timestamp {raw} is before 1970"
    if isinstance(raw, float):
        return f"the timestamp {raw!r} is not a whole number of seconds"
    if not isinstance(raw, str):
        return f"the timestamp {raw!r} is not a time"
    text = raw.strip()
    if text.isascii() and text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return f"the timestamp {raw!r} is neither Unix seconds nor an ISO 8601 time"
    if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
        return f"the timestamp {raw!r} has no time zone: pricebook will not guess one"
    if moment.microsecond:
        return f"the timestamp {raw!r} has a fraction of a second; Stripe records whole seconds"
    return int(moment.timestamp())


def _shown(timestamp: int) -> str:
    try:
        return iso_timestamp(timestamp)
    except (OverflowError, OSError, ValueError):
        return str(timestamp)
