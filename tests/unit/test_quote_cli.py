"""`pricebook quote` on small catalogs written to tmp_path (and on the example catalog in plans/)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from compiler.cli import main
from compiler.cli.quote import command
from compiler.errors import InvalidCatalog, UsageError
from tests.cli import invoke

REPO = Path(__file__).resolve().parents[2]

CATALOG = """\
meters:
  - event_name: emails_sent
    display_name: Emails sent
    default_aggregation: {formula: sum}

products:
  - id: productivity_suite
    name: Productivity Suite
    prices:
      - lookup_key: suite_per_5_users_monthly
        currency: usd
        unit_amount: 1000
        recurring: {interval: month, usage_type: licensed}
        transform_quantity: {divide_by: 5, round: up}
        currency_options:
          eur: {unit_amount: 900}

prices:
  - lookup_key: emails_per_1000_monthly
    product: productivity_suite
    currency: usd
    unit_amount: 10
    recurring: {interval: month, usage_type: metered, meter: emails_sent}
    transform_quantity: {divide_by: 1000, round: down}
  - lookup_key: base_fee_plus_usage
    product: productivity_suite
    currency: usd
    billing_scheme: tiered
    tiers_mode: graduated
    tiers:
      - {up_to: 1000, flat_amount: 1000, unit_amount: 0}
      - {up_to: inf, unit_amount_decimal: "0.5"}
    recurring: {interval: month, usage_type: metered, meter: emails_sent}

plans:
  - id: standard-cost-per-5-users
    product: productivity_suite
    nickname: Standard Cost Per 5 Users
    currency: usd
    amount: 1000
    interval: month
    usage_type: licensed
    transform_usage: {divide_by: 5, round: up}
