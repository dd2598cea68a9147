"""Compact in-memory idempotency: event IDs remembered as 128-bit digests in sorted numpy runs.

:class:`~fengkong.ingest.dedup.InMemorySeenEvents` keeps every ID as a Python string in a dict, about 120
bytes an ID (1.4 GB for 12 million). :class:`DigestSeenEvents` keeps the first 16 bytes of each ID's SHA-256
(computed by DuckDB over the whole Arrow column at once) and the number of the batch that brought it: 20
bytes an ID. Two distinct IDs share a 128-bit digest with probability about n² / 2¹²⁹ (10⁻²⁵ for 12 million
IDs), far below the rate of undetected hardware errors, so the set is exact in practice; SHA-256 also keeps
a sender from crafting two IDs that collide.

Each digest is held as two 64-bit words, in runs sorted by the first word (binary searches compare
integers), of geometrically shrinking size (a log-structured merge, as in LSM trees):
a batch's new digests form a run, the last two runs merge while the older is at most twice the newer, so
there are O(log n) runs, a lookup is one binary search per run, and every run covers consecutive batches.
Beyond ``capacity`` IDs the oldest batches are forgotten, whole, so at least the newest ``capacity`` IDs
are always remembered (a replay older than that is accepted again, as with the dict window); eviction runs
once ``capacity`` is exceeded by an eighth, so memory stays below 1.125 × capacity × 20 bytes.

It implements :class:`~fengkong.ingest.dedup.SeenEvents` (``filter_new`` over :class:`EventKey`) and the
columnar :meth:`DigestSeenEvents.keep_new_ids`, which the ingestion use case calls with a whole column.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from fengkong import bounds
from fengkong.errors import InputError, InvariantError
from fengkong.ingest.dedup import EventKey

DIGEST_BYTES: Final = 16
DIGEST_DTYPE: Final = np.dtype(f"S{DIGEST_BYTES}")
EVICTION_SLACK_DIVISOR: Final = 8  # evict once capacity is exceeded by capacity / this

Digests = npt.NDArray[np.bytes_]
Words = npt.NDArray[np.uint64]
BoolMask = npt.NDArray[np.bool_]


def event_id_digests(event_ids: pa.Array | pa.ChunkedArray, connection: duckdb.DuckDBPyConnection) -> Digests:
    """The first 16 bytes of SHA-256 of each ID's UTF-8 bytes, as a numpy ``S16`` array (nulls refused)."""
    column = event_ids.combine_chunks() if isinstance(event_ids, pa.ChunkedArray) else event_ids
    if column.null_count:
        raise InvariantError("event IDs to digest must not be null")
    if len(column) == 0:
        return np.empty(0, dtype=DIGEST_DTYPE)
    ids = pa.table({"event_id": column.cast(pa.string())})
    hashed = connection.sql("SELECT unhex(sha256(event_id)) AS digest FROM ids").to_arrow_table()
    digests = hashed.column("digest").combine_chunks().cast(pa.large_binary())
    data = np.frombuffer(digests.buffers()[2], dtype=np.uint8)
    first = digests.offset
    offsets = np.frombuffer(digests.buffers()[1], dtype=np.int64)[first : first + len(ids) + 1]
    if not np.array_equal(np.diff(offsets), np.full(len(ids), 32)):
        raise InvariantError("SHA-256 digests must be 32 bytes each")
    rows = data[offsets[0] : offsets[-1]].reshape(len(ids), 32)[:, :DIGEST_BYTES]
    return np.ascontiguousarray(rows).view(DIGEST_DTYPE).ravel()


def _halves(digests: Digests) -> tuple[Words, Words]:
    """The two 64-bit words of each digest (searches compare integers, not byte strings)."""
    words = np.ascontiguousarray(digests).view(np.uint64).reshape(-1, 2)
    return np.ascontiguousarray(words[:, 0]), np.ascontiguousarray(words[:, 1])


@dataclass(slots=True)
class _Run:
    """Digests sorted by their first word, and aligned the number of the batch each came in.

    Each run covers consecutive batches. Digests sharing a first word (about n² / 2⁶⁵ pairs) are adjacent,
    in any order; the second word tells them apart.
    """

    high: Words
    low: Words
    batches: npt.NDArray[np.uint32]

    @property
    def size(self) -> int:
        return int(self.high.size)

    def contains(self, high: Words, low: Words) -> BoolMask:
        if self.size == 0 or high.size == 0:
            return np.zeros(high.size, dtype=np.bool_)
        start = np.searchsorted(self.high, high)
        at = np.minimum(start, self.size - 1)
        same_high = self.high[at] == high
        found: BoolMask = np.asarray(same_high & (self.low[at] == low), dtype=np.bool_)
        # a first word shared by several digests: look through all of them (rare)
        for query in np.flatnonzero(same_high & ~found).tolist():
            position = int(start[query])
            while position < self.size and self.high[position] == high[query]:
                if self.low[position] == low[query]:
                    found[query] = True
                    break
                position += 1
        return found


