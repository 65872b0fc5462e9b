"""The import pipeline, the senders, --verify and summary periods, with fakes in place of Stripe."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from compiler.errors import Diagnostic, StripeApiError, UsageError
from compiler.stripe.facts import GroupingWindow, MeterFormula
from compiler.usage.events import UsageEvent
from compiler.usage.importer import Progress, UsageFile, import_file, preflight
from compiler.usage.journal import Delivery, Journal, default_journal, file_digest
from compiler.usage.meters import Meter, Meters
from compiler.usage.send import Outcome, Result, StreamSender, V1Sender, Via
from compiler.usage.summary import period
from compiler.usage.verify import PairTotal, Totals, verify

NOW = int(time.time())
METERS = Meters(
    {"emails_sent": Meter("emails_sent", "Emails", MeterFormula.SUM, "stripe_customer_id", "value", True, "mtr_1")},
    "the account",
)


def usage_file(tmp_path: Path, rows: int, *, bad: Sequence[int] = (), customers: int = 3) -> UsageFile:
    lines = ["timestamp,event_name,payload_stripe_customer_id,payload_value"]
    for n in range(1, rows + 1):
        value = "x" if n in bad else str(n % 4 + 1)
        lines.append(f"{NOW - 600},emails_sent,cus_{n % customers},{value}")
    path = tmp_path / "usage.csv"
    path.write_text("\n".join(lines) + "\n")
    return UsageFile.at(path)


class FakeSender:
    """Takes every event; can fail (StripeApiError) from a given call on, or refuse some rows."""

    def __init__(self, via: Via = Via.STREAM, batch_size: int = 100, *, fail_from: int | None = None) -> None:
        self.via = via
        self.batch_size = batch_size
        self.fail_from = fail_from
        self.refuse: set[int] = set()
        self.already: set[int] = set()
        self.sent: list[int] = []
        self.identifiers: dict[int, str] = {}  # by row, of every event sent
        self.calls = 0
        self._lock = threading.Lock()

    def send(self, events: Sequence[UsageEvent]) -> list[Result]:
        with self._lock:
            self.calls += 1
            if self.fail_from is not None and self.calls >= self.fail_from:
                raise StripeApiError("Invalid API Key provided", status=401)
            self.sent.extend(e.number for e in events)
            self.identifiers.update((e.number, e.identifier) for e in events)
        return [
            Result(e, Outcome.REJECTED, "no")
            if e.number in self.refuse
            else Result(e, Outcome.ALREADY if e.number in self.already else Outcome.SENT)
            for e in events
        ]


def run(file: UsageFile, sender: Any, tmp_path: Path, **kw: Any) -> Any:
    return import_file(
        file,
        METERS,
        sender,
        journal_path=tmp_path / "usage.csv.journal",
        rejected_path=tmp_path / "usage.csv.rejected.jsonl",
        workers=kw.pop("workers", 3),
        **kw,
    )


def test_every_row_is_sent_once_and_a_second_run_sends_none(tmp_path: Path) -> None:
    file = usage_file(tmp_path, 250)
    sender = FakeSender()
    report = run(file, sender, tmp_path)
    assert report.ok
    assert sorted(sender.sent) == list(range(1, 251))
    assert sender.calls == 3  # 100 + 100 + 50
    assert (report.counts.rows, report.counts.sent) == (250, 250)

    again = FakeSender()
    report = run(file, again, tmp_path)
    assert again.sent == []
    assert report.counts.already_in_journal == 250 and report.ok


def test_a_stop_leaves_the_rest_not_attempted_and_the_next_run_sends_only_that(tmp_path: Path) -> None:
    file = usage_file(tmp_path, 1000)
    sender = FakeSender(fail_from=4)
    report = run(file, sender, tmp_path, workers=1)
    assert report.failure is not None and report.failure.status == 401
    delivered = set(sender.sent)
    assert report.counts.sent == len(delivered) == 300
    assert report.counts.not_attempted == 700
    assert report.counts.sent + report.counts.not_attempted == report.counts.rows

    rest = FakeSender()
    assert run(file, rest, tmp_path).ok
    assert sorted(rest.sent) == sorted(set(range(1, 1001)) - delivered)


def test_an_interrupt_records_what_was_answered_and_the_next_run_finishes(tmp_path: Path) -> None:
    file = usage_file(tmp_path, 3000)
    sender = FakeSender()

    pressed: list[Progress] = []

    def interrupt(progress: Progress) -> None:
        if progress.counts.sent >= 500 and not pressed:
            pressed.append(progress)
            raise KeyboardInterrupt  # Ctrl-C, as the main thread sees it

    slow = FakeSender()
    original = slow.send

    def slow_send(events: Sequence[UsageEvent]) -> list[Result]:
        time.sleep(0.15)
        return original(events)

    slow.send = slow_send  # type: ignore[method-assign]
    report = run(file, slow, tmp_path, on_progress=interrupt)
    assert report.interrupted and not report.ok
    assert report.counts.sent == len(slow.sent) < 3000
    assert 0 < report.read_until < 3002

    run(file, sender, tmp_path)
    assert sorted(slow.sent + sender.sent) == list(range(1, 3001))


def killed_with_batches_in_flight(tmp_path: Path) -> UsageFile:
    """A 300-row file whose import was killed with rows 101-200 sent and unanswered."""
    file = usage_file(tmp_path, 300)
    journal = Journal.create(tmp_path / "usage.csv.journal", digest=file_digest(file.path), display="x", now=NOW)
    journal.record(Delivery(NOW, sent=tuple(range(1, 101))))
    journal.record(Delivery(NOW, sending=tuple(range(101, 201))))
    journal.close()
    return file


@pytest.mark.parametrize("hours_later", [1, 22])
def test_rows_in_flight_are_sent_again_while_stripe_knows_their_identifiers(tmp_path: Path, hours_later: int) -> None:
    file = killed_with_batches_in_flight(tmp_path)
    sender = FakeSender()
    assert run(file, sender, tmp_path, now=lambda: NOW + hours_later * 3600).ok
    assert sorted(sender.sent) == list(range(101, 301))


def test_rows_in_flight_a_day_ago_are_left_out_as_in_doubt(tmp_path: Path) -> None:
    file = killed_with_batches_in_flight(tmp_path)
    late = FakeSender()
    report = run(file, late, tmp_path, now=lambda: NOW + 24 * 3600)
    assert sorted(late.sent) == list(range(201, 301))  # 101-200 may be at Stripe, which no longer knows them
    assert report.counts.in_doubt == 100 and not report.ok
    forced = FakeSender()
    report = run(file, forced, tmp_path, now=lambda: NOW + 25 * 3600, resend_in_doubt=True)
    assert sorted(forced.sent) == list(range(101, 201)) and report.ok


def test_rows_refused_here_or_by_stripe_go_to_the_rejected_file_and_stay_there(tmp_path: Path) -> None:
    file = usage_file(tmp_path, 20, bad=(3,))
    sender = FakeSender(batch_size=5)
    sender.refuse = {7}
    report = run(file, sender, tmp_path)
    assert (report.counts.sent, report.counts.rejected) == (18, 2)
    lines = [json.loads(line) for line in (tmp_path / "usage.csv.rejected.jsonl").read_text().splitlines()]
    assert [(entry["line"], entry["errors"][0]["rule"]) for entry in lines] == [
        (4, "usage-value"),
        (8, "stripe-refused"),
    ]

    again = FakeSender(batch_size=5)
    report = run(file, again, tmp_path)
    assert again.sent == []  # rows 3 and 7 are the rejected file's to send now, not this one's
    assert (report.counts.rejected, report.counts.rejected_before, report.counts.already_in_journal) == (0, 2, 18)
    assert report.rejected_before == ((tmp_path / "usage.rejected.csv", 2),) and report.ok
    assert report.rejected_rows is None and report.rejected_file is None


def test_the_rejected_rows_are_written_as_the_file_has_them_and_import_once_fixed(tmp_path: Path) -> None:
    """Fixing rows in the imported file changes its content, which its journal refuses: the rows go to a file of
    their own, in the input's format (CSV header first), to fix and import; why is beside it."""
    file = usage_file(tmp_path, 20, bad=(3,))
    sender = FakeSender(batch_size=5)
    sender.refuse = {7}
    report = run(file, sender, tmp_path)
    assert report.rejected_rows == tmp_path / "usage.rejected.csv"
    header, *rows = (tmp_path / "usage.rejected.csv").read_text().splitlines()
    original = file.path.read_text().splitlines()
    assert header == f"{original[0]},identifier"  # a derived one knows only content and position: see below
    assert [row.rsplit(",", 1)[0] for row in rows] == [original[3], original[7]]  # refused here, then by Stripe
    identifiers = [row.rsplit(",", 1)[1] for row in rows]
    assert all(i.startswith("pbu_") for i in identifiers) and len(set(identifiers)) == 2
    why = [json.loads(line) for line in (tmp_path / "usage.csv.rejected.jsonl").read_text().splitlines()]
    assert [(entry["line"], entry["rejected_row"]) for entry in why] == [(4, 1), (8, 2)]

    fixed = tmp_path / "usage.rejected.csv"
    fixed.write_text(fixed.read_text().replace(",x,", ",3,"))
    resent = FakeSender(batch_size=5)
    report = import_file(
        UsageFile.at(fixed),
        METERS,
        resent,
        journal_path=tmp_path / "usage.rejected.csv.journal",
        rejected_path=tmp_path / "usage.rejected.csv.rejected.jsonl",
        workers=1,
    )
    assert report.ok and resent.sent == [1, 2] and report.rejected_rows is None  # row 3 fixed, row 7 as it was


