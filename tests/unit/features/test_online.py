"""The in-process online engine: events as domain objects, idempotence, replicas, eviction, reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fengkong.domain.events import Event, Subject
from fengkong.domain.features import FeatureReader
from fengkong.errors import InputError
from fengkong.features.online import OnlineFeatureEngine, event_row, finish_growth, finish_ratio
from fengkong.features.spec import FeatureSpecError
from fengkong.features.standard import STANDARD_FEATURES

T0 = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)


def order(event_id: str, received: datetime, amount_fen: int, consumer: str = "C1") -> Event:
    return Event(
        event_id=event_id,
        event_type="order_placed",
        occurred_at=received - timedelta(minutes=1),
        received_at=received,
        subjects=(Subject("consumer", consumer), Subject("merchant", "M1")),
        attributes={
            "order_id": f"o-{event_id}",
            "amount": amount_fen,
            "category": "food",
            "pay_method": "bnpl",
        },
        source="test",
    )


def test_domain_events_update_every_entity_they_name() -> None:
    engine = OnlineFeatureEngine(STANDARD_FEATURES)
    assert engine.apply(order("e1", T0, 1_500))
    assert engine.apply(order("e2", T0 + timedelta(hours=1), 2_500))
    consumer = engine.read("consumer", "C1", T0 + timedelta(hours=2))
    assert consumer.get("consumer_orders_7d") == 2
    assert consumer.get("consumer_order_amount_30d_fen") == 4_000
    assert consumer.get("consumer_order_amount_mean_30d_fen") == 2_000.0
    assert consumer.get("consumer_bnpl_order_share_30d") == 1.0
    assert consumer.feature_set_version == STANDARD_FEATURES.version
    assert consumer.entity_type == "consumer"
    assert engine.read("merchant", "M1", T0 + timedelta(hours=2)).get("merchant_orders_7d") == 2


def test_a_retried_event_never_counts_twice() -> None:
    engine = OnlineFeatureEngine(STANDARD_FEATURES)
    assert engine.apply(order("e1", T0, 1_500))
    assert not engine.apply(order("e1", T0 + timedelta(minutes=5), 1_500))
    assert not engine.apply(order("e1", T0, 1_500))
    read = engine.read("consumer", "C1", T0 + timedelta(hours=1), ["consumer_orders_7d"])
    assert dict(read.values) == {"consumer_orders_7d": 1}


def test_an_earlier_copy_arriving_late_moves_the_event_back() -> None:
    engine = OnlineFeatureEngine(STANDARD_FEATURES)
    engine.apply(order("e1", T0, 1_500))
    assert engine.apply(order("e1", T0 - timedelta(days=8), 1_500))
    assert engine.read("consumer", "C1", T0, ["consumer_orders_7d"]).get("consumer_orders_7d") == 0
    assert engine.read("consumer", "C1", T0, ["consumer_orders_30d"]).get("consumer_orders_30d") == 1
    assert engine.entries > 0


def test_out_of_order_arrival_gives_the_same_state() -> None:
    events = [order(f"e{n}", T0 + timedelta(hours=n * 7), 100 * n + 1) for n in range(12)]
    forward, backward = OnlineFeatureEngine(STANDARD_FEATURES), OnlineFeatureEngine(STANDARD_FEATURES)
    for event in events:
        forward.apply(event)
    for event in reversed(events):
        backward.apply(event)
    for hours in (0, 30, 77, 200):
        as_of = T0 + timedelta(hours=hours)
        assert forward.read("consumer", "C1", as_of).values == backward.read("consumer", "C1", as_of).values


def test_more_than_one_replica_is_refused() -> None:
    with pytest.raises(InputError, match="3 replicas") as caught:
        OnlineFeatureEngine(STANDARD_FEATURES, replicas=3)
    assert caught.value.field == "replicas"


def test_reads_reaching_into_evicted_time_are_refused() -> None:
    engine = OnlineFeatureEngine(STANDARD_FEATURES)
    engine.apply(order("old", T0 - timedelta(days=500), 1))
    engine.apply(order("new", T0, 2))
    before = engine.entries
    dropped = engine.evict(T0)
    assert dropped > 0
    assert engine.entries == before - dropped
    assert (
        engine.read("consumer", "C1", T0 + timedelta(days=29), ["consumer_orders_30d"]).get(
            "consumer_orders_30d"
        )
        == 1
    )
    assert engine.read("consumer", "C1", T0 + timedelta(days=400)).get("consumer_orders_30d") == 0
    assert engine.read("consumer", "C1", T0).get("consumer_orders_30d") == 1
    with pytest.raises(InputError, match="before the engine's last eviction") as caught:
        engine.read("consumer", "C1", T0 - timedelta(minutes=1), ["consumer_logins_1h"])
    assert caught.value.field == "as_of"
    assert not engine.apply(order("older", T0 - timedelta(days=600), 3))  # too old to matter


def test_bad_reads_and_rows_name_the_problem() -> None:
    engine = OnlineFeatureEngine(STANDARD_FEATURES)
    with pytest.raises(FeatureSpecError, match="unknown entity"):
        engine.read("planet", "x", T0)
    with pytest.raises(FeatureSpecError, match="unknown feature"):
        engine.read("consumer", "C1", T0, ["nope"])
    with pytest.raises(InputError, match="no timezone"):
        engine.read("consumer", "C1", datetime(2026, 3, 2))
    with pytest.raises(InputError, match="unknown event type"):
        engine.apply_row("teleport", {"event_id": "x", "received_at": T0})
    with pytest.raises(InputError, match="event_id"):
        engine.apply_row("login", {"received_at": T0})
    with pytest.raises(InputError, match="received_at"):
        engine.apply_row("login", {"event_id": "x"})


def test_it_is_a_feature_reader() -> None:
    reader: FeatureReader = OnlineFeatureEngine(STANDARD_FEATURES)
    vector = reader.read("rider", "R1", T0)
    assert set(vector.values) == {spec.name for spec in STANDARD_FEATURES.for_entity("rider")}
    assert vector.get("rider_deliveries_7d") == 0


def test_event_rows_follow_the_column_layout() -> None:
    row = event_row(order("e1", T0, 1_500))
    assert row["consumer_id"] == "C1"
    assert row["merchant_id"] == "M1"
    assert row["amount_fen"] == 1_500
    assert row["device_id"] is None


def test_finishing_ratios_and_growth() -> None:
    assert finish_ratio(1, 4) == 0.25
    assert finish_ratio(1, 0) is None
    assert finish_ratio(None, 4) is None
    assert finish_growth(7, 30, 7, 30) == 1.0
    assert finish_growth(0, 30, 7, 30) == 0.0
    assert finish_growth(3, 0, 7, 30) is None


def test_distinct_counts_read_at_the_present_match_the_offline_engine() -> None:
    """Reads at or after an entity's newest event take the latest-receipt-per-value index; it must give
    the offline answer after out-of-order arrivals, retries with earlier copies, and eviction."""
    import pyarrow as pa

    from fengkong.features.offline import backfill
    from fengkong.features.parity import feed_online
    from tests.unit.features.synthetic import random_stream, to_tables

    tables = to_tables(random_stream(seed=21, events=1_500, event_types=("order_placed", "login")))
    engine = OnlineFeatureEngine(STANDARD_FEATURES)
    feed_online(engine, tables, shuffle_seed=5)
    newest = max(max(t.column("received_at").to_pylist()) for t in tables.values())
    engine.evict(newest - timedelta(days=3))  # drops nothing a 30-day window at `newest` still needs
    distinct = [
        s.name for s in STANDARD_FEATURES.for_entity("merchant") if s.aggregation.value == "distinct_count"
    ]
    instants = [newest, newest + timedelta(hours=5), newest + timedelta(days=29, hours=23)]
    keys = pa.table(
        {
            "entity_id": [m for m in ("M-0", "M-1", "M-2") for _ in instants],
            "as_of": pa.array([i for _ in range(3) for i in instants], type=pa.timestamp("us", tz="UTC")),
        }
    )
    offline = backfill(STANDARD_FEATURES, "merchant", keys, tables=tables, names=distinct).to_pylist()
    for row in offline:
        online = engine.read("merchant", row["entity_id"], row["as_of"], distinct)
        assert {name: row[name] for name in distinct} == dict(online.values)
    assert any(row[distinct[0]] for row in offline)
