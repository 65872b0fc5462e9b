"""`pricebook emulator --state`: the account in SQLite, written after every request, whatever kind of record the
request changed, and nothing lost to a crash (kill -9 in the middle of an apply)."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import stripe

from compiler.emulator import TEST_API_KEY, Emulator, EmulatorHandle, Knobs, ProcessHandle, StateFileError
from compiler.emulator.runner import free_port, run_in_subprocess, run_in_thread
from compiler.emulator.server import EmulatorServer
from tests.cli import PRICEBOOK, REPO

MONTH = {"interval": "month"}
ENV = {**{k: v for k, v in os.environ.items() if not k.startswith("STRIPE_")}, "STRIPE_API_KEY": TEST_API_KEY}


def pricebook(args: list[str]) -> subprocess.CompletedProcess[str]:
    """`pricebook ARGS` in a subprocess, with the emulator's test key (the API base in ARGS)."""
    return subprocess.run([*PRICEBOOK, *args], env=ENV, cwd=REPO, capture_output=True, text=True, timeout=180)


def kept(path: Path) -> dict[str, Any]:
    """What a restart on `path` would find: a fresh store and idempotency keys read back from the file."""
    fresh = Emulator(state_path=path)
    try:
        return {"store": fresh.store.to_json(), "idempotency": dict(fresh.idempotency.entries)}
    finally:
        fresh.close()


