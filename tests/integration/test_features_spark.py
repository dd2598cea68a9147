"""Parity (c): the offline engine on Apache Spark (local mode) against DuckDB, on the same events and keys.

One SparkSession serves the whole run (session-scoped fixture: ``local[2]``, two shuffle partitions, no UI,
error-level logs). Without Java or pyspark the tests are skipped with the reason — except in CI
(``CI=true``), where that is a failure. Every comparison follows parity's rule: counts, sums, distinct
counts, min, max and last exactly (an integer stays an integer); means, ratios, growth and
seconds-since-last within ``RELATIVE_TOLERANCE``; None meets None.

Spark answers a query in about a second however small the data, so each test batches its work: the
Hypothesis examples are few (bounded below) and each holds several streams, laid side by side in time
1,000 days apart (farther than any window reaches), so one backfill per entity checks them all.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from fengkong.cli import features as features_cli  # noqa: F401  (registers the command)
from fengkong.cli.main import app
from fengkong.features.offline import backfill
from fengkong.features.offline_spark import (
    backfill_spark,
    backfill_spark_entities,
    compare_backfills,
    local_spark_session,
    spark_unavailable_reason,
)
from fengkong.features.parity import edge_keys
from fengkong.features.spec import Entity, FeatureSet
from fengkong.features.standard import STANDARD_FEATURES
from fengkong.ingest.lake import LakeWriter
from tests.strategies import feature_event_draws, merchant_feature_specs
from tests.unit.features.synthetic import random_stream, to_tables
from tests.unit.features.test_parity import ALL_TYPES, _rows_from_draws

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

pytestmark = pytest.mark.integration

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
STREAM_GAP = timedelta(days=1_000)  # streams laid side by side never see each other's events
RUNNER = CliRunner()


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    """The one local Spark session of this test run."""
    reason = spark_unavailable_reason()
    if reason is not None:
        if IN_CI:
            pytest.fail(f"{reason}; CI must have it")
        pytest.skip(reason)
    session = local_spark_session(cores=2, shuffle_partitions=2, app_name="fengkong-tests")
    yield session
    session.stop()


def _disagreements(
    feature_set: FeatureSet, entity: Entity, tables: dict[str, pa.Table], keys: pa.Table, spark: SparkSession
) -> list[object]:
    expected = backfill(feature_set, entity, keys, tables=tables)
    actual = backfill_spark(feature_set, entity, keys, spark=spark, tables=tables)
    assert actual.schema == expected.schema
    results = compare_backfills(feature_set, entity, expected, actual)
    assert [r.name for r in results] == [s.name for s in feature_set.for_entity(entity)]
    return [r for r in results if not r.agrees]


def _side_by_side(streams: list[dict[str, list[dict[str, object]]]]) -> dict[str, pa.Table]:
    """Several streams in one set of tables: stream ``i`` moved ``i`` gaps later, its event IDs prefixed."""
    merged: dict[str, list[dict[str, object]]] = {}
    for number, rows in enumerate(streams):
        shift = STREAM_GAP * number
        for event_type, items in rows.items():
            for row in items:
                moved = dict(row)
                moved["event_id"] = f"s{number}-{row['event_id']}"
                for column in ("received_at", "occurred_at"):
                    moved[column] = row[column] + shift  # type: ignore[operator]
                merged.setdefault(event_type, []).append(moved)
    return to_tables(merged)


def test_the_standard_set_agrees_on_a_lake(tmp_path: Path, spark: SparkSession) -> None:
    """Every standard feature of every entity — all seven entities in one Spark query — read from a lake
    written by the ingestion lake writer (late events, retries later, equal and earlier, receipts on window
    edges and at 00:00 Shanghai), at window-edge keys."""
    tables = to_tables(random_stream(seed=7, events=2_500, event_types=ALL_TYPES))
    writer = LakeWriter(tmp_path)
    for event_type, table in tables.items():
        writer.write(event_type, table)
    keys = {
        entity: edge_keys(STANDARD_FEATURES, entity, tables, keys_max=600)
        for entity in STANDARD_FEATURES.entities
    }
    on_spark = backfill_spark_entities(STANDARD_FEATURES, keys, spark=spark, lake_dir=tmp_path)
    assert list(on_spark) == list(STANDARD_FEATURES.entities)
    informative: set[str] = set()
    for entity, entity_keys in keys.items():
        expected = backfill(STANDARD_FEATURES, entity, entity_keys, lake_dir=tmp_path)
        actual = on_spark[entity]
        assert actual.schema == expected.schema
        results = compare_backfills(STANDARD_FEATURES, entity, expected, actual)
        disagreements = [r for r in results if not r.agrees]
        assert not disagreements, disagreements[:3]
        assert all(r.compared == entity_keys.num_rows > 0 for r in results)
        for spec in STANDARD_FEATURES.for_entity(entity):
            if any(v not in (None, 0) for v in actual.column(spec.name).to_pylist()):
                informative.add(spec.name)
    # parity over values that are all None or 0 would prove little
    assert informative == {spec.name for spec in STANDARD_FEATURES}


@settings(max_examples=4, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(feature_event_draws(), min_size=1, max_size=6))
def test_random_streams_agree(
    spark: SparkSession, batch: list[list[tuple[int, int, int, int, int, int]]]
) -> None:
    """Hypothesis streams on the hourly grid (receipts tie and land exactly on 24 h, 7 d and 30 d edges and
    on 00:00 Shanghai; microsecond offsets; late events; retries later, equal and earlier), up to six per
    example, for the merchant, consumer and device features."""
    tables = _side_by_side([_rows_from_draws(draws) for draws in batch])
    entities = (Entity.MERCHANT, Entity.CONSUMER, Entity.DEVICE)
    keys = {entity: edge_keys(STANDARD_FEATURES, entity, tables, keys_max=1_500) for entity in entities}
    on_spark = backfill_spark_entities(STANDARD_FEATURES, keys, spark=spark, tables=tables)
    for entity in entities:
        expected = backfill(STANDARD_FEATURES, entity, keys[entity], tables=tables)
        results = compare_backfills(STANDARD_FEATURES, entity, expected, on_spark[entity])
        disagreements = [r for r in results if not r.agrees]
        assert not disagreements, disagreements[:3]


@settings(max_examples=5, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_random_specs_agree(spark: SparkSession, data: st.DataObject) -> None:
    """Specs drawn at random — every aggregation and operator, rolling and calendar windows, one or two
    sources, ratios and growth — so the Spark SQL generator meets paths the standard set does not take."""
    specs = FeatureSet(tuple(data.draw(merchant_feature_specs(f"f{n}")) for n in range(8)))
    seed = data.draw(st.integers(0, 10_000))
    stream = random_stream(
        seed, 300, ("review_posted", "order_placed", "order_refunded"), span=timedelta(days=12)
    )
    tables = to_tables(stream)
    keys = edge_keys(specs, Entity.MERCHANT, tables, keys_max=400)
    disagreements = _disagreements(specs, Entity.MERCHANT, tables, keys, spark)
    assert not disagreements, (disagreements[:2], [s.canonical() for s in specs])


def test_empty_keys_empty_sources_and_unknown_entities(tmp_path: Path, spark: SparkSession) -> None:
    timestamp = pa.timestamp("us", tz="UTC")
    no_keys = pa.table({"entity_id": pa.array([], pa.string()), "as_of": pa.array([], timestamp)})
    result = backfill_spark(STANDARD_FEATURES, "rider", no_keys, spark=spark, lake_dir=tmp_path)
    assert result.num_rows == 0
    assert result.schema == backfill(STANDARD_FEATURES, "rider", no_keys, lake_dir=tmp_path).schema
    start = random_stream(seed=1, events=1, event_types=("login",))["login"][0]["received_at"]
    keys = pa.table({"entity_id": ["R1", "nobody"], "as_of": pa.array([start, start], timestamp)})
    empty = backfill_spark(STANDARD_FEATURES, "rider", keys, spark=spark, lake_dir=tmp_path).to_pylist()
    assert empty == backfill(STANDARD_FEATURES, "rider", keys, lake_dir=tmp_path).to_pylist()
    assert empty[0]["rider_deliveries_7d"] == 0
    assert empty[0]["rider_on_time_rate_30d"] is None


def test_the_cli_backfills_on_spark_as_on_duckdb(tmp_path: Path, spark: SparkSession) -> None:
    tables = to_tables(random_stream(seed=5, events=400, event_types=("review_posted", "order_placed")))
    lake = tmp_path / "lake"
    writer = LakeWriter(lake)
    for event_type, table in tables.items():
        writer.write(event_type, table)
    keys = edge_keys(STANDARD_FEATURES, Entity.MERCHANT, tables, keys_max=300)
    pq.write_table(keys, tmp_path / "keys.parquet")
    outputs = {}
    for engine in ("duckdb", "spark"):
        out = tmp_path / f"{engine}.parquet"
        args = ["features", "backfill", "--lake", str(lake), "--entity", "merchant"]
        args += ["--keys", str(tmp_path / "keys.parquet"), "--out", str(out), "--engine", engine]
        result = RUNNER.invoke(app, args)
        assert result.exit_code == 0, result.output
        assert f"wrote {keys.num_rows:,} rows" in result.output
        outputs[engine] = pq.read_table(out)
    assert not [
        r
        for r in compare_backfills(STANDARD_FEATURES, "merchant", outputs["duckdb"], outputs["spark"])
        if not r.agrees
    ]
    assert spark.sparkContext._jsc is not None  # the CLI left the test's session running
    bad_args = ["features", "backfill", "--lake", str(lake), "--entity", "planet", "--engine", "spark"]
    bad_args += ["--keys", str(tmp_path / "keys.parquet"), "--out", str(tmp_path / "bad.parquet")]
    bad = RUNNER.invoke(app, bad_args)
    assert bad.exit_code == 2
    assert "unknown entity 'planet'" in bad.output


def test_the_comparison_catches_a_changed_value(spark: SparkSession) -> None:
    """The comparison is not vacuous: one count moved by one and one mean by a part in a million are caught,
    a mean moved within the tolerance is not."""
    tables = to_tables(random_stream(seed=3, events=400, event_types=("review_posted", "order_placed")))
    keys = edge_keys(STANDARD_FEATURES, Entity.MERCHANT, tables, keys_max=200)
    actual = backfill_spark(STANDARD_FEATURES, "merchant", keys, spark=spark, tables=tables)
    rows = actual.to_pylist()
    index = next(i for i, row in enumerate(rows) if row["merchant_review_stars_mean_30d"] is not None)
    changed = [dict(row) for row in rows]
    changed[index]["merchant_orders_7d"] += 1
    changed[index]["merchant_review_stars_mean_30d"] *= 1 + 1e-6
    tampered = pa.Table.from_pylist(changed, schema=actual.schema)
    results = compare_backfills(STANDARD_FEATURES, "merchant", actual, tampered)
    assert sorted(r.name for r in results if not r.agrees) == [
        "merchant_orders_7d",
        "merchant_review_stars_mean_30d",
    ]
    nudged = [dict(row) for row in rows]
    nudged[index]["merchant_review_stars_mean_30d"] *= 1 + 1e-12
    within = compare_backfills(
        STANDARD_FEATURES, "merchant", actual, pa.Table.from_pylist(nudged, schema=actual.schema)
    )
    assert all(r.agrees for r in within)
