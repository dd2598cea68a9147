"""Trade records and receivables on SQLite (the contract in receivables_contract.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from fengkong.store import migrate
from fengkong.store.config import make_engine
from tests.unit.chain.receivables_contract import ReceivablesContract


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    url = f"sqlite:///{tmp_path / 'trade.sqlite'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


class TestReceivablesOnSqlite(ReceivablesContract):
    pass
