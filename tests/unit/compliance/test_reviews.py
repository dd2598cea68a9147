"""Reasons told to borrowers are stored per decision, and a borrower's request for a human review opens a case
(SQLite). Party and decision IDs are made up; the one phone number is fictitious (138-0000-xxxx)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from fengkong.clock import FixedClock
from fengkong.compliance.reasons import reason_text
from fengkong.errors import ConflictError, IdempotencyConflictError, InputError, NotFoundError
from fengkong.services import reviews
from fengkong.store import migrate
from fengkong.store.config import make_engine

AT = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    url = f"sqlite:///{tmp_path / 'reviews.sqlite'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(AT)


def test_the_exact_sentences_and_language_told_are_stored_per_decision(
    engine: sa.Engine, clock: FixedClock
) -> None:
    with engine.begin() as connection:
        told = reviews.tell_reasons(
            connection, clock, "dec-1", "party-1", ["score", "thin_file_low_activity"], "zh-CN", AT
        )
        assert told.created
        assert told.sentences == (
            reason_text("score", "zh-CN"),
            reason_text("thin_file_low_activity", "zh-CN"),
        )
        stored = reviews.told_reasons(connection, clock, "dec-1", "party-1")
    assert stored["language"] == "zh-CN"
    assert stored["codes"] == ["score", "thin_file_low_activity"]
    assert stored["sentences"] == list(told.sentences)


def test_what_was_told_cannot_change_and_a_retry_returns_it(engine: sa.Engine, clock: FixedClock) -> None:
    with engine.begin() as connection:
        reviews.tell_reasons(connection, clock, "dec-1", "party-1", ["score"], "en", AT)
        again = reviews.tell_reasons(
            connection, clock, "dec-1", "party-1", ["score"], "en", AT + timedelta(1)
        )
        assert not again.created and again.told_at == AT
        with pytest.raises(IdempotencyConflictError):
            reviews.tell_reasons(connection, clock, "dec-1", "party-1", ["approved"], "en", AT)
        with pytest.raises(IdempotencyConflictError):
            reviews.tell_reasons(connection, clock, "dec-1", "party-1", ["score"], "zh-CN", AT)


@pytest.mark.parametrize(
    ("codes", "language", "field"),
    [([], "en", "codes"), (["score"], "fr", "language"), (["no_such_code"], "en", "code")],
)
def test_bad_reasons_are_refused_naming_the_field(
    engine: sa.Engine, clock: FixedClock, codes: list[str], language: str, field: str
) -> None:
    with engine.begin() as connection, pytest.raises(InputError) as caught:
        reviews.tell_reasons(connection, clock, "dec-1", "party-1", codes, language, AT)
    assert caught.value.field == field


def test_a_review_opens_one_case_per_decision_and_a_reviewer_closes_it(
    engine: sa.Engine, clock: FixedClock
) -> None:
    with engine.begin() as connection:
        reviews.tell_reasons(connection, clock, "dec-1", "party-1", ["score"], "en", AT)
        case = reviews.request_review(
            connection, clock, "case-1", "dec-1", "party-1", AT, "Please call me on 138-0000-0001"
        )
        assert case.created and case.status == "open"
        again = reviews.request_review(connection, clock, "case-2", "dec-1", "party-1", AT)
        assert not again.created and again.case_id == "case-1"
        assert [item.case_id for item in reviews.open_reviews(connection, clock)] == ["case-1"]
        statement = connection.execute(sa.text("SELECT statement FROM review_cases")).scalar_one()
        assert statement == "Please call me on 138****0001"
        closed = reviews.close_review(
            connection, clock, "case-1", "overturned", "reviewer-7", AT, "income shown"
        )
        assert (closed.status, closed.outcome) == ("closed", "overturned")
        assert reviews.open_reviews(connection, clock) == []
        with pytest.raises(ConflictError):
            reviews.close_review(connection, clock, "case-1", "upheld", "reviewer-7", AT)
        with pytest.raises(InputError) as caught:
            reviews.close_review(connection, clock, "case-1", "ignored", "reviewer-7", AT)
        assert caught.value.field == "outcome"


def test_only_the_decisions_own_party_can_ask_and_only_for_a_told_decision(
    engine: sa.Engine, clock: FixedClock
) -> None:
    with engine.begin() as connection:
        reviews.tell_reasons(connection, clock, "dec-1", "party-1", ["score"], "en", AT)
        with pytest.raises(NotFoundError):
            reviews.request_review(connection, clock, "case-1", "dec-1", "party-2", AT)  # not theirs
        with pytest.raises(NotFoundError):
            reviews.request_review(connection, clock, "case-1", "dec-9", "party-1", AT)  # never told
        with pytest.raises(NotFoundError):
            reviews.told_reasons(connection, clock, "dec-1", "party-2")
        with pytest.raises(NotFoundError):
            reviews.close_review(connection, clock, "case-9", "upheld", "reviewer-7", AT)
