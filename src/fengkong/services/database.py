"""Use cases for the database itself: migrate it up or down.

Thin on purpose: the CLI (and later the demo) call these, and they call :mod:`fengkong.store.migrate`, so the
command-line layer never imports ``store/`` directly.
"""

from __future__ import annotations

from dataclasses import dataclass

from fengkong.store import migrate
from fengkong.store.config import database_url, describe


@dataclass(frozen=True, slots=True)
class MigrationResult:
    """Where the database is (password hidden) and the revision it is at afterwards (None: empty)."""

    database: str
    revision: str | None


def resolve_database_url(url: str | None) -> str:
    """``url`` when given, else ``FENGKONG_DATABASE_URL``, else ``sqlite:///fengkong.sqlite``."""
    return url if url else database_url()


def upgrade_database(url: str | None = None, revision: str = "head") -> MigrationResult:
    """Migrate the database up to ``revision`` (the newest by default)."""
    resolved = resolve_database_url(url)
    migrate.upgrade(resolved, revision)
    return MigrationResult(database=describe(resolved), revision=migrate.current_revision(resolved))


def downgrade_database(url: str | None = None, revision: str = "base") -> MigrationResult:
    """Migrate the database down to ``revision`` (``base`` removes every fengkong table)."""
    resolved = resolve_database_url(url)
    migrate.downgrade(resolved, revision)
    return MigrationResult(database=describe(resolved), revision=migrate.current_revision(resolved))
