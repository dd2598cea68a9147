"""The Redis online feature backend: per-entity state shared by many API replicas.

State. For every *source* of the feature set (event type, entity column, value column, filters) and every
entity ID there is one sorted set, ``<prefix>feat:<version>:s<source hash>:<entity id>``, scored by the
receipt time in integer microseconds (exact in a double: below 2**53 until the year 2255) with one member
per event: its ID and the value the source reads. This is the in-process engine's log moved to Redis, so
the state is **exact per event** and reads apply the window rules of ``docs/features.md`` exactly.

* **Keyspace by version**: every key carries ``FeatureSet.version`` (a hash of every definition). A changed
  spec reads and writes a new, empty keyspace, which :meth:`RedisFeatureEngine.apply_tables` rebuilds from
  the lake; :meth:`mark_ready` / :meth:`is_ready` tell replicas the rebuild is complete, and
  :meth:`drop_keyspace` frees the old version.
* **Idempotence by event ID**: one Lua script applies a batch atomically. For each event it claims the
  per-event key ``<keyspace>e:<event id>`` (the earliest receipt seen) with ``SET NX GET``; a copy received
  at or after the one recorded changes nothing; an earlier copy arriving late moves the event back
  (``ZADD LT``: a member's score only ever decreases), so the earliest copy counts, as in both other
  engines. The new members of each set are written with one ``ZADD LT`` per set per batch. The per-event
  key expires after the longest window of the set plus ``bounds.online_redis_trim_grace_days``: a copy
  arriving later than that after the first would count again (the in-process engine remembers IDs for
  ``bounds.online_dedup_retention_days``).
* **Memory budget**: each batch trims every set it wrote below ``newest receipt written - horizon - grace``
  (``ZREMRANGEBYSCORE``; so a set holds its source's longest window plus the grace behind its newest event,
  plus whatever older late events arrived since), each set expires (wall clock) after that span without
  writes, and a batch is refused (:class:`BoundExceededError`, nothing written)
  when a set already holds ``bounds.online_redis_events_per_key_max`` events. Memory per entity is
  therefore bounded by its event rate times its longest window. The tiled tail of ``docs/features.md`` is
  not built: every retained event is kept individually.
* **What is exact**: reads at ``as_of`` no earlier than ``newest receipt applied to a set - grace`` are exact
  for every aggregation (counts, sums, min, max, distinct, last exactly; means, ratios, growth as Python
  divides). Reads further back than that may miss trimmed events; decisions read at the present.
* **One round trip**: :meth:`RedisFeatureEngine.read_many` reads several entities (a decision's vector) with
  one call of a read script. A set whose measures only count events or time the last one is read with one
  ``ZCOUNT`` per window and the newest score (O(log n)); any other set is scanned over the span its windows
  need and aggregated per window on the server (count, integer sum, non-null count, min, max, distinct
  values, newest receipt, the events at the latest valued receipt), so a few numbers come back instead of
  every member. A distinct count over two or more sets (a union) gets the raw members instead, and so does
  a set holding a value or sum of magnitude 2**52 or more, where the server's doubles stop being exact
  (then in a second round trip). Python finishes with the in-process engine's arithmetic.

Redis Cluster: the update script touches keys of several entities, so this backend assumes one Redis
primary (or keys hashed to one slot); it is not cluster-sharded.
"""

from __future__ import annotations

import hashlib
import json
import time
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import numpy as np
import pyarrow as pa

from fengkong import bounds
from fengkong.domain.events import EVENT_TYPES
from fengkong.domain.features import FeatureValue, FeatureVector
from fengkong.errors import BoundExceededError, InputError, InvariantError
from fengkong.features.online import PlannedFeature, Row, _predicate, finish_features
from fengkong.features.spec import (
    SECONDS_PER_DAY,
    Aggregation,
    Entity,
    FeatureSet,
    FeatureSpec,
    Source,
    Window,
    WindowKind,
    parse_entity,
    sources_of,
)
from fengkong.features.windows import MICROSECONDS_PER_SECOND, to_microseconds, window_start_us

_GRACE_US: Final = bounds.online_redis_trim_grace_days * SECONDS_PER_DAY * MICROSECONDS_PER_SECOND
_TIMESTAMP: Final = pa.timestamp("us", tz="UTC")

