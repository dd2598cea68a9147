"""``fengkong serve``: the HTTP API (FastAPI under uvicorn) over the configured database.

Settings come from ``FENGKONG_*`` environment variables (:mod:`fengkong.services.api_settings`); the options
here override them. Before starting, the command refuses — exit 2 with the reason, never a stack trace — a
deployment that cannot work: more than one replica with the in-process feature engine
(``FENGKONG_REPLICAS`` > 1 without ``FENGKONG_REDIS_URL``), or a database not migrated to the newest
revision (run ``fengkong db upgrade``). uvicorn then builds the app by name
(``fengkong.api.app:create_app_from_environment``) from the same settings.
"""

from __future__ import annotations

import os
from typing import Annotated, Final

import typer
import uvicorn
from pydantic import ValidationError

from fengkong.cli.common import fail
from fengkong.cli.main import app
from fengkong.errors import FengkongError
from fengkong.services.api_context import require_migrated
from fengkong.services.api_settings import ENV_PREFIX, ApiSettings

APP_FACTORY: Final = "fengkong.api.app:create_app_from_environment"


def _settings_problem(error: ValidationError) -> str:
    first = error.errors()[0]
    names = [str(part) for part in first.get("loc", ())]
    where = ENV_PREFIX + "_".join(names).upper() if names else "settings"
    return f"{where}: {first.get('msg', 'invalid')}"


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65_535, help="TCP port.")] = 8000,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="Database URL (sqlite:///path or postgresql+psycopg://...). "
            "Default: $FENGKONG_DATABASE_URL, else sqlite:///fengkong.sqlite.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Serve the HTTP API: /v1 lending and events, /docs, /openapi.json, /healthz."""
    try:
        settings = ApiSettings().with_overrides(database_url=database_url)
    except ValidationError as exc:
        raise fail(_settings_problem(exc)) from exc
    try:
        settings.check_deployment()
        revision = require_migrated(settings.database_url)
    except FengkongError as exc:
        raise fail(exc) from exc
    os.environ.update(settings.environment())
    typer.echo(f"fengkong serve: database at revision {revision}; http://{host}:{port}/docs")
    uvicorn.run(APP_FACTORY, factory=True, host=host, port=port, log_level="info")
