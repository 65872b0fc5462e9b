"""Read catalog files into `Document`s: plain data plus the place of every node.

PyYAML's constructors lose positions, keep the last of two duplicate keys and expand aliases without limit,
so the loader reads libyaml's event stream (the C parser when available) and builds the plain values itself,
in one pass without recursion. Everything that can go wrong with a file becomes a `Diagnostic`: invalid YAML,
duplicate keys, unsafe tags, alias bombs and self-referencing aliases, legacy octal integers, floats where an
amount goes. Nothing raises for bad input.

Templates (`*.yaml.j2`) are rendered in Jinja2's sandbox with undefined variables as errors before parsing.
Positions inside a rendered template refer to the rendered text (which matches the template line for line as
long as the template does not add or remove lines before the place).
"""

from __future__ import annotations

import gc
import json
import math
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import jinja2
import jinja2.exceptions
import jinja2.sandbox
import yaml

from compiler.catalog.source import Document, NodePath
from compiler.errors import Diagnostic, Location, Severity
from compiler.stripe.currencies import SUPPORTED, minor_digits
from compiler.stripe.facts import AMOUNT_PAIRS, DECIMAL_FIELDS, MONEY_FIELDS

_BaseLoader: type[yaml.SafeLoader] | type[yaml.CSafeLoader]
try:
    _BaseLoader = yaml.CSafeLoader
except AttributeError:  # PyYAML built without libyaml: same behaviour, slower
    _BaseLoader = yaml.SafeLoader

_YAML = "tag:yaml.org,2002:"
STR, INT, FLOAT, BOOL, NULL = (_YAML + t for t in ("str", "int", "float", "bool", "null"))
MAP, SEQ, MERGE = _YAML + "map", _YAML + "seq", _YAML + "merge"
#: the only tags a catalog may use: JSON's types, plus `<<` merge keys
SAFE_TAGS = frozenset({STR, INT, FLOAT, BOOL, NULL, MAP, SEQ, MERGE})
_NON_SPECIFIC = "!"  # `! value` forces a string

#: YAML 1.1 implicit types as PyYAML's safe loader resolves them (its public `resolve`); what it would read as
#: a timestamp (`2024-01-01`) or `=` stays a string
_implicit_tag: Callable[[type[yaml.Node], str, tuple[bool, bool]], str] = yaml.resolver.Resolver().resolve

_AMOUNT_FIELDS = MONEY_FIELDS | DECIMAL_FIELDS

#: how deep mappings and lists may nest; catalogs need about 8
MAX_DEPTH = 64
_TOO_DEEP_MESSAGE = f"the document nests deeper than {MAX_DEPTH} levels"
_TOO_DEEP_HINT = "a catalog needs only a few levels of nesting: look for runaway brackets or indentation"
#: nodes that aliases may add, on top of ALIAS_BUDGET_PER_NODE per node written out (an alias bomb stops here)
ALIAS_BASE_BUDGET = 10_000
ALIAS_BUDGET_PER_NODE = 10

#: every rule id the loader reports (severity: all errors except `empty-file` and `no-files`, warnings)
RULE_IDS: Mapping[str, str] = {
    "path-not-found": "a path given on the command line does not exist",
    "no-files": "a directory holds no *.yaml, *.yml or *.yaml.j2 file (warning)",
    "io-error": "a file cannot be read",
    "encoding": "a file is not UTF-8",
    "template-syntax": "a *.yaml.j2 template does not parse",
    "template-undefined": "a template uses a variable that --var/--vars do not define",
    "template-sandbox": "a template does something Jinja2's sandbox forbids",
    "template-error": "a template fails while rendering",
    "var-option": "a --var option is not NAME=VALUE",
    "vars-file": "a --vars file is unreadable or not a mapping of names",
    "yaml-syntax": "invalid YAML (at the parser's place), an undefined alias, or more than one document",
    "yaml-root": "the file is not a mapping",
    "empty-file": "the file holds nothing (warning)",
    "yaml-duplicate-key": "a mapping repeats a key",
    "yaml-key": "a mapping key is a list, a mapping or an alias",
    "yaml-tag": "a tag beyond the plain JSON types (!!python/..., !!binary, !!set, !custom...)",
    "yaml-value": "a tagged scalar is not a valid value of its tag",
    "yaml-alias-limit": "aliases expand to too many nodes (an alias bomb)",
    "yaml-recursive-alias": "an alias used inside its own anchor",
    "yaml-too-deep": "nesting deeper than MAX_DEPTH",
    "yaml-merge": "a `<<` merge of something that is not a mapping",
    "yaml-octal": "an integer with a leading zero (YAML 1.1 would read it as octal)",
    "money-float": "a float where an amount goes (amounts are integers, decimals are strings)",
}

