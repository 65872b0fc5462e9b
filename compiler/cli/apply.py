"""`pricebook apply [PATH...] | --plan FILE`: carry out the diff, exactly as the preview showed it.

The ChangeSet is computed from the catalog and a fresh read of the account (or, for a saved plan, derived again
from the catalog it holds, and refused unless the account is the one it was made against, unchanged, and the
changes and calls come out exactly as the file shows them), shown (summed up when it is long), checked against the
hash of the plan approved in review (`--expect-plan-hash`), confirmed on a terminal (or `--auto-approve` in CI; a
saved plan is the approval itself), and sent by `compiler.apply`, with its progress on stderr, in rounds: after
steps whose outcome is unknown it reads the account again and carries out what is left (of the catalog's plan, or
of the saved plan and nothing beyond it), up to `--max-rounds`.

Exit 0 when everything was done, 1 otherwise (including a refusal to start), 130 after Ctrl-C. Ctrl-C stops
starting calls and lets those in flight finish; a second one quits at once. Either way the report of what was done
is printed first.
"""

from __future__ import annotations

import os
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import click

from compiler import heap
from compiler.apply import (
    DEFAULT_MAX_ROUNDS,
    ApplyReport,
    ApplyResult,
    Ending,
    Progress,
    Record,
    Reread,
    RoundCause,
    StepDone,
    StepLog,
    apply_in_rounds,
    check_applicable,
    rounds_of_saved_plan,
    workers_for,
)
from compiler.changes.changeset import ChangeSet
from compiler.changes.planfile import check_account, load_changeset, rederived
from compiler.changes.planning import (
    CatalogNames,
    PendingCatalog,
    changeset_while_reading,
    current_state,
    expected_sizes,
    plan_against,
    read_state,
    remembered_boundaries,
    state_between_rounds,
)
from compiler.changes.problems import ALLOW_MASS_ARCHIVE
from compiler.changes.subscribers import SubscriberOptions
from compiler.cli.common import (
    catalog_options,
    connect,
    connection_options,
    environment_option,
    mass_archive_option,
    paths_argument,
    resolve_paths,
    template_vars,
)
from compiler.cli.environments import Environment
from compiler.cli.interrupts import (
    Interrupts,
    StdoutOrStderr,
    exit_now,
    interrupts,
    run_interruptibly,
    silence_stdout,
    stdout_closed,
)
from compiler.cli.plan import subscriber_options, subscribers_wanted
from compiler.cli.progress import ProgressLine, duration, eta
from compiler.errors import ApplyFailed, ExitCode, Interrupted, PlanChanged, UsageError, redact
from compiler.heap import collector_paused
from compiler.render.color import should_color
from compiler.render.text import render_text, render_text_summary
from compiler.stripe.calls import ApiCall
from compiler.stripe.facts import API_VERSION
from compiler.stripe.gateway import Gateway, GatewayStats
from compiler.stripe.state import AccountState, BoundaryMemory

if TYPE_CHECKING:
    from compiler.catalog.files import PresetVariables


def _compute(
    paths: list[str],
    var: tuple[str, ...],
    vars_file: str | None,
    preset: PresetVariables,
    gateway: Gateway,
    subscribers: SubscriberOptions,
    allow_mass_archive: bool,
    memory: BoundaryMemory | None,
) -> tuple[ChangeSet, Reread]:
    """The ChangeSet `plan` would show for `paths` (the catalog's warnings and who pays with it), read through the
    same gateway (and pace) apply writes with; and how a later round plans the same catalog against the account
    read again (who pays is not read again: nothing shows it then)."""
    # the catalog stays to the end; reading the account and diffing it make no garbage a collection would find
    pending = PendingCatalog(paths, var, vars_file, preset, on_ready=lambda _catalog: heap.freeze())
    with pending, collector_paused():
        changeset, _ = changeset_while_reading(
            pending, gateway, subscribers, allow_mass_archive=allow_mass_archive, memory=memory
        )
    checked = pending.result()
    names = CatalogNames.of_catalog(checked.catalog)
    expected = expected_sizes(r.kind for r in checked.catalog)

    def reread(_round: ChangeSet, _result: ApplyResult) -> ChangeSet:
        with collector_paused():
            state = read_state(gateway, names, expected, memory=memory)
            return plan_against(checked, state, allow_mass_archive=allow_mass_archive)

    return changeset, reread


