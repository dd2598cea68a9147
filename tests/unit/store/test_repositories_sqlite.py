"""The repository contract on the embedded default, a SQLite file."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.unit.store.repository_contract import RepositoryContract


class TestRepositoriesOnSqlite(RepositoryContract):
    @pytest.fixture
    def engine(self, migrated_sqlite_engine: sa.Engine) -> sa.Engine:
        return migrated_sqlite_engine