CATALOG_SUFFIXES = (".yaml", ".yml")
TEMPLATE_SUFFIXES = (".yaml.j2", ".yml.j2")

_Place = tuple[int, int]  # 1-based (line, col), turned into a Location only when asked for


class Positions(Mapping[NodePath, Location]):
    """`NodePath -> Location` for one file, keeping libyaml's marks (0-based line and column) and making a
    `Location` only when asked: a catalog of 10,000 prices has half a million nodes and few diagnostics."""

    __slots__ = ("_file", "_places")

    def __init__(self, file: str, marks: dict[NodePath, Any]) -> None:
        self._file = file
        self._places = marks

    def __getitem__(self, path: NodePath) -> Location:
        mark = self._places[path]
        return Location(self._file, mark.line + 1, mark.column + 1)

    def __contains__(self, path: object) -> bool:
        return path in self._places

    def __iter__(self) -> Iterator[NodePath]:
        return iter(self._places)

    def __len__(self) -> int:
        return len(self._places)


class _Abort(Exception):
    """Stops reading a document after a fatal diagnostic (alias bomb, recursive alias, too deep)."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def _place(mark: Any) -> _Place:
    return (mark.line + 1, mark.column + 1)


class _Frame:
    """A mapping or list being read."""

    __slots__ = (
        "anchor",
        "discard",
        "is_key",
        "is_map",
        "key",
        "key_mark",
        "keys",
        "merges",
        "path",
        "skip",
        "value",
    )

    def __init__(self, value: dict[str, Any] | list[Any], path: NodePath, anchor: str | None) -> None:
        self.value = value
        self.path = path
        self.anchor = anchor
        self.is_map = type(value) is dict
        self.discard = False  # a tag error, or a list or mapping used as a key: read to the end, give None
        self.is_key = False  # a list or mapping used as a key (rejected)
        self.key: str | None = None  # mappings: the key whose value comes next
        self.key_mark: Any = None
        self.keys: dict[str, int] = {}  # mappings: key -> line it was written at (duplicates)
        self.skip = False  # mappings: the next value belongs to a rejected key
        self.merges: list[tuple[Any, NodePath, Any]] = []  # `<<` values, the path they were read at, a mark


#: where a value that must be dropped (of a duplicate or rejected key) is read: no real path starts so
_JUNK = "\x00dropped"

#: first characters of plain scalars that YAML 1.1 may read as something other than a string (booleans y/n/
#: true/false/on/off, null ~, numbers, `<<`); the rest skip the resolver. PyYAML has no public table of them:
#: tests/unit/test_loader.py checks this set against what its safe_load reads
_NOT_ONLY_STR = frozenset("yYnNtTfFoO~-+.0123456789<")


class _Builder:
    """Builds plain values from libyaml's event stream, recording the mark of every node and key on the way.

    Marks are libyaml's own objects (line and column, 0-based); `Positions` turns them into `Location`s
    only when somebody asks, because a large catalog has half a million nodes and few diagnostics.
    """

    def __init__(self, file: str) -> None:
        self.file = file
        self.marks: dict[NodePath, Any] = {}
        self.key_marks: dict[NodePath, Any] = {}
        self.diagnostics: list[Diagnostic] = []
        self.anchors: dict[str, tuple[Any, NodePath]] = {}
        self.open_anchors: set[str] = set()
        self.alias_nodes = 0  # nodes that aliases added
        self.nodes = 0  # nodes written out in the file
        self.first_mark: Any = None
        #: money-float findings whose hint waits for the object's `currency` (it may come after the amount):
        #: (index in `diagnostics`, the object, its path, the key, the float)
        self.money_floats: list[tuple[int, dict[Any, Any], NodePath, str, float]] = []

    def location(self, mark: Any) -> Location:
        return Location(self.file, mark.line + 1, mark.column + 1)

    def error(self, mark: Any, rule: str, message: str, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(self.location(mark), rule, message, hint))

    def settle_money_floats(self) -> None:
        """Gives each money-float finding the hint for its object's currency, now that the object is complete."""
        for index, container, path, key, value in self.money_floats:
            currency = _currency_of(container, path)
            if currency is not None:
                self.diagnostics[index] = _money_float(self.diagnostics[index].location, key, value, currency)

    def abort(self, mark: Any, rule: str, message: str, hint: str | None = None) -> _Abort:
        return _Abort(Diagnostic(self.location(mark), rule, message, hint))

    def build(self, parser: Any) -> Any:
        """Reads one document's events (after DocumentStart) and returns its root value.

        The loop is written out flat (no call per node on the common paths) because it runs once per node.
        """
        get_event = parser.get_event
        marks = self.marks
        key_marks = self.key_marks
        stack: list[_Frame] = []
        scalar_event, alias_event = yaml.ScalarEvent, yaml.AliasEvent
        map_start, seq_start = yaml.MappingStartEvent, yaml.SequenceStartEvent
        map_end, seq_end = yaml.MappingEndEvent, yaml.SequenceEndEvent
        not_only_str = _NOT_ONLY_STR
        amount_fields = _AMOUNT_FIELDS
        frame: _Frame | None = None
        value: Any
        nodes = 0
        while True:
            event = get_event()
            cls = type(event)
            if cls is map_end or cls is seq_end:
                assert frame is not None
                done = frame
                stack.pop()
                value = self.finish(done)
                if done.anchor is not None:
                    self.anchors[done.anchor] = (value, done.path)
                    self.open_anchors.discard(done.anchor)
                if not stack:
                    self.nodes += nodes
                    return value
                frame = stack[-1]
                if done.is_key:
                    continue  # a list or mapping used as a key: rejected in `key`, its value comes next
            else:
                mark = event.start_mark
                # In a mapping, every other event is a key.
                if frame is not None and frame.is_map and frame.key is None:
                    if cls is scalar_event and event.tag is None:
                        text = event.value
                        line = frame.keys.get(text)
                        frame.key = text
                        frame.key_mark = mark
                        if line is None:
                            if text != "<<" or not event.implicit[0]:
                                frame.keys[text] = mark.line + 1
                            continue
                    self.key(frame, event, cls, mark)
                    if cls is map_start or cls is seq_start:
                        child = self.open(event, cls, mark, (*frame.path, _JUNK))
                        child.discard = True
                        child.is_key = True
                        stack.append(child)
                        frame = child
                    continue
                if frame is None:
                    path: NodePath = ()
                    self.first_mark = mark
                elif frame.is_map:
                    path = (*frame.path, _JUNK if frame.skip else frame.key)  # type: ignore[arg-type]
                else:
                    path = (*frame.path, len(frame.value))
                marks[path] = mark
                if cls is scalar_event:
                    nodes += 1
                    tag = event.tag
                    text = event.value
                    if tag is None and (not event.implicit[0] or (text and text[0] not in not_only_str)):
                        value = text
                    else:
                        value = self.scalar(text, tag, event.implicit[0], mark)
                    if event.anchor is not None:
                        self.anchors[event.anchor] = (value, path)
                elif cls is map_start or cls is seq_start:
                    nodes += 1
                    if len(stack) >= MAX_DEPTH:
                        raise self.abort(
                            mark,
                            "yaml-too-deep",
                            _TOO_DEEP_MESSAGE,
                            _TOO_DEEP_HINT,
                        )
                    frame = self.open(event, cls, mark, path)
                    stack.append(frame)
                    continue
                elif cls is alias_event:
                    self.nodes += nodes
                    nodes = 0
                    value = self.alias(event, mark, path)
                else:  # pragma: no cover - libyaml sends no other events inside a document
                    continue
                if frame is None:
                    return value
            # `value` is complete: put it into its list or mapping
            container = frame.value
            if isinstance(container, list):
                container.append(value)
                continue
            key = frame.key
            assert key is not None
            frame.key = None
            if frame.skip:
                frame.skip = False
                continue
            if key == "<<" and "<<" not in frame.keys:
                frame.merges.append((value, (*frame.path, "<<"), frame.key_mark))
                continue
            child_path = (*frame.path, key)
            key_marks[child_path] = frame.key_mark
            container[key] = value
            if type(value) is float and key in amount_fields and frame.path[-1:] != ("metadata",):
                self.money_floats.append((len(self.diagnostics), container, frame.path, str(key), value))
                self.diagnostics.append(_money_float(self.location(marks[child_path]), str(key), value))

    def scalar(self, text: str, tag: str | None, plain: bool, mark: Any) -> Any:
        if tag is None:
            tag = _resolve(text) if plain else STR
        if tag in (STR, _NON_SPECIFIC):
            return text
        try:
            if tag == INT:
                if _is_legacy_octal(text):
                    self.error(
                        mark,
                        "yaml-octal",
                        f"{text} has a leading zero, which YAML 1.1 reads as the octal number {_parse_int(text)}",
                        f"write {text.lstrip('+-0') or '0'} without the leading zero, or quote it",
                    )
                    return None
                return _parse_int(text)
            if tag == FLOAT:
                return _parse_float(text)
            if tag == BOOL:
                return text.lower() in ("yes", "true", "on", "y")
            if tag == NULL:
                return None
            if tag == MERGE:
                return text
        except (ValueError, IndexError):
            self.error(mark, "yaml-value", f"{text!r} is not a valid {tag.rsplit(':', 1)[-1]}")
            return None
        self.error(
            mark,
            "yaml-tag",
            f"the tag {_show_tag(tag)} is not allowed in a catalog",
            "catalog files hold plain strings, numbers, booleans, lists and mappings: remove the tag",
        )
        return None

    def key(self, frame: _Frame, event: Any, cls: type, mark: Any) -> None:
        """The uncommon keys: a duplicate, a tagged key, a list, mapping or alias as a key."""
        frame.key_mark = mark
        if cls is not yaml.ScalarEvent:
            self.error(
                mark,
                "yaml-key",
                "a mapping key must be a plain name, not a list, a mapping or an alias",
                "field names, currency codes and metadata keys are strings",
            )
            frame.skip = True
            frame.key = _JUNK
            return
        text: str = event.value  # keys are names: `2024:` or `no:` mean the text as written
        frame.key = text
        line = frame.keys.get(text)
        if line is not None:
            self.error(
                mark,
                "yaml-duplicate-key",
                f"duplicate key {text!r} (first defined at line {line})",
                "a YAML parser would silently keep only the last value: remove one of them",
            )
            frame.skip = True
            return
        frame.keys[text] = mark.line + 1

    def open(self, event: Any, cls: type, mark: Any, path: NodePath) -> _Frame:
        is_map = cls is yaml.MappingStartEvent
        frame = _Frame({} if is_map else [], path, event.anchor)
        tag = event.tag
        if tag is not None and tag != _NON_SPECIFIC and tag != (MAP if is_map else SEQ):
            self.error(
                mark,
                "yaml-tag",
                f"the tag {_show_tag(tag)} is not allowed in a catalog",
                "catalog files hold plain strings, numbers, booleans, lists and mappings: remove the tag",
            )
            frame.discard = True
        if event.anchor is not None:
            self.open_anchors.add(event.anchor)
        return frame

    def alias(self, event: Any, mark: Any, path: NodePath) -> Any:
        name = event.anchor
        if name in self.open_anchors:
            raise self.abort(
                mark,
                "yaml-recursive-alias",
                f"the alias *{name} is used inside its own anchor, which would make an endless structure",
                "an alias may only refer to a node that is complete before it",
            )
        if name not in self.anchors:
            raise self.abort(
                mark,
                "yaml-syntax",
                f"invalid YAML: found undefined alias *{name}",
                "define the anchor (&name) before using it",
            )
        value, base = self.anchors[name]
        relative = list(_subpaths(value))
        self.alias_nodes += len(relative)
        if self.alias_nodes > ALIAS_BASE_BUDGET + ALIAS_BUDGET_PER_NODE * self.nodes:
            raise self.abort(
                mark,
                "yaml-alias-limit",
                f"aliases expand to more than {self.alias_nodes} nodes (an alias bomb?)",
                "write the repeated parts out, or use fewer nested aliases",
            )
        self.copy_marks(base, path, relative)
        return _copy(value)

    def copy_marks(self, source: NodePath, target: NodePath, relative: Iterable[NodePath]) -> None:
        for rel in relative:
            if not rel:
                continue
            mark = self.marks.get((*source, *rel))
            if mark is not None:
                self.marks[(*target, *rel)] = mark
            key_mark = self.key_marks.get((*source, *rel))
            if key_mark is not None:
                self.key_marks[(*target, *rel)] = key_mark

    def finish(self, frame: _Frame) -> Any:
        if frame.discard:
            return None
        if frame.merges:
            self.merge(frame)
        return frame.value

    def merge(self, frame: _Frame) -> None:
        """`<<: *base` (or a list of them): keys written in the mapping win, then earlier merges."""
        result = frame.value
        assert isinstance(result, dict)
        for value, base, mark in frame.merges:
            sources = list(enumerate(value)) if isinstance(value, list) else [(None, value)]
            for index, source in sources:
                if not isinstance(source, dict):
                    self.error(
                        mark,
                        "yaml-merge",
                        "`<<` merges a mapping (or a list of mappings) into this one",
                        "write `<<: *anchor` where the anchor names a mapping",
                    )
                    continue
                prefix = base if index is None else (*base, index)
                for key, item in source.items():
                    if key in result:
                        continue
                    result[key] = item
                    self.copy_marks((*prefix, key), (*frame.path, key), _subpaths(item))
                    key_mark = self.key_marks.get((*prefix, key))
                    if key_mark is not None:
                        self.key_marks[(*frame.path, key)] = key_mark
                    value_mark = self.marks.get((*prefix, key))
                    if value_mark is not None:
                        self.marks[(*frame.path, key)] = value_mark


