"""YAML text to a `Document`: plain data plus the place of every node. Knows YAML, not Stripe.

PyYAML's constructors lose positions, keep the last of two duplicate keys and expand aliases without limit,
so the reader reads libyaml's event stream (the C parser when available) and builds the plain values itself,
in one pass without recursion. Everything that can go wrong with the text becomes a `Diagnostic`: invalid YAML,
duplicate keys, unsafe tags, alias bombs and self-referencing aliases, legacy octal integers. Nothing raises for
bad input. It also notes where the floats are (`Document.floats`), for the catalog check that refuses a float
where an amount goes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from sys import intern
from typing import Any

import yaml

from compiler import bounds
from compiler.catalog.source import Document, NodePath
from compiler.errors import Diagnostic, Location, Severity
from compiler.heap import collector_paused

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

#: how deep mappings and lists may nest; catalogs need about 8
MAX_DEPTH = 64
_TOO_DEEP_MESSAGE = f"the document nests deeper than {MAX_DEPTH} levels"
_TOO_DEEP_HINT = "a catalog needs only a few levels of nesting: look for runaway brackets or indentation"
#: nodes that aliases may add, on top of ALIAS_BUDGET_PER_NODE per node written out (an alias bomb stops here)
ALIAS_BASE_BUDGET = 10_000
ALIAS_BUDGET_PER_NODE = 10

#: every rule id the reader reports (all errors except `empty-file`, a warning)
RULE_IDS: Mapping[str, str] = {
    "yaml-syntax": "invalid YAML (at the parser's place), an undefined alias, or more than one document",
    "yaml-root": "the file is not a mapping",
    "empty-file": "the file holds nothing (warning)",
    "yaml-duplicate-key": "a mapping repeats a key",
    "yaml-key": "a mapping key is a list, a mapping or an alias",
    "yaml-tag": "a tag beyond the plain JSON types (!!python/..., !!binary, !!set, !custom...)",
    "yaml-value": "a tagged scalar is not a valid value of its tag",
    "yaml-alias-limit": "aliases expand to too many nodes (an alias bomb)",
    "yaml-recursive-alias": "an alias used inside its own anchor",
    "yaml-too-deep": f"mappings and lists nested more than {MAX_DEPTH} levels deep",
    "yaml-too-large": "more values than PRICEBOOK_MAX_FILE_VALUES allows in one file",
    "yaml-merge": "a `<<` merge of something that is not a mapping",
    "yaml-octal": "an integer with a leading zero (YAML 1.1 would read it as octal)",
}

_Place = tuple[int, int]  # 1-based (line, col), turned into a Location only when asked for


class Positions(Mapping[NodePath, Location]):
    """`NodePath -> Location` for one file, keeping libyaml's marks (0-based line and column) and making a
    `Location` only when asked: a catalog of 10,000 prices has half a million nodes and few diagnostics.

    When the file was read keeping only some places (`load_text(keep=...)`), the others are read again from the
    text the first time one is asked for (`Reread`): a valid catalog never needs them, and at 100,000 prices
    they were most of the memory a check took. Pickled (to the process that plans) with the places it kept and
    the text, never with the places read again."""

    __slots__ = ("_all_places", "_file", "_places", "_rest")

    def __init__(
        self, file: str, marks: dict[NodePath, Any], rest: Callable[[], dict[NodePath, Any]] | None = None
    ) -> None:
        self._file = file
        self._places = marks
        self._rest = rest
        self._all_places: dict[NodePath, Any] | None = None if rest is not None else marks

    @property
    def complete(self) -> bool:
        """Whether every place is here (nothing is left to read again)."""
        return self._all_places is not None

    def _all(self) -> dict[NodePath, Any]:
        if self._all_places is None:
            assert self._rest is not None
            self._all_places = self._rest()
        return self._all_places

    def __reduce__(self) -> tuple[Any, ...]:
        return Positions, (self._file, self._places, self._rest)

    def __getitem__(self, path: NodePath) -> Location:
        mark = self._places.get(path)
        if mark is None:
            mark = self._all()[path]
        return Location(self._file, mark.line + 1, mark.column + 1)

    def __contains__(self, path: object) -> bool:
        return path in self._places or path in self._all()

    def __iter__(self) -> Iterator[NodePath]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


class Reread:
    """Every place of one file's nodes and keys, read again from its text once, when first asked for. Pickled
    as the text alone: the places are read again wherever they are needed."""

    __slots__ = ("_file", "_marks", "_text")

    def __init__(self, text: str, file: str) -> None:
        self._text = text
        self._file = file
        self._marks: tuple[dict[NodePath, Any], dict[NodePath, Any]] | None = None

    def _read(self) -> tuple[dict[NodePath, Any], dict[NodePath, Any]]:
        if self._marks is None:
            with collector_paused():
                _, builder, _ = _read(self._text, self._file)  # it read without a problem the first time
            self._marks = (builder.marks, builder.key_marks)
        return self._marks

    def __reduce__(self) -> tuple[Any, ...]:
        return Reread, (self._text, self._file)

    def nodes(self) -> dict[NodePath, Any]:
        return self._read()[0]

    def keys(self) -> dict[NodePath, Any]:
        return self._read()[1]


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
#: tests/unit/test_yaml_reader.py checks this set against what its safe_load reads
_NOT_ONLY_STR = frozenset("yYnNtTfFoO~-+.0123456789<")


class _Builder:
    """Builds plain values from libyaml's event stream, recording the mark of every node and key on the way.

    Marks are libyaml's own objects (line and column, 0-based); `Positions` turns them into `Location`s
    only when somebody asks, because a large catalog has half a million nodes and few diagnostics.
    """

    def __init__(self, file: str, keep: Callable[[NodePath], bool] | None = None) -> None:
        self.file = file
        #: which nodes' places to keep (None: all of them, and every key's)
        self.keep = keep
        self.marks: dict[NodePath, Any] = {}
        self.key_marks: dict[NodePath, Any] = {}
        self.diagnostics: list[Diagnostic] = []
        self.anchors: dict[str, tuple[Any, NodePath]] = {}
        self.open_anchors: set[str] = set()
        self.alias_nodes = 0  # nodes that aliases added
        self.nodes = 0  # nodes written out in the file
        self.max_nodes = bounds.FILE_VALUES.count
        self.first_mark: Any = None
        #: every float put into a mapping, by path (floats are rare: a catalog's numbers are integers)
        self.floats: dict[NodePath, float] = {}
        #: each float scalar as the file writes it (`25.00`, not 25.0), by the path it was read at
        self.float_texts: dict[NodePath, str] = {}

    def location(self, mark: Any) -> Location:
        return Location(self.file, mark.line + 1, mark.column + 1)

    def error(self, mark: Any, rule: str, message: str, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(self.location(mark), rule, message, hint))

    def abort(self, mark: Any, rule: str, message: str, hint: str | None = None) -> _Abort:
        return _Abort(Diagnostic(self.location(mark), rule, message, hint))

    def build(self, parser: Any) -> Any:
        """Reads one document's events (after DocumentStart) and returns its root value.

        The loop is written out flat (no call per node on the common paths) because it runs once per node.
        """
        get_event = parser.get_event
        marks = self.marks
        key_marks = self.key_marks
        keep = self.keep
        stack: list[_Frame] = []
        scalar_event, alias_event = yaml.ScalarEvent, yaml.AliasEvent
        map_start, seq_start = yaml.MappingStartEvent, yaml.SequenceStartEvent
        map_end, seq_end = yaml.MappingEndEvent, yaml.SequenceEndEvent
        not_only_str = _NOT_ONLY_STR
        floats = self.floats
        frame: _Frame | None = None
        value: Any
        nodes = 0
        budget = self.max_nodes - self.nodes  # for `nodes`
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
                        text = intern(event.value)  # a catalog repeats its few field names thousands of times
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
                if keep is None or keep(path):
                    marks[path] = mark
                if cls is scalar_event:
                    nodes += 1
                    if nodes > budget:
                        raise self.too_large(mark)
                    tag = event.tag
                    text = event.value
                    if tag is None and (not event.implicit[0] or (text and text[0] not in not_only_str)):
                        value = text
                    else:
                        value = self.scalar(text, tag, event.implicit[0], mark)
                        if type(value) is float:
                            self.float_texts[path] = text
                    if event.anchor is not None:
                        self.anchors[event.anchor] = (value, path)
                elif cls is map_start or cls is seq_start:
                    nodes += 1
                    if nodes > budget:
                        raise self.too_large(mark)
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
                    budget = self.max_nodes - self.nodes
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
            if keep is None:
                key_marks[child_path] = frame.key_mark
            container[key] = value
            if type(value) is float:
                floats[child_path] = value

    def too_large(self, mark: Any) -> _Abort:
        return self.abort(
            mark,
            "yaml-too-large",
            f"the file holds more than {bounds.FILE_VALUES.show()} (counting every scalar, mapping and list)",
            "split the catalog into several files; " + bounds.FILE_VALUES.hint(),
        )

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


def _read(text: str, file: str, keep: Callable[[NodePath], bool] | None = None) -> tuple[Any, _Builder, bool]:
    """(root value, builder, whether the stream had a document) or raises YAMLError / _Abort."""
    builder = _Builder(file, keep)
    parser: Any = _BaseLoader(text)
    try:
        parser.get_event()  # StreamStart
        event = parser.get_event()
        if type(event) is yaml.StreamEndEvent:
            return None, builder, False
        root = builder.build(parser)
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


def load_text(
    text: str, file: str, *, keep: Callable[[NodePath], bool] | None = None
) -> tuple[Document | None, list[Diagnostic]]:
    """Parse one catalog file's text. The Document is None when the file cannot be read as a catalog at all.

    `keep` says which nodes' places are kept at once (by default all, and every key's); the others are read
    again from the text when first asked for (`Positions`)."""
    try:
        with collector_paused():
            root, builder, has_document = _read(text, file, keep)
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
    if keep is None:
        positions, key_positions = Positions(file, builder.marks), Positions(file, builder.key_marks)
    else:
        rest = Reread(text, file)
        positions, key_positions = Positions(file, builder.marks, rest.nodes), Positions(file, {}, rest.keys)
    doc = Document(
        file, root, positions, key_positions, floats=builder.floats, float_texts=builder.float_texts
    )
    return doc, builder.diagnostics


__all__ = ["ALIAS_BASE_BUDGET", "MAX_DEPTH", "RULE_IDS", "SAFE_TAGS", "Positions", "Reread", "load_text"]
