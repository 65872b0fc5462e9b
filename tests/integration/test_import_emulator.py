"""`pricebook import` against the emulator, through the command as a user runs it: the example catalog applied,
imported, and planned again shows no changes; hand edits in the account are imported; unmanaged objects are
left out (or written apart, refused by plan until adopted); existing files are not overwritten; no key printed."""

from __future__ import annotations

import subprocess
from pathlib import Path

from compiler.emulator import EmulatorHandle
from tests.cli import REPO, run_pricebook

SECRET_KEY = "sk_test_importTESTsecretKEY0123456789"


def run(args: list[str], emulator: EmulatorHandle, *, key: str = SECRET_KEY) -> subprocess.CompletedProcess[str]:
    result = run_pricebook(args, emulator, key=key)
    assert key not in result.stdout + result.stderr
    assert key[8:] not in result.stdout + result.stderr
    return result


def apply(paths: Path, emulator: EmulatorHandle) -> None:
    result = run(["apply", "--auto-approve", "--rate", "500", str(paths)], emulator)
    assert result.returncode == 0, result.stderr


def import_(out: Path, emulator: EmulatorHandle, *flags: str) -> subprocess.CompletedProcess[str]:
    result = run(["import", "--out", str(out), *flags], emulator)
    assert result.returncode == 0, result.stderr
    return result


def plan_exit(paths: Path, emulator: EmulatorHandle) -> tuple[int, str]:
    result = run(["plan", "--detailed-exitcode", str(paths)], emulator)
    return result.returncode, result.stdout + result.stderr


def test_the_example_catalog_applied_then_imported_plans_no_changes(
    emulator: EmulatorHandle, plans: Path, tmp_path: Path
) -> None:
    apply(plans, emulator)
    out = tmp_path / "imported"
    result = import_(out, emulator)
    assert sorted(p.name for p in out.iterdir()) == [
        "catalog.schema.json",
        "meters.yaml",
        "plans.yaml",
        "products.yaml",
    ]
    assert f"Wrote {out / 'products.yaml'} (5 products, 10 prices)" in result.stdout
    assert f"Wrote {out / 'meters.yaml'} (2 meters)" in result.stdout
    assert f"Wrote {out / 'plans.yaml'} (2 plans)" in result.stdout

    validated = run(["validate", str(out)], emulator)
    assert validated.returncode == 0, validated.stderr
    code, output = plan_exit(out, emulator)
    assert code == 0, output

    # no schema committed anywhere above: the editor hint points at the copy written beside the files
    assert f"Wrote {out / 'catalog.schema.json'}" in result.stdout
    for name in ("products.yaml", "meters.yaml", "plans.yaml"):
        assert (out / name).read_text().splitlines()[0] == "# yaml-language-server: $schema=catalog.schema.json"
    assert (out / "catalog.schema.json").read_bytes() == (REPO / "schemas" / "catalog.schema.json").read_bytes()


def test_import_into_a_repository_points_at_its_committed_schema(
    emulator: EmulatorHandle, plans: Path, tmp_path: Path
) -> None:
    # a teammate's clone has the same relative path: the hint resolves there too, never to a site-packages
    apply(plans, emulator)
    repository = tmp_path / "billing"
    (repository / ".git").mkdir(parents=True)
    written = run(["schema", "--out", str(repository / "schemas" / "catalog.schema.json")], emulator)
    assert written.returncode == 0, written.stderr
    out = repository / "catalog" / "stripe"
    result = import_(out, emulator)
    assert "catalog.schema.json" not in result.stdout
    assert sorted(p.name for p in out.iterdir()) == ["meters.yaml", "plans.yaml", "products.yaml"]
    first = (out / "products.yaml").read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=../../schemas/catalog.schema.json"
    assert "warning" not in result.stderr

    # a copy from another pricebook version is still the one pointed at, with a warning to refresh it
    (repository / "schemas" / "catalog.schema.json").write_text("{}\n")
    result = import_(tmp_path / "billing" / "again", emulator)
    assert "which is not this pricebook's schema: refresh it with pricebook schema --out" in result.stderr


def test_hand_edits_in_the_account_are_imported_and_archived_prices_are_not(
    emulator: EmulatorHandle, plans: Path, tmp_path: Path
) -> None:
    apply(plans, emulator)
    productivity = plans / "productivity.yaml"
    productivity.write_text(productivity.read_text().replace("unit_amount: 1000\n", "unit_amount: 1200\n", 1))
    apply(plans, emulator)  # a replace: the old $10 price is archived
    client = emulator.client()
    (jpy,) = client.v1.prices.list({"lookup_keys": ["suite_per_5_users_monthly_jpy"]}).data
    client.v1.prices.update(jpy.id, {"nickname": "Renamed in the Dashboard"})
    assert plan_exit(plans, emulator)[0] == 2  # the account drifted from plans/

    out = tmp_path / "imported"
    result = import_(out, emulator)
    products = (out / "products.yaml").read_text()
    assert "nickname: Renamed in the Dashboard\n" in products
    assert "unit_amount: 1200\n" in products and "unit_amount: 1000\n" not in products
    assert "# Not imported: 1 archived price or plan." in products
    assert "Left out 1 archived price or plan: " in result.stdout
    code, output = plan_exit(out, emulator)
    assert code == 0, output


