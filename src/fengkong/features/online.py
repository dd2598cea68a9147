"""The online engine: per-entity state updated event by event, read as a :class:`FeatureVector`.

State. For every *source* of the feature set (an event type, the column holding the entity, the value column
and the filters — :class:`fengkong.features.spec.Source`) and every entity ID, the engine keeps a log of the
events that passed the source's filters: receipt times (µs), event IDs and values, sorted by
``(received_at, event_id)``, with running prefix sums of the value and of its non-null count. A read finds a
window's two edges by binary search, so count, sum and mean cost O(log n); min, max and last scan the
window's slice; distinct counts read at the present use an index of each value's latest receipt. This is
**exact per-event state, not tiles**: every event inside the longest window of its source is kept, which is
what makes parity with the offline engine exact at every window edge. The tile design (an exact head
plus a tiled tail, ``docs/features.md``) is the plan for long windows on Redis, where memory per entity
matters; it is not built yet.

Idempotence. An event ID counts once. When two copies of one event arrive with different ``received_at``,
the earliest counts, whatever order they arrive in (the later-arriving earlier copy replaces the other;
copies of one event carry the same content, so it names the logs to correct). Each ID's earliest receipt
is remembered for ``bounds.online_dedup_retention_days``.

Late and out-of-order events are placed by ``received_at``: an event received earlier than events already
applied is inserted at its place, so reads at any retained instant give the same answer as the offline
engine whatever the arrival order. :meth:`OnlineFeatureEngine.evict` drops state older than every window
needs at or after an instant; a read before that instant is refused rather than answered wrongly.

The layout moves to Redis as is: one sorted set per (source hash, entity) scored by receipt time, with the
event ID and value as member, and the dedup set keyed by event ID; the in-process engine refuses to run when
configured for more than one replica, since each replica would see only part of the stream.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import accumulate, islice, pairwise
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fengkong import bounds
from fengkong.domain.events import EVENT_TYPES, Event, attribute_column, subject_column
from fengkong.domain.features import FeatureValue, FeatureVector
from fengkong.errors import BoundExceededError, InputError
from fengkong.features.spec import (
    SECONDS_PER_DAY,
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
    sources_of,
)
from fengkong.features.windows import MICROSECONDS_PER_SECOND, to_microseconds, window_start_us

Row = Mapping[str, object]
Value = int | str | bool | None
_RETENTION_US: Final = bounds.online_dedup_retention_days * SECONDS_PER_DAY * MICROSECONDS_PER_SECOND


def _predicate(flt: Filter) -> Callable[[object], bool]:
    values = flt.values
    target = values[0]
    op = flt.operator
    if op is Operator.IN:
        allowed = frozenset(values)
        return lambda v: v is not None and v in allowed
    if op is Operator.EQ:
        return lambda v: v is not None and v == target
    if op is Operator.NE:
        return lambda v: v is not None and v != target
    if not isinstance(target, int):
        raise InputError(f"{op.value} compares integers", field=flt.column)
    bound = int(target)
    if op is Operator.LT:
        return lambda v: isinstance(v, int) and v < bound
    if op is Operator.LE:
        return lambda v: isinstance(v, int) and v <= bound
    if op is Operator.GT:
        return lambda v: isinstance(v, int) and v > bound
    return lambda v: isinstance(v, int) and v >= bound


def _mask(flt: Filter, table: pa.Table) -> pa.ChunkedArray | pa.Array:
    """The rows of ``table`` that pass ``flt``, as a boolean array (null never passes): the same test as
    :func:`_predicate`, vectorised for :meth:`OnlineFeatureEngine.apply_table`."""
    column = table.column(flt.column)
    values = flt.values
    op = flt.operator
    if op is Operator.IN:
        result = pc.is_in(column, value_set=pa.array(values, type=column.type))
    elif op is Operator.EQ:
        result = pc.equal(column, pa.scalar(values[0], type=column.type))
    elif op is Operator.NE:
        result = pc.not_equal(column, pa.scalar(values[0], type=column.type))
    else:
        if not isinstance(values[0], int) or not pa.types.is_integer(column.type):
            raise InputError(f"{op.value} compares integers", field=flt.column)
        compare = {
            Operator.LT: pc.less,
            Operator.LE: pc.less_equal,
            Operator.GT: pc.greater,
            Operator.GE: pc.greater_equal,
        }[op]
        result = compare(column, pa.scalar(values[0], type=column.type))
    return pc.fill_null(pc.and_kleene(result, pc.is_valid(column)), False)


@dataclass(slots=True)
class _LatestByValue:
    """For distinct counts read at the present: the latest receipt of each distinct value, and those
    receipts sorted. At a read no earlier than the log's newest event, the distinct values in a window
    are exactly those whose latest receipt falls inside it — a binary search instead of a scan."""

    latest: dict[Value, int] = field(default_factory=dict)
    sorted_latest: list[int] = field(default_factory=list)

    def saw(self, value: Value, received_us: int) -> None:
        if value is None:
            return
        previous = self.latest.get(value)
        if previous is not None:
            if previous >= received_us:
                return
            del self.sorted_latest[bisect_left(self.sorted_latest, previous)]
        self.latest[value] = received_us
        insort(self.sorted_latest, received_us)

    def forget(self, value: Value, received_us: int, log: _Log) -> None:
        """``value`` received at ``received_us`` left ``log``: find its new latest receipt, if any."""
        if value is None or self.latest.get(value) != received_us:
            return
        del self.sorted_latest[bisect_left(self.sorted_latest, received_us)]
        del self.latest[value]
        for index in range(len(log.values) - 1, -1, -1):
            if log.values[index] == value:
                self.saw(value, log.times[index])
                return

    def drop_through(self, cutoff_us: int, dropped: list[Value]) -> None:
        for value in dropped:
            latest = self.latest.get(value) if value is not None else None
            if latest is not None and latest <= cutoff_us:
                del self.latest[value]
        del self.sorted_latest[: bisect_right(self.sorted_latest, cutoff_us)]

    def count_after(self, start_us: int, inclusive: bool) -> int:
        cut = (
            bisect_left(self.sorted_latest, start_us)
            if inclusive
            else bisect_right(self.sorted_latest, start_us)
        )
        return len(self.sorted_latest) - cut


@dataclass(slots=True)
class _Log:
    """The events of one source for one entity, sorted by (received_at µs, event_id)."""

    times: list[int] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    values: list[Value] = field(default_factory=list)
    prefix_sum: list[int] = field(default_factory=lambda: [0])  # of integer values (None counts 0)
    prefix_present: list[int] = field(default_factory=lambda: [0])  # of non-null values
    # Prefix entries after index ``stale_from`` are out of date after an insertion or removal in the middle;
    # they are rebuilt once, on the next read, so a burst of out-of-order arrivals costs one pass.
    stale_from: int | None = None
    latest_by_value: _LatestByValue | None = None  # kept for sources read by single-source distinct counts

    def insert(self, received_us: int, event_id: str, value: Value) -> None:
        times = self.times
        if not times or received_us > times[-1] or (received_us == times[-1] and event_id > self.ids[-1]):
            position = len(times)
        else:
            low = bisect_left(times, received_us)
            high = bisect_right(times, received_us)
            position = bisect_left(self.ids, event_id, low, high)
        if len(times) >= bounds.online_events_per_entity_max:
            raise BoundExceededError(
                "online_events_per_entity_max", bounds.online_events_per_entity_max, len(times) + 1
            )
        times.insert(position, received_us)
        self.ids.insert(position, event_id)
        self.values.insert(position, value)
        if self.latest_by_value is not None:
            self.latest_by_value.saw(value, received_us)
        increment = value if isinstance(value, int) and not isinstance(value, bool) else 0
        present = 0 if value is None else 1
        if position == len(times) - 1 and self.stale_from is None:
            self.prefix_sum.append(self.prefix_sum[-1] + increment)
            self.prefix_present.append(self.prefix_present[-1] + present)
        else:
            self.prefix_sum.append(0)
            self.prefix_present.append(0)
            self._mark_stale(position)

    def extend_sorted(self, times: list[int], ids: list[str], values: list[Value]) -> None:
        """Append events sorted by (received µs, event ID), all after the log's last event: the batch
        path's fast case, the same state as inserting them one by one."""
        if len(self.times) + len(times) > bounds.online_events_per_entity_max:
            raise BoundExceededError(
                "online_events_per_entity_max",
                bounds.online_events_per_entity_max,
                len(self.times) + len(times),
            )
        if self.stale_from is not None:
            self.refresh()
        self.times.extend(times)
        self.ids.extend(ids)
        self.values.extend(values)
        if self.latest_by_value is not None:
            saw = self.latest_by_value.saw
            for value, received_us in zip(values, times, strict=True):
                saw(value, received_us)
        self.prefix_sum.extend(
            islice(
                accumulate(
                    (v if isinstance(v, int) and not isinstance(v, bool) else 0 for v in values),
                    initial=self.prefix_sum[-1],
                ),
                1,
                None,
            )
        )
        self.prefix_present.extend(
            islice(
                accumulate((0 if v is None else 1 for v in values), initial=self.prefix_present[-1]), 1, None
            )
        )

    def after_last(self, received_us: int, event_id: str) -> bool:
        """Whether an event at (``received_us``, ``event_id``) sorts after every event held."""
        if not self.times:
            return True
        last = self.times[-1]
        return received_us > last or (received_us == last and event_id > self.ids[-1])

    def remove(self, received_us: int, event_id: str) -> None:
        low = bisect_left(self.times, received_us)
        high = bisect_right(self.times, received_us)
        position = bisect_left(self.ids, event_id, low, high)
        if position >= high or self.ids[position] != event_id:
            return
        value = self.values[position]
        del self.times[position], self.ids[position], self.values[position]
        self.prefix_sum.pop()
        self.prefix_present.pop()
        self._mark_stale(position)
        if self.latest_by_value is not None:
            self.latest_by_value.forget(value, received_us, self)

    def _mark_stale(self, position: int) -> None:
        self.stale_from = position if self.stale_from is None else min(self.stale_from, position)

    def refresh(self) -> None:
        """Bring the prefix sums up to date (after out-of-order insertions or removals)."""
        if self.stale_from is None:
            return
        position = self.stale_from
        self.stale_from = None
        running_sum = self.prefix_sum[position]
        running_present = self.prefix_present[position]
        for index in range(position, len(self.times)):
            value = self.values[index]
            if value is not None:
                running_present += 1
                if isinstance(value, int) and not isinstance(value, bool):
                    running_sum += value
            self.prefix_sum[index + 1] = running_sum
            self.prefix_present[index + 1] = running_present

    def drop_through(self, cutoff_us: int) -> None:
        """Forget events received at or before ``cutoff_us``."""
        self.refresh()
        cut = bisect_right(self.times, cutoff_us)
        if cut:
            if self.latest_by_value is not None:
                self.latest_by_value.drop_through(cutoff_us, self.values[:cut])
            del self.times[:cut], self.ids[:cut], self.values[:cut]
            self.prefix_sum = self.prefix_sum[cut:]
            self.prefix_present = self.prefix_present[cut:]

    def span(self, window: Window, as_of_us: int) -> tuple[int, int]:
        if self.stale_from is not None:
            self.refresh()
        start, inclusive = window_start_us(window, as_of_us)
        low = bisect_left(self.times, start) if inclusive else bisect_right(self.times, start)
        return low, bisect_right(self.times, as_of_us)


