"""The offline engine: point-in-time-correct backfill of feature specs over the Parquet lake with DuckDB.

Input: a table of ``(entity_id, as_of)`` rows for one entity type. Output: the same rows, in the same order,
with one column per feature, each computed exactly as the online engine would have answered a read of that
entity at ``as_of`` (the window rules are in :mod:`fengkong.features.spec`). An event not yet received at a
row's ``as_of`` never counts.

The SQL is generated from the specs, one query per call:

* per event type, the rows received up to the latest ``as_of``, deduplicated by ``event_id`` (the earliest
  receipt counts — the online engine's rule);
* per group of measures reading the same event type(s) by the same entity column, one range join of the
  keys to those events on entity and ``t - horizon < received <= t``, aggregated per key row with one
  ``FILTER`` clause per measure (its window and its source's filters) over its own value column;
* a final select that joins every group to the keys and finishes ratios and growth.

The lake is read where the ingestion lake writer puts it: ``<lake>/<event_type>/date=YYYY-MM-DD/
part-NNNNNN.parquet``, the date being the Asia/Shanghai business date of receipt. Partitions dated after the
latest ``as_of`` are skipped (they hold only later receipts).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fengkong import bounds
from fengkong.clock import business_date, require_utc
from fengkong.domain.events import EVENT_TYPES, column_layout
from fengkong.domain.features import FeatureVector
from fengkong.errors import BoundExceededError, InputError
from fengkong.features.spec import (
    Aggregation,
    Entity,
    FeatureSet,
    FeatureSpec,
    Filter,
    Measure,
    Operator,
    Source,
    Window,
    WindowKind,
    parse_entity,
)
from fengkong.features.windows import MICROSECONDS_PER_SECOND, calendar_starts_us

KEY_ENTITY: Final = "entity_id"
KEY_AS_OF: Final = "as_of"
_TIMESTAMP: Final = pa.timestamp("us", tz="UTC")
_ARROW: Final[Mapping[str, pa.DataType]] = {
    "string": pa.string(),
    "int64": pa.int64(),
    "bool": pa.bool_(),
    "date": pa.date32(),
    "timestamp_utc_us": _TIMESTAMP,
}
#: Output Arrow type of each aggregation (LAST reads integer columns only).
OUTPUT_TYPES: Final[Mapping[Aggregation, pa.DataType]] = {
    Aggregation.COUNT: pa.int64(),
    Aggregation.SUM: pa.int64(),
    Aggregation.MEAN: pa.float64(),
    Aggregation.MIN: pa.int64(),
    Aggregation.MAX: pa.int64(),
    Aggregation.DISTINCT_COUNT: pa.int64(),
    Aggregation.LAST: pa.int64(),
    Aggregation.TIME_SINCE_LAST: pa.float64(),
    Aggregation.RATIO: pa.float64(),
    Aggregation.GROWTH: pa.float64(),
}


def lake_schema(event_type: str) -> pa.Schema:
    """The Arrow schema of ``event_type``'s lake table (``column_layout``)."""
    return pa.schema([pa.field(name, _ARROW[logical]) for name, logical in column_layout(event_type)])


def lake_files(lake_dir: Path, event_type: str, through: date | None = None) -> list[Path]:
    """Parquet files of ``event_type`` in the lake, optionally only partitions dated up to ``through``."""
    root = Path(lake_dir) / event_type
    if not root.is_dir():
        return []
    found = []
    for day_dir in sorted(root.glob("date=*")):
        try:
            day = date.fromisoformat(day_dir.name.removeprefix("date="))
        except ValueError:
            continue
        if through is not None and day > through:
            continue
        found.extend(sorted(day_dir.glob("part-*.parquet")))
    return found


def _literal(value: object) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise InputError(f"cannot compare with {value!r}", field="filter")


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _filter_sql(flt: Filter) -> str:
    column = _quote(flt.column)
    if flt.operator is Operator.IN:
        return f"{column} IN ({', '.join(_literal(v) for v in flt.values)})"
    operator = "=" if flt.operator is Operator.EQ else "<>" if flt.operator is Operator.NE else flt.operator
    return f"{column} {operator} {_literal(flt.value)}"


@dataclass(frozen=True, slots=True)
class _Group:
    """Measures that read the same event types by the same entity columns, whatever their value columns
    and filters: one range join serves them all. Each distinct source tuple among them is a *lane* with its
    own value column ``v<lane>`` and filter flag ``f<lane>``."""

    name: str
    keyed_by: tuple[tuple[str, str], ...]  # (event type, entity column) per union member
    measures: tuple[Measure, ...]
    lanes: tuple[tuple[Source, ...], ...]


