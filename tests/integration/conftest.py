"""Fixtures for tests that talk to the emulator over HTTP with the real stripe SDK.

- `emulator`: a fresh, empty emulator with no knobs. One server serves the whole session (startup is cheap,
  but a reset is cheaper); it is reset before each test.
- `emulator_factory(state_path=..., **knobs)`: its own server with those `Knobs` (rate_limit, fail_rate,
  latency_ms, seed, meter_event_rate_limit, meter_event_delay_ms), stopped when the test ends.

Both give an `EmulatorHandle`: `.url`, `.api_key`, `.client()`, `.requests()`, `.reset()`.

- `client`: a `stripe.StripeClient` on `emulator`, with a product `suite` to hang prices and plans on.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import stripe

from compiler.emulator import EmulatorHandle, Knobs, run_in_thread

EmulatorFactory = Callable[..., EmulatorHandle]
REPO = Path(__file__).resolve().parents[2]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def _shared_emulator() -> Iterator[EmulatorHandle]:
    with run_in_thread() as handle:
        yield handle


@pytest.fixture
def emulator(_shared_emulator: EmulatorHandle) -> EmulatorHandle:
    _shared_emulator.reset()
    return _shared_emulator


@pytest.fixture
def client(emulator: EmulatorHandle) -> stripe.StripeClient:
    c = emulator.client()
    c.v1.products.create(params={"id": "suite", "name": "Suite"})
    return c


@pytest.fixture
def emulator_factory() -> Iterator[EmulatorFactory]:
    started: list[EmulatorHandle] = []

    def start(*, state_path: Path | None = None, **knobs: Any) -> EmulatorHandle:
        """A server with these `Knobs` (their names as keywords: a misspelt one is a TypeError)."""
        handle = run_in_thread(knobs=Knobs(**knobs), state_path=state_path)
        started.append(handle)
        return handle

    yield start
    for handle in started:
        handle.stop()


@pytest.fixture
def plans(tmp_path: Path) -> Path:
    """A copy of the example catalog `plans/` that a test may edit."""
    target = tmp_path / "plans"
    shutil.copytree(REPO / "plans", target)
    return target
