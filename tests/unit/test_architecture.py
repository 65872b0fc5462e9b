"""The tree shows the pipeline: every module's imports (module-level or inside a function) go down the layers,
never up and never round in a cycle; the emulator stands apart; every user-facing error lives in errors.py.

    (errors, heap) < bounds < stripe < catalog < changes < (render, apply, export, usage, github, emulator)
        < cli < __main__

A module may import its own package and any lower layer. The modules of the layer above `changes` do not import
each other (only the command line puts them together). The emulator, our second opinion on Stripe, imports only
the standard library, the stripe SDK, `compiler.stripe` and itself.
"""

from __future__ import annotations

import ast
import importlib
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

import compiler
from compiler.errors import PricebookError

PACKAGE = Path(compiler.__file__).resolve().parent

#: the layer of each unit (a subpackage or a top-level module of `compiler`), lowest first
LAYERS: Mapping[str, int] = {
    "compiler.errors": 0,
    "compiler.heap": 0,  # the garbage collector around bulk work: below everything that does some
    "compiler.bounds": 1,  # pricebook's own bounds on work, read by every layer above
    "compiler.stripe": 2,
    "compiler.catalog": 3,
    "compiler.changes": 4,
    "compiler.render": 5,
    "compiler.apply": 5,
    "compiler.export": 5,
    "compiler.adopt": 5,
    "compiler.usage": 5,
    "compiler.emulator": 5,
    "compiler.github": 5,
    "compiler.cli": 6,
    "compiler.__main__": 7,  # `python -m compiler`: the command line's entry point
    "compiler": 7,
}
EMULATOR_MAY_IMPORT = ("compiler.stripe", "compiler.emulator")
EMULATOR_THIRD_PARTY = frozenset({"stripe"})


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the imported module (a compiler module, or the top-level name of another package)
    line: int


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


MODULES = modules()


def _resolve(name: str) -> str:
    """`compiler.x.y` as the module it names: `compiler.x.y` itself, or the package `compiler.x` when `y` is a
    name defined in its __init__ (`from compiler.emulator import Knobs`)."""
    while name not in MODULES and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def imports(name: str, path: Path) -> Iterator[Import]:
    """Every import in the module, at any depth (a function-level import hides a dependency, it does not remove
    it). `from package import submodule` is an import of the submodule."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield _import(name, alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            if base.split(".")[0] != "compiler":
                yield Import(name, base.split(".")[0], node.lineno)
                continue
            for alias in node.names:
                yield Import(name, _resolve(f"{base}.{alias.name}"), node.lineno)


def _import(source: str, target: str, line: int) -> Import:
    top = target.split(".")[0]
    return Import(source, _resolve(target) if top == "compiler" else top, line)


ALL_IMPORTS = [i for name, path in MODULES.items() for i in imports(name, path)]


def unit(module: str) -> str:
    """The subpackage or top-level module of `compiler` a module belongs to."""
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else module


def test_every_module_has_a_layer() -> None:
    assert {unit(m) for m in MODULES} - set(LAYERS) == set()


def test_no_module_imports_a_higher_layer_or_a_sibling_of_its_layer() -> None:
    wrong = [
        f"{i.source}:{i.line} imports {i.target}"
        for i in ALL_IMPORTS
        if i.target.startswith("compiler")
        and unit(i.target) != unit(i.source)
        and LAYERS[unit(i.target)] >= LAYERS[unit(i.source)]
    ]
    assert wrong == []


def test_the_emulator_imports_only_the_standard_library_the_stripe_sdk_and_stripe_facts() -> None:
    wrong = [
        f"{i.source}:{i.line} imports {i.target}"
        for i in ALL_IMPORTS
        if unit(i.source) == "compiler.emulator"
        and not (
            i.target in sys.stdlib_module_names
            or i.target in EMULATOR_THIRD_PARTY
            or any(i.target == allowed or i.target.startswith(allowed + ".") for allowed in EMULATOR_MAY_IMPORT)
            or i.target == "__future__"
        )
    ]
    assert wrong == []


def cycles(edges: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module, or a module importing itself (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in edges.get(node, ()):
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_between_modules() -> None:
    edges: dict[str, set[str]] = {}
    for i in ALL_IMPORTS:
        if i.target.startswith("compiler") and i.target != i.source:
            edges.setdefault(i.source, set()).add(i.target)
    assert cycles(edges) == []


def test_the_cycle_finder_finds_cycles() -> None:
    # the check above would pass vacuously if it could not see one
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"a"}}) == [["a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_import_graph_sees_imports_inside_functions_and_names_from_a_package(tmp_path: Path) -> None:
    module = tmp_path / "late.py"
    module.write_text(
        "from compiler.errors import Location\n"
        "import compiler.changes.diff\n"
        "def late() -> None:\n"
        "    from compiler.emulator import Knobs, prices\n"
        "    import yaml\n"
    )
    found = [(i.target, i.line) for i in imports("compiler.stripe.late", module)]
    assert found == [
        ("compiler.errors", 1),
        ("compiler.changes.diff", 2),
        ("compiler.emulator", 4),  # Knobs: a name the package's __init__ defines
        ("compiler.emulator.prices", 4),  # a submodule
        ("yaml", 5),
    ]


def all_modules() -> Iterator[str]:
    for name in MODULES:
        if name.endswith("__main__"):
            continue  # running them is their only job
        yield name


@pytest.mark.parametrize("name", list(all_modules()))
def test_every_module_imports(name: str) -> None:
    importlib.import_module(name)


def subclasses(cls: type[PricebookError]) -> Iterator[type[PricebookError]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from subclasses(sub)


def test_every_user_facing_error_is_defined_in_errors() -> None:
    for name in all_modules():
        importlib.import_module(name)
    elsewhere = sorted(f"{c.__module__}.{c.__qualname__}" for c in subclasses(PricebookError)
                       if c.__module__ != "compiler.errors")
    assert elsewhere == []
    assert {c.__name__ for c in subclasses(PricebookError)} >= {"NotQuotable", "ApplyFailed", "ExportError"}
