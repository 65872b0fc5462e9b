"""The garbage collector's pause holds while any thread is inside a paused block."""

from __future__ import annotations

import gc
import threading

from compiler.heap import collector_paused


def test_the_collector_stays_paused_until_the_last_block_of_any_thread_ends() -> None:
    # plan receives the catalog on one thread while the main one reads the account, each in a paused block
    assert gc.isenabled()
    inside, leave = threading.Event(), threading.Event()

    def receiver() -> None:
        with collector_paused():
            inside.set()
            leave.wait(5)

    thread = threading.Thread(target=receiver)
    thread.start()
    try:
        assert inside.wait(5)
        with collector_paused():
            leave.set()
            thread.join(5)
            assert not thread.is_alive()
            assert not gc.isenabled()  # the receiver's block has ended; this one still runs
        assert gc.isenabled()
    finally:
        leave.set()
        thread.join()


def test_a_collector_switched_off_before_stays_off() -> None:
    gc.disable()
    try:
        with collector_paused(), collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
