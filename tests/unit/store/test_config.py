"""Database URLs, engines and the UTC timestamp type."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from fengkong import bounds
from fengkong.errors import InputError, UnavailableError
from fengkong.store.config import DATABASE_URL_ENV, database_url, describe, make_engine, parse_database_url
from fengkong.store.tables import UtcDateTime


def test_database_url_prefers_the_environment() -> None:
    url = "postgresql+psycopg://fengkong@db.example.invalid:5432/fengkong"
    assert database_url(environ={DATABASE_URL_ENV: url}) == url
    assert database_url(environ={DATABASE_URL_ENV: "  "}) == "sqlite:///fengkong.sqlite"
    assert database_url(environ={}) == "sqlite:///fengkong.sqlite"
    assert database_url(Path("out") / "fengkong.sqlite", environ={}) == "sqlite:///out/fengkong.sqlite"


def test_database_url_reads_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATABASE_URL_ENV, "sqlite:///elsewhere.sqlite")
    assert database_url() == "sqlite:///elsewhere.sqlite"
    monkeypatch.delenv(DATABASE_URL_ENV)
    assert database_url("x.sqlite") == "sqlite:///x.sqlite"


@pytest.mark.parametrize(
    ("url", "drivername"),
    [
        ("postgresql://u@h/db", "postgresql+psycopg"),
        ("postgres://u@h/db", "postgresql+psycopg"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg"),
        ("sqlite:///a.sqlite", "sqlite"),
        ("sqlite+pysqlite:///a.sqlite", "sqlite+pysqlite"),
    ],
)
def test_urls_are_normalised(url: str, drivername: str) -> None:
    assert parse_database_url(url).drivername == drivername


@pytest.mark.parametrize(
    "url", ["mysql://u@h/db", "postgresql+psycopg2://u@h/db", "sqlite+aiosqlite:///a", "not a url"]
)
def test_unsupported_urls_are_refused(url: str) -> None:
    with pytest.raises(InputError) as caught:
        make_engine(url)
    assert caught.value.field == "database_url"


def test_describe_hides_the_password() -> None:
    assert "s3cret" not in describe("postgresql+psycopg://fengkong:s3cret@h/db")


def test_sqlite_engine_settings(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'nested' / 'folder' / 'db.sqlite'}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert (
                connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
                == bounds.sqlite_busy_timeout_ms_max
            )
        assert (tmp_path / "nested" / "folder" / "db.sqlite").exists()
    finally:
        engine.dispose()


def test_sqlite_transactions_are_real(tmp_path: Path) -> None:
    """A SELECT before a write is inside the transaction (the driver alone would begin only at the write)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE t (n INTEGER)")
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT count(*) FROM t").scalar()
            assert connection.in_transaction()
            connection.exec_driver_sql("INSERT INTO t VALUES (1)")
            connection.rollback()
            assert (
                connection.exec_driver_sql("SELECT count(*) FROM t").scalar() == 0
            )  # DDL too is transactional
    finally:
        engine.dispose()


def test_sqlite_enforces_foreign_keys(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
            connection.exec_driver_sql("CREATE TABLE child (parent_id INTEGER REFERENCES parent (id))")
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
            connection.exec_driver_sql("INSERT INTO child VALUES (42)")
    finally:
        engine.dispose()


def test_an_unreachable_server_is_unavailable() -> None:
    engine = make_engine(
        "postgresql+psycopg://fengkong:s3cret@127.0.0.1:1/fengkong"
    )  # port 1: nobody listens
    try:
        with pytest.raises(UnavailableError, match="cannot be reached") as caught, engine.connect():
            pass
        assert "s3cret" not in str(caught.value)
    finally:
        engine.dispose()


def test_an_unopenable_sqlite_file_is_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(UnavailableError):
        make_engine(f"sqlite:///{blocker / 'db.sqlite'}")


def _utc_round_trip(tmp_path: Path, value: datetime) -> datetime:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    table = sa.Table("stamps", sa.MetaData(), sa.Column("at", UtcDateTime()))
    try:
        with engine.begin() as connection:
            table.create(connection)
            connection.execute(table.insert().values(at=value))
            stored: datetime = connection.execute(sa.select(table.c.at)).scalar_one()
            raw = connection.exec_driver_sql("SELECT at FROM stamps").scalar_one()
    finally:
        engine.dispose()
    assert raw.startswith(stored.strftime("%Y-%m-%d %H:%M:%S"))  # stored as UTC text
    return stored


def test_timestamps_come_back_aware_utc(tmp_path: Path) -> None:
    shanghai = datetime(2026, 3, 1, 8, 0, 0, 250, tzinfo=timezone(timedelta(hours=8)))
    stored = _utc_round_trip(tmp_path, shanghai)
    assert stored.tzinfo is UTC
    assert stored == datetime(2026, 3, 1, 0, 0, 0, 250, tzinfo=UTC)


def test_naive_timestamps_are_refused(tmp_path: Path) -> None:
    with pytest.raises(sa.exc.StatementError) as caught:
        _utc_round_trip(tmp_path, datetime(2026, 3, 1, 8, 0))
    assert isinstance(caught.value.orig, InputError)
