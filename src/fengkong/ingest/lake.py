"""The event lake: Parquet files per event type and business date of receipt.

Layout: ``<lake>/<event_type>/date=YYYY-MM-DD/part-NNNNNN.parquet``, where the date is the Asia/Shanghai
business date of ``received_at`` (:func:`fengkong.clock.business_date`) and ``NNNNNN`` the next free sequence
number in that folder. Each file has the Arrow schema of :func:`fengkong.ingest.schema.arrow_schema`
(timestamps ``timestamp[us, tz=UTC]``, dates ``date32``, money ``int64`` fen), zstd compression, row
groups of at most ``bounds.lake_row_group_rows_max`` rows and at most ``bounds.lake_file_rows_max`` rows.

Writes are atomic: a file is written under a hidden temporary name, flushed to disk, then linked to its
final name (``os.link`` fails rather than overwrite, so two writers never clobber each other), so a crash
leaves either the whole file or none. The same input always gives the same bytes: rows are sorted by
``(received_at, event_id)`` and nothing time- or host-dependent is written.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from fengkong import bounds
from fengkong.clock import business_date, start_of_business_day
from fengkong.domain.events import EVENT_TYPES
from fengkong.errors import BoundExceededError, InputError, InvariantError
from fengkong.ingest.schema import arrow_schema

COMPRESSION: Final = "zstd"
PART_PATTERN: Final = re.compile(r"^part-(\d{6})\.parquet$")
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class LakeFile:
    """One file written to the lake."""

    path: Path
    event_type: str
    business_date: date
    rows: int


def _check_event_type(event_type: str) -> None:
    if event_type not in EVENT_TYPES:
        raise InputError(f"unknown event type {event_type!r}", field="event_type")


def partition_dir(lake_dir: Path, event_type: str, day: date) -> Path:
    """``<lake>/<event_type>/date=YYYY-MM-DD``."""
    _check_event_type(event_type)
    return Path(lake_dir) / event_type / f"date={day.isoformat()}"


def sort_for_lake(table: pa.Table) -> pa.Table:
    """Rows in lake order: by ``received_at``, then ``event_id``."""
    return table.sort_by([("received_at", "ascending"), ("event_id", "ascending")])


def _timestamps_us(table: pa.Table) -> np.ndarray[Any, np.dtype[np.int64]]:
    values = table.column("received_at").cast(pa.int64())
    if values.null_count:
        raise InvariantError("lake rows must have received_at")
    return np.asarray(values.to_numpy(), dtype=np.int64)


def _microseconds(day: date) -> int:
    """Microseconds since the Unix epoch at which business date ``day`` begins."""
    return (start_of_business_day(day) - _EPOCH) // timedelta(microseconds=1)


def split_by_business_date(table: pa.Table) -> Iterator[tuple[date, pa.Table]]:
    """Slices of a table sorted by ``received_at``, one per business date (Asia/Shanghai) of receipt."""
    received_us = _timestamps_us(table)
    if np.any(received_us[1:] < received_us[:-1]):
        raise InvariantError("split_by_business_date needs rows sorted by received_at")
    received_at = table.column("received_at")
    start = 0
    while start < table.num_rows:
        day = business_date(received_at[start].as_py())
        end = int(np.searchsorted(received_us, _microseconds(day + timedelta(days=1)), side="left"))
        if end <= start:
            raise InvariantError("business dates must advance")
        yield day, table.slice(start, end - start)
        start = end


def _next_sequence(directory: Path) -> int:
    numbers = [
        int(match.group(1)) for path in directory.iterdir() if (match := PART_PATTERN.match(path.name))
    ]
    return max(numbers, default=0) + 1


def write_parquet_atomically(table: pa.Table, directory: Path, *, fsync: bool = True) -> Path:
    """Write ``table`` as the next ``part-NNNNNN.parquet`` in ``directory``, all or nothing.

    ``fsync=False`` skips flushing the file and the folder to disk: the file still appears whole or not at
    all to other processes, but an operating-system crash may lose it. Only for scratch lakes rebuilt on
    every run (the demo's).
    """
    directory.mkdir(parents=True, exist_ok=True)
    temporary = directory / f".tmp-{uuid.uuid4().hex}.parquet"
    try:
        with open(temporary, "wb") as sink:
            pq.write_table(
                table,
                sink,
                compression=COMPRESSION,
                row_group_size=bounds.lake_row_group_rows_max,
                write_statistics=True,
            )
            sink.flush()
            if fsync:
                os.fsync(sink.fileno())
        sequence = _next_sequence(directory)
        while True:
            if sequence > bounds.lake_file_sequence_max:
                raise BoundExceededError("lake_file_sequence_max", bounds.lake_file_sequence_max, sequence)
            final = directory / f"part-{sequence:06d}.parquet"
            try:
                os.link(temporary, final)
            except FileExistsError:
                sequence += 1
                continue
            break
    finally:
        temporary.unlink(missing_ok=True)
    if fsync:
        _fsync_directory(directory)
    return final


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class LakeWriter:
    """Writes validated tables of one event type into the lake.

    ``fsync=False`` is for scratch lakes only (see :func:`write_parquet_atomically`).
    """

    def __init__(self, lake_dir: Path | str, *, fsync: bool = True) -> None:
        self.lake_dir = Path(lake_dir)
        self.fsync = fsync

    def write(self, event_type: str, table: pa.Table) -> list[LakeFile]:
        """Write ``table`` (in the lake schema of ``event_type``): one or more files per business date."""
        _check_event_type(event_type)
        schema = arrow_schema(event_type)
        if not table.schema.equals(schema):
            raise InvariantError(f"table for {event_type} does not have the lake schema")
        if table.num_rows == 0:
            return []
        ordered = sort_for_lake(table)
        if pc.any(pc.not_equal(ordered.column("event_type"), event_type)).as_py():
            raise InvariantError(f"table for {event_type} has rows of another type")
        written: list[LakeFile] = []
        for day, rows in split_by_business_date(ordered):
            directory = partition_dir(self.lake_dir, event_type, day)
            for start in range(0, rows.num_rows, bounds.lake_file_rows_max):
                chunk = rows.slice(start, bounds.lake_file_rows_max).combine_chunks()
                path = write_parquet_atomically(chunk, directory, fsync=self.fsync)
                written.append(LakeFile(path, event_type, day, chunk.num_rows))
        return written


def lake_files(lake_dir: Path | str, event_type: str) -> list[Path]:
    """The finished Parquet files of ``event_type`` in the lake, in date and sequence order."""
    _check_event_type(event_type)
    root = Path(lake_dir) / event_type
    if not root.is_dir():
        return []
    return sorted(
        path
        for day_dir in root.glob("date=*")
        if day_dir.is_dir()
        for path in day_dir.iterdir()
        if PART_PATTERN.match(path.name)
    )


def read_lake_table(lake_dir: Path | str, event_type: str) -> pa.Table:
    """All rows of ``event_type`` in the lake as one Arrow table in the lake schema, in lake order."""
    schema = arrow_schema(event_type)
    tables = [pq.read_table(path, schema=schema) for path in lake_files(lake_dir, event_type)]
    if not tables:
        return schema.empty_table()
    return sort_for_lake(pa.concat_tables(tables))


def lake_relation(lake_dir: Path | str, event_type: str, connection: Any = None) -> Any:
    """A DuckDB relation over the lake files of ``event_type`` (``duckdb.DuckDBPyRelation``).

    ``connection`` is a ``duckdb.DuckDBPyConnection`` (a new in-memory one when None). With no files yet,
    the relation is the empty table in the lake schema.
    """
    import duckdb

    database = connection if connection is not None else duckdb.connect()
    files = [str(path) for path in lake_files(lake_dir, event_type)]
    if not files:
        return database.from_arrow(arrow_schema(event_type).empty_table())
    return database.read_parquet(files, hive_partitioning=False)
