"""The CI entry point: `.ci/run` runs the test suite the way CI must."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RUN = REPO / ".ci" / "run"


@pytest.mark.parametrize(("given", "seen"), [(None, "true"), ("1", "1")])
def test_ci_run_sets_ci_for_the_tests_unless_already_set(tmp_path: Path, given: str | None, seen: str) -> None:
    # tests/conftest.py derandomizes Hypothesis when CI is set; .ci/run must set it even if the runner does not.
    # A stand-in `make` on the PATH records the environment .ci/run gives the tests.
    record = tmp_path / "ci"
    make = tmp_path / "make"
    make.write_text(f'#!/bin/sh\nprintf "%s|%s" "${{CI-unset}}" "$*" > {record}\n')
    make.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["PATH"] = f"{tmp_path}{os.pathsep}{env.get('PATH', '')}"
    if given is not None:
        env["CI"] = given
    done = subprocess.run(["bash", str(RUN)], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert record.read_text() == f"{seen}|test"
