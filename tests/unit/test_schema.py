"""The JSON Schema, its messages, and the check pipeline that runs it before the rules."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from compiler.catalog.check import CheckResult, check_catalog, check_documents
from compiler.catalog.money_floats import money_floats
from compiler.catalog.rules import covering_rules
from compiler.catalog.schema import RULE_IDS, check_document, check_document_paths, compile_fast, schema_document
from compiler.catalog.schema.messages import KEYWORDS
from compiler.catalog.source import Entry, NodePath, iter_entries
from compiler.catalog.yaml_reader import load_text
from compiler.errors import Diagnostic, Location

ROOT = Path(__file__).resolve().parents[2]
REPO_SCHEMA = ROOT / "schemas" / "catalog.schema.json"
PACKAGE_SCHEMA = ROOT / "compiler" / "data" / "catalog.schema.json"


def problems(text: str) -> list[Diagnostic]:
    doc, loaded = load_text(text, "f.yaml")
    assert doc is not None, loaded
    return check_document(doc)


def places(text: str) -> list[tuple[str, int, int]]:
    return [(d.rule, d.location.line, d.location.col) for d in problems(text)]


PRODUCT = "products:\n  - id: p\n    name: P\n"


# --- the schema itself --------------------------------------------------------------------------------


def test_schema_is_valid_draft_2020_12() -> None:
    schema = json.loads(REPO_SCHEMA.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"]


def test_the_packaged_copy_is_identical() -> None:
    assert PACKAGE_SCHEMA.read_bytes() == REPO_SCHEMA.read_bytes()
    assert schema_document() == json.loads(REPO_SCHEMA.read_text(encoding="utf-8"))


def _fields(node: Any, where: str) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for name, sub in node.get("properties", {}).items():
            yield f"{where}.{name}", sub
        for name, sub in node.get("$defs", {}).items():
            yield f"$defs.{name}", sub
        for key, sub in node.items():
            if key in ("properties", "$defs"):
                for name, child in sub.items():
                    yield from _fields(child, f"{where}.{name}")
            elif isinstance(sub, dict | list):
                yield from _fields(sub, f"{where}.{key}")
    elif isinstance(node, list):
        for index, sub in enumerate(node):
            yield from _fields(sub, f"{where}[{index}]")


def test_every_field_has_a_description() -> None:
    schema = schema_document()
    missing = [where for where, sub in _fields(schema, "") if "description" not in sub]
    assert missing == []


def test_every_object_refuses_unknown_fields() -> None:
    schema = schema_document()
    loose = [
        where
        for where, sub in _fields(schema, "")
        if isinstance(sub, dict) and "properties" in sub and sub.get("additionalProperties") is not False
    ]
    assert loose == []


def test_the_fast_path_supports_the_whole_schema() -> None:
    compile_fast(schema_document())  # raises UnsupportedSchema otherwise


def test_the_example_catalog_has_no_diagnostics_at_all() -> None:
    result = check_catalog([str(ROOT / "plans")])
    assert result.diagnostics == ()
    assert result.files >= 5
    keys = {e.identity for e in result.entries}
    for identity in (
        "productivity_suite",
        "standard-cost-per-5-users",
        "metered-emails",
        "metered_emails_monthly",
        "emails_sent",
        "seats_volume_monthly",
        "seats_graduated_monthly",
    ):
        assert identity in keys


def test_the_seed_plans_are_exact() -> None:
    result = check_catalog([str(ROOT / "plans")])
    by_id = {(e.kind.value, e.identity): dict(e.data) for e in result.entries}
    assert by_id[("plan", "standard-cost-per-5-users")] == {
        "id": "standard-cost-per-5-users",
        "product": "productivity_suite",
        "nickname": "Standard Cost Per 5 Users",
        "currency": "usd",
        "amount": 1000,
        "interval": "month",
        "usage_type": "licensed",
        "transform_usage": {"divide_by": 5, "round": "up"},
    }
    metered = by_id[("price", "metered_emails_monthly")]
    assert metered["nickname"] == "Metered Emails"
    assert metered["unit_amount"] == 10
    assert metered["recurring"] == {"interval": "month", "usage_type": "metered", "meter": "emails_sent"}
    assert metered["transform_quantity"] == {"divide_by": 1000, "round": "down"}


# --- messages -----------------------------------------------------------------------------------------


def test_unknown_field_names_the_closest_known_one() -> None:
    (problem,) = problems(PRODUCT + "    descripton: x\n")
    assert (problem.rule, problem.location.line, problem.location.col) == ("schema-unknown-field", 4, 5)
    assert "`descripton`" in problem.message
    assert problem.hint == "did you mean `description`?"


def test_fields_pricebook_manages_explain_why() -> None:
    (problem,) = problems("prices:\n  - {lookup_key: a, currency: usd, product: p, product_data: {name: x}}\n")
    assert problem.rule == "schema-unknown-field"
    assert "products:" in (problem.hint or "")


def test_unknown_top_level_section() -> None:
    assert places("price:\n  - lookup_key: a\n") == [("schema-unknown-field", 1, 1)]


def test_required_fields() -> None:
    found = problems("prices:\n  - unit_amount: 5\n")
    assert [(d.rule, d.message) for d in found] == [
        ("schema-required", "a price needs `lookup_key`"),
        ("schema-required", "a price needs `currency`"),
        ("schema-required", "a price needs `product`"),
    ]
    assert {(d.location.line, d.location.col) for d in found} == {(2, 5)}


def test_types() -> None:
    found = problems(
        "prices:\n  - {lookup_key: a, currency: usd, product: p, unit_amount: '10', unit_amount_decimal: 5}\n"
    )
    assert [(d.rule, d.location.col) for d in found] == [("schema-type", 61), ("schema-type", 88)]
    assert found[0].hint == "remove the quotes"
    assert found[1].hint == 'decimal amounts are strings: `unit_amount_decimal: "5"`'


def test_leading_zero_numbers_are_strings_with_a_hint() -> None:
    (problem,) = problems("prices:\n  - {lookup_key: a, currency: usd, product: p, unit_amount: 08}\n")
    assert (problem.rule, problem.hint) == ("schema-type", "write 8 without the leading zero")


def test_integers_are_not_floats_anywhere() -> None:
    # JSON Schema calls 5.0 an integer; Stripe does not
    found = problems(
        "prices:\n  - {lookup_key: a, currency: usd, product: p, transform_quantity: {divide_by: 5.0, round: up}}\n"
    )
    assert [d.rule for d in found] == ["schema-type"]


def test_money_floats_are_left_to_their_own_check() -> None:
    doc, loaded = load_text("prices:\n  - {lookup_key: a, currency: usd, product: p, unit_amount: 9.5}\n", "f.yaml")
    assert doc is not None and loaded == []
    assert [d.rule for d in money_floats(doc)] == ["money-float"]
    assert check_document(doc) == []


def test_enums_suggest_the_closest_value() -> None:
    (problem,) = problems("prices:\n  - {lookup_key: a, currency: usd, product: p, recurring: {interval: monthly}}\n")
    assert problem.rule == "schema-enum"
    assert problem.hint == "did you mean `month`?"


def test_currency_codes_are_lowercase() -> None:
    found = problems(
        "prices:\n  - {lookup_key: a, currency: USD, product: p, currency_options: {EUR: {unit_amount: 1}}}\n"
    )
    assert sorted((d.rule, d.hint) for d in found) == [
        ("schema-pattern", "write `eur`"),
        ("schema-pattern", "write `usd`"),
    ]


def test_decimal_strings() -> None:
    found = problems(
        "prices:\n"
        "  - lookup_key: a\n"
        "    currency: usd\n"
        "    product: p\n"
        "    unit_amount_decimal: '1.0000000000001'\n"
        "    tiers: [{up_to: inf, flat_amount_decimal: '0.5'}]\n"
    )
    assert [(d.rule, d.location.line) for d in found] == [("schema-pattern", 5), ("schema-pattern", 6)]


def test_up_to_is_a_positive_integer_or_inf() -> None:
    found = problems(
        "prices:\n  - {lookup_key: a, currency: usd, product: p, tiers: [{up_to: 0}, {up_to: infinity}]}\n"
    )
    assert [d.rule for d in found] == ["schema-type", "schema-type"]
    assert "`tiers[0].up_to`" in found[0].message


def test_lengths_and_bounds() -> None:
    found = problems(
        PRODUCT
        + "    unit_label: a very long unit label\n"
        + "    statement_descriptor: '12345'\n"
        + "plans:\n  - {id: x, product: p, currency: usd, interval: month, amount: -1, trial_period_days: 731}\n"
    )
    assert sorted(d.rule for d in found) == ["schema-length", "schema-pattern", "schema-range", "schema-range"]


@pytest.mark.parametrize(
    ("descriptor", "valid"),
    [("ACME SEATS", True), ('ACME "PRO"', False), ("ACME'S", False), ("ACME\\PRO", False), ("<ACME>", False)],
)
def test_statement_descriptor_refuses_the_characters_stripe_refuses(descriptor: str, valid: bool) -> None:
    # the pattern is written so that ECMA-262 (what `format: regex` means, `u` flag) and Python read it alike
    found = problems(PRODUCT + f"    statement_descriptor: {json.dumps(descriptor)}\n")
    assert [d.rule for d in found] == ([] if valid else ["schema-pattern"])


def test_empty_strings_stripe_refuses_are_errors_with_a_hint() -> None:
    # Stripe answers "" with 400 parameter_invalid_empty on create: validate must say so first
    found = problems(
        "products:\n"
        "  - id: p\n"
        "    name: ''\n"
        "    description: ''\n"
        "    unit_label: ''\n"
        "    url: ''\n"
        "    statement_descriptor: ''\n"
        "    images: ['']\n"
        "    prices:\n"
        "      - {lookup_key: a, currency: usd, unit_amount: 1, nickname: ''}\n"
        "plans:\n"
        "  - {id: x, product: p, currency: usd, interval: month, amount: 1, nickname: ''}\n"
    )
    assert sorted((d.rule, d.location.line, d.message) for d in found) == [
        ("schema-length", 3, "`name` must not be empty"),
        ("schema-length", 4, "`description` must not be empty"),
        ("schema-length", 5, "`unit_label` must not be empty"),
        ("schema-length", 6, "`url` must not be empty"),
        ("schema-length", 7, "`statement_descriptor` must not be empty"),  # and no pattern error besides
        ("schema-length", 8, "`images[0]` must not be empty"),
        ("schema-length", 10, "`nickname` must not be empty"),
        ("schema-length", 12, "`nickname` must not be empty"),
    ]
    hints = {d.location.line: d.hint for d in found}
    assert hints[3] == "Stripe refuses an empty value: give it one"
    assert hints[4] == "Stripe refuses an empty value: remove the field to leave it unset"
    assert hints[8] == "Stripe refuses an empty value: remove the item, or give it a value"


@pytest.mark.parametrize("owner", ["product", "price", "plan"])
def test_an_empty_metadata_value_is_an_error_that_says_to_remove_the_key(owner: str) -> None:
    # Stripe takes metadata[key]="" as "delete this key": the value is never stored and the plan never converges
    heads = {
        "product": PRODUCT,
        "price": PRODUCT + "    prices:\n      - lookup_key: a\n        currency: usd\n        unit_amount: 1\n",
        "plan": PRODUCT + "plans:\n  - id: x\n    product: p\n    currency: usd\n    interval: month\n    amount: 1\n",
    }
    indent = {"product": "    ", "price": "        ", "plan": "    "}[owner]
    text = heads[owner] + f"{indent}metadata:\n{indent}  team: growth\n{indent}  note: ''\n"
    (found,) = problems(text)
    assert (found.rule, found.location.line, found.message) == (
        "schema-length",
        text.count("\n"),
        "`metadata.note` must not be empty",
    )
    assert found.hint == (
        "Stripe deletes a metadata key given an empty value, so it would never be stored: remove the key"
    )


def test_tax_code_refuses_an_empty_string() -> None:
    # tax_code takes "" only on update (to unset it): `str` on create, like the other fields
    assert [d.rule for d in problems(PRODUCT + "    tax_code: ''\n")] == ["schema-length"]


def test_every_free_text_field_refuses_an_empty_string() -> None:
    # every string field without an enum or a pattern that already refuses "": no catalog field is
    # `Literal['']|str` in the create params (stripe/params/*_create_params.py), only nested ones pricebook does
    # not take (tax_details) and update params; and a metadata value "" deletes its key, so it never converges
    schema = schema_document()
    missing: list[str] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            if node.get("type") == "string" and "enum" not in node:
                refuses_empty = node.get("minLength", 0) >= 1 or (
                    "pattern" in node and not Draft202012Validator({"pattern": node["pattern"]}).is_valid("")
                )
                if not refuses_empty:
                    missing.append(where)
            for key, sub in node.items():
                if not (key == "description" and isinstance(sub, str)):
                    walk(sub, f"{where}/{key}" if where else key)
        elif isinstance(node, list):
            for i, sub in enumerate(node):
                walk(sub, f"{where}/{i}")

    walk(schema, "")
    assert missing == []


def test_a_plan_id_does_not_start_with_price_() -> None:
    (problem,) = problems(
        PRODUCT + "plans:\n  - {id: price_basic, product: p, currency: usd, interval: month, amount: 1}\n"
    )
    assert (problem.rule, problem.location.line) == ("schema-pattern", 5)
    assert problem.message == '`id` "price_basic" starts with `price_`'
    assert problem.hint is not None and "choose another id" in problem.hint
    # a lookup key may start with it; so may a plan id that only contains it
    catalog = PRODUCT + "    prices: [{lookup_key: price_x, currency: usd, unit_amount: 1}]\n"
    catalog += "plans:\n  - {id: my_price_plan, product: p, currency: usd, interval: month, amount: 1}\n"
    assert problems(catalog) == []


def test_metadata_limits() -> None:
    many = ", ".join(f"k{i}: v" for i in range(50))
    found = problems(
        PRODUCT
        + "    metadata: {managed_by: me, 'a[1]': x, "
        + "this_key_is_longer_than_forty_characters_ok: y, n: 5}\n"
        + f"  - id: q\n    name: Q\n    metadata: {{{many}}}\n"
    )
    assert sorted(d.rule for d in found) == [
        "schema-length",
        "schema-pattern",
        "schema-reserved",
        "schema-size",
        "schema-type",
    ]


def test_every_schema_keyword_has_a_message() -> None:
    keywords: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            keywords.update(k for k in node if k in _VALIDATION_KEYWORDS)
            for key, sub in node.items():
                if key != "properties":
                    walk(sub)
                else:
                    for child in sub.values():
                        walk(child)
        elif isinstance(node, list):
            for sub in node:
                walk(sub)

    walk(schema_document())
    assert keywords <= KEYWORDS


#: the keywords of JSON Schema 2020-12 that can fail (an error of `$ref`, `properties` or `items` is its target's)
_VALIDATION_KEYWORDS = frozenset(
    {
        "type", "enum", "const", "multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum",
        "maxLength", "minLength", "pattern", "maxItems", "minItems", "uniqueItems", "maxContains", "minContains",
        "maxProperties", "minProperties", "required", "dependentRequired", "additionalProperties",
        "propertyNames", "not", "anyOf", "oneOf", "allOf", "if", "contains", "prefixItems",
        "unevaluatedItems", "unevaluatedProperties", "dependentSchemas",
    }
)  # fmt: skip


def test_nested_prices_take_their_product_from_the_parent() -> None:
    (problem,) = problems(PRODUCT + "    prices:\n      - {lookup_key: a, currency: usd, product: p}\n")
    assert (problem.rule, problem.location.line, problem.location.col) == ("schema-nested-product", 5, 40)


def test_every_rule_id_is_stable() -> None:
    assert set(RULE_IDS) >= {"schema-unknown-field", "schema-required", "schema-type", "schema-enum"}


# --- the pipeline -------------------------------------------------------------------------------------


def test_objects_with_schema_errors_are_kept_from_the_rules() -> None:
    doc, loaded = load_text(
        "products:\n"
        "  - id: p\n"
        "    name: P\n"
        "    colour: red\n"
        "prices:\n"
        "  - {lookup_key: a, currency: usd, product: p, unit_amount: 5}\n"
        "  - {lookup_key: b, currency: usd, product: p, unit_amount: 5, tiers: wrong}\n",
        "f.yaml",
    )
    assert doc is not None
    result = check_documents([doc], loaded)
    assert [e.identity for e in result.entries] == ["a"]
    assert {e.identity for e in result.rejected} == {"p", "b"}
    # the price naming product p is not told that p is unknown: p exists, it only has a typo
    assert [d.rule for d in result.diagnostics] == ["schema-unknown-field", "schema-type"]
    assert not result.ok


def test_rules_run_after_the_schema() -> None:
    doc, loaded = load_text(
        PRODUCT
        + "prices:\n"
        + "  - lookup_key: a\n"
        + "    product: p\n"
        + "    currency: usd\n"
        + "    billing_scheme: tiered\n"
        + "    tiers_mode: volume\n"
        + "    tiers: [{up_to: inf, unit_amount: 5}]\n"
        + "    transform_quantity: {divide_by: 5, round: up}\n",
        "f.yaml",
    )
    assert doc is not None
    result = check_documents([doc], loaded)
    assert "tiers-with-transform" in {d.rule for d in result.diagnostics}


def test_reading_errors_keep_the_object_from_the_rules() -> None:
    doc, loaded = load_text(
        PRODUCT + "prices:\n  - {lookup_key: a, currency: usd, product: p, unit_amount: 9.5}\n", "f.yaml"
    )
    assert doc is not None
    result = check_documents([doc], loaded)
    assert [e.identity for e in result.entries] == ["p"]
    assert [d.rule for d in result.diagnostics] == ["money-float"]


def test_the_benchmark_generator_writes_a_valid_catalog(tmp_path: Path) -> None:
    from tests.bench.generate import generate_catalog

    generated = generate_catalog(tmp_path, 120, seed=3)
    result = check_catalog([str(tmp_path)])
    assert result.diagnostics == ()
    assert len(generated.prices) == 120
    assert {e.identity for e in result.entries} >= set(generated.prices) | set(generated.meters)
    assert generate_catalog(tmp_path / "again", 120, seed=3).files[1].read_text() == generated.files[1].read_text()


# --- where the schema defers to a rule ------------------------------------------------------------------


def _check(text: str) -> CheckResult:
    doc, loaded = load_text(PRODUCT + text, "f.yaml")
    assert doc is not None and loaded == []
    return check_documents([doc], loaded)


def test_a_rule_that_says_it_better_replaces_the_schema_error() -> None:
    result = _check("prices:\n  - {lookup_key: a, product: p, currency: usd, unit_amount: 5, interval: month}\n")
    assert [d.rule for d in result.diagnostics] == ["one-time-with-recurring-fields"]
    assert "move interval under recurring:" in (result.diagnostics[0].hint or "")
    assert result.entries and not result.ok


def test_a_deferred_schema_error_stays_when_its_rule_says_nothing() -> None:
    # `product_data` is nested-price-product's to explain only under a product; at the top level the rule is
    # silent, so the schema's error stays (the price went through the rules, which found nothing else)
    result = _check(
        "prices:\n  - {lookup_key: a, product: p, currency: usd, unit_amount: 5, product_data: {name: x}}\n"
    )
    assert [d.rule for d in result.diagnostics] == ["schema-unknown-field"]
    assert "products:" in (result.diagnostics[0].hint or "")
    # an object that keeps a schema error is unfit for the model
    assert {e.identity for e in result.entries} == {"p"}
    assert {e.identity for e in result.rejected} == {"a"}


def test_one_error_the_schema_cannot_defer_keeps_the_object_from_the_rules() -> None:
    # `interval` alone would be the rule's to explain; `colour` is no rule's, so the schema says both
    result = _check(
        "prices:\n  - {lookup_key: a, product: p, currency: usd, unit_amount: 5, interval: month, colour: red}\n"
    )
    assert [d.rule for d in result.diagnostics] == ["schema-unknown-field", "schema-unknown-field"]
    assert {e.identity for e in result.rejected} == {"a"}


def test_a_rule_at_another_object_does_not_stand_in_for_this_one() -> None:
    # both prices break the one-time rule's fields; only the second is kept from the rules (by `colour`)
    result = _check(
        "prices:\n"
        "  - {lookup_key: a, product: p, currency: usd, unit_amount: 5, usage_type: metered}\n"
        "  - {lookup_key: b, product: p, currency: usd, unit_amount: 5, usage_type: metered, colour: red}\n"
    )
    assert [(d.rule, d.location.line) for d in result.diagnostics] == [
        ("one-time-with-recurring-fields", 5),
        ("schema-unknown-field", 6),
        ("schema-unknown-field", 6),
    ]


def test_a_loader_error_that_leaves_the_value_leaves_the_schema_its_say() -> None:
    # the duplicate key is the loader's; that `colour` is no field of a product stays the schema's to say
    doc, loaded = load_text(PRODUCT + "    colour: a\n    colour: b\n", "f.yaml")
    assert doc is not None
    found = [(d.rule, d.location.line) for d in check_documents([doc], loaded).diagnostics]
    assert found == [("schema-unknown-field", 4), ("yaml-duplicate-key", 5)]


def test_a_value_the_loader_refused_is_not_reported_again_by_the_schema() -> None:
    doc, loaded = load_text(
        PRODUCT + "prices:\n  - {lookup_key: a, product: p, currency: usd, unit_amount: 0700}\n", "f.yaml"
    )
    assert doc is not None
    result = check_documents([doc], loaded)
    assert [d.rule for d in result.diagnostics] == ["yaml-octal"]


_DEFERRABLE: dict[str, st.SearchStrategy[Any]] = {
    "interval": st.just("month"),
    "usage_type": st.sampled_from(["metered", "sometimes"]),
    "aggregate_usage": st.just("sum"),
    "product_data": st.just({"name": "x"}),
    "product": st.sampled_from(["p", "nowhere"]),
    "unit_amount_decimal": st.sampled_from(["1e5", "-1", "0.5", "0.1234567890123", 5]),
    "metadata": st.sampled_from([{"a[1]": "x"}, {"managed_by": "me"}, {"n": 5}, {"": "x"}, {"k": "v"}, "x"]),
    "tiers": st.sampled_from(
        [
            [{"up_to": None, "unit_amount": 1}, {"up_to": "inf", "unit_amount": 1}],
            [{"up_to": 0, "unit_amount": 1}, {"up_to": "inf", "unit_amount": 1}],
            [{"unit_amount": 1}, {"up_to": 5, "unit_amount": 1}],
            [{"up_to": "inf", "flat_amount_decimal": "1.5"}],
        ]
    ),
    "billing_scheme": st.sampled_from(["tiered", "per_unit"]),
    "tiers_mode": st.just("volume"),
    "transform_quantity": st.sampled_from(
        [{"divide_by": 0, "round": "up"}, {"round": "nearest"}, 5, {"divide_by": "5", "round": "up"}]
    ),
    "currency_options": st.sampled_from([{"EUR": {"unit_amount": 5}}, {"eur": {"custom_unit_amount": {"minimum": 5}}}]),
    "recurring": st.sampled_from(
        [
            {"interval": "month"},
            {"interval": "month", "aggregate_usage": "sum"},
            {"interval": "day", "interval_count": 0},
        ]
    ),
    "colour": st.just("red"),
}
_PRICES = st.fixed_dictionaries(
    {"lookup_key": st.sampled_from(["a", "b", "c"]), "currency": st.sampled_from(["usd", "USD", "xx"])},
    optional=_DEFERRABLE,
)
_PLANS = st.fixed_dictionaries(
    {
        "id": st.sampled_from(["x", "y"]),
        "product": st.just("p"),
        "currency": st.just("usd"),
        "interval": st.just("month"),
    },
    optional={
        "amount": st.just(5),
        "trial_period_days": st.sampled_from([0, 730, 731, -1]),
        "interval_count": st.sampled_from([0, 3]),
        "transform_usage": st.sampled_from([{"divide_by": 0, "round": "up"}, {"divide_by": 2, "round": "up"}]),
        "aggregate_usage": st.just("max"),
    },
)
_CATALOGS = st.fixed_dictionaries(
    {
        "products": st.lists(
            st.fixed_dictionaries(
                {"id": st.sampled_from(["p", "q"])},
                optional={"name": st.sampled_from(["P", "", " "]), "prices": st.lists(_PRICES, max_size=2)},
            ),
            min_size=1,
            max_size=2,
        ),
        "prices": st.lists(_PRICES, max_size=3),
        "plans": st.lists(_PLANS, max_size=2),
    }
)


class _NoAliases(yaml.SafeDumper):
    """Writes a value drawn twice twice: an alias would place both copies at the anchor's lines."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(catalog=_CATALOGS)