def _subpaths(value: Any) -> Iterator[NodePath]:
    """The relative path of every node of a value, the value itself first (iteratively)."""
    stack: list[tuple[NodePath, Any]] = [((), value)]
    while stack:
        path, node = stack.pop()
        yield path
        if type(node) is dict:
            stack.extend(((*path, k), v) for k, v in node.items())
        elif type(node) is list:
            stack.extend(((*path, i), v) for i, v in enumerate(node))


def _copy(value: Any) -> Any:
    """A fresh copy of an aliased value, so that no two places in a catalog share one list or mapping."""
    if type(value) is dict:
        return {k: _copy(v) for k, v in value.items()}
    if type(value) is list:
        return [_copy(v) for v in value]
    return value


_RESOLVED: dict[str, str] = {}


def _resolve(text: str) -> str:
    """The implicit tag of a plain scalar (cached: catalogs repeat `usd`, `month`, `inf`, small numbers)."""
    tag = _RESOLVED.get(text)
    if tag is not None:
        return tag
    tag = _implicit_tag(yaml.ScalarNode, text, (True, False))
    if tag not in SAFE_TAGS:
        tag = STR
    if len(_RESOLVED) < 100_000:
        _RESOLVED[text] = tag
    return tag


def _show_tag(tag: str) -> str:
    return "!!" + tag[len(_YAML) :] if tag.startswith(_YAML) else tag


