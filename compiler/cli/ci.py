"""`pricebook ci validate|pr|apply|drift`: the steps of pricebook's GitHub Action (`action.yml`), one command
each, so that what a workflow does can be run and tested outside GitHub with the variables the runner sets.

Each runs pricebook's own commands as a user would (`$ pricebook ...` in the log, their output in it), and does
the GitHub side itself:

- `validate`: validate with annotations, and optionally as SARIF for code scanning (no key needed).
- `pr`: validate with annotations; plan (`--detailed-exitcode`); post or update the pull request's plan comment
  (found by its hidden marker); the whole plan in the job summary. Fails on an invalid catalog or a failed plan,
  never on changes.
- `apply`: plan again on the merged commit; find the pull request that merged it and the plan hash approved in
  its comment; apply only that plan (`--expect-plan-hash`); plan once more, which must find nothing to do.
- `drift`: plan on the default branch; changes there mean the account was edited outside the catalog (or an
  apply did not finish): an issue says so (opened, or updated while it lasts, closed when it ends) and the job
  fails.

The options read the action's inputs from `PRICEBOOK_*` variables, so the action's step is one line. The Stripe
key is where pricebook always reads it (the environment's variable, else `STRIPE_API_KEY`), or in
`PRICEBOOK_STRIPE_API_KEY` (the action's stripe-api-key input), which is moved there; the GitHub token is in
`GITHUB_TOKEN`.
"""

from __future__ import annotations

import os
import re
import secrets
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, TypeVar
from urllib.parse import unquote

import click

from compiler.changes.changeset import ChangeSet
from compiler.changes.planfile import load_changeset
from compiler.cli.common import select_environment
from compiler.errors import ExitCode, GitHubError
from compiler.github.rest import GitHubApi
from compiler.github.runner import SUMMARY_LIMIT, Runner, StepOutputs, event_error
from compiler.github.sticky import close_issue, marked_comment, merged_pull_request, upsert_comment, upsert_issue
from compiler.render.markdown import BLOCKED_MARKER, HASH_MARKER, MARKER, render_markdown
from compiler.render.text import render_text

F = TypeVar("F", bound=Callable[..., Any])

#: the plan comment's hidden lines (`pricebook plan --format markdown` ends with them: the sticky marker, then the
#: plan hash, or the blocked marker when problems block the plan)
STICKY = re.compile(rf"^<!-- {re.escape(MARKER)} environment=(?P<environment>[A-Za-z0-9._%-]+) -->$", re.MULTILINE)
PLAN_HASH = re.compile(rf"^<!-- {re.escape(HASH_MARKER)} (?P<hash>sha256:[0-9a-f]{{64}}) -->$", re.MULTILINE)
BLOCKED = re.compile(rf"^<!-- {re.escape(BLOCKED_MARKER)} problems=(?P<problems>[0-9]+) -->$", re.MULTILINE)
#: where the action puts its stripe-api-key input, for `place_key` to move it where pricebook reads a key
KEY_INPUT = "PRICEBOOK_STRIPE_API_KEY"
#: what a summary leaves room for besides the plan (its heading, a line on the comment or the apply)
_SUMMARY_MARGIN = 4096


@dataclass(frozen=True)
class Target:
    """What every step plans against: the catalog, its template variables, the account."""

    catalog: tuple[str, ...]
    environment: str | None
    var: tuple[str, ...]
    vars_file: str | None
    live: bool

    def catalog_args(self) -> list[str]:
        """What names the catalog: its paths, its template variables, the environment (templates see it)."""
        args = list(self.catalog)
        for assignment in self.var:
            args += ["--var", assignment]
        if self.vars_file:
            args += ["--vars", self.vars_file]
        return args + self.environment_args()

    def environment_args(self) -> list[str]:
        return ["--env", self.environment] if self.environment else []

    def live_args(self) -> list[str]:
        return ["--live"] if self.live else []


def place_key(target: Target) -> None:
    """The action's stripe-api-key input, moved to where pricebook reads the key: the variable the environment
    names in pricebook.toml, else STRIPE_API_KEY. Nothing when the input is empty (the job's environment has it)."""
    key = os.environ.pop(KEY_INPUT, "").strip()
    if key:
        environment = select_environment(target.environment)
        os.environ[environment.api_key_env if environment is not None else "STRIPE_API_KEY"] = key


