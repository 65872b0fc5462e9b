"""Reading usage files: CSV in the bulk-upload columns and JSON Lines, row by row, with their places."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.errors import InvalidUsageFile
from compiler.usage.rows import ByteCounter, FileFormat, SourceRow, read_rows

HEADER = "timestamp,event_name,payload_stripe_customer_id,payload_value\n"


def rows(path: Path, text: str | bytes, fmt: FileFormat = FileFormat.CSV) -> list[SourceRow]:
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return list(read_rows(path, fmt, path.name))


def test_csv_rows_in_stripes_bulk_upload_columns(tmp_path: Path) -> None:
    found = rows(tmp_path / "u.csv", HEADER + "1717243200,emails_sent,cus_1,5\n\n1717243260,emails_sent,cus_2,7\n")
    assert [(r.number, r.line, r.timestamp, r.event_name, dict(r.payload)) for r in found] == [
        (1, 2, "1717243200", "emails_sent", {"stripe_customer_id": "cus_1", "value": "5"}),
        (2, 4, "1717243260", "emails_sent", {"stripe_customer_id": "cus_2", "value": "7"}),
    ]


def test_empty_cells_are_absent_and_other_payload_keys_are_columns(tmp_path: Path) -> None:
    text = "event_name,identifier,payload_stripe_customer_id,payload_requests,payload_region\napi,,cus_1,4,eu\n"
    (row,) = rows(tmp_path / "u.csv", text)
    assert row.identifier is None and row.timestamp is None
    assert dict(row.payload) == {"stripe_customer_id": "cus_1", "requests": "4", "region": "eu"}


def test_a_quoted_field_over_two_lines_keeps_the_next_rows_line_numbers_true(tmp_path: Path) -> None:
    text = 'event_name,payload_note,payload_value\nemails_sent,"two\nlines",1\nemails_sent,one,2\n'
    found = rows(tmp_path / "u.csv", text)
    assert [(r.number, r.line) for r in found] == [(1, 2), (2, 4)]
    assert found[0].payload["note"] == "two\nlines"


def test_a_byte_order_mark_is_not_part_of_the_first_column(tmp_path: Path) -> None:
    (row,) = rows(tmp_path / "u.csv", b"\xef\xbb\xbf" + (HEADER + "1,emails_sent,cus_1,5\n").encode())
    assert row.timestamp == "1"


def test_a_short_row_is_a_row_problem_with_its_line(tmp_path: Path) -> None:
    first, second = rows(tmp_path / "u.csv", HEADER + "1,emails_sent,cus_1\n2,emails_sent,cus_1,3\n")
    assert [p.rule for p in first.problems] == ["usage-csv-row"]
    assert str(first.problems[0].location) == "u.csv:2"
    assert second.problems == ()


@pytest.mark.parametrize(
    ("header", "rule"),
    [
        ("timestamp,event_name,customer,payload_value\n", "usage-unknown-column"),
        ("timestamp,payload_stripe_customer_id,payload_value\n", "usage-csv-header"),
        ("event_name,event_name,payload_value\n", "usage-csv-header"),
        ("", "usage-csv-header"),
    ],
)
def test_a_header_pricebook_cannot_place_stops_the_reading(tmp_path: Path, header: str, rule: str) -> None:
    with pytest.raises(InvalidUsageFile) as info:
        rows(tmp_path / "u.csv", header + "x,y,z,w\n")
    assert rule in {d.rule for d in info.value.diagnostics}
    assert all(d.hint or d.rule == "usage-csv-header" for d in info.value.diagnostics)


def test_text_that_is_not_utf8_names_its_line(tmp_path: Path) -> None:
    with pytest.raises(InvalidUsageFile) as info:
        rows(tmp_path / "u.csv", HEADER.encode() + b"1,emails_sent,cus_\xff,5\n")
    assert str(info.value.diagnostics[0].location) == "u.csv:2"


def test_json_lines(tmp_path: Path) -> None:
    text = (
        '{"event_name": "emails_sent", "timestamp": 1717243200, "payload": {"stripe_customer_id": "c", "value": 5}}\n'
        "\n"
        "not json\n"
        "[1, 2]\n"
        '{"event_name": "emails_sent", "payload": {"value": "1"}, "customer": "c"}\n'
    )
    found = rows(tmp_path / "u.jsonl", text, FileFormat.JSONL)
    assert [(r.number, r.line) for r in found] == [(1, 1), (2, 3), (3, 4), (4, 5)]
    assert found[0].timestamp == 1717243200 and found[0].payload == {"stripe_customer_id": "c", "value": 5}
    assert [p.rule for p in found[1].problems] == ["usage-json-syntax"]
    assert [p.rule for p in found[2].problems] == ["usage-json-syntax"]
    assert [p.rule for p in found[3].problems] == ["usage-unknown-field"]


def test_a_json_line_nested_too_deeply_for_the_decoder_is_a_bad_row(tmp_path: Path) -> None:
    # it was an internal error (RecursionError)
    deep = '{"a": ' * 100_000 + "1" + "}" * 100_000
    found = rows(tmp_path / "u.jsonl", deep + "\n", FileFormat.JSONL)
    assert [[(p.rule, p.message) for p in r.problems] for r in found] == [
        [("usage-json-syntax", "this line is not valid JSON: it nests too deeply")]
    ]


def test_the_format_follows_the_extension_or_the_first_byte(tmp_path: Path) -> None:
    assert FileFormat.of(tmp_path / "a.csv") is FileFormat.CSV
    assert FileFormat.of(tmp_path / "a.ndjson") is FileFormat.JSONL
    other = tmp_path / "export.txt"
    other.write_text('\n{"event_name": "e"}\n')
    assert FileFormat.of(other) is FileFormat.JSONL


def test_bytes_are_counted_as_rows_are_read(tmp_path: Path) -> None:
    path = tmp_path / "u.csv"
    path.write_text(HEADER + "1,emails_sent,cus_1,5\n" * 10)
    counter = ByteCounter(path.stat().st_size)
    reader = read_rows(path, FileFormat.CSV, "u.csv", counter)
    next(reader)
    assert 0 < counter.fraction < 1
    list(reader)
    assert counter.fraction == 1.0


def test_a_missing_file_is_a_diagnostic(tmp_path: Path) -> None:
    with pytest.raises(InvalidUsageFile) as info:
        list(read_rows(tmp_path / "nope.csv", FileFormat.CSV, "nope.csv"))
    assert info.value.diagnostics[0].rule == "usage-file-unreadable"
