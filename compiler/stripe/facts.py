"""Stripe's facts that pricebook relies on, each written once: limits, field names, the pinned API version, and
the error texts Stripe answers with.

Every limit says what it limits, the Stripe page it rests on and how sure we are of it (`Certainty`). The rules,
the schema's messages, the loader, the account reader, the gateway and the emulator read these values; a test
holds the numbers of `schemas/catalog.schema.json` equal to them, and `docs/rules.md` cites their pages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Certainty(StrEnum):
    """How sure pricebook is of a fact about Stripe."""

    #: Stripe states it: its docs, its API reference, its OpenAPI spec or the SDK docstrings generated from it
    VERIFIED = "verified"
    #: follows from what Stripe states, though Stripe does not state it for this case or with this number
    INFERRED = "inferred"
    #: no Stripe source states it; pricebook only warns where it rests on one of these
    UNVERIFIED = "unverified"


@dataclass(frozen=True)
class Limit:
    """One of Stripe's numeric limits: the number, what it limits, the page it rests on, how sure we are."""

    value: int
    limits: str
    doc: str
    certainty: Certainty


VERIFIED, INFERRED, UNVERIFIED = Certainty.VERIFIED, Certainty.INFERRED, Certainty.UNVERIFIED

# --- where the facts are written down -------------------------------------------------------------------

PRICE_DOC = "https://docs.stripe.com/api/prices/create"
PLAN_DOC = "https://docs.stripe.com/api/plans/create"
PRODUCT_DOC = "https://docs.stripe.com/api/products/create"
METER_DOC = "https://docs.stripe.com/api/billing/meter/create"
METADATA_DOC = "https://docs.stripe.com/api/metadata"
CURRENCIES_DOC = "https://docs.stripe.com/currencies"
PAGINATION_DOC = "https://docs.stripe.com/api/pagination"
RATE_LIMITS_DOC = "https://docs.stripe.com/rate-limits"
BASIL_METERS_DOC = "https://docs.stripe.com/changelog/basil/2025-03-31/deprecate-legacy-usage-based-billing"

#: The Stripe API version pricebook speaks: pinned on every request, written into every saved plan, shown in every
#: plan and spoken by the emulator; the stripe SDK pinned in pyproject.toml is the release generated for it. (This
#: module loads no SDK: commands that never talk to Stripe show it too.)
API_VERSION = "2026-10-28.endive"

# --- amounts --------------------------------------------------------------------------------------------

MAX_AMOUNT = Limit(
    99_999_999,
    "an integer amount in minor units (Stripe documents eight digits for a charge; prices are taken alike)",
    CURRENCIES_DOC + "#minimum-and-maximum-charge-amounts",
    INFERRED,
)
DECIMAL_PLACES = Limit(
    12, "decimal places of a `*_decimal` amount", PRICE_DOC + "#create_price-unit_amount_decimal", VERIFIED
)
DECIMAL_LENGTH = Limit(
    40,
    "characters of a `*_decimal` amount (eight whole digits and twelve decimals fit in 21; longer is far above "
    "any amount Stripe holds)",
    PRICE_DOC + "#create_price-unit_amount_decimal",
    INFERRED,
)

#: the integer and decimal-string field of each amount; Stripe takes one of the two
AMOUNT_PAIRS: tuple[tuple[str, str], ...] = (
    ("unit_amount", "unit_amount_decimal"),
    ("amount", "amount_decimal"),
    ("flat_amount", "flat_amount_decimal"),
)
#: the bounds of a customer-chosen amount (`custom_unit_amount`), integers in minor units
CUSTOM_AMOUNT_BOUNDS = ("minimum", "maximum", "preset")
#: fields that carry an integer amount in the currency's minor unit: never floats
MONEY_FIELDS = frozenset({integer for integer, _ in AMOUNT_PAIRS} | set(CUSTOM_AMOUNT_BOUNDS))
#: decimal amounts travel as strings so that no digit is lost
DECIMAL_FIELDS = frozenset(decimal for _, decimal in AMOUNT_PAIRS)
#: the amount pairs of one tier
TIER_AMOUNT_PAIRS: tuple[tuple[str, str], ...] = (AMOUNT_PAIRS[0], AMOUNT_PAIRS[2])

