"""Validation of raw event records against :data:`fengkong.domain.events.EVENT_TYPES`, the one schema.

Bad data is never an exception here: a batch comes back as a value, the events that passed and one
:class:`Rejection` per record that did not (its line or row, its event ID when known, the field and the
reason). Two paths share the rules:

* :func:`validate_records` takes decoded JSON objects (JSON Lines, the API) and returns :class:`Event` values;
* :func:`validate_table` takes an Arrow table in the columnar layout of
  :func:`fengkong.domain.events.column_layout` (Parquet from the simulator or the lake) and checks whole
  columns with ``pyarrow.compute``, returning Arrow tables per event type, so large files stay fast.

Field names in rejections are the wire names: ``subjects.consumer`` and ``attributes.amount`` for JSON,
the column names (``consumer_id``, ``amount_fen``) for tables.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from fengkong import bounds
from fengkong.clock import Clock, parse_timestamp, require_utc
from fengkong.domain.events import (
    EVENT_TYPE_NAMES,
    EVENT_TYPES,
    AttributeKind,
    AttributeSpec,
    AttributeValue,
    Event,
    EventTypeSpec,
    Subject,
    column_layout,
)
from fengkong.errors import BoundExceededError, InputError
from fengkong.ingest.schema import (
    ARROW_TYPES,
    TIMESTAMP_TYPE,
    arrow_schema,
    attribute_columns,
    subject_columns,
)
from fengkong.money import Money

INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1
CLOCK_SKEW: Final = timedelta(seconds=bounds.event_clock_skew_seconds_max)
TOP_LEVEL_FIELDS: Final = frozenset(
    {"event_id", "event_type", "occurred_at", "received_at", "source", "subjects", "attributes"}
)
DEFAULT_SOURCE: Final = "unknown"
_DATE_PATTERN: Final = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DECIMAL_PATTERN: Final = r"^-?[0-9]+(\.[0-9]+)?$"
_DECIMAL_RE: Final = re.compile(_DECIMAL_PATTERN)

BoolMask = npt.NDArray[np.bool_]
RowNumbers = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Rejection:
    """A record that did not validate. ``line`` is the 1-based line (JSON Lines) or row (Parquet)."""

    line: int
    field: str
    reason: str
    event_id: str | None = None
    file: str = ""


@dataclass(frozen=True, slots=True)
class Validated:
    """The outcome of validating a batch of records: the good events, and the bad records reported.

    ``rejections`` lists at most ``bounds.ingest_errors_reported_max`` records; ``rejected_count`` counts all.
    """

    events: tuple[Event, ...]
    rejections: tuple[Rejection, ...]
    rejected_count: int


@dataclass(frozen=True, slots=True)
class ValidatedTables:
    """The outcome of validating an Arrow table: per event type, the good rows in the lake schema.

    ``row_numbers[event_type][i]`` is the input row (1-based) of row ``i`` of ``tables[event_type]``.
    """

    tables: Mapping[str, pa.Table]
    row_numbers: Mapping[str, RowNumbers]
    rejections: tuple[Rejection, ...]
    rejected_count: int

    @property
    def accepted_count(self) -> int:
        return sum(table.num_rows for table in self.tables.values())


def _check_batch_size(count: int) -> None:
    if count > bounds.ingest_batch_events_max:
        raise BoundExceededError("ingest_batch_events_max", bounds.ingest_batch_events_max, count)


# -- the record path (JSON) ---------------------------------------------------------------------------------


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _identifier(value: object, field: str, length_max: int) -> str:
    if value is None:
        raise InputError("missing", field=field)
    if not isinstance(value, str):
        raise InputError(f"expected a string, got {_type_name(value)}", field=field)
    if not value.strip():
        raise InputError("empty", field=field)
    if len(value) > length_max:
        raise InputError(f"longer than {length_max} characters", field=field)
    return value


def _timestamp(value: object, field: str) -> datetime:
    if value is None:
        raise InputError("missing", field=field)
    if not isinstance(value, str):
        raise InputError(f"expected an ISO 8601 string with a zone, got {_type_name(value)}", field=field)
    return parse_timestamp(value, field)


def parse_attribute(spec: AttributeSpec, value: object, field: str) -> AttributeValue:
    """One attribute value from JSON, by kind. Money becomes integer fen; dates stay ``YYYY-MM-DD``."""
    kind = spec.kind
    if kind is AttributeKind.MONEY:
        if isinstance(value, float):
            raise InputError(
                f"money must be a string such as '1234.56'; the float {value!r} is refused (inexact)",
                field=field,
            )
        if not isinstance(value, str):
            raise InputError(
                f"money must be a string such as '1234.56', got {_type_name(value)}", field=field
            )
        try:
            amount_fen = Money.parse(value).amount_minor
        except InputError as error:
            raise InputError(error.reason, field=field) from None
        if not INT64_MIN <= amount_fen <= INT64_MAX:
            raise InputError("amount out of range", field=field)
        return amount_fen
    if kind is AttributeKind.INTEGER:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InputError(f"expected an integer, got {_type_name(value)}", field=field)
        minimum = INT64_MIN if spec.minimum is None else spec.minimum
        maximum = INT64_MAX if spec.maximum is None else spec.maximum
        if not minimum <= value <= maximum:
            raise InputError(f"{value} is outside [{minimum}, {maximum}]", field=field)
        return value
    if kind is AttributeKind.BOOLEAN:
        if not isinstance(value, bool):
            raise InputError(f"expected true or false, got {_type_name(value)}", field=field)
        return value
    if not isinstance(value, str):
        raise InputError(f"expected a string, got {_type_name(value)}", field=field)
    if len(value) > bounds.event_string_length_max:
        raise InputError(f"longer than {bounds.event_string_length_max} characters", field=field)
    if kind is AttributeKind.CHOICE:
        if value not in spec.choices:
            raise InputError(f"{value!r} is not one of {', '.join(spec.choices)}", field=field)
        return value
    if kind is AttributeKind.DATE:
        try:
            if not _DATE_PATTERN.match(value):
                raise ValueError(value)
            return date.fromisoformat(value).isoformat()
        except ValueError:
            raise InputError(f"not a date YYYY-MM-DD: {value!r}", field=field) from None
    if kind is AttributeKind.DECIMAL and not _DECIMAL_RE.match(value):
        raise InputError(f"not a decimal number such as '0.0365': {value!r}", field=field)
    return value


def _subjects(spec: EventTypeSpec, value: object) -> tuple[Subject, ...]:
    if value is None:
        raise InputError("missing", field="subjects")
    if not isinstance(value, dict):
        raise InputError(f"expected an object of role to party ID, got {_type_name(value)}", field="subjects")
    if len(value) > bounds.event_subjects_max:
        raise InputError(f"more than {bounds.event_subjects_max} subjects", field="subjects")
    known = spec.all_subject_roles
    for role in value:
        if role not in known:
            raise InputError(
                f"unknown role {role!r} for {spec.event_type} (roles: {', '.join(known)})",
                field=f"subjects.{role}",
            )
    subjects: list[Subject] = []
    for role in known:
        party_id = value.get(role)
        if party_id is None:
            if role in spec.subject_roles:
                raise InputError("missing required subject", field=f"subjects.{role}")
            continue
        subjects.append(
            Subject(role, _identifier(party_id, f"subjects.{role}", bounds.event_party_id_length_max))
        )
    return tuple(subjects)


def _attributes(spec: EventTypeSpec, value: object) -> dict[str, AttributeValue]:
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise InputError(f"expected an object, got {_type_name(value)}", field="attributes")
    if len(value) > bounds.event_attributes_max:
        raise InputError(f"more than {bounds.event_attributes_max} attributes", field="attributes")
    names = {attribute.name for attribute in spec.attributes}
    for name in value:
        if name not in names:
            raise InputError(f"unknown attribute for {spec.event_type}", field=f"attributes.{name}")
    attributes: dict[str, AttributeValue] = {}
    for attribute in spec.attributes:
        raw = value.get(attribute.name)
        field = f"attributes.{attribute.name}"
        if raw is None:
            if attribute.required:
                raise InputError("missing required attribute", field=field)
            continue
        attributes[attribute.name] = parse_attribute(attribute, raw, field)
    return attributes


def parse_record(record: object, clock: Clock) -> Event:
    """One decoded JSON object → :class:`Event`; raises :class:`InputError` naming the first bad field.

    ``received_at`` may be absent (or null): it is then stamped from ``clock``.
    """
    if not isinstance(record, dict):
        raise InputError(f"a record must be a JSON object, got {_type_name(record)}", field="record")
    event_id = _identifier(record.get("event_id"), "event_id", bounds.event_id_length_max)
    raw_type = _identifier(record.get("event_type"), "event_type", bounds.event_type_length_max)
    spec = EVENT_TYPES.get(raw_type)
    if spec is None:
        raise InputError(f"unknown event type {raw_type!r}", field="event_type")
    for name in record:
        if name not in TOP_LEVEL_FIELDS:
            raise InputError("unknown field", field=str(name))
    occurred_at = _timestamp(record.get("occurred_at"), "occurred_at")
    raw_received = record.get("received_at")
    received_at = (
        require_utc(clock.now()) if raw_received is None else _timestamp(raw_received, "received_at")
    )
    if received_at < occurred_at - CLOCK_SKEW:
        raise InputError(
            f"received_at is {occurred_at - received_at} before occurred_at "
            f"(more than {bounds.event_clock_skew_seconds_max} s of clock skew)",
            field="received_at",
        )
    raw_source = record.get("source")
    source = (
        DEFAULT_SOURCE
        if raw_source is None
        else _identifier(raw_source, "source", bounds.event_source_length_max)
    )
    subjects = _subjects(spec, record.get("subjects"))
    attributes = _attributes(spec, record.get("attributes"))
    return Event(event_id, spec.event_type, occurred_at, received_at, subjects, attributes, source)


def _known_event_id(record: object) -> str | None:
    if isinstance(record, dict):
        value = record.get("event_id")
        return _readable_event_id(value)
    return None


def _readable_event_id(value: object) -> str | None:
    """``value`` when it can name the record in a rejection (a non-blank string within the bound)."""
    if isinstance(value, str) and value.strip() and len(value) <= bounds.event_id_length_max:
        return value
    return None


def validate_records(
    records: Iterable[tuple[int, object | Rejection]],
    clock: Clock,
    *,
    file: str = "",
    reported_max: int = bounds.ingest_errors_reported_max,
) -> Validated:
    """Validate ``(line, record)`` pairs; a :class:`Rejection` in place of a record (a line that was not
    JSON) is passed through. At most ``bounds.ingest_batch_events_max`` records per batch."""
    pairs = list(records)
    _check_batch_size(len(pairs))
    events: list[Event] = []
    rejections: list[Rejection] = []
    rejected_count = 0
    for line, record in pairs:
        rejection: Rejection | None
        if isinstance(record, Rejection):
            rejection = record
        else:
            try:
                events.append(parse_record(record, clock))
                continue
            except InputError as error:
                rejection = Rejection(
                    line, error.field or "record", error.reason, _known_event_id(record), file
                )
        rejected_count += 1
        if len(rejections) < reported_max:
            rejections.append(rejection)
    return Validated(tuple(events), tuple(rejections), rejected_count)


# -- the columnar path (Arrow / Parquet) --------------------------------------------------------------------


class _Flags:
    """Which input rows are bad, and the first ``reported_max`` of them with field and reason."""

    def __init__(self, row_count: int, reported_max: int) -> None:
        self.bad: BoolMask = np.zeros(row_count, dtype=np.bool_)
        self.reported_max = reported_max
        self.found: list[tuple[int, str, str]] = []

    def flag(self, rows: RowNumbers, mask: BoolMask, field: str, reason: Callable[[int], str] | str) -> None:
        """Mark ``rows[mask]`` bad (those not already bad) with ``field`` and ``reason(position)``."""
        positions = np.flatnonzero(mask & ~self.bad[rows])
        if positions.size == 0:
            return
        self.bad[rows[positions]] = True
        for position in positions[: self.reported_max].tolist():
            text = reason if isinstance(reason, str) else reason(position)
            self.found.append((int(rows[position]), field, text))


def _mask(values: pa.Array | pa.ChunkedArray) -> BoolMask:
    """A boolean Arrow result as a numpy mask, null as False."""
    filled = pc.fill_null(values, False)
    result: BoolMask = np.asarray(filled.to_numpy(zero_copy_only=False), dtype=np.bool_)
    return result


def _coerce(column: pa.ChunkedArray, logical: str, is_money: bool) -> tuple[pa.ChunkedArray | None, str]:
    """Cast a column to the layout's Arrow type, or say why it cannot be (then the column is unusable)."""
    source = column.type
    target = ARROW_TYPES[logical]
    if pa.types.is_null(source):
        return pa.chunked_array([pa.nulls(len(column), target)]), ""
    if pa.types.is_dictionary(source):
        column = column.cast(source.value_type)
        source = column.type
    acceptable = {
        "string": pa.types.is_string(source) or pa.types.is_large_string(source),
        "int64": pa.types.is_integer(source),
        "bool": pa.types.is_boolean(source),
        "date": pa.types.is_date(source),
        "timestamp_utc_us": pa.types.is_timestamp(source) and source.tz is not None,
    }[logical]
    if not acceptable:
        if is_money and pa.types.is_floating(source):
            return None, f"money must be integer fen (int64); the float column ({source}) is refused"
        if pa.types.is_timestamp(source) and logical == "timestamp_utc_us":
            return None, f"timestamp column has no time zone ({source}); write {TIMESTAMP_TYPE}"
        return None, f"column type {source} cannot be read as {target}"
    try:
        return column.cast(target, safe=True), ""
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
        return None, f"column type {source} cannot be read as {target}: {error}"


