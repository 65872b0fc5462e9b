"""A local Stripe for products, prices, plans and billing meters (`pricebook emulator`).

Written from the rulebook (sections 1, 2, 4, 7) and the SDK's generated params, never from what pricebook's
client sends. `run_in_thread()` starts one for tests, the demo and the benchmarks.
"""

from compiler.emulator.app import API_VERSION, Emulator, LogEntry, Response
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
    "free_port",
    "is_loopback",
    "run_in_subprocess",
    "run_in_thread",
]
