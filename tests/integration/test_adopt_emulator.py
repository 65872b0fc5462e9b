"""`pricebook adopt` against the emulator, as a user runs it: an account built by hand in the Dashboard (products,
prices with and without lookup keys, a tiered one, a metered one with its meter, decimal and customer-chosen
amounts, currency options, a trial, a legacy plan with transform_usage, a default price, archived prices) is
adopted, planned (adopt actions only), applied, planned again (no changes) and imported (the same catalog); the
same catalog then adopts a second account built the same way; nothing is archived that nobody removed."""

from __future__ import annotations

import json
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import stripe
import yaml

from compiler.emulator import EmulatorHandle
from tests.cli import run_pricebook
from tests.integration.conftest import EmulatorFactory

SECRET_KEY = "sk_test_adoptTESTsecretKEY0123456789"


def build_by_hand(client: stripe.StripeClient, *, extra: bool = False) -> dict[str, str]:
    """The account of the issue: 6 products, 10 prices (6 of the 8 active ones without a lookup key, two tiered,
    one metered with its meter, 2 archived), a legacy plan. Returns a few Stripe ids by name."""
    products = client.v1.products
    analytics = products.create({"name": "Analytics Pro", "description": "Dashboards", "metadata": {"team": "data"}})
    api = products.create({"name": "API Access", "unit_label": "call"})
    seats = products.create({"name": "Team Seats"})
    storage = products.create({"name": "Storage"})
    support = products.create({"name": "Premium Support"})
    legacy = products.create({"name": "Legacy"})
    meter = client.v1.billing.meters.create(
        {
            "display_name": "API calls",
            "event_name": "api_calls",
            "default_aggregation": {"formula": "sum"},
            "customer_mapping": {"event_payload_key": "customer", "type": "by_id"},
            "value_settings": {"event_payload_key": "calls"},
        }
    )
    prices = client.v1.prices
    monthly = prices.create(
        {
            "product": analytics.id,
            "currency": "usd",
            "unit_amount": 4900,
            "nickname": "Analytics monthly",
            "recurring": {"interval": "month"},
            "currency_options": {"eur": {"unit_amount": 4500}},
        }
    )
    yearly = prices.create(
        {
            "product": analytics.id,
            "currency": "usd",
            "unit_amount": 49000,
            "recurring": {"interval": "year", "trial_period_days": 14},
        }
    )
    prices.create(
        {
            "product": analytics.id,
            "currency": "usd",
            "unit_amount": 5900,
            "lookup_key": "analytics_monthly_v2",
            "recurring": {"interval": "month"},
        }
    )
    prices.create(
        {
            "product": api.id,
            "currency": "usd",
            "billing_scheme": "tiered",
            "tiers_mode": "graduated",
            "tiers": [{"up_to": 1000, "unit_amount": 0}, {"up_to": "inf", "unit_amount_decimal": Decimal("0.5")}],
            "recurring": {"interval": "month", "usage_type": "metered", "meter": meter.id},
        }
    )
    prices.create(
        {
            "product": seats.id,
            "currency": "usd",
            "billing_scheme": "tiered",
            "tiers_mode": "volume",
            "tiers": [{"up_to": 10, "unit_amount": 1000}, {"up_to": "inf", "unit_amount": 800, "flat_amount": 500}],
            "recurring": {"interval": "month"},
            "lookup_key": "seats_volume",
        }
    )
    prices.create(
        {
            "product": storage.id,
            "currency": "usd",
            "unit_amount_decimal": Decimal("12.5"),
            "recurring": {"interval": "month"},
            "transform_quantity": {"divide_by": 100, "round": "up"},
        }
    )
    prices.create({"product": support.id, "currency": "usd", "custom_unit_amount": {"enabled": True, "minimum": 1000}})
    prices.create({"product": support.id, "currency": "jpy", "unit_amount": 50000, "tax_behavior": "exclusive"})
    old = prices.create(
        {"product": storage.id, "currency": "usd", "unit_amount": 999, "recurring": {"interval": "month"}}
    )
    prices.update(old.id, {"active": False})
    old_keyed = prices.create(
        {
            "product": analytics.id,
            "currency": "usd",
            "unit_amount": 3900,
            "lookup_key": "analytics_old",
            "recurring": {"interval": "month"},
        }
    )
    prices.update(old_keyed.id, {"active": False})
    client.v1.plans.create(
        {
            "id": "legacy-gold",
            "product": legacy.id,
            "currency": "usd",
            "amount": 2000,
            "interval": "month",
            "transform_usage": {"divide_by": 5, "round": "up"},
            "trial_period_days": 7,
            "nickname": "Gold",
        }
    )
    products.update(analytics.id, {"default_price": monthly.id})
    ids = {"analytics": analytics.id, "monthly": monthly.id, "yearly": yearly.id, "old": old.id}
    ids["old_keyed"] = old_keyed.id
    if extra:  # something the first account does not have
        ids["extra"] = products.create({"name": "Extra"}).id
    return ids


