"""Golden plans: one folder per scenario under `tests/golden/`, run offline (no server, no clock).

Each folder holds the catalog (`plans/*.yaml`), the account as Stripe's list endpoints return it (`account.json`,
a list of raw objects: `object: "price"`, `up_to: null`, decimal strings, plans seen in both lists, ...), a
README saying what the scenario shows, and the expected `expected.txt`, `expected.md` and `expected.json`.
The account is served to the real `read_account` by a fake list endpoint, then `changeset_for` diffs it: the
same path `pricebook plan` takes, minus HTTP.

After an intended change to the diff or the renderers, rewrite the expected files with

    PRICEBOOK_UPDATE_GOLDEN=1 .venv/bin/pytest tests/unit/test_golden.py

and read every changed file (`git diff tests/golden`) before committing: a golden file that records a wrong diff
is worse than none. `SANITY` below pins what each scenario must show whatever the golden files say.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from compiler.changes.changeset import Action, ChangeSet
from compiler.changes.model import load_catalog
from compiler.changes.planning import changeset_for
from compiler.render.json import render_json
from compiler.render.markdown import render_markdown
from compiler.render.text import render_text
from compiler.stripe.facts import API_VERSION
from compiler.stripe.state import ListPage

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests" / "golden"
SCHEMA = REPO / "schemas" / "changeset.schema.json"
UPDATE = os.environ.get("PRICEBOOK_UPDATE_GOLDEN") == "1"

SCENARIOS = sorted(p.name for p in GOLDEN.iterdir() if (p / "account.json").is_file())


@dataclass(frozen=True)
class Sanity:
    """What a scenario must show, independent of its golden files (so a rewrite cannot bless a wrong diff)."""

    counts: Mapping[str, int]  # only the actions named here are checked
    problems: tuple[str, ...] = ()  # rule ids
    calls: tuple[str, ...] = ()  # "<action> <address>", in this relative order
    left_alone: tuple[str, ...] = ()  # `kind.id` of every object the plan says it leaves alone
    #: address -> (subscriptions, quantity, {currency: (a month now, a month after)}) for each change with any
    subscribers: Mapping[str, tuple[int, int, Mapping[str, tuple[int | None, int | None]]]] = field(
        default_factory=dict
    )


SANITY: Mapping[str, Sanity] = {
    "empty_account": Sanity(
        {"create": 6, "update": 0, "replace": 0, "archive": 0},
        calls=(
            "create meter.emails_sent",
            "create product.productivity_suite",
            "create price.suite_per_5_users_monthly",
            "set default price product.productivity_suite",
        ),
    ),
    "nothing_to_do": Sanity({"create": 0, "update": 0, "replace": 0, "archive": 0}),
    "nickname_edit": Sanity({"create": 0, "update": 1, "replace": 0, "archive": 0}),
    "amount_change": Sanity(
        {"create": 0, "update": 0, "replace": 1, "archive": 0},
        # the new price first, then the default price moves to it, and only then the old one is archived
        calls=(
            "create price.suite_per_5_users_monthly",
            "set default price product.productivity_suite",
            "archive old version price.suite_per_5_users_monthly",
        ),
    ),
    "tier_change": Sanity({"create": 0, "update": 0, "replace": 1, "archive": 0}),
    "repriced_in_three_currencies": Sanity({"create": 0, "update": 0, "replace": 1, "archive": 0}),
    "price_removed": Sanity({"create": 0, "update": 0, "replace": 0, "archive": 1}),
    "drift": Sanity({"create": 0, "update": 4, "replace": 0, "archive": 0}),
    "default_price_moved": Sanity({"create": 0, "update": 1, "replace": 0, "archive": 0}),
    "unmanaged_left_alone": Sanity(
        {"create": 0, "update": 0, "replace": 0, "archive": 0},
        left_alone=("meter.mtr_LegacyCalls01", "product.legacy_addon", "price.price_LegacyAddon01",
                    "price.price_SetupFee01", "plan.gold-legacy"),
    ),
    "subscribers": Sanity(
        {"create": 0, "update": 1, "replace": 1, "archive": 1},
        subscribers={
            "price.team_monthly": (3, 8, {"usd": (8000, None)}),
            "price.team_yearly_legacy": (2, 4, {"usd": (3333, None)}),
            "price.team_eu": (2, 3, {"eur": (8400, 9300)}),
        },
    ),
    "lookup_key_held_by_unmanaged": Sanity({"update": 0, "replace": 0, "archive": 0},
                                           problems=("lookup-key-held-by-unmanaged-price",),
                                           left_alone=("price.price_HandMadeAnnual01",)),
}


class AccountLists:
    """`read_account`'s view of an account: Stripe's list endpoints over a fixed list of raw objects.

    Like Stripe, a price's or plan's `tiers` is only there when the list asked for `expand[]=data.tiers`, and
    the price list shows active or inactive prices as asked."""

    def __init__(self, objects: list[dict[str, Any]], *, livemode: bool = False) -> None:
        self.objects = objects
        self._livemode = livemode

    @property
    def livemode(self) -> bool:
        return self._livemode

    def account_id(self) -> str | None:
        return "acct_golden"

    @property
    def pace(self) -> float | None:
        return None

    def list_page(self, path: str, params: Mapping[str, Any] | None = None) -> ListPage:
        """The whole list as one page."""
        params = params or {}
        kind = {"/v1/billing/meters": "billing.meter", "/v1/products": "product", "/v1/prices": "price",
                "/v1/plans": "plan", "/v1/subscriptions": "subscription"}[path]
        found = [o for o in self.objects if o.get("object") == kind]
        if kind == "subscription":
            # filtered on the price (or plan) of an item; without `status`, every status but canceled
            on = params.get("price") or params.get("plan")
            return ListPage([o for o in found if o.get("status") != "canceled" and on in _item_prices(o)], False)
        if "active" in params:
            wanted = str(params["active"]).lower() == "true"
            found = [o for o in found if bool(o.get("active")) is wanted]
        if "data.tiers" not in (params.get("expand") or ()):
            found = [{k: v for k, v in o.items() if k != "tiers"} for o in found]
        return ListPage(found, has_more=False)

    def pages(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[list[dict[str, Any]]]:
        yield self.list_page(path, params).objects


def _item_prices(subscription: Mapping[str, Any]) -> set[str]:
    return {item["price"]["id"] for item in subscription["items"]["data"]}


def compute(scenario: str) -> ChangeSet:
    folder = GOLDEN / scenario
    account = json.loads((folder / "account.json").read_text())
    changeset, _state = changeset_for(load_catalog([str(folder / "plans")]), AccountLists(account))
    return changeset


def outputs(changeset: ChangeSet) -> dict[str, str]:
    return {
        "expected.txt": render_text(changeset, color=False),
        "expected.md": render_markdown(changeset),
        "expected.json": render_json(changeset, pretty=True),
    }


def test_every_scenario_of_the_issue_is_here() -> None:
    assert sorted(SANITY) == SCENARIOS


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_golden(scenario: str) -> None:
    rendered = outputs(compute(scenario))
    folder = GOLDEN / scenario
    if UPDATE:
        for name, text in rendered.items():
            (folder / name).write_text(text, encoding="utf-8")
    for name, text in rendered.items():
        expected = (folder / name).read_text(encoding="utf-8")
        assert text == expected, f"{scenario}/{name} differs (PRICEBOOK_UPDATE_GOLDEN=1 rewrites it; review first)"


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario_shows_what_it_is_about(scenario: str) -> None:
    changeset = compute(scenario)
    sanity = SANITY[scenario]
    counts = changeset.counts()
    assert {a: counts[a] for a in sanity.counts} == dict(sanity.counts)
    assert sorted(p.rule for p in changeset.problems) == sorted(sanity.problems)
    assert changeset.left_alone == sanity.left_alone
    counted = {
        c.address: (
            c.subscribers.subscriptions,
            c.subscribers.quantity,
            {a.currency: (a.monthly, a.monthly_after) for a in c.subscribers.currencies},
        )
        for c in changeset.changes
        if c.subscribers is not None and c.subscribers.subscriptions
    }
    assert counted == dict(sanity.subscribers)
    sent = [f"{c.action} {c.address}" for c in changeset.calls]
    assert [s for s in sent if s in sanity.calls] == list(sanity.calls)
    assert changeset.api_version == API_VERSION
    assert changeset.fingerprint
    for call in changeset.calls:
        # Stripe's POST /v1/products takes no default_price: it is set by its own call once the price exists
        assert not (call.path == "/v1/products" and "default_price" in call.params), call
    replaced = {c.address for c in changeset.changes if c.action is Action.REPLACE}
    for call in changeset.calls:
        if call.address in replaced and call.action == "create":
            assert call.params.get("transfer_lookup_key") is True, call  # the new price takes the lookup key


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_golden_json_follows_the_schema_and_round_trips(scenario: str) -> None:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    text = (GOLDEN / scenario / "expected.json").read_text(encoding="utf-8")
    data = json.loads(text)
    jsonschema.Draft202012Validator(schema).validate(data)
    assert render_json(ChangeSet.from_json(data), pretty=True) == text
    # nothing time- or machine-dependent: no paths of this checkout, no timestamps of the account
    assert str(REPO) not in text and "created" not in data and '"created"' not in text