def _saved(plan_file: str, gateway: Gateway, memory: BoundaryMemory | None) -> tuple[ChangeSet, AccountState]:
    """The ChangeSet of a saved plan, as apply sends it: derived again from the plan's catalog and the account read
    now, and refused unless that is exactly what the file shows (`changes.planfile`); and that account."""
    saved = load_changeset(plan_file)
    if saved.api_version and saved.api_version != API_VERSION:
        raise UsageError(
            f"the saved plan was made for Stripe API version {saved.api_version}, this pricebook speaks {API_VERSION}",
            hint="run `pricebook plan` again with this version of pricebook",
        )
    state = current_state(saved, gateway, memory=memory)
    notice = check_account(saved, state)
    if notice is not None:
        click.echo(f"pricebook: note: {notice}", err=True)
    return rederived(saved, state, plan_file), state


def can_ask() -> bool:
    """Whether there is a person to confirm: stdin on a terminal (in CI it is not)."""
    return sys.stdin.isatty()


class _ProgressLine:
    """Apply's progress: calls done of all, the pace, the time left (and on a terminal the call last finished)."""

    def __init__(self, tty: bool, clock: Callable[[], float] | None = None) -> None:
        self.line = ProgressLine(tty, clock=clock)
        self.started = self.line.clock()

    def __call__(self, progress: Progress) -> None:
        if not self.line.due() or (not self.line.tty and progress.done + progress.failed >= progress.total):
            return  # a log line is due only every few seconds, and the report follows the last call
        elapsed = self.line.clock() - self.started
        finished = progress.done + progress.failed
        text = f"Applying: {progress.done:,}/{progress.total:,} calls done ({progress.done / progress.total:.0%})"
        if progress.failed:
            text += f", {progress.failed:,} failed"
        if elapsed > 0:
            text += f", {finished / elapsed:,.1f}/s"
        left = eta(finished, progress.total, elapsed)
        if left is not None:
            text += f", ETA {duration(left)}"
        if self.line.tty:
            text += f" - {progress.last.action.value} {progress.last.address}"
        self.line.show(text)

    def close(self) -> None:
        self.line.close()


def _counts(steps: Iterable[StepDone | ApiCall]) -> str:
    counts = Counter((s.call if isinstance(s, StepDone) else s).action.value for s in steps)
    return ", ".join(f"{n} {action}" for action, n in counts.items()) or "nothing"


def _stats_line(stats: GatewayStats) -> str:
    return (
        f"{stats.requests} requests in all (reads included), {stats.rate_limited} rate-limited (429) and retried, "
        f"{stats.retries} retries"
    )


#: why a round ran, as the report says it
_ROUND_CAUSES = {
    RoundCause.PLAN: "the plan",
    RoundCause.UNKNOWN_OUTCOME: "what a fresh read left to do after steps with an unknown outcome",
    RoundCause.LOOKUP_KEYS_MOVED: "what a fresh read after lookup keys moved found changed meanwhile: another "
    "apply at the same time?",
}


#: why an apply did not finish, as the first line of its report says it
_STOPPED = {
    Ending.REFUSED: "Stripe refused a call",
    Ending.OUT_OF_ROUNDS: "steps are still to do after the last round --max-rounds allows",
    Ending.NO_PROGRESS: "two rounds in a row left as much to do as before",
    Ending.BLOCKED: "the account changed while apply ran",
    Ending.READ_FAILED: "reading the account again between rounds failed",
}


def _failure_line(step_call: ApiCall, message: str, status: int | None, code: str | None, unknown: bool) -> str:
    shown = f" ({status}{' ' + code if code else ''})" if status else ""
    outcome = " - outcome unknown" if unknown else ""
    return f"  failed: {step_call.action.value} {step_call.address}{shown}{outcome}: {message}"


def _calls_list(title: str, calls: tuple[ApiCall, ...], echo: Callable[..., None]) -> None:
    echo(f"  {title} ({len(calls)}):", err=True)
    for call in calls[:20]:
        echo(f"    {call.action.value} {call.address}", err=True)
    if len(calls) > 20:
        echo(f"    ... and {len(calls) - 20} more", err=True)


