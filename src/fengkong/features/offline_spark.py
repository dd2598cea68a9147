"""The offline engine on Apache Spark: the same point-in-time backfill as :mod:`fengkong.features.offline`,
generated from the same :class:`~fengkong.features.spec.FeatureSpec` s, for a history that outgrows one
machine.

A lender moves from DuckDB to a Spark cluster without rewriting a feature: :func:`backfill_spark` takes the
same ``(entity_id, as_of)`` keys, reads the same Parquet lake (``<lake>/<event_type>/date=YYYY-MM-DD/
part-NNNNNN.parquet``) or the same in-memory tables, and returns the same table — one column per feature,
row for row in the order of the keys, with the same Arrow types. The window rules are those of
:mod:`fengkong.features.spec`; this module states them a second time, in Spark SQL:

* **receipt time**: events are placed by ``unix_micros(received_at)``, integer microseconds, so window edges
  are compared exactly; events received after the latest ``as_of`` are not read (partitions dated after it
  are skipped, the rest filtered in the scan);
* **duplicates**: event IDs received more than once are reduced to their earliest receipt (a ``GROUP BY
  event_id HAVING count(*) > 1`` finds them; only they go through a ``row_number()`` window, everything else
  passes a left anti join);
* **rolling windows** ``t - W < received <= t`` and **calendar-day windows** ``start <= received <= t``,
  the start being 00:00 Asia/Shanghai computed per key by the very function the DuckDB and online engines
  use (:func:`fengkong.features.windows.calendar_starts_us`), shipped with the keys;
* **nulls**: a null entity belongs to no one, a filter on null fails (``coalesce(filter, FALSE)``), value
  aggregations skip nulls; **empty windows** give 0 for count, sum and distinct count, NULL otherwise;
  ``last`` is ``max_by(value, struct(received, event_id))`` over non-null values.

The plan per group of measures that read the same event types by the same entity column is one join of the
keys to the events, aggregated per key with one ``FILTER (WHERE window AND source filters)`` clause per
measure — never a Python UDF. Spark has no range join, so the join is an equi-join on the entity and a
*time bucket*: events are bucketed by ``floor(received / H)`` (``H`` the group's longest reach back) and
each key is matched to its own bucket and the one before, which together hold every event of
``(t - H, t]`` exactly once; the window conditions then filter precisely. A key thus meets at most two
horizons of its entity's history, not all of it.

Agreement with DuckDB (``tests/integration/test_features_spark.py``): counts, sums, distinct counts, min,
max and last values are equal exactly; means, ratios, growth and seconds-since-last are doubles computed by
the same formulas and agree within :data:`fengkong.features.parity.RELATIVE_TOLERANCE`; NULL meets NULL.

pyspark is imported lazily (the package imports without it); :class:`~fengkong.errors.UnavailableError`
says what is missing when pyspark or Java is not there.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import pyarrow as pa
import pyarrow.compute as pc

from fengkong import bounds
from fengkong.clock import business_date
from fengkong.domain.events import EVENT_TYPES, column_layout
from fengkong.errors import BoundExceededError, InputError, UnavailableError, require
from fengkong.features.offline import (
    KEY_AS_OF,
    KEY_ENTITY,
    OUTPUT_TYPES,
    _Group,
    _groups,
    _keys_table,
    lake_files,
    lake_schema,
)
from fengkong.features.parity import EXACT_AGGREGATIONS, FeatureParity, Mismatch, values_agree
from fengkong.features.spec import (
    Aggregation,
    Entity,
    FeatureSet,
    FeatureSpec,
    Filter,
    Measure,
    Operator,
    Window,
    WindowKind,
    parse_entity,
)
from fengkong.features.windows import MICROSECONDS_PER_SECOND, from_microseconds

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

#: Spark SQL type of each logical column type (``column_layout``).
_SPARK_TYPES: Final[Mapping[str, str]] = {
    "string": "STRING",
    "int64": "BIGINT",
    "bool": "BOOLEAN",
    "date": "DATE",
    "timestamp_utc_us": "TIMESTAMP",
}
#: Log4j 2 configuration of the local driver: errors only, on standard error (no banner of warnings).
_QUIET_LOG4J: Final = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
"""


