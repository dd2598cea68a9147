"""Vectorised validation of Arrow tables in the columnar layout (the Parquet path)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest

from fengkong import bounds
from fengkong.clock import FixedClock
from fengkong.domain.events import EVENT_TYPE_NAMES
from fengkong.errors import BoundExceededError
from fengkong.ingest.schema import arrow_schema
from fengkong.ingest.validate import parse_record, validate_table
from fengkong.ingest.wire import events_from_table, events_to_table
from tests.strategies import valid_ingest_record

CLOCK_NOW = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(CLOCK_NOW)


def _table(clock: FixedClock, event_type: str = "review_posted", rows: int = 4) -> pa.Table:
    events = [
        parse_record(valid_ingest_record(event_type, f"e{n}", party=f"P{n}", optional=True), clock)
        for n in range(rows)
    ]
    return events_to_table(event_type, events)


def _replace(table: pa.Table, name: str, values: pa.Array) -> pa.Table:
    return table.set_column(table.schema.get_field_index(name), name, values)


@pytest.mark.parametrize("event_type", EVENT_TYPE_NAMES)
def test_a_valid_table_comes_back_unchanged(event_type: str, clock: FixedClock) -> None:
    table = _table(clock, event_type)
    result = validate_table(table, clock, first_row=11)
    assert result.rejections == ()
    assert result.rejected_count == 0
    assert result.tables[event_type].equals(table)
    assert result.row_numbers[event_type].tolist() == [11, 12, 13, 14]


def test_events_round_trip_through_the_table(clock: FixedClock) -> None:
    records = [valid_ingest_record(t, f"e-{t}", optional=True) for t in EVENT_TYPE_NAMES]
    events = [parse_record(record, clock) for record in records]
    for event in events:
        table = events_to_table(event.event_type, [event])
        checked = validate_table(table, clock).tables[event.event_type]
        assert events_from_table(event.event_type, checked) == [event]


def test_missing_required_column_rejects_every_row(clock: FixedClock) -> None:
    table = _table(clock).drop_columns(["stars"])
    result = validate_table(table, clock)
    assert result.accepted_count == 0
    assert [(r.line, r.field, r.reason) for r in result.rejections] == [
        (n, "stars", "missing column") for n in range(1, 5)
    ]


def test_missing_optional_column_is_null(clock: FixedClock) -> None:
    table = _table(clock).drop_columns(["order_id"])
    result = validate_table(table, clock)
    assert result.rejected_count == 0
    assert result.tables["review_posted"].column("order_id").null_count == 4


@pytest.mark.parametrize(
    ("column", "values", "line", "reason"),
    [
        ("stars", pa.array([5, None, 3, 1]), 2, "missing"),
        ("stars", pa.array([5, 6, 3, 1]), 2, "6 is outside [1, 5]"),
        ("stars", pa.array([5, 2, 0, 1]), 3, "0 is outside [1, 5]"),
        ("consumer_id", pa.array(["a", "b", "c", None]), 4, "missing"),
        ("consumer_id", pa.array(["a", "b", " ", "d"]), 3, "empty"),
        ("event_id", pa.array(["a", "b", "c", "x" * 129]), 4, "longer than 128 characters"),
        (
            "event_type",
            pa.array(["review_posted", "teleport", "review_posted", "review_posted"]),
            2,
            "teleport",
        ),
        ("event_type", pa.array(["review_posted", None, "review_posted", "review_posted"]), 2, "missing"),
    ],
)
def test_bad_value_rejects_its_row_only(
    column: str, values: pa.Array, line: int, reason: str, clock: FixedClock
) -> None:
    result = validate_table(_replace(_table(clock), column, values), clock, file="part.parquet")
    assert result.rejected_count == 1
    (rejection,) = result.rejections
    assert (rejection.line, rejection.field, rejection.file) == (line, column, "part.parquet")
    assert reason in rejection.reason
    assert result.accepted_count == 3


def test_bad_choice_names_the_value(clock: FixedClock) -> None:
    table = _table(clock, "order_placed")
    result = validate_table(_replace(table, "category", pa.array(["food", "car", None, "shop"])), clock)
    assert [(r.line, r.field) for r in result.rejections] == [(2, "category"), (3, "category")]
    assert result.rejections[0].reason == "'car' is not one of food, hotel, shop"
    assert result.rejections[1].reason == "missing"


def test_optional_choice_may_be_null(clock: FixedClock) -> None:
    table = _table(clock, "party_registered")
    result = validate_table(_replace(table, "segment", pa.nulls(4, pa.string())), clock)
    assert result.rejected_count == 0


def test_float_money_column_is_refused(clock: FixedClock) -> None:
    table = _table(clock, "order_placed")
    result = validate_table(_replace(table, "amount_fen", pa.array([1.0, 2.0, 3.0, 4.0])), clock)
    assert result.accepted_count == 0
    assert {r.field for r in result.rejections} == {"amount_fen"}
    assert "float column (double) is refused" in result.rejections[0].reason


def test_naive_timestamp_column_is_refused(clock: FixedClock) -> None:
    table = _table(clock)
    naive = table.column("occurred_at").cast(pa.timestamp("us"))
    result = validate_table(_replace(table, "occurred_at", naive), clock)
    assert result.accepted_count == 0
    assert "no time zone" in result.rejections[0].reason


def test_wrong_column_type_is_refused(clock: FixedClock) -> None:
    table = _table(clock)
    result = validate_table(_replace(table, "stars", pa.array(["5", "4", "3", "2"])), clock)
    assert result.accepted_count == 0
    assert result.rejections[0].reason == "column type string cannot be read as int64"


def test_compatible_types_are_accepted(clock: FixedClock) -> None:
    table = _table(clock)
    shanghai = table.column("occurred_at").cast(pa.timestamp("ns", tz="Asia/Shanghai"))
    table = _replace(table, "occurred_at", shanghai)
    table = _replace(table, "stars", table.column("stars").cast(pa.int8()))
    table = _replace(
        table, "consumer_id", table.column("consumer_id").cast(pa.large_string()).dictionary_encode()
    )
    result = validate_table(table, clock)
    assert result.rejected_count == 0
    assert result.tables["review_posted"].equals(_table(clock))


def test_unknown_column_with_values_is_refused(clock: FixedClock) -> None:
    table = _table(clock).append_column("colour", pa.array([None, "red", None, None]))
    result = validate_table(table, clock)
    assert [(r.line, r.field) for r in result.rejections] == [(2, "colour")]
    assert "unknown attribute" in result.rejections[0].reason


def test_null_received_at_is_stamped_and_skew_is_checked(clock: FixedClock) -> None:
    table = _table(clock)
    occurred = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
    received = pa.array(
        [None, occurred - timedelta(seconds=301), occurred - timedelta(seconds=300), occurred],
        pa.timestamp("us", tz="UTC"),
    )
    table = _replace(table, "occurred_at", pa.array([occurred] * 4, pa.timestamp("us", tz="UTC")))
    result = validate_table(_replace(table, "received_at", received), clock)
    assert [(r.line, r.field) for r in result.rejections] == [(2, "received_at")]
    assert "clock skew" in result.rejections[0].reason
    received_at = result.tables["review_posted"].column("received_at").to_pylist()
    assert received_at[0] == CLOCK_NOW


def test_a_table_mixing_types_is_split_by_type(clock: FixedClock) -> None:
    reviews = _table(clock, "review_posted", rows=2)
    logins = _table(clock, "login", rows=3)
    mixed = pa.concat_tables([reviews, logins], promote_options="default")
    result = validate_table(mixed, clock)
    assert result.rejected_count == 0
    assert result.tables["review_posted"].num_rows == 2
    assert result.tables["login"].num_rows == 3
    assert result.row_numbers["login"].tolist() == [3, 4, 5]


def test_missing_event_type_column_rejects_all(clock: FixedClock) -> None:
    result = validate_table(_table(clock).drop_columns(["event_type"]), clock)
    assert result.rejected_count == 4
    assert {(r.field, r.reason) for r in result.rejections} == {("event_type", "missing column")}
    assert result.rejections[0].event_id == "e0"


def test_reported_rejections_are_bounded_but_all_counted(clock: FixedClock) -> None:
    table = _replace(_table(clock), "stars", pa.array([9, 9, 9, 9]))
    result = validate_table(table, clock, reported_max=2)
    assert result.rejected_count == 4
    assert [r.line for r in result.rejections] == [1, 2]


def test_first_failing_check_wins_and_rows_are_reported_in_order(clock: FixedClock) -> None:
    table = _replace(_table(clock), "stars", pa.array([9, 9, 4, 9]))
    table = _replace(table, "consumer_id", pa.array([None, "b", "c", "d"]))
    result = validate_table(table, clock)
    assert [(r.line, r.field) for r in result.rejections] == [(1, "consumer_id"), (2, "stars"), (4, "stars")]


def test_oversized_table_is_refused_as_a_bound(clock: FixedClock) -> None:
    table = pa.table({"event_type": pa.nulls(bounds.ingest_batch_events_max + 1, pa.string())})
    with pytest.raises(BoundExceededError):
        validate_table(table, clock)


def test_lake_schema_types() -> None:
    schema = arrow_schema("merchant_settlement")
    assert schema.field("received_at").type == pa.timestamp("us", tz="UTC")
    assert schema.field("business_date").type == pa.date32()
    assert schema.field("amount_fen").type == pa.int64()
    assert np.dtype("int64") == schema.field("orders_count").type.to_pandas_dtype()
