"""An API base nothing answers at: every command that talks to Stripe says which address could not be reached and
why, with a rule id and what to check, in two lines (never the SDK's "unexpected error" and a urllib3 trace)."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest

from compiler.errors import StripeApiError
from compiler.stripe.gateway import Connection, Gateway
from tests.cli import PRICEBOOK, REPO

KEY = "sk_test_UNREACHABLEkey12345678"


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_a_refused_connection_names_the_address_the_reason_and_the_request() -> None:
    base = f"http://127.0.0.1:{closed_port()}"
    gateway = Gateway(Connection(KEY, base), sleep=lambda _seconds: None)
    with pytest.raises(StripeApiError) as info:
        gateway.request("GET", "/v1/account", {})
    error = info.value
    assert error.rule == "connection-failed"
    assert error.message == f"cannot reach {base}: connection refused (GET /v1/account)"
    assert error.hint is not None and "pricebook emulator" in error.hint and "--api-base" in error.hint


@pytest.mark.parametrize(
    "args",
    [
        ["plan", "plans/"],
        ["usage", "record", "--meter", "api_requests", "--customer", "cus_1", "--value", "1"],
        ["import", "--out", "{tmp}"],
    ],
)
def test_every_command_that_talks_to_stripe_reports_an_unreachable_base_in_two_lines(
    args: list[str], tmp_path: Path
) -> None:
    args = [arg.replace("{tmp}", str(tmp_path / "imported")) for arg in args]
    base = f"http://127.0.0.1:{closed_port()}"
    env = {name: value for name, value in os.environ.items() if not name.startswith("STRIPE_")}
    env["STRIPE_API_KEY"] = KEY
    done = subprocess.run(
        [*PRICEBOOK, *args, "--api-base", base], env=env, cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1
    first, hint = done.stderr.splitlines()
    assert first.startswith(f"pricebook: error[connection-failed]: cannot reach {base}: connection refused (GET /v1/")
    assert hint == (
        "  hint: is `pricebook emulator` running there (`pricebook emulator --port N`)? Otherwise correct "
        "--api-base, STRIPE_API_BASE, and the environment's api_base in pricebook.toml"
    )
    assert KEY not in done.stderr + done.stdout
