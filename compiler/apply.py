"""Carry out a ChangeSet: the same ordered API calls the preview listed, and nothing else.

Order and parallelism. Every call belongs to a stage (`stripe.calls.Stage`: meters, products, new prices and
plans, updates, default price moves, archives, product archives; a replace is create-with-transfer, move,
archive), and the ChangeSet lists them stage by stage. A call starts only when every call of every earlier stage
has finished, and, inside its own stage, every earlier call on the same object or one it depends on. So the
order of the stages is never broken (archives wait for the default price moves before them), while the hundreds
of independent price creates of one stage go out in parallel, up to the gateway's pace. The order comes from
the calls' typed actions alone, so the preview's list and the real run agree by construction.

Failure. A call that fails for good (the gateway has already retried what is safe) stops the run: the calls
already in flight finish, nothing new starts, and the result says what was done, what failed (Stripe's message)
and what was not attempted. Running apply again finishes the job: it reads the account afresh, so it sees what
did get created, even a price whose create committed while the client saw a 500, and its new fingerprint gives
fresh idempotency keys rather than the 500 Stripe stored for the old ones (a retry with the same key gets the
saved response, "including 500 errors": https://docs.stripe.com/api/idempotent_requests).

Idempotency. Each write's key is derived from the call as sent (placeholders resolved) and the ChangeSet's
fingerprint: a retried step replays, a re-run against a changed account gets new keys.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Protocol

from compiler.changes.changeset import ChangeSet
from compiler.errors import PricebookError, StripeApiError, UnsafeChange, UsageError
from compiler.stripe.calls import ApiCall, Stage

DEFAULT_WORKERS = 8


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


@dataclass(frozen=True)
class StepFailed:
    call: ApiCall
    message: str  # Stripe's own words
    status: int | None = None
    code: str | None = None


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
    done: tuple[StepDone, ...] = ()  # in the order they finished
    failed: tuple[StepFailed, ...] = ()
    not_attempted: tuple[ApiCall, ...] = ()  # in list order
    ids: Mapping[str, str] = field(default_factory=dict)  # address -> Stripe id of every object created
    seconds: float = 0.0
    interrupted: bool = False  # stopped by Ctrl-C

    @property
    def ok(self) -> bool:
        return not self.failed and not self.not_attempted


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


# -- the executor -------------------------------------------------------------------------------------------------


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


def apply_changeset(
    changeset: ChangeSet,
    sender: Sender,
    *,
    on_progress: Callable[[Progress], None] | None = None,
    workers: int = DEFAULT_WORKERS,
) -> ApplyResult:
    """Send `changeset.calls` (see the module doc for order, parallelism and failure)."""
    check_applicable(changeset, sender)
    workers = max(1, workers)
    redact = sender.redact
    calls = list(changeset.calls)
    started_at = time.monotonic()
    groups = stage_groups(calls)
    local = local_dependencies(calls, groups)
    unfinished_in_group: dict[int, int] = {}
    for g in groups:
        unfinished_in_group[g] = unfinished_in_group.get(g, 0) + 1

    ids: dict[str, str] = {}
    finished: set[int] = set()
    pending: list[int] = list(range(len(calls)))  # not yet started, in list order
    in_flight: dict[Future[dict[str, Any]], tuple[int, ApiCall]] = {}
    done: list[StepDone] = []
    failed: list[StepFailed] = []
    stopping = False
    interrupted = False
    lowest_open = 0  # the first group with unfinished calls

    def ready(i: int) -> bool:
        return groups[i] == lowest_open and local[i] <= finished

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pricebook-apply") as pool:
        while True:
            if not stopping:
                for i in list(pending):
                    if len(in_flight) >= workers or groups[i] > lowest_open:
                        break
                    if not ready(i):
                        continue
                    pending.remove(i)
                    try:
                        resolved = calls[i].resolve(ids)
                    except KeyError as exc:  # a dependency's id is unknown: a bug in the ChangeSet
                        failed.append(StepFailed(calls[i], f"no Stripe id known for {exc.args[0]}"))
                        stopping = True
                        break
                    future = pool.submit(sender.send, resolved, resolved.idempotency_key(changeset.fingerprint))
                    in_flight[future] = (i, resolved)
            if not in_flight:
                break
            try:
                completed, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            except KeyboardInterrupt:  # Ctrl-C: let the calls in flight finish, start none, report (a second one quits)
                stopping = interrupted = True
                completed, _ = wait(in_flight)
            for future in completed:
                i, resolved = in_flight.pop(future)
                try:
                    body = future.result()
                except StripeApiError as exc:
                    failed.append(StepFailed(resolved, redact(exc.message), exc.status, exc.code))
                    stopping = True
                except PricebookError as exc:
                    failed.append(StepFailed(resolved, redact(exc.message)))
                    stopping = True
                except Exception as exc:  # a bug or a malformed answer: still report done / failed / not attempted
                    # its text was not made by the gateway, so it may echo the request, key included: scrub it
                    failed.append(StepFailed(resolved, redact(f"{type(exc).__name__}: {exc}")))
                    stopping = True
                else:
                    raw_id = body.get("id")
                    object_id = raw_id if isinstance(raw_id, str) else None
                    creates = calls[i].creates
                    if creates and object_id:
                        ids[creates] = object_id
                    done.append(StepDone(resolved, object_id))
                finished.add(i)
                unfinished_in_group[groups[i]] -= 1
                while lowest_open in unfinished_in_group and unfinished_in_group[lowest_open] == 0:
                    lowest_open += 1
                if on_progress is not None:
                    on_progress(Progress(len(calls), len(done), len(failed), len(in_flight), resolved))

    return ApplyResult(
        done=tuple(done),
        failed=tuple(failed),
        not_attempted=tuple(calls[i] for i in pending),
        ids=dict(ids),
        seconds=time.monotonic() - started_at,
        interrupted=interrupted,
    )