@dataclass(frozen=True, slots=True)
class _CompiledSource:
    index: int
    source: Source
    predicates: tuple[tuple[str, Callable[[object], bool]], ...]


_NOT_YET: Final = object()  # a span not yet looked up in this read
_ZERO_WHEN_EMPTY: Final = frozenset({Aggregation.COUNT, Aggregation.SUM, Aggregation.DISTINCT_COUNT})


@dataclass(frozen=True, slots=True)
class _PlannedMeasure:
    aggregation: Aggregation
    window: Window
    window_id: int
    sources: tuple[int, ...]  # source numbers
    span_keys: tuple[tuple[int, int], ...]  # (source, window id) per source: the read's span cache keys
    rolling_us: int | None  # a rolling window's length in µs (None for calendar windows)


@dataclass(frozen=True, slots=True)
class PlannedFeature:
    """A feature of a read plan and how it is finished from the measures (both online engines use it)."""

    name: str
    aggregation: Aggregation
    measures: tuple[int, ...]  # positions in the plan's measures
    seconds: tuple[int, ...]  # growth: the short and long window lengths


@dataclass(frozen=True, slots=True)
class _ReadPlan:
    features: tuple[PlannedFeature, ...]
    measures: tuple[_PlannedMeasure, ...]


class OnlineFeatureEngine:
    """Exact incremental feature state in this process. Implements ``FeatureReader``.

    ``replicas`` is how many API replicas the deployment runs; the in-process engine refuses more than one.
    """

    def __init__(self, feature_set: FeatureSet, *, replicas: int = 1) -> None:
        if replicas != 1:
            raise InputError(
                f"the in-process online engine keeps feature state in one process; with {replicas} replicas "
                "each would count only the events it saw. Run one replica, or the Redis backend",
                field="replicas",
            )
        self.feature_set = feature_set
        sources = sources_of(feature_set)
        self._source_index: dict[Source, int] = {source: i for i, source in enumerate(sources)}
        by_type: dict[str, list[_CompiledSource]] = {}
        for index, source in enumerate(sources):
            predicates = tuple((flt.column, _predicate(flt)) for flt in source.filters)
            by_type.setdefault(source.event_type, []).append(_CompiledSource(index, source, predicates))
        self._by_type = {event_type: tuple(items) for event_type, items in by_type.items()}
        self._distinct_sources = frozenset(
            self._source_index[s]
            for spec in feature_set
            for m in spec.measures
            if m.aggregation is Aggregation.DISTINCT_COUNT
            for s in m.sources
        )
        self._logs: dict[tuple[int, str], _Log] = {}
        self._seen: dict[str, int] = {}  # event ID -> earliest receipt (µs)
        self._seen_oldest_us: int | None = None  # a lower bound on remembered receipts (evict: skip the scan)
        self._evicted_through_us: int | None = None  # no read may see events received at or before this
        self._evicted_at_us: int | None = None  # reads before this instant are refused
        self._horizon_us = {
            index: max(
                m.window.horizon_seconds
                for spec in feature_set
                for m in spec.measures
                for s in m.sources
                if s == source
            )
            * MICROSECONDS_PER_SECOND
            for source, index in self._source_index.items()
        }
        self._specs_by_entity = {entity: feature_set.for_entity(entity) for entity in feature_set.entities}
        self._window_ids: dict[Window, int] = {}
        self._plans: dict[tuple[Entity, tuple[str, ...] | None], _ReadPlan] = {}

    # -- updates ---------------------------------------------------------------------------------------

    def columns(self, event_type: str) -> tuple[str, ...]:
        """The columns of ``event_type`` rows this engine reads (the rest of a row may be left out)."""
        names = ["event_id", "received_at"]
        for compiled in self._by_type.get(event_type, ()):
            names.extend(compiled.source.columns)
        return tuple(dict.fromkeys(names))

    def apply(self, event: Event) -> bool:
        """Apply one validated event; False when it is a duplicate that changes nothing."""
        return self.apply_row(event.event_type, event_row(event))

    def apply_row(self, event_type: str, row: Row) -> bool:
        """Apply one event given as a row in ``column_layout(event_type)`` (a dict of column → value)."""
        if event_type not in EVENT_TYPES:
            raise InputError(f"unknown event type {event_type!r}", field="event_type")
        event_id = row.get("event_id")
        received_at = row.get("received_at")
        if not isinstance(event_id, str) or not event_id:
            raise InputError("every event has an event_id", field="event_id")
        if not isinstance(received_at, datetime):
            raise InputError("every event has a received_at timestamp", field="received_at")
        received_us = to_microseconds(received_at, "received_at")
        earlier_us = self._seen.get(event_id)
        if earlier_us is not None and earlier_us <= received_us:
            return False
        self._seen[event_id] = received_us
        if self._seen_oldest_us is None or received_us < self._seen_oldest_us:
            self._seen_oldest_us = received_us
        too_old = self._evicted_through_us is not None and received_us <= self._evicted_through_us
        for compiled in self._by_type.get(event_type, ()):
            entity_id = row.get(compiled.source.entity_column)
            if entity_id is None:
                continue
            if not all(test(row.get(column)) for column, test in compiled.predicates):
                continue
            key = (compiled.index, str(entity_id))
            found = self._logs.get(key)
            if earlier_us is not None and found is not None:
                # An earlier copy arrived late: it replaces the one counted. Copies of one event carry the
                # same content, so this copy names the logs the first one went to.
                found.remove(earlier_us, event_id)
            if too_old:
                continue  # too old for any window a permitted read can see
            if found is None:
                if len(self._logs) >= bounds.online_entities_max:
                    raise BoundExceededError(
                        "online_entities_max", bounds.online_entities_max, len(self._logs) + 1
                    )
                found = self._logs[key] = _Log()
                if compiled.index in self._distinct_sources:
                    found.latest_by_value = _LatestByValue()
            value_column = compiled.source.value_column
            value = row.get(value_column) if value_column is not None else None
            found.insert(received_us, event_id, value if isinstance(value, int | str | bool) else None)
        return not too_old

    def apply_table(self, event_type: str, table: pa.Table) -> int:
        """Apply a batch of events of one type given as a table in the lake layout; returns how many changed
        state, exactly as :meth:`apply_row` on each row in any order would.

        The fast path is vectorised per source: rows are filtered with Arrow, sorted by (entity, receipt,
        event ID) and appended to each entity's log in one step when they all sort after what it holds (the
        usual case for a stream fed in receipt order). Rows whose event ID was seen before (here or earlier
        in the batch), that arrive behind an entity's log or behind an eviction take :meth:`apply_row`."""
        if event_type not in EVENT_TYPES:
            raise InputError(f"unknown event type {event_type!r}", field="event_type")
        if table.num_rows == 0:
            return 0
        for name in ("event_id", "received_at"):
            if name not in table.column_names or table.column(name).null_count:
                raise InputError(f"every event has a non-null {name}", field=name)
        if not pa.types.is_timestamp(table.column("received_at").type):
            raise InputError("received_at must be a timestamp column", field="received_at")
        received = table.column("received_at").cast(pa.timestamp("us", tz="UTC")).cast(pa.int64())
        received_list: list[int] = received.to_pylist()
        id_list: list[str] = table.column("event_id").to_pylist()
        seen = self._seen
        evicted = self._evicted_through_us
        fast = [True] * len(id_list)
        slow: list[int] = []
        for position, (event_id, received_us) in enumerate(zip(id_list, received_list, strict=True)):
            if not event_id or event_id in seen or (evicted is not None and received_us <= evicted):
                fast[position] = False
                slow.append(position)
            else:
                seen[event_id] = received_us
        # the batch's earliest receipt bounds the remembered ones from below (a bound is all evict needs)
        oldest = pc.min(received).as_py()
        if oldest is not None and (self._seen_oldest_us is None or oldest < self._seen_oldest_us):
            self._seen_oldest_us = oldest
        changed = len(id_list) - len(slow)
        fast_mask = pa.array(fast) if slow else None
        base = table.append_column("_received_us", received)
        for compiled in self._by_type.get(event_type, ()):
            source = compiled.source
            entity_column = source.entity_column
            if entity_column not in base.column_names:
                continue
            mask = pc.is_valid(base.column(entity_column))
            if fast_mask is not None:
                mask = pc.and_(mask, fast_mask)
            for flt in source.filters:
                mask = pc.and_(mask, _mask(flt, base))
            chosen = base.filter(mask)
            if chosen.num_rows == 0:
                continue
            value_column = source.value_column
            columns = [entity_column, "_received_us", "event_id"]
            if value_column is not None:
                columns.append(value_column)
            chosen = chosen.select(columns).sort_by(
                [(entity_column, "ascending"), ("_received_us", "ascending"), ("event_id", "ascending")]
            )
            entity_array = chosen.column(entity_column).cast(pa.string())
            entities: list[str] = entity_array.to_pylist()
            times: list[int] = chosen.column("_received_us").to_pylist()
            ids: list[str] = chosen.column("event_id").to_pylist()
            value_type = chosen.column(value_column).type if value_column is not None else None
            if value_column is None:
                values: list[Value] = [None] * len(ids)
            elif (
                pa.types.is_integer(value_type)
                or pa.types.is_string(value_type)
                or pa.types.is_boolean(value_type)
            ):
                values = chosen.column(value_column).to_pylist()
            else:  # other types are not values a feature reads (as in apply_row)
                values = [None] * len(ids)
            # where each entity's run of rows starts (the rows are sorted by entity)
            entity_codes = np.asarray(
                pc.dictionary_encode(entity_array).combine_chunks().indices, dtype=np.int64
            )
            starts = np.flatnonzero(np.diff(entity_codes, prepend=-1)).tolist()
            starts.append(len(entities))
            logs = self._logs
            index = compiled.index
            distinct = index in self._distinct_sources
            per_entity_max = bounds.online_events_per_entity_max
            for start, stop in pairwise(starts):
                key = (index, entities[start])
                log = logs.get(key)
                if log is None:
                    if len(logs) >= bounds.online_entities_max:
                        raise BoundExceededError(
                            "online_entities_max", bounds.online_entities_max, len(logs) + 1
                        )
                    log = logs[key] = _Log()
                    if distinct:
                        log.latest_by_value = _LatestByValue()
                held = log.times
                first_us = times[start]
                in_order = log.stale_from is None and (
                    not held or first_us > held[-1] or (first_us == held[-1] and ids[start] > log.ids[-1])
                )
                if in_order and stop - start == 1 and len(held) < per_entity_max:
                    # one new event after the rest: the commonest case of a daily batch, inlined
                    value = values[start]
                    held.append(first_us)
                    log.ids.append(ids[start])
                    log.values.append(value)
                    prefix_sum = log.prefix_sum
                    prefix_sum.append(prefix_sum[-1] + (value if type(value) is int else 0))
                    prefix_present = log.prefix_present
                    prefix_present.append(prefix_present[-1] + (value is not None))
                    if log.latest_by_value is not None:
                        log.latest_by_value.saw(value, first_us)
                elif in_order:
                    log.extend_sorted(times[start:stop], ids[start:stop], values[start:stop])
                else:
                    for position in range(start, stop):
                        log.insert(times[position], ids[position], values[position])
        if slow:
            rows = table.take(pa.array(slow)).to_pylist()
            changed += sum(self.apply_row(event_type, row) for row in rows)
        return changed

    def evict(self, now: datetime) -> int:
        """Drop events older than any window of a read at or after ``now`` can reach, and event IDs older
        than the dedup retention. Returns how many log entries were dropped. Reads before ``now`` are
        refused afterwards (a source with short windows keeps less history than one with long windows)."""
        now_us = to_microseconds(now, "now")
        dropped = 0
        horizon = max(self._horizon_us.values(), default=0)
        for (index, _), log in list(self._logs.items()):
            before = len(log.times)
            log.drop_through(now_us - self._horizon_us[index])
            dropped += before - len(log.times)
        self._logs = {key: log for key, log in self._logs.items() if log.times}
        retained_after_us = now_us - _RETENTION_US
        if self._seen_oldest_us is not None and self._seen_oldest_us <= retained_after_us:
            self._seen = {k: v for k, v in self._seen.items() if v > retained_after_us}
            self._seen_oldest_us = min(self._seen.values(), default=None)
        cutoff = now_us - horizon
        if self._evicted_through_us is None or cutoff > self._evicted_through_us:
            self._evicted_through_us = cutoff
        if self._evicted_at_us is None or now_us > self._evicted_at_us:
            self._evicted_at_us = now_us
        return dropped

    # -- reads -----------------------------------------------------------------------------------------

    def read(
        self, entity_type: str, entity_id: str, as_of: datetime, names: Sequence[str] | None = None
    ) -> FeatureVector:
        """The features of one entity as known at ``as_of`` (events received after it never count)."""
        entity = parse_entity(entity_type)
        as_of_us = to_microseconds(as_of, "as_of")
        if names is None:
            specs = self._specs_by_entity.get(entity, ())
        else:
            if len(names) > bounds.online_read_features_max:
                raise BoundExceededError(
                    "online_read_features_max", bounds.online_read_features_max, len(names)
                )
            specs = self.feature_set.for_entity(entity, names)
        if self._evicted_at_us is not None and as_of_us < self._evicted_at_us:
            raise InputError(
                "as_of is before the engine's last eviction: events its windows need may be gone",
                field="as_of",
            )
        plan = self._plan(entity, specs if names is not None else None)
        spans: dict[tuple[int, int], tuple[_Log, int, int] | None] = {}
        measured = [self._measure(m, entity_id, as_of_us, spans) for m in plan.measures]
        values = finish_features(plan.features, measured)
        return FeatureVector(entity.value, entity_id, as_of, values, self.feature_set.version)

    def _plan(self, entity: Entity, specs: tuple[FeatureSpec, ...] | None) -> _ReadPlan:
        """The read plan of an entity's features (all, or ``specs``), compiled once and cached: measures
        shared between features are computed once, sources and windows are numbered."""
        key = (entity, None if specs is None else tuple(spec.name for spec in specs))
        plan = self._plans.get(key)
        if plan is not None:
            return plan
        chosen = self._specs_by_entity.get(entity, ()) if specs is None else specs
        measure_ids: dict[Measure, int] = {}
        features = []
        for spec in chosen:
            ids = tuple(measure_ids.setdefault(m, len(measure_ids)) for m in spec.measures)
            seconds = (
                tuple(m.window.length for m in spec.measures)
                if spec.aggregation is Aggregation.GROWTH
                else ()
            )
            features.append(PlannedFeature(spec.name, spec.aggregation, ids, seconds))
        measures = []
        for m in measure_ids:
            window_id = self._window_ids.setdefault(m.window, len(self._window_ids))
            sources = tuple(self._source_index[s] for s in m.sources)
            rolling_us = (
                m.window.length * MICROSECONDS_PER_SECOND if m.window.kind is WindowKind.ROLLING else None
            )
            measures.append(
                _PlannedMeasure(
                    m.aggregation,
                    m.window,
                    window_id,
                    sources,
                    tuple((source, window_id) for source in sources),
                    rolling_us,
                )
            )
        if len(self._plans) >= bounds.online_read_plans_max:
            self._plans.clear()
        plan = self._plans[key] = _ReadPlan(tuple(features), tuple(measures))
        return plan

    def _measure(
        self,
        measure: _PlannedMeasure,
        entity_id: str,
        as_of_us: int,
        span_cache: dict[tuple[int, int], tuple[_Log, int, int] | None],
    ) -> FeatureValue:
        spans: list[tuple[_Log, int, int]] = []
        for key in measure.span_keys:
            found = span_cache.get(key, _NOT_YET)
            if found is _NOT_YET:
                found = None
                log = self._logs.get((key[0], entity_id))
                if log is not None and log.times:
                    if log.stale_from is not None:
                        log.refresh()
                    times = log.times
                    if measure.rolling_us is not None:
                        low = bisect_right(times, as_of_us - measure.rolling_us)
                    else:
                        start, _ = window_start_us(measure.window, as_of_us)
                        low = bisect_left(times, start)
                    high = bisect_right(times, as_of_us)
                    if high > low:
                        found = (log, low, high)
                span_cache[key] = found
            if found is not None:
                spans.append(found)  # type: ignore[arg-type]
        aggregation = measure.aggregation
        if len(spans) <= 1:  # one log in the window: the common case, without generator overhead
            if not spans:
                return 0 if aggregation in _ZERO_WHEN_EMPTY else None
            log, low, high = spans[0]
            if aggregation is Aggregation.COUNT:
                return high - low
            if aggregation is Aggregation.SUM:
                return log.prefix_sum[high] - log.prefix_sum[low]
            if aggregation is Aggregation.MEAN:
                present = log.prefix_present[high] - log.prefix_present[low]
                return (log.prefix_sum[high] - log.prefix_sum[low]) / present if present else None
            if aggregation is Aggregation.TIME_SINCE_LAST:
                return (as_of_us - log.times[high - 1]) / MICROSECONDS_PER_SECOND
            if (
                aggregation is Aggregation.DISTINCT_COUNT
                and log.latest_by_value is not None
                and as_of_us >= log.times[-1]
            ):
                return log.latest_by_value.count_after(*window_start_us(measure.window, as_of_us))
        if aggregation is Aggregation.COUNT:
            return sum(high - low for _, low, high in spans)
        if aggregation is Aggregation.SUM:
            return sum(log.prefix_sum[high] - log.prefix_sum[low] for log, low, high in spans)
        if aggregation is Aggregation.MEAN:
            present = sum(log.prefix_present[high] - log.prefix_present[low] for log, low, high in spans)
            total = sum(log.prefix_sum[high] - log.prefix_sum[low] for log, low, high in spans)
            return total / present if present else None
        if aggregation is Aggregation.MIN or aggregation is Aggregation.MAX:
            present_values = [
                v for log, low, high in spans for v in log.values[low:high] if isinstance(v, int)
            ]
            if not present_values:
                return None
            return int(min(present_values) if aggregation is Aggregation.MIN else max(present_values))
        if aggregation is Aggregation.DISTINCT_COUNT:
            if len(spans) == 1:
                log, low, high = spans[0]
                distinct = set(log.values[low:high])
            else:
                distinct = {v for log, low, high in spans for v in log.values[low:high]}
            distinct.discard(None)
            return len(distinct)
        if aggregation is Aggregation.LAST:
            return _last(spans)
        if aggregation is Aggregation.TIME_SINCE_LAST:
            latest = max((log.times[high - 1] for log, _, high in spans), default=None)
            return None if latest is None else (as_of_us - latest) / MICROSECONDS_PER_SECOND
        raise InputError(f"{aggregation.value} is not a measure", field="aggregation")

    @property
    def event_ids_remembered(self) -> int:
        return len(self._seen)

    @property
    def entries(self) -> int:
        return sum(len(log.times) for log in self._logs.values())


