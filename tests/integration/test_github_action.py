"""The action's own step (`action.yml`, the step `pricebook`), run here as a runner runs it: its `run:` script with
bash, its `env:` filled from the action's inputs, the variables GitHub sets (`GITHUB_EVENT_PATH` with the event's
payload, `GITHUB_OUTPUT`, `GITHUB_STEP_SUMMARY`, ...) pointing at temporary files, against the emulator and a
stand-in for GitHub's API on 127.0.0.1 (tests/fake_github.py).

A catalog repository's life: pull requests get their plan comment (and an invalid catalog its annotations and a
comment with the errors), the merge applies the approved plan and only that one, and the drift check reports an
edit made by hand in an issue until it is undone.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler.emulator import EmulatorHandle
from tests.cli import REPO, run_pricebook
from tests.fake_github import REPOSITORY, FakeGitHub, serve_github
from tests.unit.test_github_runner import read_outputs
from tests.unit.test_validate_annotations import check_sarif, read_annotations

TOKEN = "ghs_actionTOKEN0123456789"
ACTION = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))
MERGE_SHA = "5e" * 20
STICKY = "<!-- pricebook-plan environment=test -->"
PLAN_HASH = re.compile(r"^<!-- pricebook-plan-hash (sha256:[0-9a-f]{64}) -->$", re.MULTILINE)
_INPUT = re.compile(r"\$\{\{\s*inputs\.([A-Za-z0-9_-]+)\s*\}\}")


def the_step() -> Mapping[str, Any]:
    (step,) = [step for step in ACTION["runs"]["steps"] if step.get("id") == "pricebook"]
    assert step["shell"] == "bash"
    found: Mapping[str, Any] = step
    return found


def step_env(inputs: Mapping[str, str]) -> dict[str, str]:
    """The step's `env:` as the runner makes it: each `${{ inputs.NAME }}` replaced by the input or its default.
    Any other expression fails here, so that this test learns of it."""
    given = {name: str(spec.get("default", "")) for name, spec in ACTION["inputs"].items()}
    unknown = set(inputs) - set(given)
    assert not unknown, f"not inputs of the action: {unknown}"
    given.update(inputs)
    env: dict[str, str] = {}
    for name, value in the_step()["env"].items():
        filled = _INPUT.sub(lambda found: given[found.group(1)], str(value))
        assert "${{" not in filled, f"{name}: {value} is an expression this test cannot evaluate"
        env[name] = filled
    return env


@dataclass(frozen=True)
class StepRun:
    code: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    summary: str


@dataclass
class CatalogRepository:
    """A checkout of a catalog repository on a runner, and what it takes to run the action's step in it."""

    root: Path
    runner_temp: Path
    emulator: EmulatorHandle
    github: FakeGitHub
    runs: int = 0

    @property
    def plans(self) -> Path:
        return self.root / "plans"

    def run(self, event_name: str, event: Mapping[str, Any], sha: str = MERGE_SHA, **inputs: str) -> StepRun:
        self.runs += 1
        files = self.runner_temp / f"run-{self.runs}"
        files.mkdir()
        (files / "event.json").write_text(json.dumps(event), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "GITHUB_", "PRICEBOOK_"))}
        env.update(
            PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",  # this venv's `pricebook`
            NO_COLOR="1",
            CI="true",
            GITHUB_ACTIONS="true",
            GITHUB_EVENT_NAME=event_name,
            GITHUB_EVENT_PATH=str(files / "event.json"),
            GITHUB_REPOSITORY=REPOSITORY,
            GITHUB_SHA=sha,
            GITHUB_REF_NAME="main",
            GITHUB_API_URL=self.github.url,
            GITHUB_SERVER_URL="https://github.example",
            GITHUB_RUN_ID=str(1000 + self.runs),
            GITHUB_RUN_ATTEMPT="1",
            GITHUB_WORKSPACE=str(self.root),
            GITHUB_OUTPUT=str(files / "output"),
            GITHUB_STEP_SUMMARY=str(files / "summary"),
            RUNNER_TEMP=str(self.runner_temp),
            STRIPE_API_BASE=self.emulator.url,  # the job's env: the emulator stands in for Stripe
            # what the action's cache steps put in the job's env (the cache itself is GitHub's: not run here)
            PRICEBOOK_CACHE_DIR=str(self.runner_temp / "pricebook-cache"),
        )
        inputs = {"stripe-api-key": self.emulator.api_key, "github-token": TOKEN, **inputs}
        env.update(step_env(inputs))
        script = files / "step.sh"
        script.write_text(the_step()["run"], encoding="utf-8")
        command = ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)]  # GitHub's `shell: bash`
        done = subprocess.run(command, cwd=self.root, env=env, capture_output=True, text=True, timeout=600)
        output = files / "output"
        summary = files / "summary"
        return StepRun(
            done.returncode,
            done.stdout,
            done.stderr,
            read_outputs(output.read_text(encoding="utf-8")) if output.exists() else {},
            summary.read_text(encoding="utf-8") if summary.exists() else "",
        )

    def pull_request(self, number: int = 7, **inputs: str) -> StepRun:
        return self.run("pull_request", {"pull_request": {"number": number}}, command="pr", **inputs)

    def push(self, **inputs: str) -> StepRun:
        return self.run("push", {"after": MERGE_SHA}, command="apply", **inputs)

    def schedule(self, **inputs: str) -> StepRun:
        return self.run("schedule", {"schedule": "17 6 * * *"}, command="drift", **inputs)

    def merged(self, number: int = 7) -> None:
        """Pull request `number` was merged as MERGE_SHA."""
        pull = {"number": number, "merged_at": "2026-12-01T10:00:00Z", "merge_commit_sha": MERGE_SHA}
        self.github.pulls_of_commit[MERGE_SHA] = [pull]

    def writes_to_stripe(self) -> list[dict[str, Any]]:
        return [r for r in self.emulator.requests() if r["method"] != "GET" and r["path"].startswith("/v1/")]

    def plan_exit_code(self) -> int:
        return run_pricebook(["plan", str(self.plans), "--detailed-exitcode"], self.emulator).returncode


