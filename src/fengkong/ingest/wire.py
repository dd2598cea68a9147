"""Conversions of validated events: to and from the JSON wire form, and to and from Arrow tables.

The wire form is the JSON Lines record of ``docs/events.md``: money as strings (``"1234.56"``), timestamps
as UTC ISO 8601 with ``Z``, subjects as an object keyed by role, attributes as an object. The stream
carries it as compact JSON; decoding a message goes through the same validation as any other input.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa

from fengkong.clock import FixedClock, format_timestamp
from fengkong.domain.events import EVENT_TYPES, AttributeKind, AttributeValue, Event, Subject
from fengkong.errors import InvariantError
from fengkong.ingest.schema import arrow_schema, attribute_columns, subject_columns, utc_datetimes
from fengkong.ingest.validate import parse_record
from fengkong.money import Money

_NEVER_CALLED_CLOCK = FixedClock(datetime(1970, 1, 1, tzinfo=UTC))


def event_to_wire(event: Event) -> dict[str, Any]:
    """The JSON-ready dict of ``event`` (money as strings, timestamps as ISO 8601 UTC)."""
    attributes: dict[str, Any] = {}
    for name, value in event.attributes.items():
        if event.spec.attribute(name).kind is AttributeKind.MONEY and isinstance(value, int):
            attributes[name] = Money(value).format()
        else:
            attributes[name] = value
    return {
        "event_id": event.event_id,
        "event_type": event.event_type,
        "occurred_at": format_timestamp(event.occurred_at),
        "received_at": format_timestamp(event.received_at),
        "source": event.source,
        "subjects": {subject.role: subject.party_id for subject in event.subjects},
        "attributes": attributes,
    }


def encode_event(event: Event) -> bytes:
    """Compact JSON of :func:`event_to_wire`, UTF-8."""
    return json.dumps(event_to_wire(event), separators=(",", ":"), ensure_ascii=False).encode()


def decode_event(message: bytes | str) -> Event:
    """Inverse of :func:`encode_event`. The message carries ``received_at``, so no clock is consulted.

    A message that does not validate was not written by :func:`encode_event`: that is a broken invariant.
    """
    record = json.loads(message)
    if not isinstance(record, dict) or record.get("received_at") is None:
        raise InvariantError("a stream message must be an encoded event with received_at")
    return parse_record(record, _NEVER_CALLED_CLOCK)


def _column_value(kind: AttributeKind, value: AttributeValue) -> object:
    if kind is AttributeKind.DATE and isinstance(value, str):
        return date.fromisoformat(value)
    return value


def events_to_table(event_type: str, events: Sequence[Event]) -> pa.Table:
    """Events of one type as a table in the lake schema (money in fen, dates as date32)."""
    spec = EVENT_TYPES[event_type]
    schema = arrow_schema(event_type)
    for event in events:
        if event.event_type != event_type:
            raise InvariantError(f"events_to_table({event_type!r}) got a {event.event_type!r} event")
    columns: dict[str, list[object]] = {
        "event_id": [event.event_id for event in events],
        "event_type": [event_type] * len(events),
        "occurred_at": [event.occurred_at for event in events],
        "received_at": [event.received_at for event in events],
        "source": [event.source for event in events],
    }
    for role, name, _required in subject_columns(spec):
        columns[name] = [event.subject(role) for event in events]
    for attribute, name in attribute_columns(spec):
        columns[name] = [
            _column_value(attribute.kind, event.attributes.get(attribute.name)) for event in events
        ]
    return pa.table([pa.array(columns[field.name], field.type) for field in schema], schema=schema)


def events_to_tables(events: Iterable[Event]) -> dict[str, pa.Table]:
    """Events grouped by type into lake tables (types in sorted order, events in their given order)."""
    by_type: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        by_type[event.event_type].append(event)
    return {event_type: events_to_table(event_type, by_type[event_type]) for event_type in sorted(by_type)}


def events_from_table(event_type: str, table: pa.Table) -> list[Event]:
    """Rows of a lake table (already validated) as :class:`Event` values."""
    spec = EVENT_TYPES[event_type]
    data: dict[str, list[Any]] = {
        name: utc_datetimes(table.column(name))
        if name in ("occurred_at", "received_at")
        else table.column(name).to_pylist()
        for name in table.column_names
    }
    subjects = subject_columns(spec)
    attributes = attribute_columns(spec)
    events: list[Event] = []
    for index in range(table.num_rows):
        event_subjects = tuple(
            Subject(role, data[name][index])
            for role, name, _required in subjects
            if data[name][index] is not None
        )
        event_attributes: dict[str, AttributeValue] = {}
        for attribute, name in attributes:
            value = data[name][index]
            if value is None:
                continue
            event_attributes[attribute.name] = value.isoformat() if isinstance(value, date) else value
        events.append(
            Event(
                data["event_id"][index],
                event_type,
                data["occurred_at"][index],
                data["received_at"][index],
                event_subjects,
                event_attributes,
                data["source"][index],
            )
        )
    return events
