"""Stripe's list endpoints over canned objects, for `read_account` in unit tests (no server).

    lists = StripeLists({"/v1/prices": [newest, ..., oldest], "/v1/plans": [...]})
    read_account(lists)
    lists.calls     # every request, as (path, params)

Like Stripe: objects come in the order given (newest first), 100 a page (`limit`), after `starting_after`; the
price list shows the prices whose `active` matches its `active` param (active ones when none is given), any list
takes `created` as an integer or as `gt` / `gte` / `lt` / `lte` bounds (the meter list takes none: Stripe refuses
it), and `has_more` says whether the filtered list goes on. `pace` and `round_trip` are what the reader sees of
the pacing and the latency (nothing sleeps); `account` is the id `GET /v1/account` gives; `before_page` runs
before each page is served, to change the account in the middle of a read.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from compiler.stripe.state import ListPage


class StripeLists:
    def __init__(
        self,
        objects: Mapping[str, Sequence[Mapping[str, Any]]],
        *,
        pace: float | None = 25.0,
        round_trip: float = 0.0,
        before_page: Callable[[StripeLists, str, Mapping[str, Any]], None] | None = None,
        livemode: bool = False,
        account: str | None = "acct_listpages",
    ) -> None:
        self.account = account
        self.account_reads = 0
        self.objects = {path: [dict(o) for o in items] for path, items in objects.items()}
        self._livemode = livemode
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._pace = pace
        self.round_trip = round_trip
        self.before_page = before_page
        self.lock = threading.Lock()

    @property
    def livemode(self) -> bool:
        return self._livemode

    @property
    def pace(self) -> float | None:
        return self._pace

    def account_id(self) -> str | None:
        with self.lock:
            self.account_reads += 1
        return self.account

    def insert(self, path: str, obj: dict[str, Any]) -> None:
        """A new object, newest of its list (as Stripe lists an object just created)."""
        with self.lock:
            self.objects.setdefault(path, []).insert(0, obj)

    def update(self, path: str, object_id: str, **fields: Any) -> None:
        with self.lock:
            items = self.objects[path]
            index = next(i for i, o in enumerate(items) if o["id"] == object_id)
            items[index] = {**items[index], **fields}

    def list_page(self, path: str, params: Mapping[str, Any] | None = None) -> ListPage:
        params = dict(params or {})
        if self.before_page is not None:
            self.before_page(self, path, params)
        with self.lock:
            self.calls.append((path, params))
            items = self.objects.get(path, [])
            after = params.get("starting_after")
            start = 0
            if after is not None:  # a cursor need not match the filters: it is a place in the list
                start = next(i for i, o in enumerate(items) if o["id"] == after) + 1
            page: list[dict[str, Any]] = []
            for obj in items[start:]:
                if self._matches(path, obj, params):
                    if len(page) == 100:
                        return ListPage(page, True, self.round_trip)
                    page.append(dict(obj))
            return ListPage(page, False, self.round_trip)

    @staticmethod
    def _matches(path: str, obj: Mapping[str, Any], params: Mapping[str, Any]) -> bool:
        if path == "/v1/prices":
            wanted = str(params.get("active", "true")).lower() == "true"
            if bool(obj.get("active", True)) is not wanted:
                return False
        created = params.get("created")
        if created is None:
            return True
        if path == "/v1/billing/meters":
            raise AssertionError("Stripe's meter list takes no `created` filter")
        value = obj["created"]
        if isinstance(created, int):
            return bool(value == created)
        return (
            ("gt" not in created or value > created["gt"])
            and ("gte" not in created or value >= created["gte"])
            and ("lt" not in created or value < created["lt"])
            and ("lte" not in created or value <= created["lte"])
        )

    def pages(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[list[dict[str, Any]]]:
        """Every page of a list, following `starting_after` (what reading subscriptions asks for)."""
        query = dict(params or {})
        while True:
            page = self.list_page(path, query)
            yield page.objects
            if not page.has_more:
                return
            query["starting_after"] = page.objects[-1]["id"]

    def requests_to(self, path: str, active: str | None = None) -> list[dict[str, Any]]:
        """The params of every request sent to `path` (with that `active`, when given)."""
        return [q for p, q in self.calls if p == path and (active is None or q.get("active") == active)]


__all__ = ["StripeLists"]
