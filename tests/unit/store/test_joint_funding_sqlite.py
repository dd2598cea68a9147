"""Joint-lending funding shares on SQLite (the embedded default)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from fengkong.store import migrate
from fengkong.store.config import make_engine
from tests.unit.store.joint_funding_contract import JointFundingContract


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    url = f"sqlite:///{tmp_path / 'joint.sqlite'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


class TestJointFundingOnSqlite(JointFundingContract):
    pass