# --- tiers, periods, trials -----------------------------------------------------------------------------

MAX_TIERS = Limit(
    100,
    "tiers of one price (Stripe documents no limit; pricebook warns above this)",
    PRICE_DOC + "#create_price-tiers",
    UNVERIFIED,
)
TRIAL_DAYS = Limit(
    730,
    "a plan's trial_period_days or a price's recurring.trial_period_days (Stripe's error for longer subscription "
    "trials; taken to hold for plans and prices too)",
    PLAN_DOC + "#create_plan-trial_period_days",
    INFERRED,
)

#: The longest billing period, per interval: "Maximum of three years interval allowed (3 years, 36 months, or
#: 156 weeks)". Stripe names no day count; 1095 days is three years of 365 days (a longer count may pass three
#: years, so pricebook refuses it).
_PERIOD_DOC = PRICE_DOC + "#create_price-recurring-interval_count"
INTERVAL_COUNT: Mapping[str, Limit] = {
    interval: Limit(count, f"interval_count of a price or plan billed every {interval}", _PERIOD_DOC, certainty)
    for interval, count, certainty in (
        ("year", 3, VERIFIED),
        ("month", 36, VERIFIED),
        ("week", 156, VERIFIED),
        ("day", 1095, INFERRED),
    )
}
#: how Stripe's interval errors name a price of each interval ("The interval_count for monthly prices ...")
INTERVAL_ADJECTIVE: Mapping[str, str] = {"day": "daily", "week": "weekly", "month": "monthly", "year": "yearly"}

# --- metadata -------------------------------------------------------------------------------------------

#: counted on the object as it is after a request: an update's keys join the ones it has, and the ones it unsets
#: (`metadata[key]=""`) leave ("You can add 50 total key-value pairs", https://docs.stripe.com/metadata)
METADATA_KEYS = Limit(50, "metadata keys of one object", METADATA_DOC, VERIFIED)
METADATA_KEY_LENGTH = Limit(40, "characters of a metadata key (which may not contain [ or ])", METADATA_DOC, VERIFIED)
METADATA_VALUE_LENGTH = Limit(500, "characters of a metadata value", METADATA_DOC, VERIFIED)
#: characters a metadata key may not contain
METADATA_KEY_FORBIDDEN = "[]"

# --- strings and lists ----------------------------------------------------------------------------------

STRING_LENGTH = Limit(5000, "characters of a string parameter without a limit of its own", PRICE_DOC, VERIFIED)
PRODUCT_DESCRIPTION = Limit(
    40_000, "characters of a product's description", PRODUCT_DOC + "#create_product-description", VERIFIED
)
STATEMENT_DESCRIPTOR = Limit(
    22, "characters of a product's statement_descriptor", PRODUCT_DOC + "#create_product-statement_descriptor", VERIFIED
)
#: characters a statement descriptor may not contain (it must also contain at least one letter)
STATEMENT_DESCRIPTOR_FORBIDDEN = "<>\\\"'"
UNIT_LABEL = Limit(12, "characters of a product's unit_label", PRODUCT_DOC + "#create_product-unit_label", VERIFIED)
PRODUCT_IMAGES = Limit(8, "image URLs of a product", PRODUCT_DOC + "#create_product-images", VERIFIED)
MARKETING_FEATURES = Limit(
    15, "marketing features of a product", PRODUCT_DOC + "#create_product-marketing_features", VERIFIED
)
PACKAGE_DIMENSION_PLACES = Limit(
    2,
    "decimal places of a product's package dimension (\"Maximum precision is 2 decimal places\")",
    PRODUCT_DOC + "#create_product-package_dimensions",
    VERIFIED,
)
MARKETING_FEATURE_NAME = Limit(
    80, "characters of a marketing feature's name", PRODUCT_DOC + "#create_product-marketing_features-name", VERIFIED
)
LOOKUP_KEY = Limit(200, "characters of a price's lookup_key", PRICE_DOC + "#create_price-lookup_key", VERIFIED)
METER_EVENT_NAME = Limit(
    100, "characters of a meter's event_name", METER_DOC + "#create_billing_meter-event_name", VERIFIED
)
METER_DISPLAY_NAME = Limit(
    250, "characters of a meter's display_name", METER_DOC + "#create_billing_meter-display_name", VERIFIED
)
METER_PAYLOAD_KEY = Limit(100, "characters of a meter's event_payload_key", METER_DOC, VERIFIED)

