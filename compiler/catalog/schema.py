"""The JSON Schema check: types, enums, lengths, bounds, patterns and unknown fields of each catalog file.

The schema (`schemas/catalog.schema.json`, shipped in the package as `compiler/data/catalog.schema.json`) is
compiled once. Each jsonschema error becomes a `Diagnostic` at the offending node with a stable rule id and a
message written for a person ("unknown field `nickame` in a price", "did you mean `nickname`?"), not
jsonschema's repr of the instance. Cross-field logic is not here but in `rules`.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import cache
from importlib import resources
from typing import Any

import jsonschema
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from compiler.catalog.source import Document, NodePath
from compiler.errors import Diagnostic, Location
from compiler.stripe.facts import DECIMAL_FIELDS, MONEY_FIELDS

SCHEMA_RESOURCE = "catalog.schema.json"

#: stable rule ids of the schema check
UNKNOWN_FIELD = "schema-unknown-field"
REQUIRED = "schema-required"
TYPE = "schema-type"
ENUM = "schema-enum"
PATTERN = "schema-pattern"
LENGTH = "schema-length"
RANGE = "schema-range"
SIZE = "schema-size"
RESERVED = "schema-reserved"
NESTED_PRODUCT = "schema-nested-product"
OTHER = "schema"
RULE_IDS = (UNKNOWN_FIELD, REQUIRED, TYPE, ENUM, PATTERN, LENGTH, RANGE, SIZE, RESERVED, NESTED_PRODUCT, OTHER)

_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
    "null": "null",
}

#: fields pricebook manages itself, with the reason, for a better "unknown field" message
_MANAGED_FIELDS = {
    "product_data": "define the product under `products:` and name it with `product` (or nest the price)",
    "transfer_lookup_key": "pricebook sets it itself when a change replaces a price",
    "default_price_data": "nest the price under the product's `prices:` and set `default_price` to its lookup_key",
    "aggregate_usage": "Stripe removed it in API 2025-03-31.basil: bill metered usage through a meter",
    "expand": "pricebook expands what it needs itself",
}


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


# --------------------------------------------------------------------------------------------------- fast path

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


# --------------------------------------------------------------------------------------------------- mapping


def _kind_of(path: NodePath) -> str:
    """What the object at `path` is, in words: 'a price', 'a tier', 'the file'..."""
    names = [p for p in path if isinstance(p, str)]
    if not names:
        return "the file"
    last = names[-1]
    if len(path) >= 1 and isinstance(path[-1], int):
        singular = {
            "products": "a product",
            "prices": "a price",
            "plans": "a plan",
            "meters": "a meter",
            "tiers": "a tier",
            "marketing_features": "a marketing feature",
        }
        return singular.get(last, f"an item of `{last}`")
    if len(names) >= 2 and names[-2] == "currency_options":
        return f"currency option `{last}`"
    return f"`{last}`"


def _field(path: NodePath) -> str:
    """The name of the field at `path` for messages: `unit_amount`, `tiers[2].up_to`, `tiers[2]`."""
    text = _raw_field(path)
    return text if text.isprintable() else json.dumps(text)[1:-1]


def _raw_field(path: NodePath) -> str:
    if not path:
        return "the file"
    last = path[-1]
    if isinstance(last, int):
        owner = path[-2] if len(path) >= 2 else ""
        return f"{owner}[{last}]"
    if len(path) >= 2 and path[-2] in ("metadata", "currency_options"):
        return f"{path[-2]}.{last}"
    if len(path) >= 3 and isinstance(path[-2], int) and path[-3] not in _OBJECT_LISTS:
        return f"{path[-3]}[{path[-2]}].{last}"
    return str(last)


#: lists whose items are catalog objects: a field of one is named alone (`currency`, not `prices[3].currency`)
_OBJECT_LISTS = frozenset({"products", "prices", "plans", "meters"})


def _name(key: object) -> str:
    """A field name for a message: `name`, or escaped when it holds characters that would break the line."""
    text = str(key)
    return f"`{text}`" if text.isprintable() else json.dumps(text)


def _show(value: object) -> str:
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return json.dumps(shown, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _type_of(value: object) -> str:
    if value is None:
        return "null (an empty value)"
    if isinstance(value, bool):
        return f"a boolean ({_show(value)})"
    if isinstance(value, int):
        return f"an integer ({value})"
    if isinstance(value, float):
        return f"a number ({value!r})"
    if isinstance(value, str):
        return f"a string ({_show(value)})"
    if isinstance(value, dict):
        return "a mapping"
    return "a list"


def _suggest(word: str, options: Iterable[str]) -> str | None:
    close = difflib.get_close_matches(word, sorted(options), n=1, cutoff=0.6)
    return close[0] if close else None


def _is_money_float(error: ValidationError) -> bool:
    """The loader reports floats in amount fields already (as `money-float`), with a better message."""
    path = tuple(error.absolute_path)
    return (
        isinstance(error.instance, float)
        and bool(path)
        and isinstance(path[-1], str)
        and (path[-1] in MONEY_FIELDS or path[-1] in DECIMAL_FIELDS)
    )


def _diagnostics(doc: Document, error: ValidationError, path: NodePath) -> Iterator[Diagnostic]:
    keyword = str(error.validator)
    value: Any = error.validator_value
    instance: Any = error.instance
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    where = doc.at(path)
    field = _field(path) if path else "the file"

    if "propertyNames" in error.relative_schema_path:
        yield from _property_name(doc, path, error)
        return
    if keyword == "additionalProperties":
        known = set(schema.get("properties", {}))
        for key in instance:
            if key in known:
                continue
            hint = _MANAGED_FIELDS.get(key)
            if hint is None:
                close = _suggest(key, known)
                hint = f"did you mean `{close}`?" if close else f"known fields: {', '.join(sorted(known))}"
            yield Diagnostic(
                doc.at((*path, key), key=True),
                UNKNOWN_FIELD,
                f"unknown field {_name(key)} in {_kind_of(path)}",
                hint,
            )
        return
    if keyword == "required":
        # every name the object lacks (check_document_paths passes one error per `required` and object)
        for name in value:
            if isinstance(instance, dict) and name not in instance:
                yield Diagnostic(where, REQUIRED, f"{_kind_of(path)} needs `{name}`", _required_hint(name, path))
        return
    if keyword == "not" and path and path[-1] != "metadata" and isinstance(instance, dict):
        yield Diagnostic(
            doc.at((*path, "product"), key=True),
            NESTED_PRODUCT,
            "a price nested under a product takes its product from there, so it cannot name `product`",
            "remove `product`, or move the price to the top-level `prices:` list",
        )
        return
    if keyword == "type":
        if _is_money_float(error):
            return
        expected = [str(t) for t in value] if isinstance(value, list) else [str(value)]
        wanted = " or ".join(_TYPE_NAMES.get(t, t) for t in expected)
        yield Diagnostic(
            where, TYPE, f"`{field}` must be {wanted}, not {_type_of(instance)}", _type_hint(path, instance, expected)
        )
        return
    if keyword in ("anyOf", "oneOf"):
        if path and path[-1] == "up_to":
            yield Diagnostic(
                where,
                TYPE,
                f'`{field}` must be an integer ≥ 1 or "inf", not {_show(instance)}',
                "tiers cover 1..up_to after the previous tier; the last one is `up_to: inf`",
            )
        else:
            yield Diagnostic(where, TYPE, f"`{field}` has the wrong shape: {error.message}")
        return
    if keyword in ("enum", "const"):
        options = [str(v) for v in (value if keyword == "enum" else [value])]
        close = _suggest(str(instance), options) if isinstance(instance, str) else None
        if close is None and isinstance(instance, str):  # `MONTH`, ` month`: compared as written otherwise
            close = _suggest(instance.strip().lower(), options)
        if close is not None:
            hint = f"did you mean `{close}`?"
        elif len(options) == 1:
            hint = f"the only value allowed here is `{options[0]}`"
        else:
            hint = "the values allowed here: " + ", ".join(f"`{o}`" for o in options)
        yield Diagnostic(where, ENUM, f"`{field}` must be {_one_of(options)}, not {_show(instance)}", hint)
        return
    if keyword == "pattern":
        if instance == "" and schema.get("minLength", 0) >= 1:
            return  # the minLength error says it better: "must not be empty"
        yield _pattern(where, field, instance, str(value))
        return
    if keyword in ("minLength", "maxLength"):
        size = len(instance) if isinstance(instance, str) else 0
        if keyword == "minLength":
            yield Diagnostic(where, LENGTH, f"`{field}` must not be empty", _empty_hint(path))
        else:
            message = f"`{field}` is {size} characters long; Stripe allows at most {value}"
            yield Diagnostic(where, LENGTH, message)
        return
    if keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        bound = "at least" if keyword in ("minimum", "exclusiveMinimum") else "at most"
        yield Diagnostic(
            where, RANGE, f"`{field}` must be {bound} {value}, not {_show(instance)}", _range_hint(path, schema)
        )
        return
    if keyword in ("minItems", "maxItems", "minProperties", "maxProperties"):
        count = len(instance) if isinstance(instance, list | dict) else 0
        if keyword == "maxProperties" and path and path[-1] == "metadata":
            message = f"metadata has {count} keys; Stripe allows 50 and pricebook uses one (`managed_by`)"
        elif keyword.startswith("min"):
            message = f"`{field}` must have at least {value} item(s)"
        else:
            message = f"`{field}` has {count} items; at most {value} are allowed"
        yield Diagnostic(where, SIZE, message)
        return
    yield Diagnostic(where, OTHER, f"`{field}`: {error.message}")


def _range_hint(path: NodePath, schema: Mapping[str, Any]) -> str:
    """The range a number field allows, in words: `0 to 730`, `1 or more`."""
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and high is not None:
        allowed = f"from {low} to {high}"
    elif low is not None:
        allowed = f"{low} or more"
    else:
        allowed = f"at most {high}"
    last = path[-1] if path else None
    if isinstance(last, str) and last in MONEY_FIELDS:
        return f"amounts are whole numbers of the currency's minor unit, {allowed}"
    return f"`{last}` takes {allowed}" if isinstance(last, str) else f"the allowed range is {allowed}"


def _one_of(options: list[str]) -> str:
    if len(options) == 1:
        return f"`{options[0]}`"
    return "one of " + ", ".join(f"`{o}`" for o in options)


@cache
def _required_names() -> frozenset[str]:
    """Every field name some object of the schema requires."""
    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            required = node.get("required")
            if isinstance(required, list):
                names.update(str(n) for n in required)
            for sub in node.values():
                walk(sub)
        elif isinstance(node, list):
            for sub in node:
                walk(sub)

    walk(schema_document())
    return frozenset(names)


def _empty_hint(path: NodePath) -> str:
    """Stripe refuses an empty string (400 parameter_invalid_empty): say what to write instead."""
    last = path[-1] if path else None
    if isinstance(last, int):
        return "Stripe refuses an empty value: remove the item, or give it a value"
    if isinstance(last, str) and last in _required_names():
        return "Stripe refuses an empty value: give it one"
    return "Stripe refuses an empty value: remove the field to leave it unset"


def _required_hint(name: str, path: NodePath) -> str | None:
    identity = {"lookup_key": "a price", "event_name": "a meter"}
    if name in identity or (name == "id" and path and path[0] in ("products", "plans")):
        return f"`{name}` is the object's identity in the catalog and in Stripe; pricebook finds it by that"
    if name == "product":
        return "name the `id` of a catalog product, or nest the price under the product's `prices:`"
    return None


def _type_hint(path: NodePath, instance: object, expected: list[str]) -> str | None:
    last = path[-1] if path else None
    if isinstance(last, str) and last in DECIMAL_FIELDS and isinstance(instance, int):
        return f'decimal amounts are strings: `{last}: "{instance}"`'
    if "integer" in expected and isinstance(instance, str) and instance.strip().isdigit():
        if len(instance) > 1 and instance.startswith("0"):  # `08` is not a YAML 1.1 integer: a string
            return f"write {instance.lstrip('0') or '0'} without the leading zero"
        return "remove the quotes"
    if "integer" in expected and isinstance(instance, float):
        return "write a whole number"
    if "array" in expected and isinstance(instance, dict):
        return "start each item with `- `"
    if "string" in expected and isinstance(instance, int | bool):
        return f'quote it: "{_show(instance)}"'
    if instance is None:
        return "give the field a value, or remove it"
    return None


_PATTERN_MESSAGES = {
    r"^[a-z]{3}$": ("is not a lowercase three-letter currency code", "currency codes are lowercase, e.g. `usd`"),
    r"^[0-9]+(\.[0-9]{1,12})?$": (
        "is not a decimal amount with at most 12 decimal places",
        'write a plain decimal string such as "0.5" (no sign, exponent or thousands separator)',
    ),
    r"^[0-9]+(\.0{1,12})?$": (
        "is not a whole number of minor units",
        "flat_amount_decimal must represent an integer amount; use unit_amount_decimal for fractions",
    ),
    r"^(?!price_)": (
        "starts with `price_`",
        "pricebook tells its plans from prices partly by that prefix (Stripe's price ids have it): choose another id",
    ),
}


def _pattern(where: Location, field: str, instance: object, pattern: str) -> Diagnostic:
    message, hint = _PATTERN_MESSAGES.get(pattern, (f"does not match the pattern {pattern}", None))
    if field == "statement_descriptor":
        message = "must contain at least one letter and none of < > \\ \" '"
        hint = "Stripe shows it on card statements in capitals"
    elif (
        pattern == r"^[a-z]{3}$"
        and isinstance(instance, str)
        and instance.isprintable()
        and instance.lower() != instance
    ):
        hint = f"write `{instance.lower()}`"
    return Diagnostic(where, PATTERN, f"`{field}` {_show(instance)} {message}", hint)


def _property_name(doc: Document, path: NodePath, error: ValidationError) -> Iterator[Diagnostic]:
    key = error.instance
    where = doc.at((*path, key), key=True) if isinstance(key, str) else doc.at(path)
    in_metadata = bool(path) and path[-1] == "metadata"
    if in_metadata and error.validator == "not":
        yield Diagnostic(
            where,
            RESERVED,
            "metadata key `managed_by` is reserved: pricebook sets it to mark the objects it manages",
            "use another key name",
        )
    elif in_metadata and error.validator in ("maxLength", "minLength"):
        yield Diagnostic(where, LENGTH, f"metadata key {_show(key)} must be 1 to 40 characters long")
    elif in_metadata:
        yield Diagnostic(where, PATTERN, f"metadata key {_show(key)} must not contain `[` or `]`")
    else:
        hint = f"write `{key.lower()}`" if isinstance(key, str) and key.isprintable() else None
        yield Diagnostic(where, PATTERN, f"currency option {_show(key)} is not a lowercase currency code", hint)


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


def _errors(data: Any) -> Iterator[tuple[NodePath, ValidationError]]:
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


def check_document_paths(doc: Document) -> list[tuple[NodePath, Diagnostic]]:
    """Every schema problem of one document, with the path of the node it is about."""
    out: list[tuple[NodePath, Diagnostic]] = []
    # jsonschema may report each missing name of one `required` as an error of its own, saying which only in
    # its message text; the first error of a `required` reports every missing name and the others add nothing
    required_seen: set[tuple[NodePath, int]] = set()
    for path, error in _errors(doc.data):
        if error.validator == "required":
            seen = (path, id(error.schema))
            if seen in required_seen:
                continue
            required_seen.add(seen)
        out.extend((path, diagnostic) for diagnostic in _diagnostics(doc, error, path))
    return out


def check_document(doc: Document) -> list[Diagnostic]:
    """Every schema problem of one document."""
    return [diagnostic for _, diagnostic in check_document_paths(doc)]


__all__ = [
    "RULE_IDS",
    "check_document",
    "check_document_paths",
    "compile_fast",
    "fast_validator",
    "schema_document",
    "schema_text",
    "validator",
]
