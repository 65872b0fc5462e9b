from __future__ import annotations

import pytest

from compiler.changes.changeset import Action, Change, ChangeSet, FieldChange, Note, Problem
from compiler.stripe.calls import ApiCall, CallAction, placeholder
from compiler.stripe.kinds import Kind


def _price_call() -> ApiCall:
    return ApiCall(
        "POST",
        "/v1/prices",
        {"currency": "usd", "recurring": {"meter": placeholder("meter.emails_sent")}},
        "price.emails",
        CallAction.CREATE,
        creates="price.emails",
        depends_on=("meter.emails_sent",),
    )


def test_placeholders_are_found_and_resolved() -> None:
    call = _price_call()
    assert call.placeholders() == {"meter.emails_sent"}
    resolved = call.resolve({"meter.emails_sent": "mtr_123"})
    assert resolved.params["recurring"]["meter"] == "mtr_123"
    assert resolved.placeholders() == set()
    with pytest.raises(KeyError):
        call.resolve({})


def test_a_user_string_shaped_like_a_placeholder_is_sent_as_written() -> None:
    call = ApiCall("POST", "/v1/prices", {"nickname": "{{price.other}}"}, "price.a", CallAction.CREATE)
    assert call.placeholders() == set()
    assert call.resolve({"price.other": "price_1"}).params["nickname"] == "{{price.other}}"


def test_idempotency_key_is_derived_from_the_call_and_the_account() -> None:
    call = _price_call()
    assert call.idempotency_key("fp1") == call.idempotency_key("fp1")
    assert call.idempotency_key("fp1") != call.idempotency_key("fp2")
    other = ApiCall("POST", "/v1/prices", {"currency": "eur"}, "price.emails", CallAction.CREATE)
    assert other.idempotency_key("fp1") != call.idempotency_key("fp1")
    assert len(call.idempotency_key("fp1")) <= 255  # Stripe's limit


def test_changeset_round_trips_through_json() -> None:
    changeset = ChangeSet(
        changes=(
            Change(
                Kind.PRICE,
                "emails",
                Action.REPLACE,
                "unit_amount changed",
                live_id="price_1",
                fields=(FieldChange("unit_amount", 10, 12, True),),
                notes=(Note("subscriptions keep the old price"),),
                impact=({"quantity": 1000, "before": "$0.10", "after": "$0.12"},),
            ),
        ),
        calls=(_price_call(),),
        problems=(Problem("plan.x", "plan-immutable-field", "amount cannot change", "use a new plan id"),),
        api_version="2026-10-28.endive",
        fingerprint="abc",
    )
    again = ChangeSet.from_json(changeset.to_json())
    assert again == changeset
    assert again.has_changes
    assert again.counts()["replace"] == 1
