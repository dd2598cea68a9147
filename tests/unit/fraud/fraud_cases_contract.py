"""What the interception log and the case queue must do on any database (SQLite here, PostgreSQL in
tests/integration): once per interception ID, reviews decided once, labels only from their review time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from fengkong.errors import ConflictError, IdempotencyConflictError, InputError, NotFoundError
from fengkong.fraud.interceptions import (
    CaseOutcome,
    CaseStatus,
    FraudCase,
    Interception,
    InterceptionAction,
    InterceptionKind,
)
from fengkong.services import fraud_cases
from fengkong.store import fraud_cases as store

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def interception(
    number: int, party: str = "P1", amount_fen: int = 500_000, at: datetime = T0
) -> Interception:
    return Interception(
        interception_id=f"icp-{number}",
        party_id=party,
        kind=InterceptionKind.DRAW,
        action=InterceptionAction.HELD,
        subject_id=f"draw-{number}",
        amount_fen=amount_fen,
        reason_code="coerced_borrowing",
        reason_detail="line maxed out 20 minutes after a new-device login",
        source="fraud.protection",
        intercepted_at=at,
    )


def check_an_interception_is_logged_once_with_its_case(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        case = fraud_cases.intercept(connection, interception(1))
    assert case == FraudCase("case:icp-1", "P1", T0, "icp-1")
    with engine.begin() as connection:  # a retry: same body, same case, nothing new
        assert fraud_cases.intercept(connection, interception(1)) == case
        stored = fraud_cases.interception_from_record(store.get_interception(connection, "icp-1"))
        assert stored == interception(1)
        assert fraud_cases.review_queue(connection) == [case]
    with engine.begin() as connection, pytest.raises(IdempotencyConflictError):
        fraud_cases.intercept(connection, interception(1, amount_fen=1))


def check_a_failed_transaction_leaves_nothing(engine: sa.Engine) -> None:
    def decide_and_fail() -> None:
        with engine.begin() as connection:
            fraud_cases.intercept(connection, interception(2))
            raise RuntimeError("the decision failed after logging")

    with pytest.raises(RuntimeError):
        decide_and_fail()
    with engine.connect() as connection:
        with pytest.raises(NotFoundError):
            store.get_interception(connection, "icp-2")
        assert fraud_cases.review_queue(connection) == []


def check_reviews_close_cases_once_and_labels_wait_for_the_review(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        for number, party in ((1, "P1"), (2, "P2"), (3, "P3")):
            fraud_cases.intercept(connection, interception(number, party, at=T0 + timedelta(hours=number)))
    reviewed_1 = T0 + timedelta(days=3)
    reviewed_2 = T0 + timedelta(days=10)
    with engine.begin() as connection:
        closed = fraud_cases.review(connection, "case:icp-1", CaseOutcome.FRAUD, reviewed_1, "analyst-a")
        assert closed.status is CaseStatus.REVIEWED and closed.outcome is CaseOutcome.FRAUD
        fraud_cases.review(connection, "case:icp-2", CaseOutcome.NOT_FRAUD, reviewed_2, "analyst-b")
        # a retry of the same review returns it; another outcome conflicts
        assert (
            fraud_cases.review(connection, "case:icp-1", CaseOutcome.FRAUD, reviewed_1, "analyst-a") == closed
        )
        with pytest.raises(ConflictError):
            fraud_cases.review(connection, "case:icp-1", CaseOutcome.NOT_FRAUD, reviewed_2, "analyst-b")
        with pytest.raises(NotFoundError):
            fraud_cases.review(connection, "case:nope", CaseOutcome.FRAUD, reviewed_2, "analyst-b")
        with pytest.raises(InputError):
            fraud_cases.review(connection, "case:icp-3", CaseOutcome.FRAUD, T0, "analyst-b")  # before opening
    with engine.connect() as connection:
        assert [c.case_id for c in fraud_cases.review_queue(connection)] == ["case:icp-3"]
        assert fraud_cases.fraud_labels_known_at(connection, reviewed_1 - timedelta(seconds=1)) == ()
        at_first = fraud_cases.fraud_labels_known_at(connection, reviewed_1)
        assert [(label.party_id, label.is_fraud, label.known_at) for label in at_first] == [
            ("P1", True, reviewed_1)
        ]
        later = fraud_cases.fraud_labels_known_at(connection, reviewed_2 + timedelta(days=1))
        assert [(label.party_id, label.is_fraud) for label in later] == [("P1", True), ("P2", False)]
        assert later[0].observed_at == T0 + timedelta(hours=1)  # the delay is kept: opened, then known


def check_totals_sum_amounts_per_kind_and_action(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        fraud_cases.intercept(connection, interception(1, amount_fen=300_000))
        fraud_cases.intercept(connection, interception(2, amount_fen=200_000, at=T0 + timedelta(minutes=5)))
        fraud_cases.intercept(connection, interception(3, amount_fen=999, at=T0 + timedelta(days=2)))
    with engine.connect() as connection:
        totals = store.interception_totals(connection, T0, T0 + timedelta(days=1))
    assert totals == [store.InterceptionTotal("draw", "held", 2, 500_000)]
