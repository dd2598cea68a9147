"""Use cases of behavioural features: the catalogue, backfills over the lake, parity on a lake.

The CLI and the API reach the feature engines only through here (``cli`` → ``services`` → ``features``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
import pyarrow.parquet as pq

from fengkong import bounds
from fengkong.clock import Clock
from fengkong.errors import BoundExceededError, InputError
from fengkong.features.offline import backfill, lake_files, lake_schema
from fengkong.features.offline_spark import backfill_spark, spark_session
from fengkong.features.online import OnlineFeatureEngine, event_row
from fengkong.features.online_redis import RedisFeatureEngine
from fengkong.features.parity import RELATIVE_TOLERANCE, FeatureParity, feed_online, run_parity
from fengkong.features.spec import SECONDS_PER_DAY, Entity, FeatureSet, parse_entity
from fengkong.features.standard import STANDARD_FEATURES
from fengkong.features.windows import to_microseconds
from fengkong.ingest.transport import Transport


@dataclass(frozen=True, slots=True)
class FeatureRow:
    """One line of the feature catalogue."""

    name: str
    entity: str
    aggregation: str
    window: str
    unit: str
    description: str
    event_types: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "entity": self.entity,
            "aggregation": self.aggregation,
            "window": self.window,
            "unit": self.unit,
            "description": self.description,
            "event_types": list(self.event_types),
        }


def feature_catalogue(
    entity: str | None = None, feature_set: FeatureSet = STANDARD_FEATURES
) -> list[FeatureRow]:
    """Every feature of ``feature_set`` (of one entity when given), in definition order."""
    specs = feature_set.specs if entity is None else feature_set.for_entity(parse_entity(entity))
    return [
        FeatureRow(
            spec.name,
            spec.entity.value,
            spec.aggregation.value,
            spec.window_label,
            spec.unit,
            spec.description,
            spec.event_types,
        )
        for spec in specs
    ]


def read_lake_events(
    lake_dir: Path, event_types: Sequence[str], feature_set: FeatureSet | None = None
) -> dict[str, pa.Table]:
    """Every event of ``event_types`` in the lake, as tables in the lake layout (only the columns
    ``feature_set`` reads, when given)."""
    if not Path(lake_dir).is_dir():
        raise InputError(f"no lake folder at {lake_dir}", field="lake")
    tables: dict[str, pa.Table] = {}
    total = 0
    for event_type in event_types:
        schema = lake_schema(event_type)
        if feature_set is not None:
            wanted = {"event_id", "event_type", "received_at"} | {
                column
                for spec in feature_set
                for m in spec.measures
                for s in m.sources
                if s.event_type == event_type
                for column in s.columns
            }
            schema = pa.schema([f for f in schema if f.name in wanted])
        parts = [
            pq.read_table(path, schema=schema, columns=schema.names)
            for path in lake_files(Path(lake_dir), event_type)
        ]
        table = pa.concat_tables(parts) if parts else schema.empty_table()
        total += table.num_rows
        if total > bounds.parity_events_max:
            raise BoundExceededError("parity_events_max", bounds.parity_events_max, total)
        tables[event_type] = table
    return tables


@dataclass(frozen=True, slots=True)
class ParityReport:
    """Per-feature parity of the online and offline engines on one lake."""

    lake_dir: Path
    events: int
    feature_set_version: str
    tolerance_relative: float
    results: tuple[FeatureParity, ...]

    @property
    def agrees(self) -> bool:
        return all(result.agrees for result in self.results)

    def to_json(self) -> dict[str, object]:
        return {
            "lake": str(self.lake_dir),
            "events": self.events,
            "feature_set_version": self.feature_set_version,
            "tolerance_relative": self.tolerance_relative,
            "agrees": self.agrees,
            "features": [
                {
                    "name": r.name,
                    "entity": r.entity.value,
                    "comparison": "exact" if r.exact else "relative",
                    "compared": r.compared,
                    "mismatches": r.mismatches,
                    "max_difference": r.max_difference,
                    "first_mismatch": None
                    if r.first_mismatch is None
                    else {
                        "entity_id": r.first_mismatch.entity_id,
                        "as_of_us": r.first_mismatch.as_of_us,
                        "online": r.first_mismatch.online,
                        "offline": r.first_mismatch.offline,
                    },
                }
                for r in self.results
            ],
        }


def parity_on_lake(
    lake_dir: Path,
    *,
    entities: Sequence[str] | None = None,
    keys_per_entity: int = 2_000,
    shuffle_seed: int | None = 1,
    seed: int = 0,
    slice_hours: int = 24,
    feature_set: FeatureSet = STANDARD_FEATURES,
) -> ParityReport:
    """Parity (b) on a lake: its events fed to the online engine (shuffled within slices of
    ``slice_hours`` of receipt time, so out of order, when a seed is given) and backfilled offline from the
    lake files at window-edge keys drawn from the events."""
    if not 1 <= keys_per_entity <= bounds.parity_keys_max:
        raise InputError(f"keys per entity must be 1 to {bounds.parity_keys_max}", field="keys_per_entity")
    chosen: tuple[Entity, ...] = (
        feature_set.entities if entities is None else tuple(parse_entity(e) for e in entities)
    )
    if not 1 <= slice_hours <= bounds.feature_window_days_max * 24:
        raise InputError("slice hours must be at least 1", field="slice_hours")
    if set(chosen) != set(feature_set.entities):
        feature_set = FeatureSet(tuple(s for s in feature_set if s.entity in chosen))
    event_types = sorted({t for spec in feature_set for t in spec.event_types})
    tables = read_lake_events(lake_dir, event_types, feature_set)
    results = run_parity(
        feature_set,
        tables,
        entities=chosen,
        keys_per_entity=keys_per_entity,
        shuffle_seed=shuffle_seed,
        lake_dir=lake_dir,
        seed=seed,
        slice_seconds=slice_hours * 3_600,
    )
    return ParityReport(
        lake_dir,
        sum(t.num_rows for t in tables.values()),
        feature_set.version,
        RELATIVE_TOLERANCE,
        tuple(results),
    )


class OfflineEngine(StrEnum):
    """Which engine backfills: DuckDB on this machine (the default) or Apache Spark (local mode here, the
    same specs on a cluster)."""

    DUCKDB = "duckdb"
    SPARK = "spark"


def backfill_file(
    lake_dir: Path,
    entity: str,
    keys_path: Path,
    out_path: Path,
    feature_set: FeatureSet = STANDARD_FEATURES,
    engine: OfflineEngine = OfflineEngine.DUCKDB,
) -> int:
    """Backfill the features of ``entity`` at the ``(entity_id, as_of)`` rows of a Parquet file into
    ``out_path`` (Parquet) with ``engine``. Returns the number of rows written. Spark runs in a local session
    started for this call and stopped after it (``UnavailableError`` when pyspark or Java is missing)."""
    if not Path(keys_path).is_file():
        raise InputError(f"no keys file at {keys_path}", field="keys")
    if not Path(lake_dir).is_dir():
        raise InputError(f"no lake folder at {lake_dir}", field="lake")
    keys = pq.read_table(keys_path)
    if engine is OfflineEngine.SPARK:
        parse_entity(entity)  # an unknown entity is refused before a JVM starts
        with spark_session() as spark:
            result = backfill_spark(feature_set, entity, keys, spark=spark, lake_dir=lake_dir)
    else:
        result = backfill(feature_set, entity, keys, lake_dir=lake_dir)
    pq.write_table(result, out_path, compression="zstd")
    return int(result.num_rows)


CATALOGUE_BEGIN: Final = (
    "<!-- feature catalogue: generated by fengkong.services.features.catalogue_markdown -->"
)
CATALOGUE_END: Final = "<!-- end of feature catalogue -->"


def catalogue_markdown(feature_set: FeatureSet = STANDARD_FEATURES) -> str:
    """The catalogue as a Markdown table between markers (``docs/features.md`` holds it; a test compares)."""
    lines = [
        CATALOGUE_BEGIN,
        f"{len(feature_set)} features, version `{feature_set.version}`.",
        "",
        "| name | entity | aggregation | window | unit | events | description |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in feature_catalogue(feature_set=feature_set):
        events = ", ".join(row.event_types)
        lines.append(
            f"| `{row.name}` | {row.entity} | {row.aggregation} | {row.window} | {row.unit} | {events} "
            f"| {row.description} |"
        )
    lines.append(CATALOGUE_END)
    return "\n".join(lines) + "\n"


def warm_online_engine(
    lake_dir: Path, *, replicas: int = 1, feature_set: FeatureSet = STANDARD_FEATURES
) -> OnlineFeatureEngine:
    """An online engine holding the state of every event in the lake, replayed in receipt order one day at
    a time (how a process starts, or rebuilds after a spec change). Refuses ``replicas`` above 1."""
    engine = OnlineFeatureEngine(feature_set, replicas=replicas)
    event_types = sorted({t for spec in feature_set for t in spec.event_types})
    tables = read_lake_events(lake_dir, event_types, feature_set)
    feed_online(engine, tables, slice_seconds=SECONDS_PER_DAY, batched=True)
    return engine


# -- the Redis online backend: consumed from the event streams, rebuilt from the lake ----------------------


@dataclass(frozen=True, slots=True)
class RedisFeedReport:
    """One round of :func:`feed_redis_features`: deliveries taken, events that changed state, retries
    that did not, and per applied event the freshness — microseconds from its ``received_at`` to the moment
    the update script returned (from then on every replica's read sees it)."""

    delivered: int
    applied: int
    unchanged: int
    freshness_us: tuple[int, ...]


def feed_redis_features(
    engine: RedisFeatureEngine,
    transport: Transport,
    consumer: str,
    clock: Clock,
    *,
    count: int = 500,
    block_ms: int = 0,
) -> RedisFeedReport:
    """Consume up to ``count`` events from the streams in ``consumer``'s group, apply them to the Redis
    feature state (idempotent by event ID, so a redelivered message never counts twice) and acknowledge
    them only after the update returned. Events of one entity keep their partition's order."""
    deliveries = transport.consume(consumer, count, block_ms)
    if not deliveries:
        return RedisFeedReport(0, 0, 0, ())
    changed = engine.apply_rows([(d.event.event_type, event_row(d.event)) for d in deliveries])
    visible_us = to_microseconds(clock.now(), "now")
    freshness = tuple(
        visible_us - to_microseconds(d.event.received_at, "received_at")
        for d, applied in zip(deliveries, changed, strict=True)
        if applied
    )
    transport.ack(deliveries)
    applied_count = sum(changed)
    return RedisFeedReport(len(deliveries), applied_count, len(deliveries) - applied_count, freshness)


def rebuild_redis_features(
    client: Any,
    lake_dir: Path,
    *,
    prefix: str = "fengkong:",
    feature_set: FeatureSet = STANDARD_FEATURES,
    force: bool = False,
) -> tuple[RedisFeatureEngine, int]:
    """The Redis feature state of ``feature_set``'s version, rebuilt from the lake when that keyspace is
    not marked ready (a new or changed spec set gets a new keyspace) or ``force``. Returns the engine and
    how many events the rebuild applied (0 when the keyspace was ready)."""
    engine = RedisFeatureEngine(client, feature_set, prefix=prefix)
    if engine.is_ready() and not force:
        return engine, 0
    event_types = sorted({t for spec in feature_set for t in spec.event_types})
    tables = read_lake_events(lake_dir, event_types, feature_set)
    applied = engine.apply_tables(tables)
    engine.mark_ready()
    return engine, applied
