"""The ingest_file use case: JSON Lines and Parquet in, lake and transport out, bad records reported."""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings

from fengkong import bounds
from fengkong.clock import FixedClock
from fengkong.domain.events import EVENT_TYPE_NAMES
from fengkong.errors import InputError
from fengkong.ingest.dedup import InMemorySeenEvents
from fengkong.ingest.lake import read_lake_table
from fengkong.ingest.transport import InProcessTransport
from fengkong.ingest.validate import parse_record
from fengkong.ingest.wire import events_to_table
from fengkong.services.ingest_events import Progress, drain_in_process, ingest_file, open_seen_events
from tests.strategies import duplicated_record_batches, valid_ingest_record

CLOCK = FixedClock(datetime(2026, 1, 1, 9, 0, tzinfo=UTC))


def _records(count: int, event_type: str = "order_placed") -> list[dict[str, object]]:
    return [
        valid_ingest_record(
            event_type,
            f"{event_type}-{n:04d}",
            party=f"P{n % 7}",
            received_at=f"2026-01-01T08:{n % 60:02d}:{n // 60:02d}Z",
        )
        for n in range(count)
    ]


def _write_jsonl(path: Path, lines: list[object]) -> Path:
    path.write_text("\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n")
    return path


def test_a_mixed_file_keeps_the_good_and_reports_the_bad(tmp_path: Path) -> None:
    good = _records(5)
    bad_money = dict(good[0], event_id="bad-money", attributes=dict(good[0]["attributes"], amount=1.5))  # type: ignore[arg-type]
    lines: list[object] = [good[0], good[1], "", "{not json", bad_money, good[1], good[2], good[3], good[4]]
    source = _write_jsonl(tmp_path / "events.jsonl", lines)
    transport = InProcessTransport()
    report = ingest_file(source, tmp_path / "lake", transport, InMemorySeenEvents(), CLOCK)
    assert (report.read, report.accepted, report.duplicates, report.rejected) == (8, 5, 1, 2)
    assert [(r.line, r.field, r.event_id) for r in report.rejections] == [
        (4, "line", None),
        (5, "attributes.amount", "bad-money"),
    ]
    assert report.accepted_by_type == {"order_placed": 5}
    assert report.published == 5
    assert not report.complete
    lake = read_lake_table(tmp_path / "lake", "order_placed")
    assert sorted(lake.column("event_id").to_pylist()) == sorted(str(r["event_id"]) for r in good)
    delivered = [d.event.event_id for d in transport.consume("c", 100)]
    assert sorted(delivered) == sorted(str(r["event_id"]) for r in good)


def test_a_replayed_file_adds_nothing(tmp_path: Path) -> None:
    source = _write_jsonl(tmp_path / "events.jsonl", list(_records(20)))
    seen = InMemorySeenEvents()
    first = ingest_file(source, tmp_path / "lake", None, seen, CLOCK)
    again = ingest_file(source, tmp_path / "lake", None, seen, CLOCK)
    assert (first.accepted, first.duplicates) == (20, 0)
    assert (again.accepted, again.duplicates, again.lake_files) == (0, 20, ())
    assert again.complete
    assert read_lake_table(tmp_path / "lake", "order_placed").num_rows == 20


def test_small_batches_give_the_same_lake_as_one_batch(tmp_path: Path) -> None:
    records = _records(30) + _records(10)  # 10 duplicates across batches
    source = _write_jsonl(tmp_path / "events.jsonl", list(records))
    progress: list[Progress] = []
    small = ingest_file(
        source,
        tmp_path / "small",
        None,
        InMemorySeenEvents(),
        CLOCK,
        batch_events=7,
        on_progress=progress.append,
    )
    whole = ingest_file(source, tmp_path / "whole", None, InMemorySeenEvents(), CLOCK)
    assert (small.accepted, small.duplicates) == (whole.accepted, whole.duplicates) == (30, 10)
    assert read_lake_table(tmp_path / "small", "order_placed").equals(
        read_lake_table(tmp_path / "whole", "order_placed")
    )
    assert len(progress) == 6
    assert progress[-1].done == progress[-1].total == source.stat().st_size


