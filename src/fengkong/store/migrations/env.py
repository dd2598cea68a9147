"""Alembic's environment for fengkong, configured in code by :func:`fengkong.store.migrate.alembic_config`.

The database URL arrives in ``config.attributes["url"]`` (never through an ini file, so ``%`` in a URL is
safe), or an open connection in ``config.attributes["connection"]``. The engine comes from
:func:`fengkong.store.config.make_engine`, so migrations see the same SQLite pragmas and PostgreSQL settings
as the application. The version table is created unqualified, so on PostgreSQL it lands in the first schema
of the connection's ``search_path`` together with the tables.
"""

from __future__ import annotations

from typing import Literal

import sqlalchemy as sa
from alembic import context
from alembic.autogenerate.api import AutogenContext

from fengkong.errors import InvariantError
from fengkong.store.config import make_engine
from fengkong.store.schema import metadata
from fengkong.store.tables import UtcDateTime


def _render_item(type_: str, obj: object, _autogen_context: AutogenContext) -> str | Literal[False]:
    """Autogenerate writes UtcDateTime as the plain type it stores, so migrations do not import our code."""
    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        compare_type=True,
        render_item=_render_item,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    attributes = context.config.attributes
    connection = attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = attributes.get("url")
    if not isinstance(url, str):
        raise InvariantError("alembic config carries neither 'connection' nor 'url' in attributes")
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            _run(connection)
            connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise InvariantError("offline (SQL script) migrations are not supported; run fengkong db upgrade")
run_migrations_online()
