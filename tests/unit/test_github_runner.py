"""What a step reads from the runner and hands back: the event, the step outputs in the runner's multi-line form,
the job summary cut to GitHub's 1 MiB; and the REST client's pages, which never take the token to another host."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

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


def test_a_missing_variable_is_asked_for_by_name() -> None:
    with pytest.raises(GitHubError, match="this step needs GITHUB_TOKEN"):
        Runner.from_env({}).require("GITHUB_TOKEN", "")


def test_an_unreadable_event_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "event.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(GitHubError, match="cannot read the event payload"):
        Runner.from_env({"GITHUB_EVENT_PATH": str(tmp_path / "event.json")})


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


def test_pages_end(monkeypatch: pytest.MonkeyPatch) -> None:
    def send(self: GitHubApi, method: str, url: str, body: Any) -> tuple[Any, str]:
        return [url], f'<{url}x>; rel="next"'  # a list that never ends

    monkeypatch.setattr(GitHubApi, "_send", send)
    assert len(list(GitHubApi("https://api.github.example", "t", "a/b").pages("issues"))) == rest.MAX_PAGES
