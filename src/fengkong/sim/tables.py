"""Arrow tables in exactly :func:`fengkong.domain.events.column_layout`, built from numpy columns.

The hot path never loops over events in Python: string columns are made by Arrow kernels (casting integer
sequences to strings, taking from small dictionaries, joining element-wise), so a day of a million events
costs a handful of vectorised calls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import TypeAlias

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from fengkong.domain.events import column_layout
from fengkong.errors import InvariantError

ARROW_TYPES: Mapping[str, pa.DataType] = {
    "string": pa.string(),
    "int64": pa.int64(),
    "bool": pa.bool_(),
    "date": pa.date32(),
    "timestamp_utc_us": pa.timestamp("us", tz="UTC"),
}

Column: TypeAlias = pa.Array | pa.ChunkedArray | npt.NDArray[np.generic]


@cache
def arrow_schema(event_type: str) -> pa.Schema:
    """The Arrow schema of ``event_type``'s table (logical types of ``column_layout``)."""
    return pa.schema([pa.field(name, ARROW_TYPES[kind]) for name, kind in column_layout(event_type)])


def build_table(event_type: str, size: int, columns: Mapping[str, Column]) -> pa.Table:
    """A table in ``event_type``'s layout; columns not given are all-null. Unknown columns are a bug."""
    schema = arrow_schema(event_type)
    unknown = set(columns) - set(schema.names)
    if unknown:
        raise InvariantError(f"{event_type}: columns not in the layout: {sorted(unknown)}")
    arrays: list[pa.Array] = []
    for schema_field in schema:
        value = columns.get(schema_field.name)
        if value is None:
            arrays.append(pa.nulls(size, type=schema_field.type))
            continue
        array = value if isinstance(value, pa.Array | pa.ChunkedArray) else pa.array(value)
        if isinstance(array, pa.ChunkedArray):
            array = array.combine_chunks()
        if array.type != schema_field.type:
            array = array.cast(schema_field.type)
        if len(array) != size:
            raise InvariantError(f"{event_type}.{schema_field.name} has {len(array)} rows, expected {size}")
        arrays.append(array)
    return pa.Table.from_arrays(arrays, schema=schema)


def empty_table(event_type: str) -> pa.Table:
    return arrow_schema(event_type).empty_table()


def numbered(prefix: str, numbers: npt.NDArray[np.int64]) -> pa.Array:
    """``prefix`` then each number: ``numbered("ord-3-0-", [7, 8])`` → ``["ord-3-0-7", "ord-3-0-8"]``."""
    digits = pc.cast(pa.array(numbers, type=pa.int64()), pa.string())
    return pc.binary_join_element_wise(pa.scalar(prefix), digits, "")


def pick(values: Sequence[str] | pa.Array, codes: npt.NDArray[np.integer]) -> pa.Array:
    """``values[codes]`` as an Arrow string array (a small dictionary taken by index)."""
    dictionary = values if isinstance(values, pa.Array) else pa.array(list(values), type=pa.string())
    return dictionary.take(pa.array(codes.astype(np.int64, copy=False)))


def timestamps(microseconds: npt.NDArray[np.int64]) -> pa.Array:
    return pa.array(microseconds.astype(np.int64, copy=False), type=pa.int64()).cast(
        ARROW_TYPES["timestamp_utc_us"]
    )


def money(fen: npt.NDArray[np.integer]) -> pa.Array:
    """Integer fen as int64 (never a float)."""
    if fen.dtype.kind not in "iu":
        raise InvariantError(f"money column of dtype {fen.dtype}: amounts are integer fen")
    return pa.array(fen.astype(np.int64, copy=False), type=pa.int64())