# -- the session ---------------------------------------------------------------------------------------------


def spark_unavailable_reason() -> str | None:
    """Why Spark cannot run here (pyspark or Java missing), or None when it can be tried."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (it comes with the dev extra: pip install -e '.[dev]')"
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").is_file():
        return None
    if shutil.which("java") is None:
        return (
            "Spark needs Java 17 or later and no java was found on PATH or in JAVA_HOME "
            "(Debian: apt-get install openjdk-17-jre-headless; `make venv` does this)"
        )
    return None


def _log4j_file() -> Path:
    path = Path(tempfile.gettempdir()) / "fengkong-spark-log4j2.properties"
    if not path.is_file() or path.read_text(encoding="utf-8") != _QUIET_LOG4J:
        path.write_text(_QUIET_LOG4J, encoding="utf-8")
    return path


def local_spark_session(
    *, cores: int = 2, shuffle_partitions: int = 4, app_name: str = "fengkong-features"
) -> SparkSession:
    """A Spark session in local mode (``local[cores]``): UTC session time zone, no web UI, no console
    progress bar, no adaptive execution, driver logs at error level, ``shuffle_partitions`` partitions per
    shuffle. An active
    session is returned as it is (Spark keeps one per process). Raises :class:`UnavailableError` when pyspark
    or Java is missing or the JVM does not start."""
    if not 1 <= cores <= bounds.spark_local_cores_max:
        raise InputError(f"cores must be 1 to {bounds.spark_local_cores_max}", field="cores")
    if not 1 <= shuffle_partitions <= bounds.spark_shuffle_partitions_max:
        raise InputError(
            f"shuffle partitions must be 1 to {bounds.spark_shuffle_partitions_max}",
            field="shuffle_partitions",
        )
    reason = spark_unavailable_reason()
    if reason is not None:
        raise UnavailableError(reason)
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    builder: Any = SparkSession.builder
    try:
        with _quiet_pyspark():
            session: SparkSession = (
                builder.master(f"local[{cores}]")
                .appName(app_name)
                .config("spark.ui.enabled", "false")
                .config("spark.ui.showConsoleProgress", "false")
                .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
                # Adaptive execution runs every shuffle stage as a job of its own, which costs more than it
                # saves on one machine; the plan has a fixed handful of shuffles (see SparkPlan).
                .config("spark.sql.adaptive.enabled", "false")
                # A lake has a folder per day and event type: past 32 paths Spark lists files with a job of
                # its own, which costs more than listing them on one machine.
                .config("spark.sql.sources.parallelPartitionDiscovery.threshold", "100000")
                .config("spark.default.parallelism", str(cores))
                .config("spark.sql.session.timeZone", "UTC")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile=file:{_log4j_file()}")
                .getOrCreate()
            )
    except Exception as error:  # the JVM did not start: py4j and pyspark raise several kinds
        raise UnavailableError(f"Spark did not start in local mode: {error}") from error
    session.sparkContext.setLogLevel("ERROR")
    return session


@contextmanager
def _quiet_pyspark() -> Iterator[None]:
    """pyspark warns once, when it first loads its test helpers, that pandas 3 is newer than it has tested;
    fengkong hands it Arrow tables, never pandas frames, so that warning is not for fengkong's users."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="PySpark does not yet fully support", category=FutureWarning
        )
        yield


@contextmanager
def spark_session(*, cores: int = 2, shuffle_partitions: int = 4) -> Iterator[SparkSession]:
    """A local session for the duration of a ``with`` block, stopped afterwards unless it was already
    running when the block began (then it is left to its owner)."""
    from_before = _active_session()
    session = local_spark_session(cores=cores, shuffle_partitions=shuffle_partitions)
    try:
        yield session
    finally:
        if from_before is None:
            session.stop()


