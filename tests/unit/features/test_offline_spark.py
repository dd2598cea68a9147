"""The Spark offline engine without a JVM: the generated Spark SQL, bad input, and the clear error when Java
or pyspark is missing. Parity with DuckDB is in ``tests/integration/test_features_spark.py``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from fengkong.errors import InputError, UnavailableError
from fengkong.features import offline_spark
from fengkong.features.offline_spark import (
    backfill_spark,
    backfill_spark_sql,
    compare_backfills,
    local_spark_session,
    spark_unavailable_reason,
)
from fengkong.features.spec import FeatureSpecError
from fengkong.features.standard import STANDARD_FEATURES

KEYS = pa.table(
    {
        "entity_id": ["M-1"],
        "as_of": pa.array([datetime(2026, 3, 20, tzinfo=UTC)], type=pa.timestamp("us", tz="UTC")),
    }
)


def test_the_spark_sql_is_generated_from_the_specs() -> None:
    sql = backfill_spark_sql(STANDARD_FEATURES, "merchant", ["merchant_bad_review_share_24h"])
    assert "FROM src_review_posted" in sql
    assert "`stars` <= 2L" in sql  # the source's filter
    assert "row_number() OVER (PARTITION BY fk_group, fk_part, event_id ORDER BY r_us)" in sql  # earliest
    assert "r_us > t_us - 86400000000L" in sql  # the old edge is open
    assert "e.r_us <= k.t_us" in sql  # the new edge is closed
    assert "src_order_placed" not in sql
    assert "row_number" not in backfill_spark_sql(STANDARD_FEATURES, "ip", deduplicate=False)
    calendar = backfill_spark_sql(STANDARD_FEATURES, "merchant", ["merchant_orders_today"])
    assert "r_us >= cal_1" in calendar  # 00:00 Shanghai, inclusive, computed with the keys
    everything = " ".join(backfill_spark_sql(STANDARD_FEATURES, e) for e in STANDARD_FEATURES.entities)
    assert "udf" not in everything.lower()
    # one join and one aggregation per entity, however many features and event types it reads
    assert everything.count("GROUP BY row_id") == len(STANDARD_FEATURES.entities)
    assert everything.count(" JOIN fk_e e ON ") == len(STANDARD_FEATURES.entities)


def test_filter_literals_are_escaped_for_spark() -> None:
    assert offline_spark._literal("it's \\ fine") == "'it\\'s \\\\ fine'"
    assert offline_spark._literal(True) == "TRUE"
    assert offline_spark._literal(7) == "7L"
    assert offline_spark._quote("odd`name") == "`odd``name`"
    with pytest.raises(InputError, match="cannot compare"):
        offline_spark._literal(1.5)


def test_bad_input_is_refused_before_spark_starts(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="exactly one of"):
        backfill_spark(STANDARD_FEATURES, "merchant", KEYS)
    with pytest.raises(InputError, match="exactly one of"):
        backfill_spark(STANDARD_FEATURES, "merchant", KEYS, lake_dir=tmp_path, tables={})
    with pytest.raises(FeatureSpecError, match="unknown entity 'planet'"):
        backfill_spark(STANDARD_FEATURES, "planet", KEYS, lake_dir=tmp_path)
    with pytest.raises(FeatureSpecError, match="describes a rider"):
        backfill_spark(STANDARD_FEATURES, "merchant", KEYS, lake_dir=tmp_path, names=["rider_deliveries_7d"])
    with pytest.raises(InputError, match="cores"):
        local_spark_session(cores=0)
    with pytest.raises(InputError, match="shuffle partitions"):
        local_spark_session(shuffle_partitions=0)


def test_missing_java_is_a_clear_unavailable_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no java on it
    monkeypatch.delenv("JAVA_HOME", raising=False)
    reason = spark_unavailable_reason()
    assert reason is not None and "Java 17" in reason and "openjdk-17-jre-headless" in reason
    monkeypatch.setattr(offline_spark, "_active_session", lambda: None)
    with pytest.raises(UnavailableError, match="Java 17"):
        local_spark_session()


def test_comparing_backfills_of_different_keys_is_refused() -> None:
    empty = {name: [] for name in ("entity_id", "as_of")}
    with pytest.raises(InputError, match="rows"):
        compare_backfills(STANDARD_FEATURES, "merchant", KEYS, pa.table(empty))


def test_several_entities_share_one_query_each_meeting_its_own_groups() -> None:
    from fengkong.features.offline_spark import SparkPlan

    specs = [*STANDARD_FEATURES.for_entity("device"), *STANDARD_FEATURES.for_entity("ip")]
    relations = {t: f"src_{t}" for spec in specs for t in spec.event_types}
    sql = SparkPlan(specs, relations, "keys").sql()
    assert sql.count("GROUP BY row_id") == 1
    assert "WHERE fk_entity IN ('device')" in sql and "WHERE fk_entity IN ('ip')" in sql
    single = SparkPlan(list(STANDARD_FEATURES.for_entity("ip")), relations, "keys")
    assert "fk_entity" not in single.sql()