class _Group:
    """The rows of one event type, checked column by column."""

    def __init__(self, table: pa.Table, rows: RowNumbers, flags: _Flags) -> None:
        self.table = table
        self.rows = rows
        self.flags = flags
        self.all_rows: BoolMask = np.ones(len(rows), dtype=np.bool_)

    def column(self, name: str, logical: str, required: bool, is_money: bool = False) -> pa.ChunkedArray:
        target = ARROW_TYPES[logical]
        if name not in self.table.column_names:
            if required:
                self.flags.flag(self.rows, self.all_rows, name, "missing column")
            return pa.chunked_array([pa.nulls(self.table.num_rows, target)])
        coerced, reason = _coerce(self.table.column(name), logical, is_money)
        if coerced is None:
            self.flags.flag(self.rows, self.all_rows, name, reason)
            return pa.chunked_array([pa.nulls(self.table.num_rows, target)])
        if required:
            self.flags.flag(self.rows, _mask(pc.is_null(coerced)), name, "missing")
        return coerced

    def check(self, name: str, bad: pa.ChunkedArray | pa.Array, reason: Callable[[int], str] | str) -> None:
        self.flags.flag(self.rows, _mask(bad), name, reason)

    def check_length(self, name: str, values: pa.ChunkedArray, length_max: int, allow_empty: bool) -> None:
        lengths = pc.utf8_length(values)
        self.check(name, pc.greater(lengths, length_max), f"longer than {length_max} characters")
        if not allow_empty:
            self.check(name, pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(values)), 0), "empty")