def import_rejected_rows(tmp_path: Path, name: str = "usage.rejected.csv") -> FakeSender:
    """`pricebook usage import usage.rejected.csv`, with its own journal; the sender that took its rows."""
    sender = FakeSender(batch_size=5)
    path = tmp_path / name
    import_file(
        UsageFile.at(path),
        METERS,
        sender,
        journal_path=default_journal(path),
        rejected_path=path.with_name(path.name + ".rejected.jsonl"),
        workers=1,
    )
    return sender


def test_a_row_imported_from_the_rejected_file_is_never_sent_again_from_the_file(tmp_path: Path) -> None:
    """Rerunning the file after importing its rejected rows (say Stripe refused a row for a meter created since)
    must not send the row again: its identifier there is not the one it has here (a derived identifier would be
    some other row's in the rejected file), so Stripe, even within its 24 hours, would count it twice."""
    file = usage_file(tmp_path, 20)
    refused = FakeSender(batch_size=5)
    refused.refuse = {7}
    run(file, refused, tmp_path)
    from_rejected = import_rejected_rows(tmp_path)
    assert from_rejected.sent == [1]
    assert from_rejected.identifiers[1] != refused.identifiers[7]  # Stripe would keep both

    again = FakeSender(batch_size=5)  # Stripe takes row 7 now
    report = run(file, again, tmp_path)
    assert again.sent == []
    assert report.counts.rejected_before == 1 and report.ok and report.rejected_gone == ()
    # and in the other order: the file's rerun first, then its rejected rows, still once
    (tmp_path / "usage.csv.journal").unlink()
    for name in ("usage.rejected.csv", "usage.rejected.csv.journal", "usage.csv.rejected.jsonl"):
        (tmp_path / name).unlink()
    run(file, refused, tmp_path)
    assert run(file, FakeSender(batch_size=5), tmp_path).counts.rejected_before == 1
    assert import_rejected_rows(tmp_path).sent == [1]