def run(args: list[str], emulator: EmulatorHandle) -> subprocess.CompletedProcess[str]:
    result = run_pricebook(args, emulator, key=SECRET_KEY)
    assert SECRET_KEY[8:] not in result.stdout + result.stderr
    return result


def ok(args: list[str], emulator: EmulatorHandle) -> subprocess.CompletedProcess[str]:
    result = run(args, emulator)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def planned(catalog: Path, emulator: EmulatorHandle) -> dict[str, Any]:
    """`plan --format json` (exit 0: it has no problems)."""
    data: dict[str, Any] = json.loads(ok(["plan", str(catalog), "--format", "json"], emulator).stdout)
    return data


def exit_code(catalog: Path, emulator: EmulatorHandle) -> int:
    return run(["plan", str(catalog), "--detailed-exitcode"], emulator).returncode


def catalog_data(directory: Path, *names: str) -> dict[str, Any]:
    return {name: yaml.safe_load((directory / name).read_text()) for name in names}


def every_object(client: stripe.StripeClient) -> dict[str, dict[str, Any]]:
    """Every product, price and plan of the account as Stripe sends it, by id."""
    out = {p.id: p.to_dict() for p in client.v1.products.list({"limit": 100}).auto_paging_iter()}
    for active in (True, False):
        out.update({p.id: p.to_dict() for p in client.v1.prices.list({"active": active, "limit": 100})})
    return out


def assert_adopts_only(plan: dict[str, Any]) -> None:
    summary = plan["summary"]
    assert (summary["create"], summary["update"], summary["replace"], summary["archive"]) == (0, 0, 0, 0), summary
    assert {c["action"] for c in plan["changes"]} <= {"adopt", "no-op"}
    assert {c["action"] for c in plan["calls"]} == {"adopt"}
    assert plan["problems"] == []


