"""`make plan` and `make apply` as a CI job runs them: the catalog, the format, the saved plan, the approved hash,
template variables and the live flag all through make variables, against the emulator.

make runs the `pricebook` of the interpreter running the tests (`BIN=`), and is told the venv is built (`-o`), so
a test never rebuilds `.venv`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from compiler.emulator import EmulatorHandle
from tests.cli import REPO
from tests.integration.test_apply_emulator import writes_since

BIN = str(Path(sys.executable).parent)


def make(
    target: str, emulator: EmulatorHandle, *variables: str, key: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith(("STRIPE_", "MAKE"))}
    env.update({"STRIPE_API_KEY": key or emulator.api_key, "STRIPE_API_BASE": emulator.url, "NO_COLOR": "1"})
    command = ["make", "-s", "--no-print-directory", "-o", ".venv/.installed", f"BIN={BIN}", target, *variables]
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_make_plan_prints_only_the_plan_in_the_format_asked_and_saves_it(
    emulator: EmulatorHandle, plans: Path, tmp_path: Path
) -> None:
    saved = tmp_path / "changes.json"
    comment = make("plan", emulator, f"PLANS={plans}", "FORMAT=markdown", f"PLAN_FILE={saved}")
    assert comment.returncode == 0, comment.stderr
    assert comment.stdout.startswith("### pricebook plan · test mode · ")  # stdout is the comment alone
    assert "pricebook plan" in comment.stderr and "--format markdown" in comment.stderr  # the command, on stderr
    assert json.loads(saved.read_text())["plan_hash"] in comment.stdout
    as_json = make("plan", emulator, f"PLANS={plans}", "FORMAT=json")
    assert json.loads(as_json.stdout)["plan_hash"] == json.loads(saved.read_text())["plan_hash"]


def test_make_apply_applies_the_saved_plan_without_asking(
    emulator: EmulatorHandle, plans: Path, tmp_path: Path
) -> None:
    saved = tmp_path / "changes.json"
    assert make("plan", emulator, f"PLANS={plans}", f"PLAN_FILE={saved}").returncode == 0
    approved = json.loads(saved.read_text())["plan_hash"]
    applied = make("apply", emulator, f"PLAN_FILE={saved}", f"PLAN_HASH={approved}")
    assert applied.returncode == 0, applied.stderr
    assert "Apply complete" in applied.stdout
    again = make("plan", emulator, f"PLANS={plans}", "FORMAT=json")
    assert json.loads(again.stdout)["summary"]["create"] == 0


def test_make_apply_refuses_a_plan_that_is_not_the_approved_one(emulator: EmulatorHandle, plans: Path) -> None:
    refused = make("apply", emulator, f"PLANS={plans}", "PLAN_HASH=sha256:" + "0" * 64)
    assert refused.returncode != 0
    assert "the plan differs from the one approved" in refused.stderr
    assert writes_since(emulator, 0) == []


def test_make_passes_template_variables_and_the_live_flag(emulator: EmulatorHandle, tmp_path: Path) -> None:
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "suite.yaml.j2").write_text("products:\n  - id: {{ product }}\n    name: {{ name }}\n")
    variables = tmp_path / "vars.yaml"
    variables.write_text("name: Suite\n")
    planned = make("plan", emulator, f"PLANS={catalog}", "FORMAT=json", "VAR=product=suite", f"VARS={variables}")
    assert planned.returncode == 0, planned.stderr
    assert [c["address"] for c in json.loads(planned.stdout)["changes"]] == ["product.suite"]
    live_key = "sk_live_makeLIVEkey0123456789"
    mark = len(emulator.requests())
    refused = make("plan", emulator, f"PLANS={catalog}", "VAR=product=suite", f"VARS={variables}", key=live_key)
    assert "--live" in refused.stderr and len(emulator.requests()) == mark
    allowed = make("plan", emulator, f"PLANS={catalog}", "VAR=product=suite", f"VARS={variables}", "LIVE=1",
                   key=live_key)
    assert "Invalid API Key" in allowed.stderr  # --live let it through to the (test-mode) emulator
    assert live_key not in allowed.stdout + allowed.stderr + refused.stderr


def test_make_quote_takes_the_price_and_quantities_of_another_catalog(
    emulator: EmulatorHandle, tmp_path: Path
) -> None:
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "seats.yaml").write_text(
        "products:\n  - id: seats\n    name: Seats\n"
        "prices:\n  - lookup_key: seats_monthly\n    product: seats\n    currency: usd\n    unit_amount: 700\n"
        "    recurring: {interval: month}\n"
    )
    quoted = make("quote", emulator, f"PLANS={catalog}", "PRICE=seats_monthly", "QUANTITY=2 10", "ARGS=--format json")
    assert quoted.returncode == 0, quoted.stderr
    rows = json.loads(quoted.stdout)["quotes"]
    assert [(row["quantity"], row["amount"]) for row in rows] == [(2, 1400), (10, 7000)]
    # the example's price is the default for the example catalog only: elsewhere make says what to set
    unnamed = make("quote", emulator, f"PLANS={catalog}")
    assert unnamed.returncode != 0
    assert f"make quote PLANS={catalog} PRICE=KEY" in unnamed.stderr
    assert "standard-cost-per-5-users" in make("quote", emulator).stdout