def _reason(column: pa.ChunkedArray, template: str) -> Callable[[int], str]:
    """A reason naming the value at a position: ``template`` formatted with ``value``."""
    return lambda position: template.format(value=column[position].as_py())


def _validate_group(
    spec: EventTypeSpec, table: pa.Table, rows: RowNumbers, flags: _Flags, clock: Clock
) -> pa.Table:
    group = _Group(table, rows, flags)
    event_id = group.column("event_id", "string", required=True)
    group.check_length("event_id", event_id, bounds.event_id_length_max, allow_empty=False)
    occurred_at = group.column("occurred_at", "timestamp_utc_us", required=True)
    received_at = group.column("received_at", "timestamp_utc_us", required=False)
    received_at = pc.fill_null(received_at, pa.scalar(require_utc(clock.now()), TIMESTAMP_TYPE))
    earliest = pc.subtract(occurred_at, pa.scalar(CLOCK_SKEW, pa.duration("us")))
    skew_seconds = bounds.event_clock_skew_seconds_max
    group.check(
        "received_at",
        pc.less(received_at, earliest),
        f"received_at precedes occurred_at by more than {skew_seconds} s of clock skew",
    )
    source = group.column("source", "string", required=False)
    group.check_length("source", source, bounds.event_source_length_max, allow_empty=False)
    source = pc.fill_null(source, DEFAULT_SOURCE)
    columns: dict[str, pa.ChunkedArray] = {
        "event_id": event_id,
        "event_type": pa.chunked_array([pa.array([spec.event_type] * table.num_rows, pa.string())]),
        "occurred_at": occurred_at,
        "received_at": received_at,
        "source": source,
    }
    for _role, name, required in subject_columns(spec):
        party_id = group.column(name, "string", required=required)
        group.check_length(name, party_id, bounds.event_party_id_length_max, allow_empty=False)
        columns[name] = party_id
    logical_types = dict(column_layout(spec.event_type))
    for attribute, name in attribute_columns(spec):
        kind = attribute.kind
        values = group.column(
            name, logical_types[name], required=attribute.required, is_money=kind is AttributeKind.MONEY
        )
        if kind is AttributeKind.INTEGER:
            minimum = INT64_MIN if attribute.minimum is None else attribute.minimum
            maximum = INT64_MAX if attribute.maximum is None else attribute.maximum
            group.check(
                name,
                pc.or_(pc.less(values, minimum), pc.greater(values, maximum)),
                _reason(values, "{value} is outside [" + f"{minimum}, {maximum}" + "]"),
            )
        elif kind in (AttributeKind.STRING, AttributeKind.CHOICE, AttributeKind.DECIMAL):
            group.check_length(name, values, bounds.event_string_length_max, allow_empty=True)
            if kind is AttributeKind.CHOICE:
                group.check(
                    name,
                    pc.and_(
                        pc.is_valid(values),
                        pc.invert(pc.is_in(values, pa.array(attribute.choices, pa.string()))),
                    ),
                    _reason(values, "{value!r} is not one of " + ", ".join(attribute.choices)),
                )
            if kind is AttributeKind.DECIMAL:
                group.check(
                    name,
                    pc.invert(pc.match_substring_regex(values, _DECIMAL_PATTERN)),
                    _reason(values, "not a decimal number such as '0.0365': {value!r}"),
                )
        columns[name] = values
    layout = arrow_schema(spec.event_type)
    for name in table.column_names:
        if name not in layout.names:
            extra = table.column(name)
            group.check(
                name, pc.is_valid(extra), f"unknown attribute: {spec.event_type} has no column {name!r}"
            )
    return pa.table([columns[name] for name in layout.names], schema=layout)