def test_a_hand_built_account_is_adopted_applied_and_imported_as_the_same_catalog(
    emulator: EmulatorHandle, tmp_path: Path
) -> None:
    client = emulator.client()
    ids = build_by_hand(client)
    before = every_object(client)
    catalog = tmp_path / "plans"
    mark = len(emulator.requests())

    adopted = ok(["adopt", "--out", str(catalog)], emulator)
    assert {r["method"] for r in emulator.requests()[mark:]} == {"GET"}  # adopt writes nothing to Stripe
    assert sorted(p.name for p in catalog.iterdir()) == [
        "adoptions.yaml",
        "catalog.schema.json",
        "meters.yaml",
        "plans.yaml",
        "products.yaml",
    ]
    assert "Named 6 price(s) without a lookup_key" in adopted.stdout
    assert "analytics_pro_monthly_usd" in adopted.stdout
    assert "Left out 2 prices, archived (--include-archived adopts them too)" in adopted.stdout
    products = (catalog / "products.yaml").read_text()
    assert "  - id: analytics_pro\n    name: Analytics Pro\n" in products
    assert "    default_price: analytics_pro_monthly_usd\n" in products
    assert "recurring: {interval: year, trial_period_days: 14}" in products
    record = yaml.safe_load((catalog / "adoptions.yaml").read_text())["adopt"]
    account = client.v1.accounts.retrieve_current().id
    assert [(item["account"], item["mode"]) for item in record] == [(account, "test")]
    assert record[0]["prices"]["analytics_pro_monthly_usd"] == ids["monthly"]
    assert record[0]["products"]["analytics_pro"] == ids["analytics"]
    assert record[0]["plans"] == {"legacy-gold": "legacy-gold"}
    ok(["validate", str(catalog)], emulator)

    plan = planned(catalog, emulator)
    assert_adopts_only(plan)
    assert plan["summary"]["adopt"] == 15  # 6 products, 8 prices, 1 plan; the meter is named, nothing to mark
    assert plan["left_alone"]["price"] == []  # archived ones are not listed, and nothing active is left
    monthly = next(c for c in plan["changes"] if c["key"] == "analytics_pro_monthly_usd")
    assert [(f["path"], f["before"], f["after"]) for f in monthly["fields"]] == [
        ("lookup_key", None, "analytics_pro_monthly_usd"),
        ("metadata.managed_by", None, "pricebook"),
    ]
    assert exit_code(catalog, emulator) == 2

    applied = ok(["apply", str(catalog), "--auto-approve", "--rate", "500"], emulator)
    assert "15 adopt" in applied.stdout
    assert exit_code(catalog, emulator) == 0
    after = every_object(client)
    assert after[ids["analytics"]]["metadata"] == {
        "team": "data",
        "managed_by": "pricebook",
        "pricebook_id": "analytics_pro",
    }
    assert after[ids["analytics"]]["default_price"] == ids["monthly"]
    assert after[ids["monthly"]]["lookup_key"] == "analytics_pro_monthly_usd"
    # nothing archived that was active, and the archived prices nobody adopted are as they were
    assert [i for i, o in after.items() if before[i].get("active") and not o.get("active")] == []
    for old in (ids["old"], ids["old_keyed"]):
        assert after[old] == before[old]

    imported = tmp_path / "imported"
    ok(["import", "--out", str(imported)], emulator)
    names = ("meters.yaml", "products.yaml", "plans.yaml")
    assert catalog_data(imported, *names) == catalog_data(catalog, *names)


def test_one_catalog_adopts_a_second_account_built_the_same_way(
    emulator: EmulatorHandle, emulator_factory: EmulatorFactory, tmp_path: Path
) -> None:
    build_by_hand(emulator.client())
    catalog = tmp_path / "plans"
    ok(["adopt", "--out", str(catalog)], emulator)
    ok(["apply", str(catalog), "--auto-approve", "--rate", "500"], emulator)
    entries = {name: (catalog / name).read_text() for name in ("meters.yaml", "products.yaml", "plans.yaml")}

    second = emulator_factory()
    ids = build_by_hand(second.client(), extra=True)
    assert exit_code(catalog, second) == 1  # before: its objects hold the catalog's lookup keys and plan id
    adopted = ok(["adopt", "--out", str(catalog)], second)
    assert "Mode: match only, because the catalog's adoptions.yaml records acct_" in adopted.stdout
    assert "Matched 6 products, 8 prices, 1 plan to catalog entries" in adopted.stdout
    assert f"product {ids['extra']} ('Extra'): no catalog product is named 'Extra'" in adopted.stdout
    assert {name: (catalog / name).read_text() for name in entries} == entries  # only the record changed
    record = yaml.safe_load((catalog / "adoptions.yaml").read_text())["adopt"]
    assert len(record) == 2 and record[1]["products"]["analytics_pro"] == ids["analytics"]

    assert_adopts_only(planned(catalog, second))
    ok(["apply", str(catalog), "--auto-approve", "--rate", "500"], second)
    assert exit_code(catalog, second) == 0
    assert second.client().v1.products.retrieve(ids["extra"]).metadata.to_dict() == {}  # left alone
    assert exit_code(catalog, emulator) == 0  # the first account is still in step


