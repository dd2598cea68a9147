"""The two statements every repository needs in each supported dialect (SQLite and PostgreSQL), written once.

``make_engine`` admits only those two backends; any other dialect reaching here is a bug.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from fengkong.errors import InvariantError


def insert_for(connection: sa.Connection, table: sa.Table) -> Any:
    """The dialect's INSERT construct, which has ``on_conflict_do_nothing`` (and ``do_update``) on both."""
    name = connection.dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise InvariantError(
        f"unsupported database dialect {name!r}; make_engine admits only sqlite and postgresql"
    )


def insert_ignoring_duplicates(connection: sa.Connection, table: sa.Table, row: Mapping[str, object]) -> bool:
    """Insert ``row`` unless its primary key exists; whether a row was written. RETURNING decides, not the
    driver's rowcount."""
    key = next(iter(table.primary_key.columns))
    statement = insert_for(connection, table).values(dict(row)).on_conflict_do_nothing()
    return connection.execute(statement.returning(key)).first() is not None
