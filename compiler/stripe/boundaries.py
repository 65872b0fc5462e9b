"""Where the account's long lists fell into pages last time, so that the next read cuts them right there.

A list read as several cursor chains over `created` ranges (`state.read_account`) costs one part-filled page for
every chain whose range does not hold a whole number of pages: with nothing known, that is one request more for
each chain it adds. After a read, pricebook knows every object's `created` second, so it knows the seconds at
which a list can be cut into whole pages: a second S where exactly 100, 200, ... objects were created at S or
later, and the next object down was created before S. The next read of the same account starts its chains at
those seconds at once, each holding whole pages, and reads no page more than one chain would.

What is remembered only decides where to cut, never what is read: the ranges of a list still cover every second,
so a stale, wrong or tampered file costs at most the part-filled pages it was meant to save (objects created
since fall into the newest range, objects archived since leave a gap in theirs). It holds no key and nothing
secret: the account's id, the API base's digest, and per list its length and some `created` seconds.

The file lives in pricebook's cache directory: `PRICEBOOK_CACHE_DIR`, else `$XDG_CACHE_HOME/pricebook`, else
`~/.cache/pricebook`; `PRICEBOOK_CACHE_DIR=` (empty) keeps nothing. Reading or writing it never fails a command.
"""

from __future__ import annotations

import bisect
import contextlib
import hashlib
import itertools
import json
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compiler import bounds

#: the cache directory's variable; set and empty: nothing is kept
CACHE_DIR_VARIABLE = "PRICEBOOK_CACHE_DIR"
FORMAT = "pricebook list boundaries"
VERSION = 1
#: a file larger than this is not ours (a list of a million objects needs a tenth of it)
MAX_FILE_BYTES = 4 * 1024 * 1024
#: cuts kept a list at most: every one of a million objects' pages, thinned evenly beyond
MAX_CUTS = 10_000
#: a `created` second a file may name: from Stripe's beginnings to far beyond any account (a value outside comes
#: from no read, and would only be sent back to Stripe as a filter)
SECONDS = range(1_000_000_000, 10_000_000_000)
# an account id is also a file name part: only what Stripe's ids look like
_ACCOUNT_ID = re.compile(r"acct_[A-Za-z0-9]{1,64}")


@dataclass(frozen=True)
class Boundaries:
    """One list as the last read found it: `total` objects, and the seconds it can be cut at into whole pages.

    Each cut is (second, count): exactly `count` objects (a multiple of the page size) were created at `second`
    or later, and every other one before it. Newest first: seconds falling, counts rising."""

    total: int
    cuts: tuple[tuple[int, int], ...] = ()

    @classmethod
    def of(cls, created: Iterable[int], page_size: int) -> Boundaries:
        """The boundaries of a list whose objects were created at the seconds `created` (in any order)."""
        seconds = sorted(created, reverse=True)
        cuts = tuple(
            (seconds[n - 1], n) for n in range(page_size, len(seconds), page_size) if seconds[n - 1] > seconds[n]
        )
        if len(cuts) > MAX_CUTS:
            step = len(cuts) / MAX_CUTS
            cuts = tuple(cuts[int(i * step)] for i in range(MAX_CUTS))
        return cls(len(seconds), cuts)

    def parts(self, count: int) -> list[tuple[int | None, int | None, int]]:
        """The list cut into at most `count` ranges of about one size, newest first, as (lo, hi, objects): the
        objects with `created` in [lo, hi) (None: unbounded). Together they cover every second."""
        counts = [n for _second, n in self.cuts]
        chosen: list[tuple[int, int]] = []
        for k in range(1, count):
            want = self.total * k / count
            at = bisect.bisect_left(counts, want)
            around = [i for i in (at - 1, at) if 0 <= i < len(counts)]
            near = min(around, key=lambda i: abs(counts[i] - want), default=None)
            if near is not None and (not chosen or self.cuts[near][1] > chosen[-1][1]):
                chosen.append(self.cuts[near])
        edges: list[int | None] = [None, *(second for second, _n in chosen), None]
        tops = [0, *(n for _second, n in chosen), self.total]
        return [(edges[i + 1], edges[i], max(tops[i + 1] - tops[i], 0)) for i in range(len(edges) - 1)]

    def within(self, lo: int | None, top: int, count: int) -> tuple[list[int], list[float]]:
        """Where to cut the range [lo, top] into about `count` parts at these boundaries, for a chain that has read
        down to second `top`: the seconds each older part ends before (newest first, all above `lo` and at most
        `top`), and the parts' sizes (the first, what the chain keeps, 0: not known). Nothing when no boundary
        falls inside."""
        inside = [(second, n) for second, n in self.cuts if (lo is None or second > lo) and second <= top]
        if count <= 1 or not inside:
            return [], []
        picks = sorted(
            {min(len(inside) - 1, max(0, round(k * (len(inside) + 1) / count) - 1)) for k in range(1, count)}
        )
        chosen = [inside[i] for i in picks]
        end = self.total if lo is None else next((n for second, n in self.cuts if second == lo), chosen[-1][1])
        counts = [n for _second, n in chosen] + [end]
        sizes = [0.0] + [float(max(b - a, 0)) for a, b in itertools.pairwise(counts)]
        return [second for second, _n in chosen], sizes


