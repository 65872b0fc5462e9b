"""What a step reads from the runner and hands back: the event, the step outputs in the runner's multi-line form,
the job summary cut to GitHub's 1 MiB; and the REST client's pages, which never take the token to another host."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import compiler
from compiler.errors import GitHubError
from compiler.github import rest
from compiler.github.rest import GitHubApi
from compiler.github.runner import SUMMARY_CUT, SUMMARY_LIMIT, Runner, StepOutputs, fit
from compiler.github.sticky import find_marked


def read_outputs(text: str) -> dict[str, str]:
    """GITHUB_OUTPUT as the runner reads it: `name=value` lines, or `name<<DELIMITER` ... `DELIMITER`."""
    outputs: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if "<<" in line:
            name, delimiter = line.split("<<", 1)
            value: list[str] = []
            for inner in lines:
                if inner == delimiter:
                    break
                value.append(inner)
            else:
                raise AssertionError(f"{name}: no closing {delimiter}")
            outputs[name] = "\n".join(value)
        elif line:
            name, value_text = line.split("=", 1)
            outputs[name] = value_text
    return outputs


def test_the_runner_is_read_from_the_environment(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 42}}), encoding="utf-8")
    runner = Runner.from_env(
        {
            "GITHUB_EVENT_NAME": "pull_request",
            "GITHUB_EVENT_PATH": str(event),
            "GITHUB_REPOSITORY": "acme/billing",
            "GITHUB_RUN_ID": "99",
            "GITHUB_RUN_ATTEMPT": "2",
            "GITHUB_SERVER_URL": "https://github.example/",
            "GITHUB_TOKEN": "ghs_secret",
        }
    )
    assert runner.pull_request_number == 42
    assert runner.run_url == "https://github.example/acme/billing/actions/runs/99/attempts/2"
    assert runner.api_url == "https://api.github.com"
    assert "ghs_secret" not in repr(runner)
    assert Runner.from_env({}).pull_request_number is None and Runner.from_env({}).run_url == ""


@pytest.mark.parametrize(
    ("variable", "ask"),
    [
        ("GITHUB_REPOSITORY", Runner.require_repository),
        ("GITHUB_SHA", Runner.require_sha),
        ("GITHUB_TOKEN", Runner.require_token),
    ],
)
def test_a_missing_variable_is_asked_for_by_name(variable: str, ask: Callable[[Runner], str]) -> None:
    with pytest.raises(GitHubError, match=f"this step needs .*{variable}") as missing:
        ask(Runner.from_env({variable: ""}))
    rule = "ci-no-github-token" if variable == "GITHUB_TOKEN" else "ci-runner-environment"
    assert missing.value.rule == rule and missing.value.hint
    if variable == "GITHUB_TOKEN":
        assert "github-token input" in missing.value.hint and "github.token" in missing.value.hint


@pytest.mark.parametrize(
    ("variable", "value", "ask"),
    [
        ("GITHUB_REPOSITORY", "billing", Runner.require_repository),
        ("GITHUB_REPOSITORY", "acme/billing/../../orgs", Runner.require_repository),
        ("GITHUB_SHA", "main", Runner.require_sha),
        ("GITHUB_SHA", "5e" * 19 + "/x", Runner.require_sha),
    ],
)
def test_a_malformed_variable_is_refused_before_any_request(
    variable: str, value: str, ask: Callable[[Runner], str]
) -> None:
    with pytest.raises(GitHubError) as malformed:
        ask(Runner.from_env({variable: value}))
    assert malformed.value.rule == "ci-runner-environment"
    assert malformed.value.message.startswith(f"{variable} is {value!r}, not ")
    assert malformed.value.hint is not None and "as the runner sets it" in malformed.value.hint


def test_a_token_is_taken_without_the_line_break_a_secret_may_end_in_but_not_with_one_inside() -> None:
    assert Runner.from_env({"GITHUB_TOKEN": "ghs_abc123\n"}).require_token() == "ghs_abc123"
    with pytest.raises(GitHubError) as broken:
        Runner.from_env({"GITHUB_TOKEN": "ghs_abc\n123"}).require_token()
    assert broken.value.rule == "ci-no-github-token" and "line breaks" in broken.value.message
    assert "ghs_abc" not in broken.value.message


@pytest.mark.parametrize(
    ("payload", "said"), [("{not json", "cannot read the event payload"), ("[1]", "not a JSON object")]
)
def test_an_unreadable_event_is_an_error(tmp_path: Path, payload: str, said: str) -> None:
    (tmp_path / "event.json").write_text(payload, encoding="utf-8")
    with pytest.raises(GitHubError, match=said) as unreadable:
        Runner.from_env({"GITHUB_EVENT_PATH": str(tmp_path / "event.json")})
    assert unreadable.value.rule == "ci-event-invalid"
    assert unreadable.value.hint is not None and "GITHUB_EVENT_PATH" in unreadable.value.hint


def test_a_runner_file_that_cannot_be_written_is_named(tmp_path: Path) -> None:
    with pytest.raises(GitHubError) as outputs:
        StepOutputs(tmp_path).set("applied", "false")  # a directory, not a file
    assert outputs.value.rule == "ci-file-unwritable"
    assert outputs.value.message.startswith(f"cannot write to {tmp_path}, the file GITHUB_OUTPUT names: ")
    with pytest.raises(GitHubError) as summary:
        Runner(summary_file=tmp_path / "no such directory" / "summary").add_summary("# the plan\n")
    assert summary.value.rule == "ci-file-unwritable" and "GITHUB_STEP_SUMMARY" in summary.value.message


def test_every_github_error_has_a_rule_id_and_a_hint() -> None:
    # the GitHub side of `pricebook ci`: every GitHubError made there says which rule and what to do
    package = Path(compiler.__file__).resolve().parent
    bare = []
    for path in [*sorted((package / "github").glob("*.py")), package / "cli" / "ci.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "GitHubError":
                given = {keyword.arg for keyword in node.keywords}
                if not {"rule", "hint"} <= given:
                    bare.append(f"{path.name}:{node.lineno}")
    assert bare == []


def test_outputs_survive_any_value(tmp_path: Path) -> None:
    out = tmp_path / "output"
    outputs = StepOutputs.from_env({"GITHUB_OUTPUT": str(out)})
    outputs.set("plan-hash", "sha256:" + "0" * 64)
    outputs.set("comment", "line one\nEOF\nplan-hash<<x\n")
    assert read_outputs(out.read_text(encoding="utf-8")) == {
        "plan-hash": "sha256:" + "0" * 64,
        "comment": "line one\nEOF\nplan-hash<<x\n",
    }
    delimiters = re.findall(r"<<(\S+)", out.read_text(encoding="utf-8"))
    assert len(set(delimiters)) == len(delimiters) == 3  # one fresh per output (the value's own `<<x` counted)


def test_outputs_a_step_did_not_set_are_set_on_its_way_out(tmp_path: Path) -> None:
    out = tmp_path / "output"
    outputs = StepOutputs(out)
    outputs.set("exitcode", "2")
    outputs.set_unset({"exitcode": "1", "applied": "false"})
    outputs.set_unset({"applied": "true"})
    assert out.read_text(encoding="utf-8").count("<<") == 2  # each output once: a workflow reads one value
    assert read_outputs(out.read_text(encoding="utf-8")) == {"exitcode": "2", "applied": "false"}
    StepOutputs().set("exitcode", "1")  # outside a run: nowhere to write, and no error


def test_the_summary_stays_within_what_github_takes(tmp_path: Path) -> None:
    summary = tmp_path / "summary"
    runner = Runner(summary_file=summary)
    runner.add_summary("# heading\n")
    runner.add_summary("".join(f"| row {n} | {'x' * 100} |\n" for n in range(20_000)))  # about 2.2 MB
    text = summary.read_text(encoding="utf-8")
    assert len(text.encode("utf-8")) <= SUMMARY_LIMIT
    assert text.startswith("# heading\n| row 0 |") and text.endswith(SUMMARY_CUT)
    assert text.removesuffix(SUMMARY_CUT).endswith(" |")  # cut at the end of a line
    runner.add_summary("more\n")
    assert len(summary.read_bytes()) <= SUMMARY_LIMIT


def test_fit() -> None:
    assert fit("short\n", 100) == "short\n"
    assert fit("é" * 10, 20) == "é" * 10
    cut = fit("ééé\n" * 100, 200)
    assert len(cut.encode("utf-8")) <= 200 and cut.endswith(SUMMARY_CUT)
    assert fit("x" * 100, 10) == ""


def test_a_marker_counts_on_a_line_of_its_own() -> None:
    marker = "<!-- pricebook-plan environment=test -->"
    items: list[Any] = [
        {"body": f"quoted: {marker}"},
        {"body": None},
        "not an object",
        {"id": 2, "body": f"plan\n  {marker}  \n"},
        {"id": 3, "body": f"{marker}"},
    ]
    assert find_marked(items, marker) == {"id": 2, "body": f"plan\n  {marker}  \n"}
    assert find_marked(items, "<!-- pricebook-plan environment=live -->") is None


def test_pages_stay_on_the_apis_host(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []
    answers = {
        "https://api.github.example/repos/a/b/issues?per_page=100": (
            [1, 2],
            '<https://api.github.example/repos/a/b/issues?page=2>; rel="next"',
        ),
        "https://api.github.example/repos/a/b/issues?page=2": ([3], '<https://elsewhere.example/steal>; rel="next"'),
    }

    def send(self: GitHubApi, method: str, url: str, body: Any) -> tuple[Any, str]:
        asked.append(url)
        return answers[url]

    monkeypatch.setattr(GitHubApi, "_send", send)
    assert list(GitHubApi("https://api.github.example/", "t", "a/b").pages("issues")) == [1, 2, 3]
    assert asked == list(answers)


def test_a_list_longer_than_pricebook_reads_is_an_error_not_its_end(monkeypatch: pytest.MonkeyPatch) -> None:
    def send(self: GitHubApi, method: str, url: str, body: Any) -> tuple[Any, str]:
        return [url], f'<{url}x>; rel="next"'  # a list that never ends

    monkeypatch.setattr(GitHubApi, "_send", send)
    seen: list[Any] = []
    with pytest.raises(GitHubError) as endless:
        seen.extend(GitHubApi("https://api.github.example", "t", "a/b").pages("issues"))
    assert len(seen) == rest.MAX_PAGES  # what was read is handed on: a sticky comment found there is found
    assert endless.value.rule == "github-list-too-long" and "/repos/a/b/issues" in endless.value.message
    assert endless.value.hint is not None and "run the job again" in endless.value.hint
