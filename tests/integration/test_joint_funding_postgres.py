"""Joint-lending funding shares on a real PostgreSQL, and concurrent repayments of one joint loan."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from fengkong.store import joint_funding, migrate
from fengkong.store.config import make_engine
from tests.unit.store.joint_funding_contract import (
    FUNDING,
    RATE,
    T0,
    JointFundingContract,
    book_loan,
    record_of,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def engine(postgres_url: str) -> Iterator[sa.Engine]:
    migrate.upgrade(postgres_url)
    engine = make_engine(postgres_url)
    yield engine
    engine.dispose()


class TestJointFundingOnPostgres(JointFundingContract):
    pass


def test_concurrent_repayments_split_from_locked_balances_end_exact(engine: sa.Engine) -> None:
    """Eight threads each repay principal of one joint loan: each reads the balances under the rows' locks,
    splits and writes; none is refused and the funders end owed exactly what was not repaid."""
    from fengkong.lending.joint import split_flow

    book_loan(engine, "LN-C")
    with engine.begin() as connection:
        joint_funding.add_joint_loan(connection, record_of("LN-C", FUNDING, 1_000_000), T0)
    errors: list[BaseException] = []

    def repay(amount: int) -> None:
        try:
            with engine.begin() as connection:
                stored = joint_funding.joint_loan(connection, "LN-C", lock=True)
                balances = [f.principal_outstanding_fen for f in stored.funders]
                parts = split_flow(FUNDING, RATE, balances, principal=amount)
                joint_funding.apply_principal(connection, "LN-C", [part.principal for part in parts])
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=repay, args=(100_001 + number,)) for number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with engine.begin() as connection:
        stored = joint_funding.joint_loan(connection, "LN-C")
    repaid = sum(100_001 + number for number in range(8))
    assert sum(f.principal_outstanding_fen for f in stored.funders) == 1_000_000 - repaid
    assert all(f.principal_outstanding_fen >= 0 for f in stored.funders)