class Checking(Emulator):
    """An emulator that, after every request, reads its state file back into a fresh emulator and notes each
    request after which the file did not hold what the account holds."""

    def __init__(self, knobs: Knobs | None, state_path: Path) -> None:
        super().__init__(knobs, state_path=state_path)
        self.path = state_path
        self.missed: list[str] = []

    def handle(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Any:
        response = super().handle(method, target, headers, body)
        if not target.startswith("/_emulator/"):
            with self._lock:
                now = {"store": self.store.to_json(), "idempotency": dict(self.idempotency.entries)}
            if kept(self.path) != now:
                self.missed.append(f"{method} {target}")
        return response


@pytest.fixture
def checking(tmp_path: Path) -> Iterator[tuple[EmulatorHandle, Checking]]:
    emulator = Checking(Knobs(fail_rate=0.2, seed=7), tmp_path / "state.db")
    server = EmulatorServer(emulator, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    handle = EmulatorHandle(server, thread)
    yield handle, emulator
    handle.stop()


def attempt(call: Any, *args: Any, **kwargs: Any) -> Any:
    """One SDK call through the injected faults: a 500 (or a refusal that follows from one, the write having
    committed) is part of what the file must keep."""
    try:
        return call(*args, **kwargs)
    except stripe.StripeError:
        return None


def test_every_kind_of_write_is_in_the_file_before_its_answer(checking: tuple[EmulatorHandle, Checking]) -> None:
    handle, emulator = checking
    c = handle.client()
    key = iter(range(1000))

    def k() -> dict[str, str]:
        return {"idempotency_key": f"k{next(key)}"}

    for _ in range(3):  # faults strike at random: the same writes again, under the same keys, until they land
        key = iter(range(1000))
        attempt(c.v1.products.create, params={"id": "suite", "name": "Suite"}, options=k())
        attempt(
            c.v1.products.create,
            params={"id": "bundle", "name": "Bundle", "default_price_data": {"currency": "usd", "unit_amount": 9}},
            options=k(),
        )
    attempt(c.v1.products.update, "suite", params={"description": "All of it", "metadata": {"a": "1"}})
    attempt(c.v1.products.update, "suite", params={"description": "", "metadata": {"a": ""}})
    tiered = {
        "product": "suite",
        "currency": "usd",
        "billing_scheme": "tiered",
        "tiers_mode": "graduated",
        "tiers": [{"up_to": 5, "unit_amount": 700}, {"up_to": "inf", "unit_amount": 650}],
        "recurring": MONTH,
        "lookup_key": "seats",
        "currency_options": {
            "eur": {"tiers": [{"up_to": 5, "unit_amount": 600}, {"up_to": "inf", "unit_amount": 550}]}
        },
    }
    old = attempt(c.v1.prices.create, params=tiered, options=k())
    new = attempt(
        c.v1.prices.create, params={**tiered, "transfer_lookup_key": True, "nickname": "Seats 2"}, options=k()
    )
    for price in (old, new):
        if price is not None:
            attempt(c.v1.prices.update, price.id, params={"currency_options": {"eur": {"tax_behavior": "exclusive"}}})
            attempt(c.v1.prices.update, price.id, params={"active": False, "metadata": {"gone": "yes"}})
    plan = attempt(
        c.v1.plans.create,
        params={"id": "gold", "product": "suite", "currency": "usd", "amount": 2000, "interval": "month"},
    )
    if plan is not None:
        attempt(c.v1.plans.update, "gold", params={"trial_period_days": 14})  # a value inside `recurring`
        attempt(c.v1.plans.delete, "gold")
    meter = attempt(
        c.v1.billing.meters.create,
        params={"display_name": "Emails", "event_name": "emails", "default_aggregation": {"formula": "sum"}},
    )
    if meter is not None:
        attempt(c.v1.billing.meters.update, meter.id, params={"display_name": "Emails sent"})
        attempt(c.v1.billing.meters.deactivate, meter.id)
        attempt(c.v1.billing.meters.reactivate, meter.id)
    who = attempt(c.v1.customers.create, params={"name": "Ada"})
    seats = attempt(
        c.v1.prices.create, params={"product": "suite", "currency": "usd", "unit_amount": 5, "recurring": MONTH}
    )
    if who is not None:
        attempt(
            c.v1.billing.meter_events.create,
            params={
                "event_name": "emails",
                "payload": {"value": "3", "stripe_customer_id": who.id},
                "identifier": "e1",
            },
        )
        attempt(
            c.v1.billing.meter_event_adjustments.create,
            params={"event_name": "emails", "type": "cancel", "cancel": {"identifier": "e1"}},
        )
        if seats is not None:
            sub = attempt(c.v1.subscriptions.create, params={"customer": who.id, "items": [{"price": seats.id}]})
            if sub is not None:
                attempt(c.v1.subscriptions.update, sub.id, params={"metadata": {"seats": "3"}})
                attempt(c.v1.subscriptions.cancel, sub.id)
    session = attempt(c.v2.billing.meter_event_session.create)
    if session is not None:
        stream = stripe.StripeClient(
            session.authentication_token, base_addresses={"api": handle.url, "meter_events": handle.url}
        )
        attempt(
            stream.v2.billing.meter_event_stream.create,
            params={"events": [{"event_name": "emails", "payload": {"value": "2", "stripe_customer_id": "cus_x"}}]},
        )
    clock = attempt(c.v1.test_helpers.test_clocks.create, params={"frozen_time": int(time.time())})
    if clock is not None:
        attempt(c.v1.test_helpers.test_clocks.advance, clock.id, params={"frozen_time": int(time.time()) + 86400})
    writes = [r for r in handle.requests() if r["method"] != "GET"]
    assert len(writes) > 20 and any(r["fault"] for r in writes)
    assert emulator.missed == []
    handle.reset()
    assert kept(emulator.path)["store"]["prices"] == {}


def test_the_account_stays_the_same_account_through_a_restart_and_a_reset(tmp_path: Path) -> None:
    path = tmp_path / "account.db"
    first = Emulator(state_path=path)  # no seed: a random account id
    account = first.store.account_id
    first.close()
    again = Emulator(state_path=path)
    try:
        assert again.store.account_id == account
        again.reset()
        assert again.store.account_id == account
    finally:
        again.close()
    assert kept(path)["store"]["account_id"] == account


def test_the_account_clock_stays_ahead_through_a_restart(tmp_path: Path) -> None:
    # meter events and their 35-day window are judged by the account's clock: a restart must not move it back
    path = tmp_path / "account.db"
    with run_in_thread(state_path=path) as emulator:
        status, _, answer = emulator.raw("POST", "/_emulator/clock?advance=86400", "", api_key=None)
        assert status == 200
        before = int(answer["now"])
        assert before >= time.time() + 86_000
    again = Emulator(state_path=path)
    try:
        assert again.store.now() >= before
    finally:
        again.close()


def test_a_file_that_is_not_a_state_file_is_refused(tmp_path: Path) -> None:
    old = tmp_path / "state.json"
    old.write_text('{"store": {}}')
    with pytest.raises(StateFileError, match="not an emulator state file"):
        Emulator(state_path=old)
    result = pricebook(["emulator", "--port", str(free_port()), "--state", str(old)])
    assert result.returncode == 1 and "not an emulator state file" in result.stderr


CATALOG_PRICES = 240


def write_catalog(directory: Path) -> None:
    lines = ["products:", "  - id: crash_suite", "    name: Crash suite", "    prices:"]
    for n in range(CATALOG_PRICES):
        lines += [
            f"      - lookup_key: crash_{n:04d}",
            "        currency: usd",
            f"        unit_amount: {100 + n}",
            "        recurring: {interval: month}",
        ]
    directory.mkdir()
    (directory / "crash.yaml").write_text("\n".join(lines) + "\n")


def writes(emulator: ProcessHandle) -> int:
    log = emulator.control("GET", "requests")
    return sum(1 for r in log["data"] if r["method"] == "POST")


def test_kill_9_in_the_middle_of_an_apply_loses_nothing_and_a_second_apply_duplicates_nothing(
    tmp_path: Path,
) -> None:
    catalog, state = tmp_path / "plans", tmp_path / "state.db"
    write_catalog(catalog)
    port = free_port()
    first = run_in_subprocess(port=port, state_path=state)
    command = [*PRICEBOOK, "apply", str(catalog), "--auto-approve", "--api-base", first.url]
    apply = subprocess.Popen(command, env=ENV, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while writes(first) < CATALOG_PRICES // 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        first.process.send_signal(signal.SIGKILL)  # no shutdown of any kind: mid-request, mid-commit
        first.process.wait()
        apply.wait(timeout=120)
    finally:
        if apply.poll() is None:
            apply.kill()
        first.stop()
    assert apply.returncode == 1  # it lost the emulator half-way
    second = run_in_subprocess(port=port, state_path=state)
    try:
        again = pricebook(["apply", str(catalog), "--auto-approve", "--api-base", second.url])
        assert again.returncode == 0, again.stderr
        client = second.client()
        prices = [p for p in client.v1.prices.list(params={"limit": 100}).auto_paging_iter()]
        archived = list(client.v1.prices.list(params={"limit": 100, "active": False}).auto_paging_iter())
        assert sorted(str(p.lookup_key) for p in prices) == [f"crash_{n:04d}" for n in range(CATALOG_PRICES)]
        assert archived == []  # nothing created twice and archived again
        plan = pricebook(["plan", str(catalog), "--detailed-exitcode", "--api-base", second.url])
        assert plan.returncode == 0, plan.stdout + plan.stderr
    finally:
        second.stop()


def test_a_write_with_state_costs_about_what_it_costs_without(tmp_path: Path) -> None:
    # the whole file used to be written again on every write: 0.5 s a write at 10,000 prices
    with run_in_thread(state_path=tmp_path / "state.db") as emulator:
        client = emulator.client()
        client.v1.products.create(params={"id": "suite", "name": "Suite"})
        for n in range(300):
            client.v1.prices.create(
                params={"product": "suite", "currency": "usd", "unit_amount": n, "lookup_key": f"k{n}"}
            )
        assert emulator.emulator.state is not None
        calls: list[int] = []
        commit = emulator.emulator.state.commit

        def counted(touched: Any, scalars: Any) -> None:
            calls.append(len(touched))
            commit(touched, scalars)

        emulator.emulator.state.commit = counted  # type: ignore[method-assign]
        client.v1.prices.update(client.v1.prices.list(params={"limit": 1}).data[0].id, params={"nickname": "n"})
    assert calls[-1] <= 3  # the price it changed (and its product, read for the answer), not the 300 others
