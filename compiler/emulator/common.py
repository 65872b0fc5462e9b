"""What every resource shares: request context, expansion, metadata and length rules, decimals, list pages."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from operator import itemgetter
from typing import Any

from compiler.emulator.errors import ApiError, invalid, no_such
from compiler.emulator.store import Record, Store
from compiler.stripe.facts import (
    DECIMAL_PLACES,
    INVALID_POSITIVE_INTEGER,
    LIST_LIMIT,
    METADATA_KEY_FORBIDDEN,
    METADATA_KEY_LENGTH,
    METADATA_KEYS,
    METADATA_VALUE_LENGTH,
    ONE_OF_PARAMS,
    STRING_LENGTH,
    TOO_MANY_METADATA_KEYS,
)


@dataclass(frozen=True)
class Ctx:
    """One request as the resource handlers see it: the store, the path id and the checked params."""

    store: Store
    params: dict[str, Any]
    object_id: str | None = None
    #: the request was made with this API key (masked as Stripe shows it in errors), a restricted one or not
    key: str = ""
    restricted: bool = False

    @property
    def expand(self) -> tuple[str, ...]:
        raw = self.params.get("expand") or []
        return tuple(str(e) for e in raw)


def public(record: Record) -> Record:
    return {k: v for k, v in record.items() if not k.startswith("_")}


# -- expansion ---------------------------------------------------------------------------------------------------


def expanded(ctx: Ctx, expandable: Iterable[str], *, is_list: bool) -> frozenset[str]:
    """The expanded fields of the returned object(s). A list takes `data.<field>`; a single object `<field>`.
    Anything else is refused with Stripe's wording."""
    allowed = frozenset(expandable)
    out: set[str] = set()
    for path in ctx.expand:
        field = path
        if is_list:
            if not path.startswith("data."):
                if path in allowed:
                    raise invalid(
                        f"This property cannot be expanded ({path}). "
                        f"You may want to try expanding 'data.{path}' instead."
                    )
                raise invalid(f"This property cannot be expanded ({path}).")
            field = path[len("data.") :]
        if field not in allowed:
            raise invalid(f"This property cannot be expanded ({field.split('.')[0]}).")
        out.add(field)
    return frozenset(out)


# -- metadata and strings (docs.stripe.com/api/metadata, and each parameter's maxLength) ---------------------------


def check_metadata(value: Any, param: str = "metadata", current: Mapping[str, str] | None = None) -> None:
    """Stripe's metadata limits on a request's `metadata`; `current` is what an update's object has already: the
    key limit holds for the object once the update's keys are merged in."""
    if not isinstance(value, Mapping):
        return
    count = len(merge_metadata(current or {}, value))
    if count > METADATA_KEYS.value:
        raise invalid(TOO_MANY_METADATA_KEYS.format(limit=METADATA_KEYS.value, count=count), param=param)
    for key, item in value.items():
        if len(key) > METADATA_KEY_LENGTH.value:
            raise invalid(
                f"Metadata keys can have at most {METADATA_KEY_LENGTH.value} characters: {key!r}.",
                param=f"{param}[{key}]",
            )
        if any(c in key for c in METADATA_KEY_FORBIDDEN):
            raise invalid(f"Metadata keys may not contain '[' or ']': {key!r}.", param=f"{param}[{key}]")
        if isinstance(item, str) and len(item) > METADATA_VALUE_LENGTH.value:
            raise invalid(
                f"Metadata values can have at most {METADATA_VALUE_LENGTH.value} characters.", param=f"{param}[{key}]"
            )


def merge_metadata(current: Mapping[str, str], update: Any) -> dict[str, str]:
    """`metadata=""` clears it all; `metadata[key]=""` removes one key (Stripe's unset convention)."""
    if update == "":
        return {}
    merged = dict(current)
    for key, value in dict(update).items():
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = str(value)
    return merged


def check_length(value: Any, param: str, limit: int) -> None:
    if isinstance(value, str) and len(value) > limit:
        raise invalid(f"Invalid string: {value[:20]}...; must be at most {limit} characters", param=param)