def test_parquet_input_and_a_lake_folder_give_the_same_lake(tmp_path: Path) -> None:
    records = _records(25)
    events = [parse_record(record, CLOCK) for record in records]
    parquet = tmp_path / "order_placed.parquet"
    pq.write_table(events_to_table("order_placed", events), parquet)
    from_json = ingest_file(
        _write_jsonl(tmp_path / "in.jsonl", list(records)), tmp_path / "a", None, InMemorySeenEvents(), CLOCK
    )
    from_parquet = ingest_file(parquet, tmp_path / "b", None, InMemorySeenEvents(), CLOCK, batch_events=10)
    from_folder = ingest_file(tmp_path / "b", tmp_path / "c", None, InMemorySeenEvents(), CLOCK)
    assert from_json.accepted == from_parquet.accepted == from_folder.accepted == 25
    lakes = [read_lake_table(tmp_path / name, "order_placed") for name in "abc"]
    assert lakes[0].equals(lakes[1]) and lakes[1].equals(lakes[2])


def test_parquet_rejections_name_file_row_and_column(tmp_path: Path) -> None:
    events = [parse_record(record, CLOCK) for record in _records(12, "review_posted")]
    table = events_to_table("review_posted", events)
    stars = table.column("stars").to_pylist()
    stars[10] = 6
    table = table.set_column(table.schema.get_field_index("stars"), "stars", [stars])
    pq.write_table(table, tmp_path / "reviews.parquet")
    transport = InProcessTransport()
    report = ingest_file(
        tmp_path / "reviews.parquet",
        tmp_path / "lake",
        transport,
        InMemorySeenEvents(),
        CLOCK,
        batch_events=4,
    )
    assert (report.accepted, report.rejected) == (11, 1)
    (rejection,) = report.rejections
    assert (rejection.file, rejection.line, rejection.field) == ("reviews.parquet", 11, "stars")
    assert rejection.event_id == "review_posted-0010"
    assert report.published == 11
    assert drain_in_process(transport) == 11


def test_long_and_non_utf8_lines_are_rejected_and_reading_goes_on(tmp_path: Path) -> None:
    good = _records(2)
    path = tmp_path / "events.jsonl"
    with open(path, "wb") as sink:
        sink.write(json.dumps(good[0]).encode() + b"\n")
        sink.write(b'{"event_id": "' + b"x" * bounds.ingest_line_bytes_max + b'"}\n')
        sink.write(b'{"event_id": "\xff\xfe"}\n')
        sink.write(json.dumps(good[1]).encode() + b"\n")
    report = ingest_file(path, tmp_path / "lake", None, InMemorySeenEvents(), CLOCK)
    assert report.accepted == 2
    assert [(r.line, r.field) for r in report.rejections] == [(2, "line"), (3, "line")]
    assert "longer than" in report.rejections[0].reason
    assert "not UTF-8" in report.rejections[1].reason


def test_reported_rejections_are_bounded_across_batches(tmp_path: Path) -> None:
    count = bounds.ingest_errors_reported_max + 5
    source = _write_jsonl(tmp_path / "bad.jsonl", ["{}"] * count)
    report = ingest_file(source, tmp_path / "lake", None, InMemorySeenEvents(), CLOCK, batch_events=400)
    assert report.rejected == count
    assert len(report.rejections) == bounds.ingest_errors_reported_max