def test_no_schema_error_is_lost(catalog: dict[str, Any]) -> None:
    """Every schema error is shown, or a rule that explains it reported at the same object."""
    doc, loaded = load_text(yaml.dump(catalog, Dumper=_NoAliases, sort_keys=False), "f.yaml")
    assert doc is not None and loaded == []
    result = check_documents([doc], loaded)
    entries = list(iter_entries(doc))
    owners = {entry.path: entry for entry in entries}
    places = [(p, loc) for table in (doc.positions, doc.key_positions) for p, loc in table.items()]

    def owner_of(path: NodePath) -> Entry:
        return next(owners[path[:n]] for n in (4, 2) if path[:n] in owners)

    def inside(entry: Entry) -> set[Location]:
        """The places of the entry's own fields (a product's nested prices are entries of their own)."""
        return {loc for p, loc in places if p[:2] in owners and owner_of(p).path == entry.path}

    for path, schema_error in check_document_paths(doc):
        assert schema_error.hint, schema_error  # every kind of schema error says how to fix it
        if schema_error in result.diagnostics:
            continue
        owner = owner_of(path)
        rules = covering_rules(owner, schema_error.rule, path[len(owner.path) :])
        assert any(d.rule in rules and d.location in inside(owner) for d in result.diagnostics), schema_error
    # what the model gets has no schema error left
    shown = {d.location for d in result.diagnostics if d.rule in RULE_IDS}
    for entry in result.entries:
        assert not shown & inside(entry), entry.identity


def test_a_nested_price_that_is_not_a_mapping_is_one_type_error() -> None:
    # the nested price's `not: {required: [product]}` fails for anything but a mapping as well: no echo of it
    assert places(PRODUCT + "    prices: [null, 5]\n") == [("schema-type", 4, 14), ("schema-type", 4, 20)]
