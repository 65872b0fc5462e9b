"""The catalog schema, compiled: jsonschema's validator and a fast path that only answers "valid or not".

The schema (`schemas/catalog.schema.json`, shipped in the package as `compiler/data/catalog.schema.json`) is
compiled once. Valid catalogs are the common case, so they are checked by the compiled fast path alone;
jsonschema runs only on the objects that fail it, for its errors (`schema_errors`), which `messages` turns into
diagnostics.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from functools import cache
from importlib import resources
from typing import Any

import jsonschema
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from compiler.catalog.source import NodePath

SCHEMA_RESOURCE = "catalog.schema.json"


def schema_text() -> str:
    """The catalog schema as shipped in the package, as written (what `pricebook schema` prints)."""
    return resources.files("compiler").joinpath("data", SCHEMA_RESOURCE).read_text(encoding="utf-8")


def schema_document() -> dict[str, Any]:
    """The catalog schema as shipped in the package."""
    schema: dict[str, Any] = json.loads(schema_text())
    return schema


def _is_integer(checker: Any, instance: object) -> bool:
    # JSON Schema calls 1000.0 an integer; Stripe ("Invalid integer") and pricebook do not.
    return isinstance(instance, int) and not isinstance(instance, bool)


@cache
def validator() -> Draft202012Validator:
    """The compiled validator (built once per process)."""
    checker = Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_integer)
    cls = jsonschema.validators.extend(Draft202012Validator, type_checker=checker)  # type: ignore[no-untyped-call]
    instance: Draft202012Validator = cls(schema_document())
    return instance


# --- the fast path --------------------------------------------------------------------------------------

#: a compiled check: True when the instance is valid
Check = Callable[[Any], bool]

_ANNOTATIONS = frozenset({"$schema", "$id", "$defs", "$comment", "title", "description", "examples", "default"})
_TYPES: Mapping[str, Callable[[Any], bool]] = {
    "object": lambda v: type(v) is dict,
    "array": lambda v: type(v) is list,
    "string": lambda v: type(v) is str,
    "integer": lambda v: type(v) is int,
    "number": lambda v: type(v) is int or type(v) is float,
    "boolean": lambda v: type(v) is bool,
    "null": lambda v: v is None,
}


class UnsupportedSchema(Exception):
    """The schema uses a keyword the fast path does not know; jsonschema alone is used then."""


def compile_fast(schema: Mapping[str, Any], root: Mapping[str, Any] | None = None) -> Check:
    """Compiles the catalog schema into nested closures that only answer "valid or not".

    jsonschema takes seconds for a catalog of 10,000 prices; valid catalogs are the common case, so they are
    checked by this compiled form and jsonschema runs only on documents that fail it, for its messages. It
    supports exactly the keywords the catalog schema uses (a test keeps both verdicts equal).
    """
    defs: dict[str, Check] = {}
    if root is None:
        root = schema

    def ref(target: str) -> Check:
        if not target.startswith("#/$defs/"):
            raise UnsupportedSchema(f"$ref {target}")
        name = target[len("#/$defs/") :]
        if name not in defs:
            defs[name] = lambda v: False  # placeholder while compiling a recursive reference
            defs[name] = build(root["$defs"][name])
        return lambda v: defs[name](v)

    def build(node: Mapping[str, Any] | bool) -> Check:
        if node is True:
            return lambda v: True
        if node is False:
            return lambda v: False
        assert isinstance(node, Mapping)
        checks: list[Check] = []
        unknown = set(node) - _ANNOTATIONS - _KEYWORDS
        if unknown:
            raise UnsupportedSchema(", ".join(sorted(unknown)))
        if "$ref" in node:
            checks.append(ref(node["$ref"]))
        if "type" in node:
            tests = [_TYPES[n] for n in (node["type"] if isinstance(node["type"], list) else [node["type"]])]
            checks.append(tests[0] if len(tests) == 1 else _any(tests))
        if "enum" in node:
            checks.append(_one_of_values(list(node["enum"])))
        if "const" in node:
            checks.append(_one_of_values([node["const"]]))
        if "pattern" in node:
            checks.append(_pattern_check(re.compile(node["pattern"])))
        for keyword, kind, measure in _BOUNDS:
            if keyword in node:
                checks.append(_bound(kind, measure, node[keyword], keyword.startswith("min")))
        if "required" in node:
            checks.append(_required(list(node["required"])))
        if "properties" in node or "additionalProperties" in node:
            checks.append(_object_check(node, build))
        if "propertyNames" in node:
            checks.append(_names_check(build(node["propertyNames"])))
        if "items" in node:
            checks.append(_items_check(build(node["items"])))
        if "anyOf" in node:
            checks.append(_any([build(sub) for sub in node["anyOf"]]))
        if "not" in node:
            checks.append(_not(build(node["not"])))
        return checks[0] if len(checks) == 1 else _all(checks)

    return build(schema)


def _any(checks: list[Check]) -> Check:
    return lambda v: any(f(v) for f in checks)


def _all(checks: list[Check]) -> Check:
    return lambda v: all(f(v) for f in checks)


def _not(check: Check) -> Check:
    return lambda v: not check(v)


def _one_of_values(options: list[Any]) -> Check:
    # JSON equality: true is not 1, 1 is not "1"
    return lambda v: any(type(v) is type(x) and v == x for x in options)


def _pattern_check(pattern: re.Pattern[str]) -> Check:
    return lambda v: type(v) is not str or pattern.search(v) is not None


def _required(names: list[str]) -> Check:
    return lambda v: type(v) is not dict or all(k in v for k in names)


def _names_check(check: Check) -> Check:
    return lambda v: type(v) is not dict or all(check(k) for k in v)


def _items_check(check: Check) -> Check:
    return lambda v: type(v) is not list or all(check(x) for x in v)


def _bound(kind: type, measure: bool, limit: int, lower: bool) -> Check:
    """min/max on numbers (measure=False) or on the size of strings, lists and mappings (measure=True)."""
    if not measure:
        if lower:
            return lambda v: not _is_number(v) or v >= limit
        return lambda v: not _is_number(v) or v <= limit
    if lower:
        return lambda v: type(v) is not kind or _size(v) >= limit
    return lambda v: type(v) is not kind or _size(v) <= limit


def _size(value: Any) -> int:
    return len(value)


#: (keyword, the instance type it applies to, whether it bounds a size rather than a number)
_BOUNDS: tuple[tuple[str, type, bool], ...] = (
    ("minimum", int, False),
    ("maximum", int, False),
    ("minLength", str, True),
    ("maxLength", str, True),
    ("minItems", list, True),
    ("maxItems", list, True),
    ("maxProperties", dict, True),
)


_KEYWORDS = frozenset(
    {
        "$ref", "type", "enum", "const", "pattern", "minLength", "maxLength", "minimum", "maximum", "minItems",
        "maxItems", "maxProperties", "required", "properties", "additionalProperties", "propertyNames", "items",
        "anyOf", "not",
    }
)  # fmt: skip


def _is_number(value: Any) -> bool:
    return type(value) is int or type(value) is float


def _object_check(node: Mapping[str, Any], build: Callable[[Any], Check]) -> Check:
    properties = {name: build(sub) for name, sub in node.get("properties", {}).items()}
    extra_schema = node.get("additionalProperties", True)
    extra: Check | None = None if extra_schema is False else build(extra_schema)
    get = properties.get

    def check(value: Any) -> bool:
        if type(value) is not dict:
            return True
        for key, item in value.items():
            test = get(key)
            if test is None:
                if extra is None or not extra(item):
                    return False
            elif not test(item):
                return False
        return True

    return check


@cache
def fast_validator() -> Check | None:
    """The compiled fast path, or None if the schema uses something it does not support."""
    try:
        return compile_fast(schema_document())
    except UnsupportedSchema:
        return None


@cache
def _item_checks() -> Mapping[str, tuple[Check, Mapping[str, Any]]]:
    """Per top-level section, the compiled check and the schema of one of its objects."""
    root = schema_document()
    checks: dict[str, tuple[Check, Mapping[str, Any]]] = {}
    for section, sub in root["properties"].items():
        items = sub.get("items")
        if isinstance(items, Mapping):
            checks[section] = (compile_fast(items, root), items)
    return checks


def schema_errors(data: Any) -> Iterator[tuple[NodePath, ValidationError]]:
    """jsonschema's errors with their paths, run only on the objects that fail the fast path: an invalid
    object in a file of 500 costs one object's validation, not the file's."""
    fast = fast_validator()
    if fast is not None and fast(data):
        return
    if fast is None or type(data) is not dict:
        for error in validator().iter_errors(data):
            yield tuple(error.absolute_path), error
        return
    items = _item_checks()
    lists = {k: v for k, v in data.items() if k in items and type(v) is list}
    shell = {k: ([] if k in lists else v) for k, v in data.items()}
    for error in validator().iter_errors(shell):
        yield tuple(error.absolute_path), error
    for section, objects in lists.items():
        check, schema = items[section]
        for index, item in enumerate(objects):
            if check(item):
                continue
            for error in validator().descend(item, schema, path=index):
                yield (section, *error.absolute_path), error
