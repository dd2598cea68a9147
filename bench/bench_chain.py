"""The verifiable log: appends per second (batched, each entry hashed and the tree state persisted) on SQLite
and PostgreSQL against raw inserts of the same rows in the same run, and proof generation time at size.

* checked — :func:`fengkong.services.chain.append_in_transaction` per batch of ``--batch`` entries: the log's
  head read and locked, every entry checked and hashed (``SHA-256(0x00 || entry)``), the frontier extended,
  the complete subtrees at the stored levels (every 4th level) written, the head moved by a conditional
  UPDATE, the new root recorded in ``chain_heads``; leaves and nodes go in by ``executemany`` on SQLite and
  ``COPY`` on PostgreSQL; foreign keys and the append-only triggers of migration 0003 are in place.
* raw reference — the same leaf rows (log id, index, leaf hash computed before the clock starts, entry)
  written the same way (``executemany`` on SQLite, ``COPY`` on PostgreSQL) into a plain table with the same
  columns and no key, constraint, index or trigger, one transaction per batch of the same size. A second
  reference gives the plain table the leaf table's primary key.

SQLite runs in WAL mode with ``synchronous=NORMAL`` for both. Entries are ``--entry-bytes`` bytes each, built
before the clock starts. After the SQLite run the log holds ``--entries`` leaves; proofs are then generated
for random leaves and sizes (``--proofs`` of each kind) and every one is verified (outside the timing):

* service — :func:`fengkong.services.chain.prove_inclusion` / ``prove_consistency`` (head lookup, the proof
  from stored hashes, the leaf hash and the roots), on a connection that stays open;
* proof only — :func:`fengkong.chain.merkle.inclusion_proof` / ``consistency_proof`` over a reader.

PostgreSQL runs in a scratch schema of ``FENGKONG_BENCH_POSTGRES_URL`` (default: the test server) and is
skipped with a message when the server cannot be reached.

Run: ``.venv/bin/python bench/bench_chain.py [--entries N] [--postgres-entries N] [--batch N]``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import sqlalchemy as sa
from _databases import postgres_reachable, postgres_schema_url
from sqlalchemy import event

from fengkong import bounds
from fengkong.chain import merkle
from fengkong.clock import FixedClock
from fengkong.services import chain as chain_service
from fengkong.store import migrate
from fengkong.store.chain import ChainRepository
from fengkong.store.config import make_engine

AT = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
LOG = "bench"
RAW_COLUMNS = "log_id INTEGER, leaf_index BIGINT, leaf_hash {blob}, entry {blob}"


def workload(count: int, entry_bytes: int) -> list[bytes]:
    """Distinct synthetic entries (a salted-commitment-sized digest, repeated to the length)."""
    entries = []
    for index in range(count):
        digest = hashlib.sha256(index.to_bytes(8, "big")).digest()
        entries.append((digest * (entry_bytes // 32 + 1))[:entry_bytes])
    return entries


def _synchronous_normal(engine: sa.Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()


def _batches(entries: Sequence[bytes], batch: int) -> Iterator[tuple[int, Sequence[bytes]]]:
    for start in range(0, len(entries), batch):
        yield start, entries[start : start + batch]


def checked_appends(engine: sa.Engine, entries: Sequence[bytes], batch: int) -> float:
    repository = ChainRepository(FixedClock(AT))
    with engine.begin() as connection:
        chain_service.create_log(connection, repository, LOG)
    started = time.perf_counter()
    for start, chunk in _batches(entries, batch):
        chain_service.append_in_transaction(engine, repository, LOG, start, chunk)
    return time.perf_counter() - started


def raw_inserts(engine: sa.Engine, entries: Sequence[bytes], batch: int, *, keyed: bool) -> float:
    postgres = engine.dialect.name == "postgresql"
    table = "raw_leaves_keyed" if keyed else "raw_leaves"
    columns = RAW_COLUMNS.format(blob="BYTEA" if postgres else "BLOB")
    key = ", PRIMARY KEY (log_id, leaf_index)" if keyed else ""
    with engine.begin() as connection:
        connection.exec_driver_sql(f"CREATE TABLE {table} ({columns}{key})")
    rows = [
        (1, index, merkle.leaf_hash(entry), entry) for index, entry in enumerate(entries)
    ]  # before the clock
    started = time.perf_counter()
    for start in range(0, len(rows), batch):
        chunk = rows[start : start + batch]
        with engine.begin() as connection:
            if postgres:
                cursor: Any = connection.connection.cursor()
                with cursor.copy(f"COPY {table} (log_id, leaf_index, leaf_hash, entry) FROM STDIN") as copy:
                    for row in chunk:
                        copy.write_row(row)
                cursor.close()
            else:
                connection.exec_driver_sql(
                    f"INSERT INTO {table} (log_id, leaf_index, leaf_hash, entry) VALUES (?, ?, ?, ?)", chunk
                )
    return time.perf_counter() - started


def _check_stored(engine: sa.Engine, entries: Sequence[bytes]) -> None:
    with engine.connect() as connection:
        stored = connection.exec_driver_sql("SELECT count(*) FROM chain_leaves").scalar_one()
        head = ChainRepository(FixedClock(AT)).head(connection, LOG)
    if stored != len(entries) or head.tree_size != len(entries):
        raise SystemExit(f"stored {stored} leaves, head at {head.tree_size}, expected {len(entries)}")


def report_appends(name: str, engine: sa.Engine, entries: Sequence[bytes], batch: int) -> None:
    checked = checked_appends(engine, entries, batch)
    _check_stored(engine, entries)
    raw = raw_inserts(engine, entries, batch, keyed=False)
    keyed = raw_inserts(engine, entries, batch, keyed=True)
    count = len(entries)
    print(f"{name}: {count:,} entries in batches of {batch:,}")
    print(f"  checked appends: {count / checked:12,.0f} entries/s  ({checked:.2f} s)")
    print(f"  raw, no key:     {count / raw:12,.0f} rows/s     ({raw:.2f} s)   ratio {raw / checked:.2f}")
    print(
        f"  raw, same key:   {count / keyed:12,.0f} rows/s     ({keyed:.2f} s)   ratio {keyed / checked:.2f}"
    )


def _timed_ms(samples: int, run: Callable[[int], object]) -> tuple[float, float, list[object]]:
    timings = []
    results = []
    for sample in range(samples):
        started = time.perf_counter()
        results.append(run(sample))
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.99) - 1], results


def report_proofs(engine: sa.Engine, size: int, samples: int) -> None:
    repository = ChainRepository(FixedClock(AT))
    chooser = random.Random(20261125)
    indexes = [chooser.randrange(size) for _ in range(samples)]
    old_sizes = [chooser.randrange(1, size) for _ in range(samples)]
    with engine.connect() as connection:
        root = repository.head(connection, LOG).root_hash
        reader = repository.reader(connection, LOG)
        inclusion = _timed_ms(
            samples, lambda i: chain_service.prove_inclusion(connection, repository, LOG, indexes[i])
        )
        consistency = _timed_ms(
            samples, lambda i: chain_service.prove_consistency(connection, repository, LOG, old_sizes[i])
        )
        inclusion_only = _timed_ms(samples, lambda i: merkle.inclusion_proof(reader, indexes[i], size))
        consistency_only = _timed_ms(samples, lambda i: merkle.consistency_proof(reader, old_sizes[i], size))
        for proof in inclusion[2]:
            assert isinstance(proof, chain_service.InclusionProof)
            verdict = merkle.verify_inclusion(proof.leaf_index, size, proof.leaf_hash, proof.proof, root)
            if not verdict.verified:
                raise SystemExit(f"a generated inclusion proof failed: {verdict.reason}")
        for proof in consistency[2]:
            assert isinstance(proof, chain_service.ConsistencyProof)
            verdict = merkle.verify_consistency(proof.size1, size, proof.root1, root, proof.proof)
            if not verdict.verified:
                raise SystemExit(f"a generated consistency proof failed: {verdict.reason}")
    print(f"proofs on SQLite at {size:,} leaves, {samples} random leaves / old sizes each (all verified):")
    for label, (median, p99, _) in (
        ("inclusion, service", inclusion),
        ("consistency, service", consistency),
        ("inclusion, proof only", inclusion_only),
        ("consistency, proof only", consistency_only),
    ):
        print(f"  {label:24s} median {median:.3f} ms   p99 {p99:.3f} ms")


@contextmanager
def postgres_schema() -> Iterator[str | None]:
    """A fresh schema's URL, or None when no PostgreSQL answers."""
    if not postgres_reachable():
        yield None
        return
    with postgres_schema_url() as url:
        yield url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000, help="entries appended on SQLite")
    parser.add_argument(
        "--postgres-entries", type=int, default=300_000, help="entries appended on PostgreSQL"
    )
    parser.add_argument("--batch", type=int, default=10_000, help="entries per append (one transaction)")
    parser.add_argument("--entry-bytes", type=int, default=64, help="bytes in each entry")
    parser.add_argument("--proofs", type=int, default=1_000, help="proofs of each kind timed")
    arguments = parser.parse_args()
    if not 1 <= arguments.batch <= bounds.chain_append_batch_entries_max:
        parser.error(f"--batch must be between 1 and {bounds.chain_append_batch_entries_max}")

    entries = workload(arguments.entries, arguments.entry_bytes)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'chain.sqlite'}"
        migrate.upgrade(url)
        engine = make_engine(url)
        _synchronous_normal(engine)
        try:
            report_appends("SQLite (WAL, synchronous=NORMAL)", engine, entries, arguments.batch)
            report_proofs(engine, len(entries), arguments.proofs)
        finally:
            engine.dispose()

    with postgres_schema() as postgres_url:
        if postgres_url is None:
            print("PostgreSQL: not reachable, skipped")
            return
        migrate.upgrade(postgres_url)
        engine = make_engine(postgres_url)
        try:
            report_appends(
                "PostgreSQL (COPY)", engine, entries[: arguments.postgres_entries], arguments.batch
            )
        finally:
            engine.dispose()


if __name__ == "__main__":
    main()
