"""The emulated account: every object as the JSON Stripe would send with all expansions, plus ordering.

Prices and plans are one family with one id space, so both live in `prices`; `_kind` remembers which endpoint
made the object. `_seq` is a monotonic creation counter: lists are newest first and
`created` (whole seconds) cannot order objects made in the same second. Keys starting with `_` are internal
and never rendered.

Every collection of records is a `tables.Table` or `tables.Log`, found by `collections()` wherever it sits in the
store: `--state` keeps them all (`statefile`), whatever kinds of records there are.
"""

from __future__ import annotations

import dataclasses
import random
import string
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from compiler.emulator.tables import Changes, Collection, Log, Record, Scalar, Table
from compiler.emulator.usage_log import MeterEventLog

_ID_ALPHABET = string.ascii_letters + string.digits


@dataclass
class Store:
    seed: int | None = None
    products: Table = field(default_factory=lambda: Table("products"))
    prices: Table = field(default_factory=lambda: Table("prices"))
    meters: Table = field(default_factory=lambda: Table("meters"))
    usage: MeterEventLog = field(default_factory=MeterEventLog)  # meter events, stream sessions, cancellations
    customers: Table = field(default_factory=lambda: Table("customers"))
    subscriptions: Table = field(default_factory=lambda: Table("subscriptions"))
    test_clocks: Table = field(default_factory=lambda: Table("test_clocks"))
    seq: int = 0
    clock_offset: float = 0.0  # seconds the account's clock runs ahead of this machine's (set by tests)
    #: `GET /v1/account`'s id: every emulator is an account of its own (a seed fixes it, as it fixes object ids),
    #: and stays the same account through a reset and, with `--state`, a restart
    account_id: str = ""

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        if not self.account_id:
            # a generator of its own: the account's id moves no object's id
            accounts = random.Random(f"account-{self.seed}") if self.seed is not None else random.SystemRandom()
            self.account_id = "acct_" + "".join(accounts.choice(_ID_ALPHABET) for _ in range(16))
        self._by_lookup_key: dict[str, str] = {}  # lookup_key -> price id; keeps creates O(1) at 10,000 prices
        self.changes = Changes()  # what write requests touched, for `--state`
        for collection in self.collections().values():
            collection.changes = self.changes

    def collections(self) -> dict[str, Collection]:
        """Every table and log of records in the store, by its name."""
        found: dict[str, Collection] = {}
        parts: list[Any] = [self]
        while parts:
            part = parts.pop()
            for item in dataclasses.fields(part):
                value = getattr(part, item.name)
                if isinstance(value, Table | Log):
                    found[value.name] = value
                elif dataclasses.is_dataclass(value) and not isinstance(value, type):
                    parts.append(value)
        return found

    def scalars(self) -> dict[str, Scalar]:
        """What the store holds outside its records, which `--state` keeps beside them."""
        return {
            "seq": self.seq,
            "usage.dropped_duplicates": self.usage.dropped_duplicates,
            "account_id": self.account_id,
            "clock_offset": self.clock_offset,  # the account's time never runs back through a restart
        }

    def restored(self, scalars: Mapping[str, Scalar]) -> None:
        """After the records were read back from a state file: the scalars, and the indexes again."""
        self.seq = int(scalars.get("seq", 0))
        self.usage.dropped_duplicates = int(scalars.get("usage.dropped_duplicates", 0))
        self.account_id = str(scalars.get("account_id") or self.account_id)
        self.clock_offset = float(scalars.get("clock_offset", 0.0))
        self._reindex()
        self.usage.reindex()

    # -- lookup keys: unique across prices, indexed ---------------------------------------------------------

    def holder_of(self, lookup_key: str) -> Record | None:
        price_id = self._by_lookup_key.get(lookup_key)
        record = self.prices.get(price_id) if price_id is not None else None
        # A deleted plan leaves a stale entry behind: trust the record, not the index.
        return record if record is not None and record.get("lookup_key") == lookup_key else None

    def set_lookup_key(self, record: Record, lookup_key: str | None) -> None:
        old = record.get("lookup_key")
        if old is not None and self._by_lookup_key.get(old) == record["id"]:
            del self._by_lookup_key[old]
        record["lookup_key"] = lookup_key
        if lookup_key is not None:
            self._by_lookup_key[lookup_key] = record["id"]

    def _reindex(self) -> None:
        self._by_lookup_key = {r["lookup_key"]: pid for pid, r in self.prices.items() if r.get("lookup_key")}

    def now(self) -> int:
        return int(time.time() + self.clock_offset)

    def new_id(self, prefix: str) -> str:
        # A seeded generator restarts with the process while `--state` keeps the old objects: skip taken ids.
        while True:
            candidate = prefix + "".join(self._rng.choice(_ID_ALPHABET) for _ in range(24))
            if not any(candidate in table for table in self._tables()):
                return candidate

    def _tables(self) -> tuple[Table, ...]:
        """Every table whose keys are ids this store handed out."""
        return (self.products, self.prices, self.meters, self.customers, self.subscriptions, self.test_clocks)

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def reset(self) -> None:
        for table in self._tables():
            dict.clear(table)
        self.usage.reset()
        self.seq = 0
        self.clock_offset = 0.0
        self._rng = random.Random(self.seed)
        self._by_lookup_key.clear()

    def to_json(self) -> dict[str, Any]:
        return {
            "products": self.products,
            "prices": self.prices,
            "meters": self.meters,
            "usage": self.usage.to_json(),
            "customers": self.customers,
            "subscriptions": self.subscriptions,
            "test_clocks": self.test_clocks,
            "seq": self.seq,
            "account_id": self.account_id,
        }


__all__ = ["Record", "Store"]