def _groups(specs: Iterable[FeatureSpec]) -> list[_Group]:
    by_key: dict[tuple[tuple[str, str], ...], list[Measure]] = {}
    for spec in specs:
        for measure in spec.measures:
            key = tuple((s.event_type, s.entity_column) for s in measure.sources)
            chosen = by_key.setdefault(key, [])
            if measure not in chosen:
                chosen.append(measure)
    return [
        _Group(f"g{i}", key, tuple(ms), tuple(dict.fromkeys(m.sources for m in ms)))
        for i, (key, ms) in enumerate(by_key.items())
    ]


def _window_condition(window: Window) -> str:
    if window.kind is WindowKind.ROLLING:
        return f"e.r_us > k.t_us - {window.length * MICROSECONDS_PER_SECOND}"
    return f"e.r_us >= k.cal_{window.length}"


def _measure_sql(measure: Measure, lane: int) -> list[tuple[str, str]]:
    """(suffix, aggregate expression) of the partial columns a measure needs, reading lane ``lane``."""
    condition = f"{_window_condition(measure.window)} AND e.f{lane}"
    value = f"e.v{lane}"
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
        return [("", f"count(DISTINCT {value}) FILTER (WHERE {condition})")]
    if aggregation is Aggregation.LAST:
        return [
            ("", f"arg_max({value}, (e.r_us, e.event_id)) FILTER (WHERE {condition} AND {value} IS NOT NULL)")
        ]
    if aggregation is Aggregation.TIME_SINCE_LAST:
        return [("", f"max(e.r_us) FILTER (WHERE {condition})")]
    raise InputError(f"{aggregation.value} is not a measure", field="aggregation")


class _Plan:
    """The SQL for one backfill: names every measure's columns and builds the query text."""

    def __init__(self, specs: Sequence[FeatureSpec], relations: Mapping[str, str], deduplicate: bool) -> None:
        self.specs = specs
        self.groups = _groups(specs)
        self.relations = relations
        self.deduplicate = deduplicate
        self.column_of: dict[Measure, tuple[str, str]] = {}
        for group in self.groups:
            for index, measure in enumerate(group.measures):
                self.column_of[measure] = (group.name, f"m{index}")

    def calendar_days(self) -> set[int]:
        return {
            m.window.length
            for g in self.groups
            for m in g.measures
            if m.window.kind is WindowKind.CALENDAR_DAYS
        }

    def _events_cte(self, event_type: str, columns: Iterable[str]) -> str:
        needed = ", ".join(_quote(c) for c in dict.fromkeys(columns))
        name = f"ev_{event_type}"
        received = (
            f"SELECT event_id, epoch_us(received_at) AS r_us, {needed} FROM {self.relations[event_type]} "
            "WHERE event_id IS NOT NULL AND received_at IS NOT NULL "
            "AND epoch_us(received_at) <= (SELECT max(t_us) FROM fk_keys)"
        )
        if not self.deduplicate:
            return f"{name} AS ({received})"
        # Only IDs received more than once pay for a sort: their earliest receipt counts (a tie keeps either
        # copy; copies of one event carry the same content). Everything else passes an anti-join.
        return (
            f"{name}_all AS ({received}), "
            f"{name}_twice AS (SELECT event_id FROM {name}_all GROUP BY event_id HAVING count(*) > 1), "
            f"{name} AS (SELECT a.* FROM {name}_all a ANTI JOIN {name}_twice USING (event_id) "
            f"UNION ALL (SELECT a.* FROM {name}_all a SEMI JOIN {name}_twice USING (event_id) "
            "QUALIFY row_number() OVER (PARTITION BY a.event_id ORDER BY a.r_us) = 1))"
        )

    def _group_cte(self, group: _Group) -> str:
        parts = []
        for position, (event_type, entity_column) in enumerate(group.keyed_by):
            lanes = []
            for lane, sources in enumerate(group.lanes):
                source = sources[position]
                value = _quote(source.value_column) if source.value_column is not None else "NULL"
                flag = " AND ".join(_filter_sql(f) for f in source.filters) if source.filters else "TRUE"
                lanes.append(f"{value} AS v{lane}, coalesce({flag}, FALSE) AS f{lane}")
            parts.append(
                f"SELECT {_quote(entity_column)} AS entity_id, r_us, event_id, {', '.join(lanes)} "
                f"FROM ev_{event_type} WHERE {_quote(entity_column)} IS NOT NULL"
            )
        horizon = max(m.window.horizon_seconds for m in group.measures) * MICROSECONDS_PER_SECOND
        lane_of = {sources: lane for lane, sources in enumerate(group.lanes)}
        aggregates = [
            f"{expression} AS m{index}{suffix}"
            for index, measure in enumerate(group.measures)
            for suffix, expression in _measure_sql(measure, lane_of[measure.sources])
        ]
        return (
            f"{group.name}_e AS ({' UNION ALL '.join(parts)}), "
            f"{group.name} AS (SELECT k.row_id, {', '.join(aggregates)} FROM fk_keys k "
            f"JOIN {group.name}_e e ON e.entity_id = k.entity_id AND e.r_us <= k.t_us "
            f"AND e.r_us > k.t_us - {horizon} GROUP BY k.row_id)"
        )

    def _measure_value(self, measure: Measure) -> str:
        group, column = self.column_of[measure]
        ref = f"{group}.{column}"
        aggregation = measure.aggregation
        if aggregation in (Aggregation.COUNT, Aggregation.DISTINCT_COUNT):
            return f"coalesce({ref}, 0)::BIGINT"
        if aggregation is Aggregation.SUM:
            return f"coalesce({ref}, 0)::BIGINT"
        if aggregation is Aggregation.MEAN:
            return f"({group}.{column}_sum::DOUBLE / nullif({group}.{column}_n, 0)::DOUBLE)"
        if aggregation is Aggregation.TIME_SINCE_LAST:
            return f"((k.t_us - {ref}) / 1000000.0)"
        return f"{ref}::BIGINT"

    def _feature_value(self, spec: FeatureSpec) -> str:
        values = [self._measure_value(m) for m in spec.measures]
        if spec.aggregation is Aggregation.RATIO:
            numerator, denominator = values
            return f"({numerator})::DOUBLE / nullif(({denominator})::DOUBLE, 0)"
        if spec.aggregation is Aggregation.GROWTH:
            short, long = values
            short_seconds, long_seconds = (m.window.length for m in spec.measures)
            return f"(({short})::DOUBLE * {long_seconds}) / nullif(({long})::DOUBLE * {short_seconds}, 0)"
        return values[0]

    def sql(self) -> str:
        columns: dict[str, list[str]] = {}
        for group in self.groups:
            for sources in group.lanes:
                for source in sources:
                    columns.setdefault(source.event_type, []).extend(source.columns)
        ctes = [self._events_cte(t, c) for t, c in columns.items()]
        ctes.extend(self._group_cte(g) for g in self.groups)
        joins = " ".join(f"LEFT JOIN {g.name} ON {g.name}.row_id = k.row_id" for g in self.groups)
        selects = ", ".join(f"{self._feature_value(s)} AS {_quote(s.name)}" for s in self.specs)
        return f"WITH {', '.join(ctes)} SELECT k.row_id, {selects} FROM fk_keys k {joins} ORDER BY k.row_id"


