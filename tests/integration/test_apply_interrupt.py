"""Ctrl-C and a closed standard output, with real processes and real signals against the emulator.

Ctrl-C at any moment ends `pricebook apply` with exit 130 and no traceback; once it has written anything, the
report of what it did comes first. The first Ctrl-C lets the calls in flight finish; a second quits at once. A
standard output that is closed (`| head -1`) stops apply before its first write, or apply finishes and says so.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from compiler.emulator import EmulatorHandle
from tests.cli import PRICEBOOK, REPO
from tests.integration.conftest import EmulatorFactory

#: each test's processes end well within this (a hang fails the test instead of the suite)
DEADLINE = 60.0


def environment(emulator: EmulatorHandle) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRIPE_")}
    env.update({"STRIPE_API_KEY": emulator.api_key, "STRIPE_API_BASE": emulator.url, "NO_COLOR": "1"})
    return env


def start_apply(
    emulator: EmulatorHandle, plans: Path, *, command: list[str] = PRICEBOOK, **popen: object
) -> subprocess.Popen[str]:
    command = [*command, "apply", "--auto-approve", "--rate", "500", "--workers", "4", str(plans)]
    streams: dict[str, object] = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    streams.update(popen)
    process: subprocess.Popen[str] = subprocess.Popen(  # type: ignore[call-overload]
        command, env=environment(emulator), cwd=REPO, text=True, **streams
    )
    return process


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)


def python_is_up(pid: int) -> bool:
    """Whether the interpreter has installed its SIGINT handler (before that, the signal's default action kills
    any process, Python or not): /proc shows the caught signals."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True  # no /proc: the caller's delay alone has to do
    caught = re.search(r"^SigCgt:\s*([0-9a-f]+)$", status, re.MULTILINE)
    return caught is not None and bool(int(caught.group(1), 16) & (1 << (signal.SIGINT - 1)))


def writes(emulator: EmulatorHandle) -> list[dict[str, object]]:
    return [r for r in emulator.requests() if r["method"] == "POST"]


def done_in_report(stderr: str) -> int:
    found = re.search(r"^  done \((\d+)\)", stderr, re.MULTILINE)
    assert found, stderr
    return int(found.group(1))


#: the installed command, whose entry point is `compiler.__main__:run`
SCRIPT = [str(Path(sys.executable).with_name("pricebook"))]


@pytest.mark.parametrize(
    ("moment", "command"),
    [(0.25, SCRIPT), (0.25, PRICEBOOK), (0.5, PRICEBOOK), (0.9, PRICEBOOK), (1.2, PRICEBOOK)],
)
def test_ctrl_c_at_any_moment_exits_130_without_a_traceback_and_reports_what_was_done(
    emulator_factory: EmulatorFactory, plans: Path, moment: float, command: list[str]
) -> None:
    # Answers slow enough that every moment falls inside the run (about 1.6 s): the imports (the stripe SDK's end
    # about 0.4 s in), the read (its lists side by side: a few round trips), the writes. The moments count from
    # when the interpreter can take the signal at all; its own start-up (importing `site`, up to ~0.1 s on a busy
    # machine) runs none of pricebook's code and is left out.
    emulator = emulator_factory(latency_ms=120)
    process = start_apply(emulator, plans, command=command)
    wait_until(lambda: process.poll() is not None or python_is_up(process.pid), "the interpreter")
    time.sleep(moment)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=DEADLINE)

    assert process.returncode == 130, (out, err)
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    sent = writes(emulator)
    if sent:  # it had begun to change the account: the report says what was done, exactly
        assert "Apply interrupted" in err
        assert done_in_report(err) == sum(1 for r in sent if r["status"] == 200)
        assert "run `pricebook apply` again" in err
    else:
        assert "interrupted" in err


def test_a_second_ctrl_c_quits_at_once_and_still_reports_what_was_done(
    emulator_factory: EmulatorFactory, plans: Path
) -> None:
    # every request takes a while, so calls are in flight when the user insists
    emulator = emulator_factory(latency_ms=400)
    process = start_apply(emulator, plans)
    wait_until(lambda: len([w for w in writes(emulator) if w["status"] == 200]) >= 2, "the meters")
    time.sleep(0.1)  # the products' creates are on their way now, each answered 0.4 s after it left
    process.send_signal(signal.SIGINT)
    time.sleep(0.05)
    asked = time.monotonic()
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=DEADLINE)
    quit_after = time.monotonic() - asked

    assert process.returncode == 130, (out, err)
    assert "Traceback" not in err
    assert quit_after < 0.4, "the second Ctrl-C must not wait for the calls in flight"
    assert "Apply quit at once" in err
    reported = done_in_report(err)
    in_flight = re.search(r"^  sent, no answer yet: outcome unknown \((\d+)\)", err, re.MULTILINE)
    unknown = int(in_flight.group(1)) if in_flight else 0
    time.sleep(0.6)  # the calls it left in flight reach the emulator's log
    committed = sum(1 for r in writes(emulator) if r["status"] == 200)
    assert reported >= 2
    assert reported <= committed <= reported + unknown


def test_a_closed_standard_output_stops_apply_before_its_first_write(emulator: EmulatorHandle, plans: Path) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before apply starts, as after `| head -0`
    try:
        process = start_apply(emulator, plans, stdout=write_end)
    finally:
        os.close(write_end)
    _, err = process.communicate(timeout=DEADLINE)

    assert process.returncode == 1
    assert "standard output is closed" in err and "nothing was changed" in err
    assert "Traceback" not in err and "Exception ignored" not in err
    assert writes(emulator) == []


def test_standard_output_closed_during_the_apply_it_finishes_and_says_so(
    emulator_factory: EmulatorFactory, plans: Path
) -> None:
    emulator = emulator_factory(latency_ms=30)
    process = start_apply(emulator, plans)
    assert process.stdout is not None
    wait_until(lambda: bool(writes(emulator)), "the first write")
    process.stdout.close()  # the reader leaves once apply is under way
    _, err = process.communicate(timeout=DEADLINE)

    assert process.returncode == 0, err
    assert "standard output was closed" in err
    assert "Apply complete" in err  # the summary, on stderr instead
    assert "Traceback" not in err and "Exception ignored" not in err


def test_apply_piped_into_head_either_stops_before_writing_or_finishes_and_says_so(
    emulator: EmulatorHandle, plans: Path
) -> None:
    process = start_apply(emulator, plans)
    assert process.stdout is not None
    first = process.stdout.readline()  # `| head -1`
    process.stdout.close()
    _, err = process.communicate(timeout=DEADLINE)

    assert first
    assert "Traceback" not in err and "Exception ignored" not in err
    if process.returncode == 1:
        assert "standard output is closed" in err
        assert writes(emulator) == []
    else:
        assert process.returncode == 0, err
        assert "standard output was closed" in err and "Apply complete" in err
