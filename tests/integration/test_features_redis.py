"""The Redis online feature backend against a real Redis: parity with the offline engine on random streams
(late, duplicated, out of order, receipts on window edges), idempotence by event ID, keyspaces by spec
version and their rebuild from the lake, the memory budget, the event streams, one round trip per vector."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fengkong import bounds
from fengkong.clock import FixedClock
from fengkong.errors import BoundExceededError
from fengkong.features.offline import backfill
from fengkong.features.online_redis import RedisFeatureEngine
from fengkong.features.parity import EXACT_AGGREGATIONS, edge_keys, values_agree
from fengkong.features.spec import Entity, FeatureSet
from fengkong.features.standard import STANDARD_FEATURES
from fengkong.features.windows import from_microseconds, to_microseconds
from fengkong.ingest.lake import LakeWriter
from fengkong.ingest.transport import RedisStreamsTransport
from fengkong.ingest.validate import parse_record
from fengkong.services.features import feed_redis_features, rebuild_redis_features
from tests.strategies import FEATURE_STREAM_START_US, feature_event_draws, valid_ingest_record
from tests.unit.features.synthetic import make_row, random_stream, to_tables
from tests.unit.features.test_parity import ALL_TYPES, _rows_from_draws

pytestmark = pytest.mark.integration

SLICE_US = 6 * 3_600 * 1_000_000  # events arrive shuffled within six hours of receipt time


@pytest.fixture
def client(redis_url: str) -> Iterator[Any]:
    connection = redis.Redis.from_url(redis_url)
    yield connection
    connection.close()


def replay_and_compare(
    engine: RedisFeatureEngine,
    feature_set: FeatureSet,
    tables: Mapping[str, pa.Table],
    entities: Sequence[Entity],
    *,
    keys_per_entity: int,
    seed: int,
) -> tuple[int, list[str]]:
    """Feed the stream slice by slice (shuffled within each slice, retries included) and, after each
    slice, read the edge keys falling in it — reads at the present, as decisions make them — comparing each
    with the offline backfill. Returns (values compared, disagreements)."""
    expected: list[tuple[int, Entity, str, datetime, dict[str, object]]] = []
    for entity in entities:
        keys = edge_keys(feature_set, entity, tables, keys_max=keys_per_entity, seed=seed)
        offline = backfill(feature_set, entity, keys, tables=tables)
        names = [spec.name for spec in feature_set.for_entity(entity)]
        columns = {name: offline.column(name).to_pylist() for name in names}
        for index, (entity_id, as_of) in enumerate(
            zip(keys.column("entity_id").to_pylist(), keys.column("as_of").to_pylist(), strict=True)
        ):
            values = {name: columns[name][index] for name in names}
            expected.append((to_microseconds(as_of), entity, entity_id, as_of, values))
    expected.sort(key=lambda item: item[0])
    rows = [(event_type, row) for event_type, table in tables.items() for row in table.to_pylist()]
    rows.sort(key=lambda item: to_microseconds(item[1]["received_at"]))
    if not rows and not expected:
        return 0, []
    shuffler = random.Random(seed)
    low = min([to_microseconds(row["received_at"]) for _, row in rows[:1]] + [t for t, *_ in expected[:1]])
    row_at = key_at = compared = 0
    problems: list[str] = []
    while row_at < len(rows) or key_at < len(expected):
        high = low + SLICE_US
        batch = []
        while row_at < len(rows) and to_microseconds(rows[row_at][1]["received_at"]) < high:
            batch.append(rows[row_at])
            row_at += 1
        shuffler.shuffle(batch)
        engine.apply_rows(batch)
        while key_at < len(expected) and expected[key_at][0] < high:
            _, entity, entity_id, as_of, values = expected[key_at]
            key_at += 1
            online = engine.read(entity.value, entity_id, as_of).values
            for name, offline_value in values.items():
                exact = feature_set.get(name).aggregation in EXACT_AGGREGATIONS
                agrees, _ = values_agree(online[name], offline_value, exact)  # type: ignore[arg-type]
                compared += 1
                if not agrees:
                    problems.append(
                        f"{name} {entity_id} {as_of}: redis {online[name]} offline {offline_value}"
                    )
        low = high
    return compared, problems


def test_the_whole_standard_set_agrees_with_the_offline_engine(client: Any, redis_prefix: str) -> None:
    tables = to_tables(random_stream(seed=7, events=1_500, event_types=ALL_TYPES))
    engine = RedisFeatureEngine(client, STANDARD_FEATURES, prefix=redis_prefix)
    compared, problems = replay_and_compare(
        engine, STANDARD_FEATURES, tables, STANDARD_FEATURES.entities, keys_per_entity=250, seed=3
    )
    assert compared > 10_000
    assert not problems, problems[:5]


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(feature_event_draws())
def test_random_streams_agree_with_the_offline_engine(
    client: Any, redis_prefix: str, draws: list[tuple[int, int, int, int, int, int]]
) -> None:
    tables = to_tables(_rows_from_draws(draws))
    engine = RedisFeatureEngine(client, STANDARD_FEATURES, prefix=f"{redis_prefix}{uuid.uuid4().hex[:8]}:")
    _, problems = replay_and_compare(
        engine,
        STANDARD_FEATURES,
        tables,
        (Entity.MERCHANT, Entity.CONSUMER, Entity.DEVICE),
        keys_per_entity=150,
        seed=len(draws),
    )
    assert not problems, problems[:5]


def _login(event_id: str, received: datetime, party: str = "P-0") -> tuple[str, dict[str, object]]:
    row = make_row(random.Random(1), "login", event_id, received, received)
    row["party_id"] = party
    return "login", row


START = from_microseconds(FEATURE_STREAM_START_US)


def test_a_retried_event_never_counts_twice(client: Any, redis_prefix: str) -> None:
    engine = RedisFeatureEngine(client, STANDARD_FEATURES, prefix=redis_prefix)
    batch = [_login(f"l{n}", START + timedelta(minutes=n)) for n in range(5)]
    assert engine.apply_rows(batch) == [True] * 5
    assert engine.apply_rows(batch) == [False] * 5  # the whole batch retried
    # a retry inside one batch, and a later copy: neither counts
    assert engine.apply_rows([batch[0], _login("l0", START + timedelta(hours=2))]) == [False, False]
    as_of = START + timedelta(minutes=30)
    assert engine.read("consumer", "P-0", as_of).values["consumer_logins_1h"] == 5
    # the later copy did not move l0 forward: half a minute past the hour l0 (minute 0) has left, l1 has not
    assert (
        engine.read("consumer", "P-0", START + timedelta(minutes=60, seconds=30)).values["consumer_logins_1h"]
        == 4
    )


def test_an_earlier_copy_arriving_late_moves_the_event_back(client: Any, redis_prefix: str) -> None:
    engine = RedisFeatureEngine(client, STANDARD_FEATURES, prefix=redis_prefix)
    engine.apply_rows([_login("x", START + timedelta(hours=1))])
    assert engine.apply_rows([_login("x", START)]) == [True]
    read = engine.read("consumer", "P-0", START + timedelta(minutes=30)).values
    assert read["consumer_logins_1h"] == 1
    assert engine.read("consumer", "P-0", START + timedelta(minutes=90)).values["consumer_logins_1h"] == 0


def test_a_changed_spec_set_gets_its_own_keyspace_rebuilt_from_the_lake(
    client: Any, redis_prefix: str, tmp_path: Path
) -> None:
    tables = to_tables(random_stream(seed=5, events=300, event_types=("login", "order_placed")))
    writer = LakeWriter(tmp_path)
    for event_type, table in tables.items():
        writer.write(event_type, table)
    first, applied = rebuild_redis_features(client, tmp_path, prefix=redis_prefix)
    assert applied > 0 and first.is_ready()
    again, applied_again = rebuild_redis_features(client, tmp_path, prefix=redis_prefix)
    assert applied_again == 0 and again.keyspace == first.keyspace  # ready: nothing replayed

    changed = FeatureSet(tuple(s for s in STANDARD_FEATURES if s.entity is Entity.CONSUMER))
    second, applied_second = rebuild_redis_features(
        client, tmp_path, prefix=redis_prefix, feature_set=changed
    )
    assert second.keyspace != first.keyspace and applied_second > 0
    as_of = START + timedelta(days=40, hours=12)  # at the present: after the newest event
    offline = backfill(
        changed,
        Entity.CONSUMER,
        pa.table({"entity_id": ["P-1"], "as_of": pa.array([as_of], type=pa.timestamp("us", tz="UTC"))}),
        lake_dir=tmp_path,
    )
    online = second.read("consumer", "P-1", as_of).values
    assert online["consumer_orders_30d"] == offline.column("consumer_orders_30d")[0].as_py() > 0
    assert first.drop_keyspace() > 0
    assert first.keys_in_keyspace() == 0 and second.keys_in_keyspace() > 0


def test_the_memory_budget(client: Any, redis_prefix: str, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = RedisFeatureEngine(client, STANDARD_FEATURES, prefix=redis_prefix)
    # events older than the longest window of their set plus the grace are trimmed on the next insert
    engine.apply_rows([_login(f"old{n}", START + timedelta(minutes=n)) for n in range(3)])
    engine.apply_rows([_login("new", START + timedelta(days=40))])
    digest = engine._plan(Entity.CONSUMER, ["consumer_logins_1h"]).sources[0]
    key = engine.set_key(digest, "P-0")
    assert client.zcard(key) == 1
    # the set expires after its longest window (24 h: logins_24h reads it too) plus the grace without writes
    retained_ms = (86_400 + bounds.online_redis_trim_grace_days * 86_400) * 1_000
    assert engine._sources[digest].ttl_ms == retained_ms
    assert 0 < client.pttl(key) <= retained_ms
    # a full set refuses the batch before writing anything
    monkeypatch.setattr(bounds, "online_redis_events_per_key_max", 1)
    with pytest.raises(BoundExceededError):
        engine.apply_rows([_login("refused", START + timedelta(days=40, minutes=1))])
    assert client.zcard(key) == 1 and not client.exists(engine.seen_key("refused"))


def test_the_streams_feed_the_state_and_a_redelivery_counts_once(client: Any, redis_prefix: str) -> None:
    clock = FixedClock(datetime(2026, 1, 1, 8, 0, 2, tzinfo=UTC))
    events = [
        parse_record(
            valid_ingest_record(
                "order_placed", f"o{n}", party=f"P{n % 3}", received_at="2026-01-01T08:00:01Z"
            ),
            clock,
        )
        for n in range(30)
    ]
    transport = RedisStreamsTransport(client, prefix=redis_prefix)
    transport.publish(events)
    engine = RedisFeatureEngine(client, STANDARD_FEATURES, prefix=redis_prefix)
    report = feed_redis_features(engine, transport, "replica-a", clock, count=500)
    assert (report.delivered, report.applied, report.unchanged) == (30, 30, 0)
    assert set(report.freshness_us) == {1_000_000}  # received 08:00:01, visible 08:00:02 by the clock
    transport.publish(events[:10])  # a producer's retry: the same events published again
    retried = feed_redis_features(engine, transport, "replica-b", clock, count=500)
    assert (retried.delivered, retried.applied, retried.unchanged) == (10, 0, 10)
    as_of = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    counts = [engine.read("consumer", f"P{p}", as_of).values["consumer_orders_7d"] for p in range(3)]
    assert counts == [10, 10, 10]
    assert transport.pending_count() == 0


class _CountingConnection(redis.Connection):
    """A connection that counts what it sends: one packed send per command or per pipeline."""

    sent = 0

    def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        type(self).sent += 1
        super().send_packed_command(command, check_health)


def test_a_decision_vector_is_read_in_one_round_trip(client: Any, redis_url: str, redis_prefix: str) -> None:
    tables = to_tables(random_stream(seed=9, events=400, event_types=ALL_TYPES))
    RedisFeatureEngine(client, STANDARD_FEATURES, prefix=redis_prefix).apply_tables(tables)
    pool = redis.ConnectionPool.from_url(redis_url, connection_class=_CountingConnection)
    counting = redis.Redis(connection_pool=pool)
    engine = RedisFeatureEngine(counting, STANDARD_FEATURES, prefix=redis_prefix)
    engine.read("consumer", "P-1", START)  # loads the read script on first use
    as_of = START + timedelta(days=41)
    requests: list[tuple[str, str, Sequence[str] | None]] = [
        ("consumer", "P-1", None),
        ("merchant", "M-0", None),
        ("device", "D-0", None),
        ("ip", "192.0.2.1", None),
        ("phone", "+86-000-0000-0001", None),
    ]
    before = _CountingConnection.sent
    vectors = engine.read_many(requests, as_of)
    assert _CountingConnection.sent - before == 1
    assert sum(len(v.values) for v in vectors) >= 40
    singles = [engine.read(entity, entity_id, as_of, names) for entity, entity_id, names in requests]
    assert [v.values for v in vectors] == [v.values for v in singles]
    assert all(v.feature_set_version == STANDARD_FEATURES.version for v in vectors)
    counting.close()


@settings(max_examples=10, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_random_specs_agree_with_the_offline_engine(
    client: Any, redis_prefix: str, data: st.DataObject
) -> None:
    """Specs drawn at random (every aggregation and operator, rolling and calendar windows, one or two
    sources: distinct counts over two sets read their members, the rest is aggregated on the server)."""
    from tests.strategies import merchant_feature_specs

    specs = FeatureSet(tuple(data.draw(merchant_feature_specs(f"f{n}")) for n in range(4)))
    seed = data.draw(st.integers(0, 10_000))
    tables = to_tables(
        random_stream(seed, 300, ("review_posted", "order_placed", "order_refunded"), span=timedelta(days=12))
    )
    engine = RedisFeatureEngine(client, specs, prefix=f"{redis_prefix}{uuid.uuid4().hex[:8]}:")
    _, problems = replay_and_compare(engine, specs, tables, specs.entities, keys_per_entity=150, seed=seed)
    assert not problems, (problems[:3], [s.canonical() for s in specs])


def test_values_beyond_exact_doubles_are_read_exactly(client: Any, redis_prefix: str) -> None:
    """Sums, min, max and last of values past 2**53 (where the server's doubles are not exact) equal the
    in-process engine's: the read falls back to the set's members."""
    from fengkong.features.online import OnlineFeatureEngine

    rows = random_stream(3, 60, ("order_placed",), span=timedelta(days=2))
    for n, row in enumerate(rows["order_placed"]):
        row["amount_fen"] = 2**60 + 7 * n + 1
    tables = to_tables(rows)
    in_process = OnlineFeatureEngine(STANDARD_FEATURES)
    engine = RedisFeatureEngine(client, STANDARD_FEATURES, prefix=redis_prefix)
    for event_type, table in tables.items():
        for row in table.to_pylist():
            in_process.apply_row(event_type, row)
            engine.apply_row(event_type, row)
    as_of = START + timedelta(days=2, hours=1)
    for consumer in ("P-0", "P-1", "P-2"):
        expected = in_process.read("consumer", consumer, as_of).values
        assert engine.read("consumer", consumer, as_of).values == expected
    assert any(v is not None and v > 2**60 for v in expected.values())
