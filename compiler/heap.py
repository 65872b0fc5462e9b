"""The garbage collector around pricebook's bulk work, which makes objects by the hundred thousand.

Nearly all of them are acyclic (plain dicts, lists and strings from YAML and JSON), freed by reference counting as
soon as they are done with; the cyclic collector only walks them again and again as they pile up (a third of the
time of loading a large catalog). So it is paused while such work runs (`collector_paused`), and what is loaded
to stay until a command ends is moved out of its sight (`freeze`).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic collection inside the block; as it was afterwards (nested blocks leave it paused)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def freeze() -> None:
    """What lives now lives until the process ends: full collections need not walk it again."""
    gc.freeze()


__all__ = ["collector_paused", "freeze"]
