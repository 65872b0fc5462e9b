"""Read catalog files into `Document`s: plain data plus the place of every node.

PyYAML's constructors lose positions, keep the last of two duplicate keys and expand aliases without limit,
so the loader composes the node graph (libyaml's C parser when available, for speed) and builds the plain
values itself. Everything that can go wrong with a file becomes a `Diagnostic`; nothing raises for bad input.

Templates (`*.yaml.j2`) are rendered in Jinja2's sandbox with undefined variables as errors before parsing.
Positions inside a rendered template refer to the rendered text (which matches the template line for line as
long as the template does not add or remove lines before the place).
"""

from __future__ import annotations

import json
import math
import traceback
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2
import jinja2.exceptions
import jinja2.sandbox
import yaml

from compiler.errors import Diagnostic, Location, Severity
from compiler.source import Document, NodePath

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


class _CatalogLoader(_BaseLoader):  # type: ignore[misc,valid-type]
    """SafeLoader without the implicit timestamp and `=` resolvers: `2024-01-01` stays a string."""


_CatalogLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_YAML + "timestamp", _YAML + "value")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

#: fields that carry an amount in the currency's minor unit: integers only, never floats (rulebook R2)
MONEY_FIELDS = frozenset({"unit_amount", "amount", "flat_amount", "minimum", "maximum", "preset"})
#: decimal amounts travel as strings so that no digit is lost (rulebook R3)
DECIMAL_FIELDS = frozenset({"unit_amount_decimal", "amount_decimal", "flat_amount_decimal"})

#: how deep mappings and lists may nest; catalogs need about 8
MAX_DEPTH = 64
#: nodes that aliases may add on top of the file's own nodes (a "billion laughs" file stops here)
ALIAS_BASE_BUDGET = 10_000
ALIAS_BUDGET_PER_NODE = 10

CATALOG_SUFFIXES = (".yaml", ".yml")
TEMPLATE_SUFFIXES = (".yaml.j2", ".yml.j2")


