"""Parity between the online and offline engines, measured the way it can fail.

The same events are fed to the online engine (in any arrival order, duplicates included) and backfilled
offline; both are then asked for every feature at the same ``(entity, as_of)`` keys. The keys sit where the
engines are most likely to disagree: exactly at an event's receipt, exactly one window length later (the
event has just left), one microsecond before that, and at 00:00 Asia/Shanghai.

Agreement: counts, sums, distinct counts, min, max and last values must be equal exactly. Means, ratios,
growth and seconds-since-last are floating point and may differ in the last bits because DuckDB divides
doubles where Python divides integers exactly; they must agree within :data:`RELATIVE_TOLERANCE`
(relative, or absolute below 1). None must meet None.

Parity (a) uses the same rule on the reads decisions actually made: :class:`RecordingReader` logs them and
:func:`check_logged_reads` recomputes each offline at its logged key and time.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from fengkong import bounds
from fengkong.domain.features import FeatureReader, FeatureValue, FeatureVector
from fengkong.errors import BoundExceededError
from fengkong.features.offline import KEY_AS_OF, KEY_ENTITY, backfill
from fengkong.features.online import OnlineFeatureEngine
from fengkong.features.spec import Aggregation, Entity, FeatureSet, WindowKind, parse_entity
from fengkong.features.windows import MICROSECONDS_PER_SECOND, calendar_starts_us, to_microseconds

RELATIVE_TOLERANCE: Final = 1e-9
EXACT_AGGREGATIONS: Final = frozenset(
    {
        Aggregation.COUNT,
        Aggregation.SUM,
        Aggregation.DISTINCT_COUNT,
        Aggregation.MIN,
        Aggregation.MAX,
        Aggregation.LAST,
    }
)
_TIMESTAMP: Final = pa.timestamp("us", tz="UTC")
DAY_US: Final = 86_400 * MICROSECONDS_PER_SECOND


@dataclass(frozen=True, slots=True)
class Mismatch:
    entity_id: str
    as_of_us: int
    online: FeatureValue
    offline: FeatureValue


@dataclass(frozen=True, slots=True)
class FeatureParity:
    """How one feature compared: keys compared, how many disagreed, the first disagreement."""

    name: str
    entity: Entity
    exact: bool  # compared exactly (else within RELATIVE_TOLERANCE)
    compared: int
    mismatches: int
    max_difference: float
    first_mismatch: Mismatch | None

    @property
    def agrees(self) -> bool:
        return self.mismatches == 0


def values_agree(online: FeatureValue, offline: FeatureValue, exact: bool) -> tuple[bool, float]:
    """Whether two values agree under the rule above, and their difference (0 when exact and equal)."""
    if online is None or offline is None:
        return online is None and offline is None, 0.0 if online is offline else math.inf
    if exact:
        return online == offline and type(online) is type(offline), float(abs(online - offline))
    difference = abs(float(online) - float(offline))
    scale = max(1.0, abs(float(online)), abs(float(offline)))
    return difference <= RELATIVE_TOLERANCE * scale, difference


def edge_keys(
    feature_set: FeatureSet,
    entity: Entity,
    tables: Mapping[str, pa.Table],
    *,
    keys_max: int,
    seed: int = 0,
) -> pa.Table:
    """``(entity_id, as_of)`` keys on the window edges of the entity's features, drawn from the events:
    at a receipt, one window later, one microsecond before that, and the next 00:00 Shanghai. At most
    ``keys_max`` distinct keys, sampled with ``seed``, sorted by entity and time."""
    specs = feature_set.for_entity(entity)
    sources = {s for spec in specs for m in spec.measures for s in m.sources}
    windows = {m.window for spec in specs for m in spec.measures}
    rolling_us = sorted({w.length * MICROSECONDS_PER_SECOND for w in windows if w.kind is WindowKind.ROLLING})
    entity_parts: list[pa.Array] = []
    time_parts: list[npt.NDArray[np.int64]] = []
    for source in sorted(sources, key=lambda s: (s.event_type, s.entity_column)):
        table = tables.get(source.event_type)
        if table is None or table.num_rows == 0:
            continue
        table = table.filter(pc.is_valid(table.column(source.entity_column)))
        ids = table.column(source.entity_column).combine_chunks().cast(pa.string())
        received = np.asarray(
            table.column("received_at").cast(_TIMESTAMP).cast(pa.int64()).to_numpy(), dtype=np.int64
        )
        shifted = [received]
        for length in rolling_us:
            shifted += [received + length, received + length - 1]
        shifted.append(calendar_starts_us(received + DAY_US, 1))
        for times in shifted:
            entity_parts.append(ids)
            time_parts.append(times)
    if not entity_parts:
        return pa.table(
            {KEY_ENTITY: pa.array([], type=pa.string()), KEY_AS_OF: pa.array([], type=_TIMESTAMP)}
        )
    candidates = pa.table(
        {
            KEY_ENTITY: pa.concat_arrays(entity_parts),
            "t_us": pa.array(np.concatenate(time_parts), type=pa.int64()),
        }
    )
    unique = candidates.group_by([KEY_ENTITY, "t_us"]).aggregate([])
    if unique.num_rows > keys_max:
        chosen = np.random.default_rng(seed).choice(unique.num_rows, size=keys_max, replace=False)
        unique = unique.take(pa.array(np.sort(chosen)))
    unique = unique.sort_by([(KEY_ENTITY, "ascending"), ("t_us", "ascending")])
    return pa.table(
        {
            KEY_ENTITY: unique.column(KEY_ENTITY),
            KEY_AS_OF: unique.column("t_us").cast(_TIMESTAMP),
        }
    )


def feed_online(
    engine: OnlineFeatureEngine,
    tables: Mapping[str, pa.Table],
    *,
    shuffle_seed: int | None = None,
    slice_seconds: int | None = None,
    batched: bool = False,
) -> int:
    """Apply every row of ``tables`` to ``engine``: in receipt order, or shuffled when a seed is given
    (out-of-order arrival). With ``slice_seconds`` the stream is fed one slice of receipt time at a time
    (shuffled within each slice), so memory holds one slice of Python rows, not the whole stream. With
    ``batched`` each slice of each event type goes through :meth:`OnlineFeatureEngine.apply_table` (rows
    permuted within the slice when a seed is given) instead of row by row. Returns how many rows changed
    state (duplicates do not)."""
    prepared: list[tuple[str, pa.Table, npt.NDArray[np.int64]]] = []
    for event_type, table in tables.items():
        if table.num_rows == 0:
            continue
        columns = [c for c in engine.columns(event_type) if c in table.column_names]
        ordered = table.select(columns).sort_by([("received_at", "ascending"), ("event_id", "ascending")])
        received = np.asarray(
            ordered.column("received_at").cast(_TIMESTAMP).cast(pa.int64()).fill_null(0).to_numpy(),
            dtype=np.int64,
        )
        prepared.append((event_type, ordered, received))
    if not prepared:
        return 0
    first = min(int(received[0]) for _, _, received in prepared)
    last = max(int(received[-1]) for _, _, received in prepared)
    step = (last - first + 1) if slice_seconds is None else slice_seconds * MICROSECONDS_PER_SECOND
    shuffler = random.Random(shuffle_seed)
    changed = 0
    for low in range(first, last + 1, step):
        if batched:
            for event_type, ordered, received in prepared:
                start, stop = np.searchsorted(received, [low, low + step], side="left")
                part = ordered.slice(int(start), int(stop - start))
                if shuffle_seed is not None and part.num_rows > 1:
                    order = list(range(part.num_rows))
                    shuffler.shuffle(order)
                    part = part.take(pa.array(order))
                changed += engine.apply_table(event_type, part)
            continue
        rows: list[tuple[str, dict[str, object]]] = []
        for event_type, ordered, received in prepared:
            start, stop = np.searchsorted(received, [low, low + step], side="left")
            rows.extend((event_type, row) for row in ordered.slice(int(start), int(stop - start)).to_pylist())
        if shuffle_seed is None:
            rows.sort(key=lambda item: (item[1]["received_at"], item[1]["event_id"]))
        else:
            shuffler.shuffle(rows)
        changed += sum(engine.apply_row(event_type, row) for event_type, row in rows)
    return changed


def compare(
    feature_set: FeatureSet,
    engine: OnlineFeatureEngine,
    entity: Entity,
    keys: pa.Table,
    offline: pa.Table,
) -> list[FeatureParity]:
    """Read ``engine`` at every key and compare with the backfilled table ``offline`` feature by feature."""
    if keys.num_rows > bounds.parity_keys_max:
        raise BoundExceededError("parity_keys_max", bounds.parity_keys_max, keys.num_rows)
    specs = feature_set.for_entity(entity)
    entity_ids = keys.column(KEY_ENTITY).to_pylist()
    instants = keys.column(KEY_AS_OF).to_pylist()
    online_rows = [
        engine.read(entity.value, entity_id, as_of).values
        for entity_id, as_of in zip(entity_ids, instants, strict=True)
    ]
    results = []
    for spec in specs:
        exact = spec.aggregation in EXACT_AGGREGATIONS
        offline_values = offline.column(spec.name).to_pylist()
        mismatches = 0
        worst = 0.0
        first: Mismatch | None = None
        for index, offline_value in enumerate(offline_values):
            online_value = online_rows[index][spec.name]
            agrees, difference = values_agree(online_value, offline_value, exact)
            worst = max(worst, difference)
            if not agrees:
                mismatches += 1
                if first is None:
                    first = Mismatch(
                        entity_ids[index], to_microseconds(instants[index]), online_value, offline_value
                    )
        results.append(FeatureParity(spec.name, entity, exact, len(offline_values), mismatches, worst, first))
    return results


def run_parity(
    feature_set: FeatureSet,
    tables: Mapping[str, pa.Table],
    *,
    entities: Iterable[Entity] | None = None,
    keys_per_entity: int = 2_000,
    shuffle_seed: int | None = None,
    lake_dir: Path | None = None,
    seed: int = 0,
    slice_seconds: int | None = None,
) -> list[FeatureParity]:
    """Feed ``tables`` to a fresh online engine, backfill the same events offline (from ``lake_dir`` when
    given, else from ``tables``) at edge keys, and compare every feature of every entity. ``slice_seconds``
    bounds how far arrival order is shuffled (see :func:`feed_online`)."""
    chosen: Sequence[Entity] = tuple(entities) if entities is not None else feature_set.entities
    if set(chosen) != set(feature_set.entities):  # hold only the state the chosen entities need
        feature_set = FeatureSet(tuple(s for s in feature_set if s.entity in chosen))
    engine = OnlineFeatureEngine(feature_set)
    feed_online(engine, tables, shuffle_seed=shuffle_seed, slice_seconds=slice_seconds)
    results: list[FeatureParity] = []
    for entity in chosen:
        keys = edge_keys(feature_set, entity, tables, keys_max=keys_per_entity, seed=seed)
        if lake_dir is not None:
            offline = backfill(feature_set, entity, keys, lake_dir=lake_dir)
        else:
            offline = backfill(feature_set, entity, keys, tables=tables)
        results.extend(compare(feature_set, engine, entity, keys, offline))
    return results


# -- parity (a): reads that decisions made, recomputed offline at the logged keys and times ----------------


@dataclass(frozen=True, slots=True)
class LoggedRead:
    """One feature read a decision made: who, as of when, and the values it got."""

    entity: Entity
    entity_id: str
    as_of_us: int
    values: Mapping[str, FeatureValue]


class RecordingReader:
    """A ``FeatureReader`` that passes reads to ``reader`` and remembers each one (bounded by
    ``bounds.parity_keys_max``; the oldest are dropped beyond it)."""

    def __init__(self, reader: FeatureReader) -> None:
        self._reader = reader
        self._reads: deque[LoggedRead] = deque(maxlen=bounds.parity_keys_max)

    def read(
        self, entity_type: str, entity_id: str, as_of: datetime, names: Sequence[str] | None = None
    ) -> FeatureVector:
        vector = self._reader.read(entity_type, entity_id, as_of, names)
        self._reads.append(
            LoggedRead(parse_entity(entity_type), entity_id, to_microseconds(as_of), dict(vector.values))
        )
        return vector

    @property
    def reads(self) -> tuple[LoggedRead, ...]:
        return tuple(self._reads)


def check_logged_reads(
    feature_set: FeatureSet,
    reads: Sequence[LoggedRead],
    *,
    lake_dir: Path | None = None,
    tables: Mapping[str, pa.Table] | None = None,
) -> list[FeatureParity]:
    """Recompute every logged read offline at its key and time and compare, feature by feature, under the
    same agreement rule as the random streams."""
    if len(reads) > bounds.parity_keys_max:
        raise BoundExceededError("parity_keys_max", bounds.parity_keys_max, len(reads))
    results: list[FeatureParity] = []
    for entity in feature_set.entities:
        logged = [read for read in reads if read.entity is entity]
        if not logged:
            continue
        names = [s.name for s in feature_set.for_entity(entity) if any(s.name in r.values for r in logged)]
        keys = pa.table(
            {
                KEY_ENTITY: pa.array([r.entity_id for r in logged], type=pa.string()),
                KEY_AS_OF: pa.array([r.as_of_us for r in logged], type=pa.int64()).cast(_TIMESTAMP),
            }
        )
        offline = backfill(feature_set, entity, keys, lake_dir=lake_dir, tables=tables, names=names)
        for name in names:
            exact = feature_set.get(name).aggregation in EXACT_AGGREGATIONS
            recomputed = offline.column(name).to_pylist()
            compared = mismatches = 0
            worst = 0.0
            first: Mismatch | None = None
            for read, offline_value in zip(logged, recomputed, strict=True):
                if name not in read.values:
                    continue
                compared += 1
                agrees, difference = values_agree(read.values[name], offline_value, exact)
                worst = max(worst, difference)
                if not agrees:
                    mismatches += 1
                    if first is None:
                        first = Mismatch(read.entity_id, read.as_of_us, read.values[name], offline_value)
            results.append(FeatureParity(name, entity, exact, compared, mismatches, worst, first))
    return results