def _active_session() -> SparkSession | None:
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        return None
    return SparkSession.getActiveSession()


# -- the plan: Spark SQL generated from the specs ----------------------------------------------------------


def _literal(value: object) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return f"{value}L"
    if isinstance(value, str):  # Spark SQL string literals take backslash escapes
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    raise InputError(f"cannot compare with {value!r}", field="filter")


def _quote(identifier: str) -> str:
    return "`" + identifier.replace("`", "``") + "`"


def _filter_sql(flt: Filter) -> str:
    column = _quote(flt.column)
    if flt.operator is Operator.IN:
        return f"{column} IN ({', '.join(_literal(v) for v in flt.values)})"
    operator = "=" if flt.operator is Operator.EQ else "<>" if flt.operator is Operator.NE else flt.operator
    return f"{column} {operator} {_literal(flt.value)}"


def _window_condition(window: Window) -> str:
    if window.kind is WindowKind.ROLLING:
        return f"r_us > t_us - {window.length * MICROSECONDS_PER_SECOND}L"
    return f"r_us >= cal_{window.length}"


def _measure_sql(measure: Measure, group: int, lane: int) -> list[tuple[str, str]]:
    """(suffix, aggregate expression) of the partial columns a measure needs, reading lane ``lane`` of group
    ``group`` (rows of other groups, and the keys' own rows, fail ``fk_group = group``)."""
    condition = f"fk_group = {group} AND {_window_condition(measure.window)} AND g{group}_f{lane}"
    value = f"g{group}_v{lane}"
    aggregation = measure.aggregation
    if aggregation is Aggregation.COUNT:
        return [("", f"count(*) FILTER (WHERE {condition})")]
    if aggregation is Aggregation.SUM:
        return [("", f"sum({value}) FILTER (WHERE {condition})")]
    if aggregation is Aggregation.MEAN:
        return [
            ("_sum", f"sum({value}) FILTER (WHERE {condition})"),
            ("_n", f"count({value}) FILTER (WHERE {condition})"),
        ]
    if aggregation is Aggregation.MIN:
        return [("", f"min({value}) FILTER (WHERE {condition})")]
    if aggregation is Aggregation.MAX:
        return [("", f"max({value}) FILTER (WHERE {condition})")]
    if aggregation is Aggregation.DISTINCT_COUNT:
        # A set per key rather than count(DISTINCT): Spark plans every distinct aggregate by copying each
        # row once per distinct column (Expand); collect_set is an ordinary aggregate. Nulls are skipped.
        return [("", f"size(collect_set({value}) FILTER (WHERE {condition}))")]
    if aggregation is Aggregation.LAST:
        return [
            (
                "",
                f"max_by({value}, struct(r_us, event_id)) FILTER (WHERE {condition} AND {value} IS NOT NULL)",
            )
        ]
    if aggregation is Aggregation.TIME_SINCE_LAST:
        return [("", f"max(r_us) FILTER (WHERE {condition})")]
    raise InputError(f"{aggregation.value} is not a measure", field="aggregation")