# --- reading and pacing ---------------------------------------------------------------------------------

LIST_LIMIT = Limit(100, "objects on one page of a list (`limit`)", PAGINATION_DOC, VERIFIED)
LOOKUP_KEYS_PER_LIST = Limit(
    10, "lookup_keys of one price list request", "https://docs.stripe.com/api/prices/list", VERIFIED
)
RATE_LIMIT_TEST = Limit(25, "requests per second in test mode", RATE_LIMITS_DOC, VERIFIED)
RATE_LIMIT_LIVE = Limit(100, "requests per second in live mode", RATE_LIMITS_DOC, VERIFIED)

# --- prices and plans: one object family, two shapes ----------------------------------------------------

#: a price's fields that the Plans API names differently
PLAN_NAME_OF: Mapping[str, str] = {
    "unit_amount": "amount",
    "unit_amount_decimal": "amount_decimal",
    "transform_quantity": "transform_usage",
}
#: the amount pair of a price (and of a currency option), and the same pair under the Plans API's names
PRICE_AMOUNT = AMOUNT_PAIRS[0]
PLAN_AMOUNT = (PLAN_NAME_OF[PRICE_AMOUNT[0]], PLAN_NAME_OF[PRICE_AMOUNT[1]])
#: the fields under a price's `recurring` that a plan has at its top level
RECURRING_FIELDS = ("interval", "interval_count", "usage_type", "meter", "trial_period_days")
#: the fields a price and a plan share under one name
FAMILY_FIELDS = ("id", "active", "billing_scheme", "currency", "metadata", "nickname", "product", "tiers", "tiers_mode")


def plan_from_price(price: Mapping[str, Any]) -> dict[str, Any]:
    """A price-shaped object (a price as Stripe renders it) in the Plans API's shape: every plan field, None
    where the price has nothing."""
    recurring = price.get("recurring")
    recurring = recurring if isinstance(recurring, Mapping) else {}
    plan: dict[str, Any] = {"object": "plan"}
    plan.update((name, price.get(name)) for name in FAMILY_FIELDS)
    plan.update((plan_name, price.get(name)) for name, plan_name in PLAN_NAME_OF.items())
    plan.update((name, recurring.get(name)) for name in RECURRING_FIELDS)
    return plan


def price_params_from_plan(plan: Mapping[str, Any]) -> dict[str, Any]:
    """Plan-shaped params in the Prices API's shape: only the fields given, the recurring ones under
    `recurring` (always present: a plan is recurring)."""
    price = {name: plan[name] for name in FAMILY_FIELDS if name in plan}
    price.update((name, plan[plan_name]) for name, plan_name in PLAN_NAME_OF.items() if plan_name in plan)
    price["recurring"] = {name: plan[name] for name in RECURRING_FIELDS if name in plan}
    return price


# --- Stripe's own words ---------------------------------------------------------------------------------
# Error texts Stripe answers with (seen in its responses as quoted in public issue threads, or its docs'
# wording where no response is on record). Rules quote them in hints; the emulator answers with them.

