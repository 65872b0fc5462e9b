"""A plan-time problem about a catalog entry says where the catalog writes it (the field at fault, else the entry)
in every view, and shows values as the catalog writes them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from compiler.changes.changeset import ChangeSet
from compiler.changes.diff import diff
from compiler.changes.model import Catalog, load_catalog
from compiler.errors import Location
from compiler.render.json import render_json
from compiler.render.markdown import render_markdown
from compiler.render.text import render_text
from compiler.stripe.kinds import Kind
from compiler.stripe.state import AccountState, LiveObject

CATALOG = """\
meters:
  - event_name: emails_sent
    display_name: Emails sent
    default_aggregation:
      formula: count
products:
  - id: suite
    name: Suite
plans:
  - id: legacy-basic
    product: suite
    currency: usd
    interval: month
    amount: 1000
"""
SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "changeset.schema.json"


def _planned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[ChangeSet, Catalog]:
    """The catalog planned against the account it was applied to, with the meter's formula and the plan's amount
    since changed (as by an earlier catalog)."""
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "catalog.yaml").write_text(CATALOG)
    monkeypatch.chdir(tmp_path)
    catalog = load_catalog(["plans"]).catalog
    live = [
        LiveObject(r.kind, r.key if r.kind is not Kind.METER else "mtr_1", r.key, True, dict(r.attrs))
        for r in catalog
    ]
    edited: dict[Kind, dict[str, Any]] = {
        Kind.METER: {"default_aggregation": {"formula": "sum"}},
        Kind.PLAN: {"amount": 900},
    }
    live = [LiveObject(o.kind, o.id, o.key, o.managed, {**o.attrs, **edited.get(o.kind, {})}) for o in live]
    return diff(catalog, AccountState.of(live)), catalog


def test_immutable_fields_are_reported_at_the_field_with_yaml_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cs, _ = _planned(tmp_path, monkeypatch)
    places = {p.rule: (p.address, p.location, p.message) for p in cs.problems}
    assert places["meter-immutable-field"] == (
        "meter.emails_sent",
        Location("plans/catalog.yaml", 4, 5),  # default_aggregation:
        "Stripe cannot change default_aggregation of an existing meter (default_aggregation.formula: sum -> count)",
    )
    assert places["plan-immutable-field"] == (
        "plan.legacy-basic",
        Location("plans/catalog.yaml", 14, 5),  # amount:
        "Stripe cannot change amount of an existing plan (amount: 900 -> 1000)",
    )
    text = render_text(cs, color=False)
    assert (
        "Error: plans/catalog.yaml:14:5: plan.legacy-basic: Stripe cannot change amount of an existing plan "
        "(amount: 900 -> 1000) [plan-immutable-field]"
    ) in text
    markdown = render_markdown(cs)
    assert "- **`plan.legacy-basic`** (`plans/catalog.yaml:14:5`) `plan-immutable-field`: " in markdown
    data = json.loads(render_json(cs))
    jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text())).validate(data)
    (plan,) = [p for p in data["problems"] if p["rule"] == "plan-immutable-field"]
    assert plan["location"] == {"file": "plans/catalog.yaml", "line": 14, "col": 5}
    assert plan["address"] == "plan.legacy-basic"
    assert ChangeSet.from_json(data).problems == cs.problems  # a saved plan keeps the places



def test_a_field_the_catalog_no_longer_writes_is_reported_at_its_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "catalog.yaml").write_text(CATALOG)
    monkeypatch.chdir(tmp_path)
    catalog = load_catalog(["plans"]).catalog
    live = [
        LiveObject(r.kind, "mtr_1" if r.kind is Kind.METER else r.key, r.key, True, dict(r.attrs)) for r in catalog
    ]
    live = [
        LiveObject(o.kind, o.id, o.key, True, {**o.attrs, "nickname": "by hand"}) if o.kind is Kind.PLAN else o
        for o in live
    ]
    (problem,) = diff(catalog, AccountState.of(live)).problems
    assert (problem.rule, problem.location) == ("field-cannot-be-unset", Location("plans/catalog.yaml", 10, 5))
