"""Apply in rounds, with a fake gateway and a fake read: when apply reads the account again, what it does next,
and when it stops; and the report of a run of several rounds."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from compiler.apply import (
    ApplyReport,
    ApplyResult,
    Ending,
    Record,
    RoundCause,
    StepDone,
    StepFailed,
    apply_in_rounds,
)
from compiler.changes.changeset import ChangeSet, Problem
from compiler.errors import StripeApiError
from compiler.stripe.calls import ApiCall, CallAction
from compiler.stripe.gateway import GatewayStats
from tests.unit.test_apply_executor import FakeGateway, catalog_calls, changeset, create, update


class FlakyGateway(FakeGateway):
    """Fails each call named in `fail` once, then answers it like any other."""

    def send(self, call: ApiCall, idempotency_key: str) -> dict[str, Any]:
        name = f"{call.address} {call.action}"
        try:
            return super().send(call, idempotency_key)
        finally:
            with self.lock:
                self.fail.pop(name, None)


class Reads:
    """A fake `reread`: hands out the given ChangeSets in turn, remembering what each read was told."""

    def __init__(self, *next_rounds: ChangeSet) -> None:
        self.next_rounds = list(next_rounds)
        self.seen: list[tuple[ChangeSet, ApplyResult]] = []

    def __call__(self, round_: ChangeSet, result: ApplyResult) -> ChangeSet:
        self.seen.append((round_, result))
        assert self.next_rounds, "one read more than expected"
        return self.next_rounds.pop(0)


def unknown(message: str = "An unknown error occurred") -> StripeApiError:
    return StripeApiError(message, status=500, code=None)


def replace_create(key: str) -> ApiCall:
    return create("price", key, {"lookup_key": key, "transfer_lookup_key": True})


def left_after_p1() -> list[ApiCall]:
    """What a fresh plan leaves of `catalog_calls` once the read shows every price made: the default price move
    (to p0's id, now known) and the archive."""
    move = ApiCall(
        "POST", "/v1/products/suite", {"default_price": "price_p0"}, "product.suite", CallAction.SET_DEFAULT_PRICE
    )
    return [move, update("price", "old", CallAction.ARCHIVE, {"active": False})]


def test_after_steps_of_unknown_outcome_apply_reads_again_and_does_what_is_left() -> None:
    calls = catalog_calls(3)
    gateway = FlakyGateway(fail={"price.p1 create": unknown()})
    # the read shows p1 made behind its 500: what is left is the default price move and the archive, anew
    left = changeset(left_after_p1(), "fp2")
    reads = Reads(left)
    outcome = apply_in_rounds(changeset(calls, "fp1"), gateway, reads, workers=1)

    assert outcome.ok and outcome.ending is Ending.DONE
    assert [r.cause for r in outcome.rounds] == [RoundCause.PLAN, RoundCause.UNKNOWN_OUTCOME]
    ((round_, result),) = reads.seen
    assert round_.calls == tuple(calls)
    assert [f.call.address for f in result.failed] == ["price.p1"] and result.failed[0].outcome_unknown
    # the second round's writes carry keys of the fresh read's fingerprint, not the first's
    second = [(c, k) for c, k in gateway.sent if c.action in (CallAction.SET_DEFAULT_PRICE, CallAction.ARCHIVE)]
    assert all(k == c.idempotency_key("fp2") for c, k in second) and len(second) == 2
    assert len(outcome.done) == len(calls) - 1


def test_a_refusal_stops_apply_without_another_read() -> None:
    refusal = StripeApiError("No such product", status=400, code="resource_missing")
    outcome = apply_in_rounds(changeset(catalog_calls(2)), FakeGateway(fail={"price.p0 create": refusal}), Reads())
    assert outcome.ending is Ending.REFUSED and len(outcome.rounds) == 1
    assert outcome.last.refused[0].code == "resource_missing"


def test_a_refusal_among_unknown_outcomes_still_stops() -> None:
    gateway = FakeGateway(fail={"price.p0 create": unknown(), "price.p1 create": StripeApiError("bad", status=400)})
    outcome = apply_in_rounds(changeset(catalog_calls(3)), gateway, Reads(), workers=1)
    assert outcome.ending is Ending.REFUSED


@pytest.mark.parametrize("max_rounds", [1, 2])
def test_rounds_are_bounded(max_rounds: int) -> None:
    calls = [create("price", f"p{n}") for n in range(4)]
    gateway = FakeGateway(fail={"price.p0 create": unknown()})
    # each read shows a little less left to do, so only the bound ends it
    reads = Reads(*(changeset(calls[: 3 - n]) for n in range(3)))
    outcome = apply_in_rounds(changeset(calls), gateway, reads, max_rounds=max_rounds)
    assert outcome.ending is Ending.OUT_OF_ROUNDS and len(outcome.rounds) == max_rounds
    assert len(reads.seen) == max_rounds - 1  # no read after the last round: nothing could use it
    assert not outcome.ok


def test_two_rounds_in_a_row_that_leave_as_much_to_do_end_apply() -> None:
    calls = [create("price", f"p{n}") for n in range(3)]
    gateway = FakeGateway(fail={"price.p0 create": unknown()})  # fails every time
    reads = Reads(*(changeset(calls[:1]) for _ in range(5)))
    outcome = apply_in_rounds(changeset(calls), gateway, reads)
    # round 2 left less than round 1 had; rounds 2 and 3 each left as much as they started with
    assert outcome.ending is Ending.NO_PROGRESS and len(outcome.rounds) == 3
    assert outcome.left is not None and [c.address for c in outcome.left.calls] == ["price.p0"]


def test_a_round_that_moved_a_lookup_key_is_followed_by_one_more_read() -> None:
    calls = [replace_create("pro"), update("price", "old", CallAction.ARCHIVE_OLD_VERSION, {"active": False})]
    nothing_left = Reads(changeset([]))
    outcome = apply_in_rounds(changeset(calls), FakeGateway(), nothing_left)
    assert outcome.ok and len(outcome.rounds) == 1 and len(nothing_left.seen) == 1

    # another apply moved the same key meanwhile: the read finds its leftover to archive, and a round does it
    leftover = update("price", "price_theirs", CallAction.ARCHIVE, {"active": False})
    found = Reads(changeset([leftover], "fp2"), changeset([]))
    outcome = apply_in_rounds(changeset(calls), FakeGateway(), found)
    assert outcome.ok
    assert [r.cause for r in outcome.rounds] == [RoundCause.PLAN, RoundCause.LOOKUP_KEYS_MOVED]
    assert [s.call.address for s in outcome.rounds[1].result.done] == ["price.price_theirs"]


def test_without_a_lookup_key_moved_or_an_unknown_outcome_there_is_no_second_read() -> None:
    outcome = apply_in_rounds(changeset(catalog_calls(2)), FakeGateway(), Reads())
    assert outcome.ok and len(outcome.rounds) == 1


def test_problems_the_read_finds_stop_apply_before_another_round() -> None:
    problem = Problem("price.p1", "account-changed-while-applying", "the account changed", "plan again")
    gateway = FakeGateway(fail={"price.p1 create": unknown()})
    outcome = apply_in_rounds(changeset(catalog_calls(2)), gateway, Reads(ChangeSet(problems=(problem,))))
    assert outcome.ending is Ending.BLOCKED and len(outcome.rounds) == 1
    assert outcome.left is not None and outcome.left.problems == (problem,)


def test_a_failed_read_between_rounds_ends_apply_with_its_reason_without_the_key() -> None:
    class KeyedGateway(FakeGateway):
        def redact(self, text: str) -> str:
            return text.replace("sk_test_secret", "[redacted]")

    def failing_read(_round: ChangeSet, _result: ApplyResult) -> ChangeSet:
        raise StripeApiError("connection refused for key sk_test_secret", status=None)

    gateway = KeyedGateway(fail={"price.p0 create": unknown()})
    outcome = apply_in_rounds(changeset(catalog_calls(1)), gateway, failing_read)
    assert outcome.ending is Ending.READ_FAILED
    assert outcome.error == "connection refused for key [redacted]"


def test_ctrl_c_during_a_read_ends_apply_before_the_next_round() -> None:
    stop = threading.Event()

    def read_while_interrupted(_round: ChangeSet, _result: ApplyResult) -> ChangeSet:
        stop.set()
        return changeset([create("price", "p9")])

    gateway = FakeGateway(fail={"price.p0 create": unknown()})
    outcome = apply_in_rounds(changeset(catalog_calls(1)), gateway, read_while_interrupted, stop=stop)
    assert outcome.ending is Ending.INTERRUPTED and len(outcome.rounds) == 1
    assert not any(c.address == "price.p9" for c, _ in gateway.sent)


# -- the command's report of several rounds -------------------------------------------------------------------------


def _report(outcome: ApplyReport) -> list[tuple[str, bool]]:
    from compiler.cli.apply import report

    lines: list[tuple[str, bool]] = []
    report(outcome, GatewayStats(), lambda message="", err=False, **_: lines.append((message, err)))
    return lines


def test_the_report_of_an_apply_that_took_rounds_says_how_many_and_why() -> None:
    calls = catalog_calls(3)
    gateway = FlakyGateway(fail={"price.p1 create": unknown()})
    outcome = apply_in_rounds(changeset(calls), gateway, Reads(changeset(left_after_p1(), "fp2")), workers=1)
    lines = _report(outcome)
    text = "\n".join(m for m, _ in lines)
    assert not any(err for _, err in lines)
    assert text.startswith("Apply complete in 2 rounds, ")
    assert "round 1 (the plan): 7 call(s), 4 done, 1 with an unknown outcome, 2 not attempted" in text
    assert "round 2 (what a fresh read left to do after steps with an unknown outcome): 2 call(s), 2 done" in text


def test_the_report_of_an_apply_out_of_rounds_shows_what_is_still_to_do() -> None:
    calls = [create("price", f"p{n}") for n in range(3)]
    gateway = FakeGateway(fail={"price.p0 create": unknown()})
    outcome = apply_in_rounds(changeset(calls), gateway, Reads(changeset(calls[:2])), max_rounds=1)
    text = "\n".join(m for m, _ in _report(outcome))
    assert "Apply stopped after" in text and "--max-rounds" in text
    assert "failed: create price.p0 (500) - outcome unknown: An unknown error occurred" in text

    left = changeset([create("price", "p0"), create("price", "p7")])
    outcome = apply_in_rounds(changeset(calls), gateway, Reads(left, left, left))
    text = "\n".join(m for m, _ in _report(outcome))
    assert "two rounds in a row left as much to do as before" in text
    assert "still to do, as the last read of the account shows (2):" in text and "create price.p7" in text


def test_the_report_of_a_blocked_apply_names_each_problem_with_its_hint() -> None:
    problem = Problem("price.price_1", "account-changed-while-applying", "the account changed: x", "run plan")
    gateway = FakeGateway(fail={"price.p0 create": unknown()})
    outcome = apply_in_rounds(changeset(catalog_calls(1)), gateway, Reads(ChangeSet(problems=(problem,))))
    text = "\n".join(m for m, _ in _report(outcome))
    assert "(the account changed while apply ran)" in text
    assert "problem: price.price_1: the account changed: x" in text and "hint: run plan" in text


def test_the_report_after_a_second_ctrl_c_names_what_was_in_flight(capsys: pytest.CaptureFixture[str]) -> None:
    from compiler.cli.apply import report_quit

    calls = catalog_calls(1)
    record = Record(
        done=(StepDone(calls[0], "mtr_1"),),
        failed=(StepFailed(calls[1], "boom", 500, None, True, 1),),
        in_flight=(calls[2],),
        rounds=2,
    )
    report_quit(record, GatewayStats(requests=9))
    err = capsys.readouterr().err
    assert "Apply quit at once" in err
    assert "done (1): 1 create" in err
    assert "failed: create product.suite (500) - outcome unknown: boom" in err
    assert "sent, no answer yet: outcome unknown (1):\n    create price.p0" in err
    assert "9 requests in all" in err