def test_adopting_into_a_catalog_of_this_account_writes_every_object_it_cannot_match(
    emulator: EmulatorHandle, tmp_path: Path
) -> None:
    """A catalog started by hand (plans/catalog.yaml), then `adopt --out plans/`: nothing matches its entries,
    so every object becomes a new entry (it used to write nothing and say "Nothing to adopt")."""
    build_by_hand(emulator.client())
    catalog = tmp_path / "plans"
    catalog.mkdir()
    (catalog / "catalog.yaml").write_text("products:\n  - id: onboarding\n    name: Onboarding\n")
    adopted = ok(["adopt", "--out", str(catalog)], emulator)
    assert "Mode: add, because the catalog records no other account" in adopted.stdout
    assert "Nothing to adopt" not in adopted.stdout and "Could not match" not in adopted.stdout
    assert f"Wrote {catalog / 'adopted.yaml'} (1 meter, 6 products, 8 prices, 1 plan)" in adopted.stdout
    plan = planned(catalog, emulator)
    assert [(c["address"], c["action"]) for c in plan["changes"] if c["action"] not in ("adopt", "no-op")] == [
        ("product.onboarding", "create")  # the catalog's own entry; everything else is adopted (a meter named)
    ]
    ok(["apply", str(catalog), "--auto-approve", "--rate", "500"], emulator)
    assert exit_code(catalog, emulator) == 0
    # run again, asked to match only: the mode says why, and nothing is left to adopt
    again = ok(["adopt", "--out", str(catalog), "--match-only"], emulator)
    assert "Mode: match only, because as asked (--match-only)" in again.stdout
    assert "Nothing to adopt: every object of the account is pricebook's or recorded" in again.stdout


def test_adopt_shows_the_warnings_of_the_catalog_it_adopts_into(emulator: EmulatorHandle, tmp_path: Path) -> None:
    catalog = tmp_path / "plans"
    catalog.mkdir()
    (catalog / "catalog.yaml").write_text(
        "products:\n  - id: onboarding\n    name: Onboarding\n"
        "prices:\n  - lookup_key: onboarding_fee\n    product: onboarding\n    currency: usd\n"
        '    unit_amount_decimal: "100000000.5"\n'
    )
    adopted = ok(["adopt", "--out", str(catalog)], emulator)
    assert "warning[decimal-amount-large]" in adopted.stderr, adopted.stderr


def test_archived_objects_are_adopted_on_request_and_stay_archived(emulator: EmulatorHandle, tmp_path: Path) -> None:
    ids = build_by_hand(emulator.client())
    catalog = tmp_path / "plans"
    ok(["adopt", "--out", str(catalog), "--include-archived"], emulator)
    products = (catalog / "products.yaml").read_text()
    assert "      - lookup_key: analytics_old\n" in products and "        active: false\n" in products
    plan = planned(catalog, emulator)
    assert_adopts_only(plan)
    old = next(c for c in plan["calls"] if c["path"] == f"/v1/prices/{ids['old']}")
    assert "active" not in old["params"]  # adopted as it is: archived
    saved = tmp_path / "adopt.json"  # a saved plan carries adoptions like any change
    ok(["plan", str(catalog), "--out", str(saved)], emulator)
    ok(["apply", "--plan", str(saved), "--rate", "500"], emulator)
    assert exit_code(catalog, emulator) == 0
    price = emulator.client().v1.prices.retrieve(ids["old"])
    assert price.active is False and price.metadata.to_dict() == {"managed_by": "pricebook"}
    imported = tmp_path / "imported"
    ok(["import", "--out", str(imported), "--include-archived"], emulator)
    assert catalog_data(imported, "products.yaml") == catalog_data(catalog, "products.yaml")


