"""The garbage collector around pricebook's bulk work, which makes objects by the hundred thousand.

Nearly all of them are acyclic (plain dicts, lists and strings from YAML and JSON), freed by reference counting as
soon as they are done with; the cyclic collector only walks them again and again as they pile up (a third of the
time of loading a large catalog). So it is paused while such work runs (`collector_paused`), and what is loaded
to stay until a command ends is moved out of its sight (`freeze`).
"""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# The collector is one switch for the whole process, and its blocks overlap across threads (plan receives the
# catalog on one thread while the main one reads the account): the first block in pauses it, the last one out
# sets it back as the first found it, whichever threads they run on.
_lock = threading.Lock()
_paused = 0
_was_enabled = False


def _new_lock() -> None:
    """A forked child starts with the lock free, whatever another thread of its parent held."""
    global _lock
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):  # not on Windows, which does not fork
    os.register_at_fork(after_in_child=_new_lock)


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic collection while any thread is inside such a block; as it was before the first once the last ends."""
    global _paused, _was_enabled
    with _lock:
        if _paused == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _paused += 1
    try:
        yield
    finally:
        with _lock:
            _paused -= 1
            if _paused == 0 and _was_enabled:
                gc.enable()


def freeze() -> None:
    """What lives now lives until the process ends: full collections need not walk it again."""
    gc.freeze()


__all__ = ["collector_paused", "freeze"]
