"""The decision routes (``api/routes_decisions.py``) over a migrated SQLite file: applications, authorisations
and decisions by ID; idempotent writes; offers made by the engine can be accepted through the lending API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from fengkong.api import routes_decisions
from fengkong.api.app import create_app
from fengkong.api.settings import ApiSettings
from fengkong.clock import FixedClock
from fengkong.decisions.policy import Policy
from fengkong.scoring.gbm import GBMServing
from fengkong.services.api_decisions import DecisionDesk
from fengkong.services.decisions import SqlExposure, TraceLake
from fengkong.store import exposure as exposure_store
from fengkong.store import migrate
from tests.unit.api.testclient import TestClient
from tests.unit.decisions.conftest import NOW, build_engine, world

APPLICATION: dict[str, Any] = {
    "application_id": "app-1",
    "party_id": "c-1",
    "household_id": "h-1",
    "product": "installment",
    "amount": "10000.00",
    "installments": 12,
    "age_years": 30,
    "identity_verified": True,
    "monthly_income": "12000.00",
    "monthly_debt_payments": "1000.00",
    "device_id": "dev-1",
    "phone": "13800000001",
    "ip": "10.0.0.1",
}


@pytest.fixture
def app(tmp_path: Path, default_policy: Policy, gbm_serving: GBMServing) -> FastAPI:
    url = f"sqlite:///{tmp_path / 'api.sqlite'}"
    migrate.upgrade(url)
    clock = FixedClock(NOW)
    app = create_app(ApiSettings(database_url=url, lake_dir=tmp_path / "lake"), clock=clock)
    sql = app.state.context.engine
    engine = build_engine(default_policy, gbm_serving, world(), exposure=SqlExposure(sql), clock=clock)
    routes_decisions.install(app, DecisionDesk(engine, TraceLake(tmp_path / "traces", fsync=False), clock))
    with sql.begin() as connection:
        exposure_store.set_household_cap(connection, "h-1", 100_000, NOW)
        exposure_store.set_party_limit(connection, "c-1", "bnpl", 80_000, NOW)
    return app


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def test_an_application_is_decided_recorded_and_its_offer_accepted(client: TestClient) -> None:
    response = client.post("/v1/applications", json=APPLICATION, headers={"Idempotency-Key": "k-1"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["outcome"] == "approve" and body["offer"]["amount"] == "10000.00"
    assert body["versions"]["policy"].startswith("default@")
    again = client.post("/v1/applications", json=APPLICATION, headers={"Idempotency-Key": "k-1"})
    assert again.json() == body and again.headers["Idempotent-Replayed"] == "true"
    conflict = client.post(
        "/v1/applications", json={**APPLICATION, "amount": "9000.00"}, headers={"Idempotency-Key": "k-1"}
    )
    assert conflict.status_code == 409
    detail = client.get(f"/v1/decisions/{body['decision_id']}")
    assert detail.status_code == 200
    assert detail.json()["trace"]["features"]["consumer_bureau_score_last"] == 720
    accepted = client.post(
        f"/v1/offers/{body['offer']['offer_id']}/accept",
        json={"loan_id": "L-1"},
        headers={"Idempotency-Key": "a-1"},
    )
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["loan_id"] == "L-1"


def test_a_decline_is_an_answer_with_reasons(client: TestClient) -> None:
    response = client.post(
        "/v1/applications", json={**APPLICATION, "age_years": 16}, headers={"Idempotency-Key": "k-2"}
    )
    assert response.status_code == 201
    body = response.json()
    assert body["outcome"] == "decline" and body["offer"] is None
    assert body["reasons"][0]["code"] == "eligibility:age" and body["reasons"][0]["en"]


def test_authorisations_hold_credit_and_bad_input_is_a_4xx(client: TestClient) -> None:
    request = {
        "authorisation_id": "auth-1",
        "party_id": "c-1",
        "household_id": "h-1",
        "product": "bnpl",
        "amount": "500.00",
        "merchant_category": "food",
        "device_id": "dev-1",
    }
    first = client.post("/v1/authorisations", json=request, headers={"Idempotency-Key": "x-1"})
    assert first.status_code == 201, first.text
    assert first.json()["outcome"] == "approve" and first.json()["hold"]["placed"] is True
    over = client.post(
        "/v1/authorisations",
        json={**request, "authorisation_id": "auth-2", "amount": "400.00"},
        headers={"Idempotency-Key": "x-2"},
    )
    assert over.json()["outcome"] == "decline"
    assert over.json()["reasons"][0]["code"] == "authorisation:over_available"
    for bad in ({**request, "amount": "-1"}, {**request, "amount": 5}, {**request, "colour": "red"}):
        refused = client.post("/v1/authorisations", json=bad, headers={"Idempotency-Key": "x-3"})
        assert refused.status_code == 422 and "code" in refused.json()
    missing = client.get("/v1/decisions/no-such-decision")
    assert missing.status_code == 404 and missing.json()["code"]


def test_the_api_s_one_file_per_decision_is_compacted(
    client: TestClient, app: FastAPI, tmp_path: Path
) -> None:
    from fengkong.clock import business_date
    from fengkong.services.decisions import compact_trace_day

    ids = []
    for n in range(3):
        body = {**APPLICATION, "application_id": f"app-{n}"}
        response = client.post("/v1/applications", json=body, headers={"Idempotency-Key": f"c-{n}"})
        ids.append(response.json()["decision_id"])
    desk = app.state.decisions
    assert len(list(desk.lake.root.glob("date=*/part-u*.parquet"))) == 3
    assert compact_trace_day(app.state.context.engine, desk.lake, business_date(NOW)) == (3, 1)
    for decision_id in ids:
        assert client.get(f"/v1/decisions/{decision_id}").json()["decision_id"] == decision_id
