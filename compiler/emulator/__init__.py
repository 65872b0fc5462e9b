"""A local Stripe (`pricebook emulator`) for products, prices, plans, billing meters and their events, the
customers, subscriptions and test clocks that show who is on a price, and the account itself (`GET /v1/account`,
which a restricted key may not read).

Written from Stripe's docs, the error texts Stripe is known to answer with (`compiler.stripe.facts`) and the SDK's
generated params, never from what pricebook's client sends.

Use:
- `pricebook emulator [--port 12111] [--rate-limit N] [--fail-rate P] [--latency-ms MS] [--seed S] [--state F]`;
  then `STRIPE_API_BASE=http://127.0.0.1:12111` and any `sk_test_` key.
- `with run_in_thread(knobs=Knobs(...)) as emu:` in tests (`emu.url`, `emu.api_key`, `emu.client()`,
  `emu.requests()`, `emu.reset()`, `emu.raw(...)`); `run_in_subprocess(...)` gives the server its own process.
- Control endpoints, no key needed and never logged: `GET /_emulator/requests`, `POST /_emulator/reset`,
  `GET /_emulator/state`, `GET /_emulator/health`, `GET /_emulator/meter_events` (every event received, with the
  error Stripe's processing would report), `GET /_emulator/clock` and `POST /_emulator/clock?now=T` or
  `?advance=S` (the account's clock, for the 24-hour, 35-day and 15-minute windows of meter events).

Knobs: a rate limit answers 429 `rate_limit` with `Stripe-Should-Retry: true`. With `fail_rate` a write fails
with a 500 `api_error`, half the time before anything is written (not stored: a retry with the same key runs
afresh) and half the time after the commit (the object exists; the 500 is stored for the key and replayed,
with `Stripe-Should-Retry: false`, as Stripe stores results "including 500 errors"). `seed` fixes ids and faults.
`meter_event_rate_limit` gives meter events (v1 and the stream) a limit of their own, as live mode does;
`meter_event_delay_ms` holds events back from summaries, as Stripe's asynchronous processing does.

`--state FILE` keeps the account in SQLite, written after every request in one transaction (`statefile`): a
restart, or a crash, finds every request that was answered.
"""

from compiler.emulator.app import Emulator, LogEntry, Response
from compiler.emulator.knobs import Knobs
from compiler.emulator.runner import (
    TEST_API_KEY,
    EmulatorHandle,
    ProcessHandle,
    free_port,
    run_in_subprocess,
    run_in_thread,
)
from compiler.emulator.server import DEFAULT_HOST, DEFAULT_PORT, EmulatorServer, is_loopback
from compiler.emulator.statefile import StateFileError, write_state
from compiler.stripe.facts import API_VERSION

__all__ = [
    "API_VERSION",
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "TEST_API_KEY",
    "Emulator",
    "EmulatorHandle",
    "EmulatorServer",
    "Knobs",
    "LogEntry",
    "ProcessHandle",
    "Response",
    "StateFileError",
    "free_port",
    "is_loopback",
    "run_in_subprocess",
    "run_in_thread",
    "write_state",
]
