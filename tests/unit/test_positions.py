"""Places kept at once and places read again: a catalog file keeps only where its objects sit, and finds the
place of anything inside them again from its text when a problem needs one."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from compiler.catalog import yaml_reader
from compiler.catalog.check import check_catalog
from compiler.catalog.source import Document, NodePath, is_entry_place
from compiler.catalog.yaml_reader import Positions, load_text
from compiler.changes.model import load_catalog
from compiler.stripe.kinds import Kind
from tests.bench.generate import generate_catalog

ROOT = Path(__file__).resolve().parents[2]
TEXT = """\
defaults: &monthly
  interval: month
  usage_type: licensed
products:
  - id: suite
    name: Suite
    prices:
      - lookup_key: seats
        currency: usd
        unit_amount: 1000
        recurring: {<<: *monthly, interval_count: 1}
prices:
  - lookup_key: tiered
    product: suite
    currency: usd
    billing_scheme: tiered
    tiers_mode: graduated
    tiers:
      - {up_to: 5, unit_amount: 700}
      - {up_to: inf, unit_amount: 650}
    recurring: *monthly
"""


def places(doc: Document) -> tuple[Positions, Positions]:
    assert isinstance(doc.positions, Positions) and isinstance(doc.key_positions, Positions)
    return doc.positions, doc.key_positions


def test_the_places_read_again_are_the_places_a_full_read_keeps(monkeypatch: pytest.MonkeyPatch) -> None:
    full, _ = load_text(TEXT, "f.yaml")
    kept, _ = load_text(TEXT, "f.yaml", keep=is_entry_place)
    assert full is not None and kept is not None and kept.data == full.data
    reads: list[str] = []
    read = yaml_reader._read

    def counted(text: str, file: str, keep: Callable[[NodePath], bool] | None = None) -> Any:
        reads.append(file)
        return read(text, file, keep)

    monkeypatch.setattr(yaml_reader, "_read", counted)
    positions, keys = places(kept)
    assert ("products", 0, "prices", 0) in positions  # an object's own place is kept at once
    assert not positions.complete and not keys.complete and reads == []
    assert dict(keys) == dict(full.key_positions)  # read again: every key, aliases and merges too
    assert dict(positions) == dict(full.positions)
    assert keys.complete and positions.complete and reads == ["f.yaml"]  # once for both
    assert kept.at(("prices", 0, "tiers", 1, "up_to")) == full.at(("prices", 0, "tiers", 1, "up_to"))


def test_a_field_asked_for_first_is_found_from_the_text() -> None:
    kept, _ = load_text(TEXT, "f.yaml", keep=is_entry_place)
    assert kept is not None
    where = kept.at(("products", 0, "prices", 0, "recurring", "interval_count"))
    assert (where.line, where.col) == (11, 51)


def test_checking_a_valid_catalog_reads_no_file_twice(tmp_path: Path) -> None:
    # a rule that asks for a place it does not report would read every file again: the memory a lazy place saves
    generate_catalog(tmp_path, 500, seed=3)
    for paths in ([str(ROOT / "plans")], [str(tmp_path)]):
        result = check_catalog(paths)
        assert result.ok and result.documents
        assert [d.file for d in result.documents if any(p.complete for p in places(d))] == []


def test_a_problem_finds_its_place_in_the_file_it_reads_again(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(TEXT.replace("unit_amount: 650", "unit_amount: 6.5"))
    result = check_catalog([str(tmp_path)])
    (error,) = [d for d in result.errors if d.rule == "money-float"]
    assert (error.location.line, error.location.col) == (20, 35)


def test_the_model_finds_a_fields_place_only_when_asked_and_after_a_pickle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the model is built without reading any file again (a Location per field of 100,000 prices was most of
    # compile's memory), and a problem found in the process that plans, after the catalog came through a pipe,
    # still names the field's line
    (tmp_path / "c.yaml").write_text(
        "products:\n"
        "  - id: suite\n"
        "    name: Suite\n"
        "    prices:\n"
        "      - lookup_key: seats\n"
        "        currency: usd\n"
        "        unit_amount: 1000\n"
        "        recurring: {interval: month}\n"
    )
    reads: list[str] = []
    read = yaml_reader._read

    def counted(text: str, file: str, keep: Callable[[NodePath], bool] | None = None) -> Any:
        reads.append(file)
        return read(text, file, keep)

    monkeypatch.setattr(yaml_reader, "_read", counted)
    catalog = load_catalog([str(tmp_path)]).catalog
    assert len(reads) == 1  # the first reading only
    received = pickle.loads(pickle.dumps(catalog))
    seats = received.get(Kind.PRICE, "seats")
    assert seats is not None and len(reads) == 1
    amount = seats.where("unit_amount")
    assert amount is not None and (amount.line, amount.col) == (7, 9)
    assert seats.where("nickname") == seats.location  # a field the entry does not write: the entry
    assert len(reads) == 2  # the file read again once, for the place asked for
