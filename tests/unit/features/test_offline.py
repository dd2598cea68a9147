"""The offline engine: keys, the lake layout, bad input, the generated SQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from fengkong.errors import InputError
from fengkong.features.offline import backfill, backfill_sql, lake_files, lake_schema
from fengkong.features.standard import STANDARD_FEATURES
from fengkong.ingest.lake import LakeWriter
from tests.unit.features.synthetic import random_stream, to_tables

T0 = datetime(2026, 3, 20, 4, 0, tzinfo=UTC)
TIMESTAMP = pa.timestamp("us", tz="UTC")


def _keys(*rows: tuple[str, datetime]) -> pa.Table:
    return pa.table(
        {"entity_id": [r[0] for r in rows], "as_of": pa.array([r[1] for r in rows], type=TIMESTAMP)}
    )


def test_rows_come_back_in_key_order_with_typed_columns() -> None:
    tables = to_tables(random_stream(seed=3, events=400, event_types=("review_posted", "order_placed")))
    keys = _keys(("M-2", T0), ("M-0", T0), ("nobody", T0), ("M-2", T0))
    result = backfill(STANDARD_FEATURES, "merchant", keys, tables=tables)
    assert result.column("entity_id").to_pylist() == ["M-2", "M-0", "nobody", "M-2"]
    assert result.column("merchant_orders_7d").type == pa.int64()
    assert result.column("merchant_bad_review_share_7d").type == pa.float64()
    rows = result.to_pylist()
    assert rows[0] == rows[3]
    assert rows[2]["merchant_orders_7d"] == 0
    assert rows[2]["merchant_bad_review_share_7d"] is None


def test_the_lake_and_in_memory_tables_give_the_same_rows(tmp_path: Path) -> None:
    tables = to_tables(random_stream(seed=4, events=600, event_types=("login", "loan_application")))
    writer = LakeWriter(tmp_path)
    for event_type, table in tables.items():
        writer.write(event_type, table)
    keys = _keys(("D-0", T0), ("D-1", T0), ("D-2", datetime(2026, 3, 5, tzinfo=UTC)))
    from_lake = backfill(STANDARD_FEATURES, "device", keys, lake_dir=tmp_path)
    from_tables = backfill(STANDARD_FEATURES, "device", keys, tables=tables)
    assert from_lake.equals(from_tables)
    assert any(v for v in from_lake.column("device_accounts_distinct_30d").to_pylist())


def test_an_empty_lake_gives_empty_windows(tmp_path: Path) -> None:
    result = backfill(STANDARD_FEATURES, "rider", _keys(("R1", T0)), lake_dir=tmp_path)
    row = result.to_pylist()[0]
    assert row["rider_deliveries_7d"] == 0
    assert row["rider_on_time_rate_30d"] is None


def test_partitions_after_the_latest_read_are_skipped(tmp_path: Path) -> None:
    for day in ("2026-03-01", "2026-03-02", "2026-03-03"):
        folder = tmp_path / "login" / f"date={day}"
        folder.mkdir(parents=True)
        (folder / "part-000001.parquet").write_bytes(b"")
    (tmp_path / "login" / "date=garbage").mkdir()
    assert len(lake_files(tmp_path, "login")) == 3
    assert [p.parent.name for p in lake_files(tmp_path, "login", date(2026, 3, 2))] == [
        "date=2026-03-01",
        "date=2026-03-02",
    ]


def test_bad_keys_and_sources_name_the_problem() -> None:
    tables = {"login": lake_schema("login").empty_table()}
    with pytest.raises(InputError, match="'as_of' column"):
        backfill(STANDARD_FEATURES, "ip", pa.table({"entity_id": ["x"]}), tables=tables)
    naive = pa.table({"entity_id": ["x"], "as_of": pa.array([datetime(2026, 1, 1)], type=pa.timestamp("us"))})
    with pytest.raises(InputError, match="timezone-aware"):
        backfill(STANDARD_FEATURES, "ip", naive, tables=tables)
    nulls = pa.table({"entity_id": [None], "as_of": pa.array([T0], type=TIMESTAMP)})
    with pytest.raises(InputError, match="may not be null"):
        backfill(STANDARD_FEATURES, "ip", nulls, tables=tables)
    with pytest.raises(InputError, match="exactly one of"):
        backfill(STANDARD_FEATURES, "ip", _keys(("x", T0)))
    with pytest.raises(InputError, match="unknown entity"):
        backfill(STANDARD_FEATURES, "planet", _keys(("x", T0)), tables=tables)


def test_the_sql_is_generated_from_the_specs() -> None:
    sql = backfill_sql(STANDARD_FEATURES, "merchant", ["merchant_bad_review_share_24h"])
    assert "FROM src_review_posted" in sql
    assert '"stars" <= 2' in sql
    assert "PARTITION BY a.event_id ORDER BY a.r_us" in sql  # the earliest receipt counts
    assert "HAVING count(*) > 1" in sql
    assert "PARTITION BY" not in backfill_sql(STANDARD_FEATURES, "ip", deduplicate=False)
    assert "e.r_us > k.t_us - 86400000000" in sql  # the old edge is open
    assert "src_order_placed" not in sql