def _is_legacy_octal(text: str) -> bool:
    digits = text.lstrip("+-").replace("_", "")
    return len(digits) > 1 and digits[0] == "0" and digits[1].isdigit()


def _parse_int(text: str) -> int:
    """YAML 1.1 integers as PyYAML reads them: signs, `_` separators, 0b/0x/0o/leading-0 octal, base 60."""
    value = text.replace("_", "")
    sign = 1
    if value[:1] in ("+", "-"):
        sign = -1 if value[0] == "-" else 1
        value = value[1:]
    if value == "0":
        return 0
    if value.startswith("0b"):
        return sign * int(value[2:], 2)
    if value.startswith("0x"):
        return sign * int(value[2:], 16)
    if value.startswith("0o"):
        return sign * int(value[2:], 8)
    if value.startswith("0"):
        return sign * int(value, 8)
    if ":" in value:
        total = 0
        for part in value.split(":"):
            total = total * 60 + int(part)
        return sign * total
    return sign * int(value)


def _parse_float(text: str) -> float:
    value = text.replace("_", "").lower()
    if value in (".inf", "+.inf"):
        return math.inf
    if value == "-.inf":
        return -math.inf
    if value == ".nan":
        return math.nan
    if ":" in value:
        sign = -1.0 if value.startswith("-") else 1.0
        total = 0.0
        for part in value.lstrip("+-").split(":"):
            total = total * 60 + float(part)
        return sign * total
    return float(value)


