"""Ledger posting throughput: lines per second with every balance check on, batched, on SQLite and PostgreSQL,
with a raw insert of the same rows as the reference in the same run.

Workload: for each loan a disbursement (2 lines), a day's interest accrual (2 lines) and a repayment (4 lines:
cash in; principal, interest and fee out) — 8 lines in 3 postings, 2.67 lines a posting on average, one
currency, a sub-account per loan on the receivable lines. The postings are built before the clock starts.

* checked — :func:`fengkong.services.ledger.post_in_batches`: validation against the chart in code,
  idempotent header insert (``ON CONFLICT DO NOTHING`` on PostgreSQL, a read of existing ids on SQLite), the
  lines, and the database's own checks: on PostgreSQL the deferred constraint trigger and deferred foreign key
  at each COMMIT, on SQLite the last-line trigger and the deferred foreign key; foreign keys to the chart and
  the header. One transaction per batch of ``--batch`` postings.
* raw reference — the same header and line rows through the driver's ``executemany`` into two plain tables
  with the same columns and no key, constraint, index or trigger, committed per batch of the same size.

The run ends by checking that the trial balance balances and that every line was stored. PostgreSQL runs in
a scratch schema of ``FENGKONG_BENCH_POSTGRES_URL`` (default: the test server) and is skipped with a message
when the server cannot be reached.

Run: ``.venv/bin/python bench/bench_ledger.py [--loans N] [--batch POSTINGS]``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import sqlalchemy as sa
from _databases import postgres_display, postgres_engine, postgres_reachable, sqlite_engine

from fengkong.clock import FixedClock
from fengkong.domain.ledger import Posting, PostingLine
from fengkong.money import Money
from fengkong.services import ledger as ledger_service
from fengkong.store.ledger import LedgerRepository

AT = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
DAY = date(2026, 3, 1)

RAW_TABLES = (
    "CREATE TABLE raw_transfers (transfer_id VARCHAR(128), business_date DATE, description VARCHAR(256), "
    "reverses VARCHAR(128), line_count INTEGER, created_at {timestamp})",
    "CREATE TABLE raw_lines (transfer_id VARCHAR(128), line_number INTEGER, line_count INTEGER, "
    "account_code VARCHAR(64), subaccount VARCHAR(128), currency VARCHAR(3), amount_minor BIGINT)",
)


def workload(loans: int) -> list[Posting]:
    postings: list[Posting] = []
    for number in range(loans):
        loan = f"LN-{number:08d}"
        principal = 100_000 + number % 50_000
        interest = 1_000 + number % 700
        fee = 100
        repaid = principal // 12
        postings.append(
            Posting(
                f"d-{loan}",
                DAY,
                "disbursement",
                (
                    PostingLine(f"loans_receivable:{loan}", Money(principal)),
                    PostingLine("cash_clearing", Money(-principal)),
                ),
            )
        )
        postings.append(
            Posting(
                f"a-{loan}",
                DAY,
                "interest accrual",
                (
                    PostingLine(f"interest_receivable:{loan}", Money(interest)),
                    PostingLine("interest_income", Money(-interest)),
                ),
            )
        )
        postings.append(
            Posting(
                f"r-{loan}",
                DAY,
                "repayment",
                (
                    PostingLine("cash_clearing", Money(repaid + interest + fee)),
                    PostingLine(f"loans_receivable:{loan}", Money(-repaid)),
                    PostingLine(f"interest_receivable:{loan}", Money(-interest)),
                    PostingLine("fee_income", Money(-fee)),
                ),
            )
        )
    return postings


def rows(postings: list[Posting]) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    headers = [(p.posting_id, p.business_date, p.description, p.reverses, len(p.lines), AT) for p in postings]
    lines = []
    for posting in postings:
        for number, line in enumerate(posting.lines, start=1):
            code, _, sub = line.account.partition(":")
            lines.append(
                (
                    posting.posting_id,
                    number,
                    len(posting.lines),
                    code,
                    sub,
                    line.amount.currency,
                    line.amount.amount_minor,
                )
            )
    return headers, lines


def timed(work: Callable[[], object]) -> float:
    began = time.perf_counter()
    work()
    return time.perf_counter() - began


def checked_run(engine: sa.Engine, postings: list[Posting], batch: int) -> float:
    repository = LedgerRepository(FixedClock(AT))
    with engine.begin() as connection:
        ledger_service.install_chart(connection, repository)
    seconds = timed(
        lambda: ledger_service.post_in_batches(engine, repository, postings, batch_postings=batch)
    )
    with engine.connect() as connection:
        trial = ledger_service.current_trial_balance(connection, repository)
        stored = repository.count(connection)
    expected_lines = sum(len(posting.lines) for posting in postings)
    if not trial.is_balanced or stored != (len(postings), expected_lines):
        raise SystemExit(f"ledger check failed: balanced={trial.is_balanced}, stored={stored}")
    return seconds


def raw_run(engine: sa.Engine, postings: list[Posting], batch: int) -> float:
    dialect = engine.dialect.name
    timestamp = "TIMESTAMPTZ" if dialect == "postgresql" else "TEXT"
    marker = "%s" if dialect == "postgresql" else "?"
    with engine.begin() as connection:
        for statement in RAW_TABLES:
            connection.exec_driver_sql(statement.format(timestamp=timestamp))
    headers, lines = rows(postings)
    if dialect == "sqlite":  # store what the checked run stores: ISO text for dates and times
        headers = [(h[0], h[1].isoformat(), h[2], h[3], h[4], h[5].isoformat(sep=" ")) for h in headers]
    header_sql = f"INSERT INTO raw_transfers VALUES ({', '.join([marker] * 6)})"
    line_sql = f"INSERT INTO raw_lines VALUES ({', '.join([marker] * 7)})"
    line_starts = []
    position = 0
    for start in range(0, len(postings), batch):
        line_starts.append(position)
        position += sum(len(posting.lines) for posting in postings[start : start + batch])
    line_starts.append(position)

    def work() -> None:
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            for index, start in enumerate(range(0, len(postings), batch)):
                if dialect == "sqlite":  # make_engine leaves the driver in autocommit; open the transaction
                    cursor.execute("BEGIN IMMEDIATE")
                cursor.executemany(header_sql, headers[start : start + batch])
                cursor.executemany(line_sql, lines[line_starts[index] : line_starts[index + 1]])
                raw.commit()
        finally:
            raw.close()

    return timed(work)


def report(backend: str, lines: int, checked: float, raw: float) -> None:
    checked_rate = lines / checked
    raw_rate = lines / raw
    print(
        f"{backend:<10} checked {checked_rate:>10,.0f} lines/s ({checked:6.2f} s)   "
        f"raw executemany {raw_rate:>10,.0f} lines/s ({raw:6.2f} s)   "
        f"checked/raw {checked_rate / raw_rate:5.2f}",
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=20_000, help="loans (3 postings, 8 lines each)")
    parser.add_argument("--batch", type=int, default=5_000, help="postings per batch (one transaction)")
    arguments = parser.parse_args()
    postings = workload(arguments.loans)
    lines = sum(len(posting.lines) for posting in postings)
    print(
        f"{len(postings):,} postings, {lines:,} lines ({lines / len(postings):.2f} a posting), "
        f"batches of {arguments.batch:,} postings (~{arguments.batch * lines // len(postings):,} lines)",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as folder:
        with sqlite_engine(Path(folder), "checked.sqlite") as engine:
            checked = checked_run(engine, postings, arguments.batch)
        with sqlite_engine(Path(folder), "raw.sqlite") as engine:
            raw = raw_run(engine, postings, arguments.batch)
        report("SQLite", lines, checked, raw)
    if not postgres_reachable():
        print(f"PostgreSQL skipped: nothing answers at {postgres_display()}", flush=True)
        return 0
    with postgres_engine() as engine:
        checked = checked_run(engine, postings, arguments.batch)
    with postgres_engine() as engine:
        raw = raw_run(engine, postings, arguments.batch)
    report("PostgreSQL", lines, checked, raw)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