def target_options(func: F) -> F:
    """The action's inputs, as options or from the variables its step sets."""
    func = click.option(
        "--live", is_flag=True, envvar="PRICEBOOK_LIVE", help="Allow a live-mode key [env PRICEBOOK_LIVE]."
    )(func)
    func = click.option(
        "--vars", "vars_file", envvar="PRICEBOOK_VARS", metavar="FILE", help="Template variables [env PRICEBOOK_VARS]."
    )(func)
    func = click.option(
        "--var",
        multiple=True,
        envvar="PRICEBOOK_VAR",
        metavar="NAME=VALUE",
        help="A template variable (repeatable) [env PRICEBOOK_VAR: whitespace-separated].",
    )(func)
    func = click.option(
        "--env",
        "environment",
        envvar="PRICEBOOK_ENV",
        metavar="NAME",
        help="The environment (account) to plan against [env PRICEBOOK_ENV].",
    )(func)
    func = click.option(
        "--catalog",
        multiple=True,
        envvar="PRICEBOOK_CATALOG",
        metavar="PATH",
        help="The catalog files or directories (repeatable) [env PRICEBOOK_CATALOG; default plans/].",
    )(func)
    return func


def _target(
    catalog: tuple[str, ...], environment: str | None, var: tuple[str, ...], vars_file: str | None, live: bool
) -> Target:
    return Target(catalog or ("plans/",), environment or None, var, vars_file or None, live)


# -- running pricebook ------------------------------------------------------------------------------------------


def pricebook(args: list[str], *, capture: bool = False) -> subprocess.CompletedProcess[str]:
    """`pricebook ARGS` in a child process of this installation, shown in the log first; its stderr (and its
    stdout unless captured) goes to the log. The API key stays in the environment, out of the arguments."""
    click.echo(f"$ pricebook {shlex.join(args)}")
    sys.stdout.flush()
    command = [sys.executable, "-m", "compiler", *args]
    return subprocess.run(command, stdout=subprocess.PIPE if capture else None, text=True, check=False)


@dataclass(frozen=True)
class Planned:
    """One `pricebook plan --format markdown --detailed-exitcode --out FILE`: its exit code, the comment it
    printed (also for an invalid catalog or a failed read), and the plan it saved (None when it saved none)."""

    code: int
    comment: str
    changeset: ChangeSet | None

    def _sticky(self) -> re.Match[str]:
        found = STICKY.search(self.comment)
        if found is None:
            raise _printed_nothing("`pricebook plan --format markdown` printed no comment marker")
        return found

    @property
    def environment_marker(self) -> str:
        """The comment's sticky marker: the same for every plan of this environment."""
        return self._sticky().group(0)

    @property
    def environment(self) -> str:
        """The environment's name, as the marker spells it (percent-encoded outside `A-Za-z0-9._-`)."""
        return self._sticky().group("environment")


def plan(target: Target, workdir: Path, full_plan_url: str = "") -> Planned:
    saved = workdir / "pricebook-plan.json"
    args = ["plan", *target.catalog_args(), *target.live_args()]
    args += ["--format", "markdown", "--detailed-exitcode", "--out", str(saved)]
    if full_plan_url:
        args += ["--full-plan-url", full_plan_url]
    done = pricebook(args, capture=True)
    changeset = load_changeset(saved) if done.returncode != ExitCode.ERROR and saved.exists() else None
    if changeset is not None:
        with log_group("The plan"):
            click.echo(render_text(changeset, color=False), nl=False)
    return Planned(done.returncode, done.stdout, changeset)


def full_plan(planned: Planned) -> str:
    """The plan for a job summary: as much as GitHub takes there, or the comment when there is no plan."""
    if planned.changeset is None:
        return planned.comment
    environment = unquote(planned.environment)
    return render_markdown(planned.changeset, limit=SUMMARY_LIMIT - _SUMMARY_MARGIN, environment=environment)


def _workdir() -> tempfile.TemporaryDirectory[str]:
    """A directory for the saved plan: the runner's temporary directory, emptied after every job."""
    return tempfile.TemporaryDirectory(prefix="pricebook-", dir=os.environ.get("RUNNER_TEMP") or None)


@contextmanager
def log_group(title: str) -> Iterator[None]:
    """A fold in the step's log, where no line is read as a workflow command (the plan quotes the catalog)."""
    token = secrets.token_hex(16)
    click.echo(f"::group::{title}\n::stop-commands::{token}")
    try:
        yield
    finally:
        click.echo(f"::{token}::\n::endgroup::")