@pytest.fixture
def repository(emulator: EmulatorHandle, tmp_path: Path) -> Iterator[CatalogRepository]:
    root = tmp_path / "billing"
    shutil.copytree(REPO / "plans", root / "plans")
    temp = tmp_path / "runner-temp"
    temp.mkdir()
    with serve_github(TOKEN) as github:
        yield CatalogRepository(root, temp, emulator, github)


def _ok(run: StepRun) -> None:
    assert run.code == 0, f"exit {run.code}\n{run.stdout}\n{run.stderr}"


def _comment(repository: CatalogRepository, number: int = 7) -> dict[str, Any]:
    (comment,) = repository.github.comments[number]
    return comment


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# -- a pull request ----------------------------------------------------------------------------------------------


def test_a_pull_request_gets_one_plan_comment_updated_on_every_push(repository: CatalogRepository) -> None:
    repository.github.comment(7, "Looks reasonable, let's see the plan")
    first = repository.pull_request()
    _ok(first)
    assert "$ pricebook validate plans/ --format github" in first.stdout
    assert "$ pricebook plan plans/ --format markdown --detailed-exitcode --out " in first.stdout
    assert read_annotations(first.stdout) == []  # a valid catalog
    human, comment = repository.github.comments[7]
    assert human["body"] == "Looks reasonable, let's see the plan"
    body = comment["body"]
    assert STICKY in body.splitlines()
    found = PLAN_HASH.search(body)
    assert found is not None
    assert first.outputs == {
        "exitcode": "2",
        "has-changes": "true",
        "plan-hash": found.group(1),
        "comment-url": comment["html_url"],
    }
    assert first.summary.startswith("## pricebook plan: pull request #7, environment test\n")
    assert comment["html_url"] in first.summary
    for identity in ("productivity_suite", "standard-cost-per-5-users", "emails_sent"):
        assert identity in body and identity in first.summary
    assert repository.writes_to_stripe() == []  # a plan never writes

    _edit(repository.plans / "productivity.yaml", "nickname: Standard Cost Per 5 Users", "nickname: Five seats")
    second = repository.pull_request()
    _ok(second)
    assert [c["id"] for c in repository.github.comments[7]] == [human["id"], comment["id"]]  # updated in place
    assert "Five seats" in comment["body"]
    assert second.outputs["plan-hash"] != first.outputs["plan-hash"]
    assert second.outputs["plan-hash"] == PLAN_HASH.search(comment["body"]).group(1)  # type: ignore[union-attr]
    assert all(seen.authorization == f"Bearer {TOKEN}" for seen in repository.github.requests)
    assert TOKEN not in second.stdout + second.stderr


