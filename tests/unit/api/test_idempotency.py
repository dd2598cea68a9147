"""Idempotency of every write: same key and request → the first response; another request → 409; concurrent
retries post once; a write that failed leaves its key free."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from fengkong.clock import FixedClock
from fengkong.store import tables
from tests.unit.api.offers import keep, line_offer, loan_offer
from tests.unit.api.testclient import TestClient


def post(client: TestClient, path: str, body: dict[str, Any], key: str) -> Any:
    return client.post(path, json=body, headers={"Idempotency-Key": key})


@pytest.fixture
def booked(client: TestClient, engine: sa.Engine, clock: FixedClock) -> str:
    keep(engine, clock, loan_offer("OF-1", 1_200_000))
    assert post(client, "/v1/offers/OF-1/accept", {"loan_id": "LN-1"}, "accept-1").status_code == 201
    return "LN-1"


def repayment_rows(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(sa.select(sa.func.count()).select_from(tables.loan_repayments)).scalar_one()
        )


def test_the_same_key_and_body_returns_the_first_response(client: TestClient, booked: str) -> None:
    body = {"repayment_id": "R-1", "loan_id": booked, "amount": "100.00"}
    first = post(client, "/v1/repayments", body, "pay-1")
    second = post(client, "/v1/repayments", body, "pay-1")
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert first.headers["Idempotent-Replayed"] == "false"
    assert second.headers["Idempotent-Replayed"] == "true"
    assert client.get(f"/v1/loans/{booked}").json()["principal_outstanding"] == "11900.00"


def test_the_same_body_reformatted_is_the_same_request(client: TestClient, booked: str) -> None:
    text = '{"repayment_id": "R-1", "loan_id": "' + booked + '", "amount": "100.00"}'
    reordered = '{ "amount":"100.00","loan_id":"' + booked + '","repayment_id":"R-1" }'
    headers = {"Idempotency-Key": "pay-1", "Content-Type": "application/json"}
    first = client.post("/v1/repayments", content=text, headers=headers)
    second = client.post("/v1/repayments", content=reordered, headers=headers)
    assert second.headers["Idempotent-Replayed"] == "true"
    assert first.json() == second.json()


def test_the_same_key_with_another_body_is_a_conflict(
    client: TestClient, booked: str, engine: sa.Engine
) -> None:
    post(client, "/v1/repayments", {"repayment_id": "R-1", "loan_id": booked, "amount": "100.00"}, "pay-1")
    other = post(
        client, "/v1/repayments", {"repayment_id": "R-2", "loan_id": booked, "amount": "200.00"}, "pay-1"
    )
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_conflict"
    assert "pay-1" in other.json()["message"]
    assert repayment_rows(engine) == 1


def test_the_same_key_on_another_path_is_a_conflict(
    client: TestClient, booked: str, engine: sa.Engine, clock: FixedClock
) -> None:
    keep(engine, clock, loan_offer("OF-2"))
    response = post(client, "/v1/offers/OF-2/accept", {"loan_id": "LN-1"}, "accept-1")
    assert response.status_code == 409
    assert client.get("/v1/loans/LN-2").status_code == 404


def test_keys_are_scoped_per_endpoint(client: TestClient, booked: str) -> None:
    quote = post(client, f"/v1/loans/{booked}/payoff-quote", {}, "shared-key")
    pay = post(
        client, "/v1/repayments", {"repayment_id": "R-1", "loan_id": booked, "amount": "1.00"}, "shared-key"
    )
    assert quote.status_code == 200
    assert pay.status_code == 201
    assert pay.headers["Idempotent-Replayed"] == "false"


def test_a_failed_write_leaves_its_key_free(client: TestClient, engine: sa.Engine, clock: FixedClock) -> None:
    missing = post(client, "/v1/offers/OF-9/accept", {"loan_id": "LN-9"}, "accept-9")
    assert missing.status_code == 404
    keep(engine, clock, loan_offer("OF-9"))
    retried = post(client, "/v1/offers/OF-9/accept", {"loan_id": "LN-9"}, "accept-9")
    assert retried.status_code == 201
    assert retried.headers["Idempotent-Replayed"] == "false"


def test_every_post_needs_a_key(client: TestClient, booked: str) -> None:
    for path, body in (
        ("/v1/repayments", {"repayment_id": "R-1", "loan_id": booked, "amount": "1.00"}),
        ("/v1/offers/OF-1/accept", {"loan_id": booked}),
        ("/v1/draws", {"draw_id": "D-1", "line_offer_id": "L", "amount": "1", "installments": 1}),
        (f"/v1/loans/{booked}/payoff-quote", {}),
        ("/v1/events", {"events": [{}]}),
    ):
        response = client.post(path, json=body)
        assert response.status_code == 422, path
        assert response.json()["field"] == "header.Idempotency-Key"


def test_concurrent_retries_post_once(app: FastAPI, booked: str, engine: sa.Engine) -> None:
    """Eight threads send the same repayment with the same key at once: one posting, eight equal answers."""
    body = {"repayment_id": "R-1", "loan_id": booked, "amount": "500.00"}
    start = threading.Barrier(8)

    def send(_: int) -> tuple[int, Any, str]:
        own = TestClient(app)  # no lifespan: the app's engine stays open for the other threads
        start.wait()
        response = post(own, "/v1/repayments", body, "pay-concurrent")
        return response.status_code, response.json(), response.headers["Idempotent-Replayed"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(send, range(8)))
    assert {status for status, _, _ in answers} == {201}
    assert len({str(answer) for _, answer, _ in answers}) == 1
    assert sorted(replayed for _, _, replayed in answers) == ["false"] + ["true"] * 7
    assert repayment_rows(engine) == 1
    with TestClient(app) as client:
        assert client.get(f"/v1/loans/{booked}").json()["principal_outstanding"] == "11500.00"


def test_concurrent_draws_with_distinct_keys_never_pass_the_line(
    app: FastAPI, engine: sa.Engine, clock: FixedClock
) -> None:
    """Eight draws of 3,000 yuan on a 10,000 yuan line at once: exactly three are booked."""
    keep(engine, clock, line_offer("LINE-1", 1_000_000))
    with TestClient(app) as client:
        assert post(client, "/v1/offers/LINE-1/accept", {}, "line").status_code == 200
    start = threading.Barrier(8)

    def send(number: int) -> str:
        body = {"draw_id": f"D-{number}", "line_offer_id": "LINE-1", "amount": "3000.00", "installments": 3}
        own = TestClient(app)
        start.wait()
        return str(post(own, "/v1/draws", body, f"draw-{number}").json()["outcome"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(send, range(8)))
    assert sorted(outcomes) == ["booked"] * 3 + ["refused"] * 5