# KEYS: per event, its dedup key then its sorted-set keys. ARGV: cap, n; then per event: received µs (a
# decimal string, never through a Lua number: Lua prints doubles with 14 digits), dedup TTL ms, key count,
# then per key: member, retained span µs, key TTL ms. Returns 1 (applied) or 0 (duplicate) per event, or
# {-1, key, size} when a set would overflow (then nothing was written). The dedup key is claimed with
# SET NX GET (one call; a second only when an earlier copy arrives late); each set touched gets one ZADD LT
# of all the batch's new members, one trim below its newest receipt in the batch minus the span retained,
# and one expiry renewal.
_APPLY_SCRIPT: Final = """
local cap = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local k = 1
local a = 3
local sizes = {}
for i = 1, n do
  local nkeys = tonumber(ARGV[a + 2])
  for j = 1, nkeys do
    local key = KEYS[k + j]
    local size = sizes[key]
    if size == nil then size = redis.call('ZCARD', key) end
    if size >= cap then return {-1, key, size} end
    sizes[key] = size + 1
  end
  k = k + 1 + nkeys
  a = a + 3 + 3 * nkeys
end
local out = {}
local touched = {}
local order = {}
k = 1
a = 3
for i = 1, n do
  local received = ARGV[a]
  local nkeys = tonumber(ARGV[a + 2])
  local seen = redis.call('SET', KEYS[k], received, 'NX', 'GET', 'PX', ARGV[a + 1])
  local fresh = not seen
  if seen and tonumber(received) < tonumber(seen) then
    redis.call('SET', KEYS[k], received, 'PX', ARGV[a + 1])
    fresh = true
  end
  if fresh then
    for j = 1, nkeys do
      local key = KEYS[k + j]
      local b = a + 3 + 3 * (j - 1)
      local cutoff = tonumber(received) - tonumber(ARGV[b + 1])
      local entry = touched[key]
      if entry == nil then
        entry = {cutoff, ARGV[b + 2], {}}
        touched[key] = entry
        order[#order + 1] = key
      elseif cutoff > entry[1] then
        entry[1] = cutoff
      end
      local pairs_ = entry[3]
      pairs_[#pairs_ + 1] = received
      pairs_[#pairs_ + 1] = ARGV[b]
    end
    out[i] = 1
  else
    out[i] = 0
  end
  k = k + 1 + nkeys
  a = a + 3 + 3 * nkeys
end
for _, key in ipairs(order) do
  local entry = touched[key]
  local pending = entry[3]
  for start = 1, #pending, 2000 do
    redis.call('ZADD', key, 'LT', unpack(pending, start, math.min(start + 1999, #pending)))
  end
  redis.call('ZREMRANGEBYSCORE', key, '-inf', string.format('%.0f', entry[1]))
  redis.call('PEXPIRE', key, entry[2])
end
return out
"""