class SparkPlan:
    """The Spark SQL of one backfill over relations (temporary views) named per event type and a keys view
    with ``row_id``, ``entity_id``, ``t_us`` and one ``cal_<N>`` column per calendar window length.

    Unlike the DuckDB plan (one range join per group of measures, joined back to the keys), every group
    shares one relation of events, one join and one aggregation, so the query has a fixed handful of
    shuffles whatever the number of features:

    * ``fk_e``: per group and member event type, the events received up to the latest read, tagged with the
      group, keyed by the group's entity column and time bucket, carrying the group's lane columns
      (``g<group>_v<lane>`` value, ``g<group>_f<lane>`` filters passed; NULL in other groups' rows) —
      deduplicated by event ID (earliest receipt) in one window;
    * ``fk_k``: each key once per group and bucket (its own and the one before);
    * one equi-join on (group, entity, bucket) refined by ``t - H < received <= t``, plus every key once with
      no event (so a key with empty windows still has its row), grouped by ``row_id`` with one ``FILTER``
      clause per measure; the outer select fills empty windows and finishes ratios and growth.
    """

    def __init__(
        self,
        specs: Sequence[FeatureSpec],
        relations: Mapping[str, str],
        keys: str,
        *,
        deduplicate: bool = True,
        latest_us: int | None = None,
    ) -> None:
        self.specs = specs
        self.groups = _groups(specs)
        self.relations = relations
        self.keys = keys
        self.deduplicate = deduplicate
        self.latest_us = latest_us
        self.column_of: dict[Measure, str] = {}
        for number, group in enumerate(self.groups):
            for index, measure in enumerate(group.measures):
                self.column_of.setdefault(measure, f"g{number}_m{index}")
        # Keys of several entities in one query carry ``fk_entity``; each meets only its entity's groups.
        self.entities = tuple(dict.fromkeys(spec.entity for spec in specs))
        self.entities_of_group = [
            tuple(dict.fromkeys(s.entity for s in specs if any(m in group.measures for m in s.measures)))
            for group in self.groups
        ]

    def calendar_days(self) -> set[int]:
        return {
            m.window.length
            for g in self.groups
            for m in g.measures
            if m.window.kind is WindowKind.CALENDAR_DAYS
        }

    def _lane_columns(self) -> list[tuple[int, int, str]]:
        """(group, lane, Spark type of the lane's value) for every lane of every group."""
        found = []
        for number, group in enumerate(self.groups):
            for lane, sources in enumerate(group.lanes):
                value_column = sources[0].value_column
                logical = (
                    dict(column_layout(sources[0].event_type))[value_column]
                    if value_column is not None
                    else None
                )
                found.append((number, lane, _SPARK_TYPES[logical] if logical is not None else "BOOLEAN"))
        return found

    @staticmethod
    def _horizon_us(group: _Group) -> int:
        return max(m.window.horizon_seconds for m in group.measures) * MICROSECONDS_PER_SECOND

    def _events_part(
        self, number: int, group: _Group, position: int, lanes: Sequence[tuple[int, int, str]]
    ) -> str:
        event_type, entity_column = group.keyed_by[position]
        horizon = self._horizon_us(group)
        columns = []
        for other, lane, spark_type in lanes:
            if other != number:
                columns.append(f"CAST(NULL AS {spark_type}) AS g{other}_v{lane}")
                columns.append(f"CAST(NULL AS BOOLEAN) AS g{other}_f{lane}")
                continue
            source = group.lanes[lane][position]
            value = (
                _quote(source.value_column)
                if source.value_column is not None
                else f"CAST(NULL AS {spark_type})"
            )
            flag = " AND ".join(_filter_sql(f) for f in source.filters) if source.filters else "TRUE"
            columns.append(f"{value} AS g{number}_v{lane}")
            columns.append(f"coalesce({flag}, FALSE) AS g{number}_f{lane}")
        # A literal bound on received_at (not on an expression of it) lets Spark push it into the scan.
        latest = (
            f"received_at <= timestamp_micros({self.latest_us}L)" if self.latest_us is not None else "FALSE"
        )
        r_us = "unix_micros(received_at)"
        return (
            f"SELECT {number} AS fk_group, {position} AS fk_part, "
            f"CAST({_quote(entity_column)} AS STRING) AS entity_id, event_id, {r_us} AS r_us, "
            f"({r_us} - pmod({r_us}, {horizon}L)) DIV {horizon}L AS fk_bucket, {', '.join(columns)} "
            f"FROM {self.relations[event_type]} "
            f"WHERE event_id IS NOT NULL AND received_at IS NOT NULL AND {latest}"
        )

    def sql(self) -> str:
        lanes = self._lane_columns()
        lane_names = [f"g{g}_{kind}{lane}" for g, lane, _ in lanes for kind in ("v", "f")]
        parts = [
            self._events_part(number, group, position, lanes)
            for number, group in enumerate(self.groups)
            for position in range(len(group.keyed_by))
        ]
        carried = ", ".join(["fk_group", "entity_id", "event_id", "r_us", "fk_bucket", *lane_names])
        union = " UNION ALL ".join(parts)
        if self.deduplicate:
            # One shuffle by event ID: the earliest receipt of each ID counts (a tie keeps either copy;
            # copies of one event carry the same content). A null entity is dropped after, as in DuckDB.
            events = (
                f"SELECT {carried} FROM (SELECT *, row_number() OVER "
                f"(PARTITION BY fk_group, fk_part, event_id ORDER BY r_us) AS fk_rank "
                f"FROM ({union})) WHERE fk_rank = 1 AND entity_id IS NOT NULL"
            )
        else:
            events = f"SELECT {carried} FROM ({union}) WHERE entity_id IS NOT NULL"
        calendar = [f"cal_{days}" for days in sorted(self.calendar_days())]
        key_columns = ", ".join(["row_id", "entity_id", "t_us", *calendar])
        key_parts = []
        for number, group in enumerate(self.groups):
            horizon = self._horizon_us(group)
            bucket = f"(t_us - pmod(t_us, {horizon}L)) DIV {horizon}L"
            only = ""
            if len(self.entities) > 1:
                listed = ", ".join(_literal(e.value) for e in self.entities_of_group[number])
                only = f" WHERE fk_entity IN ({listed})"
            key_parts.append(
                f"SELECT {key_columns}, {number} AS fk_group, t_us - {horizon}L AS fk_low, fk_b AS fk_bucket "
                f"FROM {self.keys} LATERAL VIEW explode(array({bucket}, {bucket} - 1)) fk_x AS fk_b{only}"
            )
        kept = ", ".join(["k.row_id", "k.t_us", *(f"k.{c}" for c in calendar)])
        event_columns = ", ".join(["e.fk_group", "e.event_id", "e.r_us", *(f"e.{n}" for n in lane_names)])
        null_events = ", ".join(
            [
                "CAST(NULL AS INT) AS fk_group",
                "CAST(NULL AS STRING) AS event_id",
                "CAST(NULL AS BIGINT) AS r_us",
                *(
                    f"CAST(NULL AS {spark_type if kind == 'v' else 'BOOLEAN'}) AS g{g}_{kind}{lane}"
                    for g, lane, spark_type in lanes
                    for kind in ("v", "f")
                ),
            ]
        )
        matched = (
            f"SELECT {kept}, {event_columns} FROM fk_k k JOIN fk_e e ON e.fk_group = k.fk_group "
            "AND e.entity_id = k.entity_id AND e.fk_bucket = k.fk_bucket AND e.r_us <= k.t_us "
            "AND e.r_us > k.fk_low"
        )
        alone = f"SELECT {', '.join(['row_id', 't_us', *calendar])}, {null_events} FROM {self.keys}"
        aggregates = []
        for number, group in enumerate(self.groups):
            lane_of = {sources: lane for lane, sources in enumerate(group.lanes)}
            for index, measure in enumerate(group.measures):
                if self.column_of[measure] != f"g{number}_m{index}":
                    continue
                for suffix, expression in _measure_sql(measure, number, lane_of[measure.sources]):
                    aggregates.append(f"{expression} AS g{number}_m{index}{suffix}")
        selects = ", ".join(f"{self._feature_value(s)} AS {_quote(s.name)}" for s in self.specs)
        return (
            f"WITH fk_e AS ({events}), fk_k AS ({' UNION ALL '.join(key_parts)}), "
            f"fk_rows AS ({matched} UNION ALL {alone}), "
            f"fk_a AS (SELECT row_id, max(t_us) AS t_us, {', '.join(aggregates)} "
            "FROM fk_rows GROUP BY row_id) "
            f"SELECT row_id, {selects} FROM fk_a"
        )

    def _measure_value(self, measure: Measure) -> str:
        ref = self.column_of[measure]
        aggregation = measure.aggregation
        if aggregation in (Aggregation.COUNT, Aggregation.DISTINCT_COUNT, Aggregation.SUM):
            return f"CAST(coalesce({ref}, 0L) AS BIGINT)"
        if aggregation is Aggregation.MEAN:
            return f"(CAST({ref}_sum AS DOUBLE) / CAST(nullif({ref}_n, 0L) AS DOUBLE))"
        if aggregation is Aggregation.TIME_SINCE_LAST:
            return f"(CAST(t_us - {ref} AS DOUBLE) / 1000000.0D)"
        return f"CAST({ref} AS BIGINT)"

    def _feature_value(self, spec: FeatureSpec) -> str:
        values = [self._measure_value(m) for m in spec.measures]
        if spec.aggregation is Aggregation.RATIO:
            numerator, denominator = values
            return f"CAST({numerator} AS DOUBLE) / nullif(CAST({denominator} AS DOUBLE), 0.0D)"
        if spec.aggregation is Aggregation.GROWTH:
            short, long = values
            short_seconds, long_seconds = (m.window.length for m in spec.measures)
            return (
                f"(CAST({short} AS DOUBLE) * {long_seconds}.0D) "
                f"/ nullif(CAST({long} AS DOUBLE) * {short_seconds}.0D, 0.0D)"
            )
        return values[0]


