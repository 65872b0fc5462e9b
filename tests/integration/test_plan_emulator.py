"""`pricebook plan` against the emulator: a catalog built by hand through the SDK plans as no changes, the exit
codes, the live-key refusal, and the number of requests a plan costs (one page of 100 per list)."""

from __future__ import annotations

import json
import math
import subprocess
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import stripe

from compiler.changes.changeset import Action
from compiler.changes.compile import compile_catalog
from compiler.changes.model import load_catalog
from compiler.changes.planning import changeset_for
from compiler.emulator import EmulatorHandle, Knobs
from compiler.stripe.boundaries import CACHE_DIR_VARIABLE
from compiler.stripe.fields import MANAGED_METADATA
from compiler.stripe.gateway import Connection, Gateway
from compiler.stripe.state import LISTS
from tests.cli import run_pricebook

ROOT = Path(__file__).resolve().parents[2]

CATALOG = """\
meters:
  - event_name: api_calls
    display_name: API calls
    default_aggregation: {formula: sum}

products:
  - id: api
    name: API
    default_price: api_monthly
    metadata: {team: platform}
    prices:
      - lookup_key: api_monthly
        nickname: API monthly
        currency: usd
        unit_amount: 2000
        recurring: {interval: month}
        tax_behavior: exclusive
        currency_options:
          eur: {unit_amount: 1800}
      - lookup_key: api_requests
        currency: usd
        billing_scheme: tiered
        tiers_mode: graduated
        tiers:
          - {up_to: 1000, unit_amount_decimal: "0.5"}
          - {up_to: inf, unit_amount: 0, flat_amount: 5000}
        recurring: {interval: month, usage_type: metered, meter: api_calls}
      - lookup_key: api_setup
        currency: usd
        unit_amount_decimal: "1999"

plans:
  - id: api-legacy
    product: api
    currency: usd
    amount: 1500
    interval: month
    transform_usage: {divide_by: 10, round: up}
"""


def build_by_hand(client: stripe.StripeClient, *, team: str = "platform") -> dict[str, str]:
    """The catalog above, written the way an engineer would with the SDK (not through pricebook)."""
    managed: dict[str, str] = dict(MANAGED_METADATA)
    meter = client.v1.billing.meters.create(
        params={"event_name": "api_calls", "display_name": "API calls", "default_aggregation": {"formula": "sum"}}
    )
    client.v1.products.create(params={"id": "api", "name": "API", "metadata": {"team": team, **managed}})
    monthly = client.v1.prices.create(
        params={
            "lookup_key": "api_monthly",
            "nickname": "API monthly",
            "product": "api",
            "currency": "usd",
            "unit_amount": 2000,
            "recurring": {"interval": "month"},
            "tax_behavior": "exclusive",
            "currency_options": {"eur": {"unit_amount": 1800}},
            "metadata": managed,
        }
    )
    requests = client.v1.prices.create(
        params={
            "lookup_key": "api_requests",
            "product": "api",
            "currency": "usd",
            "billing_scheme": "tiered",
            "tiers_mode": "graduated",
            "tiers": [
                {"up_to": 1000, "unit_amount_decimal": Decimal("0.5")},
                {"up_to": "inf", "unit_amount": 0, "flat_amount": 5000},
            ],
            "recurring": {"interval": "month", "usage_type": "metered", "meter": meter.id},
            "metadata": managed,
        }
    )
    client.v1.prices.create(
        params={
            "lookup_key": "api_setup",
            "product": "api",
            "currency": "usd",
            "unit_amount_decimal": Decimal("1999"),
            "metadata": managed,
        }
    )
    client.v1.plans.create(
        params={
            "id": "api-legacy",
            "product": "api",
            "currency": "usd",
            "amount": 1500,
            "interval": "month",
            "transform_usage": {"divide_by": 10, "round": "up"},
            "metadata": managed,
        }
    )
    client.v1.products.update("api", params={"default_price": monthly.id})
    return {"meter": meter.id, "monthly": monthly.id, "requests": requests.id}


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "api.yaml").write_text(CATALOG)
    return tmp_path / "plans"


def gateway(emulator: EmulatorHandle) -> Gateway:
    return Gateway(Connection(emulator.api_key, emulator.url))


def run_plan(emulator: EmulatorHandle, *args: str, key: str | None = None) -> subprocess.CompletedProcess[str]:
    """`pricebook plan ARGS --api-base URL` (the base by its flag, not STRIPE_API_BASE)."""
    return run_pricebook(["plan", *args, "--api-base", emulator.url], emulator, key=key, base_from_env=False)