# KEYS: the sets read. ARGV[1]: as_of µs; then per key: mode, low (exclusive start of the span read), window
# count, then per window: start µs and flags (1 if inclusive, else 0; then d, m, l when a distinct count,
# min/max or last reads it). Modes: 'c' counts (ZCOUNT per window, newest score),
# 'a' aggregates per window on the server (count, sum, non-null count, min, max, distinct, newest, and
# the events of the latest non-null receipt for `last`), 'm' the raw members with scores. Numbers go back as
# strings (Lua would print doubles with 14 digits); an 'a' reply starts with 1 when a value or a sum
# reached 2**52, where doubles stop being exact: the caller then reads that set raw.
_READ_SCRIPT: Final = """
local asof = ARGV[1]
local out = {}
local a = 2
for i = 1, #KEYS do
  local key = KEYS[i]
  local mode = ARGV[a]
  local low = ARGV[a + 1]
  local nwin = tonumber(ARGV[a + 2])
  local starts = {}
  local startstr = {}
  local incl = {}
  local wantd, wantm, wantl = {}, {}, {}
  for w = 1, nwin do
    startstr[w] = ARGV[a + 1 + 2 * w]
    starts[w] = tonumber(startstr[w])
    local flags = ARGV[a + 2 + 2 * w]
    incl[w] = string.sub(flags, 1, 1) == '1'
    wantd[w] = string.find(flags, 'd', 2, true) ~= nil
    wantm[w] = string.find(flags, 'm', 2, true) ~= nil
    wantl[w] = string.find(flags, 'l', 2, true) ~= nil
  end
  a = a + 3 + 2 * nwin
  if mode == 'c' then
    local res = {}
    for w = 1, nwin do
      local lo = startstr[w]
      if not incl[w] then lo = '(' .. lo end
      res[w] = tostring(redis.call('ZCOUNT', key, lo, asof))
    end
    local newest = redis.call('ZREVRANGEBYSCORE', key, asof, '-inf', 'WITHSCORES', 'LIMIT', 0, 1)
    res[nwin + 1] = newest[2] or ''
    out[i] = res
  elseif mode == 'm' then
    out[i] = redis.call('ZRANGEBYSCORE', key, '(' .. low, asof, 'WITHSCORES')
  else
    local items = redis.call('ZRANGEBYSCORE', key, '(' .. low, asof, 'WITHSCORES')
    local big = 4503599627370496
    local inexact = 0
    local count, total, present, seen, distinct, lasts = {}, {}, {}, {}, {}, {}
    local lo, hi, locode, hicode, newest, lt = {}, {}, {}, {}, {}, {}
    for w = 1, nwin do
      count[w] = 0
      total[w] = 0
      present[w] = 0
      seen[w] = {}
      distinct[w] = 0
      lasts[w] = {}
    end
    for m = 1, #items, 2 do
      local member = items[m]
      local scorestr = items[m + 1]
      local t = tonumber(scorestr)
      local colon = string.find(member, ':', 1, true)
      local len = tonumber(string.sub(member, 1, colon - 1))
      local code = string.sub(member, colon + 1 + len)
      local tag = string.sub(code, 1, 1)
      local num = nil
      if tag == 'i' then
        num = tonumber(string.sub(code, 2))
        if num >= big or num <= -big then inexact = 1 end
      end
      for w = 1, nwin do
        if t > starts[w] or (incl[w] and t == starts[w]) then
          count[w] = count[w] + 1
          newest[w] = scorestr
          if tag ~= 'n' then
            present[w] = present[w] + 1
            if wantd[w] and not seen[w][code] then seen[w][code] = true; distinct[w] = distinct[w] + 1 end
            if num then
              total[w] = total[w] + num
              if wantm[w] then
                if lo[w] == nil or num < lo[w] then lo[w] = num; locode[w] = code end
                if hi[w] == nil or num > hi[w] then hi[w] = num; hicode[w] = code end
              end
            end
            if wantl[w] then
              if lt[w] == nil or t > lt[w] then lt[w] = t; lasts[w] = {} end
              local l = lasts[w]
              l[#l + 1] = string.sub(member, colon + 1, colon + len)
              l[#l + 1] = code
            end
          end
        end
      end
    end
    local res = {tostring(inexact)}
    for w = 1, nwin do
      if total[w] >= big or total[w] <= -big then res[1] = '1' end
      res[w + 1] = {
        tostring(count[w]), string.format('%.0f', total[w]), tostring(present[w]), locode[w] or '',
        hicode[w] or '', tostring(distinct[w]), newest[w] or '',
        lt[w] and string.format('%.0f', lt[w]) or '', lasts[w]
      }
    end
    out[i] = res
  end
end
return out
"""


def source_hash(source: Source) -> str:
    """A short stable hash of a source's definition (its sorted sets are named by it)."""
    text = json.dumps(
        [
            source.event_type,
            source.entity_column,
            source.value_column,
            [[f.column, f.operator.value, list(f.values)] for f in source.filters],
        ]
    )
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def encode_member(event_id: str, value: object) -> str:
    """``<len(id)>:<id><value>`` with the value as ``i<int>``, ``s<text>``, ``b0``/``b1`` or ``n``."""
    if value is None:
        code = "n"
    elif isinstance(value, bool):
        code = "b1" if value else "b0"
    elif isinstance(value, int):
        code = f"i{value}"
    elif isinstance(value, str):
        code = "s" + value
    else:
        raise InputError(f"a feature value is an int, str or bool, not {type(value).__name__}", field="value")
    return f"{len(event_id)}:{event_id}{code}"


def decode_member(member: str) -> tuple[str, int | str | bool | None]:
    colon = member.index(":")
    length = int(member[:colon])
    event_id = member[colon + 1 : colon + 1 + length]
    return event_id, decode_value(member[colon + 1 + length :])


