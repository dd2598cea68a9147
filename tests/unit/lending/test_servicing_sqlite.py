"""Loan servicing use cases on SQLite (the embedded default)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from fengkong.store import migrate
from fengkong.store.config import make_engine
from tests.unit.lending.loans_contract import LoansContract


def _migrated(path: Path) -> sa.Engine:
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    return make_engine(url)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    engine = _migrated(tmp_path / "loans.sqlite")
    yield engine
    engine.dispose()


@pytest.fixture
def reference_engine(tmp_path: Path) -> Iterator[sa.Engine]:
    engine = _migrated(tmp_path / "reference.sqlite")
    yield engine
    engine.dispose()


class TestLoansOnSqlite(LoansContract):
    pass


def test_the_store_mirrors_every_field_of_the_book() -> None:
    from fengkong.lending.close_of_business import BOOK_COLUMNS
    from fengkong.store.loans import STATE_COLUMNS

    assert ("loan_id", *(field for field, _, _ in STATE_COLUMNS)) == BOOK_COLUMNS
