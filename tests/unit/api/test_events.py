"""POST /v1/events: each event accepted, a duplicate or rejected with its field; new ones go to the lake."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from fengkong import bounds
from tests.unit.api.testclient import TestClient


def order(event_id: str, amount: Any = "36.50") -> dict[str, Any]:
    """An order by fictitious consumer P000123 at fictitious merchant B000045 (documentation IP range)."""
    return {
        "event_id": event_id,
        "event_type": "order_placed",
        "occurred_at": "2026-03-01T11:58:02.125+08:00",
        "received_at": "2026-03-01T03:58:03Z",
        "source": "food-app",
        "subjects": {"consumer": "P000123", "merchant": "B000045"},
        "attributes": {
            "order_id": f"O-{event_id}",
            "amount": amount,
            "category": "food",
            "pay_method": "bnpl",
            "device_id": "dev-7f3a",
            "ip": "203.0.113.7",
        },
    }


def login(event_id: str) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "event_type": "login",
        "occurred_at": "2026-03-01T08:00:00Z",
        "subjects": {"party": "P000123"},
        "attributes": {"device_id": "dev-7f3a", "ip": "203.0.113.7", "method": "sms"},
    }


def send(client: TestClient, events: list[Any], key: str) -> Any:
    return client.post("/v1/events", json={"events": events}, headers={"Idempotency-Key": key})


def lake_rows(lake: Path) -> int:
    return sum(pq.read_metadata(path).num_rows for path in lake.rglob("*.parquet"))


def test_a_batch_gets_one_result_per_event_in_order(client: TestClient, tmp_path: Path) -> None:
    events = [
        order("E-1"),
        login("E-2"),
        order("E-1"),
        order("E-3", amount=36.5),
        {"event_type": "login"},
        42,
    ]
    response = send(client, events, "batch-1")
    assert response.status_code == 200
    body = response.json()
    assert [item["status"] for item in body["results"]] == [
        "accepted",
        "accepted",
        "duplicate",
        "rejected",
        "rejected",
        "rejected",
    ]
    assert [item["index"] for item in body["results"]] == [0, 1, 2, 3, 4, 5]
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (2, 1, 3)
    assert body["results"][5]["field"] == "record"
    float_amount = body["results"][3]
    assert float_amount["event_id"] == "E-3"
    assert float_amount["field"] == "attributes.amount"
    assert "float" in float_amount["reason"] or "string" in float_amount["reason"]
    assert body["results"][4]["field"] == "event_id"
    assert lake_rows(tmp_path / "lake") == 2


def test_events_seen_in_an_earlier_request_are_duplicates(client: TestClient, tmp_path: Path) -> None:
    send(client, [order("E-1"), order("E-2")], "batch-1")
    second = send(client, [order("E-2"), order("E-3")], "batch-2").json()
    assert [item["status"] for item in second["results"]] == ["duplicate", "accepted"]
    assert lake_rows(tmp_path / "lake") == 3


def test_a_retried_batch_returns_its_first_answer(client: TestClient, tmp_path: Path) -> None:
    first = send(client, [order("E-1")], "batch-1")
    again = send(client, [order("E-1")], "batch-1")
    assert again.json() == first.json()
    assert again.json()["accepted"] == 1  # the first answer, not "duplicate"
    assert again.headers["Idempotent-Replayed"] == "true"
    assert lake_rows(tmp_path / "lake") == 1


def test_an_empty_or_oversized_batch_is_refused(client: TestClient) -> None:
    empty = send(client, [], "batch-empty")
    assert empty.status_code == 422
    assert empty.json()["field"] == "body.events"
    too_many = send(client, [{}] * (bounds.api_events_per_request_max + 1), "batch-big")
    assert too_many.status_code == 422
    assert too_many.json()["field"] == "body.events"