class _Abort(Exception):
    """Stops building a document after a fatal diagnostic (alias bomb, recursion, too deep)."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def _loc(file: str, mark: Any) -> Location:
    return Location(file, mark.line + 1, mark.column + 1)


def _node_count(root: yaml.Node) -> int:
    """Distinct nodes of the graph (an aliased node counts once), iteratively."""
    seen: set[int] = set()
    stack: list[yaml.Node] = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.append(key)
                stack.append(value)
    return len(seen)


class _Builder:
    """Turns a composed node graph into plain values, recording positions and problems on the way."""

    def __init__(self, file: str, alias_budget: int) -> None:
        self.file = file
        self.positions: dict[NodePath, Location] = {}
        self.key_positions: dict[NodePath, Location] = {}
        self.diagnostics: list[Diagnostic] = []
        self._built: set[int] = set()
        self._active: set[int] = set()
        self._alias_budget = alias_budget

    def error(self, mark: Any, rule: str, message: str, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(_loc(self.file, mark), rule, message, hint))

    def build(self, node: yaml.Node, path: NodePath, *, via_alias: bool = False) -> Any:
        ident = id(node)
        if ident in self._active:
            raise _Abort(
                Diagnostic(
                    _loc(self.file, node.start_mark),
                    "yaml-recursive-alias",
                    "this anchor is used inside itself, which would make an endless structure",
                    "aliases may only refer to a node that is complete before the alias",
                )
            )
        if ident in self._built:
            via_alias = True  # a node met a second time can only come through an alias
        if via_alias:
            self._alias_budget -= 1
            if self._alias_budget < 0:
                raise _Abort(
                    Diagnostic(
                        _loc(self.file, node.start_mark),
                        "yaml-alias-limit",
                        "aliases expand to too many nodes (an alias bomb?)",
                        "write the repeated parts out, or use fewer nested aliases",
                    )
                )
        if len(path) > MAX_DEPTH:
            raise _Abort(
                Diagnostic(
                    _loc(self.file, node.start_mark),
                    "yaml-too-deep",
                    f"the document nests deeper than {MAX_DEPTH} levels",
                    "a catalog needs only a few levels of nesting",
                )
            )
        self._built.add(ident)
        self.positions[path] = _loc(self.file, node.start_mark)
        if node.tag not in SAFE_TAGS and node.tag != _NON_SPECIFIC:
            self.error(
                node.start_mark,
                "yaml-tag",
                f"the tag {_show_tag(node.tag)} is not allowed in a catalog",
                "catalog files hold plain strings, numbers, booleans, lists and mappings: remove the tag",
            )
            return None
        if isinstance(node, yaml.MappingNode):
            self._active.add(ident)
            try:
                return self._mapping(node, path, via_alias)
            finally:
                self._active.discard(ident)
        if isinstance(node, yaml.SequenceNode):
            if node.tag not in (SEQ, _NON_SPECIFIC):
                self.error(node.start_mark, "yaml-tag", f"a list cannot carry the tag {_show_tag(node.tag)}")
                return None
            self._active.add(ident)
            try:
                return [self.build(item, (*path, i), via_alias=via_alias) for i, item in enumerate(node.value)]
            finally:
                self._active.discard(ident)
        return self._scalar(node, path)

    def _scalar(self, node: yaml.Node, path: NodePath) -> Any:
        text: str = node.value
        tag = node.tag
        if tag in (STR, _NON_SPECIFIC):
            return text
        try:
            if tag == NULL:
                return None
            if tag == BOOL:
                return text.lower() in ("yes", "true", "on", "y")
            if tag == INT:
                if _is_legacy_octal(text):
                    self.error(
                        node.start_mark,
                        "yaml-octal",
                        f"{text} has a leading zero, which YAML 1.1 reads as the octal number {_parse_int(text)}",
                        f"write {text.lstrip('+-0') or '0'} without the leading zero, or quote it",
                    )
                    return None
                return _parse_int(text)
            if tag == FLOAT:
                return _parse_float(text)
        except ValueError:
            self.error(node.start_mark, "yaml-value", f"{text!r} is not a valid {tag.rsplit(':', 1)[-1]}")
            return None
        self.error(node.start_mark, "yaml-tag", f"a scalar cannot carry the tag {_show_tag(tag)}")
        return None

    def _mapping(self, node: yaml.MappingNode, path: NodePath, via_alias: bool) -> dict[str, Any]:
        result: dict[str, Any] = {}
        explicit: dict[str, Any] = {}  # key -> mark of the key written in this mapping
        merged: list[tuple[yaml.Node, NodePath]] = []
        for key_node, value_node in node.value:
            if key_node.tag == MERGE:
                merged.append((value_node, path))
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.error(
                    key_node.start_mark,
                    "yaml-key",
                    "a mapping key must be a plain name, not a list or mapping",
                    "field names, currency codes and metadata keys are strings",
                )
                continue
            # Keys are names: `2024:` or `no:` in metadata mean the text as written, not a number or false.
            key = key_node.value
            if key in explicit:
                first = explicit[key]
                self.error(
                    key_node.start_mark,
                    "yaml-duplicate-key",
                    f"duplicate key {key!r} (first defined at line {first.line + 1})",
                    "a YAML parser would silently keep only the last value: remove one of them",
                )
                continue
            explicit[key] = key_node.start_mark
            child = (*path, key)
            self.key_positions[child] = _loc(self.file, key_node.start_mark)
            result[key] = self.build(value_node, child, via_alias=via_alias)
        for value_node, _ in merged:
            self._merge(result, value_node, path, via_alias)
        return result

    def _merge(self, result: dict[str, Any], node: yaml.Node, path: NodePath, via_alias: bool) -> None:
        """`<<: *base` (or a list of them): keys written in the mapping itself win, earlier merges win."""
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        for source in sources:
            if not isinstance(source, yaml.MappingNode):
                self.error(
                    source.start_mark,
                    "yaml-merge",
                    "`<<` merges a mapping (or a list of mappings) into this one",
                    "write `<<: *anchor` where the anchor names a mapping",
                )
                continue
            # Build the source with positions relative to itself, then graft those of the keys it adds.
            outer = self.positions, self.key_positions
            self.positions, self.key_positions = {}, {}
            try:
                value = self.build(source, (), via_alias=True)
                inner = self.positions, self.key_positions
            finally:
                self.positions, self.key_positions = outer
            if not isinstance(value, dict):
                continue
            added = {key for key in value if key not in result}
            for key in added:
                result[key] = value[key]
            for table, source_table in zip((self.positions, self.key_positions), inner, strict=True):
                for rel, location in source_table.items():
                    if rel and rel[0] in added:
                        table[(*path, *rel)] = location


def _show_tag(tag: str) -> str:
    return "!!" + tag[len(_YAML) :] if tag.startswith(_YAML) else tag


def _is_legacy_octal(text: str) -> bool:
    digits = text.lstrip("+-").replace("_", "")
    return len(digits) > 1 and digits[0] == "0" and digits[1].isdigit()


def _parse_int(text: str) -> int:
    """YAML 1.1 integers as PyYAML reads them: signs, `_` separators, 0b/0x/0o/leading-0 octal, base 60."""
    value = text.replace("_", "")
    sign = 1
    if value[:1] in "+-":
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


def _money_floats(doc: Document) -> Iterator[Diagnostic]:
    """A float where an amount goes is an error, never rounded (DESIGN section 1, rulebook R2)."""
    stack: list[tuple[Any, NodePath]] = [(doc.data, ())]
    while stack:
        value, path = stack.pop()
        if isinstance(value, dict):
            if path and path[-1] == "metadata":
                continue  # metadata values are free-form strings; the schema checks their type
            for key, item in value.items():
                child = (*path, key)
                if isinstance(item, float) and key in MONEY_FIELDS:
                    yield Diagnostic(
                        doc.at(child),
                        "money-float",
                        f"`{key}` is {_show_float(item)}, but amounts are integers in the currency's minor unit",
                        f"write `{key}: {_minor_units(item)}` for {_show_float(item)} in a 2-decimal currency, or"
                        f' `{key}_decimal: "{_show_float(item)}"` for a fraction of the minor unit',
                    )
                elif isinstance(item, float) and key in DECIMAL_FIELDS:
                    yield Diagnostic(
                        doc.at(child),
                        "money-float",
                        f"`{key}` must be a decimal string, not the number {_show_float(item)}",
                        f'quote it so that no digit is lost: `{key}: "{_show_float(item)}"`',
                    )
                else:
                    stack.append((item, child))
        elif isinstance(value, list):
            stack.extend((item, (*path, i)) for i, item in enumerate(value))


def _show_float(value: float) -> str:
    return repr(value)


def _minor_units(value: float) -> str:
    if not math.isfinite(value):
        return "<integer>"
    return str(round(value * 100))


def _depth_is_suspicious(text: str) -> bool:
    """Cheap test for inputs that might nest deep enough to exhaust the C composer's stack."""
    if text.count("[") + text.count("{") > 500:
        return True
    return any(len(line) - len(line.lstrip(" ")) > 400 for line in text.splitlines())