def _api(runner: Runner) -> GitHubApi:
    return GitHubApi(runner.api_url, runner.require_token(), runner.require_repository())


#: the plan's outputs of a step that stopped before it had a plan: as for a plan that failed
NO_PLAN_OUTPUTS: Mapping[str, str] = {"exitcode": str(int(ExitCode.ERROR)), "has-changes": "false", "plan-hash": ""}


@contextmanager
def step_outputs(unless_set: Mapping[str, str]) -> Iterator[StepOutputs]:
    """The step's outputs; however the step ends (an error of the runner's environment, of GitHub, of the plan),
    those it did not set are set: the plan's as `NO_PLAN_OUTPUTS`, and its own as `unless_set` says. A workflow
    that reads `applied` or `drift` after a failed step finds `false`, not nothing."""
    outputs = StepOutputs.from_env(os.environ)
    try:
        yield outputs
    finally:
        outputs.set_unset({**NO_PLAN_OUTPUTS, **unless_set})


def _plan_outputs(outputs: StepOutputs, planned: Planned) -> None:
    outputs.set("exitcode", str(planned.code))
    outputs.set("has-changes", "true" if planned.code == ExitCode.CHANGES else "false")
    outputs.set("plan-hash", (planned.changeset.plan_hash or "") if planned.changeset else "")


def _printed_nothing(what: str) -> GitHubError:
    return GitHubError(
        f"{what}, so this step cannot go on",
        hint="the log above shows the command (`$ pricebook ...`) and what it said: run it with the same arguments "
        "to see why; if it said nothing, report it with the log",
        rule="ci-command-output-missing",
    )


def _done(code: int) -> NoReturn:
    click.get_current_context().exit(code)


# -- the command -------------------------------------------------------------------------------------------------


@click.group("ci")
def command() -> None:
    """The steps of pricebook's GitHub Action: run them in a GitHub Actions job (see docs/github-actions.md)."""


@command.command("validate")
@target_options
@click.option(
    "--sarif",
    "sarif_file",
    envvar="PRICEBOOK_SARIF",
    metavar="FILE",
    help="Also write the problems as SARIF to FILE, for code scanning [env PRICEBOOK_SARIF].",
)
def validate_only(sarif_file: str | None, **options: Any) -> None:
    """On any push: validate with annotations (no key needed), and write SARIF for code scanning."""
    target = _target(**options)
    validated = pricebook(["validate", *target.catalog_args(), "--format", "github"])
    if sarif_file:
        sarif = pricebook(["validate", *target.catalog_args(), "--format", "sarif"], capture=True)
        if not sarif.stdout.strip():
            raise _printed_nothing("`pricebook validate --format sarif` printed nothing")
        try:
            Path(sarif_file).write_text(sarif.stdout, encoding="utf-8")
        except OSError as exc:
            raise GitHubError(
                f"cannot write the SARIF file {sarif_file} (the sarif-file input): {exc.strerror or exc}",
                hint="name a file in the workspace whose directory exists, such as pricebook.sarif",
                rule="ci-file-unwritable",
            ) from None
        click.echo(f"Wrote the problems as SARIF to {sarif_file}")
    _done(ExitCode.OK if validated.returncode == ExitCode.OK else ExitCode.ERROR)


@command.command("pr")
@target_options
def pull_request(**options: Any) -> None:
    """On a pull request: validate (annotations), plan, update the plan comment, write the job summary."""
    with step_outputs({"comment-url": ""}) as outputs:
        _pull_request(outputs, _target(**options))


