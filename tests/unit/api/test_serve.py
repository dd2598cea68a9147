"""Settings from FENGKONG_* and the `fengkong serve` command: refusals with a reason, and what it starts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from fengkong.api.app import create_app_from_environment
from fengkong.api.settings import ApiSettings
from fengkong.cli import serve as serve_command
from fengkong.cli.common import EXIT_BAD_INPUT
from fengkong.cli.main import app  # `serve` is registered by importing fengkong.cli.serve above
from fengkong.errors import InputError
from tests.unit.api.testclient import TestClient


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No FENGKONG_* setting during a test, and none left behind (`serve` writes os.environ itself)."""
    for name in ("DATABASE_URL", "REDIS_URL", "REPLICAS", "LAKE_DIR", "TENANT", "REDIS_PREFIX"):
        monkeypatch.setenv(f"FENGKONG_{name}", "")  # recorded, so the teardown restores the original
        monkeypatch.delenv(f"FENGKONG_{name}")


def test_settings_default_to_the_embedded_database() -> None:
    settings = ApiSettings()
    assert settings.database_url == "sqlite:///fengkong.sqlite"
    assert settings.redis_url is None
    assert settings.replicas == 1
    settings.check_deployment()


def test_settings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FENGKONG_DATABASE_URL", "postgresql+psycopg://u@db.example/fk")
    monkeypatch.setenv("FENGKONG_REDIS_URL", "redis://cache.example:6379/0")
    monkeypatch.setenv("FENGKONG_REPLICAS", "4")
    settings = ApiSettings()
    assert (settings.database_url, settings.replicas) == ("postgresql+psycopg://u@db.example/fk", 4)
    settings.check_deployment()  # several replicas are fine with Redis
    assert (
        ApiSettings.model_validate(
            {k.removeprefix("FENGKONG_").lower(): v for k, v in settings.environment().items()}
        )
        == settings
    )


def test_several_replicas_without_redis_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FENGKONG_REPLICAS", "2")
    with pytest.raises(InputError) as caught:
        ApiSettings().check_deployment()
    assert caught.value.field == "replicas"
    assert "FENGKONG_REDIS_URL" in str(caught.value)


def test_serve_refuses_replicas_without_redis(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    monkeypatch.setenv("FENGKONG_REPLICAS", "3")
    result = CliRunner().invoke(app, ["serve", "--database-url", database_url])
    assert result.exit_code == EXIT_BAD_INPUT
    assert "3 replicas with the in-process feature engine" in result.output
    assert "Traceback" not in result.output


def test_serve_refuses_a_bad_setting_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FENGKONG_REPLICAS", "many")
    result = CliRunner().invoke(app, ["serve"])
    assert result.exit_code == EXIT_BAD_INPUT
    assert "FENGKONG_REPLICAS" in result.output


def test_serve_refuses_a_database_not_migrated(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["serve", "--database-url", f"sqlite:///{tmp_path / 'empty.sqlite'}"])
    assert result.exit_code == EXIT_BAD_INPUT
    assert "fengkong db upgrade" in result.output


def test_serve_starts_uvicorn_on_the_app_of_its_settings(
    monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path
) -> None:
    started: dict[str, Any] = {}
    monkeypatch.setenv("FENGKONG_LAKE_DIR", str(tmp_path / "lake"))
    monkeypatch.setattr(
        serve_command.uvicorn, "run", lambda target, **options: started.update(target=target, **options)
    )
    result = CliRunner().invoke(app, ["serve", "--database-url", database_url, "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert started["target"] == "fengkong.api.app:create_app_from_environment"
    assert (started["factory"], started["host"], started["port"]) == (True, "127.0.0.1", 8123)
    # uvicorn would build the app from the environment the command left: it serves that database
    with TestClient(create_app_from_environment()) as client:
        assert client.get("/healthz").json()["database"].endswith("api.sqlite")