def _round_lines(outcome: ApplyReport, echo: Callable[..., None], err: bool) -> None:
    if len(outcome.rounds) < 2:
        return
    for number, one in enumerate(outcome.rounds, 1):
        result = one.result
        total = len(result.done) + len(result.failed) + len(result.not_attempted)
        parts = [f"{len(result.done)} done"]
        unknown = sum(1 for f in result.failed if f.outcome_unknown)
        if unknown:
            parts.append(f"{unknown} with an unknown outcome")
        if len(result.failed) > unknown:
            parts.append(f"{len(result.failed) - unknown} refused")
        if result.not_attempted:
            parts.append(f"{len(result.not_attempted)} not attempted")
        echo(f"  round {number} ({_ROUND_CAUSES[one.cause]}): {total} call(s), {', '.join(parts)}", err=err)


def report(outcome: ApplyReport, stats: GatewayStats, echo: Callable[..., None] = click.echo) -> None:
    """The summary: everything done, or what was done, what failed (Stripe's words), what was not attempted and
    what a read of the account still showed to do. Every line is scrubbed of secrets: a failure's message or code
    is whatever the server sent."""

    def say(text: str = "", *, err: bool = False) -> None:
        echo(redact(text), err=err)

    done = outcome.done
    if outcome.ok and len(outcome.rounds) == 1:
        say(f"Apply complete: {len(done)} call(s) done ({_counts(done)}) in {outcome.seconds:.1f} s.")
        say(f"  {_stats_line(stats)}")
        return
    if outcome.ok:
        say(
            f"Apply complete in {len(outcome.rounds)} rounds, {outcome.seconds:.1f} s: every change is made (the "
            "outcome of a step that was unknown was settled by reading the account again)."
        )
        _round_lines(outcome, say, err=False)
        say(f"  {_stats_line(stats)}")
        return
    last: ApplyResult = outcome.last
    if outcome.ending is Ending.INTERRUPTED:
        first = f"Apply interrupted after {outcome.seconds:.1f} s"
    else:
        first = f"Apply stopped after {outcome.seconds:.1f} s ({_STOPPED[outcome.ending]})"
    say(f"{first}: the account is partly changed.", err=True)
    if outcome.error:
        say(f"  {outcome.error}", err=True)
    say(f"  done ({len(done)}): {_counts(done)}", err=True)
    for failure in last.failed:
        line = _failure_line(failure.call, failure.message, failure.status, failure.code, failure.outcome_unknown)
        say(line, err=True)
    if last.not_attempted:
        _calls_list("not attempted", last.not_attempted, say)
    left = outcome.left
    if left is not None and left.problems:
        for problem in left.problems:
            say(f"  problem: {problem.address}: {problem.message}", err=True)
            say(f"    hint: {problem.hint}", err=True)
    elif left is not None and left.calls:
        _calls_list("still to do, as the last read of the account shows", left.calls, say)
    _round_lines(outcome, say, err=True)
    say(f"  {_stats_line(stats)}", err=True)


def report_quit(record: Record, stats: GatewayStats) -> None:
    """What was done when the user quit with a second Ctrl-C, from apply's running record (scrubbed of secrets,
    as `report` is)."""

    def echo(text: str = "", *, err: bool = True) -> None:
        click.echo(redact(text), err=err)

    echo("Apply quit at once (a second Ctrl-C): the account is partly changed.", err=True)
    echo(f"  done ({len(record.done)}): {_counts(record.done)}", err=True)
    for failure in record.failed:
        line = _failure_line(failure.call, failure.message, failure.status, failure.code, failure.outcome_unknown)
        echo(line, err=True)
    if record.in_flight:
        _calls_list("sent, no answer yet: outcome unknown", record.in_flight, echo)
    echo(f"  in round {record.rounds}; what was left was not attempted", err=True)
    echo(f"  {_stats_line(stats)}", err=True)
    echo(
        "  hint: run `pricebook plan` to see what is left, then `pricebook apply`: it reads the account afresh and "
        "finishes the job without duplicating anything",
        err=True,
    )


def _announce(number: int, cause: RoundCause, changeset: ChangeSet) -> None:
    click.echo(
        f"Round {number}, {_ROUND_CAUSES[cause]}: {len(changeset.calls)} call(s) ({_counts(changeset.calls)})",
        err=True,
    )


def _stopping() -> None:
    click.echo(
        "\nStopping: no new call starts; the ones in flight finish and the report follows "
        "(Ctrl-C again to quit at once).",
        err=True,
    )