def _currency_of(container: Mapping[Any, Any], path: NodePath) -> str | None:
    """The currency of the object holding an amount, when the object itself says it: its `currency`, or the key
    of a `currency_options` entry. None when it is only known further out (a tier, a custom amount)."""
    currency = container.get("currency")
    if len(path) >= 2 and path[-2] == "currency_options":
        currency = path[-1]
    if isinstance(currency, str) and currency.lower() in SUPPORTED:
        return currency.lower()
    return None


def _money_float(location: Location, key: str, value: float, currency: str | None = None) -> Diagnostic:
    """A float where an amount goes is an error, never rounded (Stripe refuses one: "Invalid integer"). The hint
    converts the amount to the minor unit of `currency` when the object names it, and explains the minor unit
    otherwise."""
    shown = repr(value)
    if key in DECIMAL_FIELDS:
        return Diagnostic(
            location,
            "money-float",
            f"`{key}` must be a decimal string, not the number {shown}",
            f'quote it so that no digit is lost: `{key}: "{shown}"`',
        )
    twin = dict(AMOUNT_PAIRS).get(key)  # custom_unit_amount's bounds have no decimal form
    decimal = f', or `{twin}: "{shown}"` for a fraction of the minor unit' if twin else ""
    if not math.isfinite(value):
        hint = "write a whole number of the currency's minor unit (9.99 USD is 999, 500 JPY is 500)"
    elif currency is None:
        minor = _in_minor_units(value, 2)
        written = f"`{key}: {minor}` if it is {shown} in a 2-decimal currency" if minor else f"`{key}: <integer>`"
        hint = f"amounts are in the currency's minor unit (9.99 USD is 999, 500 JPY is 500): {written}{decimal}"
    else:
        digits = minor_digits(currency)
        code = currency.upper()
        minor = _in_minor_units(value, digits)
        unit = f"{code} has no minor unit" if digits == 0 else f"{code} has {digits} decimal digits"
        if minor:
            hint = f"{unit}: write `{key}: {minor}` for {shown} {code}{decimal}"
        else:
            hint = f"{unit}, so {shown} {code} is not a whole amount: write `{key}: <integer>`{decimal}"
    return Diagnostic(
        location, "money-float", f"`{key}` is {shown}, but amounts are integers in the currency's minor unit", hint
    )