def test_catalog_built_by_hand_through_the_sdk_plans_as_no_changes(emulator: EmulatorHandle, catalog_dir: Path) -> None:
    build_by_hand(emulator.client())
    changeset, state = changeset_for(load_catalog([str(catalog_dir)]), gateway(emulator))
    assert [c for c in changeset.changes if c.action is not Action.NOOP] == []
    assert changeset.calls == () and changeset.problems == ()
    assert len(changeset.changes) == 6
    # the plan was read as a plan, the prices as prices, even though each list shows the other
    assert {(o.kind.value, o.key) for o in state.objects} >= {("plan", "api-legacy"), ("price", "api_monthly")}


def test_the_example_catalog_applied_through_its_calls_plans_as_no_changes(emulator: EmulatorHandle) -> None:
    checked = load_catalog([str(ROOT / "plans")])
    gw = gateway(emulator)
    ids: dict[str, str] = {}
    for call in compile_catalog(checked.catalog):
        body = gw.send(call.resolve(ids), call.idempotency_key("test"))
        if call.creates:
            ids[call.creates] = body["id"]
    changeset, _ = changeset_for(checked, gw)
    assert not changeset.has_changes and changeset.calls == () and changeset.problems == ()


def test_plan_never_writes_and_costs_one_page_per_list(emulator: EmulatorHandle, catalog_dir: Path) -> None:
    client = emulator.client()
    build_by_hand(client)
    for n in range(230):  # enough active prices for three pages
        client.v1.prices.create(params={"product": "api", "currency": "usd", "unit_amount": n})
    before = len(emulator.requests())
    changeset, _ = changeset_for(load_catalog([str(catalog_dir)]), gateway(emulator))
    sent = emulator.requests()[before:]
    assert all(r["method"] == "GET" for r in sent)
    active_prices = 230 + 3 + 1  # the loose ones, the catalog's prices and the plan (one family)
    # meters, products, active prices; the catalog's prices are all active: the archived ones are not read
    pages = 1 + 1 + math.ceil(active_prices / 100)
    assert sent[0]["path"] == "/v1/account"  # and the account's id, once, which names it in a saved plan
    assert len(sent) - 1 == pages == len(LISTS) + 1
    assert "active=false" not in " ".join(r["query"] for r in sent)
    assert not changeset.has_changes  # prices pricebook does not own are not its business


def test_detailed_exitcode_zero_then_two_and_the_saved_plan(
    emulator: EmulatorHandle, catalog_dir: Path, tmp_path: Path
) -> None:
    build_by_hand(emulator.client())
    same = run_plan(emulator, str(catalog_dir), "--detailed-exitcode")
    assert same.returncode == 0, same.stderr
    assert "No changes." in same.stdout

    (catalog_dir / "api.yaml").write_text(CATALOG.replace("unit_amount: 2000", "unit_amount: 2400"))
    out = tmp_path / "changes.json"
    changed = run_plan(emulator, str(catalog_dir), "--detailed-exitcode", "--out", str(out))
    assert changed.returncode == 2, changed.stderr
    assert "price.api_monthly (API) must be replaced" in changed.stdout
    saved: dict[str, Any] = json.loads(out.read_text())
    assert saved["summary"]["replace"] == 1
    assert [c["action"] for c in saved["calls"]] == ["create", "set default price", "archive old version"]
    assert emulator.api_key not in out.read_text()

    plain = run_plan(emulator, str(catalog_dir), "--format", "json")
    assert plain.returncode == 0 and json.loads(plain.stdout)["summary"]["replace"] == 1


def test_a_default_price_deleted_from_the_catalog_stays_and_every_view_says_so(
    emulator: EmulatorHandle, catalog_dir: Path
) -> None:
    build_by_hand(emulator.client())
    (catalog_dir / "api.yaml").write_text(CATALOG.replace("    default_price: api_monthly\n", ""))
    text = run_plan(emulator, str(catalog_dir), "--detailed-exitcode")
    assert text.returncode == 0, text.stderr  # Stripe cannot unset it: nothing to send
    assert "api.yaml:7:5: product 'api' names no default_price, so the account's stays: api_monthly" in text.stdout
    assert "[field-kept]" in text.stdout
    assert "hint: write `default_price: api_monthly` to say so" in text.stdout and "No changes." in text.stdout
    plan = json.loads(run_plan(emulator, str(catalog_dir), "--format", "json").stdout)
    assert [w["rule"] for w in plan["warnings"]] == ["field-kept"]
    assert "field-kept" in run_plan(emulator, str(catalog_dir), "--format", "markdown").stdout