def _event_columns(specs: Sequence[FeatureSpec]) -> dict[str, list[str]]:
    """Per event type, the lake columns the specs read (``event_id`` and ``received_at`` first)."""
    wanted: dict[str, list[str]] = {}
    for spec in specs:
        for measure in spec.measures:
            for source in measure.sources:
                wanted.setdefault(source.event_type, ["event_id", "received_at"]).extend(source.columns)
    layout_order = {t: [name for name, _ in column_layout(t)] for t in wanted}
    return {t: [c for c in layout_order[t] if c in set(cs)] for t, cs in wanted.items()}


def _ddl(event_type: str, columns: Sequence[str]) -> str:
    logical = dict(column_layout(event_type))
    return ", ".join(f"{_quote(c)} {_SPARK_TYPES[logical[c]]}" for c in columns)


def backfill_spark_sql(
    feature_set: FeatureSet,
    entity: Entity | str,
    names: Sequence[str] | None = None,
    *,
    deduplicate: bool = True,
) -> str:
    """The Spark SQL :func:`backfill_spark` runs, each event type read from a view named ``src_<type>`` and
    the keys from ``keys`` (for review and debugging; the latest receipt read is shown as ``0``)."""
    chosen = entity if isinstance(entity, Entity) else parse_entity(entity)
    specs = feature_set.for_entity(chosen, names)
    event_types = {s.event_type for spec in specs for m in spec.measures for s in m.sources}
    relations = {t: f"src_{t}" for t in event_types if t in EVENT_TYPES}
    return SparkPlan(specs, relations, "keys", deduplicate=deduplicate, latest_us=0).sql()