def test_unmanaged_objects_are_left_out_or_written_apart_until_adopted(
    emulator: EmulatorHandle, plans: Path, tmp_path: Path
) -> None:
    apply(plans, emulator)
    client = emulator.client()
    client.v1.products.create({"id": "hand_made", "name": "Made in the Dashboard"})
    price = client.v1.prices.create(
        {
            "product": "hand_made",
            "currency": "usd",
            "unit_amount": 500,
            "lookup_key": "hand_made_monthly",
            "recurring": {"interval": "month"},
        }
    )
    out = tmp_path / "imported"
    result = import_(out, emulator)
    assert "Left out 1 product, 1 price that pricebook does not manage" in result.stdout
    assert "managed_by=pricebook" in result.stdout and "--include-unmanaged" in result.stdout
    assert "hand_made" not in "".join(p.read_text() for p in out.iterdir())
    assert plan_exit(out, emulator)[0] == 0

    result = import_(out, emulator, "--include-unmanaged", "--force")
    unmanaged = (out / "unmanaged.yaml").read_text()
    assert "  - id: hand_made\n" in unmanaged and "      - lookup_key: hand_made_monthly\n" in unmanaged
    assert run(["validate", str(out)], emulator).returncode == 0
    code, output = plan_exit(out, emulator)
    assert code == 1 and "managed_by=pricebook" in output  # refused, with the way to adopt them

    # adopted as the file's header says: now they are pricebook's, and the files match the account
    client.v1.products.update("hand_made", {"metadata": {"managed_by": "pricebook"}})
    client.v1.prices.update(price.id, {"metadata": {"managed_by": "pricebook"}})
    code, output = plan_exit(out, emulator)
    assert code == 0, output


def test_import_of_unmanaged_objects_then_adopt_into_it_loses_no_price(
    emulator: EmulatorHandle, tmp_path: Path
) -> None:
    """import --include-unmanaged leaves a price without a lookup_key out and names products by Stripe's ids: it
    says that adopt is the way to take them over, and adopt into the same directory misses nothing."""
    client = emulator.client()
    product = client.v1.products.create({"name": "Analytics"})
    client.v1.prices.create(
        {
            "product": product.id,
            "currency": "usd",
            "recurring": {"interval": "month"},
            "unit_amount": 500,
            "lookup_key": "analytics",
        }
    )
    keyless = client.v1.prices.create(
        {"product": product.id, "currency": "usd", "recurring": {"interval": "month"}, "unit_amount": 700}
    )
    out = tmp_path / "imported"
    result = import_(out, emulator, "--include-unmanaged")
    assert "Left out 1 price without a lookup_key" in result.stdout
    assert f"run `pricebook adopt --out {out}`" in result.stdout
    adopted = run(["adopt", "--out", str(out)], emulator)
    assert adopted.returncode == 0, adopted.stdout + adopted.stderr
    assert keyless.id in (out / "adoptions.yaml").read_text()
    assert run(["apply", str(out), "--auto-approve", "--rate", "500"], emulator).returncode == 0
    assert plan_exit(out, emulator)[0] == 0
    assert client.v1.prices.retrieve(keyless.id).lookup_key == "analytics_monthly_usd"


def test_existing_catalog_files_are_not_overwritten_without_force(
    emulator: EmulatorHandle, plans: Path, tmp_path: Path
) -> None:
    apply(plans, emulator)
    out = tmp_path / "imported"
    out.mkdir()
    mine = out / "products.yaml"
    mine.write_text("products: []\n")
    refused = run(["import", "--out", str(out)], emulator)
    assert refused.returncode == 1
    assert "already holds catalog files" in refused.stderr and "--force" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert mine.read_text() == "products: []\n"
    forced = import_(out, emulator, "--force")
    assert "Wrote" in forced.stdout and "productivity_suite" in mine.read_text()


def test_a_live_key_is_refused_without_live_before_any_read(emulator: EmulatorHandle, tmp_path: Path) -> None:
    key = "sk_live_importTESTsecretKEY0123456789"
    result = run(["import", "--out", str(tmp_path / "imported")], emulator, key=key)
    assert result.returncode == 1 and "--live" in result.stderr
    assert emulator.requests() == []
    assert not (tmp_path / "imported").exists()


def test_an_object_given_more_metadata_than_an_entry_takes_is_imported_with_what_validate_will_say(
    emulator: EmulatorHandle, tmp_path: Path
) -> None:
    # pricebook's product, given keys by hand in the Dashboard up to Stripe's 50
    client = emulator.client()
    metadata = {"managed_by": "pricebook", **{f"k{n:02}": "v" for n in range(49)}}
    client.v1.products.create({"id": "suite", "name": "Suite", "metadata": metadata})
    out = tmp_path / "imported"
    result = import_(out, emulator)
    assert (
        "warning: product suite has 49 metadata keys besides pricebook's, and a catalog entry may have at most 48"
    ) in result.stderr
    assert (
        "(product 'suite' in products.yaml) has them all, so validate refuses it (metadata-invalid) until you "
        "remove 1 of them there"
    ) in result.stderr
    assert "Edit the 1 entry the warnings above name, which validate refuses as written" in result.stdout
    assert "it shows no changes" not in result.stdout
    validated = run(["validate", str(out)], emulator)
    assert validated.returncode == 1 and validated.stderr.count("error[") == 1
    assert "error[metadata-invalid]: product 'suite' has 49 metadata keys" in validated.stderr
