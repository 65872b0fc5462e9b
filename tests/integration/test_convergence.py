"""Every plan converges, as a property: for generated catalog pairs (A, B) over the whole schema, apply A to an empty
account (the emulator, over HTTP, with the real SDK), then B; every call is taken the first time, and the plan of
B afterwards is empty. B is A edited the ways catalogs change: objects added and removed, fields dropped, lists
emptied, amounts changed, prices moved, metadata and other fields edited.

A B that Stripe cannot reach from A is a plan problem before anything is sent (a plan's amount, a nickname
Stripe cannot unset, ...): then nothing may be sent, and the problem must be one of those the diff reports for
such edits.
"""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, event, given, note, settings
from hypothesis import strategies as st

from compiler.apply import apply_changeset
from compiler.changes.changeset import ChangeSet
from compiler.changes.model import CheckedCatalog, load_catalog
from compiler.changes.planning import changeset_for
from compiler.emulator import EmulatorHandle
from compiler.errors import InvalidCatalog, PricebookError
from compiler.stripe.gateway import Connection, Gateway
from tests.strategies import catalogs, price

#: the problems a plan may report for the edits below, each a change Stripe cannot make
EXPECTED_PROBLEMS = frozenset(
    {
        "field-cannot-be-unset",  # a field dropped that Stripe cannot unset (a nickname, trial days, ...)
        "plan-immutable-field",  # a plan's amount, interval, ...
        "meter-immutable-field",  # a meter's settings
        "default-price-removed",  # a price removed while a product the catalog leaves alone still points at it
        "default-price-blocks-replace",
    }
)
#: fields an edit never drops: identities, and what the schema requires
_KEPT = {
    "products": {"id", "name"},
    "prices": {"lookup_key", "currency", "product"},
    "plans": {"id", "product", "currency", "interval"},
    "meters": {"event_name", "display_name", "default_aggregation"},
}
#: the edits, dropping and emptying fields (where calls went wrong most) twice as likely as the others
_EDITS = ("drop", "drop", "empty", "empty", "amount", "move", "metadata", "add", "remove", "set")


