"""The rule ids of the problems a usage file (or `usage record`'s one event) can have: each row is checked before
it is sent, against what Stripe refuses, or accepts and then drops without a word while processing the event.
This is their whole list, for `docs/rules.md`; a test holds it to the ids the code reports.
"""

from __future__ import annotations

from collections.abc import Mapping

from compiler.stripe import facts
from compiler.usage.importer import REFUSED_RULE

#: rule id -> what it checks
RULE_IDS: Mapping[str, str] = {
    "usage-file-unreadable": "the file opens and is UTF-8",
    "usage-csv-syntax": "CSV quoting",
    "usage-csv-header": "a header that has event_name and no column twice",
    "usage-csv-row": "each row as wide as the header",
    "usage-unknown-column": "CSV columns are event_name, timestamp, identifier and payload_<key>",
    "usage-json-syntax": "JSON Lines: one object a line, its payload an object",
    "usage-unknown-field": "a JSON event has event_name, payload, timestamp, identifier and nothing else",
    "usage-event-name": f"an event_name of at most {facts.METER_EVENT_NAME.value} characters",
    "usage-unknown-meter": "a meter has that event_name (Stripe drops the event otherwise)",
    "usage-inactive-meter": "that meter is active (Stripe drops the event otherwise)",
    "usage-customer": "the payload has the meter's customer key (customer_mapping.event_payload_key)",
    "usage-value": "the payload has the meter's value key (value_settings.event_payload_key): a whole number",
    "usage-payload-value": "JSON payload values are strings or integers (Stripe's payload is a map of strings)",
    "usage-timestamp": "Unix seconds or an ISO 8601 time with a zone, in whole seconds",
    "usage-timestamp-too-old": f"within the past {facts.METER_EVENT_PAST.value // 86400} days",
    "usage-timestamp-in-future": f"at most {facts.METER_EVENT_FUTURE.value // 60} minutes ahead",
    "usage-identifier": f"at most {facts.METER_EVENT_IDENTIFIER.value} characters, and used once in the file",
    "usage-journal": "the journal belongs to this file's content and to this account",
    REFUSED_RULE: "the row passed these checks, and Stripe refused it anyway (its message is kept)",
}

__all__ = ["RULE_IDS"]
