"""Run the Alembic migrations programmatically: no ``alembic.ini`` anywhere.

The scripts live inside the package (``fengkong/store/migrations/``), so an editable install and a wheel
both find them next to this module.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from fengkong.errors import InputError
from fengkong.store.config import make_engine

MIGRATIONS_DIR: Final = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic config for ``url`` built in code; ``env.py`` reads the URL from ``attributes``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["url"] = url
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` up to ``revision``; an unknown revision raises InputError."""
    try:
        command.upgrade(alembic_config(url), revision)
    except CommandError as exc:
        raise InputError(str(exc), field="revision") from exc


def downgrade(url: str, revision: str = "base") -> None:
    """Migrate the database at ``url`` down to ``revision`` (``base`` drops every table)."""
    try:
        command.downgrade(alembic_config(url), revision)
    except CommandError as exc:
        raise InputError(str(exc), field="revision") from exc


def head_revision() -> str | None:
    """The newest revision among the packaged migration scripts."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(url: str) -> str | None:
    """The revision the database at ``url`` is at (None when it has never been migrated)."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return current_revision_of(connection)
    finally:
        engine.dispose()


def current_revision_of(connection: sa.Connection) -> str | None:
    """The revision of the database behind an open connection."""
    return MigrationContext.configure(connection).get_current_revision()