ONE_OF_PARAMS = "You may only specify one of these parameters: {params}."
MISSING_PARAM = "Missing required param: {param}."
REQUIRES_TIERED = "This parameter requires `billing_scheme` to be set to `tiered`."
TIER_WITHOUT_AMOUNT = "An entry in the tiers array is missing an amount."
INVALID_POSITIVE_INTEGER = "Invalid positive integer"
INTERVAL_TOO_LONG = (
    "The interval_count for {adjective} prices can't be greater than {count}. The maximum billing period is 3 years."
)
TRIAL_TOO_LONG = f"The maximum number of trial period days is {TRIAL_DAYS.value} (2 years)."
OPTION_IS_PRICE_CURRENCY = (
    "You are specifying a currency option that matches the top-level currency for this price. Please remove "
    "this currency option and it will be added automatically on creation."
)
INVALID_CURRENCY = "Invalid currency: {code}. Stripe currently supports these currencies: {supported}"
#: Stripe's answer to an ISK amount that is not a whole króna ("in Products and Prices" too), and its code
ISK_NOT_WHOLE = (
    "Invalid amount. Currency ISK has become effectively zero-decimal and charged amounts must be evenly "
    "divisible by 100. See https://stripe.com/docs/currencies#special-cases for more information."
)
ISK_NOT_WHOLE_CODE = "invalid_charge_amount_no_decimal_compatible"
LOOKUP_KEY_TAKEN = "A price (`{price}`) already uses that lookup key."
SUBSCRIPTION_MISMATCH = "Currency and interval fields must match across all plans on this subscription."
METERED_NEEDS_METER = "Metered prices must be backed by a meter: set `meter`."
DEACTIVATED_METER = "You can't attach a deactivated meter to a price: '{meter}'."
TOO_MANY_METADATA_KEYS = (
    "Metadata can have up to {limit} keys, but you've set {count}. Email us at support+metadata@stripe.com for "
    "more information."
)


# --- subscriptions: who is on a price -------------------------------------------------------------------

SUBSCRIPTION_DOC = "https://docs.stripe.com/api/subscriptions/create"
SUBSCRIPTION_LIST_DOC = "https://docs.stripe.com/api/subscriptions/list"
SUBSCRIPTION_STATUS_DOC = "https://docs.stripe.com/billing/subscriptions/overview#subscription-statuses"
TEST_CLOCK_DOC = "https://docs.stripe.com/billing/testing/test-clocks"
TEST_CARDS_DOC = "https://docs.stripe.com/testing#cards"

SUBSCRIPTIONS_PATH = "/v1/subscriptions"


class SubscriptionStatus(StrEnum):
    """A subscription's `status` (https://docs.stripe.com/api/subscriptions/object#subscription_object-status)."""

    INCOMPLETE = "incomplete"
    INCOMPLETE_EXPIRED = "incomplete_expired"
    TRIALING = "trialing"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    CANCELED = "canceled"
    UNPAID = "unpaid"
    PAUSED = "paused"


#: subscriptions that bill: invoiced now, invoiced once their trial ends, or invoiced and not yet paid
BILLING_STATUSES: tuple[SubscriptionStatus, ...] = (
    SubscriptionStatus.ACTIVE,
    SubscriptionStatus.TRIALING,
    SubscriptionStatus.PAST_DUE,
)
#: what a subscription list's `status=ended` returns; without `status` a list returns every status but canceled
ENDED_STATUSES: tuple[SubscriptionStatus, ...] = (SubscriptionStatus.CANCELED, SubscriptionStatus.INCOMPLETE_EXPIRED)

SUBSCRIPTION_ITEMS = Limit(20, "items of one subscription", SUBSCRIPTION_DOC + "#create_subscription-items", VERIFIED)
INCOMPLETE_EXPIRY = Limit(
    23 * 3600,
    "seconds a subscription stays incomplete before it expires, its first invoice unpaid",
    SUBSCRIPTION_STATUS_DOC,
    VERIFIED,
)
TEST_CLOCK_LIFETIME = Limit(
    30 * 86400, "seconds before Stripe deletes a test clock by itself", TEST_CLOCK_DOC, VERIFIED
)
TEST_CLOCK_ADVANCE_PERIODS = Limit(
    2,
    "billing periods of its shortest subscription a test clock may advance at once (two years without one)",
    "https://docs.stripe.com/api/test_clocks/advance",
    VERIFIED,
)

