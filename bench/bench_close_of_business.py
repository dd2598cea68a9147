"""Close of business for N active loans on SQLite and PostgreSQL, with the reference passes in the same run.

Book (built before the clock starts, straight into the tables): N loans of 6 monthly equal-installment
installments at 18 % (actual/365), disbursed on days 1–28 of the five months before the business date, so
that ~3.6 % fall due on the day (those disbursed on the 15th); 5 % are delinquent (the previous installment
unpaid, 1–30 days past due, penalty interest running); every other loan is current with its accrual up to
the day before. On the day, 1 % of the loans repay (their dues, or a part of an installment) through the
repayment use case.

Timed:

* close of business — :func:`fengkong.services.loans.close_business_day`: the run and chunk records, each
  chunk loaded into numpy columns, the vectorised day (accrual, penalty, falling due with the installments of
  the loans falling due, days past due, buckets, classes), the ledger postings through the checked ledger
  (validation in code, idempotent headers, the database's balance checks), the loans written back, the chunk
  marked done; one transaction per chunk;
* repayments — 1 % of the loans, one use-case call (one transaction) each;
* reference 1, the numpy pass alone — :func:`fengkong.lending.close_of_business.close_day` over the whole
  book in memory (no database);
* reference 2, a plain bulk insert of the same posting lines — executemany (SQLite) or COPY (PostgreSQL)
  into a table with no key, constraint or trigger.

Run: ``.venv/bin/python bench/bench_close_of_business.py [--loans 100000 1000000] [--chunk 5000]``.
PostgreSQL runs in a scratch schema of ``FENGKONG_BENCH_POSTGRES_URL`` (default: the test server) and is
skipped with a message when the server cannot be reached.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import sqlalchemy as sa
from _databases import postgres_display, postgres_engine, postgres_reachable, sqlite_engine

from fengkong.clock import FixedClock
from fengkong.compliance.caps import default_cap_policy
from fengkong.domain.products import DayCount, ProductKind, ProductTerms, RepaymentMethod
from fengkong.lending.close_of_business import Book, close_day, day_postings, empty_book, no_falling_due
from fengkong.lending.delinquency import DelinquencyPolicy
from fengkong.lending.schedule import build_schedule
from fengkong.money import Money
from fengkong.services import ledger as ledger_service
from fengkong.services import loans as loans_service
from fengkong.store.ledger import LedgerRepository

DAY = date(2026, 6, 15)
AT = datetime(2026, 6, 15, 20, 0, tzinfo=UTC)
TERMS = ProductTerms(
    product=ProductKind.INSTALLMENT,
    annual_rate=Decimal("0.18"),
    method=RepaymentMethod.EQUAL_INSTALLMENT,
    day_count=DayCount.ACTUAL_365,
    installments=6,
    penalty_rate_annual=Decimal("0.18"),
)
PRINCIPAL = 300_000  # 3,000.00 yuan: a typical small consumer loan
DELINQUENT_SHARE = 0.053  # at least 5 % of the book delinquent on most seeds
REPAYING_SHARE = 0.01
INSERT_ROWS = 20_000


def templates() -> list[dict[str, Any]]:
    """One template per disbursement date: the state on the day before ``DAY`` of a loan paid on time."""
    found = []
    for months_back in range(1, 6):
        for day_of_month in range(1, 29):
            month = DAY.month - months_back
            start = date(DAY.year, month, day_of_month)
            schedule = build_schedule(TERMS, Money(PRINCIPAL), start, rounding="ROUND_HALF_EVEN")
            lines = schedule.installments
            previous = start
            for line in lines:
                if previous < DAY <= line.due:
                    break
                previous = line.due
            else:
                continue
            length = (line.due - previous).days
            elapsed = (DAY - timedelta(days=1) - previous).days
            paid_before = lines[: line.number - 1]
            found.append(
                {
                    "start": start,
                    "lines": lines,
                    "k": line.number,
                    "period_start": previous,
                    "period_due": line.due,
                    "period_interest": line.interest.amount_minor,
                    "accrued": line.interest.amount_minor * elapsed // length,
                    "outstanding": PRINCIPAL - sum(item.principal.amount_minor for item in paid_before),
                    "previous": paid_before[-1] if paid_before else None,
                }
            )
    return found


def build_book(count: int, seed: int = 7) -> tuple[Book, list[dict[str, Any]], np.ndarray[Any, Any]]:
    """The book on the morning of ``DAY`` and, per loan, its template index; delinquent loans owe their
    previous installment."""
    generator = np.random.default_rng(seed)
    plans = templates()
    choice = generator.integers(0, len(plans), size=count)
    eligible = np.array([plans[index]["previous"] is not None for index in choice])
    # a share of DELINQUENT_SHARE of all loans, drawn among those with an installment behind them
    delinquent = eligible & (generator.random(count) < DELINQUENT_SHARE / max(float(eligible.mean()), 1e-9))
    book = empty_book(count)
    book.loan_id[:] = np.array([f"LN-{number:08d}" for number in range(count)], dtype=object)
    column = {
        name: np.array([plan[name] for plan in plans], dtype=np.int64)
        for name in ("k", "period_interest", "accrued", "outstanding")
    }
    starts = np.array([plan["period_start"].toordinal() for plan in plans], dtype=np.int64)
    dues = np.array([plan["period_due"].toordinal() for plan in plans], dtype=np.int64)
    previous_due = np.array([plan["previous"].due.toordinal() if plan["previous"] else 0 for plan in plans])
    previous_principal = np.array(
        [plan["previous"].principal.amount_minor if plan["previous"] else 0 for plan in plans]
    )
    previous_interest = np.array(
        [plan["previous"].interest.amount_minor if plan["previous"] else 0 for plan in plans]
    )
    book.last_closed[:] = DAY.toordinal() - 1
    book.period_number[:] = column["k"][choice]
    book.period_start[:] = starts[choice]
    book.period_due[:] = dues[choice]
    book.period_interest[:] = column["period_interest"][choice]
    book.accrued_in_period[:] = column["accrued"][choice]
    book.principal_outstanding[:] = column["outstanding"][choice] + np.where(
        delinquent, previous_principal[choice], 0
    )
    book.due_principal[:] = np.where(delinquent, previous_principal[choice], 0)
    book.due_interest[:] = np.where(delinquent, previous_interest[choice], 0)
    book.interest_receivable[:] = book.accrued_in_period + book.due_interest
    book.overdue_since[:] = np.where(delinquent, previous_due[choice], 0)
    book.days_past_due[:] = np.where(delinquent, DAY.toordinal() - 1 - book.overdue_since, 0)
    book.bucket[:] = np.where(book.days_past_due > 0, 1, 0)
    book.asset_class[:] = np.where(book.days_past_due > 0, 1, 0)
    book.penalty_rate_num[:] = 9
    book.penalty_rate_den[:] = 50
    return book, plans, choice


def installment_rows(
    book: Book, plans: list[dict[str, Any]], choice: np.ndarray[Any, Any]
) -> Iterator[tuple[Any, ...]]:
    """(loan_number, number, due_on, principal, interest, fee, paid principal, paid interest, 0, 0)."""
    delinquent = book.due_principal > 0
    for index in range(len(book)):
        plan = plans[int(choice[index])]
        current = plan["k"]
        for line in plan["lines"]:
            paid = line.number < current and not (delinquent[index] and line.number == current - 1)
            principal = line.principal.amount_minor
            interest = line.interest.amount_minor
            yield (index + 1, line.number, line.due.isoformat(), principal, interest, 0,
                   principal if paid else 0, interest if paid else 0, 0, 0)  # fmt: skip


LOAN_INSERT_COLUMNS = (
    "loan_number, loan_id, offer_id, party_id, product, currency, principal_fen, disbursed_on, created_at, "
    "status, last_closed_on, period_number, period_start, period_due, period_interest_fen, "
    "accrued_in_period_fen, "
    "principal_outstanding_fen, due_principal_fen, due_interest_fen, due_fee_fen, fees_outstanding_fen, "
    "penalty_outstanding_fen, interest_receivable_fen, interest_suspended_fen, penalty_carry, "
    "penalty_rate_num, "
    "penalty_rate_den, overdue_since, days_past_due, bucket, asset_class"
)
INSTALLMENT_COLUMNS = (
    "loan_number, number, due_on, principal_fen, interest_fen, fee_fen, paid_principal_fen, "
    "paid_interest_fen, "
    "paid_fee_fen, waived_interest_fen"
)


def loan_rows(
    book: Book, plans: list[dict[str, Any]], choice: np.ndarray[Any, Any], stamp: str
) -> Iterator[tuple[Any, ...]]:
    def iso(ordinal: int) -> str | None:
        return date.fromordinal(ordinal).isoformat() if ordinal else None

    for index in range(len(book)):
        loan = str(book.loan_id[index])
        yield (
            index + 1, loan, f"OF-{loan}", f"P-{index}", "installment", "CNY", PRINCIPAL,
            plans[int(choice[index])]["start"].isoformat(), stamp, 0, iso(int(book.last_closed[index])),
            int(book.period_number[index]), iso(int(book.period_start[index])),
            iso(int(book.period_due[index])),
            int(book.period_interest[index]), int(book.accrued_in_period[index]),
            int(book.principal_outstanding[index]), int(book.due_principal[index]),
            int(book.due_interest[index]),
            0, 0, 0, int(book.interest_receivable[index]), 0, 0, 9, 50, iso(int(book.overdue_since[index])),
            int(book.days_past_due[index]), int(book.bucket[index]), int(book.asset_class[index]),
        )  # fmt: skip


def _copy_line(row: tuple[Any, ...]) -> str:
    return "\t".join("\\N" if value is None else str(value) for value in row) + "\n"


def load(engine: sa.Engine, book: Book, plans: list[dict[str, Any]], choice: np.ndarray[Any, Any]) -> None:
    clock = FixedClock(AT)
    with engine.begin() as connection:
        ledger_service.install_chart(connection, LedgerRepository(clock))
    postgres = engine.dialect.name == "postgresql"
    stamp = "2026-06-14 00:00:00.000000" if not postgres else "2026-06-14 00:00:00+00"
    for table, columns, rows in (
        ("loans", LOAN_INSERT_COLUMNS, loan_rows(book, plans, choice, stamp)),
        ("loan_installments", INSTALLMENT_COLUMNS, installment_rows(book, plans, choice)),
    ):
        raw = engine.raw_connection()
        try:
            cursor: Any = raw.cursor()
            if postgres:
                with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    batch: list[str] = []
                    for row in rows:
                        batch.append(_copy_line(row))
                        if len(batch) == INSERT_ROWS:
                            copy.write("".join(batch))
                            batch = []
                    copy.write("".join(batch))
            else:
                marks = ", ".join("?" * len(columns.split(",")))
                cursor.execute("BEGIN")
                chunk: list[tuple[Any, ...]] = []
                for row in rows:
                    chunk.append(row)
                    if len(chunk) == INSERT_ROWS:
                        cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", chunk)
                        chunk = []
                if chunk:
                    cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", chunk)
                cursor.execute("COMMIT")
            cursor.close()
            raw.commit()
        finally:
            raw.close()
    if postgres:
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "SELECT setval(pg_get_serial_sequence('loans', 'loan_number'), "
                "(SELECT max(loan_number) FROM loans))"
            )
            connection.exec_driver_sql("ANALYZE loans")
            connection.exec_driver_sql("ANALYZE loan_installments")


def timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def numpy_reference(
    book: Book, plans: list[dict[str, Any]], choice: np.ndarray[Any, Any]
) -> tuple[float, list[Any]]:
    """The vectorised day alone over the whole book in memory, and the postings it makes (not timed)."""
    falling = no_falling_due(len(book))
    due = book.period_due == DAY.toordinal()
    for index in np.flatnonzero(due).tolist():
        plan = plans[int(choice[index])]
        lines = plan["lines"]
        current = lines[plan["k"] - 1]
        falling.principal[index] = current.principal.amount_minor
        falling.interest[index] = current.interest.amount_minor
        if plan["k"] < len(lines):
            falling.next_due[index] = lines[plan["k"]].due.toordinal()
            falling.next_interest[index] = lines[plan["k"]].interest.amount_minor
    result: list[Any] = []

    def work() -> None:
        result.append(close_day(book, DAY, falling, DelinquencyPolicy()))

    seconds = timed(work)
    new_book, movements = result[0]
    return seconds, day_postings(new_book, movements, DAY, "CNY")


def raw_insert_reference(engine: sa.Engine, postings: list[Any]) -> float:
    rows = [
        (posting.posting_id, number, line.account, line.amount.amount_minor)
        for posting in postings
        for number, line in enumerate(posting.lines, start=1)
    ]
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE TABLE raw_lines "
            "(transfer_id VARCHAR(128), line_number INTEGER, account VARCHAR(200), amount BIGINT)"
        )
    raw = engine.raw_connection()
    try:
        cursor: Any = raw.cursor()

        def work() -> None:
            if engine.dialect.name == "postgresql":
                with cursor.copy("COPY raw_lines FROM STDIN") as copy:
                    copy.write("".join(_copy_line(row) for row in rows))
            else:
                cursor.execute("BEGIN")
                cursor.executemany("INSERT INTO raw_lines VALUES (?, ?, ?, ?)", rows)
                cursor.execute("COMMIT")
            raw.commit()

        return timed(work)
    finally:
        raw.close()


def run_close(
    engine: sa.Engine, count: int, chunk: int
) -> tuple[float, float, int, loans_service.CloseResult]:
    clock = FixedClock(AT)
    policy = DelinquencyPolicy()
    caps = default_cap_policy()
    result: list[loans_service.CloseResult] = []
    seconds = timed(
        lambda: result.append(
            loans_service.close_business_day(engine, clock, DAY, policy, caps, chunk_loans=chunk)
        )
    )
    generator = np.random.default_rng(11)
    repaying = generator.choice(count, size=max(1, int(count * REPAYING_SHARE)), replace=False)

    def repay() -> None:
        for index in repaying.tolist():
            loan = f"LN-{index:08d}"
            loans_service.post_repayment(engine, clock, loan, f"R-{loan}", 25_000 + index % 1_000, DAY)

    repay_seconds = timed(repay)
    return seconds, repay_seconds, len(repaying), result[0]


def measure(backend: str, engine_factory: Callable[[], Any], count: int, chunk: int) -> None:
    book, plans, choice = build_book(count)
    due = int((book.period_due == DAY.toordinal()).sum())
    delinquent = int((book.due_principal > 0).sum())
    numpy_seconds, postings = numpy_reference(book, plans, choice)
    lines = sum(len(posting.lines) for posting in postings)
    with engine_factory() as engine:
        started = time.perf_counter()
        load(engine, book, plans, choice)
        load_seconds = time.perf_counter() - started
        seconds, repay_seconds, repayments, result = run_close(engine, count, chunk)
        again = timed(
            lambda: loans_service.close_business_day(engine, FixedClock(AT), DAY, DelinquencyPolicy(), None)
        )
        with engine.connect() as connection:
            trial = ledger_service.current_trial_balance(connection, LedgerRepository(FixedClock(AT)))
        raw_seconds = raw_insert_reference(engine, postings)
    if result.loans_closed != count or result.postings != len(postings) or not trial.is_balanced:
        raise SystemExit(f"{backend}: closed {result.loans_closed} of {count}, {result.postings} postings")
    print(
        f"{backend:<10} {count:>9,} loans ({due / count:.1%} due, {delinquent / count:.1%} delinquent): "
        f"close {seconds:7.2f} s = {count / seconds:>8,.0f} loans/s, "
        f"{len(postings):,} postings / {lines:,} lines | "
        f"numpy pass alone {numpy_seconds:6.3f} s (close/numpy {seconds / numpy_seconds:6.1f}) | "
        f"raw insert of the lines {raw_seconds:6.2f} s (close/raw {seconds / raw_seconds:5.1f}) | "
        f"second close {again:5.2f} s | {repayments:,} repayments {repay_seconds:6.2f} s "
        f"({repayments / repay_seconds:,.0f}/s) | load {load_seconds:6.1f} s",
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, nargs="+", default=[100_000], help="book sizes")
    parser.add_argument("--chunk", type=int, default=5_000, help="loans per chunk (one transaction)")
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    arguments = parser.parse_args()
    for count in arguments.loans:
        if "sqlite" in arguments.backends:
            with tempfile.TemporaryDirectory() as folder:
                measure("SQLite", lambda: sqlite_engine(Path(folder), "cob.sqlite"), count, arguments.chunk)
        if "postgresql" in arguments.backends:
            if not postgres_reachable():
                print(f"PostgreSQL skipped: nothing answers at {postgres_display()}")
                continue
            measure("PostgreSQL", postgres_engine, count, arguments.chunk)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
