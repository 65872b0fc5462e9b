"""Catalog files: finding them, decoding them, templates and their variables; every problem a diagnostic."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from compiler.catalog.files import (
    RULE_IDS,
    display_path,
    find_files,
    load_files,
    load_vars_file,
    parse_var_options,
    render_template,
    template_variables,
)
from compiler.catalog.source import Document
from compiler.errors import Diagnostic, Severity


def load_paths(
    paths: Sequence[str], variables: Mapping[str, object] | None = None
) -> tuple[list[Document], list[Diagnostic]]:
    """Every catalog file below `paths` as Documents, with every problem finding and reading them."""
    files, diagnostics = find_files(paths)
    documents, problems = load_files(files, variables or {})
    return documents, [*diagnostics, *problems]


def only(diagnostics: list[Diagnostic]) -> Diagnostic:
    assert len(diagnostics) == 1, diagnostics
    return diagnostics[0]


def at(diagnostic: Diagnostic) -> tuple[str, int, int]:
    return (diagnostic.rule, diagnostic.location.line, diagnostic.location.col)


def test_a_byte_order_mark_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_bytes("\ufeffmeters: []\n".encode())
    docs, problems = load_paths([str(tmp_path)])
    assert problems == []
    assert docs[0].data == {"meters": []}


def test_non_utf8_file_is_reported_at_the_bad_byte(tmp_path: Path) -> None:
    (tmp_path / "latin.yaml").write_bytes("meters:\n  - display_name: Caf\xe9\n".encode("latin-1"))
    docs, problems = load_paths([str(tmp_path)])
    assert docs == []
    problem = only(problems)
    assert (problem.rule, problem.location.line, problem.location.col) == ("encoding", 2, 22)
    assert "0xe9" in problem.message


# --- files -------------------------------------------------------------------------------------------


def test_load_paths_walks_directories_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "plans" / "sub").mkdir(parents=True)
    (tmp_path / "plans" / ".hidden").mkdir()
    (tmp_path / "plans" / "b.yml").write_text("meters: []\n")
    (tmp_path / "plans" / "a.yaml").write_text("products: []\n")
    (tmp_path / "plans" / "sub" / "c.yaml").write_text("prices: []\n")
    (tmp_path / "plans" / ".hidden" / "x.yaml").write_text("not: [valid\n")
    (tmp_path / "plans" / "notes.txt").write_text("ignored")
    monkeypatch.chdir(tmp_path)
    docs, problems = load_paths(["plans"])
    assert problems == []
    assert [d.file for d in docs] == ["plans/a.yaml", "plans/b.yml", "plans/sub/c.yaml"]
    # the same file named twice is read once
    docs, _ = load_paths(["plans", "plans/a.yaml"])
    assert len(docs) == 3


def test_missing_path_and_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    docs, problems = load_paths([str(tmp_path / "nope"), str(tmp_path / "empty")])
    assert docs == []
    assert [(p.rule, p.severity) for p in problems] == [
        ("path-not-found", Severity.ERROR),
        ("no-files", Severity.ERROR),
    ]


def test_a_path_missing_below_the_repository_root_says_where_pricebook_toml_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`cd plans && pricebook validate`: the default plans/ is relative to where pricebook runs."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "pricebook.toml").write_text("")
    (tmp_path / "plans" / "deep").mkdir(parents=True)
    (tmp_path / "plans" / "suite.yaml").write_text("products: []\n")
    monkeypatch.chdir(tmp_path / "plans" / "deep")
    (missing,) = find_files(["plans/"])[1]
    assert missing.rule == "path-not-found"
    assert "the catalog repository's root ../.. (where pricebook.toml is)" in str(missing.hint)
    assert "or pass ../../plans/" in str(missing.hint)
    (elsewhere,) = find_files(["nope/"])[1]
    assert "not to pricebook.toml (in ../..)" in str(elsewhere.hint)
    monkeypatch.chdir(tmp_path)  # at the root, the hint is the plain one
    (at_root,) = find_files(["nope/"])[1]
    assert at_root.hint == "pass a catalog directory (default plans/) or catalog files"


def test_display_path_is_relative_when_below_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert display_path(tmp_path / "plans" / "a.yaml") == "plans/a.yaml"
    assert display_path(Path("/elsewhere/a.yaml")) == "/elsewhere/a.yaml"


def test_every_file_is_reported_in_one_run(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("a: [\n")
    (tmp_path / "b.yaml").write_text("- list\n")
    (tmp_path / "c.yaml").write_text("meters: []\n")
    docs, problems = load_paths([str(tmp_path)])
    assert [d.file.rsplit("/", 1)[-1] for d in docs] == ["c.yaml"]
    assert sorted(p.rule for p in problems) == ["yaml-root", "yaml-syntax"]


# --- templates ---------------------------------------------------------------------------------------


def test_template_renders_with_variables(tmp_path: Path) -> None:
    (tmp_path / "t.yaml.j2").write_text(
        "products:\n"
        "{% for region in regions.split(',') %}\n"
        "  - id: p_{{ region }}\n"
        "    name: {{ name }}\n"
        "{% endfor %}\n"
    )
    docs, problems = load_paths([str(tmp_path)], {"regions": "eu,us", "name": "Suite"})
    assert problems == []
    assert docs[0].data == {"products": [{"id": "p_eu", "name": "Suite"}, {"id": "p_us", "name": "Suite"}]}


def test_plain_yaml_is_never_rendered(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("products:\n  - id: '{{ not_a_variable }}'\n    name: x\n")
    docs, problems = load_paths([str(tmp_path)])
    assert problems == []
    assert docs[0].data["products"][0]["id"] == "{{ not_a_variable }}"


def test_undefined_template_variable_has_the_template_line() -> None:
    text, problems = render_template("products:\n  - id: x\n    name: {{ product_name }}\n", "t.yaml.j2", {})
    assert text is None
    problem = only(problems)
    assert at(problem) == ("template-undefined", 3, 1)
    assert "product_name" in problem.message
    assert problem.hint == (
        "pass it with --var NAME=VALUE, in a --vars file, or in pricebook.toml as [environments.NAME.vars] "
        "(chosen with --env NAME)"
    )


def test_sandbox_violation_is_a_diagnostic() -> None:
    source = "a: 1\nb: {{ ''.__class__.__mro__[1].__subclasses__() }}\n"
    text, problems = render_template(source, "t.yaml.j2", {})
    assert text is None
    assert at(only(problems)) == ("template-sandbox", 2, 1)


def test_template_syntax_error_and_runtime_error() -> None:
    _, problems = render_template("a: 1\n{% for x in %}\n", "t.yaml.j2", {})
    assert at(only(problems)) == ("template-syntax", 2, 1)
    _, problems = render_template("a: 1\nb: 2\nc: {{ 1 // 0 }}\n", "t.yaml.j2", {})
    assert at(only(problems)) == ("template-error", 3, 1)


def test_template_default_filter_allows_optional_variables() -> None:
    text, problems = render_template("a: {{ rate | default(3) }}\n", "t.yaml.j2", {})
    assert problems == []
    assert text == "a: 3\n"


# --- variables ---------------------------------------------------------------------------------------


def test_var_options() -> None:
    values, bad = parse_var_options(["region=eu", "empty=", "eq=a=b", "novalue", "1bad=x"])
    assert values == {"region": "eu", "empty": "", "eq": "a=b"}
    assert bad == ["novalue", "1bad=x"]


def test_vars_file_yaml_and_json(tmp_path: Path) -> None:
    (tmp_path / "v.yaml").write_text("region: eu\nrate: 3000\n")
    (tmp_path / "v.json").write_text(json.dumps({"region": "us"}))
    assert load_vars_file(str(tmp_path / "v.yaml")) == ({"region": "eu", "rate": 3000}, [])
    assert load_vars_file(str(tmp_path / "v.json")) == ({"region": "us"}, [])


def test_bad_vars_files(tmp_path: Path) -> None:
    (tmp_path / "list.yaml").write_text("- a\n")
    (tmp_path / "broken.json").write_text("{nope")
    (tmp_path / "names.yaml").write_text("ok: 1\nnot-a-name: 2\n")
    assert only(load_vars_file(str(tmp_path / "list.yaml"))[1]).rule == "yaml-root"
    assert at(only(load_vars_file(str(tmp_path / "broken.json"))[1])) == ("vars-file", 1, 2)
    values, problems = load_vars_file(str(tmp_path / "names.yaml"))
    assert values == {"ok": 1}
    assert at(only(problems)) == ("vars-file", 2, 1)
    assert only(load_vars_file(str(tmp_path / "missing.yaml"))[1]).rule == "vars-file"


def test_var_options_win_over_the_vars_file(tmp_path: Path) -> None:
    (tmp_path / "v.yaml").write_text("region: eu\nrate: '1'\n")
    values, problems = template_variables(["region=us", "broken"], str(tmp_path / "v.yaml"))
    assert values == {"region": "us", "rate": "1"}
    assert only(problems).rule == "var-option"


def test_a_float_in_a_vars_file_is_a_value_like_any_other(tmp_path: Path) -> None:
    # only a catalog's amounts must be integers: a variable may be anything YAML holds
    (tmp_path / "v.yaml").write_text("unit_amount: 9.99\n")
    assert load_vars_file(str(tmp_path / "v.yaml")) == ({"unit_amount": 9.99}, [])


def test_every_rule_id_reported_here_is_documented() -> None:
    import re

    import compiler.catalog.files as files

    source = Path(files.__file__).read_text(encoding="utf-8")
    used = set(re.findall(r'"([a-z]+(?:-[a-z]+)+)"', source)) | {"encoding"}
    assert used == set(RULE_IDS)
