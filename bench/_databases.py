"""Scratch databases for the benchmarks: a migrated SQLite file, or a throw-away PostgreSQL schema.

PostgreSQL is ``FENGKONG_BENCH_POSTGRES_URL`` (default: the test server); a bench skips it with a message when
nothing answers there.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from fengkong.store import migrate
from fengkong.store.config import make_engine

POSTGRES_URL = os.environ.get(
    "FENGKONG_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def postgres_reachable() -> bool:
    parsed = make_url(POSTGRES_URL)
    try:
        with socket.create_connection((parsed.host or "127.0.0.1", parsed.port or 5432), timeout=1.0):
            return True
    except OSError:
        return False


def postgres_display() -> str:
    """The server's URL without its password, for the 'skipped' message."""
    return make_url(POSTGRES_URL).render_as_string()


@contextmanager
def postgres_schema_url() -> Iterator[str]:
    """The URL of a fresh, empty schema (not migrated), dropped afterwards."""
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@contextmanager
def postgres_engine() -> Iterator[sa.Engine]:
    """An engine on a fresh, migrated schema, dropped afterwards."""
    with postgres_schema_url() as url:
        migrate.upgrade(url)
        engine = make_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()


@contextmanager
def sqlite_engine(folder: Path, name: str) -> Iterator[sa.Engine]:
    """An engine on a migrated SQLite file ``folder/name``."""
    url = f"sqlite:///{folder / name}"
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()
