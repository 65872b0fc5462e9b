"""Ctrl-C and a closed standard output, for a command that changes an account (`apply`).

While apply writes, Ctrl-C never lands in the middle of its bookkeeping: the work runs in a thread of its own
(`run_interruptibly`) and the main thread only waits and takes the signal. The first Ctrl-C asks the work to stop
(no call starts; those in flight finish, and the usual report follows); the second quits at once, and the caller
reports what was done from its record before the process exits.

A closed standard output (`pricebook apply ... | head -1`: the reader is gone) is found before the first write
(`stdout_closed`); one that closes later is worked around (`echo_or_stderr`), so the summary is not lost.
"""

from __future__ import annotations

import os
import select
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from types import FrameType
from typing import Any, NoReturn, TypeVar

import click

from compiler.errors import ExitCode

T = TypeVar("T")
#: how often the waiting main thread looks up (signals are handled between these waits)
POLL_SECONDS = 0.1


@dataclass
class Interrupts:
    """What Ctrl-C has asked for so far."""

    stop: threading.Event = field(default_factory=threading.Event)  # first: start nothing new
    quit: threading.Event = field(default_factory=threading.Event)  # second: leave now


@contextmanager
def interrupts(on_first: Callable[[], None]) -> Iterator[Interrupts]:
    """Ctrl-C sets `stop` (calling `on_first`), then `quit`, instead of raising KeyboardInterrupt, until the
    block ends; after it, Ctrl-C is ignored if it came at all. Must be entered from the main thread (the only one
    Python delivers signals to)."""
    state = Interrupts()

    def handler(signum: int, frame: FrameType | None) -> None:
        if state.stop.is_set():
            state.quit.set()
            return
        state.stop.set()
        on_first()

    if threading.current_thread() is not threading.main_thread():  # embedded: the host's Ctrl-C is its own
        yield state
        return
    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield state
    finally:
        # once interrupted, the command is on its way out with 130: a later Ctrl-C must not cut that short
        signal.signal(signal.SIGINT, signal.SIG_IGN if state.stop.is_set() else previous)


def run_interruptibly(work: Callable[[], T], state: Interrupts) -> tuple[bool, T | None]:
    """Run `work` in a thread; (True, its result) when it finished, (False, None) when `state.quit` was set
    first (the thread goes on; `exit_now` ends the process). An exception of `work` is raised here."""
    outcome: list[T] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            outcome.append(work())
        except BaseException as exc:  # handed to the main thread, which reports it
            failure.append(exc)

    worker = threading.Thread(target=target, name="pricebook-work", daemon=True)
    worker.start()
    while worker.is_alive() and not state.quit.is_set():
        worker.join(POLL_SECONDS)
    if worker.is_alive():
        return False, None
    if failure:
        raise failure[0]
    return True, outcome[0]


def exit_now(code: ExitCode) -> NoReturn:
    """End the process at once, without waiting for threads still in a request (what the user asked for with a
    second Ctrl-C; the caller has printed what was done) or letting the interpreter finish: once a Ctrl-C has been
    raised as KeyboardInterrupt, CPython may end the process by SIGINT at its very end even though the exception was
    handled (seen with `python -m`), and the exit code would not be ours."""
    for stream in (sys.stdout, sys.stderr):
        with suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


# -- standard output ----------------------------------------------------------------------------------------------


def stdout_closed() -> bool:
    """Whether standard output can no longer be written: it fails to flush, or it is a pipe whose reader exited
    (poll reports an error on the writing end)."""
    try:
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):
        return True
    try:
        fd = sys.stdout.fileno()
    except (OSError, ValueError):  # not a file (a test runner's buffer): it stays open
        return False
    if not hasattr(select, "poll"):
        return False
    poller = select.poll()
    poller.register(fd, 0)  # errors and hang-ups are always reported
    return any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))


def silence_stdout() -> None:
    """Point standard output at the null device, so that nothing more (Python's own flush at exit included) fails
    on the closed one: https://docs.python.org/3/library/signal.html#note-on-sigpipe"""
    with suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


class StdoutOrStderr:
    """`click.echo` for standard output that, once it turns out closed, says so once and writes to stderr."""

    def __init__(self) -> None:
        self.closed = False

    def __call__(self, message: Any = None, *, nl: bool = True, err: bool = False, **kwargs: Any) -> None:
        if not err and not self.closed:
            try:
                click.echo(message, nl=nl, **kwargs)
                sys.stdout.flush()
                return
            except BrokenPipeError:
                self.closed = True
                silence_stdout()
                click.echo("pricebook: standard output was closed; what follows was meant for it", err=True)
        click.echo(message, nl=nl, err=True, **kwargs)


__all__ = [
    "Interrupts",
    "StdoutOrStderr",
    "exit_now",
    "interrupts",
    "run_interruptibly",
    "silence_stdout",
    "stdout_closed",
]
