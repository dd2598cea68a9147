"""What every repository must do, on any backend.

:class:`RepositoryContract` holds the tests; a subclass supplies the ``engine`` fixture (a migrated database):
``test_repositories_sqlite.py`` on SQLite, ``tests/integration/test_store_postgres.py`` on PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from fengkong import bounds
from fengkong.clock import FixedClock
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
from fengkong.store.repositories import (
    IdempotencyRepository,
    IngestedEventRepository,
    OutboxMessage,
    OutboxRepository,
    PartyRepository,
    party_from_row,
    request_hash,
)

START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
OCCURRED = datetime(2026, 2, 28, 23, 59, 59, 123456, tzinfo=UTC)


def person(party_id: str, household_id: str | None = None, *roles: Role) -> Party:
    return Party(
        party_id=party_id,
        kind=PartyKind.PERSON,
        roles=frozenset(roles or (Role.CONSUMER,)),
        household_id=household_id,
    )


def event_rows(*event_ids: str) -> list[tuple[str, str, datetime, datetime]]:
    return [(event_id, "order_placed", OCCURRED, OCCURRED + timedelta(seconds=2)) for event_id in event_ids]


class SimulatedFailureError(RuntimeError):
    """A publisher failure."""


class RepositoryContract:
    @pytest.fixture
    def clock(self) -> FixedClock:
        return FixedClock(START)

    # -- parties ---------------------------------------------------------------------------------------

    def test_party_round_trips(self, engine: sa.Engine, clock: FixedClock) -> None:
        repository = PartyRepository(clock)
        owner = person("p-owner", "h-1", Role.CONSUMER, Role.MERCHANT_OWNER, Role.RIDER)
        shop = Party(
            party_id="b-shop",
            kind=PartyKind.BUSINESS,
            roles=frozenset({Role.MERCHANT}),
            owner_party_id="p-owner",
            attributes=(("city", "杭州"), ("category", "noodles")),
        )
        with engine.begin() as connection:
            assert repository.add(connection, owner) is True
            assert repository.add(connection, shop) is True
        with engine.connect() as connection:
            assert repository.get(connection, "p-owner") == owner
            assert repository.get(connection, "b-shop") == shop
            row = connection.execute(sa.select(tables.parties).where(tables.parties.c.party_id == "p-owner"))
            stored = row.mappings().one()
        assert stored["roles"] == "consumer,merchant_owner,rider"
        assert stored["created_at"] == START
        assert stored["created_at"].tzinfo is UTC
        assert party_from_row(stored) == owner

    def test_adding_the_same_party_again_is_a_no_op(self, engine: sa.Engine, clock: FixedClock) -> None:
        repository = PartyRepository(clock)
        with engine.begin() as connection:
            assert repository.add(connection, person("p-1")) is True
        clock.advance(timedelta(hours=1))
        with engine.begin() as connection:
            assert repository.add(connection, person("p-1")) is False
            created = connection.execute(sa.select(tables.parties.c.created_at)).scalar_one()
        assert created == START  # the first write stands

    def test_a_different_party_under_a_known_id_conflicts(self, engine: sa.Engine, clock: FixedClock) -> None:
        repository = PartyRepository(clock)
        with engine.begin() as connection:
            repository.add(connection, person("p-1", "h-1"))
        with pytest.raises(ConflictError, match="p-1"), engine.begin() as connection:
            repository.add(connection, person("p-1", "h-2"))
        with engine.connect() as connection:
            assert repository.get(connection, "p-1").household_id == "h-1"

    def test_unknown_party_is_not_found(self, engine: sa.Engine, clock: FixedClock) -> None:
        with pytest.raises(NotFoundError, match="p-missing"), engine.connect() as connection:
            PartyRepository(clock).get(connection, "p-missing")

    def test_overlong_party_id_is_refused(self, engine: sa.Engine, clock: FixedClock) -> None:
        party = person("p" * (bounds.party_id_length_max + 1))
        with pytest.raises(InputError) as caught, engine.begin() as connection:
            PartyRepository(clock).add(connection, party)
        assert caught.value.field == "party_id"

    def test_list_by_household(self, engine: sa.Engine, clock: FixedClock) -> None:
        repository = PartyRepository(clock)
        with engine.begin() as connection:
            for party in (person("p-3", "h-1"), person("p-1", "h-1"), person("p-2", "h-2"), person("p-4")):
                repository.add(connection, party)
        with engine.connect() as connection:
            assert [p.party_id for p in repository.list_by_household(connection, "h-1")] == ["p-1", "p-3"]
            assert repository.list_by_household(connection, "h-unknown") == []

    def test_list_by_household_is_bounded(
        self, engine: sa.Engine, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(bounds, "household_parties_max", 2)
        repository = PartyRepository(clock)
        with engine.begin() as connection:
            for index in range(3):
                repository.add(connection, person(f"p-{index}", "h-big"))
        with (
            pytest.raises(BoundExceededError, match="household_parties_max=2"),
            engine.connect() as connection,
        ):
            repository.list_by_household(connection, "h-big")

    # -- ingested events -------------------------------------------------------------------------------

    def test_record_new_reports_only_unseen_ids(self, engine: sa.Engine, clock: FixedClock) -> None:
        repository = IngestedEventRepository(clock)
        with engine.begin() as connection:
            assert repository.record_new(connection, event_rows("e-1", "e-2", "e-3")) == {"e-1", "e-2", "e-3"}
        with engine.begin() as connection:
            assert repository.record_new(connection, event_rows("e-1", "e-2", "e-3")) == set()
        with engine.begin() as connection:
            assert repository.record_new(connection, event_rows("e-3", "e-4")) == {"e-4"}
            assert repository.seen(connection, ["e-1", "e-4", "e-9"]) == {"e-1", "e-4"}
        with engine.begin() as connection:
            assert repository.record_new(connection, []) == set()

    def test_an_id_repeated_in_one_batch_counts_once(self, engine: sa.Engine, clock: FixedClock) -> None:
        repository = IngestedEventRepository(clock)
        rows = [*event_rows("e-1"), ("e-1", "delivery_completed", OCCURRED, OCCURRED)]
        with engine.begin() as connection:
            assert repository.record_new(connection, rows) == {"e-1"}
            stored = connection.execute(sa.select(tables.ingested_events)).mappings().all()
        assert [row["event_type"] for row in stored] == ["order_placed"]  # the first row wins

    def test_event_timestamps_come_back_aware_utc(self, engine: sa.Engine, clock: FixedClock) -> None:
        shanghai = timezone(timedelta(hours=8))
        occurred = datetime(2026, 3, 1, 9, 30, 0, 500, tzinfo=shanghai)
        with engine.begin() as connection:
            IngestedEventRepository(clock).record_new(connection, [("e-tz", "login", occurred, occurred)])
            row = connection.execute(sa.select(tables.ingested_events)).mappings().one()
        for column in ("occurred_at", "received_at", "ingested_at"):
            assert row[column].tzinfo is UTC, column
        assert row["occurred_at"] == datetime(2026, 3, 1, 1, 30, 0, 500, tzinfo=UTC)
        assert row["ingested_at"] == START

    def test_record_new_refuses_bad_rows(self, engine: sa.Engine, clock: FixedClock) -> None:
        repository = IngestedEventRepository(clock)
        naive = datetime(2026, 3, 1, 8, 0)
        cases: list[tuple[Any, str]] = [
            ([("e-1", "login", naive, OCCURRED)], "rows[0].occurred_at"),
            ([*event_rows("e-1"), ("e-2", "login", OCCURRED, naive)], "rows[1].received_at"),
            ([("e" * (bounds.event_id_length_max + 1), "login", OCCURRED, OCCURRED)], "rows[0].event_id"),
            ([("", "login", OCCURRED, OCCURRED)], "rows[0].event_id"),
            ([("e-1", "x" * (bounds.event_type_length_max + 1), OCCURRED, OCCURRED)], "rows[0].event_type"),
            ([("e-1", "login", OCCURRED)], "rows[0]"),
        ]
        for rows, field in cases:
            with pytest.raises(InputError) as caught, engine.begin() as connection:
                repository.record_new(connection, rows)
            assert caught.value.field == field
        with engine.connect() as connection:
            assert (
                connection.execute(sa.select(sa.func.count()).select_from(tables.ingested_events)).scalar()
                == 0
            )

    def test_record_new_batches_large_inputs(
        self, engine: sa.Engine, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(bounds, "ingested_events_insert_rows_max", 3)
        repository = IngestedEventRepository(clock)
        ids = [f"e-{index:02d}" for index in range(10)]
        with engine.begin() as connection:
            assert repository.record_new(connection, event_rows(*ids[:4])) == set(ids[:4])
            assert repository.record_new(connection, event_rows(*reversed(ids))) == set(ids[4:])

    def test_record_new_is_bounded(
        self, engine: sa.Engine, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(bounds, "ingest_batch_events_max", 2)
        with pytest.raises(BoundExceededError), engine.begin() as connection:
            IngestedEventRepository(clock).record_new(connection, event_rows("e-1", "e-2", "e-3"))

    def test_a_rolled_back_batch_leaves_its_ids_new(self, engine: sa.Engine, clock: FixedClock) -> None:
        repository = IngestedEventRepository(clock)
        with engine.connect() as connection:
            with connection.begin() as transaction:
                assert repository.record_new(connection, event_rows("e-1", "e-2")) == {"e-1", "e-2"}
                transaction.rollback()
            with connection.begin():
                assert repository.record_new(connection, event_rows("e-2", "e-1")) == {"e-1", "e-2"}

    # -- outbox ----------------------------------------------------------------------------------------

    def test_outbox_rows_commit_and_roll_back_with_the_business_rows(
        self, engine: sa.Engine, clock: FixedClock
    ) -> None:
        parties, outbox = PartyRepository(clock), OutboxRepository(clock)

        def use_case(connection: sa.Connection) -> None:
            parties.add(connection, person("p-1"))
            outbox.enqueue(connection, "party.created", "p-1", {"party_id": "p-1"})
            raise SimulatedFailureError("the use case failed after writing")

        with pytest.raises(SimulatedFailureError), engine.begin() as connection:
            use_case(connection)
        with engine.begin() as connection:
            assert outbox.pending_count(connection) == 0
            with pytest.raises(NotFoundError):
                parties.get(connection, "p-1")
            parties.add(connection, person("p-1"))
            message_id = outbox.enqueue(connection, "party.created", "p-1", {"party_id": "p-1", "n": 1})
        with engine.connect() as connection:
            assert outbox.pending_count(connection) == 1
            stored = connection.execute(sa.select(tables.outbox)).mappings().one()
        assert stored["id"] == message_id
        assert json.loads(stored["payload"]) == {"party_id": "p-1", "n": 1}
        assert stored["attempts"] == 0
        assert stored["published_at"] is None
        assert stored["created_at"] == START

    def test_drain_publishes_in_order_once(self, engine: sa.Engine, clock: FixedClock) -> None:
        outbox = OutboxRepository(clock)
        with engine.begin() as connection:
            ids = [outbox.enqueue(connection, "loan.booked", f"l-{n % 2}", {"n": n}) for n in range(5)]
        published: list[OutboxMessage] = []
        report = outbox.drain(engine, published.append, batch_rows=2)
        assert [message.message_id for message in published] == ids
        assert [message.payload for message in published] == [{"n": n} for n in range(5)]
        assert all(message.created_at == START and message.attempts == 0 for message in published)
        assert (report.published, report.failed, report.deferred, report.batches) == (5, 0, 0, 3)
        assert outbox.drain(engine, published.append).published == 0
        assert len(published) == 5
        with engine.connect() as connection:
            assert outbox.pending_count(connection) == 0
            published_at = connection.execute(sa.select(tables.outbox.c.published_at)).scalars().all()
        assert published_at == [START] * 5

    def test_a_failing_publisher_leaves_the_row_for_retry(self, engine: sa.Engine, clock: FixedClock) -> None:
        outbox = OutboxRepository(clock)
        with engine.begin() as connection:
            first = outbox.enqueue(connection, "audit", "key-a", {"n": 1})
            second = outbox.enqueue(connection, "audit", "key-a", {"n": 2})  # same key: must wait for first
            other = outbox.enqueue(connection, "audit", "key-b", {"n": 3})
        delivered: list[int] = []

        def flaky(message: OutboxMessage) -> None:
            if message.message_id == first:
                raise SimulatedFailureError("partner endpoint down")
            delivered.append(message.message_id)

        report = outbox.drain(engine, flaky)
        assert (report.published, report.failed, report.deferred) == (1, 1, 1)
        assert delivered == [other]
        with engine.connect() as connection:
            rows = {row["id"]: row for row in connection.execute(sa.select(tables.outbox)).mappings()}
        assert rows[first]["published_at"] is None
        assert rows[first]["attempts"] == 1
        assert rows[first]["last_error"] == "SimulatedFailureError: partner endpoint down"
        assert rows[second]["published_at"] is None
        assert rows[second]["attempts"] == 0
        assert rows[other]["published_at"] == START

        retried: list[OutboxMessage] = []
        assert outbox.drain(engine, retried.append).published == 2
        assert [(m.message_id, m.attempts) for m in retried] == [(first, 1), (second, 0)]

    def test_rows_failing_too_often_are_no_longer_claimed(
        self, engine: sa.Engine, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(bounds, "outbox_attempts_max", 2)
        outbox = OutboxRepository(clock)
        with engine.begin() as connection:
            outbox.enqueue(connection, "audit", "k", {})

        def failing(message: OutboxMessage) -> None:
            raise SimulatedFailureError("still down")

        assert outbox.drain(engine, failing).failed == 1
        assert outbox.drain(engine, failing).failed == 1
        assert outbox.drain(engine, failing).batches == 0
        with engine.connect() as connection:
            assert outbox.pending_count(connection) == 0
            assert connection.execute(sa.select(tables.outbox.c.attempts)).scalar_one() == 2

    def test_an_invariant_error_in_the_publisher_propagates(
        self, engine: sa.Engine, clock: FixedClock
    ) -> None:
        outbox = OutboxRepository(clock)
        with engine.begin() as connection:
            outbox.enqueue(connection, "audit", "k", {})

        def buggy(message: OutboxMessage) -> None:
            raise InvariantError("a bug")

        with pytest.raises(InvariantError):
            outbox.drain(engine, buggy)
        with engine.connect() as connection:
            row = connection.execute(sa.select(tables.outbox)).mappings().one()
        assert (row["attempts"], row["published_at"]) == (0, None)

    def test_claim_and_mark_published(self, engine: sa.Engine, clock: FixedClock) -> None:
        outbox = OutboxRepository(clock)
        with engine.begin() as connection:
            ids = [outbox.enqueue(connection, "t", "k", {"n": n}) for n in range(3)]
        with engine.begin() as connection:
            claimed = outbox.claim_batch(connection, 2)
            assert [message.message_id for message in claimed] == ids[:2]
            assert outbox.mark_published(connection, [ids[0], ids[0], ids[1]]) == 2
            assert outbox.mark_published(connection, [ids[0]]) == 0
            assert outbox.mark_published(connection, []) == 0
            assert [message.message_id for message in outbox.claim_batch(connection, 2)] == ids[2:]
            with pytest.raises(InvariantError):
                outbox.mark_failed(connection, ids[0], "already published")

    def test_outbox_refuses_bad_input(self, engine: sa.Engine, clock: FixedClock) -> None:
        outbox = OutboxRepository(clock)
        cases: list[tuple[str, str, Any, str]] = [
            ("", "k", {}, "topic"),
            ("t", "k" * (bounds.outbox_key_length_max + 1), {}, "key"),
            ("t", "k", {"amount": float("nan")}, "payload"),
            ("t", "k", {"when": START}, "payload"),
            ("t", "k", ["not", "an", "object"], "payload"),
        ]
        with engine.begin() as connection:
            for topic, key, payload, field in cases:
                with pytest.raises(InputError) as caught:
                    outbox.enqueue(connection, topic, key, payload)
                assert caught.value.field == field
            for limit in (0, bounds.outbox_drain_batch_rows_max + 1):
                with pytest.raises(InputError) as caught:
                    outbox.claim_batch(connection, limit)
                assert caught.value.field == "limit"
        with pytest.raises(InputError):
            outbox.drain(engine, lambda message: None, batches_max=0)

    def test_outbox_payload_size_is_bounded(
        self, engine: sa.Engine, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(bounds, "outbox_payload_bytes_max", 16)
        with pytest.raises(InputError, match="bytes"), engine.begin() as connection:
            OutboxRepository(clock).enqueue(connection, "t", "k", {"text": "x" * 32})

    # -- idempotency keys ------------------------------------------------------------------------------

    def test_a_retry_replays_the_first_response(self, engine: sa.Engine, clock: FixedClock) -> None:
        repository = IdempotencyRepository(clock)
        calls: list[int] = []

        def compute() -> dict[str, Any]:
            calls.append(1)
            return {"loan_id": f"loan-{len(calls)}", "amount": "1234.56"}

        body = b'{"amount": "1234.56"}'
        with engine.begin() as connection:
            first = repository.remember_or_replay(
                connection, "bank-a", "POST /v1/loans", "k-1", body, compute
            )
        with engine.begin() as connection:
            again = repository.remember_or_replay(
                connection, "bank-a", "POST /v1/loans", "k-1", body, compute
            )
        assert first.replayed is False
        assert again.replayed is True
        assert first.response == again.response == {"loan_id": "loan-1", "amount": "1234.56"}
        assert len(calls) == 1
        with engine.connect() as connection:
            row = connection.execute(sa.select(tables.idempotency_keys)).mappings().one()
        assert row["request_hash"] == request_hash(body)
        assert row["created_at"] == START

    def test_the_same_key_with_another_body_is_refused(self, engine: sa.Engine, clock: FixedClock) -> None:
        repository = IdempotencyRepository(clock)
        with engine.begin() as connection:
            repository.remember_or_replay(
                connection, "bank-a", "POST /v1/loans", "k-1", b"one", lambda: {"n": 1}
            )
        with pytest.raises(IdempotencyConflictError, match="k-1"), engine.begin() as connection:
            repository.remember_or_replay(
                connection, "bank-a", "POST /v1/loans", "k-1", b"two", lambda: {"n": 2}
            )

    def test_keys_are_scoped_per_tenant_and_endpoint(self, engine: sa.Engine, clock: FixedClock) -> None:
        repository = IdempotencyRepository(clock)
        scopes = [
            ("bank-a", "POST /v1/loans"),
            ("bank-b", "POST /v1/loans"),
            ("bank-a", "POST /v1/repayments"),
        ]
        with engine.begin() as connection:
            results = [
                repository.remember_or_replay(
                    connection, tenant, endpoint, "k-1", b"same", lambda i=i: {"n": i}
                )
                for i, (tenant, endpoint) in enumerate(scopes)
            ]
        assert [(result.response, result.replayed) for result in results] == [
            ({"n": 0}, False),
            ({"n": 1}, False),
            ({"n": 2}, False),
        ]

    def test_failed_work_frees_the_key(self, engine: sa.Engine, clock: FixedClock) -> None:
        repository, outbox = IdempotencyRepository(clock), OutboxRepository(clock)

        def failing() -> dict[str, Any]:
            raise SimulatedFailureError("declined by the core banking system")

        with pytest.raises(SimulatedFailureError), engine.begin() as connection:
            repository.remember_or_replay(connection, "bank-a", "POST /v1/loans", "k-1", b"body", failing)

        def book() -> dict[str, Any]:
            # the work writes on the caller's connection: it commits together with the key
            return {"message_id": outbox.enqueue(connection, "loan.booked", "k-1", {"ok": True})}

        with engine.begin() as connection:
            result = repository.remember_or_replay(
                connection, "bank-a", "POST /v1/loans", "k-1", b"body", book
            )
        assert result.replayed is False
        with engine.connect() as connection:
            assert outbox.pending_count(connection) == 1

    def test_idempotency_refuses_bad_input(self, engine: sa.Engine, clock: FixedClock) -> None:
        repository = IdempotencyRepository(clock)
        cases: list[tuple[str, str, str, Any, str]] = [
            ("", "POST /v1/loans", "k", b"", "tenant"),
            ("t" * (bounds.tenant_id_length_max + 1), "POST /v1/loans", "k", b"", "tenant"),
            ("bank-a", "", "k", b"", "endpoint"),
            ("bank-a", "POST /v1/loans", "", b"", "idempotency_key"),
            (
                "bank-a",
                "POST /v1/loans",
                "k" * (bounds.idempotency_key_length_max + 1),
                b"",
                "idempotency_key",
            ),
            ("bank-a", "POST /v1/loans", "k", "not bytes", "request_body"),
        ]
        for tenant, endpoint, key, body, field in cases:
            with pytest.raises(InputError) as caught, engine.begin() as connection:
                repository.remember_or_replay(connection, tenant, endpoint, key, body, lambda: {})
            assert caught.value.field == field
        with pytest.raises(InputError) as caught, engine.begin() as connection:
            repository.remember_or_replay(connection, "bank-a", "POST /v1/x", "k", b"", lambda: {"x": {1, 2}})
        assert caught.value.field == "response"
        with engine.connect() as connection:
            assert (
                connection.execute(sa.select(sa.func.count()).select_from(tables.idempotency_keys)).scalar()
                == 0
            )
