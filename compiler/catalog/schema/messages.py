"""jsonschema's errors as diagnostics: each at the offending node, with a stable rule id and a message written
for a person ("unknown field `nickame` in a price", "did you mean `nickname`?"), not jsonschema's repr of the
instance. Cross-field logic is not here but in `rules`.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from functools import cache
from typing import Any

from jsonschema.exceptions import ValidationError

from compiler.catalog.schema.validation import schema_document, schema_errors
from compiler.catalog.source import Document, NodePath
from compiler.errors import Diagnostic, Location
from compiler.stripe.facts import (
    DECIMAL_FIELDS,
    DECIMAL_PLACES,
    METADATA_KEY_LENGTH,
    METADATA_KEYS,
    MONEY_FIELDS,
    RECURRING_FIELDS,
)
from compiler.stripe.fields import RESERVED_METADATA_KEYS, RESERVED_ROOM

#: the schema's patterns of a decimal amount, and of one that must be a whole number (`flat_amount_decimal`)
DECIMAL_PATTERN = rf"^[0-9]+(\.[0-9]{{1,{DECIMAL_PLACES.value}}})?$"
WHOLE_DECIMAL_PATTERN = rf"^[0-9]+(\.0{{1,{DECIMAL_PLACES.value}}})?$"

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
#: every rule id the schema check reports (all errors), with what it checks
RULE_IDS: Mapping[str, str] = {
    UNKNOWN_FIELD: "a field the object does not take (with the closest known name, or why pricebook sets it)",
    REQUIRED: "a field the object needs is missing",
    TYPE: "a value of the wrong type (a quoted number, a mapping where a list goes...)",
    ENUM: "a value outside the allowed ones (with the closest one)",
    PATTERN: "a value of the wrong form: a currency code, a decimal amount, a statement descriptor, a plan id",
    LENGTH: "a string that is empty or longer than Stripe allows",
    RANGE: "a number below or above what Stripe allows",
    SIZE: "a list or mapping with more items than Stripe allows (images, marketing features, metadata keys)",
    RESERVED: "metadata managed_by, pricebook_replaces or pricebook_id, when another schema error keeps the object "
    "from `reserved-metadata-key`",
    NESTED_PRODUCT: "product on a nested price, when another schema error keeps it from `nested-price-product`",
}

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
    """The money-float check (`catalog.money_floats`) reports floats in amount fields already, with a better
    message."""
    path = tuple(error.absolute_path)
    return (
        isinstance(error.instance, float)
        and bool(path)
        and isinstance(path[-1], str)
        and (path[-1] in MONEY_FIELDS or path[-1] in DECIMAL_FIELDS)
    )


#: the schema keywords whose errors `_diagnostics` turns into messages (a test holds the schema to these)
KEYWORDS = frozenset(
    {
        "additionalProperties", "anyOf", "const", "enum", "maxItems", "maxLength", "maxProperties", "maximum",
        "minItems", "minLength", "minimum", "not", "pattern", "propertyNames", "required", "type",
    }
)  # fmt: skip


def _diagnostics(doc: Document, error: ValidationError, path: NodePath) -> Iterator[tuple[NodePath, Diagnostic]]:
    """The diagnostics of one jsonschema error, each with the path of the node it is about (an unknown field's,
    a missing field's, a metadata key's: one below the object jsonschema names)."""
    keyword = str(error.validator)
    value: Any = error.validator_value
    instance: Any = error.instance
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    where = doc.at(path)

    if "propertyNames" in error.relative_schema_path:
        yield from _property_name(doc, path, error)
        return
    if keyword == "additionalProperties":
        known = set(schema.get("properties", {}))
        for key in instance:
            if key in known:
                continue
            hint = _MANAGED_FIELDS.get(key) or _misplaced_hint(key, path)
            if hint is None:
                close = _suggest(key, known)
                hint = f"did you mean `{close}`?" if close else f"known fields: {', '.join(sorted(known))}"
            yield (
                (*path, key),
                Diagnostic(
                    doc.at((*path, key), key=True),
                    UNKNOWN_FIELD,
                    f"unknown field {_name(key)} in {_kind_of(path)}",
                    hint,
                ),
            )
        return
    if keyword == "required":
        # every name the object lacks (check_document_paths passes one error per `required` and object)
        for name in value:
            if isinstance(instance, dict) and name not in instance:
                diagnostic = Diagnostic(where, REQUIRED, f"{_kind_of(path)} needs `{name}`", _required_hint(name, path))
                yield (*path, name), diagnostic
        return
    if keyword == "not":  # the schema's one `not` (out of propertyNames): a nested price names no product
        if isinstance(instance, dict):
            yield (
                (*path, "product"),
                Diagnostic(
                    doc.at((*path, "product"), key=True),
                    NESTED_PRODUCT,
                    "a price nested under a product takes its product from there, so it cannot name `product`",
                    "remove `product`, or move the price to the top-level `prices:` list",
                ),
            )
        # anything but a mapping fails it too, and its type error says what is wrong there
        return
    for diagnostic in _value_diagnostics(doc, error, path):
        yield path, diagnostic


def _value_diagnostics(doc: Document, error: ValidationError, path: NodePath) -> Iterator[Diagnostic]:
    """The diagnostics of an error about the value at `path` itself."""
    keyword = str(error.validator)
    value: Any = error.validator_value
    instance: Any = error.instance
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    where = doc.at(path)
    field = _field(path) if path else "the file"
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
            yield Diagnostic(
                where,
                TYPE,
                f"`{field}` has the wrong shape: {error.message}",
                "see the field's description in `pricebook schema`",
            )
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
            yield Diagnostic(where, LENGTH, message, f"shorten it to {value} characters or fewer")
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
            message = (
                f"metadata has {count} keys, and a catalog entry may have at most {value}: Stripe allows "
                f"{METADATA_KEYS.value}, and {RESERVED_ROOM}"
            )
        elif keyword.startswith("min"):
            message = f"`{field}` must have at least {value} item(s)"
        else:
            message = f"`{field}` has {count} items; at most {value} are allowed"
        if keyword.startswith("min"):
            hint = f"give it at least {value} item(s), or remove `{field}` to leave it unset"
        elif keyword == "maxProperties" and path and path[-1] == "metadata":
            hint = f"keep at most {value} keys of your own (remove {count - value})"
        else:
            hint = f"remove items until {value} are left"
        yield Diagnostic(where, SIZE, message, hint)
        return
    raise ValueError(f"no message for the schema keyword {keyword!r}")  # KEYWORDS and a test keep this unreachable


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
    if len(path) >= 2 and path[-2] == "metadata":
        # Stripe takes metadata[key]="" as "delete this key": it would never be stored, and every plan would
        # propose the same update again
        return "Stripe deletes a metadata key given an empty value, so it would never be stored: remove the key"
    if isinstance(last, int):
        return "Stripe refuses an empty value: remove the item, or give it a value"
    if isinstance(last, str) and last in _required_names():
        return "Stripe refuses an empty value: give it one"
    return "Stripe refuses an empty value: remove the field to leave it unset"


#: what to write for a field an object needs, where the field's name alone does not say it
_REQUIRED_HINTS: Mapping[str, str] = {
    "account": "the Stripe account the objects are in: `account: acct_...` (`pricebook adopt` writes it)",
    "mode": "the mode of the account's objects: `mode: test` or `mode: live`",
    "enabled": "`enabled: true` lets the customer choose the amount",
    "up_to": "each tier ends at `up_to: N` (an integer); the last one is `up_to: inf`",
    "divide_by": "bill per this many units: `divide_by: 1000`",
    "round": "`round: up` or `round: down` (what a quantity that does not divide evenly becomes)",
    "interval": "how often it bills: `interval: month` (day, week, month or year)",
    "currency": "a lowercase three-letter code: `currency: usd`",
    "display_name": "the meter's name in the Dashboard and on invoices: `display_name: API calls`",
    "default_aggregation": "how the meter adds up its events: `default_aggregation: {formula: sum}` (sum, count "
    "or last)",
    "formula": "`formula: sum`, `formula: count` or `formula: last`",
    "type": "`type: by_id`: the payload names the customer by its Stripe id",
    "height": "a package's dimensions take all four: height, length and width (inches), weight (ounces)",
    "length": "a package's dimensions take all four: height, length and width (inches), weight (ounces)",
    "width": "a package's dimensions take all four: height, length and width (inches), weight (ounces)",
    "weight": "a package's dimensions take all four: height, length and width (inches), weight (ounces)",
}


def _required_hint(name: str, path: NodePath) -> str:
    identity = {"lookup_key": "a price", "event_name": "a meter"}
    if name in identity or (name == "id" and path and path[0] in ("products", "plans")):
        return f"`{name}` is the object's identity in the catalog and in Stripe; pricebook finds it by that"
    if name == "product":
        return "name the `id` of a catalog product, or nest the price under the product's `prices:`"
    if name == "name":
        if "marketing_features" in path:
            return "the feature as customers read it: `name: Unlimited seats`"
        return "the product's name as customers see it on invoices and in Checkout: `name: Team plan`"
    if name == "event_payload_key":
        if "customer_mapping" in path:
            return "the payload key that holds the customer's id: `event_payload_key: stripe_customer_id`"
        return "the payload key that holds the usage: `event_payload_key: value`"
    if name == "interval" and "recurring" in path:
        return "how often the price bills, under `recurring:`: `recurring: {interval: month}`"
    if name == "interval" and path and path[0] == "plans":
        return "how often the plan bills, at the plan's top level: `interval: month` (day, week, month or year)"
    return _REQUIRED_HINTS.get(name, f"add `{name}:` to it")


def _is_price(path: NodePath) -> bool:
    """Whether `path` is a price: an item of `prices:`, at the top or under a product."""
    return len(path) >= 2 and isinstance(path[-1], int) and path[-2] == "prices"


def _misplaced_hint(key: object, path: NodePath) -> str | None:
    """For a field that belongs one level in or out: a price's recurring field beside `recurring:` (without
    `recurring:` the price is a one-time price, and a rule says so instead), or a plan's `recurring:` block
    (plans take those fields at the top level)."""
    if not isinstance(key, str):
        return None
    if _is_price(path) and key in RECURRING_FIELDS:
        return f"move `{key}` under `recurring:`, beside `interval` (prices take recurring: {{interval: month, ...}})"
    if len(path) >= 2 and isinstance(path[-1], int) and path[-2] == "plans" and key == "recurring":
        return f"a plan takes {', '.join(RECURRING_FIELDS)} at its top level: move them out of `recurring:`"
    return None


def _type_hint(path: NodePath, instance: object, expected: list[str]) -> str:
    last = path[-1] if path else None
    if isinstance(last, str) and last in DECIMAL_FIELDS and isinstance(instance, int):
        return f'decimal amounts are strings: `{last}: "{instance}"`'
    if "integer" in expected and isinstance(instance, str) and instance.strip().isdigit():
        if len(instance) > 1 and instance.startswith("0"):  # `08` is not a YAML 1.1 integer: a string
            return f"write {instance.lstrip('0') or '0'} without the leading zero"
        return "remove the quotes"
    if "integer" in expected and isinstance(instance, str):
        written = _as_integer(instance)
        if written is not None:  # `1e3`: YAML 1.1 reads an exponent without a point as a string
            return f"write the number in digits: `{last}: {written}`"
    if "integer" in expected and isinstance(instance, float):
        return "write a whole number"
    if "array" in expected and isinstance(instance, dict):
        return "start each item with `- `"
    if "string" in expected and isinstance(instance, int | bool):
        return f'quote it: "{_show(instance)}"'
    if instance is None:
        return "give the field a value, or remove it"
    return _TYPE_HINTS.get(expected[0], "see the field's description in `pricebook schema`")


#: what to write for a value of the wrong type, by the type the field takes (when nothing more exact applies)
_TYPE_HINTS: Mapping[str, str] = {
    "integer": "write a whole number, without quotes",
    "number": "write a number, without quotes",
    "boolean": "write true or false, without quotes",
    "string": "write the text on the same line as the field (quote it if it looks like a number or a boolean)",
    "object": "write a mapping: `field: value` lines indented under it, or `{field: value, ...}`",
    "array": "write a list: one `- ` item a line, or `[a, b]`",
}


def _as_integer(text: str) -> str | None:
    """`1e3` as `1000`: a string that reads as a whole number written another way (an exponent, `_` between
    digits), as digits; None for anything else."""
    try:
        number = Decimal(text.strip().replace("_", ""))
    except ArithmeticError:
        return None
    if not number.is_finite() or number != number.to_integral_value() or abs(number) >= 10**30:
        return None
    return str(int(number))


_PATTERN_MESSAGES = {
    r"^[a-z]{3}$": ("is not a lowercase three-letter currency code", "currency codes are lowercase, e.g. `usd`"),
    DECIMAL_PATTERN: (
        f"is not a decimal amount with at most {DECIMAL_PLACES.value} decimal places",
        'write a plain decimal string such as "0.5" (no sign, exponent or thousands separator)',
    ),
    WHOLE_DECIMAL_PATTERN: (
        "is not a whole number of minor units",
        "flat_amount_decimal must represent an integer amount; use unit_amount_decimal for fractions",
    ),
    r"^acct_[A-Za-z0-9]+$": (
        "is not a Stripe account id",
        "write the id as Stripe shows it, `acct_` and letters and digits (`pricebook adopt` writes it)",
    ),
    r"^(?!price_)": (
        "starts with `price_`",
        "pricebook tells its plans from prices partly by that prefix (Stripe's price ids have it): choose another id",
    ),
}


def _pattern(where: Location, field: str, instance: object, pattern: str) -> Diagnostic:
    message, hint = _PATTERN_MESSAGES.get(
        pattern, (f"does not match the pattern {pattern}", "see the field's description in `pricebook schema`")
    )
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


def _property_name(doc: Document, path: NodePath, error: ValidationError) -> Iterator[tuple[NodePath, Diagnostic]]:
    key = error.instance
    node = (*path, key) if isinstance(key, str) else path
    for diagnostic in _key_diagnostics(doc, path, error):
        yield node, diagnostic


def _key_diagnostics(doc: Document, path: NodePath, error: ValidationError) -> Iterator[Diagnostic]:
    key = error.instance
    where = doc.at((*path, key), key=True) if isinstance(key, str) else doc.at(path)
    in_metadata = bool(path) and path[-1] == "metadata"
    if in_metadata and error.validator == "not":
        yield Diagnostic(
            where,
            RESERVED,
            f"metadata key {_show(key)} is reserved: pricebook writes it itself "
            f"({', '.join(f'`{k}`' for k in RESERVED_METADATA_KEYS)} are pricebook's)",
            "use another key name",
        )
    elif in_metadata and error.validator in ("maxLength", "minLength"):
        yield Diagnostic(
            where,
            LENGTH,
            f"metadata key {_show(key)} must be 1 to {METADATA_KEY_LENGTH.value} characters long",
            "choose a shorter key" if isinstance(key, str) and key else "give the key a name",
        )
    elif in_metadata:
        yield Diagnostic(
            where,
            PATTERN,
            f"metadata key {_show(key)} must not contain `[` or `]`",
            "Stripe reads brackets in a key as nesting: use `_` or `.` instead",
        )
    else:
        hint = f"write `{key.lower()}`" if isinstance(key, str) and key.isprintable() else None
        yield Diagnostic(where, PATTERN, f"currency option {_show(key)} is not a lowercase currency code", hint)


def check_document_paths(doc: Document) -> Iterator[tuple[NodePath, Diagnostic]]:
    """Every schema problem of one document, with the path of the node it is about, found as they are asked
    for (a caller that has seen enough stops the search)."""
    # jsonschema may report each missing name of one `required` as an error of its own, saying which only in
    # its message text; the first error of a `required` reports every missing name and the others add nothing
    required_seen: set[tuple[NodePath, int]] = set()
    for path, error in schema_errors(doc.data):
        if error.validator == "required":
            seen = (path, id(error.schema))
            if seen in required_seen:
                continue
            required_seen.add(seen)
        yield from _diagnostics(doc, error, path)


def check_document(doc: Document) -> list[Diagnostic]:
    """Every schema problem of one document."""
    return [diagnostic for _, diagnostic in check_document_paths(doc)]
