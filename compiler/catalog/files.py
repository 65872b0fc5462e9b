"""Catalog files: finding them, decoding them, rendering templates, then reading each with the YAML reader.

Templates (`*.yaml.j2`) are rendered in Jinja2's sandbox with undefined variables as errors before parsing, fed
by `--var NAME=VALUE` and `--vars FILE`. Positions inside a rendered template refer to the rendered text (which
matches the template line for line as long as the template does not add or remove lines before the place).
Every way a file can be unreadable becomes a `Diagnostic`; nothing raises for bad input.

Nothing read here can take unbounded time or memory: a file is read up to `bounds.FILE_MB` and no further (a
`--vars /dev/zero` stops there), a `--vars` JSON file nests no deeper than a YAML one may, and templates render
in a sandbox that bounds their time and the size of what they build (`catalog.sandbox`).
"""

from __future__ import annotations

import json
import os
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import jinja2.exceptions
import jinja2.meta

from compiler import bounds
from compiler.catalog.sandbox import BoundedEnvironment, TemplateLimit
from compiler.catalog.source import Document, is_entry_place
from compiler.catalog.yaml_reader import MAX_DEPTH, load_text
from compiler.errors import Diagnostic, Location, Severity

CATALOG_SUFFIXES = (".yaml", ".yml")
#: the catalog repository's settings (its environments), at its root; see `cli.environments`
CONFIG_FILE = "pricebook.toml"
#: the template variable that holds the environment chosen with --env (a mapping: `name`, `live`)
ENV_VARIABLE = "env"
TEMPLATE_SUFFIXES = (".yaml.j2", ".yml.j2")

#: every rule id reported here (all errors but `var-unused`)
RULE_IDS: Mapping[str, str] = {
    "path-not-found": "a path given on the command line does not exist",
    "no-files": "a directory given holds no *.yaml, *.yml or *.yaml.j2 file (an empty catalog would archive "
    "everything pricebook manages)",
    "io-error": "a file cannot be read",
    "file-too-large": "a catalog file, `--vars` file or rendered template is larger than PRICEBOOK_MAX_FILE_MB",
    "encoding": "a file is not UTF-8",
    "template-syntax": "a *.yaml.j2 template does not parse",
    "template-undefined": "a template uses a variable that --var, --vars and the environment (--env) do not define",
    "template-sandbox": "a template does something Jinja2's sandbox forbids",
    "template-error": "a template fails while rendering",
    "template-too-deep": "a template nests its tags or expressions too deeply to be compiled",
    "template-timeout": "a template renders for longer than PRICEBOOK_TEMPLATE_SECONDS",
    "template-too-large": "a template builds a string, list or output larger than PRICEBOOK_MAX_FILE_MB",
    "template-integer": "a template computes an integer of more digits than PRICEBOOK_TEMPLATE_DIGITS",
    "template-recursion": "a template's calls nest deeper than PRICEBOOK_TEMPLATE_CALL_DEPTH",
    "var-option": "a --var option is not NAME=VALUE",
    "vars-file": "a --vars file is unreadable or not a mapping of names",
    "var-unused": "a --var that no template reads (a misspelt name, or one left over) (warning)",
}


def display_path(path: Path) -> str:
    """The path as the user should see it: relative to the current directory when below it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def find_config(start: Path | None = None) -> Path | None:
    """The `pricebook.toml` of `start` (the current directory) or the nearest directory above it, up to the
    repository's root; None when there is none."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / CONFIG_FILE
        if candidate.is_file():
            return candidate
        if (folder / ".git").exists():
            break
    return None


