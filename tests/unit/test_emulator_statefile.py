"""The emulator's collections note what a write touched; its state file writes only what changed; its list pages
are Stripe's pages however the records are held."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path
from typing import Any

from compiler.emulator.common import Ctx, list_page
from compiler.emulator.statefile import StateFile
from compiler.emulator.store import Store
from compiler.emulator.tables import Changes, Log, Table


def noting() -> tuple[Changes, Table, Log]:
    changes = Changes()
    table, log = Table("things"), Log("events")
    table.changes = log.changes = changes
    return changes, table, log


def test_nothing_is_noted_unless_recording() -> None:
    changes, table, log = noting()
    table["a"] = {"n": 1}
    log.append({"n": 1})
    _ = table["a"], table.get("a"), list(table.values()), log[0]
    assert changes.take() == {}


def test_a_write_notes_every_record_it_reaches_and_every_key_it_takes_out() -> None:
    changes, table, log = noting()
    for key in "abcd":
        table[key] = {"n": 0}
    log.append({"n": 0})
    changes.recording = True
    table["a"]["n"] = 1  # changed through a lookup
    table.get("b")  # only read: noted, the state file finds it unchanged
    next(iter(table.values()))  # met while going through the table
    del table["c"]
    table.pop("d")
    table.pop("gone", None)
    log[0]["n"] = 1
    log.append({"n": 2})
    assert changes.take() == {
        ("things", "a"): {"n": 1},
        ("things", "b"): {"n": 0},
        ("things", "c"): None,
        ("things", "d"): None,
        ("events", "0"): {"n": 1},
        ("events", "1"): {"n": 2},
    }
    assert changes.take() == {}


def rows(path: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(path) as db:
        return sorted(db.execute("SELECT collection, key, body FROM record"))


def test_the_file_writes_what_changed_and_reads_back_what_it_holds(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    state = StateFile(path)
    state.commit({("things", "a"): {"n": 1}, ("things", "b"): {"n": 2}}, {"seq": 2})
    written = rows(path)
    state.commit({("things", "a"): {"n": 1}}, {"seq": 2})  # unchanged: no transaction at all
    assert rows(path) == written
    state.commit({("things", "a"): {"n": 3}, ("things", "b"): None}, {"seq": 3})
    assert rows(path) == [("things", "a", '{"n":3}')]
    state.close()
    table, log = Table("things"), Log("events")
    again = StateFile(path)
    assert again.load({"things": table, "events": log}) == {"seq": 3}
    assert dict(table) == {"a": {"n": 3}} and list(log) == []
    again.replace_all({"things": table, "events": log}, {"seq": 0})
    again.close()
    assert rows(path) == [("things", "a", '{"n":3}')]


def test_a_list_page_follows_both_cursors_newest_first() -> None:
    # list_page puts only the page in order: the same pages as sorting every record would give
    store = Store()
    records: list[dict[str, Any]] = [{"id": f"o{n}", "_seq": n} for n in range(1, 26)]
    random.Random(3).shuffle(records)
    pool = {r["id"]: r for r in records}

    def page(**params: Any) -> tuple[list[int], bool]:
        got = list_page(Ctx(store, {"limit": 10, **params}), records, url="/", render=dict, kind="x", pool=pool)
        return [r["_seq"] for r in got["data"]], got["has_more"]

    assert page() == (list(range(25, 15, -1)), True)
    assert page(starting_after="o16") == (list(range(15, 5, -1)), True)
    assert page(starting_after="o6") == ([5, 4, 3, 2, 1], False)
    assert page(ending_before="o6") == (list(range(16, 6, -1)), True)  # the ten just newer than the cursor
    assert page(ending_before="o16") == (list(range(25, 16, -1)), False)
