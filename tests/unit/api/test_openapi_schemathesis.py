"""Schemathesis over the app's own OpenAPI document: valid and invalid requests, never a 5xx.

Every operation gets a bounded number of generated requests (:data:`EXAMPLES_PER_OPERATION`), valid ones
and, from the negative generation mode, invalid ones; each response is checked by schemathesis' default
checks (no server error, a documented status code and content type, a body that matches the documented
schema). The database holds one offer of each kind and one booked loan, so generated IDs that happen to hit
them reach the use cases; most hit nothing and must be a 404, never a 500.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from fengkong.api.app import create_app
from fengkong.api.settings import ApiSettings
from fengkong.clock import FixedClock
from fengkong.services.api_context import prepare
from fengkong.services.api_lending import accept
from tests.unit.api.offers import NOW, keep, line_offer, loan_offer

EXAMPLES_PER_OPERATION = 20


@pytest.fixture(scope="module")
def seeded_app(tmp_path_factory: pytest.TempPathFactory, migrated_template: Path) -> Iterator[FastAPI]:
    folder = tmp_path_factory.mktemp("schemathesis")
    shutil.copyfile(migrated_template, folder / "api.sqlite")
    url = f"sqlite:///{folder / 'api.sqlite'}"
    clock = FixedClock(NOW)
    app = create_app(ApiSettings(database_url=url, lake_dir=Path(folder / "lake")), clock=clock)
    context = app.state.context
    prepare(context)
    keep(context.engine, clock, loan_offer("OF-1"), loan_offer("OF-2"), line_offer("LINE-1"))
    with context.engine.begin() as connection:
        accept(connection, clock, "OF-2", "LN-2", NOW)
        accept(connection, clock, "LINE-1", "", NOW)
    yield app
    context.close()


OPERATIONS = (
    ("POST", "/v1/offers/{offer_id}/accept"),
    ("POST", "/v1/draws"),
    ("POST", "/v1/repayments"),
    ("GET", "/v1/loans/{loan_id}"),
    ("GET", "/v1/loans/{loan_id}/schedule"),
    ("POST", "/v1/loans/{loan_id}/payoff-quote"),
    ("POST", "/v1/events"),
    ("GET", "/healthz"),
)


@pytest.fixture(scope="module")
def operations(seeded_app: FastAPI) -> dict[tuple[str, str], schemathesis.APIOperation]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", seeded_app)
    found = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        found[(operation.method.upper(), operation.path)] = operation
    return found


def test_every_operation_is_covered(operations: dict[tuple[str, str], schemathesis.APIOperation]) -> None:
    assert set(operations) == set(OPERATIONS)


@pytest.mark.parametrize(
    ("method", "path", "mode"),
    [
        (method, path, mode)
        for method, path in OPERATIONS
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        if path != "/healthz" or mode is GenerationMode.POSITIVE  # it has no input to make invalid
    ],
    ids=lambda value: getattr(value, "value", str(value)),
)
def test_no_request_makes_the_server_fail(
    operations: dict[tuple[str, str], schemathesis.APIOperation], method: str, path: str, mode: GenerationMode
) -> None:
    """(The pytest plugin's lazy schema does not run on this pytest, so Hypothesis drives the strategy.)"""
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