def test_a_rerun_never_rewrites_a_rejected_file_and_writes_new_rejections_to_a_new_one(tmp_path: Path) -> None:
    file = usage_file(tmp_path, 300, bad=(1, 250))

    pressed: list[Progress] = []

    def stop_at_once(progress: Progress) -> None:  # Ctrl-C as row 1 is read: rows 2-300 are left for a rerun
        if not pressed:
            pressed.append(progress)
            raise KeyboardInterrupt

    first = run(file, FakeSender(), tmp_path, on_progress=stop_at_once)
    rows = tmp_path / "usage.rejected.csv"
    assert first.interrupted and first.rejected_rows == rows and first.read_until == 2
    edited = rows.read_text().replace(",x,", ",4,")  # the user fixes the row, and has yet to import it
    rows.write_text(edited)
    why = (tmp_path / "usage.csv.rejected.jsonl").read_text()

    again = run(file, FakeSender(), tmp_path)
    assert rows.read_text() == edited and (tmp_path / "usage.csv.rejected.jsonl").read_text() == why
    assert again.rejected_rows == tmp_path / "usage.rejected.2.csv"
    assert again.rejected_file == tmp_path / "usage.csv.rejected.2.jsonl"
    _, row = again.rejected_rows.read_text().splitlines()
    assert row.startswith(file.path.read_text().splitlines()[250] + ",pbu_")
    assert (again.counts.rejected, again.counts.rejected_before) == (1, 1)
    assert again.rejected_before == ((rows, 1),)


