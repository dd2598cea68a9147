"""Loan servicing on a real PostgreSQL: the contract, and many concurrent repayments of one loan with retries
and duplicate keys ending with exact balances and no double posting."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from fengkong.clock import FixedClock
from fengkong.services import ledger as ledger_service
from fengkong.services import loans as loans_service
from fengkong.store import migrate, tables
from fengkong.store.config import make_engine
from fengkong.store.ledger import LedgerRepository
from tests.unit.lending.loans_contract import POLICY, START, T0, LoansContract, book_loans, close_days

pytestmark = pytest.mark.integration

BARRIER_TIMEOUT_SECONDS = 30  # only reached if a worker is stuck
WORKERS = 8
REPAYMENTS = 40
COPIES = 3  # each repayment is sent three times (a client retrying), from different threads


@pytest.fixture
def engine(postgres_url: str) -> Iterator[sa.Engine]:
    migrate.upgrade(postgres_url)
    engine = make_engine(postgres_url)
    yield engine
    engine.dispose()


@pytest.fixture
def reference_engine(tmp_path: Path) -> Iterator[sa.Engine]:
    url = f"sqlite:///{tmp_path / 'reference.sqlite'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


class TestLoansOnPostgres(LoansContract):
    pass


def test_concurrent_repayments_with_retries_post_once_and_balance_exactly(engine: sa.Engine) -> None:
    clock = FixedClock(T0)
    book_loans(engine, clock, 1)
    close_days(engine, clock, 45)  # the first installment is due and unpaid
    day = START + timedelta(days=45)
    before = loans_service.loan_view(engine, clock, "LN-0").row
    amounts = {f"R-{number}": 1_000 + number for number in range(REPAYMENTS)}
    requests = [(repayment_id, amount) for repayment_id, amount in amounts.items() for _ in range(COPIES)]
    requests.sort(key=lambda request: hash(request[0]) % 7)  # interleave the copies
    barrier = threading.Barrier(WORKERS, timeout=BARRIER_TIMEOUT_SECONDS)

    def worker(share: list[tuple[str, int]]) -> list[loans_service.RepaymentResult]:
        barrier.wait()
        return [
            loans_service.post_repayment(engine, clock, "LN-0", repayment_id, amount, day)
            for repayment_id, amount in share
        ]

    shares = [requests[index::WORKERS] for index in range(WORKERS)]
    with ThreadPoolExecutor(WORKERS) as pool:
        results = [result for batch in pool.map(worker, shares) for result in batch]

    first_times = [result for result in results if result.first_time]
    assert sorted(result.repayment_id for result in first_times) == sorted(amounts)
    by_id: dict[str, loans_service.RepaymentResult] = {}
    for result in results:  # every copy answered with the first result
        earlier = by_id.setdefault(result.repayment_id, result)
        assert (earlier.parts, earlier.posting_id, earlier.outcome) == (
            result.parts,
            result.posting_id,
            result.outcome,
        )
    paid = sum(amounts.values())
    after = loans_service.loan_view(engine, clock, "LN-0").row
    owed_before = before.penalty_outstanding + before.due_fee + before.due_interest + before.due_principal
    owed_after = after.penalty_outstanding + after.due_fee + after.due_interest + after.due_principal
    prepaid = (
        before.principal_outstanding
        - before.due_principal
        - (after.principal_outstanding - after.due_principal)
    )
    assert owed_before - owed_after + prepaid == paid
    with engine.connect() as connection:
        repository = LedgerRepository(clock)
        repayment_postings = connection.execute(
            sa.select(sa.func.count())
            .select_from(tables.ledger_transfers)
            .where(tables.ledger_transfers.c.transfer_id.like("repay:%"))
        ).scalar_one()
        assert repayment_postings == REPAYMENTS
        assert repository.balance(connection, "loans_receivable:LN-0", "CNY") == after.principal_outstanding
        assert repository.balance(connection, "interest_receivable:LN-0", "CNY") == after.interest_receivable
        assert (
            repository.balance(connection, "fees_receivable:LN-0", "CNY")
            == after.fees_outstanding + after.penalty_outstanding
        )
        assert ledger_service.current_trial_balance(connection, repository).is_balanced


def test_repayments_during_a_close_of_business_are_never_overwritten(engine: sa.Engine) -> None:
    clock = FixedClock(T0)
    book_loans(engine, clock, 12)
    close_days(engine, clock, 44)
    day = START + timedelta(days=45)
    barrier = threading.Barrier(2, timeout=BARRIER_TIMEOUT_SECONDS)

    def close() -> None:
        barrier.wait()
        loans_service.close_business_day(engine, clock, day, POLICY, None, chunk_loans=3)

    def repay() -> None:
        barrier.wait()
        for round_number in range(3):
            for number in range(12):
                loans_service.post_repayment(
                    engine, clock, f"LN-{number}", f"R-{round_number}-{number}", 700, day
                )

    with ThreadPoolExecutor(2) as pool:
        for future in [pool.submit(close), pool.submit(repay)]:
            future.result()
    with engine.connect() as connection:
        repository = LedgerRepository(clock)
        for number in range(12):
            row = loans_service.loan_view(engine, clock, f"LN-{number}").row
            loan = f"LN-{number}"
            assert row.last_closed == day.toordinal()
            if row.status != 0:
                continue
            row.check()
            assert (
                repository.balance(connection, f"loans_receivable:{loan}", "CNY") == row.principal_outstanding
            )
            assert (
                repository.balance(connection, f"interest_receivable:{loan}", "CNY")
                == row.interest_receivable
            )
            assert (
                repository.balance(connection, f"fees_receivable:{loan}", "CNY")
                == row.fees_outstanding + row.penalty_outstanding
            )