def validate_table(
    table: pa.Table,
    clock: Clock,
    *,
    first_row: int = 1,
    file: str = "",
    reported_max: int = bounds.ingest_errors_reported_max,
) -> ValidatedTables:
    """Validate a table in the columnar layout (any mix of event types, told apart by ``event_type``).

    Rows are numbered from ``first_row``. Every check runs on whole columns; only the reported rejections
    (at most ``reported_max``) look at single values.
    """
    _check_batch_size(table.num_rows)
    row_count = table.num_rows
    flags = _Flags(row_count, reported_max)
    everything: RowNumbers = np.arange(row_count, dtype=np.int64)
    tables: dict[str, pa.Table] = {}
    row_numbers: dict[str, RowNumbers] = {}
    if "event_type" not in table.column_names:
        flags.flag(everything, np.ones(row_count, dtype=np.bool_), "event_type", "missing column")
        event_types = pa.chunked_array([pa.nulls(row_count, pa.string())])
    else:
        coerced, reason = _coerce(table.column("event_type"), "string", is_money=False)
        if coerced is None:
            flags.flag(everything, np.ones(row_count, dtype=np.bool_), "event_type", reason)
            event_types = pa.chunked_array([pa.nulls(row_count, pa.string())])
        else:
            event_types = coerced
    flags.flag(everything, _mask(pc.is_null(event_types)), "event_type", "missing")
    flags.flag(
        everything,
        _mask(pc.invert(pc.is_in(event_types, pa.array(EVENT_TYPE_NAMES, pa.string())))),
        "event_type",
        _reason(event_types, "unknown event type {value!r}"),
    )
    present = [value for value in pc.unique(event_types).to_pylist() if value in EVENT_TYPES]
    groups: list[tuple[str, pa.Table, RowNumbers]] = []
    for event_type in sorted(present):
        positions = np.flatnonzero(_mask(pc.equal(event_types, event_type)))
        subset = table.take(pa.array(positions))
        groups.append(
            (event_type, _validate_group(EVENT_TYPES[event_type], subset, positions, flags, clock), positions)
        )
    for event_type, checked, positions in groups:
        keep = ~flags.bad[positions]
        tables[event_type] = checked.filter(pa.array(keep))
        row_numbers[event_type] = positions[keep] + first_row
    return ValidatedTables(
        tables, row_numbers, _rejections(table, flags, first_row, file), int(flags.bad.sum())
    )


def _rejections(table: pa.Table, flags: _Flags, first_row: int, file: str) -> tuple[Rejection, ...]:
    found = sorted(flags.found)[: flags.reported_max]
    ids: pa.ChunkedArray | None = None
    if "event_id" in table.column_names:
        coerced, _ = _coerce(table.column("event_id"), "string", is_money=False)
        ids = coerced
    result: list[Rejection] = []
    for position, field, reason in found:
        event_id = _readable_event_id(ids[position].as_py()) if ids is not None else None
        result.append(Rejection(position + first_row, field, reason, event_id, file))
    return tuple(result)
