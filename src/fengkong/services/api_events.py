"""Use case behind ``POST /v1/events``: one batch of events, each accepted, a duplicate, or rejected.

The batch goes through the same pieces as ``fengkong ingest`` (:mod:`fengkong.services.ingest_events`):
each record is validated against the one event schema (:func:`fengkong.ingest.validate.parse_record`),
deduplicated by event ID against the ``ingested_events`` table, written to the Parquet lake and, when the
API has a Redis transport, published to Redis Streams. The event IDs are recorded on the caller's
connection, so they commit together with the request's idempotency key
(:func:`fengkong.services.api_context.run_once`); a failure before the commit forgets them, and a retry
ingests the batch again (at least once into the lake, like the file path; consumers deduplicate by event ID).

Every record gets a result in input order: ``accepted`` (new), ``duplicate`` (its event ID was ingested
before, or appears earlier in the same batch) or ``rejected`` with the field and the reason. A bad record is
a value, never an error for the whole batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import sqlalchemy as sa

from fengkong import bounds
from fengkong.clock import Clock
from fengkong.domain.events import Event
from fengkong.errors import BoundExceededError, InputError
from fengkong.ingest.dedup import EventKey, from_microseconds, keep_new
from fengkong.ingest.lake import LakeWriter
from fengkong.ingest.transport import Transport
from fengkong.ingest.validate import parse_record
from fengkong.ingest.wire import events_to_tables
from fengkong.store.repositories import IngestedEventRepository

ACCEPTED: Final = "accepted"
DUPLICATE: Final = "duplicate"
REJECTED: Final = "rejected"


@dataclass(frozen=True, slots=True)
class EventResult:
    """What became of one record of the batch (``index`` is its 0-based position)."""

    index: int
    status: str  # accepted, duplicate or rejected
    event_id: str | None
    field: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class EventsResult:
    results: tuple[EventResult, ...]
    accepted: int
    duplicates: int
    rejected: int
    published: int


class _ConnectionSeenEvents:
    """:class:`~fengkong.ingest.dedup.SeenEvents` over the caller's connection: the IDs commit with it."""

    def __init__(self, connection: sa.Connection, clock: Clock) -> None:
        self._connection = connection
        self._repository = IngestedEventRepository(clock)

    def filter_new(self, batch: Sequence[EventKey]) -> list[EventKey]:
        if not batch:
            return []
        rows = [
            (
                key.event_id,
                key.event_type,
                from_microseconds(key.occurred_at_us),
                from_microseconds(key.received_at_us),
            )
            for key in batch
        ]
        new_ids = self._repository.record_new(self._connection, rows)
        return [key for key in batch if key.event_id in new_ids]

    def commit(self) -> None:
        """Nothing to do: the caller's transaction commits the IDs."""


def _readable_id(record: object) -> str | None:
    if isinstance(record, dict):
        value = record.get("event_id")
        if isinstance(value, str) and 0 < len(value) <= bounds.event_id_length_max:
            return value
    return None


def ingest_batch(
    connection: sa.Connection,
    clock: Clock,
    records: Sequence[object],
    lake_dir: Path,
    transport: Transport | None,
) -> EventsResult:
    """Validate, deduplicate, write and publish one batch of decoded JSON records (module docstring)."""
    if len(records) > bounds.api_events_per_request_max:
        raise BoundExceededError(
            "api_events_per_request_max", bounds.api_events_per_request_max, len(records)
        )
    if not records:
        raise InputError("the batch holds no events", field="events")
    parsed: list[tuple[int, Event]] = []
    results: dict[int, EventResult] = {}
    for index, record in enumerate(records):
        try:
            parsed.append((index, parse_record(record, clock)))
        except InputError as error:
            results[index] = EventResult(
                index, REJECTED, _readable_id(record), error.field or "record", error.reason
            )
    keys = [
        EventKey.of(event.event_id, event.event_type, event.occurred_at, event.received_at)
        for _, event in parsed
    ]
    keep = keep_new(keys, _ConnectionSeenEvents(connection, clock))
    new_events: list[Event] = []
    for (index, event), kept in zip(parsed, keep, strict=True):
        results[index] = EventResult(index, ACCEPTED if kept else DUPLICATE, event.event_id)
        if kept:
            new_events.append(event)
    writer = LakeWriter(lake_dir)
    for event_type, table in events_to_tables(new_events).items():
        writer.write(event_type, table)
    published = transport.publish(new_events) if transport is not None and new_events else 0
    ordered = tuple(results[index] for index in range(len(records)))
    return EventsResult(
        results=ordered,
        accepted=sum(result.status == ACCEPTED for result in ordered),
        duplicates=sum(result.status == DUPLICATE for result in ordered),
        rejected=sum(result.status == REJECTED for result in ordered),
        published=published,
    )
