"""Carry out a ChangeSet: the same ordered API calls the preview listed, and nothing else.

Order and parallelism. Every call belongs to a stage (`stripe.calls.Stage`: meters, products, new prices and
plans, updates, default price moves, archives, product archives; a replace is create-with-transfer, move,
archive), and the ChangeSet lists them stage by stage. A call starts only when every call of every earlier stage
has finished, and, inside its own stage, every earlier call on the same object or one it depends on. So the
order of the stages is never broken (archives wait for the default price moves before them), while the hundreds
of independent price creates of one stage go out in parallel, up to the gateway's pace. The order comes from
the calls' typed actions alone, so the preview's list and the real run agree by construction.

Failure. A call fails in one of two ways (the gateway has already retried what is safe):
- Stripe refuses it (a 4xx: the request did nothing). The run stops: the calls in flight finish, nothing new
  starts.
- Its outcome is unknown: a 5xx (Stripe may answer 500 after the write committed), a dropped connection, a 409 or
  429 the gateway gave up retrying. The calls of its stage that do not depend on it go on; the next stage does not
  start, since it may depend on it.
Either way the result says what was done, what failed (Stripe's message) and what was not attempted.

Rounds (`apply_in_rounds`). After a round whose failures all had an unknown outcome, apply reads the account
again and carries out what is left (`reread`, given by the command line: the catalog planned afresh, or what
remains of a saved plan). The read shows what did happen: a price whose create committed behind a 500 is there,
so it is not created twice. A fresh plan has a new fingerprint, so its writes get new idempotency keys rather
than the 500 Stripe stored for the old ones (a retry with the same key gets the saved response, "including 500
errors": https://docs.stripe.com/api/idempotent_requests). A round that moved a lookup key (a replace's create)
is followed by one more read too: another apply at the same time may have moved the same key, leaving a price
of pricebook's active without it, which the next round archives (or reports). Rounds end when nothing is left,
at a refusal, on Ctrl-C (`stop`), after `max_rounds`, or when two rounds in a row leave as much to do as before.

Idempotency. Each write's key is derived from the call as sent (placeholders resolved) and the ChangeSet's
fingerprint: a retried step replays, a re-run against a changed account gets new keys.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from compiler.changes.changeset import ChangeSet
from compiler.changes.remaining import left_of_saved_plan
from compiler.errors import PricebookError, StripeApiError, UnsafeChange, UsageError
from compiler.stripe.calls import ApiCall, Stage
from compiler.stripe.gateway import should_retry
from compiler.stripe.state import AccountState

DEFAULT_WORKERS = 8
#: rounds one apply may take: far more than a transient fault needs, few enough to end a run that cannot finish
DEFAULT_MAX_ROUNDS = 10


def workers_for(rate: float | None) -> int:
    """Enough threads to keep the pace when each request takes ~0.4 s (Stripe's writes, roughly), within
    4..40: 10 at the test-mode 25/s, 40 at the live 100/s. Idle threads cost nothing; the pacer sets the rate."""
    if not rate:
        return DEFAULT_WORKERS
    return max(4, min(40, math.ceil(rate * 0.4)))


class Sender(Protocol):
    """What apply needs of a gateway (`stripe.gateway.Gateway`)."""

    @property
    def livemode(self) -> bool: ...

    def send(self, call: ApiCall, idempotency_key: str) -> dict[str, Any]: ...

    def redact(self, text: str) -> str:
        """`text` without the API key the sender writes with."""
        ...


@dataclass(frozen=True)
class StepDone:
    call: ApiCall  # as sent: placeholders resolved
    object_id: str | None  # the id in Stripe's answer
    index: int = 0  # its place in the ChangeSet's calls


@dataclass(frozen=True)
class StepFailed:
    call: ApiCall
    message: str  # Stripe's own words
    status: int | None = None
    code: str | None = None
    #: whether the call may have taken effect all the same (a 5xx, a dropped connection, a 409 or 429 the gateway
    #: gave up retrying): only a fresh read of the account can tell. False: Stripe refused it and nothing was done.
    outcome_unknown: bool = False
    index: int = 0  # its place in the ChangeSet's calls


@dataclass(frozen=True)
class Progress:
    """Reported after each finished call (from the calling thread, so a display needs no locking)."""

    total: int
    done: int
    failed: int
    in_flight: int
    last: ApiCall


@dataclass(frozen=True)
class ApplyResult:
    """One round: the calls of one ChangeSet, sent once each at most."""

    done: tuple[StepDone, ...] = ()  # in the order they finished
    failed: tuple[StepFailed, ...] = ()
    not_attempted: tuple[ApiCall, ...] = ()  # in list order
    ids: Mapping[str, str] = field(default_factory=dict)  # address -> Stripe id of every object created
    seconds: float = 0.0
    interrupted: bool = False  # stopped by Ctrl-C before every call had started

    @property
    def ok(self) -> bool:
        return not self.failed and not self.not_attempted

    @property
    def refused(self) -> tuple[StepFailed, ...]:
        """The failures Stripe answered with a refusal (the others' outcome is unknown)."""
        return tuple(f for f in self.failed if not f.outcome_unknown)


# -- what has been done so far, for a report at any moment ---------------------------------------------------------


@dataclass(frozen=True)
class Record:
    """What `StepLog` holds at one moment."""

    done: tuple[StepDone, ...]  # in every round so far
    failed: tuple[StepFailed, ...]  # in the current round
    in_flight: tuple[ApiCall, ...]  # sent, no answer yet: their outcome is unknown
    rounds: int


class StepLog:
    """Every step of an apply as it happens, across rounds. Another thread may read it at any moment: the command
    line reports from it when the user quits while calls are still in flight (a second Ctrl-C)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._done: list[StepDone] = []
        self._failed: list[StepFailed] = []
        self._in_flight: dict[int, ApiCall] = {}
        self._tokens = itertools.count()
        self._rounds = 0

    def new_round(self) -> None:
        with self._lock:
            self._rounds += 1
            self._failed.clear()

    def started(self, call: ApiCall) -> int:
        with self._lock:
            token = next(self._tokens)
            self._in_flight[token] = call
            return token

    def finished(self, token: int, step: StepDone | StepFailed) -> None:
        with self._lock:
            self._in_flight.pop(token, None)
            if isinstance(step, StepDone):
                self._done.append(step)
            else:
                self._failed.append(step)

    def record(self) -> Record:
        with self._lock:
            return Record(tuple(self._done), tuple(self._failed), tuple(self._in_flight.values()), self._rounds)


# -- scheduling ---------------------------------------------------------------------------------------------------


def stage_groups(calls: Sequence[ApiCall]) -> list[int]:
    """The group number of each call: consecutive calls of the same stage share one. A ChangeSet lists its calls
    stage by stage, so each stage is one group; a list out of stage order would still run in list order."""
    groups: list[int] = []
    previous: Stage | None = None
    for call in calls:
        stage = call.stage
        if groups and stage is previous:
            groups.append(groups[-1])
        else:
            groups.append(groups[-1] + 1 if groups else 0)
        previous = stage
    return groups


def local_dependencies(calls: Sequence[ApiCall], groups: Sequence[int]) -> list[frozenset[int]]:
    """For each call, the earlier calls of its own group it must wait for: those on the same object, and those
    that create (or are about) an object it names in `depends_on` or in a placeholder."""
    out: list[frozenset[int]] = []
    by_address: dict[str, list[int]] = {}
    current = -1
    for i, call in enumerate(calls):
        if groups[i] != current:
            current, by_address = groups[i], {}
        needs = {call.address, *call.depends_on, *call.placeholders()}
        waits = {j for name in needs for j in by_address.get(name, ())}
        out.append(frozenset(waits))
        by_address.setdefault(call.address, []).append(i)
        if call.creates and call.creates != call.address:
            by_address.setdefault(call.creates, []).append(i)
    return out


# -- one round ----------------------------------------------------------------------------------------------------


def check_applicable(changeset: ChangeSet, sender: Sender) -> None:
    """Refuse what must not start at all: blocking problems, a call of no stage (one pricebook never makes, so
    with no place in the order), or a ChangeSet made for the other mode."""
    if changeset.problems:
        listed = "; ".join(f"{p.address}: {p.message}" for p in changeset.problems[:5])
        more = f" (and {len(changeset.problems) - 5} more)" if len(changeset.problems) > 5 else ""
        raise UnsafeChange(
            f"refusing to apply: {len(changeset.problems)} problem(s) block these changes: {listed}{more}",
            hint="fix them (see `pricebook plan`) and run apply again; nothing was changed",
        )
    foreign = [call for call in changeset.calls if _stage_unknown(call)]
    if foreign:
        shown = "; ".join(f"{c.action.value} {c.address}" for c in foreign[:3])
        raise UnsafeChange(
            f"refusing to apply: {len(foreign)} call(s) are not ones pricebook makes ({shown}); nothing was changed",
            hint="make the plan again with `pricebook plan`",
        )
    if changeset.calls and changeset.livemode != sender.livemode:
        made, now = ("live", "test") if changeset.livemode else ("test", "live")
        raise UsageError(
            f"these changes were computed against a {made}-mode account but the key is for {now} mode",
            hint="run `pricebook plan` again with the key you mean to apply with",
        )


def _stage_unknown(call: ApiCall) -> bool:
    try:
        call.stage  # noqa: B018 - raises for a call pricebook never makes
    except ValueError:
        return True
    return False


def _step(
    future: Future[dict[str, Any]], index: int, call: ApiCall, redact: Callable[[str], str]
) -> StepDone | StepFailed:
    """What one finished call did."""
    try:
        body = future.result()
    except StripeApiError as exc:
        # the statuses Stripe says to retry are the ones that say nothing about the request itself
        unknown = should_retry(exc.status, None, connection_error=exc.status is None)
        return StepFailed(call, redact(exc.message), exc.status, exc.code, unknown, index)
    except PricebookError as exc:
        return StepFailed(call, redact(exc.message), index=index)
    except Exception as exc:  # a bug or a malformed answer: still report done / failed / not attempted
        # its text was not made by the gateway, so it may echo the request, key included: scrub it
        return StepFailed(call, redact(f"{type(exc).__name__}: {exc}"), index=index)
    raw_id = body.get("id")
    return StepDone(call, raw_id if isinstance(raw_id, str) else None, index)


def apply_changeset(
    changeset: ChangeSet,
    sender: Sender,
    *,
    on_progress: Callable[[Progress], None] | None = None,
    workers: int = DEFAULT_WORKERS,
    stop: threading.Event | None = None,
    log: StepLog | None = None,
) -> ApplyResult:
    """Send `changeset.calls`, each at most once (see the module doc for order, parallelism and failure).

    Once `stop` is set no call starts; those in flight finish. `log` records every step as it happens."""
    check_applicable(changeset, sender)
    workers = max(1, workers)
    log = log if log is not None else StepLog()
    calls = list(changeset.calls)
    started_at = time.monotonic()
    groups = stage_groups(calls)
    local = local_dependencies(calls, groups)
    unfinished_in_group = Counter(groups)

    ids: dict[str, str] = {}
    succeeded: set[int] = set()
    pending: list[int] = list(range(len(calls)))  # not yet started, in list order
    in_flight: dict[Future[dict[str, Any]], tuple[int, ApiCall, int]] = {}
    done: list[StepDone] = []
    failed: list[StepFailed] = []
    refused = False  # Stripe refused a call (or it could not be sent): start nothing more
    stage_failed = False  # a call of the open stage failed: the next stage must not start
    lowest_open = 0  # the first group with unfinished calls

    def stopped() -> bool:
        return stop is not None and stop.is_set()

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pricebook-apply") as pool:
        while True:
            if not refused and not stopped():
                for i in list(pending):
                    if len(in_flight) >= workers or groups[i] > lowest_open:
                        break
                    # a call whose dependency failed never becomes ready: it stays not attempted
                    if not local[i] <= succeeded:
                        continue
                    pending.remove(i)
                    try:
                        resolved = calls[i].resolve(ids)
                    except KeyError as exc:  # a dependency's id is unknown: a bug in the ChangeSet
                        failed.append(StepFailed(calls[i], f"no Stripe id known for {exc.args[0]}", index=i))
                        refused = True
                        break
                    future = pool.submit(sender.send, resolved, resolved.idempotency_key(changeset.fingerprint))
                    in_flight[future] = (i, resolved, log.started(resolved))
            if not in_flight:
                break
            completed, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in completed:
                i, resolved, token = in_flight.pop(future)
                step = _step(future, i, resolved, sender.redact)
                if isinstance(step, StepDone):
                    creates = calls[i].creates
                    if creates and step.object_id:
                        ids[creates] = step.object_id
                    succeeded.add(i)
                    done.append(step)
                else:
                    failed.append(step)
                    stage_failed = True
                    refused = refused or not step.outcome_unknown
                log.finished(token, step)
                unfinished_in_group[groups[i]] -= 1
                while not stage_failed and lowest_open in unfinished_in_group and not unfinished_in_group[lowest_open]:
                    lowest_open += 1
                if on_progress is not None:
                    on_progress(Progress(len(calls), len(done), len(failed), len(in_flight), resolved))

    return ApplyResult(
        done=tuple(done),
        failed=tuple(failed),
        not_attempted=tuple(calls[i] for i in pending),
        ids=dict(ids),
        seconds=time.monotonic() - started_at,
        interrupted=stopped() and bool(pending),
    )


# -- rounds -------------------------------------------------------------------------------------------------------


class RoundCause(StrEnum):
    """Why a round ran."""

    PLAN = "the plan"
    UNKNOWN_OUTCOME = "steps with an unknown outcome"  # the read after them showed what is left
    LOOKUP_KEYS_MOVED = "the check after lookup keys moved"  # the account changed while apply ran


class Ending(StrEnum):
    """Why apply ended (only DONE is a success)."""

    DONE = "done"
    REFUSED = "refused"  # Stripe refused a call
    INTERRUPTED = "interrupted"  # Ctrl-C
    OUT_OF_ROUNDS = "out of rounds"
    NO_PROGRESS = "no progress"  # two rounds in a row left as much to do as before
    BLOCKED = "blocked"  # the read between rounds found problems
    READ_FAILED = "read failed"  # the read between rounds failed


@dataclass(frozen=True)
class Round:
    cause: RoundCause
    result: ApplyResult


@dataclass(frozen=True)
class ApplyReport:
    """Every round of one apply and how it ended."""

    rounds: tuple[Round, ...]
    ending: Ending
    #: what the last read showed left to do when apply stopped before doing it (its calls, or its problems)
    left: ChangeSet | None = None
    error: str | None = None  # why the read between rounds failed
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.ending is Ending.DONE

    @property
    def done(self) -> tuple[StepDone, ...]:
        return tuple(step for r in self.rounds for step in r.result.done)

    @property
    def last(self) -> ApplyResult:
        return self.rounds[-1].result


#: reads the account after a round (given its ChangeSet and result) and returns the next round's ChangeSet: no
#: calls when nothing is left to do, or the problems that stop apply
Reread = Callable[[ChangeSet, ApplyResult], ChangeSet]


def rounds_of_saved_plan(saved: ChangeSet, start: AccountState, read: Callable[[], AccountState]) -> Reread:
    """The `reread` of `apply --plan`: the saved plan's own calls not done yet, as a fresh read (`read`) vouches
    for them (`changes.remaining`), never anything else. `start` is the account as apply found it."""
    ids: dict[str, str] = {}

    def reread(round_: ChangeSet, result: ApplyResult) -> ChangeSet:
        ids.update(result.ids)
        done = {step.index for step in result.done}
        unsure = {step.index for step in result.failed if step.outcome_unknown}
        left = [i for i in range(len(round_.calls)) if i not in done]
        positions = {i: n for n, i in enumerate(left)}
        changeset, known = left_of_saved_plan(
            saved, [round_.calls[i] for i in left], {positions[i] for i in unsure}, ids, start, read()
        )
        ids.update(known)
        return changeset

    return reread


def apply_in_rounds(
    changeset: ChangeSet,
    sender: Sender,
    reread: Reread,
    *,
    max_rounds: int = DEFAULT_MAX_ROUNDS,
    on_round: Callable[[int, RoundCause, ChangeSet], None] | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    workers: int = DEFAULT_WORKERS,
    stop: threading.Event | None = None,
    log: StepLog | None = None,
) -> ApplyReport:
    """Apply `changeset`, then, while steps had an unknown outcome or a lookup key moved, read the account again
    (`reread`) and apply what is left, in at most `max_rounds` rounds (see the module doc). `on_round` hears of
    each round after the first before it starts."""
    started_at = time.monotonic()
    log = log if log is not None else StepLog()
    rounds: list[Round] = []
    cause = RoundCause.PLAN
    idle = 0  # rounds in a row after which no less was left to do

    def end(ending: Ending, left: ChangeSet | None = None, error: str | None = None) -> ApplyReport:
        return ApplyReport(tuple(rounds), ending, left, error, time.monotonic() - started_at)

    while True:
        if rounds and on_round is not None:
            on_round(len(rounds) + 1, cause, changeset)
        log.new_round()
        result = apply_changeset(changeset, sender, on_progress=on_progress, workers=workers, stop=stop, log=log)
        rounds.append(Round(cause, result))
        if result.interrupted:
            return end(Ending.INTERRUPTED)
        if result.refused:
            return end(Ending.REFUSED)
        if result.failed:
            cause = RoundCause.UNKNOWN_OUTCOME
            if len(rounds) >= max_rounds:
                return end(Ending.OUT_OF_ROUNDS)
        elif any(step.call.moves_lookup_key for step in result.done):
            cause = RoundCause.LOOKUP_KEYS_MOVED
        else:
            return end(Ending.DONE)
        if stop is not None and stop.is_set():
            return end(Ending.INTERRUPTED)
        try:
            fresh = reread(changeset, result)
        except PricebookError as exc:
            return end(Ending.READ_FAILED, error=sender.redact(exc.message))
        if fresh.problems:
            return end(Ending.BLOCKED, fresh)
        if not fresh.calls:
            return end(Ending.DONE)
        if stop is not None and stop.is_set():
            return end(Ending.INTERRUPTED, fresh)
        if len(rounds) >= max_rounds:
            return end(Ending.OUT_OF_ROUNDS, fresh)
        idle = idle + 1 if len(fresh.calls) >= len(changeset.calls) else 0
        if idle >= 2:
            return end(Ending.NO_PROGRESS, fresh)
        changeset = fresh
