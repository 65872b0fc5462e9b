"""pricebook's bounds on work: each one stops what it bounds with a clean error that names it (and how to raise it),
soon, however the input asks for more; and what stays within them works as before.

Each case would take seconds to minutes, and gigabytes, without its bound (issue 16 measured them); here the
bounds are the defaults unless a case lowers one so that a small input reaches it.
"""

from __future__ import annotations

import json
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from compiler import bounds
from compiler.catalog.files import load_vars_file, render_template
from compiler.catalog.schema import messages
from compiler.changes.changeset import ChangeSet
from compiler.changes.planfile import load_changeset
from compiler.cli import cli, main
from compiler.errors import UsageError
from compiler.render.json import render_json
from tests.cli import invoke

# -- the bounds themselves ---------------------------------------------------------------------------------------


def test_a_bound_is_its_default_until_its_variable_says_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PRICEBOOK_MAX_FILE_MB", raising=False)
    assert bounds.FILE_MB.value == 10 and bounds.file_bytes() == 10_000_000
    monkeypatch.setenv("PRICEBOOK_MAX_FILE_MB", "0.5")
    assert bounds.file_bytes() == 500_000
    assert bounds.FILE_MB.show() == "0.5 MB"
    assert "PRICEBOOK_MAX_FILE_MB=N" in bounds.FILE_MB.hint() and "now 0.5 MB" in bounds.FILE_MB.hint()