def _keys_table(keys: pa.Table, calendar_days: Iterable[int]) -> pa.Table:
    for column in (KEY_ENTITY, KEY_AS_OF):
        if column not in keys.column_names:
            raise InputError(f"the keys table needs a {column!r} column", field="keys")
    if keys.num_rows > bounds.offline_backfill_rows_max:
        raise BoundExceededError("offline_backfill_rows_max", bounds.offline_backfill_rows_max, keys.num_rows)
    entity = keys.column(KEY_ENTITY)
    as_of = keys.column(KEY_AS_OF)
    if entity.null_count or as_of.null_count:
        raise InputError("entity_id and as_of may not be null", field="keys")
    if not pa.types.is_timestamp(as_of.type) or as_of.type.tz is None:
        raise InputError("as_of must be a timezone-aware timestamp column", field="keys.as_of")
    t_us = as_of.cast(_TIMESTAMP).cast(pa.int64())
    t_array = np.asarray(t_us.to_numpy(), dtype=np.int64)
    table = pa.table(
        {
            "row_id": pa.array(np.arange(keys.num_rows, dtype=np.int64)),
            "entity_id": entity.cast(pa.string()),
            "t_us": pa.array(t_array),
        }
    )
    for days in sorted(calendar_days):
        table = table.append_column(f"cal_{days}", pa.array(calendar_starts_us(t_array, days)))
    return table