def test_drift_by_hand_is_set_back(emulator: EmulatorHandle, catalog_dir: Path) -> None:
    client = emulator.client()
    ids = build_by_hand(client)
    client.v1.prices.update(ids["monthly"], params={"nickname": "renamed in the dashboard", "metadata": {"x": "1"}})
    changeset, _ = changeset_for(load_catalog([str(catalog_dir)]), gateway(emulator))
    (call,) = changeset.calls
    assert call.params == {"nickname": "API monthly", "metadata": {"x": ""}}


def test_unmanaged_lookup_key_holder_fails_the_plan_with_a_hint(emulator: EmulatorHandle, catalog_dir: Path) -> None:
    client = emulator.client()
    client.v1.products.create(params={"id": "api", "name": "API", "metadata": dict(MANAGED_METADATA)})
    client.v1.prices.create(params={"lookup_key": "api_setup", "product": "api", "currency": "usd", "unit_amount": 1})
    result = run_plan(emulator, str(catalog_dir), "--detailed-exitcode")
    assert result.returncode == 1
    assert "lookup-key-held-by-unmanaged-price" in result.stdout
    assert "managed_by=pricebook" in result.stdout


def test_live_key_is_refused_without_live(emulator: EmulatorHandle, catalog_dir: Path) -> None:
    before = len(emulator.requests())
    result = run_plan(emulator, str(catalog_dir), key="sk_live_" + "x" * 24)
    assert result.returncode == 1
    assert "--live" in result.stderr and "sk_live_" not in result.stderr + result.stdout
    assert len(emulator.requests()) == before  # refused before any read


def test_fingerprint_is_stable_across_reads_and_moves_with_a_hand_edit(
    emulator: EmulatorHandle, catalog_dir: Path
) -> None:
    client = emulator.client()
    ids = build_by_hand(client)
    catalog = load_catalog([str(catalog_dir)])
    first, _ = changeset_for(catalog, gateway(emulator))
    second, _ = changeset_for(catalog, gateway(emulator))
    assert first.fingerprint == second.fingerprint
    client.v1.billing.meters.update(ids["meter"], params={"display_name": "Renamed"})
    third, _ = changeset_for(catalog, gateway(emulator))
    assert third.fingerprint != first.fingerprint
    assert [(c.path, c.params) for c in third.calls] == [
        (f"/v1/billing/meters/{ids['meter']}", {"display_name": "API calls"})
    ]


def test_plan_keeps_where_the_pages_fell_and_the_next_plan_reads_no_page_more(
    emulator: EmulatorHandle, catalog_dir: Path, tmp_path: Path
) -> None:
    client = emulator.client()
    build_by_hand(client)
    store = emulator.emulator.store
    for n in range(396):  # a hundred prices a second, under the catalog's four: every page ends with a second
        store.clock_offset = 1_750_000_003 - (n + 4) // 100 + 0.5 - time.time()
        client.v1.prices.create(params={"product": "api", "currency": "usd", "unit_amount": n})
    store.clock_offset = 0.0
    emulator.emulator.knobs = Knobs(latency_ms=100)  # far enough for the price list to be read in chains
    cache = tmp_path / "cache"
    env = {CACHE_DIR_VARIABLE: str(cache)}

    def plan() -> list[dict[str, Any]]:
        before = len(emulator.requests())
        done = run_pricebook(["plan", str(catalog_dir), "--detailed-exitcode"], emulator, extra_env=env)
        assert done.returncode == 0, done.stderr
        return emulator.requests()[before:]

    plan()
    (kept,) = cache.iterdir()
    assert emulator.api_key not in kept.read_text() and str(emulator.emulator.store.account_id) in kept.name
    sent = plan()
    # the account, one page of meters, one of products, and the 400 prices (the catalog's three and its plan
    # among them) in four full pages, read by chains started at once at the seconds the first plan kept
    assert len(sent) == 1 + 1 + 1 + 4, [r["query"] for r in sent]
    starts = [r["query"] for r in sent if r["path"] == "/v1/prices" and "starting_after" not in r["query"]]
    assert len(starts) > 1 and all("created" in q for q in starts)
    run_pricebook(["plan", str(catalog_dir)], emulator, extra_env={CACHE_DIR_VARIABLE: ""})
    assert list(cache.iterdir()) == [kept]  # set and empty: nothing kept
