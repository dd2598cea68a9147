"""Schemathesis over the decision routes' OpenAPI operations: valid and invalid requests, never a 5xx."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from fengkong.api import routes_decisions
from fengkong.api.app import create_app
from fengkong.api.settings import ApiSettings
from fengkong.clock import FixedClock
from fengkong.decisions.policy import load_policy
from fengkong.services.api_decisions import DecisionDesk
from fengkong.services.decisions import SqlExposure, TraceLake
from fengkong.store import migrate
from tests.unit.api.testclient import TestClient  # noqa: F401 - silences starlette's notice before schemathesis
from tests.unit.decisions.conftest import DEFAULT_POLICY, NOW, build_engine, small_gbm, world

EXAMPLES_PER_OPERATION = 12
OPERATIONS = (
    ("POST", "/v1/applications"),
    ("POST", "/v1/authorisations"),
    ("GET", "/v1/decisions/{decision_id}"),
)


@pytest.fixture(scope="module")
def operations(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[tuple[str, str], schemathesis.APIOperation]]:
    folder = tmp_path_factory.mktemp("decisions-schemathesis")
    url = f"sqlite:///{folder / 'api.sqlite'}"
    migrate.upgrade(url)
    clock = FixedClock(NOW)
    app: FastAPI = create_app(ApiSettings(database_url=url, lake_dir=folder / "lake"), clock=clock)
    sql = app.state.context.engine
    engine = build_engine(
        load_policy(DEFAULT_POLICY), small_gbm(), world(), exposure=SqlExposure(sql), clock=clock
    )
    routes_decisions.install(app, DecisionDesk(engine, TraceLake(folder / "traces", fsync=False), clock))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    found = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        found[(operation.method.upper(), operation.path)] = operation
    yield found
    app.state.context.close()


@pytest.mark.parametrize(
    ("method", "path", "mode"),
    [(m, p, mode) for m, p in OPERATIONS for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)],
    ids=lambda value: getattr(value, "value", str(value)),
)
def test_no_request_makes_the_decision_routes_fail(
    operations: dict[tuple[str, str], schemathesis.APIOperation], method: str, path: str, mode: GenerationMode
) -> None:
    operation = operations[(method, path)]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate()

    run()
