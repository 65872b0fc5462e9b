"""Progress of a long run on stderr (stdout stays the command's output), as a terminal and a CI log want it.

On a terminal one line is rewritten at every update. Anywhere else (a CI log) a carriage return would pile
every update into one unreadable line, and a line per update would flood the log: a line is written when the
first `every` seconds have passed and then every `every` seconds, so a long run is never silent and a short one
stays quiet.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import click

#: seconds between progress lines when stderr is not a terminal
PLAIN_EVERY = 5.0
#: the width a terminal line is padded to, so a shorter line wipes a longer one
WIDTH = 110


def duration(seconds: float) -> str:
    """`0:04:35`: hours, minutes and seconds."""
    whole = int(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def eta(done: int, total: int, elapsed: float) -> float | None:
    """Seconds left at the pace so far; None before anything is done or after everything is."""
    if done <= 0 or done >= total or elapsed <= 0:
        return None
    return elapsed * (total - done) / done


class ProgressLine:
    """Where progress goes: `show(text)` on a terminal rewrites the line, elsewhere writes one every `every`
    seconds; `close()` ends a rewritten line."""

    def __init__(self, tty: bool, *, every: float = PLAIN_EVERY, clock: Callable[[], float] | None = None) -> None:
        self.tty = tty
        self.every = every
        self.clock = clock or time.monotonic
        self.shown = False
        self._last = self.clock()  # a plain line only once the run has gone on a while

    def due(self) -> bool:
        """Whether `show` would write now (so a caller can skip building a line nobody sees)."""
        return self.tty or self.clock() - self._last >= self.every

    def show(self, text: str) -> None:
        if not self.due():
            return
        self._last = self.clock()
        if self.tty:
            click.echo("\r" + text[:WIDTH].ljust(WIDTH), nl=False, err=True)
            self.shown = True
        else:
            click.echo(text, err=True)

    def close(self) -> None:
        if self.shown:
            click.echo(err=True)
            self.shown = False


__all__ = ["PLAIN_EVERY", "ProgressLine", "duration", "eta"]