def decode_value(code: str) -> int | str | bool | None:
    """A member's value code (``i12``, ``sabc``, ``b1``, ``n``) as the value."""
    tag = code[:1]
    if tag == "i":
        return int(code[1:])
    if tag == "s":
        return code[1:]
    if tag == "b":
        return code == "b1"
    if tag == "n":
        return None
    raise InvariantError(f"feature state value {code!r} has no value code")


@dataclass(frozen=True, slots=True)
class _CompiledSource:
    source: Source
    hash: str
    predicates: tuple[tuple[str, Callable[[object], bool]], ...]
    retain_us: int  # longest window reading this source plus the grace
    ttl_ms: int


@dataclass(frozen=True, slots=True)
class _Measure:
    aggregation: Aggregation
    rolling_us: int | None  # rolling window length, or None for calendar windows
    calendar_days: int
    sources: tuple[int, ...]  # positions in the plan's source list


@dataclass(frozen=True, slots=True)
class _Plan:
    sources: tuple[str, ...]  # source hashes read
    reach_us: tuple[int, ...]  # per source: how far back from as_of the plan's windows reach
    modes: tuple[str, ...]  # per source: 'c' counted, 'a' aggregated by the read script, 'm' raw members
    windows: tuple[tuple[tuple[int | None, int], ...], ...]  # per source: the window keys its measures use
    wanted: tuple[tuple[str, ...], ...]  # per source and window: d, m, l for distinct, min/max, last
    measures: tuple[_Measure, ...]
    features: tuple[PlannedFeature, ...]


@dataclass(slots=True)
class _Counted:
    """A set read by counts: events per window key and the newest receipt at or before the read."""

    counts: dict[tuple[int | None, int], int]
    newest: int | None


@dataclass(frozen=True, slots=True)
class _WindowAggregate:
    count: int
    total: int
    present: int
    low: int | None
    high: int | None
    distinct: int
    newest: int | None
    last: tuple[tuple[int, str, int | str | bool | None], ...]  # (receipt, ID, value) at the latest receipt


@dataclass(slots=True)
class _Aggregated:
    """A set aggregated per window by the read script."""

    windows: dict[tuple[int | None, int], _WindowAggregate]


@dataclass(slots=True)
class _Entries:
    """One sorted set's events in the span read: receipt µs (ascending), IDs and values."""

    times: list[int]
    ids: list[str]
    values: list[int | str | bool | None]


_EMPTY: Final = _Entries([], [], [])
_ZERO_WHEN_EMPTY: Final = frozenset({Aggregation.COUNT, Aggregation.SUM, Aggregation.DISTINCT_COUNT})