def _carry_out(
    changeset: ChangeSet, gateway: Gateway, reread: Reread, state: Interrupts, *, max_rounds: int, workers: int
) -> ApplyReport:
    """Apply in rounds in a thread of its own, so that Ctrl-C (`state`, see `cli.interrupts`) never lands in its
    bookkeeping. After a second Ctrl-C this reports what was done and ends the process."""
    log = StepLog()
    progress = _ProgressLine(sys.stderr.isatty())

    def announce(number: int, cause: RoundCause, changeset: ChangeSet) -> None:
        progress.close()
        progress.started = progress.line.clock()  # the pace and time left of this round's calls
        _announce(number, cause, changeset)

    def work() -> ApplyReport:
        return apply_in_rounds(
            changeset,
            gateway,
            reread,
            max_rounds=max_rounds,
            on_round=announce,
            on_progress=progress,
            workers=workers,
            stop=state.stop,
            log=log,
        )

    try:
        finished, outcome = run_interruptibly(work, state)
    finally:
        progress.close()
    if not finished or outcome is None:
        report_quit(log.record(), gateway.stats)
        exit_now(ExitCode.INTERRUPTED)
    return outcome


#: a plan of more lines than this is summed up before apply starts, not printed whole (`--show-plan` prints it)
MAX_PLAN_LINES = 200

_PLAN_HASH = re.compile(r"(?:sha256:)?([0-9a-f]{64})")


