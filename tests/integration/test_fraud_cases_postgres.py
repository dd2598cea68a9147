"""The interception log and the case queue on a real PostgreSQL: the same contract as on SQLite, and two
reviewers racing on one case — only one outcome is written."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa

from fengkong.errors import ConflictError
from fengkong.fraud.interceptions import CaseOutcome, CaseStatus
from fengkong.services import fraud_cases
from fengkong.store import migrate
from fengkong.store.config import make_engine
from tests.unit.fraud import fraud_cases_contract as contract
from tests.unit.fraud.fraud_cases_contract import T0, interception

pytestmark = pytest.mark.integration
REVIEWERS = 8
BARRIER_TIMEOUT_SECONDS = 30


@pytest.fixture
def engine(postgres_url: str) -> Iterator[sa.Engine]:
    migrate.upgrade(postgres_url)
    engine = make_engine(postgres_url)
    yield engine
    engine.dispose()


def test_an_interception_is_logged_once_with_its_case(engine: sa.Engine) -> None:
    contract.check_an_interception_is_logged_once_with_its_case(engine)


def test_a_failed_transaction_leaves_nothing(engine: sa.Engine) -> None:
    contract.check_a_failed_transaction_leaves_nothing(engine)


def test_reviews_close_cases_once_and_labels_wait_for_the_review(engine: sa.Engine) -> None:
    contract.check_reviews_close_cases_once_and_labels_wait_for_the_review(engine)


def test_totals_sum_amounts_per_kind_and_action(engine: sa.Engine) -> None:
    contract.check_totals_sum_amounts_per_kind_and_action(engine)


def test_concurrent_reviews_decide_a_case_once(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        fraud_cases.intercept(connection, interception(1))
    barrier = threading.Barrier(REVIEWERS, timeout=BARRIER_TIMEOUT_SECONDS)

    def review(index: int) -> str:
        outcome = CaseOutcome.FRAUD if index % 2 else CaseOutcome.NOT_FRAUD
        barrier.wait()
        try:
            with engine.begin() as connection:
                fraud_cases.review(
                    connection, "case:icp-1", outcome, T0 + timedelta(days=1), f"analyst-{index}"
                )
            return "decided"
        except ConflictError:
            return "conflict"

    with ThreadPoolExecutor(REVIEWERS) as pool:
        results = list(pool.map(review, range(REVIEWERS)))
    assert results.count("decided") == 1
    with engine.connect() as connection:
        labels = fraud_cases.fraud_labels_known_at(connection, T0 + timedelta(days=2))
        assert len(labels) == 1
        assert fraud_cases.review_queue(connection) == []
    with engine.connect() as connection:
        from fengkong.store import fraud_cases as store

        assert store.get_case(connection, "case:icp-1").status == CaseStatus.REVIEWED.value
