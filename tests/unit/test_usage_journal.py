"""The import journal: what Stripe has of a file, kept in flat memory, bound to the file and the account."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.errors import InvalidUsageFile
from compiler.usage.journal import Delivery, Journal, RowSet, deliveries, file_digest


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
