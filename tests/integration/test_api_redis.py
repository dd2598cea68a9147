"""POST /v1/events with FENGKONG_REDIS_URL set: new events reach Redis Streams once, duplicates never."""

from __future__ import annotations

from pathlib import Path

import pytest

from fengkong.api.app import create_app
from fengkong.api.settings import ApiSettings
from fengkong.clock import FixedClock
from fengkong.store import migrate
from tests.unit.api.offers import NOW
from tests.unit.api.test_events import login, order
from tests.unit.api.testclient import TestClient

pytestmark = pytest.mark.integration


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'api.sqlite'}"
    migrate.upgrade(url)
    return url


def test_new_events_are_published_to_redis_streams(
    database_url: str, redis_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    settings = ApiSettings(
        database_url=database_url, redis_url=redis_url, redis_prefix=redis_prefix, lake_dir=tmp_path / "lake"
    )
    app = create_app(settings, clock=FixedClock(NOW))
    with TestClient(app) as client:
        first = client.post(
            "/v1/events", json={"events": [order("E-1"), login("E-2")]}, headers={"Idempotency-Key": "b1"}
        ).json()
        second = client.post(
            "/v1/events", json={"events": [order("E-1"), order("E-3")]}, headers={"Idempotency-Key": "b2"}
        ).json()
        assert (first["published"], second["published"]) == (2, 1)
        assert client.get("/healthz").json()["events"] == "lake+redis-streams"
        transport = app.state.context.transport
        deliveries = transport.consume("test-consumer", 10)
    assert sorted(delivery.event.event_id for delivery in deliveries) == ["E-1", "E-2", "E-3"]