def backfill(
    feature_set: FeatureSet,
    entity: Entity | str,
    keys: pa.Table,
    *,
    lake_dir: Path | str | None = None,
    tables: Mapping[str, pa.Table] | None = None,
    names: Sequence[str] | None = None,
    connection: Any = None,
    deduplicate: bool = True,
) -> pa.Table:
    """Features of ``entity`` at each ``(entity_id, as_of)`` row of ``keys``, point in time on receipt.

    Events come from the lake at ``lake_dir`` or from in-memory ``tables`` (event type → table in
    ``column_layout``), exactly one of the two. Returns ``entity_id``, ``as_of`` and one column per feature,
    row for row in the order of ``keys``. ``connection`` is a DuckDB connection (a new one when None).

    ``deduplicate`` keeps only the earliest receipt of each event ID (the online engine's rule). Turn it off
    only for events known to hold each ID once — a lake written by fengkong's ingestion, which deduplicates
    before writing — to save a partitioned sort of every event type.
    """
    import duckdb

    if (lake_dir is None) == (tables is None):
        raise InputError("give exactly one of lake_dir and tables", field="lake_dir")
    chosen = entity if isinstance(entity, Entity) else parse_entity(entity)
    specs = feature_set.for_entity(chosen, names)
    database = connection if connection is not None else duckdb.connect()
    event_types = sorted({s.event_type for spec in specs for s in _sources(spec)})
    through = None
    if keys.num_rows and lake_dir is not None:
        latest = pc.max(keys.column(KEY_AS_OF)).as_py()
        through = business_date(latest) if latest is not None else None
    relations: dict[str, str] = {}
    registered: list[str] = []
    for event_type in event_types:
        name = f"fk_src_{event_type}"
        if tables is not None:
            table = tables.get(event_type)
            if table is None:
                table = lake_schema(event_type).empty_table()
            database.register(name, table)
            registered.append(name)
            relations[event_type] = name
            continue
        files = lake_files(Path(str(lake_dir)), event_type, through)
        if files:
            listed = ", ".join(_literal(str(path)) for path in files)
            relations[event_type] = f"read_parquet([{listed}], hive_partitioning = false)"
        else:
            database.register(name, lake_schema(event_type).empty_table())
            registered.append(name)
            relations[event_type] = name
    plan = _Plan(specs, relations, deduplicate)
    key_table = _keys_table(keys, plan.calendar_days())
    database.register("fk_keys", key_table)
    try:
        if not specs:
            result = pa.table({"row_id": key_table.column("row_id")})
        else:
            result = database.sql(plan.sql()).to_arrow_table()
    finally:
        database.unregister("fk_keys")
        for name in registered:
            database.unregister(name)
    columns: dict[str, pa.Array | pa.ChunkedArray] = {
        KEY_ENTITY: keys.column(KEY_ENTITY),
        KEY_AS_OF: keys.column(KEY_AS_OF),
    }
    for spec in specs:
        columns[spec.name] = result.column(spec.name).cast(OUTPUT_TYPES[spec.aggregation])
    return pa.table(columns)


def _sources(spec: FeatureSpec) -> tuple[Source, ...]:
    return tuple(s for m in spec.measures for s in m.sources)


def backfill_sql(
    feature_set: FeatureSet,
    entity: Entity | str,
    names: Sequence[str] | None = None,
    *,
    deduplicate: bool = True,
) -> str:
    """The query :func:`backfill` runs, with each event type read from a relation named ``src_<type>``
    (for review and for ``fengkong features`` debugging)."""
    chosen = entity if isinstance(entity, Entity) else parse_entity(entity)
    specs = feature_set.for_entity(chosen, names)
    event_types = {s.event_type for spec in specs for s in _sources(spec)}
    return _Plan(specs, {t: f"src_{t}" for t in event_types if t in EVENT_TYPES}, deduplicate).sql()


class OfflineFeatureReader:
    """A ``FeatureReader`` over the lake (or in-memory tables): one point-in-time backfill row per read.
    Slow by design — for audits and for recomputing logged decisions, never on a decision's path."""

    def __init__(
        self,
        feature_set: FeatureSet,
        *,
        lake_dir: Path | str | None = None,
        tables: Mapping[str, pa.Table] | None = None,
    ) -> None:
        if (lake_dir is None) == (tables is None):
            raise InputError("give exactly one of lake_dir and tables", field="lake_dir")
        self.feature_set = feature_set
        self._lake_dir = lake_dir
        self._tables = tables

    def read(
        self, entity_type: str, entity_id: str, as_of: datetime, names: Sequence[str] | None = None
    ) -> FeatureVector:
        keys = pa.table(
            {
                KEY_ENTITY: pa.array([entity_id], type=pa.string()),
                KEY_AS_OF: pa.array([require_utc(as_of, "as_of")], type=_TIMESTAMP),
            }
        )
        row = backfill(
            self.feature_set, entity_type, keys, lake_dir=self._lake_dir, tables=self._tables, names=names
        ).to_pylist()[0]
        values = {name: value for name, value in row.items() if name not in (KEY_ENTITY, KEY_AS_OF)}
        return FeatureVector(
            parse_entity(entity_type).value, entity_id, as_of, values, self.feature_set.version
        )
