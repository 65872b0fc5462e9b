"""Where the account's lists fell into pages: found after a read, kept per account, cut at by the next read."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import pytest

from compiler.stripe.boundaries import (
    CACHE_DIR_VARIABLE,
    MAX_CUTS,
    Boundaries,
    BoundaryFiles,
    Remembered,
    cache_directory,
)

T = 1_700_000_000


def test_a_list_is_cut_only_between_whole_pages_created_in_different_seconds() -> None:
    # 25 objects a second for 12 seconds: a page is four seconds, so every page boundary falls between seconds
    created = [1000 + n // 25 for n in range(300)]
    assert Boundaries.of(reversed(created), 100) == Boundaries(300, ((1008, 100), (1004, 200)))
    # 30 a second: the 100th and the 101st object share second 3 from the top, and so on; only 300 falls clean
    dense = [1000 + n // 30 for n in range(330)]
    assert Boundaries.of(dense, 100).cuts == ((1001, 300),)
    # one second for everything: nowhere to cut
    assert Boundaries.of([5] * 250, 100) == Boundaries(250, ())
    # exactly whole pages: the end of the list is no cut
    assert Boundaries.of(range(200), 100).cuts == ((100, 100),)


def test_a_very_long_list_keeps_its_cuts_evenly_thinned() -> None:
    boundaries = Boundaries.of(range((MAX_CUTS + 500) * 10), 10)
    assert len(boundaries.cuts) == MAX_CUTS
    counts = [n for _s, n in boundaries.cuts]
    assert counts == sorted(counts) and all(n % 10 == 0 for n in counts)
    assert counts[-1] > (MAX_CUTS + 400) * 10  # the thinning reaches the end of the list


@pytest.mark.parametrize("parts", [1, 2, 3, 5, 12, 40])
def test_parts_cover_every_second_once_and_hold_whole_pages(parts: int) -> None:
    created = [10_000 - n // 25 for n in range(10_100)]  # 101 pages, newest first
    boundaries = Boundaries.of(created, 100)
    ranges = boundaries.parts(parts)
    assert len(ranges) == min(parts, 101)
    # newest first, adjacent, unbounded at both ends: together every second, none twice
    assert ranges[0][1] is None and ranges[-1][0] is None
    for (lo, _hi, _size), (_lo, hi, _s) in itertools.pairwise(ranges):
        assert lo is not None and lo == hi
    held = [sum(1 for t in created if (lo is None or t >= lo) and (hi is None or t < hi)) for lo, hi, _ in ranges]
    assert held == [size for _lo, _hi, size in ranges] and sum(held) == 10_100
    assert all(n % 100 == 0 for n in held[:-1])  # whole pages: no part-filled page but the list's own last one
    pages = [math.ceil(n / 100) for n in held]
    assert sum(pages) == 101 and max(pages) - min(pages) <= 1


def test_parts_without_cuts_are_the_whole_list() -> None:
    assert Boundaries(250, ()).parts(4) == [(None, None, 250)]


def test_boundaries_are_kept_per_account_and_read_back(tmp_path: Path) -> None:
    files = BoundaryFiles(tmp_path / "cache", "http://127.0.0.1:5000", livemode=False)
    assert not files.expects() and files.load("acct_1") is None
    remembered = Remembered("acct_1", 0.25, {"prices": Boundaries(300, ((1_700_000_008, 100), (1_700_000_004, 200)))})
    files.save(remembered)
    assert files.expects() and files.load("acct_1") == remembered
    assert files.load("acct_2") is None
    # another API base or mode keeps its own files
    assert not BoundaryFiles(tmp_path / "cache", "http://127.0.0.1:5001", livemode=False).expects()
    assert not BoundaryFiles(tmp_path / "cache", "http://127.0.0.1:5000", livemode=True).expects()
    (written,) = (tmp_path / "cache").iterdir()
    text = written.read_text()
    assert "acct_1" in text and "127.0.0.1" not in text  # the API base only as a digest


def test_a_file_pricebook_did_not_write_is_ignored(tmp_path: Path) -> None:
    files = BoundaryFiles(tmp_path, None, livemode=False)
    files.save(Remembered("acct_1", 0.1, {"prices": Boundaries(300, ((1_700_000_008, 100), (1_700_000_004, 200)))}))
    path = files.path("acct_1")
    assert path is not None
    good = json.loads(path.read_text())
    for broken in [
        "not json",
        json.dumps({**good, "version": 99}),
        json.dumps({**good, "account": "acct_2"}),
        json.dumps({**good, "round_trip": -1}),
        json.dumps({**good, "lists": {"prices": {"total": 300, "cuts": [[T + 4, 200], [T + 8, 100]]}}}),  # order
        json.dumps({**good, "lists": {"prices": {"total": 150, "cuts": [[T + 8, 100], [T + 4, 200]]}}}),  # > total
        json.dumps({**good, "lists": {"prices": {"total": 300, "cuts": [[T + 8, True]]}}}),
        # what no read finds: more objects than a list may hold, seconds long before Stripe or far ahead
        json.dumps({**good, "lists": {"prices": {"total": 10**400, "cuts": []}}}),
        json.dumps({**good, "lists": {"prices": {"total": 300, "cuts": [[10**30, 100]]}}}),
        json.dumps({**good, "lists": {"prices": {"total": 300, "cuts": [[1008, 100]]}}}),
        json.dumps({**good, "lists": []}),
    ]:
        path.write_text(broken)
        assert files.load("acct_1") is None, broken
    path.write_text(json.dumps(good) + " " * (4 * 1024 * 1024))  # too large to be ours
    assert files.load("acct_1") is None


def test_an_account_id_that_is_not_one_never_names_a_file(tmp_path: Path) -> None:
    files = BoundaryFiles(tmp_path / "cache", None, livemode=False)
    for odd in ["../../etc/passwd", "acct_1/../../x", "acct_", "", "acct_1\n"]:
        assert files.path(odd) is None
        files.save(Remembered(odd, 0.1, {}))
        assert files.load(odd) is None
    assert not (tmp_path / "cache").exists()


def test_a_directory_that_cannot_be_written_is_no_error(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    files = BoundaryFiles(blocked / "cache", None, livemode=False)
    files.save(Remembered("acct_1", 0.1, {}))  # nothing raised, nothing kept
    assert files.load("acct_1") is None and not files.expects()


def test_the_cache_directory_follows_the_environment(tmp_path: Path) -> None:
    assert cache_directory({CACHE_DIR_VARIABLE: str(tmp_path)}) == tmp_path
    assert cache_directory({CACHE_DIR_VARIABLE: ""}) is None  # set and empty: keep nothing
    assert cache_directory({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "pricebook"
    assert cache_directory({}) == Path.home() / ".cache" / "pricebook"


def test_a_range_is_cut_further_only_at_its_own_boundaries() -> None:
    created = [T + 10_000 - n // 25 for n in range(3000)]  # 30 pages, a boundary every four seconds
    boundaries = Boundaries.of(created, 100)
    second = [s for s, _n in boundaries.cuts]  # newest first: cut i has 100 * (i + 1) objects at or above it
    assert [n for _s, n in boundaries.cuts] == [100 * (i + 1) for i in range(29)]
    # a chain over [cut 9, ...) that has read down to the second of cut 3: cuts 3 to 8 fall inside
    points, sizes = boundaries.within(second[9], second[3], 3)
    assert points == [second[4], second[7]]
    assert sizes == [0.0, 300.0, 200.0]  # whole pages: cut 4 to cut 7, cut 7 to cut 9
    # the oldest chain (no lower bound) ends with the list
    assert boundaries.within(None, second[20], 2) == ([second[24]], [0.0, 3000.0 - 2500.0])
    # nothing inside, or one part asked: no cut
    assert boundaries.within(second[4], second[4], 3) == ([], [])
    assert boundaries.within(None, second[4], 1) == ([], [])