def backfill_spark(
    feature_set: FeatureSet,
    entity: Entity | str,
    keys: pa.Table,
    *,
    spark: SparkSession | None = None,
    lake_dir: Path | str | None = None,
    tables: Mapping[str, pa.Table] | None = None,
    names: Sequence[str] | None = None,
    deduplicate: bool = True,
) -> pa.Table:
    """Features of ``entity`` at each ``(entity_id, as_of)`` row of ``keys``, point in time on receipt, on
    Spark: the same contract as :func:`fengkong.features.offline.backfill` (same keys, same lake or tables,
    same output columns, types and row order). ``spark`` is the session to run on (default: the active one,
    else a new local one, left running for the next call)."""
    chosen = entity if isinstance(entity, Entity) else parse_entity(entity)
    results = _backfill(
        feature_set,
        [(chosen, keys, names)],
        spark=spark,
        lake_dir=lake_dir,
        tables=tables,
        deduplicate=deduplicate,
    )
    return results[chosen]


def backfill_spark_entities(
    feature_set: FeatureSet,
    keys_by_entity: Mapping[Entity | str, pa.Table],
    *,
    spark: SparkSession | None = None,
    lake_dir: Path | str | None = None,
    tables: Mapping[str, pa.Table] | None = None,
    deduplicate: bool = True,
) -> dict[Entity, pa.Table]:
    """:func:`backfill_spark` for several entities in one Spark query (each entity's keys meet only its own
    groups of measures): one table per entity, as ``backfill_spark`` would return it. A Spark query costs
    about a second however small, so a whole feature set is cheaper backfilled at once."""
    requests: list[tuple[Entity, pa.Table, Sequence[str] | None]] = []
    for entity, keys in keys_by_entity.items():
        chosen = entity if isinstance(entity, Entity) else parse_entity(entity)
        if any(chosen is e for e, _, _ in requests):
            raise InputError(f"entity {chosen.value!r} is given twice", field="keys_by_entity")
        requests.append((chosen, keys, None))
    return _backfill(
        feature_set, requests, spark=spark, lake_dir=lake_dir, tables=tables, deduplicate=deduplicate
    )