@pytest.mark.parametrize("raw", ["abc", "0", "-3", "inf", "nan"])
def test_a_bound_that_is_not_a_positive_number_is_a_usage_error(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("PRICEBOOK_TEMPLATE_SECONDS", raw)
    with pytest.raises(UsageError) as refused:
        _ = bounds.TEMPLATE_SECONDS.value
    assert "PRICEBOOK_TEMPLATE_SECONDS" in refused.value.message and refused.value.hint


def test_every_bound_has_its_own_variable_and_says_what_it_bounds() -> None:
    names = [b.env for b in bounds.ALL]
    assert len(set(names)) == len(names) and all(n.startswith("PRICEBOOK_") for n in names)
    assert all(b.default > 0 and b.unit and b.bounds for b in bounds.ALL)


# -- templates ---------------------------------------------------------------------------------------------------


def render(source: str, **variables: object) -> tuple[str | None, list[Any]]:
    started = time.monotonic()
    text, problems = render_template(source, "t.yaml.j2", variables)
    assert time.monotonic() - started < 3, "a bound should have stopped it"
    return text, problems


def refused(source: str, rule: str, **variables: object) -> str:
    """The message of the one diagnostic `source` renders to, which must have `rule` and a hint."""
    text, problems = render(source, **variables)
    assert text is None and len(problems) == 1, problems
    (problem,) = problems
    assert problem.rule == rule, problem
    assert problem.hint
    return str(problem.message)


@pytest.mark.parametrize(
    ("source", "variables"),
    [
        ("{{ 'a' * 1000000000 }}", {}),
        ("{{ x * 10**9 }}", {"x": "-1"}),  # a --var is a string: this repeats it
        ("{{ [1, 2] * 1000000000 }}", {}),
        ("{{ lipsum(n=10000000) }}", {}),
        ("{{ 'x'|center(1000000000) }}", {}),
        ("{{ 'x'.ljust(1000000000) }}", {}),
        ("{{ 'x'.zfill(1000000000) }}", {}),
        ("{{ '%999999999d' % 1 }}", {}),
        ("{{ '%*d' % (999999999, 1) }}", {}),
        ("{{ '%999999999d'|format(1) }}", {}),
        ("{{ '{:>999999999}'.format(1) }}", {}),
        ("{{ 'ab\nab'|indent(1000000000) }}", {}),
        ("{{ range(100000)|join('x' * 1000) }}", {}),
        ("{{ ('x' * 1000).join(range(100000)|map('string')) }}", {}),
        ("{{ ('a' * 10000)|replace('a', 'b' * 10000) }}", {}),
        ("{{ ('a' * 10000).replace('a', 'b' * 10000) }}", {}),
        ("{{ [1]|batch(1000000000, 'x')|list }}", {}),
        ("{{ [1]|slice(1000000000)|list }}", {}),
        ("{{ ([range(100000)|list] * 1000)|sum(start=[]) }}", {}),
        ("{{ ('a b ' * 100000)|wordwrap(1, wrapstring='x' * 1000) }}", {}),
        ("{{ [x] * 100000 }}", {"x": "y" * 1000}),  # each item within the bound, printed together beyond it
        ("{{ ([x] * 100000)|string }}", {"x": "y" * 1000}),
        ("{{ ([x] * 100000)|tojson }}", {"x": "y" * 1000}),
        ("{{ 'a' ~ [x] * 100000 }}", {"x": "y" * 1000}),
        ("{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}", {}),
        ("{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}{% endfor %}", {}),
        ("{% set xs = [1] %}{% for i in range(40) %}{% set _ = xs.extend(xs) %}{% endfor %}", {}),
    ],
)
def test_templates_cannot_build_more_than_a_catalog_file(source: str, variables: dict[str, object]) -> None:
    message = refused("products: []\n" + source + "\n", "template-too-large", **variables)
    assert "more than a catalog file may hold (10 MB)" in message


@pytest.mark.parametrize(
    "source",
    [
        "{{ 10 ** 100000000 }}",
        "{{ (10 ** 5000)|string }}",  # once an internal error: Python will not print a 5,000-digit integer
        "{% set ns = namespace(n=2) %}{% for i in range(30) %}{% set ns.n = ns.n * ns.n %}{% endfor %}",
        "{{ ('9' * 2000)|int }}",
    ],
)
def test_templates_cannot_compute_huge_integers(source: str) -> None:
    message = refused("products: []\n" + source + "\n", "template-integer")
    assert "more than 1,000 digits" in message


def test_the_digit_bound_can_be_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRICEBOOK_TEMPLATE_DIGITS", "3000")
    text, problems = render("{{ (10 ** 2000)|string|length }}")
    assert (text, problems) == ("2001", [])


@pytest.mark.parametrize(
    "source",
    [
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
        # nothing but loops over a variable: no call, no operator, no output for a hook to see
        "{% for a in xs %}{% for b in xs %}{% for c in xs %}{% endfor %}{% endfor %}{% endfor %}",
        "{% for i in range(100000) %}{% for j in range(100000) %}{{ '' }}{% endfor %}{% endfor %}",
    ],
)
def test_templates_stop_at_the_time_bound(monkeypatch: pytest.MonkeyPatch, source: str) -> None:
    monkeypatch.setenv("PRICEBOOK_TEMPLATE_SECONDS", "0.2")
    started = time.monotonic()
    message = refused("products: []\n" + source + "\n", "template-timeout", xs=list(range(10_000)))
    assert message == "the template ran longer than 0.2 seconds"
    assert time.monotonic() - started < 1


def test_templates_stop_at_the_call_depth() -> None:
    source = "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}\nproducts: []\n{{ f(1) }}\n"
    text, problems = render(source)
    assert text is None and [(p.rule, p.location.line) for p in problems] == [("template-recursion", 1)]
    assert "calls nest deeper than 100 levels" in problems[0].message


def test_a_recursive_loop_is_bounded_too() -> None:
    tree: dict[str, Any] = {"children": []}
    node = tree
    for _ in range(150):
        child: dict[str, Any] = {"children": []}
        node["children"].append(child)
        node = child
    source = "{% for n in [tree] recursive %}{{ loop(n.children) }}{% endfor %}"
    refused(source, "template-recursion", tree=tree)


def test_the_rendered_text_is_bounded_where_it_goes_past(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRICEBOOK_MAX_FILE_MB", "0.01")  # 10,000 characters
    # 21 characters on two lines, then lines of 51: the 196th goes past 10,000, on line 2 + 196
    source = "products: []\n# head\n{% for i in range(1000) %}{{ 'x' * 50 }}\n{% endfor %}"
    text, problems = render(source)
    assert text is None and [(p.rule, p.location.line) for p in problems] == [("file-too-large", 198)]
    assert problems[0].message == "the rendered template is larger than 0.01 MB"


@pytest.mark.parametrize(
    "source",
    [
        "{% if true %}" * 2000 + "{% endif %}" * 2000,  # once an internal error (RecursionError)
        "{% for a in [1] %}" * 25 + "{% endfor %}" * 25,  # Python compiles at most 20 nested loops
        "{{ " + "(" * 3000 + "1" + ")" * 3000 + " }}",
    ],
)
def test_templates_nested_too_deeply_to_compile_are_told_so(source: str) -> None:
    message = refused("products: []\n" + source + "\n", "template-too-deep")
    assert "too deeply to be compiled" in message


def test_ordinary_templates_render_as_before() -> None:
    source = (
        "{% macro price(key, amount) %}- {lookup_key: {{ key }}, unit_amount: {{ amount * 100 }}}{% endmacro %}\n"
        "prices:\n"
        "{% for tier in tiers %}  {{ price('p_%s' % tier.name|lower, tier.amount) }}\n{% endfor %}"
        "# {{ '%-6s|%5.2f' % ('a', 1.5) }} {{ '{:>4}'.format(7) }} {{ names|join(', ') }} {{ 'x'|center(5) }}|\n"
        "# {{ (2 ** 64)|string }} {{ 'a-b'|replace('-', '_') }} {{ [1, 2, 3]|sum }} "
        "{{ lipsum(1, false, 3, 5)|length > 0 }}\n"
    )
    tiers = [{"name": "Basic", "amount": 5}, {"name": "Pro", "amount": 12}]
    text, problems = render(source, tiers=tiers, names=["a", "b"])
    assert problems == []
    assert text == (
        "\nprices:\n"
        "  - {lookup_key: p_basic, unit_amount: 500}\n"
        "  - {lookup_key: p_pro, unit_amount: 1200}\n"
        "# a     | 1.50    7 a, b   x  |\n"
        "# 18446744073709551616 a_b 6 True\n"
    )


def test_the_example_template_renders_as_before() -> None:
    source = Path("plans/support.yaml.j2").read_text(encoding="utf-8")
    text, problems = render(source)
    assert problems == [] and text is not None and "lookup_key" in text


# -- --vars files ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [65, 100_000])  # the second was an internal error (RecursionError)
def test_a_deeply_nested_json_vars_file_is_refused(tmp_path: Path, depth: int) -> None:
    path = tmp_path / "vars.json"
    path.write_text('{"a": ' * depth + "1" + "}" * depth, encoding="utf-8")
    variables, problems = load_vars_file(str(path))
    assert variables == {} and [p.rule for p in problems] == ["vars-file"]
    assert "nests deeper than 64 levels" in problems[0].message


def test_a_json_vars_file_at_the_depth_bound_is_read(tmp_path: Path) -> None:
    path = tmp_path / "vars.json"
    path.write_text('{"a": ' * 64 + "1" + "}" * 64, encoding="utf-8")
    variables, problems = load_vars_file(str(path))
    assert problems == [] and "a" in variables


def test_a_json_vars_file_with_too_many_values_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRICEBOOK_MAX_FILE_VALUES", "100")
    path = tmp_path / "vars.json"
    path.write_text(json.dumps({"xs": list(range(200))}), encoding="utf-8")
    _, problems = load_vars_file(str(path))
    assert [p.rule for p in problems] == ["vars-file"] and "more than 100 values" in problems[0].message


def test_vars_from_an_endless_file_are_read_only_up_to_the_bound() -> None:
    started = time.monotonic()
    variables, problems = load_vars_file("/dev/zero")  # --vars /dev/zero reached 5.4 GB
    assert variables == {} and [p.rule for p in problems] == ["file-too-large"]
    assert "larger than 10 MB" in problems[0].message
    assert time.monotonic() - started < 2


# -- saved plans -------------------------------------------------------------------------------------------------


def _sparse(path: Path, size: int) -> Path:
    """A file of `size` bytes that takes no room on disk (and reads as zeros)."""
    with path.open("wb") as handle:
        handle.truncate(size)
    return path


def test_a_5_gb_saved_plan_is_refused_by_its_bound_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    huge = _sparse(tmp_path / "plan.json", 5 * 10**9)
    monkeypatch.delenv("PRICEBOOK_MAX_PLAN_MB", raising=False)
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_planfilebound")
    monkeypatch.setenv("STRIPE_API_BASE", "http://127.0.0.1:9")  # never reached: the file is refused first
    started = time.monotonic()
    code, err = through_main(monkeypatch, capsys, "apply", "--plan", str(huge))
    assert time.monotonic() - started < 5
    assert code == 1
    assert (
        f"pricebook: error[plan-file-too-large]: the saved plan {huge} is larger than 500 MB; nothing was changed\n"
        "  hint: check that it is a plan saved by `pricebook plan --out FILE` (one of 10,000 new prices is about "
        "25 MB); set PRICEBOOK_MAX_PLAN_MB=N to raise the bound (N in MB; now 500 MB)"
    ) in err


def test_a_saved_plan_over_its_bound_is_not_read_at_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    huge = _sparse(tmp_path / "plan.json", 10**9)
    monkeypatch.setenv("PRICEBOOK_MAX_PLAN_MB", "50")
    tracemalloc.start()
    try:
        with pytest.raises(UsageError) as refused:
            load_changeset(huge)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert refused.value.rule == "plan-file-too-large"
    assert peak < bounds.MB  # reading up to the bound would have held 50 MB


def test_a_saved_plan_without_a_size_is_read_only_up_to_its_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRICEBOOK_MAX_PLAN_MB", "1")
    with pytest.raises(UsageError) as refused:
        load_changeset("/dev/zero")  # endless: it has no size to refuse it by
    assert refused.value.rule == "plan-file-too-large"
    assert refused.value.message == "the saved plan /dev/zero is larger than 1 MB; nothing was changed"


def test_a_saved_plan_within_its_bound_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    saved = tmp_path / "plan.json"
    saved.write_text(render_json(ChangeSet()), encoding="utf-8")
    size = saved.stat().st_size
    monkeypatch.setenv("PRICEBOOK_MAX_PLAN_MB", str((size + 0.5) / bounds.MB))
    assert load_changeset(saved).calls == ()
    monkeypatch.setenv("PRICEBOOK_MAX_PLAN_MB", str((size - 0.5) / bounds.MB))
    with pytest.raises(UsageError) as refused:
        load_changeset(saved)
    assert refused.value.rule == "plan-file-too-large"


# -- diagnostics -------------------------------------------------------------------------------------------------


def _many_errors(tmp_path: Path, count: int) -> Path:
    path = tmp_path / "many.yaml"
    path.write_text("products: [" + ", ".join(["1"] * count) + "]\n", encoding="utf-8")
    return path


def test_validate_prints_the_first_diagnostics_and_counts_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _many_errors(tmp_path, 40)
    result = invoke(cli, "validate", str(path), env={"PRICEBOOK_MAX_DIAGNOSTICS": "5"})
    lines = result.stderr.splitlines()
    assert result.exit_code == 1
    assert len([line for line in lines if "error[schema-type]" in line]) == 5
    assert "pricebook: 35 more errors not shown (the first 5 are above); set PRICEBOOK_MAX_DIAGNOSTICS=N" in lines[-2]
    assert lines[-1] == "40 errors in 1 file"


def through_main(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """`pricebook ARGS` as the entry point runs it (errors reported, exit code): the code and stderr."""
    monkeypatch.setattr(sys, "argv", ["pricebook", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    code = exit_info.value.code
    assert isinstance(code, int)
    return code, capsys.readouterr().err


def test_an_invalid_catalog_stops_other_commands_with_as_few_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _many_errors(tmp_path, 40)
    monkeypatch.setenv("PRICEBOOK_MAX_DIAGNOSTICS", "3")
    code, err = through_main(monkeypatch, capsys, "compile", str(path))
    assert code == 1
    lines = err.splitlines()
    assert len(lines) == 3 * 2 + 2, err  # three diagnostics with their hints, the count, what stopped the command
    assert lines[6].startswith("pricebook: 37 more errors not shown")


def test_checking_stops_after_the_problem_bound(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The work is bounded, not only the printing: past the bound no further schema error is even made."""
    made = 0
    real = messages._diagnostics

    def counted(*args: Any) -> Any:
        nonlocal made
        made += 1
        return real(*args)

    monkeypatch.setattr(messages, "_diagnostics", counted)
    monkeypatch.setenv("PRICEBOOK_MAX_PROBLEMS", "50")
    path = _many_errors(tmp_path, 20_000)
    result = invoke(cli, "validate", "--format", "json", str(path))
    found = json.loads(result.stdout)
    assert result.exit_code == 1
    assert [d["rule"] for d in found].count("schema-type") == 50
    assert [d for d in found if d["rule"] == "too-many-problems"] == [
        {
            "file": str(path),
            "line": 0,
            "col": 0,
            "severity": "error",
            "rule": "too-many-problems",
            "message": "checking stopped after 50 problems: fix these and run it again",
            "hint": "set PRICEBOOK_MAX_PROBLEMS=N to raise the bound (N in problems; now 50 problems)",
        }
    ]
    assert made <= 51


# -- quote -------------------------------------------------------------------------------------------------------


def test_a_huge_quote_quantity_is_a_clean_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # above about 1e28 this was an internal error (decimal.InvalidOperation)
    args = ("quote", "plans", "--price", "seats_graduated_monthly", "--quantity", "1" + "0" * 30)
    code, err = through_main(monkeypatch, capsys, *args)
    assert code == 1
    assert "pricebook: error[quantity-too-large]: quantity 1,000,000,000,000,000,000,000,000,000,000 is above" in err
    assert "hint:" in err and "Traceback" not in err and "internal error" not in err


def test_the_largest_quote_quantity_is_quoted() -> None:
    result = invoke(cli, "quote", "plans", "--price", "api_base_plus_usage_monthly", "--quantity", "1" + "0" * 18)
    assert result.exit_code == 0, result.stderr
    assert "$500,000,000,000,005.00" in result.stdout
