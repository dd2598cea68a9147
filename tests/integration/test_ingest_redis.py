"""The Redis Streams transport against a real Redis: consumer groups, partitions, acks, reclaim."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis

from fengkong import bounds
from fengkong.clock import FixedClock
from fengkong.domain.events import Event
from fengkong.ingest.dedup import InMemorySeenEvents
from fengkong.ingest.transport import Delivery, RedisStreamsTransport, partition_of
from fengkong.ingest.validate import parse_record
from fengkong.services.ingest_events import ingest_file, open_transport
from tests.strategies import valid_ingest_record

pytestmark = pytest.mark.integration

CLOCK = FixedClock(datetime(2026, 1, 1, 9, 0, tzinfo=UTC))


@pytest.fixture
def client(redis_url: str) -> Iterator[Any]:
    connection = redis.Redis.from_url(redis_url)
    yield connection
    connection.close()


@pytest.fixture
def transport(client: Any, redis_prefix: str) -> RedisStreamsTransport:
    return RedisStreamsTransport(client, prefix=redis_prefix)


def _events(count: int, parties: int = 5) -> list[Event]:
    return [
        parse_record(valid_ingest_record("order_placed", f"e{n:04d}", party=f"P{n % parties}"), CLOCK)
        for n in range(count)
    ]


def _consume_all(transport: RedisStreamsTransport, consumer: str, ack: bool = True) -> list[Delivery]:
    taken: list[Delivery] = []
    for _ in range(100):
        deliveries = transport.consume(consumer, 50)
        if not deliveries:
            break
        taken.extend(deliveries)
        if ack:
            transport.ack(deliveries)
    return taken


def test_publish_and_consume_in_a_group(
    transport: RedisStreamsTransport, client: Any, redis_prefix: str
) -> None:
    events = _events(40)
    assert transport.publish(events) == 40
    keys = {key.decode() for key in client.scan_iter(match=f"{redis_prefix}*")}
    assert keys <= {f"{redis_prefix}events:{p}" for p in range(bounds.stream_partitions_count)}
    assert sum(client.xlen(key) for key in keys) == 40
    delivered = _consume_all(transport, "c1")
    assert sorted(d.event.event_id for d in delivered) == sorted(e.event_id for e in events)
    assert [d.event for d in sorted(delivered, key=lambda d: d.event.event_id)] == events
    assert transport.pending_count() == 0
    assert transport.consume("c1", 10) == []


def test_events_of_one_entity_keep_their_order_in_one_partition(transport: RedisStreamsTransport) -> None:
    events = _events(60, parties=4)
    transport.publish(events)
    delivered = _consume_all(transport, "c1")
    for party in ("P0", "P1", "P2", "P3"):
        mine = [d for d in delivered if d.event.subject("consumer") == party]
        assert [d.event.event_id for d in mine] == [
            e.event_id for e in events if e.subject("consumer") == party
        ]
        assert {d.partition for d in mine} == {partition_of(mine[0].event)}


def test_the_message_is_compact_json_with_money_as_a_string(
    transport: RedisStreamsTransport, client: Any, redis_prefix: str
) -> None:
    (event,) = _events(1)
    transport.publish([event])
    key = f"{redis_prefix}events:{partition_of(event)}"
    ((_message_id, fields),) = client.xrange(key)
    message = json.loads(fields[b"event"])
    assert message["attributes"]["amount"] == "12.34"
    assert message["subjects"] == {"consumer": "P0", "merchant": "merchant-1"}


def test_a_second_consumer_reclaims_the_pending_messages_of_a_dead_one(
    transport: RedisStreamsTransport,
) -> None:
    transport.publish(_events(12))
    dead = _consume_all(transport, "dead", ack=False)
    assert len(dead) == 12
    assert transport.pending_count() == 12
    assert transport.reclaim("alive", min_idle_ms=3_600_000, count=100) == []  # not idle that long
    reclaimed = transport.reclaim("alive", min_idle_ms=0, count=100)
    assert sorted(d.message_id for d in reclaimed) == sorted(d.message_id for d in dead)
    assert transport.ack(reclaimed) == 12
    assert transport.pending_count() == 0


def test_ack_semantics(transport: RedisStreamsTransport) -> None:
    transport.publish(_events(5))
    deliveries = _consume_all(transport, "c1", ack=False)
    assert transport.consume("c1", 10) == []  # delivered once to the group, pending now
    assert transport.ack(deliveries[:2]) == 2
    assert transport.ack(deliveries[:2]) == 0  # acknowledging twice counts once
    assert transport.pending_count() == 3
    reclaimed = transport.reclaim("c2", min_idle_ms=0, count=10)
    assert {d.message_id for d in reclaimed} == {d.message_id for d in deliveries[2:]}


def test_a_second_group_reads_the_same_stream_independently(client: Any, redis_prefix: str) -> None:
    features = RedisStreamsTransport(client, prefix=redis_prefix, group="features")
    fraud = RedisStreamsTransport(client, prefix=redis_prefix, group="fraud")
    features.ensure_group()
    fraud.ensure_group()
    features.publish(_events(7))
    assert len(_consume_all(features, "f1")) == 7
    assert len(_consume_all(fraud, "x1")) == 7


def test_streams_are_trimmed_approximately(client: Any, redis_prefix: str) -> None:
    small = RedisStreamsTransport(client, prefix=redis_prefix, partitions=1, stream_length_max=10)
    for start in range(0, 2_000, 500):
        small.publish(_events(2_000)[start : start + 500])
    assert client.xlen(small.stream_key(0)) < 2_000


def test_ingest_file_publishes_to_redis(tmp_path: Path, redis_url: str, redis_prefix: str) -> None:
    records = [valid_ingest_record("login", f"e{n}", party=f"P{n % 3}") for n in range(9)]
    source = tmp_path / "events.jsonl"
    source.write_text("\n".join(json.dumps(record) for record in records) + "\n")
    transport = open_transport("redis", redis_url=redis_url, redis_prefix=redis_prefix)
    report = ingest_file(source, tmp_path / "lake", transport, InMemorySeenEvents(), CLOCK)
    assert report.published == 9
    assert isinstance(transport, RedisStreamsTransport)
    delivered = _consume_all(transport, "c1")
    assert sorted(d.event.event_id for d in delivered) == sorted(str(r["event_id"]) for r in records)
    transport.client.close()
