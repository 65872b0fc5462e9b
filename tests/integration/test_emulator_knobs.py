"""Idempotency and the test knobs: rate limit, faults, latency, seed, state across restarts."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any, cast

import pytest
import stripe

from compiler.emulator import EmulatorHandle
from tests.integration.conftest import EmulatorFactory

PRODUCT: stripe.params.ProductCreateParams = {"name": "Suite"}


# -- idempotency ----------------------------------------------------------------------------------------------


def test_replay_returns_the_same_object_with_the_replayed_header(emulator: EmulatorHandle) -> None:
    client = emulator.client()
    first = client.v1.products.create(params=PRODUCT, options={"idempotency_key": "create-suite"})
    again = client.v1.products.create(params=PRODUCT, options={"idempotency_key": "create-suite"})
    assert again.id == first.id
    assert again.last_response is not None
    assert again.last_response.headers.get("Idempotent-Replayed") == "true"
    assert len(client.v1.products.list().data) == 1
    assert [e["replayed"] for e in emulator.requests()[:2]] == [False, True]


def test_same_key_other_params_is_an_idempotency_error(emulator: EmulatorHandle) -> None:
    client = emulator.client()
    client.v1.products.create(params=PRODUCT, options={"idempotency_key": "k"})
    with pytest.raises(stripe.IdempotencyError) as info:
        client.v1.products.create(params={"name": "Other"}, options={"idempotency_key": "k"})
    assert info.value.http_status == 400
    assert info.value.json_body is not None
    assert cast(dict[str, Any], info.value.json_body)["error"]["type"] == "idempotency_error"


def test_validation_failures_are_not_stored(emulator: EmulatorHandle) -> None:
    client = emulator.client()
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.products.create(params={"id": "x"}, options={"idempotency_key": "k"})  # type: ignore[typeddict-item]
    # Different params under the same key are fine: the rejected request left nothing behind.
    product = client.v1.products.create(params={"id": "x", "name": "X"}, options={"idempotency_key": "k"})
    assert product.name == "X"


def test_keys_are_not_used_on_get(emulator: EmulatorHandle) -> None:
    status, headers, _ = emulator.raw("GET", "/v1/products", headers={"Idempotency-Key": "g"})
    assert status == 200
    assert "Idempotent-Replayed" not in headers


# -- rate limit -----------------------------------------------------------------------------------------------


def test_rate_limit_answers_429_with_should_retry(emulator_factory: EmulatorFactory) -> None:
    emu = emulator_factory(rate_limit=3)
    client = emu.client()
    for _ in range(3):
        client.v1.products.list()
    with pytest.raises(stripe.RateLimitError) as info:
        client.v1.products.list()
    assert info.value.http_status == 429
    assert info.value.json_body is not None
    assert cast(dict[str, Any], info.value.json_body)["error"]["code"] == "rate_limit"
    assert info.value.headers is not None and info.value.headers.get("Stripe-Should-Retry") == "true"
    time.sleep(1.05)  # the window slides
    assert client.v1.products.list().data == []


def test_sdk_retries_a_rate_limited_request(emulator_factory: EmulatorFactory) -> None:
    emu = emulator_factory(rate_limit=2)
    client = emu.client(max_network_retries=3)
    for _ in range(3):
        client.v1.products.create(params=PRODUCT)
    statuses = [e["status"] for e in emu.requests()]
    assert 429 in statuses
    assert statuses.count(200) == 3


# -- faults ---------------------------------------------------------------------------------------------------


def run_until_faults(emu: EmulatorHandle, count: int) -> list[tuple[str | None, str]]:
    """Create products until `count` faults happened; returns (fault kind, product id) per 500."""
    client = emu.client()
    seen: list[tuple[str | None, str]] = []
    for i in range(200):
        try:
            client.v1.products.create(params={"id": f"p{i}", "name": "P"}, options={"idempotency_key": f"k{i}"})
        except stripe.APIError as err:
            assert err.http_status == 500
            seen.append((emu.requests()[-1]["fault"], f"p{i}"))
            if len(seen) == count:
                break
    return seen


def test_faults_before_and_after_commit(emulator_factory: EmulatorFactory) -> None:
    emu = emulator_factory(fail_rate=0.5, seed=7)
    faults = run_until_faults(emu, 8)
    client = emu.client()
    kinds = {kind for kind, _ in faults}
    assert kinds == {"before_commit", "after_commit"}
    for kind, product_id in faults:
        exists = any(p.id == product_id for p in client.v1.products.list(params={"limit": 100}).data)
        assert exists is (kind == "after_commit"), (kind, product_id)


def test_a_fault_after_commit_is_replayed_for_its_key(emulator_factory: EmulatorFactory) -> None:
    emu = emulator_factory(fail_rate=0.5, seed=7)
    after = next(pid for kind, pid in run_until_faults(emu, 8) if kind == "after_commit")
    key = f"k{after[1:]}"
    client = emu.client()
    with pytest.raises(stripe.APIError) as info:
        client.v1.products.create(params={"id": after, "name": "P"}, options={"idempotency_key": key})
    assert info.value.headers is not None
    assert info.value.headers.get("Idempotent-Replayed") == "true"
    # Stripe can't know the write committed, so it says nothing about retrying: the same key only replays
    assert "Stripe-Should-Retry" not in info.value.headers
    assert client.v1.products.retrieve(after).id == after  # the way out: read the account again


def test_a_fault_before_commit_is_not_stored_for_its_key(emulator_factory: EmulatorFactory) -> None:
    emu = emulator_factory(fail_rate=0.5, seed=7)
    before = next(pid for kind, pid in run_until_faults(emu, 8) if kind == "before_commit")
    client = emu.client()
    # The retry runs afresh: it may succeed or meet a new fault, but it is never a replay.
    with contextlib.suppress(stripe.APIError):
        client.v1.products.create(params={"id": before, "name": "P"}, options={"idempotency_key": f"k{before[1:]}"})
    assert emu.requests()[-1]["replayed"] is False
    assert emu.requests()[-1]["idempotency_key"] == f"k{before[1:]}"


def test_faults_repeat_with_the_seed(emulator_factory: EmulatorFactory) -> None:
    first = run_until_faults(emulator_factory(fail_rate=0.3, seed=42), 5)
    second = run_until_faults(emulator_factory(fail_rate=0.3, seed=42), 5)
    assert first == second


def test_seed_makes_ids_reproducible(emulator_factory: EmulatorFactory) -> None:
    ids = [emulator_factory(seed=3).client().v1.products.create(params=PRODUCT).id for _ in range(2)]
    assert ids[0] == ids[1]


def test_reads_never_fault(emulator_factory: EmulatorFactory) -> None:
    emu = emulator_factory(fail_rate=1.0, seed=1)
    for _ in range(5):
        assert emu.client().v1.products.list().data == []


# -- latency and state ----------------------------------------------------------------------------------------


def test_latency_is_added(emulator_factory: EmulatorFactory) -> None:
    client = emulator_factory(latency_ms=100).client()
    started = time.perf_counter()
    client.v1.products.list()
    assert time.perf_counter() - started >= 0.1


def test_state_survives_a_restart(emulator_factory: EmulatorFactory, tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    first = emulator_factory(state_path=state)
    first.client().v1.products.create(params={"id": "suite", "name": "Suite"}, options={"idempotency_key": "k"})
    first.client().v1.products.create(params={"id": "later", "name": "Later"})
    first.stop()
    second = emulator_factory(state_path=state)
    client = second.client()
    assert [p.id for p in client.v1.products.list().data] == ["later", "suite"]
    replay = client.v1.products.create(params={"id": "suite", "name": "Suite"}, options={"idempotency_key": "k"})
    assert replay.last_response is not None
    assert replay.last_response.headers.get("Idempotent-Replayed") == "true"
    second.reset()
    assert emulator_factory(state_path=state).client().v1.products.list().data == []


def test_a_seeded_restart_does_not_reuse_ids(emulator_factory: EmulatorFactory, tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    first = emulator_factory(seed=5, state_path=state)
    old = first.client().v1.products.create(params=PRODUCT).id
    first.stop()
    client = emulator_factory(seed=5, state_path=state).client()
    new = client.v1.products.create(params=PRODUCT).id
    assert new != old
    assert {p.id for p in client.v1.products.list().data} == {old, new}


def test_unsupported_methods_get_stripes_404(emulator: EmulatorHandle) -> None:
    status, _, body = emulator.raw("PUT", "/v1/products", "name=x")
    assert status == 404
    assert "Unrecognized request URL" in body["error"]["message"]
