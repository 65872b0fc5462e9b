"""Running pricebook's commands from tests: in-process through click (`invoke`), or as a user runs them, in a
subprocess against an emulator (`run_pricebook`)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
from click.testing import CliRunner, Result

from compiler.emulator import EmulatorHandle

REPO = Path(__file__).resolve().parents[1]
PRICEBOOK = [sys.executable, "-m", "compiler"]


def invoke(command: click.Command, *args: str, **kwargs: Any) -> Result:
    """`command ARGS` in this process (stdout and stderr kept apart); `kwargs` go to `CliRunner.invoke`."""
    return CliRunner().invoke(command, list(args), **kwargs)


def run_pricebook(
    args: list[str],
    emulator: EmulatorHandle,
    *,
    key: str | None = None,
    base_from_env: bool = True,
    timeout: float = 120,
    cwd: Path = REPO,
    extra_env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """`pricebook ARGS` in a subprocess from `cwd` (the repository root), against `emulator`: STRIPE_API_KEY is
    `key` (the emulator's test key by default), STRIPE_API_BASE its URL (unless `base_from_env=False`: then the
    args must name it with --api-base), NO_COLOR set, then `extra_env` (the key variables of environments, say:
    an empty value reads as unset), and no other STRIPE_ variable of this environment."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("STRIPE_")}
    env.update({"STRIPE_API_KEY": key or emulator.api_key, "NO_COLOR": "1"})
    if base_from_env:
        env["STRIPE_API_BASE"] = emulator.url
    env.update(extra_env or {})
    return subprocess.run(
        [*PRICEBOOK, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


__all__ = ["PRICEBOOK", "REPO", "invoke", "run_pricebook"]