@dataclass(frozen=True)
class Remembered:
    """What the last read of an account found: its lists' boundaries (by `ListSource.name`) and the round trip
    its pages took, in seconds (how many chains keep the pacer busy)."""

    account: str
    round_trip: float
    lists: Mapping[str, Boundaries]


class BoundaryFiles:
    """The boundaries of the accounts one API base serves in one mode, a JSON file an account in `directory`."""

    def __init__(self, directory: Path, api_base: str | None, livemode: bool) -> None:
        self.directory = directory
        where = f"{api_base or 'stripe'}|{'live' if livemode else 'test'}"
        self.prefix = "lists-" + hashlib.sha256(where.encode()).hexdigest()[:16]

    def expects(self) -> bool:
        """Whether any account of this API base and mode has been read before (else nothing is worth waiting
        for the account's id)."""
        try:
            return any(self.directory.glob(f"{self.prefix}-acct_*.json"))
        except OSError:
            return False

    def path(self, account: str) -> Path | None:
        return self.directory / f"{self.prefix}-{account}.json" if _ACCOUNT_ID.fullmatch(account) else None

    def load(self, account: str) -> Remembered | None:
        """The account's boundaries, None when there are none or the file is not one pricebook wrote."""
        path = self.path(account)
        if path is None:
            return None
        try:
            with path.open("rb") as file:
                data = file.read(MAX_FILE_BYTES + 1)
            if len(data) > MAX_FILE_BYTES:
                return None
            return _parsed(json.loads(data), account)
        except (OSError, ValueError):
            return None

    def save(self, remembered: Remembered) -> None:
        """Write the account's boundaries (atomically: a reader sees the old file or the new one); a directory
        that cannot be written is skipped silently, as a cache is."""
        path = self.path(remembered.account)
        if path is None:
            return
        document = {
            "format": FORMAT,
            "version": VERSION,
            "account": remembered.account,
            "round_trip": round(remembered.round_trip, 4),
            "lists": {
                name: {"total": b.total, "cuts": [list(c) for c in b.cuts]}
                for name, b in sorted(remembered.lists.items())
            },
        }
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".lists-", suffix=".tmp")
        except OSError:
            return
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                json.dump(document, file, separators=(",", ":"))
            os.replace(temporary, path)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def _parsed(document: Any, account: str) -> Remembered | None:
    """A file's content as `Remembered`, when it has exactly the shape `save` writes."""
    if not isinstance(document, dict) or document.get("format") != FORMAT or document.get("version") != VERSION:
        return None
    round_trip = document.get("round_trip")
    lists = document.get("lists")
    if document.get("account") != account or not _number(round_trip) or not isinstance(lists, dict):
        return None
    found: dict[str, Boundaries] = {}
    for name, entry in lists.items():
        if not isinstance(entry, dict) or not _count(entry.get("total")) or not isinstance(entry.get("cuts"), list):
            return None
        cuts = entry["cuts"]
        if len(cuts) > MAX_CUTS or not all(isinstance(c, list) and len(c) == 2 and all(map(_count, c)) for c in cuts):
            return None
        if entry["total"] > bounds.LIST_OBJECTS.count or any(c[0] not in SECONDS for c in cuts):
            return None  # more objects than a list may hold, or a second no object was created at
        pairs = tuple((int(s), int(n)) for s, n in cuts)
        ordered = all(a[0] > b[0] and a[1] < b[1] for a, b in itertools.pairwise(pairs))
        if not ordered or any(n > entry["total"] for _s, n in pairs):
            return None
        found[str(name)] = Boundaries(int(entry["total"]), pairs)
    return Remembered(account, float(round_trip), found)  # type: ignore[arg-type]


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value < 3600


def cache_directory(environ: Mapping[str, str] | None = None) -> Path | None:
    """pricebook's cache directory (see the module docstring); None when told to keep nothing."""
    env = os.environ if environ is None else environ
    if CACHE_DIR_VARIABLE in env:
        value = env[CACHE_DIR_VARIABLE]
        return Path(value).expanduser() if value.strip() else None
    base = env.get("XDG_CACHE_HOME", "").strip()
    if base:
        return Path(base) / "pricebook"
    try:
        return Path.home() / ".cache" / "pricebook"
    except RuntimeError:  # no home directory to find
        return None


def boundary_files(api_base: str | None, livemode: bool) -> BoundaryFiles | None:
    """The boundary files of this API base and mode in pricebook's cache directory (None: no cache)."""
    directory = cache_directory()
    return None if directory is None else BoundaryFiles(directory, api_base, livemode)


__all__ = [
    "CACHE_DIR_VARIABLE",
    "Boundaries",
    "BoundaryFiles",
    "Remembered",
    "boundary_files",
    "cache_directory",
]
