"""Reading input files in bounded batches: JSON Lines records and Parquet row batches.

Neither reader holds more than one batch in memory. A JSON line that cannot be a record (too long, not
UTF-8, not JSON) becomes a :class:`~fengkong.ingest.validate.Rejection` in its place, so line numbers and
counts stay exact; an unreadable file raises :class:`~fengkong.errors.InputError`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final

import pyarrow as pa
import pyarrow.parquet as pq

from fengkong import bounds
from fengkong.errors import InputError
from fengkong.ingest.validate import Rejection

JSON_SUFFIXES: Final = (".jsonl", ".json", ".ndjson")
PARQUET_SUFFIX: Final = ".parquet"
_BOM: Final = b"\xef\xbb\xbf"
_SKIP_CHUNK_BYTES: Final = 65_536

RecordBatch = list[tuple[int, object | Rejection]]


def input_kind(path: Path) -> str:
    """``json`` or ``parquet`` for a file or a directory of Parquet files; anything else is refused."""
    if path.is_dir():
        return "parquet"
    if not path.is_file():
        raise InputError(f"no such file or directory: {path}", field="path")
    suffix = path.suffix.lower()
    if suffix in JSON_SUFFIXES:
        return "json"
    if suffix == PARQUET_SUFFIX:
        return "parquet"
    raise InputError(f"unsupported file type {suffix!r}: use .jsonl, .json or .parquet", field="path")


def _skip_rest_of_line(stream: BinaryIO) -> int:
    skipped = 0
    while True:
        chunk = stream.readline(_SKIP_CHUNK_BYTES)
        skipped += len(chunk)
        if not chunk or chunk.endswith(b"\n"):
            return skipped


def _decode_line(raw: bytes, line: int, file: str) -> object | Rejection:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return Rejection(line, "line", f"not UTF-8 (byte {error.start + 1})", None, file)
    try:
        record: object = json.loads(text)
    except json.JSONDecodeError as error:
        return Rejection(line, "line", f"not JSON: {error.msg} at column {error.colno}", None, file)
    except (ValueError, RecursionError) as error:
        return Rejection(line, "line", f"not JSON: {error}", None, file)
    return record


def iter_json_lines(
    path: Path, batch_records: int = bounds.ingest_batch_events_max, *, file: str = ""
) -> Iterator[tuple[RecordBatch, int]]:
    """Batches of ``(line number, record or Rejection)`` with the bytes read so far; blank lines skipped."""
    if not 0 < batch_records <= bounds.ingest_batch_events_max:
        raise InputError(f"must be in [1, {bounds.ingest_batch_events_max}]", field="batch_records")
    line_bytes_max = bounds.ingest_line_bytes_max
    try:
        stream = open(path, "rb")  # noqa: SIM115 - closed in the finally below, across yields
    except OSError as error:
        raise InputError(f"cannot read {path}: {error.strerror}", field="path") from error
    try:
        batch: RecordBatch = []
        line = 0
        position = 0
        while True:
            try:
                raw = stream.readline(line_bytes_max + 1)
            except OSError as error:
                raise InputError(f"cannot read {path}: {error.strerror}", field="path") from error
            if not raw:
                break
            line += 1
            position += len(raw)
            if line == 1 and raw.startswith(_BOM):
                raw = raw[len(_BOM) :]
            if len(raw.rstrip(b"\r\n")) > line_bytes_max:
                if not raw.endswith(b"\n"):
                    position += _skip_rest_of_line(stream)
                batch.append(
                    (line, Rejection(line, "line", f"longer than {line_bytes_max} bytes", None, file))
                )
            elif raw.strip():
                batch.append((line, _decode_line(raw, line, file)))
            if len(batch) == batch_records:
                yield batch, position
                batch = []
        if batch:
            yield batch, position
    finally:
        stream.close()


@dataclass(frozen=True, slots=True)
class ParquetSlice:
    """Rows of one Parquet file: the table, the 1-based number of its first row, and the file name."""

    table: pa.Table
    first_row: int
    file: str


def parquet_files(path: Path) -> list[Path]:
    """A Parquet file itself, or every ``*.parquet`` under a directory (the lake layout) in path order.

    Hidden files (a writer's temporary files start with ``.``) are skipped.
    """
    if path.is_file():
        return [path]
    files = sorted(
        candidate
        for candidate in path.rglob(f"*{PARQUET_SUFFIX}")
        if candidate.is_file() and not any(part.startswith(".") for part in candidate.relative_to(path).parts)
    )
    return files


def parquet_row_count(files: list[Path]) -> int:
    """Rows in ``files`` according to their footers."""
    total = 0
    for file in files:
        total += _open_parquet(file).metadata.num_rows
    return total


def _open_parquet(path: Path) -> pq.ParquetFile:
    try:
        return pq.ParquetFile(path)
    except (OSError, pa.ArrowException) as error:
        raise InputError(f"cannot read Parquet file {path}: {error}", field="path") from error


def iter_parquet(
    path: Path, batch_rows: int = bounds.ingest_batch_events_max, *, file: str = ""
) -> Iterator[ParquetSlice]:
    """Batches of at most ``batch_rows`` rows of one Parquet file."""
    if not 0 < batch_rows <= bounds.ingest_batch_events_max:
        raise InputError(f"must be in [1, {bounds.ingest_batch_events_max}]", field="batch_rows")
    parquet = _open_parquet(path)
    first_row = 1
    try:
        for batch in parquet.iter_batches(batch_size=batch_rows):
            yield ParquetSlice(pa.Table.from_batches([batch]), first_row, file)
            first_row += batch.num_rows
    except (OSError, pa.ArrowException) as error:
        raise InputError(f"cannot read Parquet file {path}: {error}", field="path") from error
