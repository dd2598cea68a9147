"""Parity (b): random streams with late, duplicated and out-of-order events and receipts on window edges,
fed to the online engine and backfilled offline at the same keys. Counts and sums agree exactly; means,
ratios and growth within ``RELATIVE_TOLERANCE``."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from fengkong.features.parity import RELATIVE_TOLERANCE, edge_keys, run_parity, values_agree
from fengkong.features.spec import Entity
from fengkong.features.standard import STANDARD_FEATURES
from fengkong.features.windows import from_microseconds
from fengkong.ingest.lake import LakeWriter
from tests.strategies import FEATURE_STREAM_GRID_US, FEATURE_STREAM_START_US, feature_event_draws
from tests.unit.features.synthetic import DEVICES, MERCHANTS, PARTIES, make_row, random_stream, to_tables

PROPERTY_TYPES = (
    "review_posted",
    "order_placed",
    "login",
    "bureau_report",
    "repayment",
    "loan_application",
    "order_refunded",
    "merchant_settlement",
)
ALL_TYPES = tuple(sorted({t for spec in STANDARD_FEATURES for t in spec.event_types}))


def _rows_from_draws(draws: list[tuple[int, int, int, int, int, int]]) -> dict[str, list[dict[str, object]]]:
    rows: dict[str, list[dict[str, object]]] = {t: [] for t in PROPERTY_TYPES}
    for n, (type_index, entity, slot, offset, value, shift) in enumerate(draws):
        event_type = PROPERTY_TYPES[type_index]
        received = from_microseconds(FEATURE_STREAM_START_US + slot * FEATURE_STREAM_GRID_US + offset)
        row = make_row(
            random.Random(value * 31 + n), event_type, f"h{n}", received, received - timedelta(hours=2)
        )
        for column, pool in (("merchant_id", MERCHANTS), ("device_id", DEVICES)):
            if column in row:
                row[column] = pool[entity % len(pool)]
        for column in ("consumer_id", "party_id", "borrower_id", "applicant_id"):
            if column in row:
                row[column] = PARTIES[entity]
        rows[event_type].append(row)
        if shift:
            copy = dict(row)
            copy["received_at"] = from_microseconds(
                FEATURE_STREAM_START_US + (slot + shift) * FEATURE_STREAM_GRID_US + offset
            )
            rows[event_type].append(copy)
    return rows


@settings(max_examples=30)  # each example backfills three entities in DuckDB (~0.4 s)
@given(feature_event_draws())
def test_online_and_offline_agree_on_random_streams(draws: list[tuple[int, int, int, int, int, int]]) -> None:
    tables = to_tables(_rows_from_draws(draws))
    results = run_parity(
        STANDARD_FEATURES,
        tables,
        entities=(Entity.MERCHANT, Entity.CONSUMER, Entity.DEVICE),
        keys_per_entity=300,
        shuffle_seed=len(draws),
    )
    disagreements = [r for r in results if not r.agrees]
    assert not disagreements, disagreements[:3]


def test_the_whole_standard_set_agrees_through_the_lake(tmp_path: Path) -> None:
    """A larger stream over every event type, written by the ingestion lake writer, read back by the
    offline engine; the online engine sees the events shuffled (out of order) with retries."""
    tables = to_tables(random_stream(seed=7, events=2_500, event_types=ALL_TYPES))
    writer = LakeWriter(tmp_path)
    for event_type, table in tables.items():
        writer.write(event_type, table)
    results = run_parity(STANDARD_FEATURES, tables, keys_per_entity=800, shuffle_seed=11, lake_dir=tmp_path)
    assert {r.name for r in results} == {spec.name for spec in STANDARD_FEATURES}
    disagreements = [r for r in results if not r.agrees]
    assert not disagreements, disagreements[:3]
    assert all(r.compared > 0 for r in results)


def test_the_random_stream_exercises_every_feature() -> None:
    """Parity over values that are all None or 0 would prove little: every feature takes a value."""
    from fengkong.features.offline import backfill

    tables = to_tables(random_stream(seed=7, events=2_500, event_types=ALL_TYPES))
    for entity in STANDARD_FEATURES.entities:
        keys = edge_keys(STANDARD_FEATURES, entity, tables, keys_max=800)
        result = backfill(STANDARD_FEATURES, entity, keys, tables=tables)
        for spec in STANDARD_FEATURES.for_entity(entity):
            informative = [v for v in result.column(spec.name).to_pylist() if v not in (None, 0)]
            assert informative, f"{spec.name} is never informative on the random stream"


def test_edge_keys_sit_on_the_edges() -> None:
    rows = {
        "login": [
            make_row(
                random.Random(1),
                "login",
                "x1",
                from_microseconds(FEATURE_STREAM_START_US),
                from_microseconds(FEATURE_STREAM_START_US),
            )
        ]
    }
    rows["login"][0]["party_id"] = "P-0"
    keys = edge_keys(STANDARD_FEATURES, Entity.CONSUMER, to_tables(rows), keys_max=100)
    as_of = set(keys.column("as_of").cast(pa.int64()).to_pylist())
    hour, day = 3_600_000_000, 86_400_000_000
    start = FEATURE_STREAM_START_US
    assert {start, start + hour, start + hour - 1, start + day, start + day - 1, start + day * 7} <= as_of


def test_the_agreement_rule() -> None:
    assert values_agree(3, 3, exact=True) == (True, 0.0)
    assert not values_agree(3, 3.0, exact=True)[0]  # a count must stay an integer
    assert not values_agree(None, 0, exact=True)[0]
    assert values_agree(None, None, exact=False)[0]
    assert values_agree(1e6, 1e6 * (1 + RELATIVE_TOLERANCE / 2), exact=False)[0]
    assert not values_agree(1e6, 1e6 * (1 + RELATIVE_TOLERANCE * 2), exact=False)[0]


def test_logged_reads_are_recomputed_offline() -> None:
    """Parity (a): the reads a decision made through the online engine, recomputed offline at the logged
    keys and times; a tampered log is caught."""
    import dataclasses

    from fengkong.features.offline import OfflineFeatureReader
    from fengkong.features.online import OnlineFeatureEngine
    from fengkong.features.parity import RecordingReader, check_logged_reads, feed_online

    tables = to_tables(random_stream(seed=13, events=800, event_types=ALL_TYPES))
    engine = OnlineFeatureEngine(STANDARD_FEATURES)
    feed_online(engine, tables)
    reader = RecordingReader(engine)
    start = from_microseconds(FEATURE_STREAM_START_US)
    for day in (3, 17, 33):
        as_of = start + timedelta(days=day, microseconds=1)
        reader.read("consumer", "P-1", as_of)
        reader.read("merchant", "M-2", as_of, ["merchant_bad_review_share_7d", "merchant_orders_7d"])
        reader.read("device", "D-0", as_of)
    results = check_logged_reads(STANDARD_FEATURES, reader.reads, tables=tables)
    assert results and all(r.agrees for r in results), [r for r in results if not r.agrees][:3]
    assert {r.name for r in results if r.entity is Entity.MERCHANT} == {
        "merchant_bad_review_share_7d",
        "merchant_orders_7d",
    }
    assert any(v not in (None, 0) for read in reader.reads for v in read.values.values())

    first = reader.reads[0]
    tampered = dataclasses.replace(first, values={**first.values, "consumer_orders_30d": 10**6})
    caught = check_logged_reads(STANDARD_FEATURES, [tampered], tables=tables)
    assert [r.name for r in caught if not r.agrees] == ["consumer_orders_30d"]

    offline = OfflineFeatureReader(STANDARD_FEATURES, tables=tables)
    assert (
        offline.read("device", "D-0", start + timedelta(days=17)).values
        == engine.read("device", "D-0", start + timedelta(days=17)).values
    )


@settings(max_examples=25)  # each example backfills once in DuckDB (~0.2 s)
@given(st.data())
def test_random_specs_agree_in_both_engines(data: st.DataObject) -> None:
    """Specs drawn at random — every aggregation, operator, window kind, one or two sources — so the SQL
    generator and the online engine meet paths the standard set does not take."""
    from fengkong.features.spec import FeatureSet
    from tests.strategies import merchant_feature_specs

    specs = FeatureSet(tuple(data.draw(merchant_feature_specs(f"f{n}")) for n in range(4)))
    seed = data.draw(st.integers(0, 10_000))
    tables = to_tables(
        random_stream(seed, 300, ("review_posted", "order_placed", "order_refunded"), span=timedelta(days=12))
    )
    results = run_parity(specs, tables, keys_per_entity=150, shuffle_seed=seed)
    disagreements = [r for r in results if not r.agrees]
    assert not disagreements, (disagreements[:2], [s.canonical() for s in specs])
