"""Property-based: whatever the files hold, `validate` exits 0 or 1 with diagnostics, never a traceback.

Also checks that the schema's compiled fast path and jsonschema always agree on what is valid.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.catalog.schema import fast_validator, schema_document, schema_errors, validator
from compiler.cli.validate import command

ROOT = Path(__file__).resolve().parents[2]
SEEDS = sorted((ROOT / "plans").glob("*.yaml"))
DIAGNOSTIC = re.compile(r"^\S.*: (error|warning)\[[a-z0-9-]+\]: .+$")
SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _field_names() -> list[str]:
    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            names.update(node.get("properties", {}))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema_document())
    return sorted(names)


FIELDS = _field_names()
SECTIONS = ["products", "prices", "plans", "meters"]

leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["usd", "USD", "inf", "month", "metered", "tiered", "graduated", "up", "", "0.5", "p"]),
    st.text(max_size=12),
)
keys = st.one_of(st.sampled_from(FIELDS), st.text(min_size=1, max_size=8))
values = st.recursive(
    leaves,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=5)),
    max_leaves=20,
)
objects = st.dictionaries(keys, values, max_size=8)
catalogs = st.dictionaries(
    st.one_of(st.sampled_from(SECTIONS), st.text(min_size=1, max_size=6)),
    st.one_of(st.lists(objects, max_size=4), values),
    max_size=4,
)


def _validate(files: dict[str, bytes], *extra: str) -> tuple[int, str, str]:
    with tempfile.TemporaryDirectory() as tmp:
        for name, content in files.items():
            (Path(tmp) / name).write_bytes(content)
        result = CliRunner().invoke(command, [tmp, *extra])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, result.stdout, result.stderr


def _assert_reported(code: int, stderr: str) -> None:
    assert code in (0, 1), stderr
    lines = stderr.rstrip("\n").split("\n")  # one line per diagnostic: no stray line breaks in messages
    assert "Traceback" not in stderr
    if code == 1:
        assert any(DIAGNOSTIC.match(line) and "error[" in line for line in lines), stderr
    for line in lines[:-1]:
        assert line.startswith("  hint: ") or DIAGNOSTIC.match(line), line


def _mangle(text: str, edits: list[tuple[int, int, str]]) -> str:
    for position, length, insert in edits:
        at = position % (len(text) + 1)
        text = text[:at] + insert + text[at + length :]
    return text


@SETTINGS
@given(
    seed=st.sampled_from(SEEDS),
    edits=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=5_000),
            st.integers(min_value=0, max_value=8),
            st.text(alphabet=st.sampled_from(list(":-[]{}&*!|>#'\"\t\n  ?%@`,.0123456789abé")), max_size=6),
        ),
        min_size=1,
        max_size=6,
    ),
)
def test_mangled_yaml_gives_diagnostics_not_tracebacks(seed: Path, edits: list[tuple[int, int, str]]) -> None:
    text = _mangle(seed.read_text(encoding="utf-8"), edits)
    code, _, stderr = _validate({"mangled.yaml": text.encode("utf-8")})
    _assert_reported(code, stderr)


@SETTINGS
@given(catalog=catalogs)
def test_random_catalogs_give_diagnostics_not_tracebacks(catalog: dict[str, Any]) -> None:
    text = yaml.safe_dump(catalog, allow_unicode=True)
    code, _, stderr = _validate({"random.yaml": text.encode("utf-8")})
    _assert_reported(code, stderr)


@SETTINGS
@given(content=st.binary(max_size=200))
def test_random_bytes_give_diagnostics_not_tracebacks(content: bytes) -> None:
    code, stdout, _ = _validate({"bytes.yaml": content}, "--format", "json")
    problems = json.loads(stdout)
    assert code == (1 if any(p["severity"] == "error" for p in problems) else 0)


@settings(max_examples=100, deadline=None)
@given(catalog=catalogs)
def test_fast_path_and_jsonschema_agree(catalog: dict[str, Any]) -> None:
    fast = fast_validator()
    assert fast is not None
    assert fast(catalog) == validator().is_valid(catalog)
    # checking object by object finds exactly what jsonschema finds on the whole document
    split = sorted((repr(path), error.message) for path, error in schema_errors(catalog))
    whole = sorted((repr(tuple(e.absolute_path)), e.message) for e in validator().iter_errors(catalog))
    assert split == whole


def _nodes(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _nodes(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _nodes(item, (*path, index))
    return found


def _replace(value: Any, path: tuple[Any, ...], new: Any, delete: bool) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    copy: Any = dict(value) if isinstance(value, dict) else list(value)
    if not rest and delete:
        del copy[head]
    else:
        copy[head] = _replace(copy[head], rest, new, delete)
    return copy


EXAMPLES = [yaml.safe_load(path.read_text(encoding="utf-8")) for path in SEEDS]


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_fast_path_and_jsonschema_agree_near_valid_catalogs(data: st.DataObject) -> None:
    """Small edits of the valid example catalog: a mix of valid and barely invalid documents."""
    fast = fast_validator()
    assert fast is not None
    catalog = data.draw(st.sampled_from(EXAMPLES))
    for _ in range(data.draw(st.integers(min_value=0, max_value=2))):
        candidates = _nodes(catalog)[1:]
        if not candidates:
            break
        path = data.draw(st.sampled_from(candidates))
        delete = data.draw(st.booleans())
        catalog = _replace(catalog, path, data.draw(leaves), delete)
    assert fast(catalog) == validator().is_valid(catalog)
    split = sorted((repr(path), error.message) for path, error in schema_errors(catalog))
    whole = sorted((repr(tuple(e.absolute_path)), e.message) for e in validator().iter_errors(catalog))
    assert split == whole


def test_fast_path_and_jsonschema_agree_on_the_example_catalog() -> None:
    fast = fast_validator()
    assert fast is not None
    for path in SEEDS:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert fast(data) and validator().is_valid(data)


# YAML folds line breaks inside quoted keys (NEL, LS, PS, CR become spaces), so two such keys can really be
# duplicates that PyYAML would silently merge: keys here avoid those characters
# (and libyaml, unlike PyYAML's Python parser, refuses escaped surrogates: none here either)
_chars = st.characters(exclude_characters="\x85\u2028\u2029\r", exclude_categories=["Cs"])
names = st.text(alphabet=_chars, max_size=6)
plain_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=True),
    st.text(alphabet=_chars, max_size=12),
    st.sampled_from(["", "~", "null", "yes", "no", "on", "0700", "08", "1_000", "2024-01-01", "<<", "=", "1:30"]),
)
plain_values = st.recursive(
    plain_leaves,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(names, inner, max_size=4)),
    max_leaves=25,
)


@settings(max_examples=150, deadline=None)
@given(data=st.dictionaries(names, plain_values, max_size=5), flow=st.booleans())
def test_the_reader_reads_what_pyyaml_reads(data: dict[str, Any], flow: bool) -> None:
    """The hand-written builder agrees with PyYAML's own safe_load on anything safe_dump writes."""
    from compiler.catalog.yaml_reader import load_text

    text = yaml.safe_dump(data, default_flow_style=flow, allow_unicode=True)
    doc, problems = load_text(text, "x.yaml")
    expected = yaml.safe_load(text)
    if not expected:  # an empty mapping dumps as `{}`
        assert doc is not None and doc.data == {}
        return
    assert [p for p in problems if p.rule != "money-float"] == []  # keys may be named like amounts
    assert doc is not None
    assert doc.data == expected


@settings(max_examples=100, deadline=None)
@given(
    data=st.dictionaries(names, plain_values, max_size=3),
    shared=st.one_of(
        st.lists(plain_values, min_size=1, max_size=3),
        st.dictionaries(names, plain_values, min_size=1, max_size=3),
    ),
    flow=st.booleans(),
)
def test_the_reader_expands_aliases_as_pyyaml_does(data: dict[str, Any], shared: Any, flow: bool) -> None:
    from compiler.catalog.yaml_reader import load_text

    data = {**data, "first": shared, "again": {"nested": shared}}  # safe_dump writes &id001 and *id001
    text = yaml.safe_dump(data, default_flow_style=flow, allow_unicode=True)
    assert "&id" in text
    doc, problems = load_text(text, "x.yaml")
    assert [p for p in problems if p.rule != "money-float"] == []
    assert doc is not None
    assert doc.data == yaml.safe_load(text)
    # the key as parsed: YAML folds some characters (a NEL in a quoted key becomes a space)
    child: str | int = next(iter(doc.data["first"])) if isinstance(shared, dict) else 0
    assert doc.at(("again", "nested", child)) == doc.at(("first", child))  # placed where the anchor was written