def test_an_unmatched_object_is_adopted_as_a_new_entry_when_picked(
    emulator: EmulatorHandle, emulator_factory: EmulatorFactory, tmp_path: Path
) -> None:
    build_by_hand(emulator.client())
    catalog = tmp_path / "plans"
    ok(["adopt", "--out", str(catalog)], emulator)
    second = emulator_factory()
    ids = build_by_hand(second.client(), extra=True)
    ok(["adopt", "--out", str(catalog)], second)
    picked = ok(["adopt", "--out", str(catalog), "--only", ids["extra"]], second)
    assert f"Wrote {catalog / 'adopted.yaml'} (1 product)" in picked.stdout
    assert "  - id: extra\n    name: Extra\n" in (catalog / "adopted.yaml").read_text()
    plan = planned(catalog, second)
    assert_adopts_only(plan)
    assert "product.extra" in {c["address"] for c in plan["changes"] if c["action"] == "adopt"}
    # in the first account, the new entry is a product to create: the catalog is one for both
    first = planned(catalog, emulator)
    assert [(c["address"], c["action"]) for c in first["changes"] if c["action"] == "create"] == [
        ("product.extra", "create")
    ]


def test_a_name_is_renamed_in_its_entry_and_the_record_alike(emulator: EmulatorHandle, tmp_path: Path) -> None:
    ids = build_by_hand(emulator.client())
    catalog = tmp_path / "plans"
    ok(["adopt", "--out", str(catalog)], emulator)
    products = catalog / "products.yaml"
    products.write_text(products.read_text().replace("analytics_pro_yearly_usd", "analytics_yearly"))
    refused = run(["validate", str(catalog)], emulator)
    assert refused.returncode == 1 and "adoptions.yaml" in refused.stderr + refused.stdout
    assert "adopt-unknown-entry" in refused.stdout + refused.stderr
    record = catalog / "adoptions.yaml"
    record.write_text(record.read_text().replace("analytics_pro_yearly_usd", "analytics_yearly"))
    ok(["apply", str(catalog), "--auto-approve", "--rate", "500"], emulator)
    assert emulator.client().v1.prices.retrieve(ids["yearly"]).lookup_key == "analytics_yearly"
    assert exit_code(catalog, emulator) == 0


def test_a_live_key_is_refused_before_any_read(emulator: EmulatorHandle, tmp_path: Path) -> None:
    result = run_pricebook(["adopt", "--out", str(tmp_path / "plans")], emulator, key="sk_live_adoptTESTkey0123456789")
    assert result.returncode == 1 and "--live" in result.stderr
    assert emulator.requests() == [] and not (tmp_path / "plans").exists()


def test_objects_marked_by_script_are_imported_and_the_prices_no_key_names_are_adopted(
    emulator: EmulatorHandle, tmp_path: Path
) -> None:
    client = emulator.client()
    ids = build_by_hand(client)
    for obj in every_object(client).values():
        if obj.get("active"):
            resource = client.v1.products if obj["object"] == "product" else client.v1.prices
            resource.update(obj["id"], {"metadata": {"managed_by": "pricebook"}})
    catalog = tmp_path / "plans"
    ok(["import", "--out", str(catalog)], emulator)
    blocked = run(["plan", str(catalog)], emulator)
    assert blocked.returncode == 1 and "managed-price-without-lookup-key" in blocked.stdout  # never archived

    adopted = ok(["adopt", "--out", str(catalog)], emulator)
    assert f"Wrote {catalog / 'adopted.yaml'}" in adopted.stdout and "Named 6 price(s)" in adopted.stdout
    plan = planned(catalog, emulator)
    assert_adopts_only(plan)
    assert {c["action"] for c in plan["changes"] if c["kind"] == "price"} == {"adopt", "no-op"}
    ok(["apply", str(catalog), "--auto-approve", "--rate", "500"], emulator)
    assert exit_code(catalog, emulator) == 0
    assert client.v1.prices.retrieve(ids["monthly"]).lookup_key is not None


