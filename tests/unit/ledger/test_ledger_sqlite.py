"""The SQL ledger on SQLite: the contract, and SQLite's own checked header (the last line comes last)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from fengkong.store import migrate
from fengkong.store.config import make_engine
from fengkong.store.ledger import LedgerRepository
from tests.unit.ledger.ledger_contract import LedgerContract, RawLine, raw_header, raw_line, write_raw


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


class TestLedgerOnSqlite(LedgerContract):
    def test_the_last_line_must_come_last(self, engine: sa.Engine, repository: LedgerRepository) -> None:
        with pytest.raises(DBAPIError, match="last line must come after"):
            write_raw(engine, "t-1", 3, [(3, 3, "cash_clearing", -10)])
        complete_then_more: list[RawLine] = [
            (1, 2, "cash_clearing", 10),
            (2, 2, "equity", -10),
            (1, 2, "equity", 10),  # the transfer is sealed: refused by the trigger before the key is checked
        ]
        with pytest.raises(DBAPIError, match="complete"):
            write_raw(engine, "t-2", 2, complete_then_more)

    def test_the_balance_is_checked_when_the_last_line_arrives(
        self, engine: sa.Engine, repository: LedgerRepository
    ) -> None:
        with engine.connect() as connection:
            transaction = connection.begin()
            raw_header(connection, "t-3", 2)
            raw_line(connection, "t-3", 1, 2, "cash_clearing", 10)  # accepted for now
            with pytest.raises(DBAPIError, match="debits and credits"):
                raw_line(connection, "t-3", 2, 2, "equity", -11)
            transaction.rollback()
