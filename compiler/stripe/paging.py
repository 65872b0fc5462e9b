"""A guard on following a list's cursor: every chain of `starting_after` requests must get somewhere.

Stripe's lists page with `has_more` and `starting_after=<the last id of the page>`. A server that answers a
cursor with a page ending at a cursor already followed (the same page again, or a loop) would be paged for ever,
and one that always has more would be read until memory runs out. A `CursorChain` follows one chain of pages and
stops both with an error: a repeated cursor, and more objects than `bounds.LIST_OBJECTS`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from compiler import bounds
from compiler.errors import StripeApiError


class CursorChain:
    """One chain of list pages of `path`: `advance` takes each page and says where the next starts."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.followed: set[str] = set()
        self.objects = 0
        self.limit = bounds.LIST_OBJECTS.count

    def advance(self, objects: Sequence[Mapping[str, Any]], has_more: bool) -> str | None:
        """The cursor to request the next page with (`starting_after`), or None at the end of the list.

        Raises StripeApiError (with a rule) when the next page would repeat a cursor this chain has followed,
        when the page's last object has no id to continue from, or past `bounds.LIST_OBJECTS` objects."""
        self.objects += len(objects)
        if self.objects > self.limit:
            raise StripeApiError(
                f"GET {self.path}: the list goes on past {bounds.LIST_OBJECTS.show()}",
                rule="list-too-long",
                hint=bounds.LIST_OBJECTS.hint(),
            )
        if not has_more or not objects:
            return None
        cursor = objects[-1].get("id")
        if not isinstance(cursor, str) or not cursor:
            raise StripeApiError(
                f"GET {self.path}: the list says it has more, but its page ends in an object without an id",
                rule="list-cursor",
                hint="is --api-base a Stripe API?",
            )
        if cursor in self.followed:
            raise StripeApiError(
                f"GET {self.path}: the list came back to the page after {cursor} a second time; following it "
                "would never end",
                rule="list-cursor",
                hint="is --api-base a Stripe API? Stripe never repeats a page of a list",
            )
        self.followed.add(cursor)
        return cursor


__all__ = ["CursorChain"]