def test_an_invalid_catalog_is_annotated_and_its_comment_shows_the_errors(repository: CatalogRepository) -> None:
    _edit(repository.plans / "productivity.yaml", "amount: 1000", "amount: 10.00")
    run = repository.pull_request()
    assert run.code == 1, run.stdout + run.stderr
    (annotation,) = [a for a in read_annotations(run.stdout) if a.name == "error"]
    assert annotation.properties["file"] == "plans/productivity.yaml"
    assert annotation.properties["title"] == "pricebook: money-float"
    body = _comment(repository)["body"]
    assert STICKY in body.splitlines() and "money-float" in body and "productivity.yaml" in body
    assert PLAN_HASH.search(body) is None  # no plan, nothing to approve
    assert run.outputs["exitcode"] == "1" and run.outputs["plan-hash"] == ""
    assert "money-float" in run.summary


def test_a_pull_request_whose_comment_github_refuses_still_sets_the_plans_outputs(
    repository: CatalogRepository,
) -> None:
    run = repository.pull_request(7, **{"github-token": "ghs_notTHEjobsTOKEN"})
    assert run.code == 1, run.stdout + run.stderr
    assert "error[github-refused]: GitHub refused GET /repos/acme/billing/issues/7/comments: 401" in run.stderr
    assert repository.github.comments == {}
    assert run.outputs["exitcode"] == "2" and run.outputs["has-changes"] == "true"
    assert run.outputs["plan-hash"].startswith("sha256:") and run.outputs["comment-url"] == ""


def test_a_push_is_not_a_pull_request(repository: CatalogRepository) -> None:
    run = repository.run("push", {}, command="pr")
    assert run.code == 1
    assert "`pricebook ci pr` runs on a pull_request event, not on push" in run.stderr
    assert repository.github.requests == []


# -- the merge ---------------------------------------------------------------------------------------------------


def test_the_merge_applies_the_approved_plan_then_there_is_nothing_left(repository: CatalogRepository) -> None:
    _ok(repository.pull_request())
    approved = PLAN_HASH.search(_comment(repository)["body"]).group(1)  # type: ignore[union-attr]
    repository.merged()
    run = repository.push()
    _ok(run)
    assert f"Approved in pull request #7: plan {approved}" in run.stdout
    assert f"--expect-plan-hash {approved}" in run.stdout
    assert run.outputs["applied"] == "true" and run.outputs["plan-hash"] == approved
    assert run.summary.startswith("## pricebook apply: applied\n")
    assert repository.writes_to_stripe()
    assert repository.plan_exit_code() == 0

    again = repository.push()  # a re-run of the same workflow
    _ok(again)
    assert "Nothing to apply" in again.stdout and again.outputs["applied"] == "false"


def test_a_plan_other_than_the_approved_one_is_refused(repository: CatalogRepository) -> None:
    _ok(repository.pull_request())
    repository.merged()
    # the catalog on main is not the one the pull request showed (say, a second merge changed an amount)
    _edit(repository.plans / "productivity.yaml", "amount: 1000", "amount: 1200")
    run = repository.push()
    assert run.code == 1, run.stdout + run.stderr
    assert "differs from the one approved" in run.stderr
    assert repository.writes_to_stripe() == []
    assert run.outputs["applied"] == "false"