def _merge(older: _Run, newer: _Run) -> _Run:
    """One run from two (their digests are disjoint)."""
    at = np.searchsorted(older.high, newer.high)
    return _Run(
        np.insert(older.high, at, newer.high),
        np.insert(older.low, at, newer.low),
        np.insert(older.batches, at, newer.batches),
    )


class DigestSeenEvents:
    """A :class:`~fengkong.ingest.dedup.SeenEvents` in about 20 bytes an ID; see the module docstring."""

    def __init__(self, capacity: int = bounds.dedup_window_events_max) -> None:
        if not 0 < capacity <= bounds.dedup_window_events_max:
            raise InputError(f"must be in [1, {bounds.dedup_window_events_max}]", field="capacity")
        self.capacity = capacity
        self._runs: list[_Run] = []
        self._batch_sizes: deque[tuple[int, int]] = deque()  # (batch number, IDs it added), oldest first
        self._next_batch = 0
        self._size = 0
        self._connection = duckdb.connect(config={"threads": 1})

    def __len__(self) -> int:
        return self._size

    def __contains__(self, event_id: object) -> bool:
        if not isinstance(event_id, str):
            return False
        high, low = _halves(event_id_digests(pa.array([event_id], pa.string()), self._connection))
        return bool(self._seen(high, low)[0])

    def commit(self) -> None:
        """Nothing to do: memory is recorded at once (and lost with the process)."""

    def _seen(self, high: Words, low: Words) -> BoolMask:
        found = np.zeros(high.size, dtype=np.bool_)
        for run in self._runs:
            found |= run.contains(high, low)
        return found

    def keep_new_ids(self, event_ids: pa.Array | pa.ChunkedArray) -> BoolMask:
        """Which positions to keep: the first occurrence of each ID not seen before; those are now seen.

        The columnar form of :func:`fengkong.ingest.dedup.keep_new` (same answer, one call per column).
        """
        high, low = _halves(event_id_digests(event_ids, self._connection))
        keep = np.zeros(high.size, dtype=np.bool_)
        if high.size == 0:
            return keep
        order = np.lexsort((low, high))  # stable: the first occurrence of a digest comes first
        repeated = (high[order][1:] == high[order][:-1]) & (low[order][1:] == low[order][:-1])
        first = order[np.concatenate([[True], ~repeated])]  # distinct digests, sorted by first word
        new = first[~self._seen(high[first], low[first])]
        keep[new] = True
        self._record(high[new], low[new])
        return keep

    def filter_new(self, batch: Sequence[EventKey]) -> list[EventKey]:
        ids = [key.event_id for key in batch]
        if len(set(ids)) != len(ids):
            raise InvariantError("filter_new was given an event ID twice in one batch")
        keep = self.keep_new_ids(pa.array(ids, pa.string()))
        return [key for key, kept in zip(batch, keep.tolist(), strict=True) if kept]

    def _record(self, high: Words, low: Words) -> None:
        """Remember new digests, given sorted by their first word."""
        if high.size == 0:
            return
        batch = self._next_batch
        self._next_batch += 1
        self._runs.append(_Run(high, low, np.full(high.size, batch, dtype=np.uint32)))
        while len(self._runs) > 1 and self._runs[-2].size <= 2 * self._runs[-1].size:
            newer = self._runs.pop()
            self._runs[-1] = _merge(self._runs[-1], newer)
        self._batch_sizes.append((batch, int(high.size)))
        self._size += int(high.size)
        if self._size > self.capacity + self.capacity // EVICTION_SLACK_DIVISOR:
            self._evict()

    def _evict(self) -> None:
        """Forget the oldest whole batches until at most ``capacity`` IDs remain."""
        forgotten = 0
        while self._size - forgotten > self.capacity and self._batch_sizes:
            _batch, count = self._batch_sizes.popleft()
            forgotten += count
        oldest_kept = self._batch_sizes[0][0] if self._batch_sizes else self._next_batch
        runs = []
        for run in self._runs:
            if run.batches.size and int(run.batches.min()) < oldest_kept:
                keep = run.batches >= oldest_kept
                run = _Run(run.high[keep], run.low[keep], run.batches[keep])
            if run.size:
                runs.append(run)
        self._runs = runs
        self._size -= forgotten
        if self._size != sum(run.size for run in self._runs):
            raise InvariantError("the digest window lost count of its IDs")
