"""The import journal: what Stripe has of a file, kept in flat memory, bound to the file and the account."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compiler.errors import InvalidUsageFile
from compiler.usage.journal import (
    Delivery,
    Journal,
    RowSet,
    default_journal,
    deliveries,
    file_digest,
    journal_for,
    journals_of,
)


def test_a_row_set_keeps_a_watermark_and_only_the_out_of_order_rest() -> None:
    rows = RowSet()
    for number in (2, 3, 1, 5):
        rows.add(number)
    assert rows.through == 3 and rows.above == {5}
    assert 1 in rows and 3 in rows and 5 in rows
    assert 4 not in rows and 0 not in rows
    rows.add(4)
    assert rows.through == 5 and rows.above == set()


def test_a_row_set_stays_small_when_rows_come_in_order() -> None:
    rows = RowSet()
    for number in range(1, 100_001):
        rows.add(number)
    assert rows.through == 100_000 and not rows.above


def journal_at(tmp_path: Path, content: str = "a,b\n1,2\n") -> tuple[Path, Path, str]:
    data = tmp_path / "u.csv"
    data.write_text(content)
    return data, tmp_path / "u.csv.journal", file_digest(data)


def test_a_journal_reads_back_what_it_recorded(tmp_path: Path) -> None:
    _, path, digest = journal_at(tmp_path)
    journal = Journal.create(path, digest=digest, display="u.csv", now=100)
    journal.note_meter("emails_sent", "mtr_1")
    journal.record(Delivery(101, sent=(1, 2), already=(4,)))
    journal.record(Delivery(102, rejected=(3,)))
    journal.close()

    again = Journal.load(path, digest=digest, display="u.csv")
    assert again is not None
    assert [again.delivered(n) for n in (1, 2, 3, 4, 5)] == [True, True, False, True, False]
    assert again.meters == {"emails_sent": "mtr_1"}
    assert again.created == 100
    assert [d.at for d in deliveries(path, "u.csv")] == [101, 102]


def test_a_row_refused_once_and_taken_later_is_delivered(tmp_path: Path) -> None:
    _, path, digest = journal_at(tmp_path)
    journal = Journal.create(path, digest=digest, display="u.csv", now=1)
    journal.record(Delivery(2, rejected=(1,)))
    journal.record(Delivery(3, sent=(1,)))
    journal.record(Delivery(4, rejected=(1,)))  # an older answer never undoes a delivery
    journal.close()
    again = Journal.load(path, digest=digest, display="u.csv")
    assert again is not None and again.delivered(1)


def test_a_rejected_row_is_handed_to_the_file_it_went_to(tmp_path: Path) -> None:
    _, path, digest = journal_at(tmp_path)
    journal = Journal.create(path, digest=digest, display="u.csv", now=1)
    journal.record(Delivery(2, rejected=(1,)))  # a journal from before it named the file
    journal.record(Delivery(3, rejected=(2, 3), into="u.rejected.2.csv"))
    journal.record(Delivery(4, sending=(3,)))  # sent from here after all (--resend-rejected), no answer yet
    journal.close()
    again = Journal.load(path, digest=digest, display="u.csv")
    assert again is not None
    assert again.rejected == {1: None, 2: "u.rejected.2.csv", 3: "u.rejected.2.csv"}
    assert [again.handed_off(n) for n in (1, 2, 3, 4)] == [True, True, False, False]
    assert '"rejected":[2,3],"into":"u.rejected.2.csv"' in path.read_text()


def test_a_journal_says_it_records_where_rejected_rows_went_so_an_older_pricebook_refuses_it(tmp_path: Path) -> None:
    _, path, digest = journal_at(tmp_path)
    Journal.create(path, digest=digest, display="u.csv", now=1).close()
    header = json.loads(path.read_text().splitlines()[0])
    assert header["version"] == 2  # a pricebook that reads version 1 only refuses it, rather than resend rows
    # a journal an older pricebook wrote is continued
    path.write_text(json.dumps({**header, "version": 1}) + "\n" + json.dumps({"at": 2, "rejected": [1]}) + "\n")
    older = Journal.load(path, digest=digest, display="u.csv")
    assert older is not None and older.rejected == {1: None}
    # one from a newer pricebook, which this one cannot know how to read, is refused
    path.write_text(json.dumps({**header, "version": 3}) + "\n")
    with pytest.raises(InvalidUsageFile) as newer:
        Journal.load(path, digest=digest, display="u.csv")
    assert "version 1 or 2" in newer.value.diagnostics[0].message


def test_rejected_rows_do_not_hold_the_watermark_back(tmp_path: Path) -> None:
    _, path, digest = journal_at(tmp_path)
    journal = Journal.create(path, digest=digest, display="u.csv", now=1)
    journal.record(Delivery(2, rejected=(1,)))
    journal.record(Delivery(2, sent=tuple(range(2, 10_001))))
    assert journal.processed.through == 10_000 and not journal.processed.above
    assert not journal.delivered(1) and journal.delivered(10_000)


def test_a_partial_last_line_of_a_killed_import_is_ignored(tmp_path: Path) -> None:
    _, path, digest = journal_at(tmp_path)
    journal = Journal.create(path, digest=digest, display="u.csv", now=1)
    journal.record(Delivery(2, sent=(1,)))
    journal.close()
    with path.open("a") as handle:
        handle.write('{"at": 3, "sent": [2, 3')
    again = Journal.load(path, digest=digest, display="u.csv")
    assert again is not None and again.delivered(1) and not again.delivered(2)


def test_a_broken_line_inside_the_journal_is_an_error(tmp_path: Path) -> None:
    _, path, digest = journal_at(tmp_path)
    Journal.create(path, digest=digest, display="u.csv", now=1).close()
    with path.open("a") as handle:
        handle.write("garbage\n{}\n")
    with pytest.raises(InvalidUsageFile) as info:
        Journal.load(path, digest=digest, display="u.csv")
    assert str(info.value.diagnostics[0].location).endswith("u.csv.journal:2")


def test_a_journal_of_another_content_of_the_file_is_refused(tmp_path: Path) -> None:
    data, path, digest = journal_at(tmp_path)
    Journal.create(path, digest=digest, display="u.csv", now=1).close()
    data.write_text("a,b\n0,1\n1,2\n")  # a row put in front: every row number now names another row
    with pytest.raises(InvalidUsageFile) as info:
        Journal.load(path, digest=file_digest(data), display="u.csv")
    assert info.value.diagnostics[0].rule == "usage-journal"
    assert info.value.diagnostics[0].hint


def test_a_journal_of_another_account_is_refused(tmp_path: Path) -> None:
    _, path, digest = journal_at(tmp_path)
    journal = Journal.create(path, digest=digest, display="u.csv", now=1)
    journal.note_meter("emails_sent", "mtr_test")
    journal.check_meters({"emails_sent": "mtr_test", "other": None}, "u.csv")
    with pytest.raises(InvalidUsageFile) as info:
        journal.check_meters({"emails_sent": "mtr_live"}, "u.csv")
    assert "another account" in info.value.diagnostics[0].message


def test_no_journal_yet(tmp_path: Path) -> None:
    assert Journal.load(tmp_path / "none.journal", digest="x", display="u.csv") is None


def test_a_row_sent_without_an_answer_is_in_doubt_once_stripe_may_have_forgotten_it(tmp_path: Path) -> None:
    _, path, digest = journal_at(tmp_path)
    journal = Journal.create(path, digest=digest, display="u.csv", now=0)
    journal.record(Delivery(1000, sending=(1, 2, 3)))
    journal.record(Delivery(1001, sent=(1,)))
    journal.record(Delivery(1002, unsent=(3,)))  # queued, never sent (the run stopped)
    journal.close()
    again = Journal.load(path, digest=digest, display="u.csv")
    assert again is not None
    hour = 3600
    assert not again.in_doubt(2, 1000 + 22 * hour)  # Stripe still knows the identifier: sending again is safe
    assert again.in_doubt(2, 1000 + 24 * hour)
    assert not again.in_doubt(1, 1000 + 48 * hour)  # answered
    assert not again.in_doubt(3, 1000 + 48 * hour)  # never sent


# -- one journal per account ------------------------------------------------------------------------------------


def journal_of_account(path: Path, data: Path, meter_id: str | None) -> Path:
    """A journal of `data` at `path` that sent a row to the meter `meter_id` (None: it sent nothing)."""
    journal = Journal.create(path, digest=file_digest(data), display=str(data), now=1)
    if meter_id is not None:
        journal.note_meter("emails_sent", meter_id)
        journal.record(Delivery(2, sent=(1,)))
    journal.close()
    return path


def test_each_environment_has_a_journal_of_its_own_beside_the_file(tmp_path: Path) -> None:
    data = tmp_path / "usage.csv"
    assert default_journal(data) == tmp_path / "usage.csv.journal"  # as before environments: kept working
    assert default_journal(data, "live") == tmp_path / "usage.csv.live.journal"
    assert default_journal(data, "eu/live") == tmp_path / "usage.csv.eu%2Flive.journal"  # never another directory


def test_an_import_starts_its_environments_journal_when_no_journal_records_its_account(tmp_path: Path) -> None:
    data, _, _ = journal_at(tmp_path)
    assert journal_for(data, "live", frozenset({"mtr_live"})) == tmp_path / "u.csv.live.journal"
    journal_of_account(tmp_path / "u.csv.journal", data, "mtr_test")  # the test account's, from before
    assert journal_for(data, "live", frozenset({"mtr_live"})) == tmp_path / "u.csv.live.journal"
    assert journal_for(data, None, frozenset({"mtr_live"})) == tmp_path / "u.csv.journal"  # refused when loaded


def test_a_journal_of_the_same_account_under_another_name_is_continued(tmp_path: Path) -> None:
    """A journal from before journals were per environment, or one an environment of the same account wrote:
    starting another would send its rows again, and after Stripe's 24 hours count them twice."""
    data, _, _ = journal_at(tmp_path)
    before = journal_of_account(tmp_path / "u.csv.journal", data, "mtr_test")
    assert journal_for(data, "test", frozenset({"mtr_test", "mtr_2"})) == before
    test = journal_of_account(tmp_path / "u.csv.test.journal", data, "mtr_test")
    assert journal_for(data, "test", frozenset({"mtr_test"})) == test  # its own, once it has one
    before.unlink()
    assert journal_for(data, None, frozenset({"mtr_test"})) == test  # and the same account without --env
    assert journal_for(data, "ci", frozenset({"mtr_test"})) == test
    # offline (a catalog's meters have no ids) nothing tells accounts apart: the environment's own
    assert journal_for(data, "ci", None) == tmp_path / "u.csv.ci.journal"