def _in_minor_units(value: float, digits: int) -> str | None:
    """`value` major units as an integer count of minor units, as text; None when it is not a whole count."""
    if not math.isfinite(value):
        return None
    scaled = Decimal(repr(value)).scaleb(digits)
    if scaled != scaled.to_integral_value():
        return None
    return str(int(scaled))


#: libyaml (PyYAML 6.0.3 and later) stops at its own nesting limit while scanning ahead, before the builder's
#: MAX_DEPTH check sees the events; its error names no type of its own, so its wording is what tells it apart
_LIBYAML_TOO_DEEP = "maximum nesting depth"


def _syntax_error(error: yaml.YAMLError, file: str, text: str) -> Diagnostic:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    context = getattr(error, "context", None)
    location = Location(file, *_place(mark)) if mark is not None else Location(file, 1, 1)
    if _LIBYAML_TOO_DEEP in problem:
        return Diagnostic(location, "yaml-too-deep", _TOO_DEEP_MESSAGE, _TOO_DEEP_HINT)
    message = f"invalid YAML: {problem}"
    if context:
        message += f" ({context})"
    hint = _syntax_hint(problem)
    if mark is not None and _char_at(text, mark.line, mark.column) == "\t":
        hint = "indent with spaces, not tabs"
    return Diagnostic(location, "yaml-syntax", message, hint)


def _char_at(text: str, line: int, column: int) -> str:
    lines = text.split("\n", line + 1)
    if line < len(lines) and column < len(lines[line]):
        return lines[line][column]
    return ""


def _syntax_hint(problem: str) -> str | None:
    if "tab" in problem:
        return "indent with spaces, not tabs"
    if "mapping values are not allowed" in problem:
        return "quote a value that contains ': ', or check the indentation"
    if "found character" in problem or "found unexpected" in problem:
        return "quote values that start with a special character"
    if "expected a single document" in problem:
        return "a catalog file holds one document: remove the extra `---`"
    return "check the indentation and quoting at this place"