class RedisFeatureEngine:
    """The online engine on Redis: implements ``FeatureReader``; updates are idempotent by event ID.

    ``client`` is a ``redis.Redis`` (``decode_responses`` off or on). ``prefix`` namespaces every key.
    """

    def __init__(self, client: Any, feature_set: FeatureSet, *, prefix: str = "fengkong:") -> None:
        self.client = client
        self.feature_set = feature_set
        self.prefix = prefix
        self.keyspace = f"{prefix}feat:{feature_set.version}:"
        longest = max((m.window.horizon_seconds for spec in feature_set for m in spec.measures), default=0)
        self.dedup_ttl_ms = (longest * MICROSECONDS_PER_SECOND + _GRACE_US) // 1_000
        self._sources: dict[str, _CompiledSource] = {}
        self._by_type: dict[str, list[_CompiledSource]] = {}
        for source in sources_of(feature_set):
            horizon = max(
                m.window.horizon_seconds for spec in feature_set for m in spec.measures if source in m.sources
            )
            retain_us = horizon * MICROSECONDS_PER_SECOND + _GRACE_US
            compiled = _CompiledSource(
                source,
                source_hash(source),
                tuple((f.column, _predicate(f)) for f in source.filters),
                retain_us,
                retain_us // 1_000,
            )
            self._sources[compiled.hash] = compiled
            self._by_type.setdefault(source.event_type, []).append(compiled)
        self._apply = client.register_script(_APPLY_SCRIPT)
        self._read = client.register_script(_READ_SCRIPT)
        self._plans: dict[tuple[Entity, tuple[str, ...] | None], _Plan] = {}

    # -- keys ------------------------------------------------------------------------------------------

    def set_key(self, source_hash_: str, entity_id: str) -> str:
        return f"{self.keyspace}s{source_hash_}:{entity_id}"

    def seen_key(self, event_id: str) -> str:
        return f"{self.keyspace}e:{event_id}"

    @property
    def ready_key(self) -> str:
        return f"{self.keyspace}ready"

    def mark_ready(self) -> None:
        """Record that this version's keyspace holds the lake (a rebuild finished)."""
        self.client.set(self.ready_key, str(int(time.time())))

    def is_ready(self) -> bool:
        return bool(self.client.exists(self.ready_key))

    def drop_keyspace(self, version: str | None = None) -> int:
        """Delete every key of ``version`` (default: this engine's); returns how many were deleted."""
        keyspace = self.keyspace if version is None else f"{self.prefix}feat:{version}:"
        deleted = 0
        batch: list[Any] = []
        for key in self.client.scan_iter(match=f"{keyspace}*", count=1_000):
            batch.append(key)
            if len(batch) >= 1_000:
                deleted += int(self.client.delete(*batch))
                batch = []
        if batch:
            deleted += int(self.client.delete(*batch))
        return deleted

    # -- updates ---------------------------------------------------------------------------------------

    def columns(self, event_type: str) -> tuple[str, ...]:
        """The columns of ``event_type`` rows this engine reads."""
        names = ["event_id", "received_at"]
        for compiled in self._by_type.get(event_type, ()):
            names.extend(compiled.source.columns)
        return tuple(dict.fromkeys(names))

    def apply_row(self, event_type: str, row: Row) -> bool:
        """Apply one event (a row in ``column_layout(event_type)``); False for a duplicate or an event no
        source counts."""
        return self.apply_rows([(event_type, row)])[0]

    def apply_rows(self, rows: Sequence[tuple[str, Row]]) -> list[bool]:
        """Apply events in order, ``bounds.online_redis_batch_events_max`` per script call (each call is
        atomic); returns per event whether it changed state."""
        results: list[bool] = []
        size = bounds.online_redis_batch_events_max
        for start in range(0, len(rows), size):
            results.extend(self._apply_batch(rows[start : start + size]))
        return results

    def _apply_batch(self, rows: Sequence[tuple[str, Row]]) -> list[bool]:
        keys: list[str] = []
        args: list[str | int] = [bounds.online_redis_events_per_key_max, 0]
        placed: list[bool] = []
        dedup_ttl = str(self.dedup_ttl_ms)
        for event_type, row in rows:
            if event_type not in EVENT_TYPES:
                raise InputError(f"unknown event type {event_type!r}", field="event_type")
            event_id = row.get("event_id")
            received_at = row.get("received_at")
            if not isinstance(event_id, str) or not event_id:
                raise InputError("every event has an event_id", field="event_id")
            if not isinstance(received_at, datetime):
                raise InputError("every event has a received_at timestamp", field="received_at")
            received_us = to_microseconds(received_at, "received_at")
            targets: list[tuple[str, str, _CompiledSource]] = []
            for compiled in self._by_type.get(event_type, ()):
                entity_id = row.get(compiled.source.entity_column)
                if entity_id is None:
                    continue
                if not all(test(row.get(column)) for column, test in compiled.predicates):
                    continue
                value_column = compiled.source.value_column
                value = row.get(value_column) if value_column is not None else None
                targets.append(
                    (self.set_key(compiled.hash, str(entity_id)), encode_member(event_id, value), compiled)
                )
            if not targets:
                placed.append(False)
                continue
            placed.append(True)
            keys.append(self.seen_key(event_id))
            args.extend((str(received_us), dedup_ttl, len(targets)))
            for key, member, compiled in targets:
                keys.append(key)
                args.extend((member, str(compiled.retain_us), str(compiled.ttl_ms)))
        count = sum(placed)
        if count == 0:
            return [False] * len(rows)
        args[1] = count
        reply = self._apply(keys=keys, args=args)
        if reply and int(reply[0]) == -1:
            raise BoundExceededError(
                "online_redis_events_per_key_max", bounds.online_redis_events_per_key_max, int(reply[2]) + 1
            )
        applied = iter(int(value) == 1 for value in reply)
        return [next(applied) if was_placed else False for was_placed in placed]

    def apply_tables(self, tables: Mapping[str, pa.Table], *, slice_seconds: int = SECONDS_PER_DAY) -> int:
        """Apply every row of ``tables`` (lake layout) in receipt order, one slice of receipt time at a time
        — the rebuild of a new keyspace from the lake. Returns how many events changed state."""
        prepared: list[tuple[str, pa.Table, np.ndarray[Any, Any]]] = []
        for event_type, table in tables.items():
            if table.num_rows == 0 or event_type not in self._by_type:
                continue
            columns = [c for c in self.columns(event_type) if c in table.column_names]
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
        step = slice_seconds * MICROSECONDS_PER_SECOND
        changed = 0
        for low in range(first, last + 1, step):
            rows: list[tuple[str, Row]] = []
            for event_type, ordered, received in prepared:
                begin, end = np.searchsorted(received, [low, low + step], side="left")
                sliced = ordered.slice(int(begin), int(end - begin)).to_pylist()
                rows.extend((event_type, row) for row in sliced)
            rows.sort(key=lambda item: (item[1]["received_at"], item[1]["event_id"]))
            changed += sum(self.apply_rows(rows))
        return changed

    # -- reads -----------------------------------------------------------------------------------------

    def read(
        self, entity_type: str, entity_id: str, as_of: datetime, names: Sequence[str] | None = None
    ) -> FeatureVector:
        """The features of one entity as known at ``as_of``, in one round trip."""
        return self.read_many([(entity_type, entity_id, names)], as_of)[0]

    def read_many(
        self, requests: Sequence[tuple[str, str, Sequence[str] | None]], as_of: datetime
    ) -> list[FeatureVector]:
        """Several entities' features at one instant — a decision's whole vector — in one round trip
        (one call of the read script; a second only for a set past exact doubles)."""
        if len(requests) > bounds.online_redis_read_entities_max:
            raise BoundExceededError(
                "online_redis_read_entities_max", bounds.online_redis_read_entities_max, len(requests)
            )
        as_of_us = to_microseconds(as_of, "as_of")
        plans = []
        keys: list[str] = []
        args: list[str] = [str(as_of_us)]
        for entity_type, entity_id, names in requests:
            plan = self._plan(parse_entity(entity_type), names)
            plans.append(plan)
            for index, (source, reach, mode, windows) in enumerate(
                zip(plan.sources, plan.reach_us, plan.modes, plan.windows, strict=True)
            ):
                keys.append(self.set_key(source, entity_id))
                args.extend((mode, str(as_of_us - reach), str(len(windows))))
                for window_key, wanted in zip(windows, plan.wanted[index], strict=True):
                    start, inclusive = _start(window_key, as_of_us)
                    args.extend((str(start), ("1" if inclusive else "0") + wanted))
        replies = self._read(keys=keys, args=args)
        vectors = []
        position = 0
        for (entity_type, entity_id, _names), plan in zip(requests, plans, strict=True):
            entries: list[_Entries | _Counted | _Aggregated] = []
            for source, reach, mode, windows in zip(
                plan.sources, plan.reach_us, plan.modes, plan.windows, strict=True
            ):
                reply = replies[position]
                position += 1
                if mode == "m":
                    entries.append(_decode_flat(reply))
                elif mode == "c":
                    counts = {w: int(reply[i]) for i, w in enumerate(windows)}
                    newest = _text(reply[len(windows)])
                    entries.append(_Counted(counts, int(newest) if newest else None))
                elif _text(reply[0]) == "1":  # a value or sum beyond exact doubles: read the set raw
                    raw = self.client.zrangebyscore(
                        self.set_key(source, entity_id),
                        f"({as_of_us - reach}",
                        str(as_of_us),
                        withscores=True,
                    )
                    entries.append(_decode(raw))
                else:
                    entries.append(_aggregated(windows, reply[1:]))
            vectors.append(self._finish(plan, entity_type, entity_id, as_of, as_of_us, entries))
        return vectors

    def _plan(self, entity: Entity, names: Sequence[str] | None) -> _Plan:
        key = (entity, None if names is None else tuple(names))
        plan = self._plans.get(key)
        if plan is not None:
            return plan
        if names is not None and len(names) > bounds.online_read_features_max:
            raise BoundExceededError("online_read_features_max", bounds.online_read_features_max, len(names))
        specs: tuple[FeatureSpec, ...] = self.feature_set.for_entity(entity, names)
        source_ids: dict[str, int] = {}
        reach: dict[str, int] = {}
        measure_ids: dict[object, int] = {}
        measures: list[_Measure] = []
        features = []
        for spec in specs:
            ids = []
            for m in spec.measures:
                if m not in measure_ids:
                    positions = []
                    for s in m.sources:
                        digest = source_hash(s)
                        positions.append(source_ids.setdefault(digest, len(source_ids)))
                        reach[digest] = max(reach.get(digest, 0), m.window.horizon_seconds)
                    rolling = m.window.kind is WindowKind.ROLLING
                    measure_ids[m] = len(measures)
                    measures.append(
                        _Measure(
                            m.aggregation,
                            m.window.length * MICROSECONDS_PER_SECOND if rolling else None,
                            0 if rolling else m.window.length,
                            tuple(positions),
                        )
                    )
                ids.append(measure_ids[m])
            seconds = (
                tuple(m.window.length for m in spec.measures)
                if spec.aggregation is Aggregation.GROWTH
                else ()
            )
            features.append(PlannedFeature(spec.name, spec.aggregation, tuple(ids), seconds))
        counted_only = {Aggregation.COUNT, Aggregation.TIME_SINCE_LAST}
        windows: list[tuple[tuple[int | None, int], ...]] = []
        modes: list[str] = []
        wanted: list[tuple[str, ...]] = []
        letters = {
            Aggregation.DISTINCT_COUNT: "d",
            Aggregation.MIN: "m",
            Aggregation.MAX: "m",
            Aggregation.LAST: "l",
        }
        for position in range(len(source_ids)):
            reading = [m for m in measures if position in m.sources]
            keys = tuple(dict.fromkeys((m.rolling_us, m.calendar_days) for m in reading))
            windows.append(keys)
            wanted.append(
                tuple(
                    "".join(
                        sorted(
                            {
                                letters.get(m.aggregation, "")
                                for m in reading
                                if (m.rolling_us, m.calendar_days) == key
                            }
                        )
                    )
                    for key in keys
                )
            )
            if all(m.aggregation in counted_only for m in reading):
                modes.append("c")
            elif any(m.aggregation is Aggregation.DISTINCT_COUNT and len(m.sources) > 1 for m in reading):
                modes.append("m")  # a distinct count over several sets needs the values themselves
            else:
                modes.append("a")
        plan = _Plan(
            tuple(source_ids),
            tuple(reach[s] * MICROSECONDS_PER_SECOND for s in source_ids),
            tuple(modes),
            tuple(windows),
            tuple(wanted),
            tuple(measures),
            tuple(features),
        )
        if len(self._plans) >= bounds.online_read_plans_max:
            self._plans.clear()
        self._plans[key] = plan
        return plan

    def _finish(
        self,
        plan: _Plan,
        entity_type: str,
        entity_id: str,
        as_of: datetime,
        as_of_us: int,
        entries: list[_Entries | _Counted | _Aggregated],
    ) -> FeatureVector:
        measured = [_measure(m, entries, as_of_us) for m in plan.measures]
        values = finish_features(plan.features, measured)
        return FeatureVector(
            parse_entity(entity_type).value, entity_id, as_of, values, self.feature_set.version
        )

    # -- inspection ------------------------------------------------------------------------------------

    def memory_bytes(self, entity_type: str, entity_id: str) -> int:
        """Bytes Redis reports (``MEMORY USAGE``) for one entity's sorted sets."""
        total = 0
        for digest in self._plan(parse_entity(entity_type), None).sources:
            used = self.client.memory_usage(self.set_key(digest, entity_id))
            total += int(used or 0)
        return total

    def keys_in_keyspace(self) -> int:
        """How many keys this version's keyspace holds (a SCAN; for tests and the bench)."""
        return sum(1 for _ in self.client.scan_iter(match=f"{self.keyspace}*", count=1_000))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _decode(reply: Sequence[tuple[bytes | str, float]]) -> _Entries:
    if not reply:
        return _EMPTY
    times: list[int] = []
    ids: list[str] = []
    values: list[int | str | bool | None] = []
    for member, score in reply:
        event_id, value = decode_member(_text(member))
        times.append(int(score))
        ids.append(event_id)
        values.append(value)
    return _Entries(times, ids, values)