def _expected_hash(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """`sha256:<64 hex>` from the hash as the plan shows it (the `sha256:` prefix may be left off)."""
    if value is None:
        return None
    found = _PLAN_HASH.fullmatch(value.strip().lower())
    if found is None:
        raise click.BadParameter("give the whole plan hash, `sha256:` and 64 hex digits, as the plan shows it")
    return "sha256:" + found.group(1)


def show_changes(
    changeset: ChangeSet, *, whole: bool, color: bool, echo: Callable[..., None] = click.echo
) -> None:
    """The plan before apply starts: whole when asked or short, else summed up (a plan of 10,000 lines in a CI
    log buries what matters)."""
    text = render_text(changeset, color=color)
    lines = text.count("\n")
    if whole or lines <= MAX_PLAN_LINES:
        echo(text, nl=False)
        return
    echo(render_text_summary(changeset, color=color), nl=False)
    echo(f"The whole plan ({lines:,} lines) is not shown here: `pricebook apply --show-plan` shows it.")


def check_hash(changeset: ChangeSet, expected: str | None) -> None:
    """Refuse a plan other than the one approved (its hash, from the pull-request comment)."""
    if expected is not None and changeset.plan_hash is None:
        raise PlanChanged(
            f"the plan is blocked by {len(changeset.problems)} problem(s) (above), so it is not the approved plan "
            f"{expected}; nothing was changed",
            hint="fix the problems, run `pricebook plan`, review the new plan and approve its hash",
        )
    if expected is not None and changeset.plan_hash != expected:
        raise PlanChanged(
            f"the plan differs from the one approved: its hash is {changeset.plan_hash}, the approved one "
            f"{expected}; nothing was changed",
            hint="someone changed the account or the catalog since the plan was approved: run `pricebook plan`, "
            "review the new plan and approve its hash",
        )


@click.command("apply")
@paths_argument
@click.option(
    "--plan",
    "plan_file",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Carry out a plan saved with `pricebook plan --out FILE` (refused if the account changed). The saved "
    "plan is the approval: no confirmation is asked.",
)
@click.option(
    "--auto-approve", is_flag=True, help="Do not ask for confirmation (for CI; not needed with --plan)."
)
@click.option(
    "--expect-plan-hash",
    metavar="HASH",
    callback=_expected_hash,
    help="Refuse to apply unless the plan's hash is HASH (`sha256:...`, as the plan and its pull-request "
    "comment show it): the plan approved in review, and no other.",
)
@click.option(
    "--show-plan",
    is_flag=True,
    help=f"Print the whole plan before applying, however long (longer than {MAX_PLAN_LINES} lines it is summed up).",
)
@click.option(
    "--rate",
    type=click.FloatRange(min=0.1),
    default=None,
    metavar="N",
    help="The rate limit to stay under, requests per second [default: Stripe's, 25 in test mode, 100 live]; "
    "requests are paced 2 % below it.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1, max=64),
    default=None,
    help="Independent calls sent in parallel, within --rate [default: from the rate, 10 at 25/s].",
)
@click.option(
    "--max-rounds",
    type=click.IntRange(min=1, max=100),
    default=DEFAULT_MAX_ROUNDS,
    show_default=True,
    metavar="N",
    help="After steps whose outcome is unknown (a 500, a dropped connection), apply reads the account again and "
    "carries out what is left, in at most N rounds in all.",
)
@subscriber_options
@mass_archive_option
@catalog_options
@connection_options
@environment_option
def command(
    paths: tuple[str, ...],
    plan_file: str | None,
    auto_approve: bool,
    expect_plan_hash: str | None,
    show_plan: bool,
    rate: float | None,
    workers: int | None,
    max_rounds: int,
    no_subscribers: bool,
    subscriber_limit: int,
    allow_mass_archive: bool,
    var: tuple[str, ...],
    vars_file: str | None,
    api_base: str | None,
    live: bool,
    environment: Environment | None,
) -> None:
    """Apply the catalog below PATHS (default plans/) to the Stripe account, after showing the changes."""
    if plan_file and paths:
        raise UsageError("give either PATHs or --plan FILE, not both")
    if plan_file and allow_mass_archive:
        raise UsageError(
            f"{ALLOW_MASS_ARCHIVE} goes with the plan, not with --plan FILE: a saved plan records whether it was given",
            hint=f"make the plan again with `pricebook plan {ALLOW_MASS_ARCHIVE} --out FILE` and apply that",
        )
    connection = connect(environment, api_base, live)
    gateway = Gateway(connection, rate=rate)
    memory = remembered_boundaries(connection)
    # without --plan: the same computation as `pricebook plan`, so apply carries out what the preview showed
    reread: Reread
    if plan_file:
        changeset, start = _saved(plan_file, gateway, memory)  # it shows who paid what when it was planned
        saved = changeset
        reread = rounds_of_saved_plan(saved, start, lambda: state_between_rounds(saved, gateway, memory=memory))
    else:
        wanted = subscribers_wanted(no_subscribers, subscriber_limit)
        preset = template_vars(environment)
        found = resolve_paths(paths)
        changeset, reread = _compute(found, var, vars_file, preset, gateway, wanted, allow_mass_archive, memory)

    out = StdoutOrStderr()
    show_changes(changeset, whole=show_plan, color=should_color(sys.stdout, os.environ), echo=out)
    check_hash(changeset, expect_plan_hash)
    check_applicable(changeset, gateway)
    if not changeset.calls:  # the rendered plan has said so
        return
    if plan_file:
        out(f"Applying the saved plan {plan_file}: it is the approval, so no confirmation is asked.")
    elif not auto_approve:
        if not can_ask():
            raise UsageError(
                "refusing to apply without confirmation: there is no terminal to ask on",
                hint="review the changes above and pass --auto-approve (as `make apply` does in CI), or apply a "
                "reviewed plan saved with `pricebook plan --out FILE` with `pricebook apply --plan FILE`",
            )
        if not click.confirm("Apply these changes?", default=False):
            out("Apply cancelled: nothing was changed.")
            click.get_current_context().exit(1)
    if out.closed or stdout_closed():
        silence_stdout()
        raise UsageError(
            "refusing to apply: standard output is closed (its reader exited, as `| head` does), so the plan "
            "could not be shown in full; nothing was changed",
            hint="send the output to a file or read all of it (`| tee apply.log`, `| less`)",
        )

    # from here on Ctrl-C stops apply the orderly way, and the report is written whatever happens
    with interrupts(on_first=_stopping) as state:
        workers = workers or workers_for(gateway.rate_limit)
        outcome = _carry_out(changeset, gateway, reread, state, max_rounds=max_rounds, workers=workers)
        report(outcome, gateway.stats, out)
    if state.stop.is_set() and not outcome.ok:
        raise Interrupted(
            "interrupted: the calls in flight finished, the rest was not attempted",
            hint="run `pricebook apply` again to finish the job: it reads the account afresh and duplicates nothing",
        )
    if not outcome.ok:
        last = outcome.last
        rounds = f" ({len(outcome.rounds)} rounds)" if len(outcome.rounds) > 1 else ""
        again = (
            "run `pricebook apply` again: it reads the account afresh and finishes the job without duplicating "
            "anything"
        )
        if outcome.ending is Ending.BLOCKED:
            raise ApplyFailed(
                f"the account changed while apply ran{rounds}",
                hint="see the problems above; `pricebook plan` shows the account as it is now",
            )
        raise ApplyFailed(
            f"{len(last.failed)} step(s) failed, {len(last.not_attempted)} not attempted{rounds}",
            hint=f"fix the cause Stripe gave, then {again}" if outcome.ending is Ending.REFUSED else again,
        )