def _pull_request(outputs: StepOutputs, target: Target) -> None:
    place_key(target)
    runner = Runner.from_env(os.environ)
    number = runner.pull_request_number
    if not runner.event_name:
        raise GitHubError(
            "`pricebook ci pr` runs in a GitHub Actions job on a pull request, and this is not one "
            "(GITHUB_EVENT_NAME is not set)",
            hint="to see the plan comment here, run `pricebook plan --format markdown` (with the --env, --var or "
            "--api-base you plan with); docs/github-actions.md sets up the workflow",
            rule="ci-outside-github-actions",
        )
    if number is None and runner.event_name.startswith("pull_request"):
        raise event_error(f"the payload of the {runner.event_name} event names no pull request (pull_request.number)")
    if number is None:
        raise GitHubError(
            f"`pricebook ci pr` runs on a pull_request event, not on {runner.event_name}",
            hint="use command: apply on a push to the main branch, command: drift on a schedule",
            rule="ci-not-a-pull-request",
        )
    api = _api(runner)
    validated = pricebook(["validate", *target.catalog_args(), "--format", "github"])
    with _workdir() as workdir:
        planned = plan(target, Path(workdir), runner.run_url)
    _plan_outputs(outputs, planned)
    posted = upsert_comment(api, number, planned.comment, planned.environment_marker)
    click.echo(f"{'Posted' if posted.created else 'Updated'} the plan comment: {posted.url}")
    runner.add_summary(
        f"## pricebook plan: pull request #{number}, environment {planned.environment}\n\n"
        f"The comment on the pull request: {posted.url}\n\n{full_plan(planned)}"
    )
    outputs.set("comment-url", posted.url)
    failed = validated.returncode != ExitCode.OK or planned.code == ExitCode.ERROR
    _done(ExitCode.ERROR if failed else ExitCode.OK)


@command.command("apply")
@target_options
@click.option(
    "--require-approval/--no-require-approval",
    default=True,
    envvar="PRICEBOOK_REQUIRE_APPROVAL",
    show_default=True,
    help="Apply only the plan whose hash the merged pull request's comment holds [env PRICEBOOK_REQUIRE_APPROVAL].",
)
def apply_merged(require_approval: bool, **options: Any) -> None:
    """On a push to the main branch: apply the plan approved in the merged pull request, and nothing else."""
    with step_outputs({"applied": "false"}) as outputs:
        _apply_merged(outputs, _target(**options), require_approval)


def _apply_merged(outputs: StepOutputs, target: Target, require_approval: bool) -> None:
    place_key(target)
    runner = Runner.from_env(os.environ)
    with _workdir() as workdir:
        planned = plan(target, Path(workdir))
        _plan_outputs(outputs, planned)
        if planned.code == ExitCode.ERROR or planned.changeset is None:
            runner.add_summary(f"## pricebook apply: the plan failed\n\n{planned.comment}")
            _done(ExitCode.ERROR)
        if planned.code == ExitCode.OK:
            click.echo("Nothing to apply: the account matches the catalog.")
            runner.add_summary(f"## pricebook apply: nothing to do\n\n{full_plan(planned)}")
            return
        try:
            approved = _approved_hash(runner, planned) if require_approval else None
        except GitHubError as refused:
            hint = f"\n\n{refused.hint}" if refused.hint else ""
            runner.add_summary(
                f"## pricebook apply: nothing applied\n\n{refused.message}{hint}\n\nThe plan of this commit:\n\n"
                f"{full_plan(planned)}"
            )
            raise
        args = ["apply", "--plan", str(Path(workdir) / "pricebook-plan.json")]
        args += [*target.environment_args(), *target.live_args()]
        args += ["--expect-plan-hash", approved] if approved else []
        applied = pricebook(args)
    if applied.returncode != ExitCode.OK:
        plan_text = full_plan(planned)
        runner.add_summary(f"## pricebook apply failed\n\nSee the step's log. The plan:\n\n{plan_text}")
        _done(ExitCode.ERROR)
    outputs.set("applied", "true")
    after = pricebook(["plan", *target.catalog_args(), *target.live_args(), "--detailed-exitcode"])
    converged = after.returncode == ExitCode.OK
    heading = "applied" if converged else "applied, but the account still differs from the catalog"
    runner.add_summary(f"## pricebook apply: {heading}\n\n{full_plan(planned)}")
    if not converged:
        raise GitHubError(
            "after the apply, `pricebook plan` still finds changes (see the log)",
            hint="someone may have changed the account while it applied: run the workflow again; if the same "
            "changes remain, report it with the plan",
            rule="ci-apply-not-converged",
        )


