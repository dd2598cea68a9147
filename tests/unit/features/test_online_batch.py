"""The online engine's batch path (``apply_table``) holds exactly the state that row-by-row updates hold.

Random streams with late, duplicated and out-of-order events are cut into random batches (some batches
arrive before batches of earlier receipts, retries land in the same batch as the first copy or in another);
every feature of every entity is then read at the window-edge keys and must equal, value for value, what an
engine fed the same rows one at a time in a shuffled order reads.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fengkong.errors import InputError
from fengkong.features.online import OnlineFeatureEngine
from fengkong.features.parity import KEY_AS_OF, KEY_ENTITY, edge_keys, feed_online
from fengkong.features.standard import STANDARD_FEATURES
from tests.unit.features.synthetic import random_stream, to_tables

ALL_TYPES = tuple(sorted({t for spec in STANDARD_FEATURES for t in spec.event_types}))


def _batches(tables: dict[str, pa.Table], seed: int, batch_rows_max: int) -> list[tuple[str, pa.Table]]:
    """Every row of ``tables`` in batches of random size, the rows permuted and the batches shuffled."""
    rng = random.Random(seed)
    batches: list[tuple[str, pa.Table]] = []
    for event_type, table in tables.items():
        order = list(range(table.num_rows))
        rng.shuffle(order)
        shuffled = table.take(pa.array(order, type=pa.int64()))
        start = 0
        while start < shuffled.num_rows:
            size = rng.randint(1, batch_rows_max)
            batches.append((event_type, shuffled.slice(start, size)))
            start += size
    rng.shuffle(batches)
    return batches


def _all_reads(
    engine: OnlineFeatureEngine, tables: dict[str, pa.Table]
) -> dict[tuple[str, str, object], object]:
    reads: dict[tuple[str, str, object], object] = {}
    for entity in STANDARD_FEATURES.entities:
        keys = edge_keys(STANDARD_FEATURES, entity, tables, keys_max=400)
        for entity_id, as_of in zip(
            keys.column(KEY_ENTITY).to_pylist(), keys.column(KEY_AS_OF).to_pylist(), strict=True
        ):
            vector = engine.read(entity.value, entity_id, as_of)
            for name, value in vector.values.items():
                reads[(entity_id, name, as_of)] = value
    return reads


@settings(max_examples=6, deadline=None)
@given(
    stream_seed=st.integers(0, 10_000), batch_seed=st.integers(0, 10_000), batch_rows_max=st.integers(1, 400)
)
def test_batches_in_any_order_hold_the_same_state_as_single_rows(
    stream_seed: int, batch_seed: int, batch_rows_max: int
) -> None:
    tables = to_tables(random_stream(seed=stream_seed, events=900, event_types=ALL_TYPES))
    by_rows = OnlineFeatureEngine(STANDARD_FEATURES)
    changed_by_rows = feed_online(by_rows, tables, shuffle_seed=stream_seed)
    by_batches = OnlineFeatureEngine(STANDARD_FEATURES)
    changed_by_batches = sum(
        by_batches.apply_table(event_type, batch)
        for event_type, batch in _batches(tables, batch_seed, batch_rows_max)
    )
    assert by_batches.entries == by_rows.entries
    assert by_batches.event_ids_remembered == by_rows.event_ids_remembered
    # a row "changes state" unless it is a retry no earlier than the copy already counted: which copy comes
    # first depends on the order, so only the bounds are fixed
    distinct_ids = by_rows.event_ids_remembered
    assert distinct_ids <= changed_by_batches <= sum(t.num_rows for t in tables.values())
    assert distinct_ids <= changed_by_rows
    reads = _all_reads(by_batches, tables)
    assert reads == _all_reads(by_rows, tables)
    assert any(value not in (None, 0) for value in reads.values())


def test_feeding_in_daily_batches_matches_feeding_rows() -> None:
    tables = to_tables(random_stream(seed=3, events=1_500, event_types=ALL_TYPES))
    by_rows = OnlineFeatureEngine(STANDARD_FEATURES)
    feed_online(by_rows, tables, slice_seconds=86_400)
    by_batches = OnlineFeatureEngine(STANDARD_FEATURES)
    feed_online(by_batches, tables, slice_seconds=86_400, batched=True, shuffle_seed=5)
    assert _all_reads(by_batches, tables) == _all_reads(by_rows, tables)


def test_a_batch_behind_an_eviction_counts_nothing_it_cannot_see() -> None:
    tables = to_tables(random_stream(seed=4, events=600, event_types=ALL_TYPES))
    orders = tables["order_placed"]
    received = sorted(orders.column("received_at").to_pylist())
    late_now = received[-1] + timedelta(days=400)
    engine = OnlineFeatureEngine(STANDARD_FEATURES)
    engine.evict(late_now)
    assert engine.apply_table("order_placed", orders) == 0
    assert engine.entries == 0


def test_bad_batches_name_the_problem() -> None:
    engine = OnlineFeatureEngine(STANDARD_FEATURES)
    tables = to_tables(random_stream(seed=5, events=50, event_types=("order_placed",)))
    orders = tables["order_placed"]
    with pytest.raises(InputError, match="event_type"):
        engine.apply_table("no_such_event", orders)
    with pytest.raises(InputError, match="event_id"):
        engine.apply_table("order_placed", orders.drop_columns(["event_id"]))
    nulls = orders.set_column(
        orders.schema.get_field_index("received_at"),
        "received_at",
        pa.array([None] * orders.num_rows, type=orders.schema.field("received_at").type),
    )
    with pytest.raises(InputError, match="received_at"):
        engine.apply_table("order_placed", nulls)
    as_text = orders.set_column(
        orders.schema.get_field_index("received_at"),
        "received_at",
        pa.array([datetime(2026, 3, 2, tzinfo=UTC).isoformat()] * orders.num_rows),
    )
    with pytest.raises(InputError, match="received_at"):
        engine.apply_table("order_placed", as_text)
    assert engine.apply_table("order_placed", orders.slice(0, 0)) == 0


def test_event_ids_are_forgotten_after_the_dedup_retention_and_only_then() -> None:
    from fengkong import bounds

    tables = to_tables(random_stream(seed=6, events=300, event_types=("order_placed", "login")))
    engine = OnlineFeatureEngine(STANDARD_FEATURES)
    for event_type, table in tables.items():
        engine.apply_table(event_type, table)
    remembered = engine.event_ids_remembered
    newest = max(max(t.column("received_at").to_pylist()) for t in tables.values())
    oldest = min(min(t.column("received_at").to_pylist()) for t in tables.values())
    retention = timedelta(days=bounds.online_dedup_retention_days)
    engine.evict(oldest + retention - timedelta(microseconds=1))  # the oldest ID is still inside retention
    assert engine.event_ids_remembered == remembered
    engine.evict(newest + retention)  # every ID is past retention
    assert engine.event_ids_remembered == 0
    # a retry of a forgotten event is too old for any window now: it changes nothing
    assert engine.apply_table("order_placed", tables["order_placed"]) == 0
