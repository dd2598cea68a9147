"""The stored Merkle log on a real PostgreSQL: the contract, and concurrent appends expecting the same size
(exactly one wins; the others are refused and write nothing)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from fengkong.chain import merkle
from fengkong.errors import ConflictError
from fengkong.services import chain as chain_service
from fengkong.store import migrate
from fengkong.store.chain import ChainRepository
from fengkong.store.config import make_engine
from tests.unit.chain.log_contract import ChainLogContract, entries
from tests.unit.chain.reference import mth

pytestmark = pytest.mark.integration

BARRIER_TIMEOUT_SECONDS = 30  # only reached if a worker is stuck
WORKERS = 4


@pytest.fixture
def engine(postgres_url: str) -> Iterator[sa.Engine]:
    migrate.upgrade(postgres_url)
    engine = make_engine(postgres_url)
    yield engine
    engine.dispose()


class TestChainLogOnPostgres(ChainLogContract):
    def test_concurrent_appends_at_one_size_append_once(
        self, engine: sa.Engine, repository: ChainRepository
    ) -> None:
        self._new_log(engine, repository, "audit")
        chain_service.append_in_transaction(engine, repository, "audit", 0, entries(0, 7))
        barrier = threading.Barrier(WORKERS, timeout=BARRIER_TIMEOUT_SECONDS)

        def append(worker: int) -> str:
            barrier.wait()
            try:
                chain_service.append_in_transaction(engine, repository, "audit", 7, entries(1000 * worker, 9))
            except ConflictError:
                return "refused"
            return f"appended {worker}"

        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            outcomes = list(pool.map(append, range(1, WORKERS + 1)))
        winners = [outcome for outcome in outcomes if outcome != "refused"]
        assert len(winners) == 1
        winner = int(winners[0].split()[1])
        with engine.connect() as connection:
            head = repository.head(connection, "audit")
            assert head.tree_size == 16
            expected = [merkle.leaf_hash(entry) for entry in entries(0, 7) + entries(1000 * winner, 9)]
            assert head.root_hash == mth(expected)
            assert connection.execute(sa.text("SELECT count(*) FROM chain_leaves")).scalar_one() == 16

    def test_concurrent_creation_of_one_log_creates_it_once(
        self, engine: sa.Engine, repository: ChainRepository
    ) -> None:
        barrier = threading.Barrier(WORKERS, timeout=BARRIER_TIMEOUT_SECONDS)

        def create(_worker: int) -> int:
            barrier.wait()
            with engine.begin() as connection:
                return chain_service.create_log(connection, repository, "shared").log_id

        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            log_ids = set(pool.map(create, range(WORKERS)))
        assert len(log_ids) == 1
        with engine.connect() as connection:
            assert connection.execute(sa.text("SELECT count(*) FROM chain_logs")).scalar_one() == 1
