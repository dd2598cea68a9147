"""The joint-loan use cases on a real PostgreSQL: the same tests as on SQLite, against a migrated schema."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from fengkong.clock import FixedClock
from fengkong.services import ledger as ledger_service
from fengkong.store import migrate
from fengkong.store.config import make_engine
from fengkong.store.ledger import LedgerRepository
from tests.unit.services.test_joint_loans import (
    T0,
    test_a_joint_loan_booked_repaid_on_time_and_settled,
    test_a_payoff_of_a_joint_loan_repays_every_funder_in_full,
    test_a_written_off_joint_loan_shares_its_loss_and_its_recoveries,
    test_each_funders_part_is_stored_and_a_reversal_undoes_it,
)

pytestmark = pytest.mark.integration

__all__ = [
    "test_a_joint_loan_booked_repaid_on_time_and_settled",
    "test_a_payoff_of_a_joint_loan_repays_every_funder_in_full",
    "test_a_written_off_joint_loan_shares_its_loss_and_its_recoveries",
    "test_each_funders_part_is_stored_and_a_reversal_undoes_it",
]


@pytest.fixture
def engine(postgres_url: str) -> Iterator[sa.Engine]:
    migrate.upgrade(postgres_url)
    engine = make_engine(postgres_url)
    with engine.begin() as connection:
        ledger_service.install_chart(connection, LedgerRepository(FixedClock(T0)))
    yield engine
    engine.dispose()