def _last(spans: list[tuple[_Log, int, int]]) -> FeatureValue:
    best: tuple[int, str] | None = None
    best_value: FeatureValue = None
    for log, low, high in spans:
        for index in range(high - 1, low - 1, -1):
            value = log.values[index]
            if value is None:
                continue
            key = (log.times[index], log.ids[index])
            if best is None or key > best:
                best = key
                best_value = int(value) if isinstance(value, int) else None
            break
    return best_value


def finish_features(
    features: Sequence[PlannedFeature], measured: Sequence[FeatureValue]
) -> dict[str, FeatureValue]:
    """Each planned feature's value from the measured aggregates: ratios and growth are finished here."""
    values: dict[str, FeatureValue] = {}
    for feature in features:
        if feature.aggregation is Aggregation.RATIO:
            values[feature.name] = finish_ratio(measured[feature.measures[0]], measured[feature.measures[1]])
        elif feature.aggregation is Aggregation.GROWTH:
            short_seconds, long_seconds = feature.seconds
            values[feature.name] = finish_growth(
                measured[feature.measures[0]], measured[feature.measures[1]], short_seconds, long_seconds
            )
        else:
            values[feature.name] = measured[feature.measures[0]]
    return values


def finish_ratio(numerator: FeatureValue, denominator: FeatureValue) -> float | None:
    """``numerator / denominator``; None when either is None or the denominator is 0."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return float(numerator / denominator)


def finish_growth(
    short: FeatureValue, long: FeatureValue, short_seconds: int, long_seconds: int
) -> float | None:
    """(short / short window) / (long / long window): above 1 when the recent rate is higher."""
    if short is None or long is None or long == 0:
        return None
    value = (short * long_seconds) / (long * short_seconds)
    return value if math.isfinite(value) else None


def event_row(event: Event) -> dict[str, object]:
    """An :class:`Event` as a row in ``column_layout(event.event_type)``."""
    row: dict[str, object] = {
        "event_id": event.event_id,
        "event_type": event.event_type,
        "occurred_at": event.occurred_at,
        "received_at": event.received_at,
        "source": event.source,
    }
    for subject in event.subjects:
        row[subject_column(subject.role)] = subject.party_id
    for attribute in event.spec.attributes:
        row[attribute_column(attribute)] = event.attributes.get(attribute.name)
    return row
