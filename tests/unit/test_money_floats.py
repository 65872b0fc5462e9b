"""Floats where an amount goes: a `money-float` error at the float, with a hint in the object's currency."""

from __future__ import annotations

import pytest

from compiler.catalog.check import check_documents
from compiler.catalog.money_floats import RULE_IDS, money_floats
from compiler.catalog.source import Document
from compiler.catalog.yaml_reader import load_text
from compiler.errors import Diagnostic


def check(text: str) -> tuple[Document | None, list[Diagnostic]]:
    """The document and the money-float findings in it (after the reader, which must find nothing)."""
    doc, read = load_text(text, "f.yaml")
    assert read == [], read
    return doc, list(money_floats(doc)) if doc is not None else []


def only(diagnostics: list[Diagnostic]) -> Diagnostic:
    assert len(diagnostics) == 1, diagnostics
    return diagnostics[0]


def at(diagnostic: Diagnostic) -> tuple[str, int, int]:
    return (diagnostic.rule, diagnostic.location.line, diagnostic.location.col)


@pytest.mark.parametrize(
    ("text", "field", "line", "col"),
    [
        ("prices:\n  - unit_amount: 9.99\n", "unit_amount", 2, 18),
        ("plans:\n  - amount: 10.0\n", "amount", 2, 13),
        ("prices:\n  - tiers:\n      - {up_to: inf, flat_amount: 1.5}\n", "flat_amount", 3, 35),
        ("prices:\n  - custom_unit_amount: {enabled: true, minimum: 0.5}\n", "minimum", 2, 50),
        ("prices:\n  - currency_options: {eur: {unit_amount: 1e+3}}\n", None, 0, 0),
        ("prices:\n  - currency_options: {eur: {unit_amount: 12.5}}\n", "unit_amount", 2, 43),
        ("prices:\n  - unit_amount_decimal: 0.5\n", "unit_amount_decimal", 2, 26),
    ],
)
def test_floats_where_money_goes(text: str, field: str | None, line: int, col: int) -> None:
    doc, problems = check(text)
    assert doc is not None
    if field is None:  # `1e+3` is a string in YAML 1.1: the schema reports it, not this check
        assert problems == []
        return
    problem = only(problems)
    assert at(problem) == ("money-float", line, col)
    assert f"`{field}`" in problem.message
    assert problem.hint


def test_money_float_hint_suggests_minor_units_or_a_decimal_string() -> None:
    _, problems = check("prices:\n  - unit_amount: 9.99\n  - unit_amount_decimal: 0.5\n")
    first, second = problems
    assert "unit_amount: 999" in (first.hint or "")
    assert 'unit_amount_decimal: "9.99"' in (first.hint or "")
    assert 'unit_amount_decimal: "0.5"' in (second.hint or "")


@pytest.mark.parametrize("value", [".inf", "-.inf", ".nan", "1.7e+306", "-0.0"])
def test_money_float_extremes_do_not_crash(value: str) -> None:
    _, problems = check(f"prices:\n  - unit_amount: {value}\n")
    assert only(problems).rule == "money-float"


def test_floats_outside_money_are_left_to_the_schema() -> None:
    # package dimensions are numbers; a metadata value named like an amount is not money
    doc, problems = check("products:\n  - package_dimensions: {height: 1.5}\n    metadata: {amount: 2.5}\n")
    assert problems == []
    assert doc is not None


def test_the_hint_converts_for_the_currency_the_object_names_even_after_the_amount() -> None:
    _, problems = check("prices:\n  - unit_amount: 12.5\n    currency: jpy\n  - unit_amount: 9.99\n    currency: usd\n")
    jpy, usd = problems
    assert (jpy.hint or "").startswith("JPY has no minor unit (amounts are whole JPY): write `unit_amount_decimal:")
    assert (usd.hint or "").startswith("USD has 2 decimal digits (amounts count its minor unit): write `unit_amount:")
    assert '"12.5"` (¥12.5)' in (jpy.hint or "") and "`unit_amount: 999` ($9.99)" in (usd.hint or "")
    _, (option,) = check("prices:\n  - currency_options: {eur: {unit_amount: 12.5}}\n")
    assert "EUR has 2 decimal digits (amounts count its minor unit): write `unit_amount: 1250` (€12.50)" in (
        option.hint or ""
    )


def test_an_object_with_a_float_amount_is_kept_out_of_the_rules() -> None:
    # like a reading error: the rules would otherwise see a float where they expect an integer
    text = "products:\n  - id: p\n    name: P\nprices:\n  - lookup_key: a\n    product: p\n    currency: usd\n" \
        "    unit_amount: 9.99\n"
    doc, read = load_text(text, "f.yaml")
    assert doc is not None and read == []
    result = check_documents([doc], read)
    assert [e.identity for e in result.rejected] == ["a"]
    assert [at(d) for d in result.diagnostics] == [("money-float", 8, 18)]
    assert not result.ok


def test_every_rule_id_of_the_check_is_documented() -> None:
    import re
    from pathlib import Path

    import compiler.catalog.money_floats as check

    source = Path(check.__file__).read_text(encoding="utf-8")
    assert set(re.findall(r'"([a-z]+(?:-[a-z]+)+)"', source)) == set(RULE_IDS)