def _backfill(
    feature_set: FeatureSet,
    requests: Sequence[tuple[Entity, pa.Table, Sequence[str] | None]],
    *,
    spark: SparkSession | None,
    lake_dir: Path | str | None,
    tables: Mapping[str, pa.Table] | None,
    deduplicate: bool,
) -> dict[Entity, pa.Table]:
    if (lake_dir is None) == (tables is None):
        raise InputError("give exactly one of lake_dir and tables", field="lake_dir")
    chosen_specs = {entity: feature_set.for_entity(entity, names) for entity, _, names in requests}
    specs = [spec for entity, _, _ in requests for spec in chosen_specs[entity]]
    session = spark if spark is not None else local_spark_session()
    tag = uuid.uuid4().hex[:12]
    wanted = _event_columns(specs)
    plan_keys = f"fk_keys_{tag}"
    relations = {t: f"fk_src_{t}_{tag}" for t in wanted}
    calendar_days = SparkPlan(specs, relations, plan_keys).calendar_days()
    parts = []
    offset = 0
    for entity, keys, _ in requests:
        part = _keys_table(keys, calendar_days)
        part = part.set_column(0, "row_id", pc.add(part.column("row_id"), offset))
        parts.append(part.append_column("fk_entity", pa.array([entity.value] * part.num_rows, pa.string())))
        offset += part.num_rows
    if offset > bounds.offline_backfill_rows_max:
        raise BoundExceededError("offline_backfill_rows_max", bounds.offline_backfill_rows_max, offset)
    key_table = pa.concat_tables(parts)
    latest_us = int(pc.max(key_table.column("t_us")).as_py()) if key_table.num_rows else None
    plan = SparkPlan(specs, relations, plan_keys, deduplicate=deduplicate, latest_us=latest_us)
    through = None  # lake partitions dated after the latest read hold only later receipts
    if lake_dir is not None and latest_us is not None:
        through = business_date(from_microseconds(latest_us))
    views: list[str] = []
    with _quiet_pyspark():
        try:
            for event_type, names_read in wanted.items():
                frame = _events_frame(
                    session, event_type, names_read, lake_dir=lake_dir, tables=tables, through=through
                )
                frame.createOrReplaceTempView(relations[event_type])
                views.append(relations[event_type])
            session.createDataFrame(key_table).createOrReplaceTempView(plan_keys)
            views.append(plan_keys)
            if specs:
                result: pa.Table = session.sql(plan.sql()).toArrow()
            else:
                result = pa.table({"row_id": key_table.column("row_id")})
        finally:
            for view in views:
                session.catalog.dropTempView(view)
    require(result.num_rows == offset, f"Spark returned {result.num_rows} rows for {offset} keys")
    result = result.sort_by([("row_id", "ascending")])
    tables_out: dict[Entity, pa.Table] = {}
    start = 0
    for entity, keys, _ in requests:
        rows = result.slice(start, keys.num_rows)
        start += keys.num_rows
        output: dict[str, pa.Array | pa.ChunkedArray] = {
            KEY_ENTITY: keys.column(KEY_ENTITY),
            KEY_AS_OF: keys.column(KEY_AS_OF),
        }
        for spec in chosen_specs[entity]:
            output[spec.name] = rows.column(spec.name).cast(OUTPUT_TYPES[spec.aggregation])
        tables_out[entity] = pa.table(output)
    return tables_out


