"""Use case: ingest events — validate, deduplicate by event ID, write the lake, publish.

Two entry points share one pipeline (validation, deduplication, lake writing, publication):
:func:`ingest_file` for files and :func:`ingest_tables` for Arrow tables already in memory (the demo loop,
which would otherwise stage every day's tables on disk and read them back).

:func:`ingest_file` streams the input in batches of at most ``bounds.ingest_batch_events_max`` records, so
memory stays bounded however large the file. For every batch:

1. validate (bad records become rejections with line, field and reason; good ones go on);
2. deduplicate: duplicates inside the batch collapse to the first, IDs seen before are dropped;
3. write the new events to the Parquet lake (atomically, one file per type and business date);
4. publish them to the transport (if any), in input order;
5. commit the deduplication record (see :class:`fengkong.ingest.dedup.SeenEvents`).

Accepts JSON Lines (``.jsonl``, ``.json``, ``.ndjson``), a ``.parquet`` file in the columnar layout, or a
directory of Parquet files in the lake layout. Bad data is reported in the :class:`IngestReport`, never
raised; an unreadable file raises :class:`~fengkong.errors.InputError`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Final

import numpy as np
import pyarrow as pa

from fengkong import bounds
from fengkong.clock import Clock
from fengkong.domain.events import Event
from fengkong.errors import InputError, require
from fengkong.ingest.dedup import EventKey, SeenEvents, keep_new
from fengkong.ingest.digest_dedup import DigestSeenEvents
from fengkong.ingest.lake import LakeFile, LakeWriter
from fengkong.ingest.seen_store import StoreSeenEvents
from fengkong.ingest.sources import (
    input_kind,
    iter_json_lines,
    iter_parquet,
    parquet_files,
    parquet_row_count,
)
from fengkong.ingest.transport import InProcessTransport, RedisStreamsTransport, Transport
from fengkong.ingest.validate import Rejection, validate_records, validate_table
from fengkong.ingest.wire import events_from_table, events_to_tables

#: receives each accepted table (event type, table in the lake layout) as it is written to the lake
TableSink = Callable[[str, pa.Table], object]


@dataclass(frozen=True, slots=True)
class IngestReport:
    """What one ingestion did. ``read == accepted + duplicates + rejected`` always holds.

    ``rejections`` lists the first ``bounds.ingest_errors_reported_max`` rejected records.
    """

    source: str
    read: int
    accepted: int
    duplicates: int
    rejected: int
    published: int
    accepted_by_type: dict[str, int]
    rejections: tuple[Rejection, ...]
    lake_files: tuple[Path, ...]

    @property
    def complete(self) -> bool:
        """Every record was valid (accepted or a duplicate of an accepted one)."""
        return self.rejected == 0


@dataclass(frozen=True, slots=True)
class Progress:
    """Progress after a batch: ``done`` of ``total`` units (bytes of JSON Lines, rows of Parquet)."""

    done: int
    total: int
    read: int
    accepted: int


@dataclass(slots=True)
class _Tally:
    read: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    published: int = 0
    by_type: Counter[str] = field(default_factory=Counter)
    rejections: list[Rejection] = field(default_factory=list)
    files: list[LakeFile] = field(default_factory=list)

    def reject(self, rejections: Sequence[Rejection], count: int) -> None:
        self.rejected += count
        room = bounds.ingest_errors_reported_max - len(self.rejections)
        self.rejections.extend(rejections[: max(room, 0)])


def _key(event: Event) -> EventKey:
    return EventKey.of(event.event_id, event.event_type, event.occurred_at, event.received_at)


def _table_keys(event_type: str, table: pa.Table) -> list[EventKey]:
    event_ids = table.column("event_id").to_pylist()
    occurred = table.column("occurred_at").cast(pa.int64()).to_pylist()
    received = table.column("received_at").cast(pa.int64()).to_pylist()
    columns = [event_ids, occurred, received]
    return [
        EventKey(event_id, event_type, occurred, received)
        for event_id, occurred, received in zip(*columns, strict=True)
    ]


class _Pipeline:
    def __init__(
        self,
        writer: LakeWriter,
        transport: Transport | None,
        seen: SeenEvents,
        clock: Clock,
        sink: TableSink | None = None,
    ) -> None:
        self.writer = writer
        self.sink = sink
        self.transport = transport
        self.seen = seen
        self.clock = clock
        self.tally = _Tally()

    def _finish(self, tables: dict[str, pa.Table], ordered_events: Callable[[], list[Event]]) -> None:
        for event_type, table in sorted(tables.items()):
            self.tally.files.extend(self.writer.write(event_type, table))
            self.tally.by_type[event_type] += table.num_rows
            self.tally.accepted += table.num_rows
            if self.sink is not None:
                self.sink(event_type, table)
        if self.transport is not None:
            events = ordered_events()
            if events:
                self.tally.published += self.transport.publish(events)
        self.seen.commit()

    def records(self, batch: list[tuple[int, object | Rejection]], file: str) -> None:
        validated = validate_records(batch, self.clock, file=file)
        self.tally.read += len(batch)
        self.tally.reject(validated.rejections, validated.rejected_count)
        keep = keep_new([_key(event) for event in validated.events], self.seen)
        new = [event for event, kept in zip(validated.events, keep, strict=True) if kept]
        self.tally.duplicates += len(validated.events) - len(new)
        self._finish(events_to_tables(new), lambda: new)

    def table(self, table: pa.Table, first_row: int, file: str) -> None:
        validated = validate_table(table, self.clock, first_row=first_row, file=file)
        self.tally.read += table.num_rows
        self.tally.reject(validated.rejections, validated.rejected_count)
        types = sorted(validated.tables)
        rows = np.concatenate([validated.row_numbers[t] for t in types]) if types else np.empty(0, np.int64)
        order = np.argsort(rows, kind="stable")
        keep = np.zeros(len(rows), dtype=np.bool_)
        if isinstance(self.seen, DigestSeenEvents):  # columnar: one call for the whole batch
            ids = [validated.tables[t].column("event_id") for t in types]
            all_ids = pa.chunked_array([chunk for column in ids for chunk in column.chunks], pa.string())
            keep[order] = self.seen.keep_new_ids(all_ids.take(pa.array(order)))
        else:
            keys = [key for t in types for key in _table_keys(t, validated.tables[t])]
            keep[order] = keep_new([keys[index] for index in order.tolist()], self.seen)
        new_tables: dict[str, pa.Table] = {}
        new_rows: dict[str, np.ndarray] = {}
        offset = 0
        for event_type in types:
            table_of_type = validated.tables[event_type]
            mask = keep[offset : offset + table_of_type.num_rows]
            offset += table_of_type.num_rows
            new_tables[event_type] = table_of_type.filter(pa.array(mask))
            new_rows[event_type] = validated.row_numbers[event_type][mask]
        self.tally.duplicates += len(rows) - int(keep.sum())

        def ordered_events() -> list[Event]:
            numbered: list[tuple[int, Event]] = []
            for event_type, new_table in new_tables.items():
                row_list = new_rows[event_type].tolist()
                numbered.extend(zip(row_list, events_from_table(event_type, new_table), strict=True))
            numbered.sort(key=lambda pair: pair[0])
            return [event for _row, event in numbered]

        self._finish(new_tables, ordered_events)


def _batches(
    path: Path, batch_events: int, pipeline: _Pipeline
) -> Iterator[tuple[Callable[[], None], int, int]]:
    """(work for one batch, units done after it, total units)."""
    if input_kind(path) == "json":
        total = path.stat().st_size
        for batch, position in iter_json_lines(path, batch_events, file=path.name):
            yield partial(pipeline.records, batch, path.name), position, total
        return
    files = parquet_files(path)
    if not files:
        raise InputError(f"no Parquet files under {path}", field="path")
    total = parquet_row_count(files)
    done = 0
    for file in files:
        name = str(file.relative_to(path)) if path.is_dir() else file.name
        for piece in iter_parquet(file, batch_events, file=name):
            done += piece.table.num_rows
            yield partial(pipeline.table, piece.table, piece.first_row, piece.file), done, total


def ingest_file(
    path: Path | str,
    lake_dir: Path | str,
    transport: Transport | None,
    seen: SeenEvents,
    clock: Clock,
    *,
    batch_events: int = bounds.ingest_batch_events_max,
    on_progress: Callable[[Progress], None] | None = None,
) -> IngestReport:
    """Ingest one file (or a directory of Parquet files) into the lake and the transport.

    ``transport`` None writes the lake only. ``on_progress`` is called after every batch.
    """
    if not 0 < batch_events <= bounds.ingest_batch_events_max:
        raise InputError(f"must be in [1, {bounds.ingest_batch_events_max}]", field="batch_events")
    source = Path(path)
    pipeline = _Pipeline(LakeWriter(lake_dir), transport, seen, clock)
    for work, done, total in _batches(source, batch_events, pipeline):
        work()
        if on_progress is not None:
            on_progress(Progress(done, total, pipeline.tally.read, pipeline.tally.accepted))
    return _report(str(source), pipeline.tally)


def _report(source: str, tally: _Tally) -> IngestReport:
    require(
        tally.read == tally.accepted + tally.duplicates + tally.rejected,
        f"ingest counts do not add up: {tally}",
    )
    return IngestReport(
        source=source,
        read=tally.read,
        accepted=tally.accepted,
        duplicates=tally.duplicates,
        rejected=tally.rejected,
        published=tally.published,
        accepted_by_type=dict(sorted(tally.by_type.items())),
        rejections=tuple(tally.rejections),
        lake_files=tuple(file.path for file in tally.files),
    )


def ingest_tables(
    tables_by_type: Mapping[str, pa.Table],
    lake_dir: Path | str,
    transport: Transport | None,
    seen: SeenEvents,
    clock: Clock,
    *,
    batch_events: int = bounds.ingest_batch_events_max,
    fsync: bool = True,
    sink: TableSink | None = None,
) -> IngestReport:
    """Ingest Arrow tables held in memory, in the columnar layout, as :func:`ingest_file` ingests files.

    The tables go through the same pipeline — validation, deduplication, the lake, the transport — in the
    mapping's order, each in slices of at most ``batch_events`` rows; a rejection's ``line`` is the 1-based
    row in its table and its ``file`` the mapping's key. ``fsync=False`` is only for a scratch lake rebuilt
    on every run (the demo's): the files are still atomic, but not flushed to disk. ``sink``, when given,
    receives each accepted table exactly as it was written to the lake (validated, deduplicated), in the
    process — how the embedded demo feeds its in-process online feature engine without a stream.
    """
    if not 0 < batch_events <= bounds.ingest_batch_events_max:
        raise InputError(f"must be in [1, {bounds.ingest_batch_events_max}]", field="batch_events")
    pipeline = _Pipeline(LakeWriter(lake_dir, fsync=fsync), transport, seen, clock, sink)
    for name, table in tables_by_type.items():
        if not isinstance(table, pa.Table):
            raise InputError(f"expected an Arrow table, got {type(table).__name__}", field=name)
        for start in range(0, table.num_rows, batch_events):
            pipeline.table(table.slice(start, batch_events), start + 1, name)
    return _report("memory", pipeline.tally)


# -- wiring for the command line and the demo (so that cli/ never imports ingest/ or store/) ---------------

TRANSPORT_KINDS: Final = ("memory", "redis")
DEFAULT_REDIS_PREFIX: Final = "fengkong:"
DRAIN_CONSUMER: Final = "fengkong-ingest"


def open_transport(
    kind: str, *, redis_url: str | None = None, redis_prefix: str = DEFAULT_REDIS_PREFIX
) -> Transport:
    """``memory``: a bounded in-process queue; ``redis``: Redis Streams at ``redis_url``."""
    if kind == "memory":
        return InProcessTransport()
    if kind == "redis":
        if not redis_url:
            raise InputError("a Redis URL is needed for the redis transport", field="redis_url")
        return RedisStreamsTransport.from_url(redis_url, prefix=redis_prefix)
    raise InputError(
        f"unknown transport {kind!r}: use one of {', '.join(TRANSPORT_KINDS)}", field="transport"
    )


def drain_in_process(transport: Transport) -> int:
    """Consume and acknowledge everything queued in an in-process transport; how many messages.

    A command-line run has no consumer in its process: the in-process queue lives as long as the command,
    so it is drained after every batch to keep memory bounded. Other transports are left alone.
    """
    if not isinstance(transport, InProcessTransport):
        return 0
    drained = 0
    for _round in range(bounds.transport_queue_events_max // bounds.stream_read_batch_events_max + 1):
        deliveries = transport.consume(DRAIN_CONSUMER, bounds.stream_read_batch_events_max)
        if not deliveries:
            break
        drained += transport.ack(deliveries)
    return drained


@contextmanager
def open_seen_events(database_url: str | None, clock: Clock) -> Iterator[SeenEvents]:
    """Deduplication for one run: the database's ``ingested_events`` table when ``database_url`` is given
    (migrated with ``fengkong db upgrade``), else an in-memory window of 128-bit digests (this run only;
    :class:`~fengkong.ingest.digest_dedup.DigestSeenEvents`, about 20 bytes an event ID)."""
    if database_url is None:
        yield DigestSeenEvents()
        return
    with StoreSeenEvents.from_url(database_url, clock) as seen:
        yield seen