def test_an_adoption_that_would_pass_stripes_metadata_limit_is_a_problem_and_nothing_is_sent(
    emulator: EmulatorHandle, tmp_path: Path
) -> None:
    client = emulator.client()
    # 50 keys, one of them pricebook's own (copied from a price pricebook made, say), which an adoption keeps
    metadata = {**{f"k{n}": "v" for n in range(48)}, "team": "data", "pricebook_replaces": "price_1Old"}
    product = client.v1.products.create({"name": "Suite", "metadata": metadata})
    client.v1.prices.create({"product": product.id, "currency": "usd", "unit_amount": 500})
    catalog = tmp_path / "plans"
    ok(["adopt", "--out", str(catalog)], emulator)
    # the entry has 49 keys, one more than validate allows: the user drops one
    products = catalog / "products.yaml"
    products.write_text(products.read_text().replace("      team: data\n", ""))
    ok(["validate", str(catalog)], emulator)

    mark = len(emulator.requests())
    plan = json.loads(run(["plan", str(catalog), "--format", "json"], emulator).stdout)
    assert [(p["address"], p["rule"]) for p in plan["problems"]] == [("product.suite", "too-many-metadata-keys")]
    assert plan["plan_hash"] is None
    applied = run(["apply", str(catalog), "--auto-approve"], emulator)
    assert applied.returncode == 1
    assert "too-many-metadata-keys" in applied.stdout + applied.stderr
    assert [r for r in emulator.requests()[mark:] if r["method"] == "POST"] == []
    assert client.v1.products.retrieve(product.id).metadata.to_dict() == metadata


def test_an_object_with_more_metadata_than_an_entry_takes_is_said_at_adopt_time_as_validate_then_says(
    emulator: EmulatorHandle, tmp_path: Path
) -> None:
    client = emulator.client()
    own = {f"k{n:02}": "v" for n in range(50)}  # Stripe's limit, all of them the object's own
    product = client.v1.products.create({"name": "Suite", "metadata": own})
    client.v1.prices.create({"product": product.id, "currency": "usd", "unit_amount": 500})
    catalog = tmp_path / "plans"
    adopted = ok(["adopt", "--out", str(catalog)], emulator)
    assert (
        f"warning: product {product.id} has 50 metadata keys besides pricebook's, and a catalog entry may have at "
        "most 48"
    ) in adopted.stderr
    assert (
        "Its entry (product 'suite' in products.yaml) has them all, so validate refuses it (metadata-invalid) until "
        "you remove 2 of them there"
    ) in adopted.stderr
    assert "Next: edit the 1 entry the warnings above name, which validate refuses as written" in adopted.stdout
    assert "shows an adopt action for each" in adopted.stdout

    validated = run(["validate", str(catalog)], emulator)
    assert validated.returncode == 1
    assert "error[metadata-invalid]: product 'suite' has 50 metadata keys" in validated.stderr
    assert validated.stderr.count("error[") == 1  # the entry the warning named, and nothing else

    # the user does as told: two keys go from the entry, and plan removes them from the object with the adoption
    products = catalog / "products.yaml"
    products.write_text(products.read_text().replace("      k48: v\n", "").replace("      k49: v\n", ""))
    ok(["validate", str(catalog)], emulator)
    ok(["apply", str(catalog), "--auto-approve"], emulator)
    assert exit_code(catalog, emulator) == 0
    metadata = client.v1.products.retrieve(product.id).metadata.to_dict()
    assert len(metadata) == 50 and "k48" not in metadata and metadata["managed_by"] == "pricebook"