def _not_found_hint(raw: str) -> str:
    """What to do about a path that does not exist. Run from below the catalog repository's root (where its
    pricebook.toml is), a relative path is still relative to where pricebook runs: say so, and where it is."""
    generic = "pass a catalog directory (default plans/) or catalog files"
    config = find_config()
    if Path(raw).is_absolute() or config is None or config.parent == Path.cwd().resolve():
        return generic
    root = Path(os.path.relpath(config.parent)).as_posix()
    there = f"{root}/{raw}"
    if Path(there).exists():
        return (
            f"paths are relative to where pricebook runs, which is below the catalog repository's root {root} "
            f"(where {CONFIG_FILE} is): run pricebook there, or pass {there}"
        )
    return f"{generic}; paths are relative to where pricebook runs, not to {CONFIG_FILE} (in {root})"


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
                # an error, not an empty catalog: planned against an account, it would archive everything
                diagnostics.append(
                    Diagnostic(
                        Location(display_path(path)),
                        "no-files",
                        "no *.yaml, *.yml or *.yaml.j2 files here, so no catalog to read",
                        "check the path: pass the directory that holds the catalog files (default plans/)",
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
                    _not_found_hint(raw),
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


def read_bounded(path: Path, limit: int | None = None) -> bytes | None:
    """The file's bytes, or None when it is larger than `limit` bytes (`bounds.FILE_MB` unless given): a file
    whose size says so is not read at all, and reading stops at the bound (`/dev/zero` has no size and is not
    read to the end). OSError as `Path.read_bytes` raises it."""
    limit = bounds.file_bytes() if limit is None else limit
    with path.open("rb") as handle:
        if os.fstat(handle.fileno()).st_size > limit:
            return None
        raw = handle.read(limit + 1)
    return raw if len(raw) <= limit else None


def _too_large(file: str, what: str, advice: str) -> Diagnostic:
    return Diagnostic(
        Location(file),
        "file-too-large",
        f"{what} is larger than {bounds.FILE_MB.show()}",
        f"{advice}; {bounds.FILE_MB.hint()}",
    )


_TEMPLATE_NAME = "<pricebook-template>"


def _template_line(error: BaseException) -> int:
    """The template line an error was raised at: Jinja2 rewrites tracebacks so template frames show it."""
    line = 0
    for frame in traceback.extract_tb(error.__traceback__):
        if frame.filename == _TEMPLATE_NAME and frame.lineno:
            line = frame.lineno
    return line


def _environment() -> BoundedEnvironment:
    return BoundedEnvironment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False)


def _render(template: jinja2.Template, variables: Mapping[str, object]) -> str:
    """The template's text, piece by piece, stopped once it is larger than a catalog file may be."""
    limit = bounds.file_bytes()
    pieces: list[str] = []
    size = lines = 0
    for piece in template.generate(dict(variables)):
        size += len(piece)
        if size > limit:
            message = f"the rendered template is larger than {bounds.FILE_MB.show()}"
            raise TemplateLimit("file-too-large", message, bounds.FILE_MB, line=lines + 1)
        lines += piece.count("\n")
        pieces.append(piece)
    return "".join(pieces)


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
    except TemplateLimit as limit:  # met while folding constants
        return None, [_limit_diagnostic(limit, file, 1)]
    except (RecursionError, SyntaxError, MemoryError) as error:
        # Jinja2's parser recurses once per nested tag or bracket, and Python compiles at most 20 nested loops
        return None, [
            Diagnostic(
                Location(file, 1, 1),  # the place the error names is in the Python Jinja2 made, not the template
                "template-too-deep",
                f"the template nests its tags or expressions too deeply to be compiled ({type(error).__name__})",
                "nest fewer {% if %}/{% for %} blocks and brackets: move repeated parts into a macro",
            )
        ]
    template = env.template_class.from_code(env, code, env.make_globals(None), None)
    try:
        return _render(template, variables), []
    except TemplateLimit as limit:
        return None, [_limit_diagnostic(limit, file, limit.line or _template_line(limit))]
    except RecursionError as error:
        return None, [
            Diagnostic(
                Location(file, _template_line(error) or 1, 1),
                "template-recursion",
                "the template recursed deeper than Python allows (a macro that calls itself without end?)",
                "make the recursion end sooner",
            )
        ]
    except MemoryError as error:
        return None, [
            Diagnostic(
                Location(file, _template_line(error) or 1, 1),
                "template-too-large",
                "the template ran out of memory",
                "build smaller values",
            )
        ]
    except jinja2.UndefinedError as error:
        hint = (
            "pass it with --var NAME=VALUE, in a --vars file, or in pricebook.toml as [environments.NAME.vars] "
            "(chosen with --env NAME)"
        )
        if error.message == f"'{ENV_VARIABLE}' is undefined":
            hint = f"templates get `{ENV_VARIABLE}` from the environment: choose one with --env NAME (pricebook.toml)"
        return None, [
            Diagnostic(
                Location(file, _template_line(error) or 1, 1),
                "template-undefined",
                f"template variable error: {error.message}",
                hint,
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


def _limit_diagnostic(limit: TemplateLimit, file: str, line: int) -> Diagnostic:
    return Diagnostic(Location(file, line or 1, 1), limit.rule, limit.message, limit.bound.hint())


def load_file(path: Path, variables: Mapping[str, object]) -> tuple[Document | None, list[Diagnostic]]:
    file = display_path(path)
    try:
        raw = read_bounded(path)
    except OSError as error:
        return None, [Diagnostic(Location(file), "io-error", f"cannot read the file: {error.strerror}")]
    if raw is None:
        return None, [_too_large(file, "the file", "split the catalog into several files")]
    text, problems = decode(raw, file)
    if text is None:
        return None, problems
    if is_template(path):
        text, problems = render_template(text, file, variables)
        if text is None:
            return None, problems
    return load_text(text, file, keep=is_entry_place)


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
        raw = read_bounded(Path(path))
    except OSError as error:
        return {}, [Diagnostic(Location(file), "vars-file", f"cannot read the variables file: {error.strerror}")]
    if raw is None:
        return {}, [_too_large(file, "the variables file", "--vars takes a YAML or JSON file of names and values")]
    text, problems = decode(raw, file)
    if text is None:
        return {}, problems
    if path.endswith(".json"):
        data, problem = _json_vars(text, file)
        if problem is not None:
            return {}, [problem]
        doc: Document | None = Document(file, data, {(): Location(file, 1, 1)})
    else:
        doc, problems = load_text(text, file)
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


def _json_vars(text: str, file: str) -> tuple[object, Diagnostic | None]:
    """A JSON `--vars` file's data, nested no deeper than a YAML one may be, with at most as many values."""
    try:
        data = json.loads(text)
    except RecursionError:  # the decoder recurses once per level
        data = None
        depth = MAX_DEPTH + 1
    except ValueError as error:
        line = getattr(error, "lineno", 1)
        col = getattr(error, "colno", 1)
        return None, Diagnostic(Location(file, line, col), "vars-file", f"invalid JSON: {error}")
    else:
        depth, values = _shape(data)
        if values > bounds.FILE_VALUES.count:
            return None, Diagnostic(
                Location(file),
                "vars-file",
                f"the variables file holds more than {bounds.FILE_VALUES.show()}",
                bounds.FILE_VALUES.hint(),
            )
    if depth > MAX_DEPTH:
        return None, Diagnostic(
            Location(file),
            "vars-file",
            f"the variables file nests deeper than {MAX_DEPTH} levels",
            "template variables need only a few levels of nesting: look for runaway brackets",
        )
    return data, None


def _shape(data: object) -> tuple[int, int]:
    """How deep `data` nests (a scalar is 0) and how many values it holds, without recursion."""
    deepest = values = 0
    stack: list[tuple[object, int]] = [(data, 0)]
    while stack:
        item, depth = stack.pop()
        values += 1
        if isinstance(item, dict):
            deepest = max(deepest, depth + 1)
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            deepest = max(deepest, depth + 1)
            stack.extend((v, depth + 1) for v in item)
    return deepest, values


def variables_read(files: Sequence[Path]) -> tuple[set[str], int]:
    """The names the templates among `files` read (whether they are set or not), and how many templates there
    are; a template that cannot be read or parsed reads nothing here (loading it reports why)."""
    names: set[str] = set()
    templates = [path for path in files if is_template(path)]
    env = _environment()
    for path in templates:
        try:
            raw = read_bounded(path)
        except OSError:
            continue
        text = decode(raw, display_path(path))[0] if raw is not None else None
        if text is None:
            continue
        try:
            names |= jinja2.meta.find_undeclared_variables(env.parse(text))
        except (jinja2.TemplateSyntaxError, TemplateLimit, RecursionError, SyntaxError, MemoryError):
            continue
    return names, len(templates)


def unused_var_options(var_options: Sequence[str], files: Sequence[Path]) -> list[Diagnostic]:
    """A `var-unused` warning for each --var no template among `files` reads: a name misspelt on the command line
    (the template then reads its default, or stops at an undefined one) or one left over from an older catalog."""
    options, _ = parse_var_options(var_options)
    if not options:
        return []
    read, templates = variables_read(files)
    if templates:
        unread = sorted(read - set(options) - {ENV_VARIABLE})  # `env` comes from --env, never from a --var
        hint = "check its spelling: " + (
            f"the templates read {', '.join(unread)}" if unread else "the templates read no other variable"
        )
        hint += "; or remove it"
    else:
        hint = "no file of the catalog is a template (*.yaml.j2), so no --var is read: remove it"
    return [
        Diagnostic(
            Location("--var"),
            "var-unused",
            f"--var {name}=... is read by no template of the catalog",
            hint,
            Severity.WARNING,
        )
        for name in sorted(options.keys() - read)
    ]


@dataclass(frozen=True)
class PresetVariables:
    """Template variables from before the command line (an environment of pricebook.toml): `defaults`, which the
    --vars file and --var override, and `fixed`, which nothing overrides (`env`: a --var or --vars of that name
    is an error, not a silent loser)."""

    defaults: Mapping[str, object] = field(default_factory=dict)
    fixed: Mapping[str, object] = field(default_factory=dict)


#: no environment: the command line's variables alone
NO_PRESET = PresetVariables()


def template_variables(
    var_options: Sequence[str], vars_file: str | None, preset: PresetVariables = NO_PRESET
) -> tuple[dict[str, object], list[Diagnostic]]:
    """Variables for templates: the preset defaults first, then the `--vars` file, then each `--var` (which
    wins), then the preset's fixed ones."""
    variables: dict[str, object] = dict(preset.defaults)
    diagnostics: list[Diagnostic] = []
    if vars_file is not None:
        from_file, diagnostics = load_vars_file(vars_file)
        for name in sorted(from_file.keys() & preset.fixed.keys()):
            diagnostics.append(
                Diagnostic(
                    Location(display_path(Path(vars_file))),
                    "vars-file",
                    f"{name!r} is set by the environment (--env), not by a variables file",
                    f"rename the variable; templates read the environment as {name}.name and {name}.live",
                )
            )
        variables.update(from_file)
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
    for name in sorted(options.keys() & preset.fixed.keys()):
        diagnostics.append(
            Diagnostic(
                Location("--var"),
                "var-option",
                f"--var {name}=... would hide the environment (--env), which templates read as {name}",
                "choose another variable name",
            )
        )
    variables.update(options)
    variables.update(preset.fixed)
    return variables, diagnostics


__all__ = [
    "CATALOG_SUFFIXES",
    "ENV_VARIABLE",
    "NO_PRESET",
    "RULE_IDS",
    "TEMPLATE_SUFFIXES",
    "PresetVariables",
    "decode",
    "display_path",
    "find_files",
    "load_file",
    "load_files",
    "load_vars_file",
    "parse_var_options",
    "render_template",
    "template_variables",
    "unused_var_options",
    "variables_read",
]
