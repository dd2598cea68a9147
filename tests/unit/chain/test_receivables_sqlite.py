"""Trade records and receivables on SQLite (the contract in receivables_contract.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from fengkong.store.config import make_engine
from tests.unit.chain import trade_fixtures as fx
from tests.unit.chain.receivables_contract import ReceivablesContract


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fx.migrated_template(tmp_path_factory.mktemp("trade-template"))


@pytest.fixture
def engine(template: Path, tmp_path: Path) -> Iterator[sa.Engine]:
    engine = make_engine(fx.copy_of(template, tmp_path))
    yield engine
    engine.dispose()


class TestReceivablesOnSqlite(ReceivablesContract):
    pass
