"""`make demo`: pricebook end to end on plans/, against a local emulator it starts and stops itself.

validate -> compile -> quote a plan of the example catalog -> plan -> apply -> plan again (no changes) -> record
usage on its metered plan and on its flat-fee-plus-usage price, and see what it costs. Each step is the real
`pricebook` command a user would type; the demo stops at the first step that fails. The command lines are bold on
a terminal only (not in a file, a pipe or a CI log, nor with NO_COLOR set).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TextIO

from compiler.emulator import run_in_subprocess

ROOT = Path(__file__).resolve().parent.parent
PLANS = "plans/"


def _pricebook() -> list[str]:
    exe = shutil.which("pricebook", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "compiler"]


def heading(command: str, title: str, stream: TextIO) -> str:
    """`$ pricebook validate plans/   # what it does`, the command in bold where `stream` is a terminal and the
    user has not asked for no colour (https://no-color.org: NO_COLOR set and not empty)."""
    if stream.isatty() and not os.environ.get("NO_COLOR"):
        command = f"\033[1m{command}\033[0m"
    return f"{command}   # {title}"


def step(title: str, *args: str, ok: tuple[int, ...] = (0,)) -> None:
    command = "$ pricebook " + " ".join(args)
    print(f"\n{heading(command, title, sys.stdout)}", flush=True)
    code = subprocess.call([*_pricebook(), *args], cwd=ROOT)
    if code not in ok:
        raise SystemExit(f"demo: `pricebook {' '.join(args)}` exited {code}")


def main() -> None:
    try:
        emulator = run_in_subprocess()  # a free port; returns once it answers
    except RuntimeError as exc:
        raise SystemExit(f"demo: {exc}") from None
    with emulator:  # always stopped, whichever step fails
        os.environ["STRIPE_API_KEY"] = emulator.api_key  # the emulator's test key, not a real Stripe key
        os.environ["STRIPE_API_BASE"] = emulator.url
        print(f"emulator listening on {emulator.url}")
        step("schema and Stripe's rules, offline", "validate", PLANS)
        step("the API calls that build the catalog in an empty account", "compile", PLANS, "--format", "curl")
        step(
            "what the example catalog's legacy plan charges: $10 for every 5 users or part of 5",
            "quote", PLANS, "--price", "standard-cost-per-5-users",
            "--quantity", "1", "--quantity", "3", "--quantity", "5", "--quantity", "6", "--quantity", "7",
        )
        step("the diff against the (empty) account", "plan", PLANS, "--detailed-exitcode", ok=(2,))
        step("carry it out", "apply", PLANS, "--auto-approve")
        step("nothing left to do", "plan", PLANS, "--detailed-exitcode", ok=(0,))
        usage()
        print("\ndemo: done")


def usage() -> None:
    """The example catalog's Metered Emails plan ($0.10 for every full 1,000 emails) at 999 and 1,000 emails, and
    the API platform's $10 a month including 10,000 requests at 0, 10,000 and 10,001 requests (10,000 from a
    file)."""
    emails = ("--customer", "cus_demo_emails")
    step("999 emails sent by a customer", "usage", "record", "--meter", "emails_sent", *emails, "--value", "999")
    step("what 999 emails cost on the Metered Emails plan", "usage", "summary", *emails, "--price", "metered-emails")
    step("one email more", "usage", "record", "--meter", "emails_sent", *emails, "--value", "1")
    step("1,000 emails", "usage", "summary", *emails, "--price", "metered-emails")

    api = ("--customer", "cus_demo_api")
    price = ("--price", "api_base_plus_usage_monthly")
    step("no requests yet: the flat fee plus usage price at 0", "usage", "summary", *api, *price)
    with tempfile.TemporaryDirectory() as tmp:
        requests = Path(tmp) / "requests.csv"
        now = int(time.time())
        rows = [f"{now - 60 * n},api_requests,cus_demo_api,100" for n in range(100)]  # 100 × 100 requests
        requests.write_text("timestamp,event_name,payload_stripe_customer_id,payload_requests\n" + "\n".join(rows))
        step("10,000 requests from a file, exactly once", "usage", "import", str(requests), "--verify")
        step("running it again sends nothing", "usage", "import", str(requests))
    step("10,000 requests", "usage", "summary", *api, *price)
    step("one request more", "usage", "record", "--meter", "api_requests", *api, "--value", "1")
    step("10,001 requests", "usage", "summary", *api, *price)


if __name__ == "__main__":
    main()
