"""Installing pricebook the way a user's machine does (a wheel into a fresh venv, a pre-commit hook's env), within
the versions this repository's tests ran with."""

from __future__ import annotations

import os
import re
from pathlib import Path

from tests.cli import REPO

LOCK = REPO / "requirements.lock"


def lock_constraints(out: Path) -> Path:
    """requirements.lock as a constraints file, without its hashes: pip takes hashes only when every requirement
    is pinned, and what is installed from this tree is not in the lock."""
    pins = [line.removesuffix("\\").strip() for line in LOCK.read_text().splitlines() if re.match(r"[A-Za-z0-9]", line)]
    out.write_text("\n".join(pins) + "\n")
    return out


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without what would lead an installed pricebook to this repository or this venv."""
    drop = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PRICEBOOK_DEBUG")
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("STRIPE_")}
    env.update({"NO_COLOR": "1", **extra})
    return env
