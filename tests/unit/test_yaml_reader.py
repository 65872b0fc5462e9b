"""The YAML reader: plain data with places, and a diagnostic (never an exception) for every way a text can be bad."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.catalog.source import Document
from compiler.catalog.yaml_reader import ALIAS_BASE_BUDGET, MAX_DEPTH, RULE_IDS, load_text
from compiler.errors import Diagnostic, Location, Severity


def load(text: str) -> tuple[Document | None, list[Diagnostic]]:
    return load_text(text, "f.yaml")


def only(diagnostics: list[Diagnostic]) -> Diagnostic:
    assert len(diagnostics) == 1, diagnostics
    return diagnostics[0]


def at(diagnostic: Diagnostic) -> tuple[str, int, int]:
    return (diagnostic.rule, diagnostic.location.line, diagnostic.location.col)


# --- data and places ----------------------------------------------------------------------------------


def test_plain_values_and_positions() -> None:
    doc, problems = load(
        "prices:\n"
        "  - lookup_key: basic\n"
        "    unit_amount: 1000\n"
        "    active: true\n"
        "    nickname: null\n"
        "    tiers: [{up_to: 5}, {up_to: inf}]\n"
    )
    assert problems == []
    assert doc is not None
    assert doc.data == {
        "prices": [
            {
                "lookup_key": "basic",
                "unit_amount": 1000,
                "active": True,
                "nickname": None,
                "tiers": [{"up_to": 5}, {"up_to": "inf"}],
            }
        ]
    }
    assert doc.at(()) == Location("f.yaml", 1, 1)
    assert doc.at(("prices", 0)) == Location("f.yaml", 2, 5)
    assert doc.at(("prices", 0, "unit_amount")) == Location("f.yaml", 3, 18)
    assert doc.at(("prices", 0, "unit_amount"), key=True) == Location("f.yaml", 3, 5)
    assert doc.at(("prices", 0, "tiers", 1, "up_to")) == Location("f.yaml", 6, 33)
    # a path that does not exist falls back to its nearest ancestor
    assert doc.at(("prices", 0, "missing")) == Location("f.yaml", 2, 5)


def test_columns_count_characters_not_bytes() -> None:
    doc, _ = load("name: été\nnext: x\nk: {a: é, b: 1}\n")
    assert doc is not None
    assert doc.at(("k", "b")) == Location("f.yaml", 3, 14)


def test_empty_values_are_null_and_empty_quotes_are_strings() -> None:
    doc, problems = load("a:\nb: ''\nc: {d: }\ne: [~, null, '']\n")
    assert problems == []
    assert doc is not None
    assert doc.data == {"a": None, "b": "", "c": {"d": None}, "e": [None, None, ""]}


def test_keys_are_taken_as_written() -> None:
    # `2024:` and `no:` are names (metadata keys, currency codes), not a number and false
    doc, problems = load("metadata: {2024: x, no: y, on: z}\n")
    assert problems == []
    assert doc is not None
    assert doc.data == {"metadata": {"2024": "x", "no": "y", "on": "z"}}


def test_dates_stay_strings_and_yaml_11_scalars() -> None:
    doc, problems = load("a: 2024-01-01\nb: 1_000\nc: ~\nd: yes\ne: '12'\nf: 0x10\ng: !!str 12\nh: 0\n")
    assert problems == []
    assert doc is not None
    assert doc.data == {"a": "2024-01-01", "b": 1000, "c": None, "d": True, "e": "12", "f": 16, "g": "12", "h": 0}


#: endings that, after some first character, make each YAML 1.1 implicit type: ints (1_000, 0x1F, 0b1, 0o7,
#: 1:30), floats (.5, 1e3, .inf, .nan), booleans (y, yes, on, true, ...), null (~, null), merge (<<), timestamps
_SCALAR_ENDINGS = (
    *("", "0", "1", "7", "_0", "x1F", "b1", "o7", ".5", "e3", "E+3", ":30", ":3:0", "-01-01", "-1-1 1:2:3"),
    *("es", "ES", "o", "O", "n", "N", "ff", "FF", "rue", "RUE", "alse", "ALSE", "ull", "ULL"),
    *("inf", "Inf", "INF", "nan", "NaN", "NAN", "<", "="),
)


def test_plain_scalars_are_read_as_pyyaml_reads_them() -> None:
    """The reader resolves plain scalars with PyYAML's resolver but skips it for first characters that only ever
    start strings; PyYAML has no public list of those, so this pins the reader against PyYAML's safe_load over
    every printable ASCII first character (and a few others) with every ending that makes a YAML 1.1 type.
    Differences on purpose: dates stay strings, legacy octal is an error (yaml-octal)."""
    import datetime
    import math

    import yaml

    compared = 0
    indicators = set("!&*|>'\"%@`#,[]{}")  # these start a tag, an anchor, a quoted or block scalar, ...: not plain
    for first in [*(c for c in map(chr, range(0x21, 0x7F)) if c not in indicators), "é", "０", "∞"]:
        for text in (first + ending for ending in _SCALAR_ENDINGS):
            try:
                expected = yaml.safe_load(f"v: {text}\n")
            except yaml.YAMLError:
                continue  # not a plain scalar there (an indicator), or a tag safe_load cannot build
            if not isinstance(expected, dict) or set(expected) != {"v"} or isinstance(expected["v"], list | dict):
                continue
            doc, problems = load(f"v: {text}\n")
            if any(p.rule == "yaml-octal" for p in problems):
                continue
            assert problems == [], text
            assert doc is not None
            got, want = doc.data["v"], expected["v"]
            if isinstance(want, datetime.date):
                assert got == text
            elif isinstance(want, float) and math.isnan(want):
                assert isinstance(got, float) and math.isnan(got), text
            else:
                assert (type(got), got) == (type(want), want), text
            compared += 1
    assert compared > 2_000


# --- rejections ---------------------------------------------------------------------------------------


def test_invalid_yaml_has_the_parsers_place() -> None:
    doc, problems = load("prices:\n  - lookup_key: a\n   nickname: b\n")
    assert doc is None
    assert at(only(problems)) == ("yaml-syntax", 3, 4)
    assert "invalid YAML" in problems[0].message
    assert problems[0].hint


def test_unclosed_flow_sequence() -> None:
    doc, problems = load("a: [1, 2\n")
    assert doc is None
    assert only(problems).rule == "yaml-syntax"


def test_tabs_get_a_hint() -> None:
    _, problems = load("a:\n\tb: 1\n")
    assert only(problems).rule == "yaml-syntax"
    assert problems[0].hint == "indent with spaces, not tabs"


def test_two_documents_are_rejected() -> None:
    doc, problems = load("a: 1\n---\nb: 2\n")
    assert doc is None
    assert at(only(problems)) == ("yaml-syntax", 2, 1)


def test_duplicate_keys_are_errors_not_last_one_wins() -> None:
    doc, problems = load("prices:\n  - lookup_key: a\n    unit_amount: 1\n    unit_amount: 2\n")
    assert at(only(problems)) == ("yaml-duplicate-key", 4, 5)
    assert "line 3" in problems[0].message
    assert doc is not None
    assert doc.data["prices"][0]["unit_amount"] == 1  # the first one is kept, the second reported
    assert doc.at(("prices", 0, "unit_amount")) == Location("f.yaml", 3, 18)


def test_duplicate_top_level_keys() -> None:
    _, problems = load("prices: []\nmeters: []\nprices: []\n")
    assert at(only(problems)) == ("yaml-duplicate-key", 3, 1)


@pytest.mark.parametrize(
    ("text", "kind"),
    [("- a\n- b\n", "a list"), ("just text\n", "a single value"), ("42\n", "a single value")],
)
def test_root_must_be_a_mapping(text: str, kind: str) -> None:
    doc, problems = load(text)
    assert doc is None
    assert at(only(problems)) == ("yaml-root", 1, 1)
    assert kind in problems[0].message


def test_alias_bomb_is_bounded() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 9):  # 10**9 strings if expanded
        refs = ", ".join([f"*a{level - 1}"] * 10)
        lines.append(f"a{level}: &a{level} [{refs}]")
    doc, problems = load("\n".join(lines) + "\n")
    assert doc is None
    assert only(problems).rule == "yaml-alias-limit"


def test_reasonable_aliases_are_expanded_into_independent_copies() -> None:
    doc, problems = load("base: &tiers [{up_to: 5, unit_amount: 7}, {up_to: inf, unit_amount: 6}]\nother: *tiers\n")
    assert problems == []
    assert doc is not None
    assert doc.data["other"] == doc.data["base"]
    assert doc.data["other"] is not doc.data["base"]
    assert doc.data["other"][0] is not doc.data["base"][0]
    # an aliased node is placed where its anchor was written
    assert doc.at(("other", 1, "unit_amount")) == doc.at(("base", 1, "unit_amount"))
    assert doc.at(("other",)) == Location("f.yaml", 2, 8)


def test_many_small_aliases_stay_within_the_budget() -> None:
    items = "\n".join(f"  - {{lookup_key: k{i}, tiers: *t}}" for i in range(3_000))
    doc, problems = load(f"t: &t [{{up_to: 5}}, {{up_to: inf}}]\nprices:\n{items}\n")
    assert problems == []
    assert doc is not None
    assert len(doc.data["prices"]) == 3_000
    assert ALIAS_BASE_BUDGET < 3_000 * 5  # the budget grows with the file, so this file needed that


def test_recursive_alias_is_rejected() -> None:
    doc, problems = load("a: &loop\n  - *loop\n")
    assert doc is None
    assert at(only(problems)) == ("yaml-recursive-alias", 2, 5)


def test_undefined_alias_is_a_syntax_error() -> None:
    doc, problems = load("a: *nowhere\n")
    assert doc is None
    assert at(only(problems)) == ("yaml-syntax", 1, 4)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("!!python/object/apply:os.system ['true']", "!!python/object/apply:os.system"),
        ("!!python/name:os.system ''", "!!python/name:os.system"),
        ("!!binary aGVsbG8=", "!!binary"),
        ("!!timestamp 2024-01-01", "!!timestamp"),
        ("!!set {a: null}", "!!set"),
        ("!!omap [a: 1]", "!!omap"),
        ("!custom thing", "!custom"),
    ],
)
def test_tags_beyond_the_safe_set(value: str, shown: str) -> None:
    doc, problems = load(f"products: []\nx: {value}\n")
    problem = only(problems)
    assert at(problem) == ("yaml-tag", 2, 4)
    assert shown in problem.message
    assert doc is not None and doc.data["x"] is None


def test_safe_tags_are_accepted() -> None:
    doc, problems = load("a: !!str 5\nb: !!int '5'\nc: !!float '1.5'\nd: !!map {x: 1}\ne: !!seq [1]\nf: ! 7\n")
    assert problems == []
    assert doc is not None
    assert doc.data == {"a": "5", "b": 5, "c": 1.5, "d": {"x": 1}, "e": [1], "f": "7"}


def test_floats_are_noted_by_path_whatever_their_key() -> None:
    # which floats are amounts is the catalog check's business (money_floats), not the reader's
    doc, problems = load("prices:\n  - unit_amount: 9.99\n    package_dimensions: {height: 1.5}\n    n: 2\n")
    assert problems == []
    assert doc is not None
    assert doc.floats == {("prices", 0, "unit_amount"): 9.99, ("prices", 0, "package_dimensions", "height"): 1.5}


def test_legacy_octal_integers_are_rejected() -> None:
    doc, problems = load("prices:\n  - unit_amount: 0700\n")
    problem = only(problems)
    assert at(problem) == ("yaml-octal", 2, 18)
    assert "448" in problem.message
    assert doc is not None and doc.data["prices"][0]["unit_amount"] is None


@pytest.mark.parametrize("parser", ["libyaml", "python"])
@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 10_000])
def test_deep_nesting_is_rejected_without_recursion(monkeypatch: pytest.MonkeyPatch, parser: str, depth: int) -> None:
    """Past MAX_DEPTH the builder stops; far past it libyaml (PyYAML 6.0.3+) stops first with an error of its own
    while scanning ahead. Either way the user gets yaml-too-deep, not a syntax error about indentation."""
    import yaml

    import compiler.catalog.yaml_reader as loader

    if parser == "python":
        monkeypatch.setattr(loader, "_BaseLoader", yaml.SafeLoader)
    doc, problems = load("a: " + "[" * depth + "]" * depth + "\n")
    assert doc is None
    problem = only(problems)
    assert problem.rule == "yaml-too-deep"
    assert problem.hint is not None and "nesting" in problem.hint
    doc, problems = load("a: " + "[" * (MAX_DEPTH - 2) + "]" * (MAX_DEPTH - 2) + "\n")
    assert problems == []


def test_complex_keys_are_rejected() -> None:
    doc, problems = load("? [a, b]\n: 1\nc: 2\n")
    assert at(only(problems)) == ("yaml-key", 1, 3)
    assert doc is not None and doc.data == {"c": 2}


def test_merge_keys() -> None:
    doc, problems = load(
        "base: &base {currency: usd, recurring: {interval: month}}\n"
        "prices:\n"
        "  - <<: *base\n"
        "    lookup_key: a\n"
        "    currency: eur\n"
    )
    assert problems == []
    assert doc is not None
    assert doc.data["prices"][0] == {"lookup_key": "a", "currency": "eur", "recurring": {"interval": "month"}}
    assert doc.at(("prices", 0, "currency")) == Location("f.yaml", 5, 15)  # the key written here wins
    assert doc.at(("prices", 0, "recurring", "interval")) == Location("f.yaml", 1, 51)


def test_merge_of_a_scalar_is_rejected() -> None:
    _, problems = load("a: {<<: 5, b: 1}\n")
    assert only(problems).rule == "yaml-merge"


def test_empty_file_is_a_warning() -> None:
    doc, problems = load("# only a comment\n")
    problem = only(problems)
    assert (problem.rule, problem.severity) == ("empty-file", Severity.WARNING)
    assert doc is not None and doc.data == {}


def test_the_pure_python_parser_gives_the_same_result(monkeypatch: pytest.MonkeyPatch) -> None:
    """PyYAML built without libyaml falls back to its Python parser: same data, places and problems."""
    import yaml

    import compiler.catalog.yaml_reader as loader

    text = (
        "base: &b {currency: usd}\n"
        "prices:\n"
        "  - <<: *b\n"
        "    lookup_key: é\n"
        "    lookup_key: twice\n"
        "    unit_amount: 9.5\n"
        "    tiers: [{up_to: 5}, {up_to: inf}]\n"
    )
    fast_doc, fast_problems = load(text)
    fast_broken = load("a:\n  - b\n  c: d\n")
    monkeypatch.setattr(loader, "_BaseLoader", yaml.SafeLoader)
    slow_doc, slow_problems = load(text)
    assert fast_doc is not None and slow_doc is not None
    assert slow_doc.data == fast_doc.data
    assert dict(slow_doc.positions) == dict(fast_doc.positions)
    assert dict(slow_doc.key_positions) == dict(fast_doc.key_positions)
    assert slow_problems == fast_problems
    assert [p.rule for p in slow_problems] == ["yaml-duplicate-key"]
    assert slow_doc.floats == fast_doc.floats == {("prices", 0, "unit_amount"): 9.5}
    slow_broken = load("a:\n  - b\n  c: d\n")
    assert [at(p) for p in slow_broken[1]] == [at(p) for p in fast_broken[1]] == [("yaml-syntax", 3, 3)]


def test_every_rule_id_the_reader_uses_is_documented() -> None:
    import re

    import compiler.catalog.yaml_reader as reader

    source = Path(reader.__file__).read_text(encoding="utf-8")
    used = set(re.findall(r'"([a-z]+(?:-[a-z]+)+)"', source))
    assert used == set(RULE_IDS)
