"""Fixtures for the API tests: the app over a migrated SQLite file and a fixed clock (offers: offers.py)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from fengkong.api.app import create_app
from fengkong.api.settings import ApiSettings
from fengkong.clock import FixedClock
from fengkong.store import migrate
from tests.unit.api.offers import NOW
from tests.unit.api.testclient import TestClient


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file migrated to the newest revision; each test gets a copy (migrating is the slow part)."""
    path = tmp_path_factory.mktemp("api-template") / "template.sqlite"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def database_url(tmp_path: Path, migrated_template: Path) -> str:
    path = tmp_path / "api.sqlite"
    shutil.copyfile(migrated_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def app(database_url: str, clock: FixedClock, tmp_path: Path) -> FastAPI:
    settings = ApiSettings(database_url=database_url, lake_dir=tmp_path / "lake")
    return create_app(settings, clock=clock)


@pytest.fixture
def engine(app: FastAPI) -> sa.Engine:
    engine: sa.Engine = app.state.context.engine
    return engine


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client
