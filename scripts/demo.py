"""`make demo`: pricebook end to end on plans/, against a local emulator it starts and stops itself.

validate -> compile -> quote the seed plan -> plan -> apply -> plan again (no changes). Each step is the real
`pricebook` command a user would type; the demo stops at the first step that fails.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLANS = "plans/"
DEMO_KEY = "sk_test_pricebook_demo"  # the emulator's; not a real Stripe key


def _pricebook() -> list[str]:
    exe = shutil.which("pricebook", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "compiler"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_until_up(url: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/_emulator/requests", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the emulator did not start")


def step(title: str, *args: str, ok: tuple[int, ...] = (0,)) -> None:
    print(f"\n\033[1m$ pricebook {' '.join(args)}\033[0m   # {title}", flush=True)
    code = subprocess.call([*_pricebook(), *args], cwd=ROOT)
    if code not in ok:
        raise SystemExit(f"demo: `pricebook {' '.join(args)}` exited {code}")


def main() -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    emulator = subprocess.Popen(
        [*_pricebook(), "emulator", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.environ["STRIPE_API_KEY"] = DEMO_KEY
    os.environ["STRIPE_API_BASE"] = url
    try:
        _wait_until_up(url, time.monotonic() + 15)
        print(f"emulator listening on {url}")
        step("schema and Stripe's rules, offline", "validate", PLANS)
        step("the API calls that build the catalog in an empty account", "compile", PLANS, "--format", "curl")
        step(
            "what the seed's per-5-users plan charges",
            "quote", PLANS, "--price", "standard-cost-per-5-users",
            "--quantity", "1", "--quantity", "3", "--quantity", "5", "--quantity", "6", "--quantity", "7",
        )
        step("the diff against the (empty) account", "plan", PLANS, "--detailed-exitcode", ok=(2,))
        step("carry it out", "apply", PLANS, "--auto-approve")
        step("nothing left to do", "plan", PLANS, "--detailed-exitcode", ok=(0,))
        print("\ndemo: done")
    finally:
        emulator.terminate()
        try:
            emulator.wait(timeout=5)
        except subprocess.TimeoutExpired:
            emulator.kill()


if __name__ == "__main__":
    main()
