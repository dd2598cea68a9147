"""The in-process transport: partitions by entity, consumer group, acknowledgement, reclaim."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fengkong import bounds
from fengkong.clock import FixedClock
from fengkong.domain.events import EVENT_TYPE_NAMES, Event
from fengkong.errors import BoundExceededError, InputError
from fengkong.ingest.transport import InProcessTransport, partition_of
from fengkong.ingest.validate import parse_record
from fengkong.ingest.wire import decode_event, encode_event
from tests.strategies import valid_ingest_record

CLOCK = FixedClock(datetime(2026, 1, 1, 9, 0, tzinfo=UTC))


def _event(number: int, party: str, event_type: str = "order_placed") -> Event:
    return parse_record(valid_ingest_record(event_type, f"e{number:04d}", party=party), CLOCK)


class ManualMonotonic:
    def __init__(self) -> None:
        self.now_ms = 0.0

    def __call__(self) -> float:
        return self.now_ms


def test_partition_is_a_stable_hash_of_the_primary_party() -> None:
    event = _event(1, "P42")
    same_party_other_type = _event(2, "P42", "login")
    assert partition_of(event) == partition_of(same_party_other_type)
    assert 0 <= partition_of(event) < bounds.stream_partitions_count
    # BLAKE2b, not Python's salted hash(): the same partition in every process (pinned values).
    assert [partition_of(_event(3, party)) for party in ("P42", "P7", "C1")] == [7, 2, 5]
    assert len({partition_of(_event(n, f"P{n}")) for n in range(200)}) == bounds.stream_partitions_count


def test_events_of_one_entity_are_consumed_in_order() -> None:
    transport = InProcessTransport()
    events = [_event(n, f"P{n % 5}") for n in range(100)]
    transport.publish(events)
    consumed: list[Event] = []
    while deliveries := transport.consume("c1", 7):
        consumed.extend(d.event for d in deliveries)
        transport.ack(deliveries)
    assert sorted(e.event_id for e in consumed) == sorted(e.event_id for e in events)
    for party in (f"P{n}" for n in range(5)):
        assert [e for e in consumed if e.subject("consumer") == party] == [
            e for e in events if e.subject("consumer") == party
        ]
    assert len(transport) == 0


def test_unacknowledged_messages_stay_pending_and_ack_counts_once() -> None:
    transport = InProcessTransport()
    transport.publish([_event(n, "P1") for n in range(3)])
    deliveries = transport.consume("c1", 10)
    assert len(deliveries) == 3
    assert transport.consume("c1", 10) == []  # delivered, not delivered again
    assert len(transport.pending("c1")) == 3
    assert transport.ack(deliveries[:1]) == 1
    assert transport.ack(deliveries[:1]) == 0
    assert len(transport) == 2


def test_a_second_consumer_reclaims_the_pending_messages_of_a_dead_one() -> None:
    clock = ManualMonotonic()
    transport = InProcessTransport(monotonic_ms=clock)
    transport.publish([_event(n, "P1") for n in range(4)])
    dead = transport.consume("dead", 10)
    assert transport.reclaim("alive", min_idle_ms=1_000, count=10) == []  # not idle long enough
    clock.now_ms = 1_500
    reclaimed = transport.reclaim("alive", min_idle_ms=1_000, count=10)
    assert [d.message_id for d in reclaimed] == [d.message_id for d in dead]
    assert transport.pending("dead") == []
    assert transport.ack(reclaimed) == 4
    assert len(transport) == 0


def test_the_queue_is_bounded() -> None:
    transport = InProcessTransport(capacity=3)
    transport.publish([_event(n, "P1") for n in range(3)])
    with pytest.raises(BoundExceededError, match="transport_queue_events_max"):
        transport.publish([_event(9, "P1")])
    with pytest.raises(InputError):
        transport.consume("c1", 0)


@pytest.mark.parametrize("event_type", EVENT_TYPE_NAMES)
def test_the_wire_form_round_trips_with_money_as_strings(event_type: str) -> None:
    event = parse_record(valid_ingest_record(event_type, "e1", optional=True), CLOCK)
    message = encode_event(event)
    assert b" " not in message.replace(b"-value", b"")  # compact
    assert decode_event(message) == event
    if "amount" in event.attributes:
        assert b'"amount":"12.34"' in message