def test_a_commit_no_pull_request_brought_is_refused_unless_approval_is_not_required(
    repository: CatalogRepository,
) -> None:
    run = repository.push()
    assert run.code == 1
    assert f"no merged pull request brought commit {MERGE_SHA[:12]}" in run.stderr
    assert repository.writes_to_stripe() == []
    _not_applied(run, "2")
    assert run.summary.startswith("## pricebook apply: nothing applied\n")
    assert "no merged pull request brought commit" in run.summary and "productivity_suite" in run.summary
    _ok(repository.push(**{"require-approval": "false"}))
    assert repository.plan_exit_code() == 0


def test_a_pull_request_without_a_plan_for_this_environment_approves_nothing(repository: CatalogRepository) -> None:
    repository.github.comment(7, "<!-- pricebook-plan environment=live -->\nthe live plan, not this one")
    repository.merged()
    run = repository.push()
    assert run.code == 1
    assert "error[ci-no-approved-plan]: pull request #7 has no plan comment for environment test" in run.stderr
    assert repository.writes_to_stripe() == []
    _not_applied(run, "2")


def test_a_pull_request_whose_plan_problems_blocked_approves_nothing_and_says_so(
    repository: CatalogRepository,
) -> None:
    # a price made by hand holds a lookup key of the catalog: the pull request's plan is blocked
    client = repository.emulator.client()
    client.v1.products.create({"id": "by_hand", "name": "By hand"})
    held = client.v1.prices.create(
        {"product": "by_hand", "currency": "usd", "unit_amount": 5, "lookup_key": "suite_per_5_users_monthly"}
    )
    blocked = repository.pull_request()
    body = _comment(repository)["body"]
    assert "lookup-key-held-by-unmanaged-price" in body and PLAN_HASH.search(body) is None
    assert body.endswith(f"{STICKY}\n<!-- pricebook-plan-blocked problems=1 -->\n")
    assert blocked.outputs["plan-hash"] == ""
    # the key is taken off the price in the Dashboard and the pull request merged without planning it again: the
    # plan on main has no problem, but nobody approved it
    client.v1.prices.update(held.id, {"lookup_key": "by_hand_monthly"})
    repository.merged()
    written = len(repository.writes_to_stripe())
    run = repository.push()
    assert run.code == 1, run.stdout + run.stderr
    assert (
        "error[ci-plan-blocked]: the plan comment of pull request #7 for environment test shows a plan that 1 "
        "problem blocks: a blocked plan has no plan hash, so nothing was approved; nothing was applied"
    ) in run.stderr
    assert "fix the problems the comment lists in a pull request" in run.stderr
    assert len(repository.writes_to_stripe()) == written
    _not_applied(run, "2")


def test_a_pull_request_whose_plan_failed_approves_nothing_and_says_so(repository: CatalogRepository) -> None:
    _edit(repository.plans / "productivity.yaml", "amount: 1000", "amount: 10.00")
    assert repository.pull_request().code == 1
    _edit(repository.plans / "productivity.yaml", "amount: 10.00", "amount: 1000")  # fixed on main, not planned
    repository.merged()
    run = repository.push()
    assert run.code == 1, run.stdout + run.stderr
    assert (
        "error[ci-no-approved-plan]: the plan comment of pull request #7 for environment test shows no plan (the "
        "plan failed"
    ) in run.stderr
    assert repository.writes_to_stripe() == []
    _not_applied(run, "2")


def test_apply_sets_its_outputs_when_github_refuses_the_look_for_the_approval(repository: CatalogRepository) -> None:
    repository.merged()
    run = repository.push(**{"github-token": "ghs_notTHEjobsTOKEN"})
    assert run.code == 1, run.stdout + run.stderr
    assert "GitHub refused GET /repos/acme/billing/commits/" in run.stderr
    assert repository.writes_to_stripe() == []
    _not_applied(run, "2")


def test_apply_sets_its_outputs_when_it_stops_before_the_plan(repository: CatalogRepository) -> None:
    # an environment pricebook.toml does not have (there is none): nothing is planned, and a workflow that reads
    # the outputs still finds each of them
    run = repository.push(environment="nosuch")
    assert run.code == 1, run.stdout + run.stderr
    assert "$ pricebook plan" not in run.stdout
    assert run.outputs == {"exitcode": "1", "has-changes": "false", "plan-hash": "", "applied": "false"}


