"""Idempotency by event ID: the same ``event_id`` sent twice is the same event, kept once.

A :class:`SeenEvents` remembers which IDs were ingested; :meth:`SeenEvents.filter_new` takes a batch of
:class:`EventKey` (distinct IDs) and returns the subset never seen before, recording it. Two
implementations: :class:`InMemorySeenEvents` (a bounded window of recent IDs, on its own) and
:class:`StoreSeenEvents` (the ``ingested_events`` table, through ``store.repositories``).

:func:`keep_new` applies one to a batch in input order: duplicates inside the batch collapse to the first
occurrence, and IDs already seen are dropped.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Final, NamedTuple, Protocol

from fengkong import bounds
from fengkong.errors import InputError, InvariantError


class EventKey(NamedTuple):
    """What deduplication knows of an event: its ID, and (for the record) its type and times.

    A named tuple of plain values rather than a frozen dataclass of datetimes: one is made per ingested row,
    and the columnar path builds them straight from int64 timestamp columns.
    """

    event_id: str
    event_type: str
    occurred_at_us: int  # microseconds since the Unix epoch, UTC
    received_at_us: int

    @classmethod
    def of(cls, event_id: str, event_type: str, occurred_at: datetime, received_at: datetime) -> EventKey:
        return cls(event_id, event_type, microseconds(occurred_at), microseconds(received_at))


_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND: Final = timedelta(microseconds=1)


def microseconds(instant: datetime) -> int:
    """Microseconds since the Unix epoch of an aware datetime (a naive one raises TypeError)."""
    return (instant - _EPOCH) // _MICROSECOND


def from_microseconds(value: int) -> datetime:
    """The aware UTC datetime ``value`` microseconds after the Unix epoch."""
    return _EPOCH + timedelta(microseconds=value)


class SeenEvents(Protocol):
    """Remembers ingested event IDs.

    The ingestion use case calls :meth:`filter_new` for a batch, writes the new events to the lake and the
    transport, then calls :meth:`commit`. A store-backed implementation records the IDs in a database
    transaction that :meth:`commit` ends, so a crash before the batch is durable forgets the IDs and a
    replay ingests them again (at least once; consumers are idempotent by event ID), never loses them.
    """

    def filter_new(self, batch: Sequence[EventKey]) -> list[EventKey]:
        """The keys of ``batch`` (distinct IDs) not seen before, in batch order; they are now seen."""
        ...

    def commit(self) -> None:
        """Make the IDs recorded since the last commit durable."""
        ...


class InMemorySeenEvents:
    """The IDs of the last ``capacity`` new events, in process memory.

    Beyond ``capacity`` the oldest IDs are forgotten (a replay older than the window is then accepted
    again); the bound is ``bounds.dedup_window_events_max``.
    """

    def __init__(self, capacity: int = bounds.dedup_window_events_max) -> None:
        if not 0 < capacity <= bounds.dedup_window_events_max:
            raise InputError(f"must be in [1, {bounds.dedup_window_events_max}]", field="capacity")
        self.capacity = capacity
        self._seen: dict[str, None] = {}  # insertion-ordered: the oldest first

    def __len__(self) -> int:
        return len(self._seen)

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._seen

    def commit(self) -> None:
        """Nothing to do: memory is recorded at once (and lost with the process)."""

    def filter_new(self, batch: Sequence[EventKey]) -> list[EventKey]:
        seen = self._seen
        new = [key for key in batch if key.event_id not in seen]
        for key in new:
            if key.event_id in seen:
                raise InvariantError(f"filter_new was given {key.event_id!r} twice in one batch")
            seen[key.event_id] = None
        overflow = len(seen) - self.capacity
        if overflow > 0:
            for event_id in list(itertools.islice(seen, overflow)):
                del seen[event_id]
        return new


def keep_new(keys: Sequence[EventKey], seen: SeenEvents) -> list[bool]:
    """Which positions of ``keys`` to keep: the first occurrence of each ID that ``seen`` did not know."""
    first_positions: dict[str, int] = {}
    for position, key in enumerate(keys):
        first_positions.setdefault(key.event_id, position)
    distinct = [keys[position] for position in first_positions.values()]
    new_ids = {key.event_id for key in seen.filter_new(distinct)}
    keep = [False] * len(keys)
    for event_id, position in first_positions.items():
        if event_id in new_ids:
            keep[position] = True
    return keep
