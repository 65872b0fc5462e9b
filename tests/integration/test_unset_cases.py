"""Edits that unset, empty or round a field, against the emulator over HTTP: each either applies with every call
taken and then plans no changes, or stops before anything is sent (at validate, or as a plan problem) with the
field named and what to write instead. None stops half-way.

Catalog A below is applied first; each case edits it into B.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from compiler.apply import apply_changeset
from compiler.changes.changeset import ChangeSet
from compiler.changes.model import load_catalog
from compiler.changes.planning import changeset_for
from compiler.cli import plan as plan_cli
from compiler.emulator import EmulatorHandle
from compiler.errors import InvalidCatalog, PricebookError
from compiler.stripe.gateway import Connection, Gateway

A = """\
products:
  - id: suite
    name: Suite
    shippable: true
    statement_descriptor: SUITE
    images: [https://example.com/a.png]
    marketing_features: [{name: Fast}]
    package_dimensions: {height: 1.25, length: 2, width: 3.5, weight: 10}
    metadata: {team: growth}
    prices:
      - lookup_key: seats
        nickname: Seats
        currency: usd
        unit_amount: 1000
        recurring: {interval: month}
plans:
  - id: gold
    product: suite
    nickname: Gold
    currency: usd
    amount: 2000
    interval: month
    trial_period_days: 14
"""


@dataclass(frozen=True)
class Edit:
    """A → B: `old` replaced by `new` in A."""

    old: str
    new: str

    def apply(self, text: str) -> str:
        assert self.old in text, self.old
        return text.replace(self.old, self.new, 1)


def gateway(emulator: EmulatorHandle) -> Gateway:
    return Gateway(Connection(emulator.api_key, emulator.url), rate=500)


def plan(catalog: Path, emulator: EmulatorHandle) -> ChangeSet:
    return changeset_for(load_catalog([str(catalog)]), gateway(emulator))[0]


def apply_and_replan(catalog: Path, emulator: EmulatorHandle) -> ChangeSet:
    """Apply the catalog: every call must be taken the first time; the plan after it."""
    mark = len(emulator.requests())
    changeset = plan(catalog, emulator)
    assert changeset.problems == ()
    result = apply_changeset(changeset, gateway(emulator))
    assert result.ok, result.failed
    statuses = [r["status"] for r in emulator.requests()[mark:] if r["method"] == "POST"]
    assert statuses == [200] * len(changeset.calls)
    return plan(catalog, emulator)


def writes(emulator: EmulatorHandle) -> int:
    return len([r for r in emulator.requests() if r["method"] == "POST"])


@pytest.fixture
def catalog(emulator: EmulatorHandle, tmp_path: Path) -> Path:
    """Catalog A, applied: the directory holds A for a case to edit."""
    directory = tmp_path / "catalog"
    directory.mkdir()
    (directory / "catalog.yaml").write_text(A)
    assert apply_and_replan(directory, emulator).calls == ()
    return directory


def edit(catalog: Path, *edits: Edit) -> None:
    path = catalog / "catalog.yaml"
    text = path.read_text()
    for one in edits:
        text = one.apply(text)
    path.write_text(text)


def account(emulator: EmulatorHandle, path: str) -> dict[str, Any]:
    data: dict[str, Any] = emulator.client().raw_request("get", path).data
    return data


# -- Stripe cannot unset these: a plan problem that names the field and the way out ------------------------------

CANNOT_UNSET = [
    # (field, address, the line dropped from A, the way out the hint names)
    pytest.param(
        "nickname", "price.seats", "        nickname: Seats\n", '        nickname: "Seats"\n', id="price-nickname"
    ),
    pytest.param("nickname", "plan.gold", "    nickname: Gold\n", '    nickname: "Gold"\n', id="plan-nickname"),
    pytest.param(
        "trial_period_days", "plan.gold", "    trial_period_days: 14\n", "    trial_period_days: 0\n", id="trial"
    ),
    pytest.param("shippable", "product.suite", "    shippable: true\n", "    shippable: false\n", id="shippable"),
    pytest.param(
        "statement_descriptor",
        "product.suite",
        "    statement_descriptor: SUITE\n",
        '    statement_descriptor: "SUITE"\n',
        id="statement-descriptor",
    ),
]


@pytest.mark.parametrize(("field", "address", "line", "way_out"), CANNOT_UNSET)
def test_dropping_a_field_stripe_cannot_unset_is_a_problem_with_the_way_out(
    emulator: EmulatorHandle, catalog: Path, field: str, address: str, line: str, way_out: str
) -> None:
    edit(catalog, Edit(line, ""))
    before = writes(emulator)
    changeset = plan(catalog, emulator)
    (problem,) = changeset.problems
    assert (problem.address, problem.rule) == (address, "field-cannot-be-unset")
    assert f"`{field}`" in problem.message
    assert f"`{field}: {way_out.split(': ', 1)[1].strip()}`" in problem.hint
    with pytest.raises(PricebookError, match="refusing to apply"):
        apply_changeset(changeset, gateway(emulator))
    assert writes(emulator) == before  # nothing sent: the account is exactly as A left it

    # the way out the hint names makes a plan Stripe takes in full, and the plan after it is empty
    (catalog / "catalog.yaml").write_text(Edit(line, way_out).apply(A))
    assert apply_and_replan(catalog, emulator).calls == ()


def test_the_plan_command_shows_the_problem_and_exits_1(emulator: EmulatorHandle, catalog: Path) -> None:
    edit(catalog, Edit("        nickname: Seats\n", ""))
    env = {"STRIPE_API_KEY": emulator.api_key, "STRIPE_API_BASE": emulator.url, "NO_COLOR": "1"}
    result = CliRunner().invoke(plan_cli.command, [str(catalog)], env=env)
    assert result.exit_code == 1, result.output
    shown = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert "field-cannot-be-unset" in shown and "price.seats" in shown
    assert 'nickname: "Seats"' in shown


# -- Stripe can: an apply that converges -------------------------------------------------------------------------


def test_emptied_lists_are_cleared_and_the_plan_converges(emulator: EmulatorHandle, catalog: Path) -> None:
    edit(
        catalog,
        Edit("    images: [https://example.com/a.png]\n", "    images: []\n"),
        Edit("    marketing_features: [{name: Fast}]\n", "    marketing_features: []\n"),
    )
    (call,) = plan(catalog, emulator).calls
    assert call.params == {"images": "", "marketing_features": ""}
    assert apply_and_replan(catalog, emulator).calls == ()
    product = account(emulator, "/v1/products/suite")
    assert (product["images"], product["marketing_features"]) == ([], [])


@pytest.mark.parametrize(
    "line",
    [
        "    images: [https://example.com/a.png]\n",
        "    marketing_features: [{name: Fast}]\n",
        "    package_dimensions: {height: 1.25, length: 2, width: 3.5, weight: 10}\n",
    ],
)
def test_dropped_fields_stripe_can_unset_are_unset_and_the_plan_converges(
    emulator: EmulatorHandle, catalog: Path, line: str
) -> None:
    edit(catalog, Edit(line, ""))
    assert apply_and_replan(catalog, emulator).calls == ()


def test_dropped_metadata_and_nickname_changes_converge(emulator: EmulatorHandle, catalog: Path) -> None:
    edit(catalog, Edit("    metadata: {team: growth}\n", ""), Edit("nickname: Gold", "nickname: Gold plan"))
    assert apply_and_replan(catalog, emulator).calls == ()
    assert account(emulator, "/v1/products/suite")["metadata"] == {"managed_by": "pricebook"}


# -- validate refuses what Stripe would refuse or never store: nothing is sent -----------------------------------


def test_package_dimensions_stripe_does_not_take_stop_at_validate(emulator: EmulatorHandle, catalog: Path) -> None:
    edit(
        catalog,
        Edit(
            "{height: 1.25, length: 2, width: 3.5, weight: 10}",
            "{height: 1.255, length: 0.00001, width: 1.0e+16, weight: 10}",
        ),
    )
    before = writes(emulator)
    with pytest.raises(InvalidCatalog) as info:
        plan(catalog, emulator)
    found = sorted((d.rule, d.location.line, d.hint) for d in info.value.diagnostics)
    assert found == [
        ("package-dimensions-format", 8, "round it to 2 decimal places (inches): 0.00"),
        ("package-dimensions-format", 8, "round it to 2 decimal places (inches): 1.26"),
        ("package-dimensions-format", 8, "write it as a whole number: 10000000000000000"),
    ]
    assert writes(emulator) == before
    # the values the hints name apply, and the plan converges
    edit(catalog, Edit("{height: 1.255, length: 0.00001, width: 1.0e+16", "{height: 1.26, length: 0.01, width: 35.5"))
    assert apply_and_replan(catalog, emulator).calls == ()
    package = account(emulator, "/v1/products/suite")["package_dimensions"]
    assert package == {"height": 1.26, "length": 0.01, "width": 35.5, "weight": 10}


def test_an_empty_metadata_value_stops_at_validate(emulator: EmulatorHandle, catalog: Path) -> None:
    edit(catalog, Edit("    metadata: {team: growth}\n", "    metadata: {team: growth, note: ''}\n"))
    before = writes(emulator)
    with pytest.raises(InvalidCatalog) as info:
        plan(catalog, emulator)
    (diagnostic,) = info.value.diagnostics
    assert (diagnostic.rule, diagnostic.location.line) == ("schema-length", 9)
    assert diagnostic.hint is not None and "remove the key" in diagnostic.hint
    assert writes(emulator) == before