def _events_frame(
    session: SparkSession,
    event_type: str,
    columns: Sequence[str],
    *,
    lake_dir: Path | str | None,
    tables: Mapping[str, pa.Table] | None,
    through: Any,
) -> DataFrame:
    empty = lake_schema(event_type).empty_table().select(list(columns))
    if tables is not None:
        table = tables.get(event_type)
        if table is None or table.num_rows == 0:
            return session.createDataFrame(empty)
        missing = [c for c in columns if c not in table.column_names]
        if missing:
            raise InputError(f"the {event_type} table has no column {missing[0]!r}", field="tables")
        wanted = pa.schema([pa.field(c, table.schema.field(c).type) for c in columns])
        return session.createDataFrame(table.select(list(columns)).cast(wanted))
    files = lake_files(Path(str(lake_dir)), event_type, through)
    if not files:
        return session.createDataFrame(empty)
    return session.read.schema(_ddl(event_type, columns)).parquet(*(str(path) for path in files))


# -- parity (c): DuckDB against Spark ------------------------------------------------------------------------


def compare_backfills(
    feature_set: FeatureSet,
    entity: Entity | str,
    expected: pa.Table,
    actual: pa.Table,
    names: Sequence[str] | None = None,
) -> list[FeatureParity]:
    """Compare two backfills of the same keys feature by feature (``expected``, e.g. DuckDB's, is reported as
    ``online`` in a :class:`Mismatch`, ``actual`` as ``offline``): exact for counts, sums, distinct counts,
    min, max and last (an integer must stay an integer), within the relative tolerance of parity otherwise;
    None must meet None. The keys of the two tables must be the same rows in the same order."""
    chosen = entity if isinstance(entity, Entity) else parse_entity(entity)
    if expected.num_rows != actual.num_rows:
        raise InputError(f"the backfills have {expected.num_rows} and {actual.num_rows} rows", field="actual")
    if expected.num_rows > bounds.parity_keys_max:
        raise BoundExceededError("parity_keys_max", bounds.parity_keys_max, expected.num_rows)
    for column in (KEY_ENTITY, KEY_AS_OF):
        if not expected.column(column).equals(actual.column(column)):
            raise InputError(f"the backfills differ in their {column} column", field="actual")
    entity_ids = expected.column(KEY_ENTITY).to_pylist()
    instants = expected.column(KEY_AS_OF).cast(pa.int64()).to_pylist()
    results = []
    for spec in feature_set.for_entity(chosen, names):
        exact = spec.aggregation in EXACT_AGGREGATIONS
        mismatches = 0
        worst = 0.0
        first: Mismatch | None = None
        left = expected.column(spec.name).to_pylist()
        right = actual.column(spec.name).to_pylist()
        for index, (one, other) in enumerate(zip(left, right, strict=True)):
            agrees, difference = values_agree(one, other, exact)
            worst = max(worst, difference)
            if not agrees:
                mismatches += 1
                if first is None:
                    first = Mismatch(entity_ids[index], int(instants[index]), one, other)
        results.append(FeatureParity(spec.name, chosen, exact, len(left), mismatches, worst, first))
    return results
