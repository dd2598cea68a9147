"""Every error is JSON {"code", "message", "field"} from the one mapping; no stack trace ever."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from fengkong import bounds
from fengkong.api.errors import error_code
from fengkong.errors import (
    BoundExceededError,
    ConflictError,
    CurrencyMismatchError,
    FengkongError,
    IdempotencyConflictError,
    InputError,
    InvariantError,
    NotFoundError,
    UnavailableError,
)
from tests.unit.api.testclient import TestClient

SHAPE = {"code", "message", "field"}


@pytest.mark.parametrize(
    ("error", "status", "code", "field"),
    [
        (InputError("must be positive", field="amount"), 422, "input", "amount"),
        (CurrencyMismatchError("CNY and USD"), 422, "currency_mismatch", None),
        (NotFoundError("loan 'X' not found"), 404, "not_found", None),
        (ConflictError("taken"), 409, "conflict", None),
        (IdempotencyConflictError("other body"), 409, "idempotency_conflict", None),
        (BoundExceededError("api_events_per_request_max", 1000, 1001), 413, "bound_exceeded", None),
        (UnavailableError("PostgreSQL is down"), 503, "unavailable", None),
    ],
)
def test_each_error_maps_to_its_status_and_code(
    app: FastAPI, error: FengkongError, status: int, code: str, field: str | None
) -> None:
    @app.get("/raise")
    def raise_it() -> None:
        raise error

    with TestClient(app) as client:
        response = client.get("/raise")
    assert response.status_code == status == error.http_status
    body = response.json()
    assert set(body) == SHAPE
    assert body["code"] == code == error_code(error)
    if isinstance(error, BoundExceededError):
        assert body["field"] == "api_events_per_request_max"
    else:
        assert body["field"] == field
    assert body["message"]


def test_a_bug_is_a_500_without_its_text_or_a_trace(app: FastAPI) -> None:
    @app.get("/bug")
    def bug() -> None:
        raise InvariantError("secret internal detail")

    @app.get("/crash")
    def crash() -> None:
        raise RuntimeError("another secret")

    with TestClient(app, raise_server_exceptions=False) as client:
        for path in ("/bug", "/crash"):
            response = client.get(path)
            assert response.status_code == 500
            assert response.json()["code"] == "internal"
            assert "secret" not in response.text
            assert "Traceback" not in response.text


def test_a_malformed_body_is_a_422_naming_the_field(client: TestClient) -> None:
    headers = {"Idempotency-Key": "k"}
    cases = [
        ({"repayment_id": "R-1", "loan_id": "LN-1", "amount": 100.5}, "body.amount"),  # a float amount
        ({"repayment_id": "R-1", "loan_id": "LN-1", "amount": "1.005"}, "body.amount"),  # 3 decimals
        ({"repayment_id": "R-1", "loan_id": "LN-1"}, "body.amount"),
        ({"repayment_id": "R 1", "loan_id": "LN-1", "amount": "1"}, "body.repayment_id"),
        ({"repayment_id": "R-1", "loan_id": "LN-1", "amount": "1", "extra": 1}, "body.extra"),
    ]
    for body, field in cases:
        response = client.post("/v1/repayments", json=body, headers=headers)
        assert response.status_code == 422, body
        assert response.json()["code"] == "input"
        assert response.json()["field"] == field
    broken = client.post(
        "/v1/repayments", content=b"{not json", headers={**headers, "Content-Type": "application/json"}
    )
    assert broken.status_code == 422
    assert set(broken.json()) == SHAPE


def test_a_zero_or_negative_amount_is_refused_naming_the_amount(client: TestClient) -> None:
    for amount in ("0", "0.00", "-1.00", "0012.00", "1000000000.00"):
        response = client.post(
            "/v1/repayments",
            json={"repayment_id": "R-1", "loan_id": "LN-1", "amount": amount},
            headers={"Idempotency-Key": "k"},
        )
        assert response.status_code == 422, amount
        assert response.json()["field"] == "body.amount"
    for amount in ("0.01", "0.1", "1", "999999999.99"):
        response = client.post(
            "/v1/repayments",
            json={"repayment_id": "R-1", "loan_id": "LN-1", "amount": amount},
            headers={"Idempotency-Key": f"k-{amount}"},
        )
        assert response.status_code == 404, amount  # valid: the loan is unknown


def test_unknown_routes_and_methods_are_json(client: TestClient) -> None:
    missing = client.get("/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"
    wrong = client.delete("/v1/repayments")
    assert wrong.status_code == 405
    assert wrong.json()["code"] == "method_not_allowed"


def test_a_body_above_the_bound_is_413_before_it_is_read(client: TestClient) -> None:
    oversized = b"x" * (bounds.api_request_body_bytes_max + 1)
    response = client.post(
        "/v1/events", content=oversized, headers={"Idempotency-Key": "k", "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["field"] == "api_request_body_bytes_max"


def test_a_streamed_body_above_the_bound_is_413(client: TestClient) -> None:
    """Without a Content-Length (chunked), the bytes are counted as they arrive."""
    piece = b" " * 65_536

    def chunks() -> Iterator[bytes]:
        for _ in range(bounds.api_request_body_bytes_max // len(piece) + 2):
            yield piece

    response = client.post(
        "/v1/events", content=chunks(), headers={"Idempotency-Key": "k", "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["code"] == "bound_exceeded"


def test_the_openapi_document_and_docs_are_served(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    paths = set(document["paths"])
    assert {
        "/v1/offers/{offer_id}/accept",
        "/v1/draws",
        "/v1/repayments",
        "/v1/loans/{loan_id}",
        "/v1/loans/{loan_id}/schedule",
        "/v1/loans/{loan_id}/payoff-quote",
        "/v1/events",
        "/healthz",
    } <= paths
    parameters = document["paths"]["/v1/repayments"]["post"]["parameters"]
    assert any(item["name"] == "Idempotency-Key" and item["required"] for item in parameters)
    assert client.get("/docs").status_code == 200


def test_healthz_answers_and_a_dead_database_is_503(client: TestClient, app: FastAPI, tmp_path: Path) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    app.state.context.engine.dispose()
    Path(app.state.context.engine.url.database).unlink()
    (tmp_path / "api.sqlite").mkdir()  # the file is now a folder: SQLite cannot open it
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["code"] == "unavailable"
