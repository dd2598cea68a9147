"""``fengkong features list | parity | backfill`` through the Typer app (cli → services → features)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from fengkong.cli import features as features_cli  # noqa: F401  (registers the command)
from fengkong.cli.main import app
from fengkong.features.standard import STANDARD_FEATURES
from fengkong.ingest.lake import LakeWriter
from tests.unit.features.synthetic import random_stream, to_tables

RUNNER = CliRunner()


def _lake(path: Path) -> Path:
    tables = to_tables(
        random_stream(seed=5, events=400, event_types=("review_posted", "order_placed", "login"))
    )
    writer = LakeWriter(path)
    for event_type, table in tables.items():
        writer.write(event_type, table)
    return path


def test_list_prints_every_feature_as_json() -> None:
    result = RUNNER.invoke(app, ["features", "list", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [row["name"] for row in rows] == [spec.name for spec in STANDARD_FEATURES]
    assert {"name", "entity", "window", "unit", "description"} <= set(rows[0])


def test_list_as_a_table_for_one_entity() -> None:
    result = RUNNER.invoke(app, ["features", "list", "--entity", "ip"])
    assert result.exit_code == 0, result.output
    assert "ip_logins_1h" in result.output
    assert "rider_deliveries_7d" not in result.output


def test_an_unknown_entity_exits_2_naming_it() -> None:
    result = RUNNER.invoke(app, ["features", "list", "--entity", "planet"])
    assert result.exit_code == 2
    assert "unknown entity 'planet'" in result.output


def test_parity_on_a_lake_agrees(tmp_path: Path) -> None:
    lake = _lake(tmp_path / "lake")
    args = [
        "features",
        "parity",
        "--lake",
        str(lake),
        "--entity",
        "merchant",
        "--keys",
        "200",
        "--format",
        "json",
    ]
    result = RUNNER.invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["agrees"] is True
    stream = random_stream(seed=5, events=400, event_types=("review_posted", "order_placed", "login"))
    assert report["events"] == len(stream["review_posted"]) + len(stream["order_placed"])  # merchants' only
    names = {f["name"] for f in report["features"]}
    assert names == {s.name for s in STANDARD_FEATURES.for_entity("merchant")}
    assert all(f["compared"] == 200 and f["mismatches"] == 0 for f in report["features"])


def test_parity_without_a_lake_exits_2(tmp_path: Path) -> None:
    result = RUNNER.invoke(app, ["features", "parity", "--lake", str(tmp_path / "missing")])
    assert result.exit_code == 2
    assert "no lake folder" in result.output


def test_backfill_writes_a_parquet_file(tmp_path: Path) -> None:
    lake = _lake(tmp_path / "lake")
    keys = tmp_path / "keys.parquet"
    instants = [datetime(2026, 3, 20, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)]
    pq.write_table(
        pa.table(
            {"entity_id": ["P-1", "P-2"], "as_of": pa.array(instants, type=pa.timestamp("us", tz="UTC"))}
        ),
        keys,
    )
    out = tmp_path / "features.parquet"
    args = [
        "features",
        "backfill",
        "--lake",
        str(lake),
        "--entity",
        "consumer",
        "--keys",
        str(keys),
        "--out",
        str(out),
    ]
    result = RUNNER.invoke(app, args)
    assert result.exit_code == 0, result.output
    table = pq.read_table(out)
    assert table.num_rows == 2
    assert "consumer_logins_24h" in table.column_names


def test_the_docs_hold_the_current_catalogue() -> None:
    """docs/features.md carries the generated catalogue; regenerate it when a spec changes."""
    from fengkong.services.features import CATALOGUE_BEGIN, CATALOGUE_END, catalogue_markdown

    text = (Path(__file__).resolve().parents[3] / "docs" / "features.md").read_text(encoding="utf-8")
    start, end = text.index(CATALOGUE_BEGIN), text.index(CATALOGUE_END) + len(CATALOGUE_END)
    assert text[start:end] + "\n" == catalogue_markdown(), (
        "docs/features.md is stale: replace its catalogue with the output of "
        "fengkong.services.features.catalogue_markdown()"
    )


def test_an_online_engine_warms_from_the_lake(tmp_path: Path) -> None:
    from fengkong.errors import InputError
    from fengkong.features.offline import OfflineFeatureReader
    from fengkong.services.features import warm_online_engine

    lake = _lake(tmp_path / "lake")
    engine = warm_online_engine(lake)
    offline = OfflineFeatureReader(STANDARD_FEATURES, lake_dir=lake)
    as_of = datetime(2026, 4, 12, tzinfo=UTC)
    for entity, entity_id in (("merchant", "M-1"), ("consumer", "P-3"), ("ip", "192.0.2.1")):
        assert engine.read(entity, entity_id, as_of).values == offline.read(entity, entity_id, as_of).values
    with pytest.raises(InputError, match="replicas") as caught:
        warm_online_engine(lake, replicas=2)
    assert caught.value.field == "replicas"
