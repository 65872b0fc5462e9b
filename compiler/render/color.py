"""Whether the plan may be coloured: only on a terminal, and never when the user set `NO_COLOR`.

The plan command decides once and passes `color=` to the text renderer, so renderers stay pure and the same
ChangeSet always renders to the same text for a given flag.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class _Stream(Protocol):
    def isatty(self) -> bool: ...


def should_color(stream: _Stream, environ: Mapping[str, str]) -> bool:
    """True when `stream` is a terminal, `NO_COLOR` is unset or empty (no-color.org) and TERM is not `dumb`."""
    if environ.get("NO_COLOR", ""):
        return False
    if environ.get("TERM") == "dumb":
        return False
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # a closed or detached stream
        return False
