"""Stripe's facts about recording usage: meter events, their stream, adjustments and summaries.

One place for every number and name the usage commands and the emulator rely on, each from the SDK's generated
params (`stripe/params/billing/_meter_event_create_params.py`, `stripe/params/v2/billing/*`) or Stripe's docs:
https://docs.stripe.com/billing/subscriptions/usage-based/recording-usage-api,
https://docs.stripe.com/api/v2/billing-meter-stream, https://docs.stripe.com/rate-limits.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

RECORDING_USAGE_DOC = "https://docs.stripe.com/billing/subscriptions/usage-based/recording-usage-api"
METER_CONFIG_DOC = "https://docs.stripe.com/billing/subscriptions/usage-based/meters/configure"
STREAM_DOC = "https://docs.stripe.com/api/v2/billing-meter-stream"
CANCEL_DOC = "https://docs.stripe.com/api/billing/meter-event-adjustment/create"
SUMMARIES_DOC = "https://docs.stripe.com/api/billing/meter-event-summary/list"

# -- endpoints ------------------------------------------------------------------------------------------------------

METERS_PATH = "/v1/billing/meters"
METER_EVENTS_PATH = "/v1/billing/meter_events"
ADJUSTMENTS_PATH = "/v1/billing/meter_event_adjustments"
SESSION_PATH = "/v2/billing/meter_event_session"
#: sent to the SDK's separate `meter_events` base address, authenticated with a session's token
STREAM_PATH = "/v2/billing/meter_event_stream"


def summaries_path(meter_id: str) -> str:
    return f"{METERS_PATH}/{meter_id}/event_summaries"


# -- one event --------------------------------------------------------------------------------------------------

EVENT_NAME_MAX = 100
IDENTIFIER_MAX = 100
#: a meter's payload keys when its customer_mapping / value_settings do not say otherwise
DEFAULT_CUSTOMER_KEY = "stripe_customer_id"
DEFAULT_VALUE_KEY = "value"
#: "Must be within the past 35 calendar days or up to 5 minutes in the future"
PAST_WINDOW_SECONDS = 35 * 24 * 3600
FUTURE_WINDOW_SECONDS = 5 * 60
#: "Stripe enforces uniqueness within a rolling period of at least 24 hours"
IDENTIFIER_WINDOW_SECONDS = 24 * 3600
#: "You can only cancel events within 24 hours of Stripe receiving them"
CANCEL_WINDOW_SECONDS = 24 * 3600
#: the start of the text Stripe answers a repeated identifier with (400, `Stripe-Should-Retry: false`)
ALREADY_EXISTS_TEXT = "An event already exists with identifier"


class Formula(StrEnum):
    """A meter's `default_aggregation.formula`: how Stripe turns a period's events into one quantity."""

    SUM = "sum"
    COUNT = "count"
    LAST = "last"


class GroupingWindow(StrEnum):
    """`value_grouping_window` of an event summary list: start and end must then align to it (UTC)."""

    HOUR = "hour"
    DAY = "day"

    @property
    def seconds(self) -> int:
        return 3600 if self is GroupingWindow.HOUR else 86400


#: summaries take start_time (inclusive) and end_time (exclusive) on minute boundaries
SUMMARY_ALIGNMENT_SECONDS = 60


def is_already_exists(status: int | None, message: str | None) -> bool:
    """Stripe's answer to an identifier it has seen within its uniqueness window: the event is already there."""
    return status == 400 and bool(message) and str(message).startswith(ALREADY_EXISTS_TEXT)


# -- the v2 stream ----------------------------------------------------------------------------------------------

STREAM_BATCH_MAX = 100  # "Supports up to 100 events per request"
SESSION_LIFETIME_SECONDS = 15 * 60  # "Authentication tokens are only valid for 15 minutes"
#: the v2 error `type` and `code` of a stream request made with an expired session token
SESSION_EXPIRED_TYPE = "temporary_session_expired"
SESSION_EXPIRED_CODE = "billing_meter_event_session_expired"

# -- rate limits (requests per second) ----------------------------------------------------------------------------

#: test mode and sandboxes: meter events count against the basic limit
TEST_EVENTS_RATE = 25.0
#: live mode: a limit of their own, apart from the basic one
LIVE_V1_EVENTS_RATE = 1000.0
LIVE_STREAM_RATE = 10_000.0


# -- reading a meter object -----------------------------------------------------------------------------------------


def customer_key(meter: dict[str, Any]) -> str:
    mapping = meter.get("customer_mapping") or {}
    return str(mapping.get("event_payload_key") or DEFAULT_CUSTOMER_KEY)


def value_key(meter: dict[str, Any]) -> str:
    settings = meter.get("value_settings") or {}
    return str(settings.get("event_payload_key") or DEFAULT_VALUE_KEY)


def formula(meter: dict[str, Any]) -> Formula:
    aggregation = meter.get("default_aggregation") or {}
    return Formula(str(aggregation.get("formula") or Formula.SUM.value))


# -- the Dashboard's bulk upload ------------------------------------------------------------------------------------

#: "timestamp,event_name,payload_stripe_customer_id,payload_value": each payload key is a `payload_` column
BULK_PAYLOAD_PREFIX = "payload_"
BULK_UPLOAD_DOC = "https://docs.stripe.com/billing/subscriptions/usage-based/recording-usage-in-bulk-dashboard"