def _approved_hash(runner: Runner, planned: Planned) -> str:
    """The plan hash of the comment, for this environment, on the pull request that merged this commit."""
    api = _api(runner)
    sha = runner.require_sha()
    pull = merged_pull_request(api, sha)
    if pull is None:
        raise GitHubError(
            f"no merged pull request brought commit {sha[:12]}, so no plan was approved for it; nothing was applied",
            hint="change the catalog through a pull request, or run the action with require-approval: false",
            rule="ci-no-approved-plan",
        )
    number, environment = pull["number"], unquote(planned.environment)
    comment = marked_comment(api, int(number), planned.environment_marker)
    body = str(comment.get("body", "")) if comment else ""
    found = PLAN_HASH.search(body)
    if found is not None:
        click.echo(f"Approved in pull request #{number}: plan {found.group('hash')}")
        return found.group("hash")
    blocked = BLOCKED.search(body)
    if blocked is not None:
        count = int(blocked.group("problems"))
        raise GitHubError(
            f"the plan comment of pull request #{number} for environment {environment} shows a plan that "
            f"{count} {'problem blocks' if count == 1 else 'problems block'}: a blocked plan has no plan hash, so "
            "nothing was approved; nothing was applied",
            hint="fix the problems the comment lists in a pull request: each push plans again and updates the "
            "comment, which holds a plan hash once no problem blocks the plan; merging it applies that plan",
            rule="ci-plan-blocked",
        )
    if comment is not None:
        raise GitHubError(
            f"the plan comment of pull request #{number} for environment {environment} shows no plan (the plan "
            "failed: an invalid catalog or a failed read), so nothing was approved; nothing was applied",
            hint="fix the errors the comment lists in a pull request: each push plans again and updates the "
            "comment, which holds a plan hash once there is a plan; merging it applies that plan",
            rule="ci-no-approved-plan",
        )
    raise GitHubError(
        f"pull request #{number} has no plan comment for environment {environment}, so no plan was approved; "
        "nothing was applied",
        hint="its plan never ran for this environment: run the action's `pr` command on the pull requests of this "
        "environment's catalog (docs/github-actions.md)",
        rule="ci-no-approved-plan",
    )


@command.command("drift")
@target_options
@click.option(
    "--issue/--no-issue",
    default=True,
    envvar="PRICEBOOK_DRIFT_ISSUE",
    show_default=True,
    help="Open (or update) an issue while the account drifts, close it when it no longer does "
    "[env PRICEBOOK_DRIFT_ISSUE].",
)
def drift(issue: bool, **options: Any) -> None:
    """On a schedule, on the main branch: changes to make mean the account was edited outside the catalog."""
    with step_outputs({"drift": "false"}) as outputs:
        _drift(outputs, _target(**options), issue)


def _drift(outputs: StepOutputs, target: Target, issue: bool) -> None:
    place_key(target)
    runner = Runner.from_env(os.environ)
    with _workdir() as workdir:
        planned = plan(target, Path(workdir), runner.run_url)
    _plan_outputs(outputs, planned)
    outputs.set("drift", "true" if planned.code == ExitCode.CHANGES else "false")
    if planned.code == ExitCode.ERROR:
        runner.add_summary(f"## pricebook drift check: the plan failed\n\n{planned.comment}")
        _done(ExitCode.ERROR)
    environment = planned.environment
    marker = f"<!-- pricebook-drift environment={environment} -->"
    where = runner.ref_name or "the default branch"
    if planned.code == ExitCode.OK:
        click.echo(f"No drift: the account of environment {environment} matches the catalog of {where}.")
        runner.add_summary(f"## pricebook drift check: none\n\nThe account matches the catalog of {where}.\n")
        if issue:
            closed = close_issue(_api(runner), marker, f"The account matches the catalog again ({runner.run_url}).")
            if closed is not None:
                click.echo(f"Closed the drift issue: {closed.url}")
        return
    explanation = (
        f"The account of environment **{environment}** differs from the catalog of `{where}`: someone changed "
        "Stripe outside the catalog, or an apply of this branch did not finish. Bring the change into the "
        "catalog through a pull request, or apply the catalog to undo it.\n\n"
        f"Found by {runner.run_url or 'a drift check'}."
    )
    plan_text = full_plan(planned)
    runner.add_summary(f"## pricebook drift check: the account drifted\n\n{explanation}\n\n{plan_text}")
    if issue:
        title = f"Stripe account drift: {environment} differs from the catalog"
        posted = upsert_issue(_api(runner), marker, title, f"{explanation}\n\n{planned.comment}\n{marker}\n")
        click.echo(f"{'Opened' if posted.created else 'Updated'} the drift issue: {posted.url}")
    raise GitHubError(
        f"the account of environment {environment} drifted from the catalog of {where} (the plan above)",
        hint="bring the change into the catalog through a pull request, or apply the catalog to undo it; the job "
        "summary (and the drift issue) show the changes",
        rule="ci-account-drifted",
    )
