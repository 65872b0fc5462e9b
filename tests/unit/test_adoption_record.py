"""The catalog's `adopt:` record: read with its places, checked against the entries, built into the model."""

from __future__ import annotations

from pathlib import Path

from compiler.catalog.check import check_catalog
from compiler.changes.model import load_catalog
from compiler.stripe.kinds import Kind
from tests.rule_cases import BASE

RECORD = """\
adopt:
  - account: acct_1Nv0FGQ9RKHgCVdK
    mode: test
    products: {suite: prod_E9aWj8Nap9i0Ub}
    prices: {suite_monthly: price_1Nv0A}
  - account: acct_1Nv0FGQ9RKHgCVdK
    mode: live
    products: {suite: prod_Q1live}
"""


def catalog_dir(tmp_path: Path, record: str = RECORD) -> Path:
    plans = tmp_path / "plans"
    plans.mkdir()
    (plans / "base.yaml").write_text(BASE, encoding="utf-8")
    (plans / "adoptions.yaml").write_text(record, encoding="utf-8")
    return plans


def test_one_account_in_both_modes_is_two_records_and_each_is_in_the_model(tmp_path: Path) -> None:
    plans = catalog_dir(tmp_path)
    assert check_catalog([str(plans)]).diagnostics == ()
    catalog = load_catalog([str(plans)]).catalog
    test = catalog.adoption("acct_1Nv0FGQ9RKHgCVdK", livemode=False)
    live = catalog.adoption("acct_1Nv0FGQ9RKHgCVdK", livemode=True)
    assert test is not None and live is not None
    assert dict(test.targets) == {
        (Kind.PRODUCT, "suite"): "prod_E9aWj8Nap9i0Ub",
        (Kind.PRICE, "suite_monthly"): "price_1Nv0A",
    }
    assert dict(live.targets) == {(Kind.PRODUCT, "suite"): "prod_Q1live"}
    assert test.location is not None and (test.location.line, test.location.file.endswith("adoptions.yaml")) == (
        2,
        True,
    )
    assert catalog.adoption("acct_other", livemode=False) is None


def test_an_item_with_a_schema_error_is_left_out_of_the_model(tmp_path: Path) -> None:
    plans = catalog_dir(tmp_path, RECORD.replace("mode: live", "mode: sandbox"))
    result = check_catalog([str(plans)])
    assert [d.rule for d in result.diagnostics] == ["schema-enum"]
    assert [r.livemode for r in result.adoptions] == [False]


def test_a_name_of_an_entry_whose_fields_the_schema_refused_is_not_unknown(tmp_path: Path) -> None:
    plans = catalog_dir(tmp_path)
    (plans / "base.yaml").write_text(BASE.replace("    name: Suite\n", "    name: Suite\n    colour: red\n"))
    assert [d.rule for d in check_catalog([str(plans)]).diagnostics] == ["schema-unknown-field"]