def test_unreadable_inputs_are_input_errors(tmp_path: Path) -> None:
    seen = InMemorySeenEvents()
    with pytest.raises(InputError, match="no such file"):
        ingest_file(tmp_path / "missing.jsonl", tmp_path / "lake", None, seen, CLOCK)
    (tmp_path / "events.csv").write_text("a,b\n")
    with pytest.raises(InputError, match="unsupported file type"):
        ingest_file(tmp_path / "events.csv", tmp_path / "lake", None, seen, CLOCK)
    (tmp_path / "broken.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(InputError, match="cannot read Parquet"):
        ingest_file(tmp_path / "broken.parquet", tmp_path / "lake", None, seen, CLOCK)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no Parquet files"):
        ingest_file(tmp_path / "empty", tmp_path / "lake", None, seen, CLOCK)
    with pytest.raises(InputError, match="batch_events"):
        ingest_file(tmp_path / "empty", tmp_path / "lake", None, seen, CLOCK, batch_events=0)


def test_database_dedup_survives_across_runs(tmp_path: Path) -> None:
    from fengkong.services.database import upgrade_database

    url = f"sqlite:///{tmp_path / 'fengkong.sqlite'}"
    upgrade_database(url)
    source = _write_jsonl(tmp_path / "events.jsonl", list(_records(15)))
    with open_seen_events(url, CLOCK) as seen:
        first = ingest_file(source, tmp_path / "lake", None, seen, CLOCK, batch_events=4)
    with open_seen_events(url, CLOCK) as seen:
        again = ingest_file(source, tmp_path / "lake", None, seen, CLOCK)
    assert (first.accepted, again.accepted, again.duplicates) == (15, 0, 15)


@settings(max_examples=15)
@given(duplicated_record_batches())
def test_files_replayed_in_any_interleaving_leave_each_event_once_in_the_lake(
    batches: list[list[dict[str, object]]],
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        seen = InMemorySeenEvents()
        transport = InProcessTransport()
        for number, batch in enumerate(batches):
            source = _write_jsonl(root / f"batch-{number}.jsonl", list(batch)) if batch else None
            if source is not None:
                ingest_file(source, root / "lake", transport, seen, CLOCK)
        every_id = {str(record["event_id"]) for batch in batches for record in batch}
        in_lake = [
            event_id
            for event_type in EVENT_TYPE_NAMES
            for event_id in read_lake_table(root / "lake", event_type).column("event_id").to_pylist()
        ]
        assert sorted(in_lake) == sorted(every_id)
        published = [d.event.event_id for d in transport.consume("c", bounds.stream_read_batch_events_max)]
        assert sorted(published) == sorted(every_id)


# -- ingest_tables: the same pipeline over tables held in memory ---------------------------------------------


def test_tables_in_memory_give_the_lake_and_report_of_the_same_files(tmp_path: Path) -> None:
    from fengkong.ingest.digest_dedup import DigestSeenEvents
    from fengkong.services.ingest_events import ingest_tables

    orders = events_to_table("order_placed", [parse_record(r, CLOCK) for r in _records(30)])
    review_records = _records(12, "review_posted")
    reviews = events_to_table("review_posted", [parse_record(r, CLOCK) for r in review_records])
    replayed = orders.slice(5, 10)  # a replay inside the same ingestion
    folder = tmp_path / "files"
    folder.mkdir()
    for number, table in enumerate((orders, reviews, replayed)):
        pq.write_table(table, folder / f"{number:02d}.parquet")
    from_files = ingest_file(folder, tmp_path / "a", None, InMemorySeenEvents(), CLOCK, batch_events=7)
    transport = InProcessTransport()
    seen = DigestSeenEvents()
    tables = {"orders": orders, "reviews": reviews, "replayed": replayed}
    in_memory = ingest_tables(tables, tmp_path / "b", transport, seen, CLOCK, batch_events=7)
    assert (in_memory.read, in_memory.accepted, in_memory.duplicates, in_memory.rejected) == (52, 42, 10, 0)
    by_type = {"order_placed": 30, "review_posted": 12}
    assert in_memory.accepted_by_type == from_files.accepted_by_type == by_type
    assert in_memory.source == "memory" and in_memory.published == 42
    for event_type in ("order_placed", "review_posted"):
        assert read_lake_table(tmp_path / "a", event_type).equals(read_lake_table(tmp_path / "b", event_type))
    published = [delivery.event.event_id for delivery in transport.consume("c", 100)]
    assert sorted(published) == [f"order_placed-{n:04d}" for n in range(30)] + [
        f"review_posted-{n:04d}" for n in range(12)
    ]
    again = ingest_tables(tables, tmp_path / "b", None, seen, CLOCK, fsync=False)
    assert (again.accepted, again.duplicates) == (0, 52)  # a replay adds nothing


def test_tables_in_memory_report_rejections_by_table_and_row(tmp_path: Path) -> None:
    from fengkong.services.ingest_events import ingest_tables

    table = events_to_table("review_posted", [parse_record(r, CLOCK) for r in _records(12, "review_posted")])
    stars = table.column("stars").to_pylist()
    stars[10] = 6
    table = table.set_column(table.schema.get_field_index("stars"), "stars", [stars])
    with open_seen_events(None, CLOCK) as seen:
        report = ingest_tables({"reviews": table}, tmp_path / "lake", None, seen, CLOCK, batch_events=4)
    assert (report.accepted, report.rejected) == (11, 1)
    (rejection,) = report.rejections
    assert (rejection.file, rejection.line, rejection.field) == ("reviews", 11, "stars")
    with pytest.raises(InputError, match="batch_events"):
        ingest_tables({"reviews": table}, tmp_path / "lake", None, seen, CLOCK, batch_events=0)
    with pytest.raises(InputError, match="reviews"):
        ingest_tables({"reviews": [1, 2]}, tmp_path / "lake", None, seen, CLOCK)  # type: ignore[dict-item]