#: Stripe's test payment methods, and whether a charge to each succeeds (`pm_card_chargeCustomerFail` attaches to
#: the customer, then every charge to it fails)
TEST_PAYMENT_METHODS: Mapping[str, bool] = {
    "pm_card_visa": True,
    "pm_card_visa_debit": True,
    "pm_card_mastercard": True,
    "pm_card_amex": True,
    "pm_card_chargeCustomerFail": False,
}

NO_PAYMENT_METHOD = (
    "This customer has no attached payment source or default payment method. Please consider adding a default "
    "payment method. For more information, visit "
    "https://docs.stripe.com/billing/subscriptions/payment-methods-setting#payment-method-priority."
)
PAYMENT_METHOD_NOT_ATTACHED = (
    "The customer does not have a payment method with the ID {method}. The payment method must be attached to the "
    "customer."
)
CARD_DECLINED = "Your card was declined."
ONE_CURRENCY_PER_CUSTOMER = (
    "You cannot combine currencies on a single customer. This customer has had a subscription, coupon, or invoice "
    "item with currency {currency}"
)
ONE_TIME_PRICE_ON_SUBSCRIPTION = (
    "The price specified is set to `type=one_time` but this field only accepts prices with `type=recurring`."
)
INACTIVE_PRICE_ON_SUBSCRIPTION = "The {kind} specified is inactive. This field only accepts active {kind}s."
QUANTITY_ON_METERED_ITEM = (
    "Quantity should not be specified where usage_type is `metered`. Remove quantity from `items[{index}]`."
)


# --- meter events: recording usage ----------------------------------------------------------------------

METER_EVENT_DOC = "https://docs.stripe.com/api/billing/meter-event/create"
METER_ADJUSTMENT_DOC = "https://docs.stripe.com/api/billing/meter-event-adjustment/create"
METER_STREAM_DOC = "https://docs.stripe.com/api/v2/billing-meter-stream"
RECORDING_USAGE_DOC = "https://docs.stripe.com/billing/subscriptions/usage-based/recording-usage-api"
METER_CONFIG_DOC = "https://docs.stripe.com/billing/subscriptions/usage-based/meters/configure"
BULK_UPLOAD_DOC = "https://docs.stripe.com/billing/subscriptions/usage-based/recording-usage-in-bulk-dashboard"

METERS_PATH = "/v1/billing/meters"
METER_EVENTS_PATH = "/v1/billing/meter_events"
METER_EVENT_ADJUSTMENTS_PATH = "/v1/billing/meter_event_adjustments"
METER_EVENT_SESSION_PATH = "/v2/billing/meter_event_session"
#: sent to the SDK's separate `meter_events` base address, authenticated with a session's token
METER_EVENT_STREAM_PATH = "/v2/billing/meter_event_stream"


def meter_event_summaries_path(meter_id: str) -> str:
    return f"{METERS_PATH}/{meter_id}/event_summaries"


#: an event's `event_name` is a meter's: METER_EVENT_NAME limits both
METER_EVENT_IDENTIFIER = Limit(
    100,
    "characters of a meter event's identifier",
    METER_EVENT_DOC + "#create_billing_meter_event-identifier",
    VERIFIED,
)
METER_EVENT_PAST = Limit(
    35 * 86400,
    "seconds a meter event's timestamp may lie in the past (35 calendar days)",
    METER_EVENT_DOC + "#create_billing_meter_event-timestamp",
    VERIFIED,
)
METER_EVENT_FUTURE = Limit(
    5 * 60,
    "seconds a meter event's timestamp may lie ahead (5 minutes, for clock drift)",
    METER_EVENT_DOC + "#create_billing_meter_event-timestamp",
    VERIFIED,
)
METER_EVENT_IDENTIFIER_WINDOW = Limit(
    24 * 3600,
    "seconds Stripe refuses a meter event identifier it has seen ('a rolling period of at least 24 hours')",
    METER_EVENT_DOC + "#create_billing_meter_event-identifier",
    VERIFIED,
)
METER_EVENT_CANCEL_WINDOW = Limit(
    24 * 3600, "seconds after receiving an event that Stripe still cancels it", METER_ADJUSTMENT_DOC, VERIFIED
)
METER_STREAM_BATCH = Limit(100, "events of one meter event stream request", METER_STREAM_DOC, VERIFIED)
METER_STREAM_SESSION = Limit(900, "seconds a meter event session's token is valid", METER_STREAM_DOC, VERIFIED)
RATE_LIMIT_METER_EVENTS_LIVE = Limit(
    1000,
    "v1 meter event calls per second in live mode, apart from the basic limit (test mode counts them in it)",
    RATE_LIMITS_DOC,
    VERIFIED,
)
RATE_LIMIT_METER_STREAM_LIVE = Limit(
    10_000, "meter event stream requests per second in live mode", METER_STREAM_DOC, VERIFIED
)
SUMMARY_ALIGNMENT = Limit(
    60,
    "seconds an event summary's start_time and end_time are aligned to",
    "https://docs.stripe.com/api/billing/meter-event-summary/list",
    VERIFIED,
)