def test_a_rejected_file_name_is_taken_while_its_journal_is_there(tmp_path: Path) -> None:
    """A rejected-rows file imported and then deleted keeps its name: a new file under it would meet the journal
    of the old one, written for another content."""
    file = usage_file(tmp_path, 20, bad=(3,))
    run(file, FakeSender(batch_size=5), tmp_path)
    import_rejected_rows(tmp_path)
    (tmp_path / "usage.rejected.csv").unlink()
    (tmp_path / "usage.csv.rejected.jsonl").unlink()
    (tmp_path / "usage.csv.journal").unlink()  # from scratch: row 3 is rejected again
    assert run(file, FakeSender(batch_size=5), tmp_path).rejected_rows == tmp_path / "usage.rejected.2.csv"


def test_resend_rejected_sends_them_from_the_file_once_no_rejected_file_holds_them(tmp_path: Path) -> None:
    file = usage_file(tmp_path, 20)
    refused = FakeSender(batch_size=5)
    refused.refuse = {7}
    run(file, refused, tmp_path)
    rows = tmp_path / "usage.rejected.csv"
    with pytest.raises(UsageError) as still_there:
        run(file, FakeSender(batch_size=5), tmp_path, resend_rejected=True)
    assert f"{rows} holds them" in still_there.value.message
    assert "delete it" in (still_there.value.hint or "")

    rows.unlink()  # gone, never imported: the rows are in no file, and a plain rerun says so
    lost = run(file, FakeSender(batch_size=5), tmp_path)
    assert lost.rejected_gone == (rows,) and lost.counts.rejected_before == 1
    resent = FakeSender(batch_size=5)
    report = run(file, resent, tmp_path, resend_rejected=True)
    assert resent.sent == [7] and report.ok and report.counts.rejected_before == 0
    assert report.counts.sent == 1 and report.counts.already_in_journal == 19


def test_resend_rejected_is_refused_once_the_rejected_file_was_imported(tmp_path: Path) -> None:
    file = usage_file(tmp_path, 20)
    refused = FakeSender(batch_size=5)
    refused.refuse = {7}
    run(file, refused, tmp_path)
    import_rejected_rows(tmp_path)
    (tmp_path / "usage.rejected.csv").unlink()  # imported, then tidied away; its journal stays
    lost = run(file, FakeSender(batch_size=5), tmp_path)
    assert lost.rejected_gone == ()  # imported: its rows are at Stripe
    with pytest.raises(UsageError) as imported:
        run(file, FakeSender(batch_size=5), tmp_path, resend_rejected=True)
    assert "was imported" in imported.value.message and "usage.rejected.csv.journal" in imported.value.message


def test_rejected_json_lines_are_written_back_line_for_line(tmp_path: Path) -> None:
    path = tmp_path / "usage.jsonl"
    payload = {"stripe_customer_id": "cus_1", "value": "2"}
    good = json.dumps({"event_name": "emails_sent", "timestamp": NOW - 600, "payload": payload})
    bad = good.replace('"2"', '"two"')
    path.write_text(f"{good}\n{bad}\nnot json\n")
    report = import_file(
        UsageFile.at(path),
        METERS,
        FakeSender(),
        journal_path=tmp_path / "j",
        rejected_path=tmp_path / "why.jsonl",
        workers=1,
    )
    assert report.counts.rejected == 2
    written, broken = (tmp_path / "usage.rejected.jsonl").read_text().splitlines()
    assert broken == "not json"  # written as it is, for the user to fix
    assert {k: v for k, v in json.loads(written).items() if k != "identifier"} == json.loads(bad)
    assert json.loads(written)["identifier"].startswith("pbu_")


def test_already_at_stripe_counts_as_delivered(tmp_path: Path) -> None:
    file = usage_file(tmp_path, 10)
    sender = FakeSender(batch_size=1)
    sender.already = {2, 5}
    report = run(file, sender, tmp_path)
    assert report.ok and (report.counts.sent, report.counts.already_at_stripe) == (8, 2)
    assert len(report.totals) == 3


