"""The SQL ledger on a real PostgreSQL: the contract, the deferred balance check at COMMIT, and concurrent
retries of overlapping batches that post every posting exactly once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from fengkong.domain.ledger import Posting
from fengkong.services import ledger as ledger_service
from fengkong.store import migrate
from fengkong.store.config import make_engine
from fengkong.store.ledger import LedgerRepository
from tests.unit.ledger.ledger_contract import LedgerContract, disbursement, raw_header, raw_line, repayment

pytestmark = pytest.mark.integration

BARRIER_TIMEOUT_SECONDS = 30  # only reached if a worker is stuck


@pytest.fixture
def engine(postgres_url: str) -> Iterator[sa.Engine]:
    migrate.upgrade(postgres_url)
    engine = make_engine(postgres_url)
    yield engine
    engine.dispose()


class TestLedgerOnPostgres(LedgerContract):
    def test_the_balance_check_is_deferred_to_commit(
        self, engine: sa.Engine, repository: LedgerRepository
    ) -> None:
        """Lines may arrive in any order inside a transaction; the check runs once, at COMMIT."""
        with engine.connect() as connection:
            transaction = connection.begin()
            raw_header(connection, "t-1", 2)
            raw_line(connection, "t-1", 2, 2, "equity", -10)  # the last line first: fine until commit
            raw_line(connection, "t-1", 1, 2, "cash_clearing", 9)  # unbalanced, still accepted here
            with pytest.raises(DBAPIError, match="debits and credits"):
                transaction.commit()
        with engine.connect() as connection:
            transaction = connection.begin()
            raw_header(connection, "t-2", 2)
            raw_line(connection, "t-2", 2, 2, "equity", -10)
            raw_line(connection, "t-2", 1, 2, "cash_clearing", 10)
            transaction.commit()
        assert self.stored_ids(engine) == {"t-2"}

    def test_truncate_is_refused(self, engine: sa.Engine, repository: LedgerRepository) -> None:
        with engine.begin() as connection:
            ledger_service.post(connection, repository, [disbursement("d-1", "LN-1", 5)])
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(sa.text("TRUNCATE ledger_lines, ledger_transfers"))
        assert self.stored_ids(engine) == {"d-1"}

    def test_concurrent_overlapping_retries_post_each_posting_once(
        self, engine: sa.Engine, repository: LedgerRepository
    ) -> None:
        loans = [f"LN-{n:03d}" for n in range(60)]
        postings: list[Posting] = []
        for number, loan in enumerate(loans):
            postings.append(disbursement(f"d-{loan}", loan, 100_000 + number))
            postings.append(repayment(f"r-{loan}", loan, 10_000, 1_200, 50))
        workers = 4
        barrier = threading.Barrier(workers, timeout=BARRIER_TIMEOUT_SECONDS)

        def worker(offset: int) -> tuple[int, int]:
            # each worker posts every posting, in its own rotated order, in batches of 25
            mine = postings[offset * 17 :] + postings[: offset * 17]
            barrier.wait()
            result = ledger_service.post_in_batches(engine, repository, mine, batch_postings=25)
            return len(result.posted), len(result.duplicates)

        with ThreadPoolExecutor(max_workers=workers) as pool:
            outcomes = [future.result() for future in [pool.submit(worker, n) for n in range(workers)]]
        assert sum(posted for posted, _ in outcomes) == len(postings)
        assert sum(duplicates for _, duplicates in outcomes) == len(postings) * (workers - 1)
        with engine.connect() as connection:
            assert repository.count(connection) == (len(postings), 6 * len(loans))
            expected = sum(100_000 + number - 10_000 for number in range(len(loans)))
            assert repository.balance(connection, "loans_receivable", "CNY") == expected
            assert ledger_service.current_trial_balance(connection, repository).is_balanced