def _not_applied(run: StepRun, plan_exitcode: str) -> None:
    """The outputs of an apply that applied nothing: the plan's own (it ran), and applied=false."""
    assert run.outputs["applied"] == "false", run.outputs
    assert run.outputs["exitcode"] == plan_exitcode
    assert run.outputs["has-changes"] == ("true" if plan_exitcode == "2" else "false")
    assert run.outputs["plan-hash"].startswith("sha256:") == (plan_exitcode == "2")


def test_each_environment_of_pricebook_toml_has_its_own_comment_and_approval(repository: CatalogRepository) -> None:
    # the key input goes to the variable pricebook.toml names for the environment (no STRIPE_API_KEY is set)
    subprocess.run(["git", "init", "--quiet", str(repository.root)], check=True, timeout=60)
    (repository.root / "pricebook.toml").write_text(
        '[environments.staging]\napi_key_env = "STRIPE_STAGING_API_KEY"\n', encoding="utf-8"
    )
    repository.github.comment(7, f"the test environment's plan, another job's\n{STICKY}")
    planned = repository.pull_request(environment="staging")
    _ok(planned)
    other, staging = repository.github.comments[7]
    assert other["body"].endswith(STICKY)  # left alone
    assert "<!-- pricebook-plan environment=staging -->" in staging["body"].splitlines()
    assert planned.summary.startswith("## pricebook plan: pull request #7, environment staging\n")
    repository.merged()
    applied = repository.push(environment="staging")
    _ok(applied)
    assert f"Approved in pull request #7: plan {planned.outputs['plan-hash']}" in applied.stdout
    assert "--env staging" in applied.stdout
    assert repository.writes_to_stripe()


# -- the drift check ---------------------------------------------------------------------------------------------


def test_drift_is_reported_in_an_issue_until_it_is_undone(repository: CatalogRepository) -> None:
    assert run_pricebook(["apply", str(repository.plans), "--auto-approve"], repository.emulator).returncode == 0
    quiet = repository.schedule()
    _ok(quiet)
    assert quiet.outputs["drift"] == "false" and repository.github.issues == {}

    repository.emulator.client().v1.products.update("productivity_suite", params={"name": "Renamed by hand"})
    found = repository.schedule()
    assert found.code == 1
    assert "error[ci-account-drifted]: the account of environment test drifted from the catalog of main" in found.stderr
    ((number, issue),) = repository.github.issues.items()
    assert issue["state"] == "open" and "Renamed by hand" in issue["body"]
    assert "<!-- pricebook-drift environment=test -->" in issue["body"].splitlines()
    assert found.outputs["drift"] == "true" and found.outputs["exitcode"] == "2"
    assert found.summary.startswith("## pricebook drift check: the account drifted")

    again = repository.schedule()
    assert again.code == 1
    assert list(repository.github.issues) == [number]  # the same issue, updated

    assert run_pricebook(["apply", str(repository.plans), "--auto-approve"], repository.emulator).returncode == 0
    over = repository.schedule()
    _ok(over)
    assert repository.github.issues[number]["state"] == "closed"
    assert "matches the catalog again" in repository.github.comments[number][-1]["body"]


# -- validate ----------------------------------------------------------------------------------------------------


def test_validate_annotates_and_writes_sarif(repository: CatalogRepository) -> None:
    _edit(repository.plans / "productivity.yaml", "amount: 1000", "amount: 10.00")
    run = repository.run("push", {}, command="validate", **{"sarif-file": "pricebook.sarif"})
    assert run.code == 1
    assert [a.properties["title"] for a in read_annotations(run.stdout)] == ["pricebook: money-float"]
    log = json.loads((repository.root / "pricebook.sarif").read_text(encoding="utf-8"))
    check_sarif(log)
    (result,) = log["runs"][0]["results"]
    assert result["ruleId"] == "money-float"
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "plans/productivity.yaml"
    assert repository.github.requests == [] and repository.emulator.requests() == []