def test_v1_sends_one_customer_and_meter_at_a_time(tmp_path: Path) -> None:
    file = usage_file(tmp_path, 120, customers=4)
    in_flight: Counter[str] = Counter()
    worst: Counter[str] = Counter()
    lock = threading.Lock()
    sender = FakeSender(Via.V1, batch_size=1)
    original = sender.send

    def watched(events: Sequence[UsageEvent]) -> list[Result]:
        key = events[0].customer
        with lock:
            in_flight[key] += 1
            worst[key] = max(worst[key], in_flight[key])
        time.sleep(0.002)
        try:
            return original(events)
        finally:
            with lock:
                in_flight[key] -= 1

    sender.send = watched  # type: ignore[method-assign]
    assert run(file, sender, tmp_path, workers=8).ok
    assert set(worst.values()) == {1}


def test_preflight_reports_each_bad_row_and_what_the_journal_has(tmp_path: Path) -> None:
    file = usage_file(tmp_path, 10, bad=(2, 9))
    found: list[Diagnostic] = []
    report = preflight(file, METERS, now=NOW, journal_path=None, on_problem=found.append)
    assert (report.rows, report.bad_rows) == (10, 2)
    assert [str(p.location) for p in found] == [f"{file.display}:3", f"{file.display}:10"]


def test_preflight_leaves_out_the_rows_an_earlier_import_rejected(tmp_path: Path) -> None:
    """They are the rejected-rows file's to send, as a real run leaves them out: not this file's bad rows."""
    file = usage_file(tmp_path, 10, bad=(2, 9))
    run(file, FakeSender(), tmp_path)
    found: list[Diagnostic] = []
    report = preflight(file, METERS, now=NOW, journal_path=tmp_path / "usage.csv.journal", on_problem=found.append)
    assert (report.bad_rows, report.already_in_journal, report.rejected_before) == (0, 8, 2)
    assert found == [] and report.ok
    journal = tmp_path / "usage.csv.journal"
    resend = preflight(file, METERS, now=NOW, journal_path=journal, on_problem=found.append, resend_rejected=True)
    assert (resend.bad_rows, resend.rejected_before, len(found)) == (2, 0, 2)  # as --resend-rejected would check


# -- senders ---------------------------------------------------------------------------------------------------------


def event(number: int) -> UsageEvent:
    return UsageEvent(
        number, number + 1, "emails_sent", f"id{number}", {"stripe_customer_id": "c", "value": "1"}, "c", 1, NOW
    )


class FakeGateway:
    def __init__(self) -> None:
        self.errors: list[StripeApiError | None] = []
        self.streamed: list[tuple[str, list[str]]] = []
        self.sessions = 0

    def request(self, method: str, path: str, params: Any, **kw: Any) -> tuple[dict[str, Any], Any]:
        error = self.errors.pop(0) if self.errors else None
        if error is not None:
            raise error
        return {}, {}

    def meter_event_session(self) -> dict[str, Any]:
        self.sessions += 1
        return {
            "authentication_token": f"tok{self.sessions}",
            "created": "2024-06-01T12:00:00.000Z",
            "expires_at": "2024-06-01T12:15:00.000Z",
        }

    def stream_meter_events(self, token: str, events: list[dict[str, Any]]) -> None:
        error = self.errors.pop(0) if self.errors else None
        if error is not None:
            raise error
        self.streamed.append((token, [e["identifier"] for e in events]))


def test_v1_already_exists_is_delivered_and_other_refusals_are_per_event() -> None:
    gateway = FakeGateway()
    gateway.errors = [
        None,
        StripeApiError("An event already exists with identifier id2.", status=400, param="identifier"),
        StripeApiError("Invalid integer", status=400),
    ]
    results = V1Sender(gateway).send([event(1), event(2), event(3)])
    assert [r.outcome for r in results] == [Outcome.SENT, Outcome.ALREADY, Outcome.REJECTED]
    gateway.errors = [StripeApiError("Invalid API Key provided", status=401)]
    with pytest.raises(StripeApiError):
        V1Sender(gateway).send([event(4)])


def test_the_stream_session_is_renewed_a_minute_before_it_expires() -> None:
    now = [0.0]
    gateway = FakeGateway()
    sender = StreamSender(gateway, clock=lambda: now[0])
    sender.send([event(1)])
    now[0] = 15 * 60 - 61
    sender.send([event(2)])
    now[0] = 15 * 60 - 59
    sender.send([event(3)])
    assert [token for token, _ in gateway.streamed] == ["tok1", "tok1", "tok2"]


