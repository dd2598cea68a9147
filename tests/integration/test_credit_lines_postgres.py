"""Credit lines, their history and alerts on PostgreSQL: the same scenarios as on SQLite, and two changes
racing on one line (the conditional UPDATE lets one win; the other is refused, nothing half-written)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from fengkong.errors import ConflictError
from fengkong.services import credit_line_review as review
from fengkong.store import credit_lines as store
from fengkong.store import migrate
from fengkong.store.config import make_engine
from tests.unit.credit_lines.credit_line_cases import (
    OPENED_AT,
    REVIEW_AT,
    run_change_conflicts,
    run_review_scenario,
)


@pytest.fixture
def engine(postgres_url: str) -> Iterator[sa.Engine]:
    migrate.upgrade(postgres_url)
    engine = make_engine(postgres_url)
    yield engine
    engine.dispose()


def test_a_review_raises_cuts_freezes_records_and_alerts(engine: sa.Engine) -> None:
    run_review_scenario(engine)


def test_changes_are_idempotent_and_refused_when_stale(engine: sa.Engine) -> None:
    run_change_conflicts(engine)


def test_two_concurrent_changes_from_one_state_one_wins(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        review.open_line(connection, "p-race", "bnpl", 10_000, OPENED_AT, "onboarding-v1")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def change(change_id: str, new_limit_fen: int) -> None:
        record = store.ChangeRecord(
            change_id,
            "p-race",
            "bnpl",
            "set",
            "operator",
            10_000,
            new_limit_fen,
            {},
            REVIEW_AT.date(),
            REVIEW_AT,
            "ops",
        )
        try:
            with engine.begin() as connection:
                barrier.wait()
                store.apply_change(connection, record)
            outcomes.append("applied")
        except ConflictError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=change, args=(f"race-{i}", 20_000 + i)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["applied", "conflict"]
    with engine.connect() as connection:
        history = store.history(connection, "p-race")
        assert [change.action for change in history] == ["open", "set"]  # the loser's row rolled back
        line = store.get_line(connection, "p-race", "bnpl")
        assert line is not None and line.limit_fen == history[-1].new_limit_fen