"""


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    (tmp_path / "suite.yaml").write_text(CATALOG)
    return tmp_path


def run(*args: str) -> Result:
    return invoke(command, *args)


def quantities(*values: int) -> list[str]:
    return [arg for q in values for arg in ("--quantity", str(q))]


def rows(output: str) -> list[list[str]]:
    """The table rows (quantity, billed, amount) of the text output."""
    return [line.split() for line in output.splitlines() if line.strip()[:1].isdigit()]


def as_json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_seed_plan_table(catalog: Path) -> None:
    result = run(str(catalog), "--price", "standard-cost-per-5-users", *quantities(1, 3, 5, 6, 7))
    assert result.exit_code == 0, result.output
    assert result.output.startswith("plan.standard-cost-per-5-users: $10.00 per unit, divide_by 5 round up")
    assert rows(result.output) == [
        ["1", "1", "$10.00"],
        ["3", "1", "$10.00"],
        ["5", "1", "$10.00"],
        ["6", "2", "$20.00"],
        ["7", "2", "$20.00"],
    ]
    assert "assumptions" not in result.output


def test_metered_emails_as_json(catalog: Path) -> None:
    data = as_json(
        run(str(catalog), "--price", "emails_per_1000_monthly", "--format", "json", *quantities(999, 1000, 2500))
    )
    assert (data["kind"], data["key"], data["usage_type"]) == ("price", "emails_per_1000_monthly", "metered")
    assert [(q["quantity"], q["billed_quantity"], q["amount"]) for q in data["quotes"]] == [
        (999, 0, 0),
        (1000, 1, 10),
        (2500, 2, 20),
    ]
    assert [q["formatted"] for q in data["quotes"]] == ["$0.00", "$0.10", "$0.20"]
    assert data["assumptions"] == []


def test_flat_fee_plus_usage_shows_tiers_and_the_zero_usage_assumption(catalog: Path) -> None:
    result = run(str(catalog), "--price", "base_fee_plus_usage", *quantities(0, 1001, 1002))
    assert result.exit_code == 0, result.output
    assert rows(result.output) == [["0", "0", "$0.00"], ["1001", "1001", "$10.01"], ["1002", "1002", "$10.01"]]
    assert "tier 1 (1-1000): 1000 × $0.00 + $10.00 flat = $10.00" in result.output
    assert "tier 2 (1001+): 2 × $0.005 = $0.01" in result.output
    assert "  - quantity 0: flat fee at zero usage: graduated tiers charge no flat fee" in result.output
    assert "  - quantity 1001: half a minor unit is rounded up" in result.output  # 1000.5 cents


def test_assumptions_in_json_name_the_quantities(catalog: Path) -> None:
    data = as_json(run(str(catalog), "--price", "base_fee_plus_usage", "--format", "json", *quantities(0, 1001, 1002)))
    assert [(a["id"], a["quantities"]) for a in data["assumptions"]] == [
        ("zero-usage-flat-fee", [0]),
        ("half-up", [1001]),
    ]
    assert data["quotes"][1]["amount_exact"] == "1000.5"


def test_currency_option(catalog: Path) -> None:
    result = run(str(catalog), "--price", "suite_per_5_users_monthly", "--quantity", "6", "--currency", "eur")
    assert rows(result.output) == [["6", "2", "€18.00"]]


def test_unknown_currency_is_an_error(catalog: Path) -> None:
    result = run(str(catalog), "--price", "suite_per_5_users_monthly", "--quantity", "6", "--currency", "jpy")
    assert result.exit_code != 0
    assert "no jpy amount (its currencies: usd, eur)" in str(result.exception)


def test_explicit_kind_prefix(catalog: Path) -> None:
    data = as_json(
        run(str(catalog), "--price", "plan.standard-cost-per-5-users", "--quantity", "6", "--format", "json")
    )
    assert (data["kind"], data["quotes"][0]["amount"]) == ("plan", 2000)


def test_unknown_key_suggests_close_matches(catalog: Path) -> None:
    result = run(str(catalog), "--price", "emails_per_1000_montly", "--quantity", "1")
    assert isinstance(result.exception, UsageError)
    assert "emails_per_1000_montly" in result.exception.message
    assert result.exception.hint == "did you mean emails_per_1000_monthly?"


def test_unknown_key_with_nothing_close_lists_the_catalog(catalog: Path) -> None:
    result = run(str(catalog), "--price", "zzz", "--quantity", "1")
    assert isinstance(result.exception, UsageError)
    assert result.exception.hint == (
        "the catalog has: base_fee_plus_usage, emails_per_1000_monthly, standard-cost-per-5-users, "
        "suite_per_5_users_monthly"
    )


def test_unknown_key_through_main_has_no_traceback(
    catalog: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["pricebook", "quote", str(catalog), "--price", "nope", "--quantity", "1"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "no price lookup_key or plan id 'nope'" in err
    assert "Traceback" not in err


def test_negative_quantity_is_refused(catalog: Path) -> None:
    result = run(str(catalog), "--price", "emails_per_1000_monthly", "--quantity", "-1")
    assert result.exit_code == 2
    assert "--quantity" in result.output


def test_quantity_and_price_are_required(catalog: Path) -> None:
    assert run(str(catalog), "--price", "emails_per_1000_monthly").exit_code == 2
    assert run(str(catalog), "--quantity", "1").exit_code == 2


def test_invalid_catalog_is_reported_not_quoted(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("prices:\n  - lookup_key: bad\n    currency: usd\n    unit_amount: 9.99\n")
    result = run(str(tmp_path), "--price", "bad", "--quantity", "1")
    assert isinstance(result.exception, InvalidCatalog)


def test_template_variables(tmp_path: Path) -> None:
    (tmp_path / "suite.yaml.j2").write_text(
        "products:\n  - id: suite\n    name: Suite\n    prices:\n"
        "      - lookup_key: seat\n        currency: usd\n        unit_amount: {{ seat_amount }}\n"
    )
    result = run(str(tmp_path), "--price", "seat", "--quantity", "3", "--var", "seat_amount=1500")
    assert rows(result.output) == [["3", "3", "$45.00"]]


def test_example_catalog_in_plans(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    result = run("--price", "standard-cost-per-5-users", *quantities(1, 5, 6))  # PATH defaults to plans/
    assert result.exit_code == 0, result.output
    assert [row[-1] for row in rows(result.output)] == ["$10.00", "$10.00", "$20.00"]
