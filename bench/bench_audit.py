"""The audit lag: from a decision's commit (its outbox row) to a signed checkpoint of the audit log covering
it.

A producer thread commits decisions at ``--rate`` per second (``--per-commit`` outbox rows per transaction,
each through :func:`fengkong.services.audit.enqueue_decision`) for ``--seconds``; a drainer thread runs
:func:`fengkong.services.audit.drain_audit` every ``--poll-ms`` (one transaction per batch: the rows' hashes
appended, a checkpoint signed with Ed25519 and stored, the rows marked covered). The lag of a row is
``covered_at - committed_at`` as stored. Goal: at most 5 s.

Reference, in the same run and the same database engine: the plain outbox drain
(:meth:`fengkong.store.repositories.OutboxRepository.drain` with a publisher that does nothing, marking rows
published) under the same producer and poll interval; its lag is ``published_at - created_at``. The ratio
says what the log, the hashing and the signature add to the outbox's own delay.

Also timed: a backlog of ``--backlog`` rows covered by one drain call (rows/s).

SQLite runs in WAL mode with ``synchronous=NORMAL``; PostgreSQL (a scratch schema of
``FENGKONG_BENCH_POSTGRES_URL``) runs when reachable. Run:
``.venv/bin/python bench/bench_audit.py [--seconds 15] [--rate 200] [--poll-ms 500]``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import sqlalchemy as sa
from _databases import postgres_reachable, postgres_schema_url
from sqlalchemy import event

from fengkong.chain.note import SignerKey
from fengkong.clock import SystemClock
from fengkong.services.audit import AUDIT_ORIGIN, drain_audit, enqueue_decision
from fengkong.services.trade import TradeStores
from fengkong.store import migrate, tables, tables_trade
from fengkong.store.config import make_engine
from fengkong.store.repositories import OutboxRepository

GOAL_SECONDS = 5.0
SIGNER = SignerKey.from_seed(AUDIT_ORIGIN, hashlib.sha256(b"bench audit key").digest())


def _synchronous_normal(engine: sa.Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()


def produce(engine: sa.Engine, seconds: float, rate: int, per_commit: int, stop: threading.Event) -> int:
    outbox = OutboxRepository(SystemClock())
    interval = per_commit / rate
    started = time.perf_counter()
    produced = 0
    while time.perf_counter() - started < seconds:
        with engine.begin() as connection:
            for _ in range(per_commit):
                enqueue_decision(
                    connection,
                    outbox,
                    f"D-{produced}",
                    {"outcome": "approve", "band": "B", "limit": "3000.00"},
                )
                produced += 1
        next_commit = started + (produced // per_commit) * interval
        time.sleep(max(0.0, next_commit - time.perf_counter()))
    stop.set()
    return produced


def run_with(engine: sa.Engine, drain_once: Callable[[], int], arguments: argparse.Namespace) -> int:
    """Producer and drainer threads; returns rows produced (all covered when it returns)."""
    stop = threading.Event()
    produced: list[int] = []
    producer = threading.Thread(
        target=lambda: produced.append(
            produce(engine, arguments.seconds, arguments.rate, arguments.per_commit, stop)
        )
    )
    producer.start()
    poll = arguments.poll_ms / 1000
    while True:
        moved = drain_once()
        if stop.is_set() and moved == 0:
            break
        time.sleep(poll)
    producer.join()
    drain_once()
    return produced[0]


def lags(rows: list[tuple[datetime, datetime]]) -> list[float]:
    return sorted(max(0.0, (done - committed).total_seconds()) for committed, done in rows)


def describe(name: str, values: list[float]) -> str:
    if not values:
        return f"{name}: no rows"
    p95 = values[int(0.95 * (len(values) - 1))]
    return (
        f"{name}: {len(values):,} rows  p50 {statistics.median(values):.3f} s  p95 {p95:.3f} s"
        f"  max {values[-1]:.3f} s"
    )


def audit_run(engine: sa.Engine, arguments: argparse.Namespace) -> list[float]:
    clock = SystemClock()
    stores = TradeStores.of(clock)

    def drain_once() -> int:
        return drain_audit(engine, stores, SIGNER, clock).appended

    run_with(engine, drain_once, arguments)
    entries = tables_trade.audit_entries
    with engine.connect() as connection:
        rows = connection.execute(sa.select(entries.c.committed_at, entries.c.covered_at)).all()
    return lags([(row[0], row[1]) for row in rows])


def plain_run(engine: sa.Engine, arguments: argparse.Namespace) -> list[float]:
    outbox = OutboxRepository(SystemClock())

    def drain_once() -> int:
        return outbox.drain(engine, lambda _message: None).published

    run_with(engine, drain_once, arguments)
    table = tables.outbox
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(table.c.created_at, table.c.published_at).where(table.c.published_at.is_not(None))
        ).all()
    return lags([(row[0], row[1]) for row in rows])


def backlog(engine: sa.Engine, count: int) -> float:
    outbox = OutboxRepository(SystemClock())
    with engine.begin() as connection:
        for index in range(count):
            enqueue_decision(connection, outbox, f"B-{index}", {"outcome": "decline"})
    clock = SystemClock()
    started = time.perf_counter()
    report = drain_audit(engine, TradeStores.of(clock), SIGNER, clock)
    seconds = time.perf_counter() - started
    if report.appended < count:
        raise SystemExit(f"the backlog drain covered {report.appended} of {count} rows")
    return count / seconds


@contextmanager
def sqlite_engine(folder: Path, name: str) -> Iterator[sa.Engine]:
    url = f"sqlite:///{folder / name}"
    migrate.upgrade(url)
    engine = make_engine(url)
    _synchronous_normal(engine)
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def postgres_engine() -> Iterator[sa.Engine]:
    with postgres_schema_url() as url:
        migrate.upgrade(url)
        engine = make_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()


def report(name: str, make: Callable[[str], Any], arguments: argparse.Namespace) -> None:
    with make("audit") as engine:
        audited = audit_run(engine, arguments)
    with make("plain") as engine:
        plain = plain_run(engine, arguments)
    with make("backlog") as engine:
        backlog_rate = backlog(engine, arguments.backlog)
    print(
        f"{name}: {arguments.rate}/s decisions for {arguments.seconds:.0f} s, "
        f"drain every {arguments.poll_ms} ms"
    )
    print("  " + describe("audit log (hash, append, sign)", audited))
    print("  " + describe("plain outbox drain (reference)", plain))
    if audited and plain:
        audit_p95 = audited[int(0.95 * (len(audited) - 1))]
        plain_p95 = plain[int(0.95 * (len(plain) - 1))]
        print(f"  ratio p95 audit / plain: {audit_p95 / max(plain_p95, 1e-6):.2f}")
        verdict = "met" if audited[-1] <= GOAL_SECONDS else "NOT met"
        print(f"  goal max lag <= {GOAL_SECONDS:.0f} s: {verdict}")
    print(f"  backlog of {arguments.backlog:,} rows covered by one drain: {backlog_rate:,.0f} rows/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="how long the producer commits")
    parser.add_argument("--rate", type=int, default=200, help="decisions committed per second")
    parser.add_argument("--per-commit", type=int, default=10, help="outbox rows per producer transaction")
    parser.add_argument("--poll-ms", type=int, default=500, help="drainer poll interval")
    parser.add_argument("--backlog", type=int, default=20_000, help="rows in the backlog drain")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        report(
            "SQLite (WAL, synchronous=NORMAL)",
            lambda name: sqlite_engine(folder, f"{name}.sqlite"),
            arguments,
        )
    if not postgres_reachable():
        print("PostgreSQL: not reachable, skipped")
        return
    report("PostgreSQL", lambda _name: postgres_engine(), arguments)


if __name__ == "__main__":
    main()