#: a meter's payload keys when its customer_mapping / value_settings do not say otherwise
DEFAULT_CUSTOMER_PAYLOAD_KEY = "stripe_customer_id"
DEFAULT_VALUE_PAYLOAD_KEY = "value"
#: the Dashboard's bulk upload takes `timestamp,event_name,payload_stripe_customer_id,payload_value`: each payload
#: key is a column of its own
BULK_PAYLOAD_PREFIX = "payload_"


class MeterFormula(StrEnum):
    """A meter's `default_aggregation.formula`: how Stripe turns a period's events into one quantity."""

    SUM = "sum"
    COUNT = "count"
    LAST = "last"


class GroupingWindow(StrEnum):
    """An event summary list's `value_grouping_window`: its start and end then align to it (UTC)."""

    HOUR = "hour"
    DAY = "day"

    @property
    def seconds(self) -> int:
        return 3600 if self is GroupingWindow.HOUR else 86400


def meter_customer_key(meter: Mapping[str, Any]) -> str:
    mapping = meter.get("customer_mapping") or {}
    return str(mapping.get("event_payload_key") or DEFAULT_CUSTOMER_PAYLOAD_KEY)


def meter_value_key(meter: Mapping[str, Any]) -> str:
    settings = meter.get("value_settings") or {}
    return str(settings.get("event_payload_key") or DEFAULT_VALUE_PAYLOAD_KEY)


def meter_formula(meter: Mapping[str, Any]) -> MeterFormula:
    aggregation = meter.get("default_aggregation") or {}
    return MeterFormula(str(aggregation.get("formula") or MeterFormula.SUM.value))


#: Stripe's answer to an identifier it has seen within its window: 400, `Stripe-Should-Retry: false`
EVENT_ALREADY_EXISTS = "An event already exists with identifier {identifier}."
EVENT_TIMESTAMP_WINDOW = "The timestamp must be within the past 35 calendar days or up to 5 minutes in the future."
#: the v2 error of a stream request made with an expired session token (401)
SESSION_EXPIRED = "The temporary session token has expired."
SESSION_EXPIRED_TYPE = "temporary_session_expired"
SESSION_EXPIRED_CODE = "billing_meter_event_session_expired"


def is_event_already_exists(status: int | None, message: str | None) -> bool:
    """Stripe's answer to an identifier it already has: the event is there."""
    head = EVENT_ALREADY_EXISTS.split("{", 1)[0]
    return status == 400 and bool(message) and str(message).startswith(head)


# --- the account ----------------------------------------------------------------------------------------

ACCOUNT_DOC = "https://docs.stripe.com/api/accounts/retrieve"
#: the account the key belongs to (`acct_...`); a restricted key needs a permission of its own to read it
ACCOUNT_PATH = "/v1/account"
RESTRICTED_KEYS_DOC = "https://docs.stripe.com/keys/restricted-api-keys"
#: Stripe's 403 to a restricted key without the permission an endpoint needs
KEY_LACKS_PERMISSION = (
    "The provided key '{key}' does not have the required permissions for this endpoint on account '{account}'."
)