def test_a_journal_that_sent_nothing_or_is_another_files_is_not_taken(tmp_path: Path) -> None:
    data, _, _ = journal_at(tmp_path)
    journal_of_account(tmp_path / "u.csv.journal", data, None)
    other = tmp_path / "u.csv.test"  # a file whose own journal has the name of u.csv's `test` one
    other.write_text("a,b\n")
    journal_of_account(tmp_path / "u.csv.test.journal", other, "mtr_test")
    (tmp_path / "u.csv.x.journal").write_text("not a journal\n")
    (tmp_path / "u.csv.y.journal").write_bytes(b"\xff\xfe")
    assert [owner.path.name for owner in journals_of(data)] == ["u.csv.journal"]
    assert journal_for(data, "live", frozenset({"mtr_test"})) == tmp_path / "u.csv.live.journal"


def test_two_journals_of_one_account_are_refused_rather_than_one_guessed(tmp_path: Path) -> None:
    data, _, _ = journal_at(tmp_path)
    journal_of_account(tmp_path / "u.csv.journal", data, "mtr_test")
    journal_of_account(tmp_path / "u.csv.ci.journal", data, "mtr_test")
    with pytest.raises(InvalidUsageFile) as info:
        journal_for(data, "test", frozenset({"mtr_test"}))
    problem = info.value.diagnostics[0]
    assert problem.rule == "usage-journal"
    assert "2 journals of u.csv record this account" in problem.message and "--journal" in (problem.hint or "")


def test_a_journal_of_another_account_says_each_environment_has_its_own(tmp_path: Path) -> None:
    _, path, digest = journal_at(tmp_path)
    journal = Journal.create(path, digest=digest, display="u.csv", now=1)
    journal.note_meter("emails_sent", "mtr_test")
    with pytest.raises(InvalidUsageFile) as info:
        journal.check_meters({"emails_sent": "mtr_live"}, "u.csv")
    assert "--env" in (info.value.diagnostics[0].hint or "")
