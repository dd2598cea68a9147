"""The Parquet lake: layout, round trip, deterministic bytes, atomic files."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fengkong import bounds
from fengkong.clock import FixedClock, business_date
from fengkong.domain.events import Event
from fengkong.errors import InvariantError
from fengkong.ingest import lake as lake_module
from fengkong.ingest.lake import LakeWriter, lake_files, lake_relation, read_lake_table
from fengkong.ingest.schema import arrow_schema
from fengkong.ingest.validate import parse_record
from fengkong.ingest.wire import events_from_table, events_to_table
from tests.strategies import valid_ingest_record

START = datetime(2026, 1, 1, 14, 0, tzinfo=UTC)  # 22:00 in Shanghai


def _events(count: int = 12, step: timedelta = timedelta(minutes=37)) -> list[Event]:
    clock = FixedClock(START)
    events = []
    for n in range(count):
        received = START + step * n
        record = valid_ingest_record(
            "merchant_settlement",
            f"e{n:03d}",
            party=f"B{n % 3}",
            occurred_at=(received - timedelta(seconds=5)).isoformat(),
            received_at=received.isoformat(),
            optional=True,
        )
        events.append(parse_record(record, clock))
    return events


def test_files_are_partitioned_by_business_date_of_receipt(tmp_path: Path) -> None:
    events = _events()
    written = LakeWriter(tmp_path).write(
        "merchant_settlement", events_to_table("merchant_settlement", events)
    )
    days = {event.received_at: business_date(event.received_at) for event in events}
    assert {file.business_date for file in written} == set(days.values())
    for file in written:
        assert file.path.parent == tmp_path / "merchant_settlement" / f"date={file.business_date.isoformat()}"
        assert file.path.name == "part-000001.parquet"
        table = pq.read_table(file.path)
        assert table.schema.equals(arrow_schema("merchant_settlement"))
        assert {business_date(value) for value in table.column("received_at").to_pylist()} == {
            file.business_date
        }
    assert sum(file.rows for file in written) == len(events)
    # 16:00 UTC is midnight in Shanghai: the first event (22:00 local) is on Jan 1, later ones on Jan 2.
    assert date(2026, 1, 1) in days.values() and date(2026, 1, 2) in days.values()


def test_round_trip_reads_back_the_same_events_in_lake_order(tmp_path: Path) -> None:
    events = _events()
    shuffled = events[::-1]
    LakeWriter(tmp_path).write("merchant_settlement", events_to_table("merchant_settlement", shuffled))
    table = read_lake_table(tmp_path, "merchant_settlement")
    assert events_from_table("merchant_settlement", table) == events
    relation = lake_relation(tmp_path, "merchant_settlement")
    assert relation.aggregate("count(*), sum(amount_fen)").fetchall() == [(12, 12 * 1234)]


def test_same_input_gives_the_same_bytes(tmp_path: Path) -> None:
    events = _events()
    first = LakeWriter(tmp_path / "a").write(
        "merchant_settlement", events_to_table("merchant_settlement", events)
    )
    second = LakeWriter(tmp_path / "b").write(
        "merchant_settlement", events_to_table("merchant_settlement", events[5:] + events[:5])
    )
    assert [f.path.read_bytes() for f in first] == [f.path.read_bytes() for f in second]


def test_later_writes_take_the_next_sequence_number(tmp_path: Path) -> None:
    writer = LakeWriter(tmp_path)
    table = events_to_table("merchant_settlement", _events(2, timedelta(seconds=1)))
    writer.write("merchant_settlement", table)
    (again,) = writer.write("merchant_settlement", table)
    assert again.path.name == "part-000002.parquet"
    assert len(lake_files(tmp_path, "merchant_settlement")) == 2


def test_a_crash_while_writing_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def half_write(table: pa.Table, sink: object, **options: object) -> None:
        sink.write(b"PAR1 half a file")  # type: ignore[attr-defined]
        raise OSError("disk full")

    monkeypatch.setattr(lake_module.pq, "write_table", half_write)
    with pytest.raises(OSError, match="disk full"):
        LakeWriter(tmp_path).write("merchant_settlement", events_to_table("merchant_settlement", _events(2)))
    assert [path for path in tmp_path.rglob("*") if path.is_file()] == []
    assert read_lake_table(tmp_path, "merchant_settlement").num_rows == 0


def test_row_groups_are_bounded(tmp_path: Path) -> None:
    (file,) = LakeWriter(tmp_path).write(
        "merchant_settlement", events_to_table("merchant_settlement", _events(3, timedelta(seconds=1)))
    )
    metadata = pq.ParquetFile(file.path).metadata
    assert all(
        metadata.row_group(i).num_rows <= bounds.lake_row_group_rows_max
        for i in range(metadata.num_row_groups)
    )
    assert metadata.row_group(0).column(0).compression == "ZSTD"


def test_the_writer_refuses_a_table_not_in_the_lake_schema(tmp_path: Path) -> None:
    table = events_to_table("merchant_settlement", _events(1)).drop_columns(["source"])
    with pytest.raises(InvariantError):
        LakeWriter(tmp_path).write("merchant_settlement", table)


def test_an_empty_lake_reads_as_an_empty_table(tmp_path: Path) -> None:
    assert read_lake_table(tmp_path, "login").num_rows == 0
    assert lake_relation(tmp_path, "login").aggregate("count(*)").fetchall() == [(0,)]