def _check_depth(text: str, file: str) -> Diagnostic | None:
    """Walks the event stream (iterative, no node graph) and stops at the first node nested too deep."""
    depth = 0
    for event in yaml.parse(text, Loader=_CatalogLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                return Diagnostic(
                    _loc(file, event.start_mark),
                    "yaml-too-deep",
                    f"the document nests deeper than {MAX_DEPTH} levels",
                    "a catalog needs only a few levels of nesting",
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return None


def _syntax_error(error: yaml.YAMLError, file: str) -> Diagnostic:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    context = getattr(error, "context", None)
    location = _loc(file, mark) if mark is not None else Location(file, 1, 1)
    message = f"invalid YAML: {problem}"
    if context:
        message += f" ({context})"
    return Diagnostic(location, "yaml-syntax", message, _syntax_hint(problem))


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


def load_text(text: str, file: str) -> tuple[Document | None, list[Diagnostic]]:
    """Parse one catalog file's text. The Document is None when the file cannot be read as a catalog at all."""
    try:
        if _depth_is_suspicious(text):
            too_deep = _check_depth(text, file)
            if too_deep is not None:
                return None, [too_deep]
        root = yaml.compose(text, Loader=_CatalogLoader)
    except yaml.YAMLError as error:
        return None, [_syntax_error(error, file)]
    except RecursionError:  # pure-Python composer on absurd nesting
        return None, [Diagnostic(Location(file, 1, 1), "yaml-too-deep", "the document nests too deeply")]
    if root is None:
        empty = Diagnostic(
            Location(file, 1, 1),
            "empty-file",
            "the file holds no catalog objects",
            "add `products:`, `prices:`, `plans:` or `meters:`, or delete the file",
            Severity.WARNING,
        )
        return Document(file, {}, {(): Location(file, 1, 1)}), [empty]
    if not isinstance(root, yaml.MappingNode) or root.tag not in (MAP, _NON_SPECIFIC):
        kind = "a list" if isinstance(root, yaml.SequenceNode) else "a single value"
        return None, [
            Diagnostic(
                _loc(file, root.start_mark),
                "yaml-root",
                f"a catalog file must be a mapping, but this one is {kind}",
                "start the file with `products:`, `prices:`, `plans:` or `meters:`",
            )
        ]
    budget = ALIAS_BASE_BUDGET + ALIAS_BUDGET_PER_NODE * _node_count(root)
    builder = _Builder(file, budget)
    try:
        data = builder.build(root, ())
    except _Abort as abort:
        return None, [*builder.diagnostics, abort.diagnostic]
    except RecursionError:
        return None, [Diagnostic(Location(file, 1, 1), "yaml-too-deep", "the document nests too deeply")]
    doc = Document(file, data, builder.positions, builder.key_positions)
    return doc, [*builder.diagnostics, *_money_floats(doc)]


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
    "DECIMAL_FIELDS",
    "MONEY_FIELDS",
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
