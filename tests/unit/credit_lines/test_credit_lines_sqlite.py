"""Credit lines, their history and the alert queue in SQL (fengkong.store.credit_lines) and the review use
case (fengkong.services.credit_line_review), on SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from fengkong.errors import ConflictError, InputError, NotFoundError
from fengkong.services import credit_line_review as review
from fengkong.store import credit_lines as store
from fengkong.store import migrate
from fengkong.store.config import make_engine
from tests.unit.credit_lines.credit_line_cases import (
    OPENED_AT,
    REVIEW_AT,
    FixedFeatures,
    run_change_conflicts,
    run_review_scenario,
)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    url = f"sqlite:///{tmp_path / 'lines.sqlite'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


def test_a_review_raises_cuts_freezes_records_and_alerts(engine: sa.Engine) -> None:
    run_review_scenario(engine)


def test_changes_are_idempotent_and_refused_when_stale(engine: sa.Engine) -> None:
    run_change_conflicts(engine)


def test_opening_twice_under_another_id_conflicts_and_unknown_lines_are_not_found(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        review.open_line(connection, "p-1", "bnpl", 100_000, OPENED_AT, "onboarding-v1")
        assert (
            review.open_line(connection, "p-1", "bnpl", 100_000, OPENED_AT, "onboarding-v1").limit_fen
            == 100_000
        )
    with pytest.raises(ConflictError), engine.begin() as connection:
        review.open_line(connection, "p-1", "bnpl", 100_000, REVIEW_AT, "onboarding-v1")
    change = store.ChangeRecord(
        "c-9", "p-9", "bnpl", "cut", "x", 1, 0, {}, REVIEW_AT.date(), REVIEW_AT, "ops"
    )
    with pytest.raises(NotFoundError), engine.begin() as connection:
        store.apply_change(connection, change)
    with engine.connect() as connection:
        assert store.history(connection, "p-9") == []  # the failed change left nothing behind


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"action": "grow"}, "action"),
        ({"action": "open"}, "action"),
        ({"new_limit_fen": -1}, "new_limit_fen"),
        ({"reason": ""}, "reason"),
        ({"triggers": {"x": True}}, "triggers"),
        ({"triggers": {f"f{i}": i for i in range(17)}}, "triggers"),
    ],
)
def test_bad_changes_name_their_field(engine: sa.Engine, changes: dict[str, object], field: str) -> None:
    base = {
        "change_id": "c-1",
        "party_id": "p-1",
        "product": "bnpl",
        "action": "cut",
        "reason": "operator",
        "old_limit_fen": 10,
        "new_limit_fen": 5,
        "triggers": {},
        "business_date": REVIEW_AT.date(),
        "changed_at": REVIEW_AT,
        "changed_by": "ops",
    }
    with pytest.raises(InputError) as raised, engine.begin() as connection:
        store.apply_change(connection, store.ChangeRecord(**{**base, **changes}))  # type: ignore[arg-type]
    assert raised.value.field == field


def test_review_bad_input(engine: sa.Engine) -> None:
    with pytest.raises(InputError) as raised:
        review.review_lines(engine, FixedFeatures({}), REVIEW_AT, batch_rows=0)
    assert raised.value.field == "batch_rows"
    with pytest.raises(InputError) as raised:
        review.review_lines(engine, FixedFeatures({}), REVIEW_AT.replace(tzinfo=None))
    assert raised.value.field == "as_of"
    with engine.connect() as connection, pytest.raises(InputError) as raised:
        review.alerts(connection, status="closed")
    assert raised.value.field == "status"