def _start(window_key: tuple[int | None, int], as_of_us: int) -> tuple[int, bool]:
    """The old edge of a window key ``(rolling µs or None, calendar days)`` and whether it is inclusive."""
    rolling_us, calendar_days = window_key
    if rolling_us is not None:
        return as_of_us - rolling_us, False
    return window_start_us(Window(WindowKind.CALENDAR_DAYS, calendar_days), as_of_us)


def _decode_flat(reply: Sequence[bytes | str]) -> _Entries:
    """Members and scores as the read script returns them: member, score, member, score..."""
    return _decode([(reply[i], float(_text(reply[i + 1]))) for i in range(0, len(reply), 2)])


def _aggregated(windows: Sequence[tuple[int | None, int]], replies: Sequence[Any]) -> _Aggregated:
    result: dict[tuple[int | None, int], _WindowAggregate] = {}
    for window_key, reply in zip(windows, replies, strict=True):
        count, total, present, low, high, distinct, newest, latest_valued = (
            _text(part) for part in reply[:8]
        )
        flat = reply[8]
        last = tuple(
            (int(latest_valued), _text(flat[i]), decode_value(_text(flat[i + 1])))
            for i in range(0, len(flat), 2)
        )
        result[window_key] = _WindowAggregate(
            int(count),
            int(total),
            int(present),
            _int_or_none(low),
            _int_or_none(high),
            int(distinct),
            int(newest) if newest else None,
            last,
        )
    return _Aggregated(result)