def _read(text: str, file: str) -> tuple[Any, _Builder, bool]:
    """(root value, builder, whether the stream had a document) or raises YAMLError / _Abort."""
    builder = _Builder(file)
    parser: Any = _BaseLoader(text)
    try:
        parser.get_event()  # StreamStart
        event = parser.get_event()
        if type(event) is yaml.StreamEndEvent:
            return None, builder, False
        root = builder.build(parser)
        builder.settle_money_floats()
        event = parser.get_event()
        while type(event) is yaml.DocumentEndEvent:
            event = parser.get_event()
        if type(event) is not yaml.StreamEndEvent:
            raise _Abort(
                Diagnostic(
                    Location(file, *_place(event.start_mark)),
                    "yaml-syntax",
                    "invalid YAML: expected a single document in the stream, but found another document",
                    _syntax_hint("expected a single document"),
                )
            )
        return root, builder, True
    finally:
        parser.dispose()


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pauses the cyclic garbage collector: building half a million acyclic containers otherwise triggers
    collection after collection over everything built so far (a third of the loading time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_text(text: str, file: str) -> tuple[Document | None, list[Diagnostic]]:
    """Parse one catalog file's text. The Document is None when the file cannot be read as a catalog at all."""
    try:
        with gc_paused():
            root, builder, has_document = _read(text, file)
    except yaml.YAMLError as error:
        return None, [_syntax_error(error, file, text)]
    except _Abort as abort:
        return None, [abort.diagnostic]
    if not has_document or (root is None and not builder.diagnostics and len(builder.marks) <= 1):
        empty = Diagnostic(
            Location(file, 1, 1),
            "empty-file",
            "the file holds no catalog objects",
            "add `products:`, `prices:`, `plans:` or `meters:`, or delete the file",
            Severity.WARNING,
        )
        return Document(file, {}, {(): Location(file, 1, 1)}), [empty]
    if type(root) is not dict:
        first = builder.location(builder.first_mark) if builder.first_mark is not None else Location(file, 1, 1)
        kind = "a list" if type(root) is list else "a single value"
        problems = [d for d in builder.diagnostics if d.rule == "yaml-tag"]
        return None, problems or [
            Diagnostic(
                first,
                "yaml-root",
                f"a catalog file must be a mapping, but this one is {kind}",
                "start the file with `products:`, `prices:`, `plans:` or `meters:`",
            )
        ]
    doc = Document(file, root, Positions(file, builder.marks), Positions(file, builder.key_marks))
    return doc, builder.diagnostics


# --------------------------------------------------------------------------------------------------- files


def display_path(path: Path) -> str:
    """The path as the user should see it: relative to the current directory when below it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def is_template(path: Path) -> bool:
    return path.name.endswith(TEMPLATE_SUFFIXES)


def is_catalog_file(path: Path) -> bool:
    return path.name.endswith(CATALOG_SUFFIXES) or is_template(path)


def find_files(paths: Sequence[str]) -> tuple[list[Path], list[Diagnostic]]:
    """Every catalog file below `paths`, each once, in a stable order (directories sorted)."""
    found: list[Path] = []
    diagnostics: list[Diagnostic] = []
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            candidates = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and is_catalog_file(p)
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not candidates:
                diagnostics.append(
                    Diagnostic(
                        Location(display_path(path)),
                        "no-files",
                        "no *.yaml, *.yml or *.yaml.j2 files here",
                        None,
                        Severity.WARNING,
                    )
                )
        elif path.is_file():
            candidates = [path]
        else:
            diagnostics.append(
                Diagnostic(
                    Location(raw),
                    "path-not-found",
                    "no such file or directory",
                    "pass a catalog directory (default plans/) or catalog files",
                )
            )
            continue
        for candidate in candidates:
            resolved = candidate.resolve()
            if resolved not in seen:
                seen.add(resolved)
                found.append(candidate)
    return found, diagnostics


def decode(raw: bytes, file: str) -> tuple[str | None, list[Diagnostic]]:
    """UTF-8 (an optional BOM is dropped); anything else is a diagnostic at the first bad byte."""
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError as error:
        good = raw[: error.start]
        line = good.count(b"\n") + 1
        col = len(good[good.rfind(b"\n") + 1 :].decode("utf-8", errors="replace")) + 1
        return None, [
            Diagnostic(
                Location(file, line, col),
                "encoding",
                f"the file is not valid UTF-8 (byte 0x{raw[error.start]:02x})",
                "save the file as UTF-8",
            )
        ]


_TEMPLATE_NAME = "<pricebook-template>"


def _template_line(error: BaseException) -> int:
    """The template line an error was raised at: Jinja2 rewrites tracebacks so template frames show it."""
    line = 0
    for frame in traceback.extract_tb(error.__traceback__):
        if frame.filename == _TEMPLATE_NAME and frame.lineno:
            line = frame.lineno
    return line


def _environment() -> jinja2.sandbox.SandboxedEnvironment:
    return jinja2.sandbox.SandboxedEnvironment(
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False
    )


def render_template(source: str, file: str, variables: Mapping[str, object]) -> tuple[str | None, list[Diagnostic]]:
    """Render a `*.yaml.j2` file in the sandbox; every failure is a diagnostic at the template's line."""
    env = _environment()
    try:
        code = env.compile(source, filename=_TEMPLATE_NAME)
    except jinja2.TemplateSyntaxError as error:
        return None, [
            Diagnostic(
                Location(file, error.lineno or 1, 1),
                "template-syntax",
                f"template syntax error: {error.message}",
                "see https://jinja.palletsprojects.com/templates/",
            )
        ]
    template = env.template_class.from_code(env, code, env.make_globals(None), None)
    try:
        return template.render(dict(variables)), []
    except jinja2.UndefinedError as error:
        return None, [
            Diagnostic(
                Location(file, _template_line(error) or 1, 1),
                "template-undefined",
                f"template variable error: {error.message}",
                "pass it with --var NAME=VALUE or in a --vars file",
            )
        ]
    except jinja2.exceptions.SecurityError as error:
        return None, [
            Diagnostic(
                Location(file, _template_line(error) or 1, 1),
                "template-sandbox",
                f"the template did something the sandbox forbids: {error}",
                "templates may only use variables, loops, conditions and filters",
            )
        ]
    except Exception as error:  # a template can raise anything (1/0, a failing filter): report, never crash
        return None, [
            Diagnostic(
                Location(file, _template_line(error) or 1, 1),
                "template-error",
                f"the template failed: {type(error).__name__}: {error}",
            )
        ]


def load_file(path: Path, variables: Mapping[str, object]) -> tuple[Document | None, list[Diagnostic]]:
    file = display_path(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        return None, [Diagnostic(Location(file), "io-error", f"cannot read the file: {error.strerror}")]
    text, problems = decode(raw, file)
    if text is None:
        return None, problems
    if is_template(path):
        text, problems = render_template(text, file, variables)
        if text is None:
            return None, problems
    return load_text(text, file)


def load_paths(
    paths: Sequence[str], variables: Mapping[str, object] | None = None
) -> tuple[list[Document], list[Diagnostic]]:
    """Every catalog file below `paths` (default `plans/` is the caller's choice) as Documents."""
    files, diagnostics = find_files(paths)
    documents, problems = load_files(files, variables or {})
    return documents, [*diagnostics, *problems]


def load_files(files: Sequence[Path], variables: Mapping[str, object]) -> tuple[list[Document], list[Diagnostic]]:
    documents: list[Document] = []
    diagnostics: list[Diagnostic] = []
    for path in files:
        doc, problems = load_file(path, variables)
        diagnostics.extend(problems)
        if doc is not None:
            documents.append(doc)
    return documents, diagnostics


# --------------------------------------------------------------------------------------------------- vars


def parse_var_options(items: Sequence[str]) -> tuple[dict[str, str], list[str]]:
    """`--var NAME=VALUE` options as a mapping, plus the malformed ones."""
    result: dict[str, str] = {}
    bad: list[str] = []
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            bad.append(item)
            continue
        result[name] = value
    return result, bad


def load_vars_file(path: str) -> tuple[dict[str, object], list[Diagnostic]]:
    """A `--vars` file: a YAML or JSON mapping from variable names to values."""
    file = display_path(Path(path))
    try:
        raw = Path(path).read_bytes()
    except OSError as error:
        return {}, [Diagnostic(Location(file), "vars-file", f"cannot read the variables file: {error.strerror}")]
    text, problems = decode(raw, file)
    if text is None:
        return {}, problems
    if path.endswith(".json"):
        try:
            data = json.loads(text)
        except ValueError as error:
            line = getattr(error, "lineno", 1)
            col = getattr(error, "colno", 1)
            return {}, [Diagnostic(Location(file, line, col), "vars-file", f"invalid JSON: {error}")]
        doc: Document | None = Document(file, data, {(): Location(file, 1, 1)})
    else:
        doc, problems = load_text(text, file)
        problems = [p for p in problems if p.rule != "money-float"]
        if doc is None or any(p.is_error for p in problems):
            return {}, problems
    assert doc is not None
    if not isinstance(doc.data, dict):
        return {}, [
            Diagnostic(Location(file, 1, 1), "vars-file", "a variables file must be a mapping of names to values")
        ]
    diagnostics: list[Diagnostic] = []
    result: dict[str, object] = {}
    for name, value in doc.data.items():
        if not isinstance(name, str) or not name.isidentifier():
            diagnostics.append(
                Diagnostic(doc.at((name,), key=True), "vars-file", f"{name!r} is not a valid variable name")
            )
            continue
        result[name] = value
    return result, diagnostics


def template_variables(var_options: Sequence[str], vars_file: str | None) -> tuple[dict[str, object], list[Diagnostic]]:
    """Variables for templates: the `--vars` file first, then each `--var` (which wins)."""
    variables: dict[str, object] = {}
    diagnostics: list[Diagnostic] = []
    if vars_file is not None:
        variables, diagnostics = load_vars_file(vars_file)
    options, bad = parse_var_options(var_options)
    for item in bad:
        diagnostics.append(
            Diagnostic(
                Location("--var"),
                "var-option",
                f"{item!r} is not NAME=VALUE",
                "write --var region=eu (the name must be a valid identifier)",
            )
        )
    variables.update(options)
    return variables, diagnostics


__all__ = [
    "RULE_IDS",
    "SAFE_TAGS",
    "decode",
    "display_path",
    "find_files",
    "load_file",
    "load_files",
    "load_paths",
    "load_text",
    "load_vars_file",
    "parse_var_options",
    "render_template",
    "template_variables",
]
