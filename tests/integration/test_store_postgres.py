"""fengkong.store on a real PostgreSQL: migrations, the repository contract, and concurrency.

Each test gets a fresh schema through ``search_path`` (the ``postgres_url`` fixture); the Alembic version
table must land in that schema too.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import partial
from typing import TypeVar

import pytest
import sqlalchemy as sa

from fengkong.clock import FixedClock
from fengkong.errors import UnavailableError
from fengkong.store import migrate, tables
from fengkong.store.config import make_engine
from fengkong.store.repositories import (
    IdempotencyRepository,
    IngestedEventRepository,
    OutboxMessage,
    OutboxRepository,
)
from tests.unit.store.repository_contract import RepositoryContract
from tests.unit.store.test_migrations import APPLICATION_TABLES, HEAD, schema_differences, table_names

pytestmark = pytest.mark.integration

AT = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
BARRIER_TIMEOUT_SECONDS = 30  # only reached if a worker is stuck; the tests never wait for time to pass

T = TypeVar("T")


@pytest.fixture
def engine(postgres_url: str) -> Iterator[sa.Engine]:
    migrate.upgrade(postgres_url)
    engine = make_engine(postgres_url)
    yield engine
    engine.dispose()


def run_together(*work: Callable[[], T]) -> list[T]:
    """Run each callable on its own thread, all at once; re-raise the first failure."""
    with ThreadPoolExecutor(max_workers=len(work)) as pool:
        futures = [pool.submit(job) for job in work]
        return [future.result() for future in futures]


# -- migrations --------------------------------------------------------------------------------------------


def test_up_down_and_up_again(postgres_url: str) -> None:
    assert migrate.current_revision(postgres_url) is None
    migrate.upgrade(postgres_url)
    assert migrate.current_revision(postgres_url) == HEAD
    assert table_names(postgres_url) == APPLICATION_TABLES | {"alembic_version"}
    assert schema_differences(postgres_url) == []
    migrate.downgrade(postgres_url)
    assert migrate.current_revision(postgres_url) is None
    assert table_names(postgres_url) == {"alembic_version"}
    migrate.upgrade(postgres_url)
    assert schema_differences(postgres_url) == []


def test_everything_lands_in_the_schema_of_the_search_path(postgres_url: str) -> None:
    migrate.upgrade(postgres_url)
    engine = make_engine(postgres_url)
    try:
        with engine.connect() as connection:
            schema = connection.execute(sa.text("SELECT current_schema()")).scalar_one()
            assert schema.startswith("t_")
            found = connection.execute(
                sa.text("SELECT table_name FROM information_schema.tables WHERE table_schema = :schema"),
                {"schema": schema},
            )
            assert set(found.scalars()) == APPLICATION_TABLES | {"alembic_version"}
    finally:
        engine.dispose()


def test_timestamps_are_timestamptz(engine: sa.Engine) -> None:
    columns = {column["name"]: column["type"] for column in sa.inspect(engine).get_columns("outbox")}
    assert isinstance(columns["created_at"], sa.DateTime)
    assert columns["created_at"].timezone is True


def test_an_unreachable_server_is_unavailable() -> None:
    with pytest.raises(UnavailableError):
        migrate.upgrade("postgresql+psycopg://postgres@127.0.0.1:1/test")


# -- the repository contract -------------------------------------------------------------------------------


class TestRepositoriesOnPostgres(RepositoryContract):
    """Every repository test, against the module's ``engine`` fixture (a migrated PostgreSQL schema)."""


# -- concurrency -------------------------------------------------------------------------------------------


def test_concurrent_record_new_reports_each_id_once(engine: sa.Engine) -> None:
    repository = IngestedEventRepository(FixedClock(AT))

    def record(batch: list[str], barrier: threading.Barrier) -> set[str]:
        with engine.begin() as connection:
            barrier.wait()  # both transactions are open before either inserts
            return repository.record_new(connection, [(i, "login", AT, AT) for i in batch])

    for round_number in range(5):
        ids = [f"r{round_number}-e{n:03d}" for n in range(300)]
        left, right = ids[:200], list(reversed(ids[100:]))  # 100 IDs in both, sent in opposite orders
        barrier = threading.Barrier(2, timeout=BARRIER_TIMEOUT_SECONDS)
        new_left, new_right = run_together(partial(record, left, barrier), partial(record, right, barrier))
        assert new_left.isdisjoint(new_right)
        assert new_left | new_right == set(ids)


def test_skip_locked_claims_never_overlap(engine: sa.Engine) -> None:
    outbox = OutboxRepository(FixedClock(AT))
    with engine.begin() as connection:
        ids = [outbox.enqueue(connection, "audit", f"k-{n}", {"n": n}) for n in range(6)]
    with engine.connect() as first, engine.connect() as second, first.begin():
        claimed_first = outbox.claim_batch(first, 4)
        with second.begin():  # while the first worker still holds its rows
            claimed_second = outbox.claim_batch(second, 4)
            outbox.mark_published(second, [message.message_id for message in claimed_second])
        outbox.mark_published(first, [message.message_id for message in claimed_first])
    assert [message.message_id for message in claimed_first] == ids[:4]
    assert [message.message_id for message in claimed_second] == ids[4:]
    with engine.connect() as connection:
        assert outbox.pending_count(connection) == 0


def test_two_draining_workers_publish_every_message_once(engine: sa.Engine) -> None:
    outbox = OutboxRepository(FixedClock(AT))
    with engine.begin() as connection:
        ids = [outbox.enqueue(connection, "audit", f"k-{n % 7}", {"n": n}) for n in range(60)]
    published: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(2, timeout=BARRIER_TIMEOUT_SECONDS)

    def worker() -> int:
        first_message = True

        def publish(message: OutboxMessage) -> None:
            nonlocal first_message
            if first_message:  # hold this batch's locks until the other worker has claimed its own batch
                first_message = False
                barrier.wait()
            with lock:
                published.append(message.message_id)

        total = 0
        while True:
            report = outbox.drain(engine, publish, batch_rows=5, batches_max=1)
            if report.batches == 0:
                return total
            total += report.published

    counts = run_together(worker, worker)
    assert all(count > 0 for count in counts)  # both workers took part
    assert sum(counts) == len(ids)
    assert Counter(published) == Counter(ids)  # every message exactly once
    with engine.connect() as connection:
        unpublished = connection.execute(
            sa.select(sa.func.count())
            .select_from(tables.outbox)
            .where(tables.outbox.c.published_at.is_(None))
        ).scalar_one()
    assert unpublished == 0


def test_concurrent_retries_of_one_idempotent_write_compute_once(engine: sa.Engine) -> None:
    repository = IdempotencyRepository(FixedClock(AT))
    computed: list[int] = []
    barrier = threading.Barrier(2, timeout=BARRIER_TIMEOUT_SECONDS)

    def compute() -> dict[str, object]:
        computed.append(1)
        return {"loan_id": "loan-1"}

    def request() -> tuple[dict[str, object], bool]:
        with engine.begin() as connection:
            barrier.wait()
            result = repository.remember_or_replay(
                connection, "bank-a", "POST /v1/loans", "k", b"{}", compute
            )
            return result.response, result.replayed

    outcomes = run_together(request, request)
    assert len(computed) == 1
    assert sorted(replayed for _, replayed in outcomes) == [False, True]
    assert all(response == {"loan_id": "loan-1"} for response, _ in outcomes)
