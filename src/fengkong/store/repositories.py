"""Repositories: the SQL, and the conversion between rows and domain values.

Every method takes the caller's :class:`~sqlalchemy.Connection`, so a use case writes its rows and its outbox
rows in one transaction (``with engine.begin() as connection: ...``). Rows become domain values through named
constructors (:func:`party_from_row`), never ``Model(**row)``.

Concurrency. :meth:`IngestedEventRepository.record_new` and :meth:`IdempotencyRepository.remember_or_replay`
rely on ``INSERT ... ON CONFLICT DO NOTHING RETURNING``: on PostgreSQL a second transaction inserting the same
key waits for the first to commit and then inserts nothing, so exactly one caller sees each key as new. On
SQLite, writers are serialised at ``BEGIN IMMEDIATE`` (see :mod:`fengkong.store.config`).
:meth:`OutboxRepository.claim_batch` uses ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so concurrent workers
never claim the same row; on SQLite the clause is not needed (one writer at a time).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import sqlalchemy as sa

from fengkong import bounds
from fengkong.clock import Clock, require_utc
from fengkong.domain.party import Party, PartyKind, Role
from fengkong.errors import (
    BoundExceededError,
    ConflictError,
    IdempotencyConflictError,
    InputError,
    InvariantError,
    NotFoundError,
)
from fengkong.store import tables
from fengkong.store.dialect import insert_for as _insert

ROLE_SEPARATOR: Final = ","

JsonObject = dict[str, Any]


# -- helpers -----------------------------------------------------------------------------------------------


def _require_text(value: object, field: str, length_max: int) -> str:
    if not isinstance(value, str):
        raise InputError(f"expected a string, got {type(value).__name__}", field=field)
    if not value:
        raise InputError("must not be empty", field=field)
    if len(value) > length_max:
        raise InputError(f"longer than {length_max} characters ({len(value)})", field=field)
    return value


def _dump_json(value: Mapping[str, Any], field: str, bytes_max: int) -> str:
    if not isinstance(value, Mapping):
        raise InputError(f"expected a JSON object, got {type(value).__name__}", field=field)
    try:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InputError(f"not serialisable as JSON: {exc}", field=field) from exc
    size = len(text.encode("utf-8"))
    if size > bytes_max:
        raise InputError(f"{size} bytes of JSON; at most {bytes_max}", field=field)
    return text


def _load_json_object(text: str, where: str) -> JsonObject:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise InvariantError(f"{where}: stored JSON is not an object")
    return value


# -- parties -----------------------------------------------------------------------------------------------


def party_to_row(party: Party, created_at: datetime) -> dict[str, Any]:
    """The ``parties`` row of ``party``."""
    return {
        "party_id": party.party_id,
        "kind": party.kind.value,
        "roles": ROLE_SEPARATOR.join(sorted(role.value for role in party.roles)),
        "household_id": party.household_id,
        "owner_party_id": party.owner_party_id,
        "attributes": json.dumps([list(pair) for pair in party.attributes], ensure_ascii=False),
        "created_at": require_utc(created_at, "created_at"),
    }


def party_from_row(row: sa.RowMapping | Mapping[str, Any]) -> Party:
    """The :class:`Party` stored in a ``parties`` row."""
    pairs = json.loads(row["attributes"])
    return Party(
        party_id=row["party_id"],
        kind=PartyKind(row["kind"]),
        roles=frozenset(Role(value) for value in row["roles"].split(ROLE_SEPARATOR)),
        household_id=row["household_id"],
        owner_party_id=row["owner_party_id"],
        attributes=tuple((str(name), str(value)) for name, value in pairs),
    )


class PartyRepository:
    """People and businesses, by ``party_id``."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def add(self, connection: sa.Connection, party: Party) -> bool:
        """Store ``party``; True when it was new, False when the same party was already stored.

        Adding is idempotent on ``party_id``: the identical party again is a no-op. A *different* party under
        an existing ``party_id`` raises :class:`ConflictError` (it would silently lose the new facts).
        """
        _require_text(party.party_id, "party_id", bounds.party_id_length_max)
        for field, value in (("household_id", party.household_id), ("owner_party_id", party.owner_party_id)):
            if value is not None:
                _require_text(value, field, bounds.party_id_length_max)
        table = tables.parties
        statement = (
            _insert(connection, table)
            .values(party_to_row(party, self._clock.now()))
            .on_conflict_do_nothing(index_elements=[table.c.party_id])
            .returning(table.c.party_id)
        )
        if connection.execute(statement).first() is not None:
            return True
        stored = self.get(connection, party.party_id)
        if stored != party:
            raise ConflictError(f"party_id {party.party_id!r} is already stored with different facts")
        return False

    def get(self, connection: sa.Connection, party_id: str) -> Party:
        """The party ``party_id``; :class:`NotFoundError` when there is none."""
        table = tables.parties
        row = connection.execute(sa.select(table).where(table.c.party_id == party_id)).mappings().first()
        if row is None:
            raise NotFoundError(f"party {party_id!r} not found")
        return party_from_row(row)

    def list_by_household(self, connection: sa.Connection, household_id: str) -> list[Party]:
        """The parties of ``household_id`` ordered by ``party_id`` (empty when there are none).

        Raises :class:`BoundExceededError` past :data:`~fengkong.bounds.household_parties_max`.
        """
        table = tables.parties
        rows = (
            connection.execute(
                sa.select(table)
                .where(table.c.household_id == household_id)
                .order_by(table.c.party_id)
                .limit(bounds.household_parties_max + 1)
            )
            .mappings()
            .all()
        )
        if len(rows) > bounds.household_parties_max:
            raise BoundExceededError("household_parties_max", bounds.household_parties_max, len(rows))
        return [party_from_row(row) for row in rows]


