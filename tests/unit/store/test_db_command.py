"""``fengkong db upgrade`` / ``downgrade`` through the Typer app."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from fengkong.cli import db  # noqa: F401  (registers the commands)
from fengkong.cli.main import app
from fengkong.store import migrate
from fengkong.store.config import DATABASE_URL_ENV
from tests.unit.store.test_migrations import HEAD


def test_upgrade_and_downgrade(sqlite_url: str) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["db", "upgrade", "--url", sqlite_url])
    assert result.exit_code == 0, result.output
    assert f"at revision {HEAD}" in result.output
    assert migrate.current_revision(sqlite_url) == HEAD
    result = runner.invoke(app, ["db", "downgrade", "--url", sqlite_url, "--revision", "base"])
    assert result.exit_code == 0, result.output
    assert "base (no tables)" in result.output
    assert migrate.current_revision(sqlite_url) is None


def test_the_url_defaults_to_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'from-env.sqlite'}"
    monkeypatch.setenv(DATABASE_URL_ENV, url)
    result = CliRunner().invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert migrate.current_revision(url) == HEAD


def test_errors_are_reported_not_raised(sqlite_url: str) -> None:
    result = CliRunner().invoke(app, ["db", "upgrade", "--url", sqlite_url, "--revision", "9999"])
    assert result.exit_code == 1
    assert "revision" in result.output
    result = CliRunner().invoke(app, ["db", "upgrade", "--url", "postgresql+psycopg://u:pw@127.0.0.1:1/x"])
    assert result.exit_code == 1
    assert "cannot be reached" in result.output