def _objects(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(section, object) for every catalog object, nested prices as `prices`."""
    for section in ("meters", "products", "prices", "plans"):
        for obj in doc.get(section, []):
            yield section, obj
            if section == "products":
                for nested in obj.get("prices", []):
                    yield "prices", nested


def _price_lists(doc: dict[str, Any]) -> list[tuple[list[dict[str, Any]], str | None]]:
    """Every list that holds prices, with the product it nests them under (None: the top-level list)."""
    lists: list[tuple[list[dict[str, Any]], str | None]] = [(doc.setdefault("prices", []), None)]
    lists += [(p["prices"], p["id"]) for p in doc.get("products", []) if p.get("prices")]
    return lists


def _forget_default(doc: dict[str, Any], lookup_key: str) -> None:
    """A price leaves its product: a product that named it as its default price names none (as a user would)."""
    for product in doc.get("products", []):
        if product.get("default_price") == lookup_key:
            del product["default_price"]


def _take_price(doc: dict[str, Any], obj: dict[str, Any]) -> str | None:
    """Removes the price `obj` from the list that holds it; the product it was nested under, if any."""
    for holder, owner in _price_lists(doc):
        for index, item in enumerate(holder):
            if item is obj:
                del holder[index]
                return owner
    raise AssertionError("the price is in no list")


#: what an edit changes: the sections of the objects it applies to, and whether one applies
_APPLIES: dict[str, tuple[tuple[str, ...], Any]] = {
    # a meter's optional fields cannot change at all (a plan problem every time): dropped rarely, as `set` edits
    "drop": (("products", "prices", "plans"), lambda s, o: bool(set(o) - _KEPT[s] - {"prices"})),
    "empty": (("products", "prices"), lambda s, o: s == "products" or "currency_options" in o),
    "amount": (("prices", "plans"), lambda s, o: isinstance(o.get("unit_amount", o.get("amount")), int)),
    "move": (("prices",), lambda s, o: True),
    "metadata": (("products", "prices", "plans"), lambda s, o: True),
    "add": (("products",), lambda s, o: True),
    "remove": (("products", "prices", "plans"), lambda s, o: True),
    "set": (("meters", "products", "prices", "plans"), lambda s, o: True),
}
_SETS: dict[str, dict[str, Any]] = {
    "products": {"description": "Changed", "shippable": False, "unit_label": "unit", "url": "https://x.test"},
    "prices": {"nickname": "Renamed", "active": False, "tax_behavior": "inclusive"},
    "plans": {"nickname": "Renamed", "trial_period_days": 3, "active": False},
    "meters": {"display_name": "Renamed", "event_time_window": "hour"},
}


@st.composite
def _edit(draw: st.DrawFn, doc: dict[str, Any], number: int) -> str:
    """Edits `doc` in place one way; says which (Hypothesis counts them: --hypothesis-show-statistics)."""
    kind = draw(st.sampled_from(_EDITS))
    sections, applies = _APPLIES[kind]
    candidates = [(s, o) for s, o in _objects(doc) if s in sections and applies(s, o)]
    if not candidates:
        return "no edit"
    section, obj = draw(st.sampled_from(candidates))
    products = [p["id"] for p in doc.get("products", [])]
    if kind == "drop":
        # the field first, each name as likely as any other, then an object that has it
        names = sorted({n for s, o in candidates for n in set(o) - _KEPT[s] - {"prices"}})
        name = draw(st.sampled_from(names))
        section, obj = draw(st.sampled_from([(s, o) for s, o in candidates if name in o and name not in _KEPT[s]]))
        del obj[name]
        section = f"{section}.{name}"
    elif kind == "empty" and section == "products":
        name = draw(st.sampled_from(["images", "marketing_features", "metadata"]))
        obj[name] = {} if name == "metadata" else []
        section = f"{section}.{name}"
    elif kind == "empty":
        obj["currency_options"] = {}
    elif kind == "amount":
        name = "unit_amount" if "unit_amount" in obj else "amount"
        obj[name] += draw(st.integers(1, 500))
    elif kind == "move":
        owner = _take_price(doc, obj)
        target = draw(st.sampled_from(products))
        if target != (owner or obj.get("product")):
            _forget_default(doc, obj["lookup_key"])
        if draw(st.booleans()):  # to the top-level list
            doc["prices"].append({**obj, "product": target})
        else:  # nested under a product
            nested = next(p for p in doc["products"] if p["id"] == target)
            nested.setdefault("prices", []).append({k: v for k, v in obj.items() if k != "product"})
    elif kind == "metadata":
        metadata = obj.setdefault("metadata", {})
        key = draw(st.sampled_from(["team", "segment", "tier", "new"]))
        if key in metadata and draw(st.booleans()):
            del metadata[key]
        else:
            metadata[key] = draw(st.sampled_from(["a", "edited", "x y"]))
    elif kind == "add":
        meters = [m["event_name"] for m in doc.get("meters", [])]
        added = draw(price(f"added_{number}", meters))
        doc.setdefault("prices", []).append({**added, "product": obj["id"]})
    elif kind == "remove" and section == "prices":
        _take_price(doc, obj)
        _forget_default(doc, obj["lookup_key"])
    elif kind == "remove" and section == "plans":
        doc["plans"].remove(obj)
    elif kind == "remove":
        if len(products) == 1:
            return "no edit"
        doc["products"].remove(obj)
        for name in ("prices", "plans"):
            doc[name] = [o for o in doc.get(name, []) if o.get("product") != obj["id"]]
    else:
        name = draw(st.sampled_from(sorted(_SETS[section])))
        obj[name] = _SETS[section][name]
    return f"{kind} {section}"


@st.composite
def catalog_pairs(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    a = draw(catalogs(refused=False))
    b = copy.deepcopy(a)
    for number in range(draw(st.integers(1, 4))):
        event(draw(_edit(b, number)))
    return a, {k: v for k, v in b.items() if v}


def _write(doc: dict[str, Any], directory: Path) -> CheckedCatalog | None:
    """The doc as a catalog file; its checked catalog, or None when validate refuses it."""
    directory.mkdir(exist_ok=True)
    (directory / "catalog.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    try:
        return load_catalog([str(directory)])
    except InvalidCatalog:
        return None


def _plan(catalog: CheckedCatalog, gateway: Gateway) -> ChangeSet:
    # the edits are meant, removals too: many archives at once are allowed (the guard has tests of its own)
    return changeset_for(catalog, gateway, allow_mass_archive=True)[0]


def _apply(catalog: CheckedCatalog, gateway: Gateway, emulator: EmulatorHandle) -> ChangeSet:
    """Apply the catalog's plan: every call taken the first time (one 200 each, nothing refused or retried)."""
    changeset = _plan(catalog, gateway)
    assert changeset.problems == (), changeset.problems
    mark = len(emulator.requests())
    result = apply_changeset(changeset, gateway)
    assert result.ok, result.failed
    sent = [r["status"] for r in emulator.requests()[mark:] if r["method"] == "POST"]
    assert sent == [200] * len(changeset.calls), sent
    return changeset


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(pair=catalog_pairs())
def test_every_plan_converges(_shared_emulator: EmulatorHandle, pair: tuple[dict[str, Any], dict[str, Any]]) -> None:
    a, b = pair
    note(f"A:\n{yaml.safe_dump(a, sort_keys=False)}\nB:\n{yaml.safe_dump(b, sort_keys=False)}")
    with tempfile.TemporaryDirectory() as directory:
        catalog_a, catalog_b = _write(a, Path(directory) / "a"), _write(b, Path(directory) / "b")
    assume(catalog_a is not None and catalog_b is not None)
    assert catalog_a is not None and catalog_b is not None
    emulator = _shared_emulator
    emulator.reset()
    gateway = Gateway(Connection(emulator.api_key, emulator.url), rate=1000)

    _apply(catalog_a, gateway, emulator)
    assert _plan(catalog_a, gateway).calls == ()

    planned = _plan(catalog_b, gateway)
    if planned.problems:
        event("B blocked: " + ", ".join(sorted({p.rule for p in planned.problems})))
        assert {p.rule for p in planned.problems} <= EXPECTED_PROBLEMS, planned.problems
        assert all(p.hint for p in planned.problems)
        writes = len([r for r in emulator.requests() if r["method"] == "POST"])
        with pytest.raises(PricebookError, match="refusing to apply"):
            apply_changeset(planned, gateway)
        assert len([r for r in emulator.requests() if r["method"] == "POST"]) == writes
        return
    event("B applied")
    _apply(catalog_b, gateway, emulator)
    after = _plan(catalog_b, gateway)
    assert after.calls == (), after.calls
    assert not after.has_changes, [c for c in after.changes if c.action.value != "no-op"]
