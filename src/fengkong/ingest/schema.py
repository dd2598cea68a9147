"""Arrow types of the columnar event layout (:func:`fengkong.domain.events.column_layout`).

One place maps the layout's logical types to Arrow, so the validator, the lake writer and the reader agree:
``timestamp_utc_us`` is ``timestamp[us, tz=UTC]``, ``date`` is ``date32``, money columns are ``int64`` fen.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache
from typing import Final

import pyarrow as pa

from fengkong.domain.events import (
    COMMON_COLUMNS,
    EVENT_TYPES,
    AttributeSpec,
    EventTypeSpec,
    attribute_column,
    column_layout,
    subject_column,
)

TIMESTAMP_TYPE: Final = pa.timestamp("us", tz="UTC")

ARROW_TYPES: Final[Mapping[str, pa.DataType]] = {
    "string": pa.string(),
    "int64": pa.int64(),
    "bool": pa.bool_(),
    "date": pa.date32(),
    "timestamp_utc_us": TIMESTAMP_TYPE,
}

COMMON_COLUMN_NAMES: Final = tuple(name for name, _ in COMMON_COLUMNS)


@cache
def arrow_schema(event_type: str) -> pa.Schema:
    """The Arrow schema of the table for ``event_type``, in :func:`column_layout` order, all nullable."""
    return pa.schema([pa.field(name, ARROW_TYPES[logical]) for name, logical in column_layout(event_type)])


def subject_columns(spec: EventTypeSpec) -> tuple[tuple[str, str, bool], ...]:
    """(role, column, required) for every subject role of ``spec``."""
    required = tuple((role, subject_column(role), True) for role in spec.subject_roles)
    optional = tuple((role, subject_column(role), False) for role in spec.optional_subject_roles)
    return required + optional


def attribute_columns(spec: EventTypeSpec) -> tuple[tuple[AttributeSpec, str], ...]:
    """(attribute spec, column) for every attribute of ``spec``."""
    return tuple((attribute, attribute_column(attribute)) for attribute in spec.attributes)


def utc_datetimes(column: pa.ChunkedArray | pa.Array) -> list[datetime | None]:
    """A timestamp column as aware UTC datetimes, fast (numpy, not ``to_pylist``); nulls become None."""
    if column.null_count:
        return [None if value is None else value.astimezone(UTC) for value in column.to_pylist()]
    instants = column.cast(TIMESTAMP_TYPE).to_numpy().astype("datetime64[us]").astype(object)
    return [instant.replace(tzinfo=UTC) for instant in instants.tolist()]


def primary_role(event_type: str) -> str:
    """The role whose party an event is filed under (stream partition): the first required role."""
    return EVENT_TYPES[event_type].subject_roles[0]
