"""Deduplication by event ID in the database: the ``ingested_events`` table of ``store/``.

:class:`StoreSeenEvents` records each batch's IDs through
:meth:`fengkong.store.repositories.IngestedEventRepository.record_new` inside a database transaction and
commits it only when the ingestion use case says the batch is durable (:meth:`StoreSeenEvents.commit`). A
crash in between rolls the IDs back, so a replay ingests the batch again rather than losing it. Across
processes, ``record_new`` reports each ID as new to exactly one committed transaction.

Use it as a context manager: leaving the block rolls back whatever was not committed.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType

import sqlalchemy as sa

from fengkong.clock import Clock
from fengkong.ingest.dedup import EventKey, from_microseconds
from fengkong.store.config import make_engine
from fengkong.store.repositories import IngestedEventRepository


class StoreSeenEvents:
    """A :class:`~fengkong.ingest.dedup.SeenEvents` backed by the ``ingested_events`` table."""

    def __init__(self, engine: sa.Engine, clock: Clock) -> None:
        self.engine = engine
        self._repository = IngestedEventRepository(clock)
        self._connection: sa.Connection | None = None
        self._transaction: sa.RootTransaction | None = None
        self._owns_engine = False

    @classmethod
    def from_url(cls, url: str, clock: Clock) -> StoreSeenEvents:
        """For the (migrated) database at ``url``: ``sqlite:///path`` or ``postgresql+psycopg://...``.

        The engine is made here and disposed when the ``with`` block ends."""
        seen = cls(make_engine(url), clock)
        seen._owns_engine = True
        return seen

    def _open(self) -> sa.Connection:
        if self._connection is None:
            self._connection = self.engine.connect()
            self._transaction = self._connection.begin()
        return self._connection

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
        new_ids = self._repository.record_new(self._open(), rows)
        return [key for key in batch if key.event_id in new_ids]

    def commit(self) -> None:
        if self._transaction is not None:
            self._transaction.commit()
        self._close()

    def rollback(self) -> None:
        """Forget the IDs recorded since the last commit."""
        if self._transaction is not None and self._transaction.is_active:
            self._transaction.rollback()
        self._close()

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
        self._connection = None
        self._transaction = None

    def __enter__(self) -> StoreSeenEvents:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.rollback()
        if self._owns_engine:
            self.engine.dispose()