def check_lengths(params: Mapping[str, Any], limits: Mapping[str, int], default: int = STRING_LENGTH.value) -> None:
    for key, value in params.items():
        if isinstance(value, str):
            check_length(value, key, limits.get(key, default))


# -- numbers ------------------------------------------------------------------------------------------------------


def dec_str(value: Decimal | int) -> str:
    """Stripe's decimal strings: `"1000"`, `"0.5"`, never an exponent or trailing zeros."""
    d = Decimal(value)
    if d == d.to_integral_value():
        return str(int(d))
    return format(d.normalize(), "f")


def non_negative(value: Any, param: str) -> None:
    if isinstance(value, int) and not isinstance(value, bool) and value < 0:
        raise invalid("Invalid non-negative integer", param=param, code="parameter_invalid_integer")
    if isinstance(value, Decimal) and value < 0:
        raise invalid(f"Invalid decimal: {value}; must be at least 0", param=param)


def positive(value: Any, param: str) -> None:
    if isinstance(value, int) and value < 1:
        raise invalid(INVALID_POSITIVE_INTEGER, param=param, code="parameter_invalid_integer")


def decimal_places(value: Decimal, param: str, limit: int = DECIMAL_PLACES.value) -> None:
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > limit:
        raise invalid(f"Invalid decimal: {value}; must have at most {limit} decimal places", param=param)


# -- lists --------------------------------------------------------------------------------------------------------


def matches_created(record: Record, created: Any) -> bool:
    if created is None:
        return True
    value = int(record["created"])
    if isinstance(created, int):
        return value == created
    bounds = dict(created)
    return (
        ("gt" not in bounds or value > bounds["gt"])
        and ("gte" not in bounds or value >= bounds["gte"])
        and ("lt" not in bounds or value < bounds["lt"])
        and ("lte" not in bounds or value <= bounds["lte"])
    )


def list_page(
    ctx: Ctx,
    records: Iterable[Record],
    *,
    url: str,
    render: Callable[[Record], Record],
    kind: str,
    pool: Mapping[str, Record],
) -> dict[str, Any]:
    """A newest-first page with Stripe's cursors. `pool` holds every object a cursor may name."""
    params = ctx.params
    limit = params.get("limit", 10)
    if limit < 1:
        raise invalid("This value must be greater than or equal to 1.", param="limit")
    if limit > LIST_LIMIT.value:
        raise invalid(f"This value must be less than or equal to {LIST_LIMIT.value}.", param="limit")
    after, before = params.get("starting_after"), params.get("ending_before")
    if after and before:
        raise invalid(ONE_OF_PARAMS.format(params="starting_after, ending_before"))
    seq = _SEQ
    # only the page (and one more, for has_more) is put in order: a page of 10,000 prices sorted them all
    if after or before:
        cursor = str(after or before)
        target = pool.get(cursor)
        if target is None:
            raise no_such(kind, cursor, param="starting_after" if after else "ending_before", status=400)
        place = target["_seq"]
        if after:
            page = heapq.nlargest(limit + 1, (r for r in records if r["_seq"] < place), key=seq)
        else:  # the records just newer than the cursor, newest first
            nearest = heapq.nsmallest(limit + 1, (r for r in records if r["_seq"] > place), key=seq)
            return _page(nearest[:limit][::-1], len(nearest) > limit, url, render)
    else:
        page = heapq.nlargest(limit + 1, records, key=seq)
    return _page(page[:limit], len(page) > limit, url, render)


_SEQ = itemgetter("_seq")


def _page(records: list[Record], has_more: bool, url: str, render: Callable[[Record], Record]) -> dict[str, Any]:
    return {"object": "list", "data": [render(r) for r in records], "has_more": has_more, "url": url}


def require(store_map: Mapping[str, Record], object_id: str, kind: str) -> Record:
    record = store_map.get(object_id)
    if record is None:
        raise no_such(kind, object_id, param="id")
    return record


__all__ = ["ApiError", "Ctx"]
