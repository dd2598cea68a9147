"""Where the database is and how to connect to it.

The embedded default is a SQLite file; ``FENGKONG_DATABASE_URL`` points fengkong at PostgreSQL instead
(``postgresql+psycopg://user@host:5432/db``; ``postgresql://`` is read as psycopg 3). Both engines are made
here so that every caller gets the same settings:

* SQLite: foreign keys on, WAL journal, a busy timeout, and real transactions. Python's ``sqlite3`` module
  opens transactions lazily (only before DML), so a ``SELECT`` followed by an ``UPDATE`` would not be atomic;
  we switch the driver to autocommit and emit ``BEGIN IMMEDIATE`` ourselves when SQLAlchemy begins. Writers
  therefore queue at ``BEGIN`` (for up to :data:`~fengkong.bounds.sqlite_busy_timeout_ms_max`) instead of
  failing half-way with "database is locked"; readers outside transactions are not blocked (WAL).
* PostgreSQL: psycopg 3 with a connect timeout
  (:data:`~fengkong.bounds.database_connect_timeout_seconds_max`).

A server that cannot be reached raises :class:`~fengkong.errors.UnavailableError` (never a raw driver error).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, ExceptionContext, make_url
from sqlalchemy.exc import ArgumentError

from fengkong import bounds
from fengkong.errors import InputError, UnavailableError

DATABASE_URL_ENV: Final = "FENGKONG_DATABASE_URL"
DEFAULT_SQLITE_PATH: Final = "fengkong.sqlite"
SUPPORTED_BACKENDS: Final = ("sqlite", "postgresql")


def database_url(
    default_path: str | os.PathLike[str] = DEFAULT_SQLITE_PATH,
    *,
    environ: Mapping[str, str] | None = None,
) -> str:
    """``FENGKONG_DATABASE_URL`` when set, else a SQLite file at ``default_path`` (relative to the cwd)."""
    environment = os.environ if environ is None else environ
    configured = environment.get(DATABASE_URL_ENV, "").strip()
    if configured:
        return configured
    return URL.create("sqlite", database=os.fspath(default_path)).render_as_string(hide_password=False)


def parse_database_url(url: str) -> URL:
    """Parse and normalise a database URL; only SQLite and PostgreSQL (psycopg 3) are accepted."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise InputError(f"not a database URL: {exc}", field="database_url") from exc
    backend = parsed.get_backend_name()
    if backend == "postgres":  # the scheme Heroku and libpq accept
        parsed = parsed.set(drivername="postgresql")
        backend = "postgresql"
    if backend not in SUPPORTED_BACKENDS:
        raise InputError(
            f"backend {backend!r} is not supported; use one of {list(SUPPORTED_BACKENDS)}",
            field="database_url",
        )
    driver = parsed.get_driver_name()
    if backend == "postgresql":
        if "+" in parsed.drivername and driver != "psycopg":
            raise InputError(
                f"driver {driver!r} is not installed; use postgresql+psycopg:// (psycopg 3)",
                field="database_url",
            )
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif "+" in parsed.drivername and driver != "pysqlite":
        raise InputError(f"driver {driver!r} is not supported; use sqlite:///path", field="database_url")
    return parsed


def describe(url: str | URL) -> str:
    """The URL with its password hidden, for messages and logs."""
    parsed = url if isinstance(url, URL) else make_url(url)
    return parsed.render_as_string(hide_password=True)


def make_engine(url: str) -> Engine:
    """An engine for ``url`` with fengkong's settings (see the module docstring). Does not connect yet."""
    parsed = parse_database_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = _make_sqlite_engine(parsed)
    else:
        engine = sa.create_engine(
            parsed,
            connect_args={"connect_timeout": bounds.database_connect_timeout_seconds_max},
            pool_pre_ping=True,
        )
    _translate_unreachable(engine, describe(parsed))
    return engine


def _make_sqlite_engine(url: URL) -> Engine:
    path = url.database
    if path and path != ":memory:" and not path.startswith("file:"):
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UnavailableError(f"cannot create the folder of the SQLite file {path}: {exc}") from exc
    engine = sa.create_engine(url, connect_args={"timeout": bounds.sqlite_busy_timeout_ms_max / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # the driver stops opening transactions; we do (below)
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={int(bounds.sqlite_busy_timeout_ms_max)}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _translate_unreachable(engine: Engine, where: str) -> None:
    @event.listens_for(engine, "handle_error")
    def _on_error(context: ExceptionContext) -> None:
        connecting = context.connection is None
        if connecting or context.is_disconnect:
            raise UnavailableError(
                f"the database at {where} cannot be reached: {context.original_exception}"
            ) from context.original_exception