# -- ingested events ---------------------------------------------------------------------------------------

IngestedEventRow = tuple[str, str, datetime, datetime]
"""``(event_id, event_type, occurred_at, received_at)``."""


class IngestedEventRepository:
    """Which event IDs fengkong has ingested: deduplication across processes and restarts."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def record_new(self, connection: sa.Connection, rows: Sequence[IngestedEventRow]) -> set[str]:
        """Record the event IDs not seen before and return exactly those.

        An ID repeated inside ``rows`` counts once (its first row is kept). Under concurrent callers each ID
        is reported new by exactly one committed transaction. Rows are inserted in ``event_id`` order, in
        statements of at most :data:`~fengkong.bounds.ingested_events_insert_rows_max` rows, so that two
        transactions with overlapping IDs wait for each other instead of deadlocking.
        """
        if len(rows) > bounds.ingest_batch_events_max:
            raise BoundExceededError("ingest_batch_events_max", bounds.ingest_batch_events_max, len(rows))
        ingested_at = self._clock.now()
        first: dict[str, dict[str, Any]] = {}
        for index, row in enumerate(rows):
            if len(row) != 4:
                raise InputError(
                    "expected (event_id, event_type, occurred_at, received_at)", field=f"rows[{index}]"
                )
            event_id, event_type, occurred_at, received_at = row
            _require_text(event_id, f"rows[{index}].event_id", bounds.event_id_length_max)
            _require_text(event_type, f"rows[{index}].event_type", bounds.event_type_length_max)
            if event_id in first:
                continue
            first[event_id] = {
                "event_id": event_id,
                "event_type": event_type,
                "occurred_at": require_utc(occurred_at, f"rows[{index}].occurred_at"),
                "received_at": require_utc(received_at, f"rows[{index}].received_at"),
                "ingested_at": ingested_at,
            }
        ordered = [first[event_id] for event_id in sorted(first)]
        table = tables.ingested_events
        new: set[str] = set()
        step = bounds.ingested_events_insert_rows_max
        for start in range(0, len(ordered), step):
            statement = (
                _insert(connection, table)
                .values(ordered[start : start + step])
                .on_conflict_do_nothing(index_elements=[table.c.event_id])
                .returning(table.c.event_id)
            )
            new.update(connection.execute(statement).scalars())
        return new

    def seen(self, connection: sa.Connection, event_ids: Iterable[str]) -> set[str]:
        """Which of ``event_ids`` have been recorded."""
        wanted = sorted(set(event_ids))
        table = tables.ingested_events
        found: set[str] = set()
        step = bounds.ingested_events_insert_rows_max
        for start in range(0, len(wanted), step):
            chunk = wanted[start : start + step]
            found.update(
                connection.execute(sa.select(table.c.event_id).where(table.c.event_id.in_(chunk))).scalars()
            )
        return found


# -- outbox ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """One outbox row as a publisher sees it. ``message_id`` is unique: consumers deduplicate by it."""

    message_id: int
    topic: str
    key: str
    payload: JsonObject
    created_at: datetime
    attempts: int


def outbox_message_from_row(row: sa.RowMapping | Mapping[str, Any]) -> OutboxMessage:
    """The :class:`OutboxMessage` stored in an ``outbox`` row."""
    return OutboxMessage(
        message_id=int(row["id"]),
        topic=row["topic"],
        key=row["key"],
        payload=_load_json_object(row["payload"], f"outbox row {row['id']}"),
        created_at=row["created_at"],
        attempts=int(row["attempts"]),
    )


@dataclass(frozen=True, slots=True)
class DrainReport:
    """What one :meth:`OutboxRepository.drain` call did."""

    published: int
    failed: int
    deferred: int  # rows left for later because an earlier row with the same key failed in the batch
    batches: int


Publisher = Callable[[OutboxMessage], None]
"""Publishes one message; raising means "not published, try again later"."""


class OutboxRepository:
    """The transactional outbox: messages written with the business rows, published afterwards.

    Delivery is at least once (a worker may die after publishing and before its commit); consumers
    deduplicate by :attr:`OutboxMessage.message_id`. Within a batch, messages are published in ``id`` order
    and a failure defers the later messages with the same ``key``, so one key's messages keep their order.
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def enqueue(self, connection: sa.Connection, topic: str, key: str, payload: Mapping[str, Any]) -> int:
        """Write a message in the caller's transaction; returns its ``id``."""
        _require_text(topic, "topic", bounds.outbox_topic_length_max)
        _require_text(key, "key", bounds.outbox_key_length_max)
        text = _dump_json(payload, "payload", bounds.outbox_payload_bytes_max)
        table = tables.outbox
        statement = (
            sa.insert(table)
            .values(topic=topic, key=key, payload=text, created_at=self._clock.now(), attempts=0)
            .returning(table.c.id)
        )
        return int(connection.execute(statement).scalar_one())

    def claim_batch(
        self, connection: sa.Connection, limit: int = bounds.outbox_drain_batch_rows_max
    ) -> list[OutboxMessage]:
        """Lock and return up to ``limit`` unpublished messages, oldest first.

        The rows stay claimed until the caller's transaction ends; on PostgreSQL other workers skip them.
        Rows that failed :data:`~fengkong.bounds.outbox_attempts_max` times are no longer claimed.
        """
        if not 1 <= limit <= bounds.outbox_drain_batch_rows_max:
            raise InputError(f"must be between 1 and {bounds.outbox_drain_batch_rows_max}", field="limit")
        table = tables.outbox
        statement = (
            sa.select(table)
            .where(table.c.published_at.is_(None), table.c.attempts < bounds.outbox_attempts_max)
            .order_by(table.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [outbox_message_from_row(row) for row in connection.execute(statement).mappings()]

    def mark_published(self, connection: sa.Connection, message_ids: Iterable[int]) -> int:
        """Mark messages published now; returns how many rows changed (already-published rows do not)."""
        ids = sorted(set(message_ids))
        if not ids:
            return 0
        table = tables.outbox
        statement = (
            sa.update(table)
            .where(table.c.id.in_(ids), table.c.published_at.is_(None))
            .values(published_at=self._clock.now())
        )
        return int(connection.execute(statement).rowcount)

    def mark_failed(self, connection: sa.Connection, message_id: int, error: str) -> None:
        """Count a failed publish of ``message_id`` and keep the error text; the row stays unpublished."""
        table = tables.outbox
        statement = (
            sa.update(table)
            .where(table.c.id == message_id, table.c.published_at.is_(None))
            .values(attempts=table.c.attempts + 1, last_error=error[: bounds.outbox_error_chars_max])
        )
        if connection.execute(statement).rowcount != 1:
            raise InvariantError(f"outbox row {message_id} is not a claimed unpublished row")

    def pending_count(self, connection: sa.Connection) -> int:
        """Unpublished messages still eligible for publishing."""
        table = tables.outbox
        statement = (
            sa.select(sa.func.count())
            .select_from(table)
            .where(table.c.published_at.is_(None), table.c.attempts < bounds.outbox_attempts_max)
        )
        return int(connection.execute(statement).scalar_one())

    def drain(
        self,
        engine: sa.Engine,
        publisher: Publisher,
        *,
        batch_rows: int = bounds.outbox_drain_batch_rows_max,
        batches_max: int = bounds.outbox_drain_batches_max,
    ) -> DrainReport:
        """Publish pending messages batch by batch, each batch in its own transaction.

        A message whose publish raises stays unpublished with ``attempts + 1`` for a later drain. Draining
        stops after a batch that was not full or had a failure, or after ``batches_max`` batches.
        :class:`InvariantError` from the publisher is a bug and propagates (the batch rolls back).
        """
        if not 1 <= batches_max <= bounds.outbox_drain_batches_max:
            raise InputError(f"must be between 1 and {bounds.outbox_drain_batches_max}", field="batches_max")
        published = failed = deferred = batches = 0
        while batches < batches_max:
            with engine.begin() as connection:
                claimed = self.claim_batch(connection, batch_rows)
                if not claimed:
                    break
                batches += 1
                done: list[int] = []
                blocked_keys: set[str] = set()
                for message in claimed:
                    if message.key in blocked_keys:
                        deferred += 1
                        continue
                    try:
                        publisher(message)
                    except InvariantError:
                        raise
                    except Exception as exc:
                        self.mark_failed(connection, message.message_id, f"{type(exc).__name__}: {exc}")
                        blocked_keys.add(message.key)
                        failed += 1
                    else:
                        done.append(message.message_id)
                self.mark_published(connection, done)
                published += len(done)
            if blocked_keys or len(claimed) < batch_rows:
                break
        return DrainReport(published=published, failed=failed, deferred=deferred, batches=batches)


# -- idempotency keys --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IdempotentResult:
    """The response of an idempotent write, and whether it was replayed from an earlier request."""

    response: JsonObject
    replayed: bool


def request_hash(request_body: bytes) -> str:
    """The SHA-256 hex digest that identifies a request body."""
    if not isinstance(request_body, bytes | bytearray | memoryview):
        raise InputError(f"expected bytes, got {type(request_body).__name__}", field="request_body")
    return hashlib.sha256(request_body).hexdigest()


class IdempotencyRepository:
    """Idempotency keys, scoped per tenant and endpoint (ARCHITECTURE.md, "Identifiers and retries")."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def remember_or_replay(
        self,
        connection: sa.Connection,
        tenant: str,
        endpoint: str,
        key: str,
        request_body: bytes,
        compute: Callable[[], Mapping[str, Any]],
    ) -> IdempotentResult:
        """Run ``compute`` once per ``(tenant, endpoint, key)``; a retry gets the first response back.

        The key row is written *before* the work, in the caller's transaction, and ``compute`` should do its
        writes on the same ``connection``: the work and the remembered response commit together, and if
        ``compute`` raises, the transaction rolls back and the key is free again. A concurrent request with
        the same key waits for the first transaction, then replays its response. The same key with another
        request body raises :class:`IdempotencyConflictError`.
        """
        _require_text(tenant, "tenant", bounds.tenant_id_length_max)
        _require_text(endpoint, "endpoint", bounds.endpoint_name_length_max)
        _require_text(key, "idempotency_key", bounds.idempotency_key_length_max)
        digest = request_hash(request_body)
        table = tables.idempotency_keys
        claim = (
            _insert(connection, table)
            .values(
                tenant=tenant,
                endpoint=endpoint,
                key=key,
                request_hash=digest,
                response=None,
                created_at=self._clock.now(),
            )
            .on_conflict_do_nothing(index_elements=[table.c.tenant, table.c.endpoint, table.c.key])
            .returning(table.c.key)
        )
        where = (table.c.tenant == tenant, table.c.endpoint == endpoint, table.c.key == key)
        if connection.execute(claim).first() is None:
            stored = connection.execute(sa.select(table.c.request_hash, table.c.response).where(*where)).one()
            if stored.request_hash != digest:
                raise IdempotencyConflictError(
                    f"idempotency key {key!r} was used for {endpoint} with a different request body"
                )
            if stored.response is None:
                raise InvariantError(f"idempotency key {key!r} is committed without a response")
            return IdempotentResult(
                response=_load_json_object(stored.response, "idempotency response"), replayed=True
            )
        text = _dump_json(compute(), "response", bounds.idempotency_response_bytes_max)
        connection.execute(sa.update(table).where(*where).values(response=text))
        return IdempotentResult(response=_load_json_object(text, "idempotency response"), replayed=False)
