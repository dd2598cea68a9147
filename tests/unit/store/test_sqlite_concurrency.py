"""Two connections to one SQLite file at once: writers queue at BEGIN IMMEDIATE; nothing counts twice."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import partial

import sqlalchemy as sa

from fengkong.clock import FixedClock
from fengkong.store.repositories import IngestedEventRepository, OutboxMessage, OutboxRepository

AT = datetime(2026, 3, 1, tzinfo=UTC)
BARRIER_TIMEOUT_SECONDS = 30  # only reached if a thread is stuck


def test_concurrent_record_new_reports_each_id_once(migrated_sqlite_engine: sa.Engine) -> None:
    engine = migrated_sqlite_engine
    repository = IngestedEventRepository(FixedClock(AT))
    ids = [f"e-{n:03d}" for n in range(300)]
    barrier = threading.Barrier(2, timeout=BARRIER_TIMEOUT_SECONDS)

    def record(batch: list[str]) -> set[str]:
        barrier.wait()  # both threads begin at once; SQLite lets one writer in, the other waits its turn
        with engine.begin() as connection:
            return repository.record_new(connection, [(i, "login", AT, AT) for i in batch])

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(partial(record, ids[:200])), pool.submit(partial(record, ids[100:]))]
        new_left, new_right = (future.result() for future in futures)
    assert new_left.isdisjoint(new_right)
    assert new_left | new_right == set(ids)


def test_concurrent_drains_publish_every_message_once(migrated_sqlite_engine: sa.Engine) -> None:
    engine = migrated_sqlite_engine
    outbox = OutboxRepository(FixedClock(AT))
    with engine.begin() as connection:
        ids = [outbox.enqueue(connection, "audit", f"k-{n % 3}", {"n": n}) for n in range(40)]
    published: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(2, timeout=BARRIER_TIMEOUT_SECONDS)

    def publish(message: OutboxMessage) -> None:
        with lock:
            published.append(message.message_id)

    def worker() -> int:
        barrier.wait()
        total = 0
        while (report := outbox.drain(engine, publish, batch_rows=3, batches_max=1)).batches:
            total += report.published
        return total

    with ThreadPoolExecutor(max_workers=2) as pool:
        counts = [future.result() for future in [pool.submit(worker), pool.submit(worker)]]
    assert sum(counts) == len(ids)
    assert sorted(published) == ids