def test_an_expired_session_is_renewed_and_the_batch_sent_again() -> None:
    gateway = FakeGateway()
    gateway.errors = [StripeApiError("expired", status=401, code="billing_meter_event_session_expired")]
    results = StreamSender(gateway).send([event(1), event(2)])
    assert [r.outcome for r in results] == [Outcome.SENT, Outcome.SENT]
    assert gateway.streamed == [("tok2", ["id1", "id2"])]


def test_a_refused_stream_event_is_rejected_alone_and_the_others_sent() -> None:
    gateway = FakeGateway()
    gateway.errors = [StripeApiError("Invalid timestamp", status=400, param="events[1][timestamp]")]
    results = StreamSender(gateway).send([event(1), event(2), event(3)])
    assert {r.event.number: r.outcome for r in results} == {1: Outcome.SENT, 2: Outcome.REJECTED, 3: Outcome.SENT}
    assert gateway.streamed == [("tok1", ["id1", "id3"])]


# -- verify ----------------------------------------------------------------------------------------------------------


class Summaries:
    def __init__(self, answers: list[float]) -> None:
        self.answers = answers
        self.asked: list[dict[str, Any]] = []

    def request(self, method: str, path: str, params: Any) -> tuple[dict[str, Any], Any]:
        self.asked.append(dict(params))
        return {"data": [{"aggregated_value": self.answers.pop(0)}]}, {}


def totals_of(*events: UsageEvent) -> Totals:
    totals = Totals()
    for e in events:
        totals.add(e, METERS.by_event_name["emails_sent"])
    return totals


def test_verify_waits_for_stripe_within_the_timeout() -> None:
    reader = Summaries([1.0, 2.0])
    clock = [0.0]
    report = verify(
        totals_of(event(1), event(2)),
        METERS,
        reader,
        sent_from=NOW,
        sent_until=NOW,
        timeout=30,
        sleep=lambda s: clock.__setitem__(0, clock[0] + s),
        clock=lambda: clock[0],
    )
    assert report.ok and report.compared == 1 and len(reader.asked) == 2
    start, end = reader.asked[0]["start_time"], reader.asked[0]["end_time"]
    assert start % 60 == 0 and end % 60 == 0 and start <= NOW < end


def test_verify_reports_what_still_differs_at_the_timeout() -> None:
    clock = [0.0]
    report = verify(
        totals_of(event(1)),
        METERS,
        Summaries([0.0] * 10),
        sent_from=NOW,
        sent_until=NOW,
        timeout=5,
        sleep=lambda s: clock.__setitem__(0, clock[0] + s),
        clock=lambda: clock[0],
    )
    assert not report.ok
    assert "the file has 1, Stripe shows 0" in report.differences[0].describe()


def test_last_and_count_totals() -> None:
    last = PairTotal(MeterFormula.LAST)
    for number, timestamp, value in ((1, 10, 5), (2, 30, 7), (3, 20, 9)):
        last.add(UsageEvent(number, 0, "m", "i", {}, "c", value, timestamp))
    assert last.expected == 7
    count = PairTotal(MeterFormula.COUNT)
    count.add(UsageEvent(1, 0, "m", "i", {}, "c", None, None))
    assert count.expected == 1 and count.untimed == 1


# -- summary periods -------------------------------------------------------------------------------------------------


def test_the_default_period_is_this_month_up_to_now_rounded_up() -> None:
    now = 1_717_243_230  # 2024-06-01T12:00:30Z
    assert period(None, None, None, now=now) == period("2024-06-01", None, None, now=now)
    span = period(None, None, None, now=now)
    assert (span.start, span.end) == (1_717_200_000, 1_717_243_260)
    by_day = period(None, None, GroupingWindow.DAY, now=now)
    assert by_day.end == 1_717_286_400


def test_a_bound_off_the_boundary_is_an_error_naming_the_boundaries() -> None:
    with pytest.raises(UsageError) as info:
        period("2024-06-01T12:30:00Z", None, GroupingWindow.HOUR, now=1_717_250_000)
    assert "2024-06-01 12:00 or 2024-06-01 13:00" in (info.value.hint or "")
    with pytest.raises(UsageError):
        period("2024-06-02", "2024-06-01", None, now=1_717_250_000)
    with pytest.raises(UsageError):
        period("last tuesday", None, None, now=1_717_250_000)