def _int_or_none(code: str) -> int | None:
    value = decode_value(code) if code else None
    return value if isinstance(value, int) else None


def _measure(
    measure: _Measure, entries: list[_Entries | _Counted | _Aggregated], as_of_us: int
) -> FeatureValue:
    window_key = (measure.rolling_us, measure.calendar_days)
    start, inclusive = _start(window_key, as_of_us)
    count = total = present = distinct_count = 0
    low: int | None = None
    high: int | None = None
    distinct: set[int | str | bool] = set()
    latest: int | None = None
    best: tuple[int, str] | None = None
    best_value: int | str | bool | None = None
    for position in measure.sources:
        found = entries[position]
        if isinstance(found, _Counted):
            count += found.counts[window_key]
            newest = found.newest
            if newest is not None and (newest >= start if inclusive else newest > start):
                latest = newest if latest is None else max(latest, newest)
            continue
        if isinstance(found, _Aggregated):
            part = found.windows[window_key]
            count += part.count
            total += part.total
            present += part.present
            distinct_count += part.distinct
            if part.low is not None:
                low = part.low if low is None else min(low, part.low)
            if part.high is not None:
                high = part.high if high is None else max(high, part.high)
            if part.newest is not None:
                latest = part.newest if latest is None else max(latest, part.newest)
            for received_us, event_id, value in part.last:  # the events at the latest valued receipt
                key = (received_us, event_id)
                if best is None or key > best:
                    best, best_value = key, value
            continue
        times = found.times
        first = bisect_left(times, start) if inclusive else bisect_right(times, start)
        if first >= len(times):
            continue
        count += len(times) - first
        latest = times[-1] if latest is None else max(latest, times[-1])
        for index in range(first, len(times)):
            value = found.values[index]
            if value is None:
                continue
            present += 1
            distinct.add(value)
            if isinstance(value, int) and not isinstance(value, bool):
                total += value
                low = value if low is None else min(low, value)
                high = value if high is None else max(high, value)
            key = (times[index], found.ids[index])
            if best is None or key > best:
                best, best_value = key, value
    aggregation = measure.aggregation
    if aggregation is Aggregation.COUNT:
        return count
    if aggregation is Aggregation.TIME_SINCE_LAST:
        return None if latest is None else (as_of_us - latest) / MICROSECONDS_PER_SECOND
    if aggregation is Aggregation.SUM:
        return total
    if aggregation is Aggregation.MEAN:
        return total / present if present else None
    if aggregation is Aggregation.MIN:
        return low
    if aggregation is Aggregation.MAX:
        return high
    if aggregation is Aggregation.DISTINCT_COUNT:
        return distinct_count + len(distinct)
    if aggregation is Aggregation.LAST:
        return int(best_value) if isinstance(best_value, int) else None
    raise InputError(f"{aggregation.value} is not a measure", field="aggregation")
