"""`make demo`: pricebook end to end on plans/, against a local emulator it starts and stops itself.

validate -> compile -> quote the seed plan -> plan -> apply -> plan again (no changes). Each step is the real
`pricebook` command a user would type; the demo stops at the first step that fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from compiler.emulator import run_in_subprocess

ROOT = Path(__file__).resolve().parent.parent
PLANS = "plans/"


def _pricebook() -> list[str]:
    exe = shutil.which("pricebook", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "compiler"]


def step(title: str, *args: str, ok: tuple[int, ...] = (0,)) -> None:
    print(f"\n\033[1m$ pricebook {' '.join(args)}\033[0m   # {title}", flush=True)
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
            "what the seed's per-5-users plan charges",
            "quote", PLANS, "--price", "standard-cost-per-5-users",
            "--quantity", "1", "--quantity", "3", "--quantity", "5", "--quantity", "6", "--quantity", "7",
        )
        step("the diff against the (empty) account", "plan", PLANS, "--detailed-exitcode", ok=(2,))
        step("carry it out", "apply", PLANS, "--auto-approve")
        step("nothing left to do", "plan", PLANS, "--detailed-exitcode", ok=(0,))
        print("\ndemo: done")


if __name__ == "__main__":
    main()
