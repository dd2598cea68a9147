"""Validation of JSON records: every kind of bad record is reported with its field, good ones are kept."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from fengkong import bounds
from fengkong.clock import FixedClock
from fengkong.domain.events import EVENT_TYPE_NAMES
from fengkong.errors import BoundExceededError, InputError
from fengkong.ingest.validate import Rejection, parse_record, validate_records
from tests.strategies import valid_ingest_record

CLOCK_NOW = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(CLOCK_NOW)


def _with(path: str, value: Any, **record_options: Any) -> dict[str, Any]:
    """A valid order_placed record with ``path`` (``a.b``) set to ``value`` (or removed when ``...``)."""
    record: dict[str, Any] = copy.deepcopy(valid_ingest_record("order_placed", "bad-1", **record_options))
    *parents, leaf = path.split(".")
    target = record
    for parent in parents:
        target = target[parent]
    if value is ...:
        del target[leaf]
    else:
        target[leaf] = value
    return record


@pytest.mark.parametrize("event_type", EVENT_TYPE_NAMES)
def test_every_type_validates_with_required_and_with_all_fields(event_type: str, clock: FixedClock) -> None:
    for optional in (False, True):
        event = parse_record(valid_ingest_record(event_type, "e1", optional=optional), clock)
        assert event.event_type == event_type
        assert event.subject(event.spec.subject_roles[0]) == "P1"


def test_money_string_becomes_integer_fen(clock: FixedClock) -> None:
    event = parse_record(_with("attributes.amount", "1234.56"), clock)
    assert event.attributes["amount"] == 123456
    assert isinstance(event.attributes["amount"], int)


def test_received_at_absent_is_stamped_from_the_clock(clock: FixedClock) -> None:
    event = parse_record(valid_ingest_record(received_at=None), clock)
    assert event.received_at == CLOCK_NOW


def test_timestamps_with_offsets_are_converted_to_utc(clock: FixedClock) -> None:
    event = parse_record(_with("occurred_at", "2026-01-01T16:00:00+08:00"), clock)
    assert event.occurred_at == datetime(2026, 1, 1, 8, 0, tzinfo=UTC)


MALFORMED: list[tuple[str, dict[str, Any], str, str]] = [
    ("missing event_id", _with("event_id", ...), "event_id", "missing"),
    ("event_id wrong type", _with("event_id", 17), "event_id", "expected a string, got integer"),
    ("empty event_id", _with("event_id", "  "), "event_id", "empty"),
    ("oversized event_id", _with("event_id", "x" * 129), "event_id", "longer than 128"),
    ("missing occurred_at", _with("occurred_at", ...), "occurred_at", "missing"),
    ("bad timestamp", _with("occurred_at", "yesterday"), "occurred_at", "not an ISO 8601 timestamp"),
    ("naive timestamp", _with("occurred_at", "2026-01-01T08:00:00"), "occurred_at", "no timezone"),
    ("timestamp as number", _with("received_at", 1767254400), "received_at", "got integer"),
    ("unknown event type", _with("event_type", "teleport"), "event_type", "unknown event type 'teleport'"),
    ("missing event type", _with("event_type", ...), "event_type", "missing"),
    ("unknown top-level field", _with("colour", "red"), "colour", "unknown field"),
    ("subjects not an object", _with("subjects", ["P1"]), "subjects", "got array"),
    ("missing required subject", _with("subjects.merchant", ...), "subjects.merchant", "missing required"),
    ("unknown role", _with("subjects.rider", "R1"), "subjects.rider", "unknown role 'rider'"),
    ("empty party id", _with("subjects.consumer", ""), "subjects.consumer", "empty"),
    ("party id wrong type", _with("subjects.consumer", 5), "subjects.consumer", "got integer"),
    ("unknown attribute", _with("attributes.colour", "red"), "attributes.colour", "unknown attribute"),
    ("missing attribute", _with("attributes.amount", ...), "attributes.amount", "missing required"),
    ("float money", _with("attributes.amount", 12.5), "attributes.amount", "float 12.5 is refused"),
    ("integer money", _with("attributes.amount", 1250), "attributes.amount", "got integer"),
    ("malformed money", _with("attributes.amount", "12,50"), "attributes.amount", "not an amount"),
    ("too many decimals", _with("attributes.amount", "1.234"), "attributes.amount", "more than 2 digits"),
    ("bad choice", _with("attributes.category", "car"), "attributes.category", "'car' is not one of"),
    ("choice wrong type", _with("attributes.category", 1), "attributes.category", "got integer"),
    ("string attribute wrong type", _with("attributes.order_id", 99), "attributes.order_id", "got integer"),
    (
        "oversized string",
        _with("attributes.order_id", "o" * (bounds.event_string_length_max + 1)),
        "attributes.order_id",
        "longer than",
    ),
    (
        "clock skew",
        _with("received_at", "2026-01-01T07:54:59Z"),
        "received_at",
        "more than 300 s of clock skew",
    ),
]


@pytest.mark.parametrize(("label", "record", "field", "reason"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_record_is_rejected_with_field_and_good_records_kept(
    label: str, record: dict[str, Any], field: str, reason: str, clock: FixedClock
) -> None:
    good_before = valid_ingest_record("order_placed", "good-1")
    good_after = valid_ingest_record("login", "good-2")
    result = validate_records([(1, good_before), (2, record), (3, good_after)], clock, file="in.jsonl")
    assert [event.event_id for event in result.events] == ["good-1", "good-2"]
    assert result.rejected_count == 1
    (rejection,) = result.rejections
    assert (rejection.line, rejection.field, rejection.file) == (2, field, "in.jsonl")
    assert reason in rejection.reason
    readable = label not in {
        "missing event_id",
        "event_id wrong type",
        "empty event_id",
        "oversized event_id",
    }
    assert rejection.event_id == ("bad-1" if readable else None)


@pytest.mark.parametrize(
    ("event_type", "attribute", "value", "reason"),
    [
        ("review_posted", "stars", 6, "6 is outside [1, 5]"),
        ("review_posted", "stars", 0, "0 is outside [1, 5]"),
        ("review_posted", "stars", 4.0, "expected an integer, got float"),
        ("review_posted", "stars", True, "expected an integer, got boolean"),
        ("delivery_completed", "minutes_late", 1441, "outside [0, 1440]"),
        ("merchant_settlement", "business_date", "2026-02-30", "not a date"),
        ("merchant_settlement", "business_date", "20260101", "not a date"),
        ("payment_made", "counterparty_known", "yes", "expected true or false"),
        ("bureau_report", "bureau_score", 299, "outside [300, 900]"),
    ],
)
def test_kind_rules(event_type: str, attribute: str, value: Any, reason: str, clock: FixedClock) -> None:
    record = valid_ingest_record(event_type, "e1", optional=True)
    record["attributes"][attribute] = value  # type: ignore[index]
    result = validate_records([(7, record)], clock)
    assert result.events == ()
    assert result.rejections == (Rejection(7, f"attributes.{attribute}", result.rejections[0].reason, "e1"),)
    assert reason in result.rejections[0].reason


def test_optional_attribute_may_be_null_or_absent(clock: FixedClock) -> None:
    record = valid_ingest_record("order_placed", "e1")
    record["attributes"]["device_id"] = None  # type: ignore[index]
    event = parse_record(record, clock)
    assert "device_id" not in event.attributes


def test_dates_and_booleans_keep_their_wire_values(clock: FixedClock) -> None:
    settlement = parse_record(valid_ingest_record("merchant_settlement", "e1"), clock)
    assert settlement.attributes["business_date"] == "2026-01-31"
    payment = parse_record(valid_ingest_record("payment_made", "e2", optional=True), clock)
    assert payment.attributes["counterparty_known"] is True


def test_too_many_subjects_and_attributes_are_refused(clock: FixedClock) -> None:
    subjects = {f"role{n}": "P" for n in range(bounds.event_subjects_max + 1)}
    attributes = {f"a{n}": "x" for n in range(bounds.event_attributes_max + 1)}
    with pytest.raises(InputError, match="more than 16 subjects"):
        parse_record(_with("subjects", subjects), clock)
    with pytest.raises(InputError, match="more than 64 attributes"):
        parse_record(_with("attributes", attributes), clock)


def test_a_record_that_is_not_an_object_is_rejected(clock: FixedClock) -> None:
    result = validate_records([(1, [1, 2]), (2, "text"), (3, None)], clock)
    assert [(r.line, r.field) for r in result.rejections] == [(1, "record"), (2, "record"), (3, "record")]


def test_passed_through_rejections_are_counted(clock: FixedClock) -> None:
    broken = Rejection(4, "line", "not JSON")
    result = validate_records([(4, broken), (5, valid_ingest_record())], clock)
    assert result.rejections == (broken,)
    assert len(result.events) == 1


def test_reported_rejections_are_bounded_but_all_counted(clock: FixedClock) -> None:
    records = [(n, _with("attributes.amount", 1.5)) for n in range(1, 11)]
    result = validate_records(records, clock, reported_max=3)
    assert result.rejected_count == 10
    assert [r.line for r in result.rejections] == [1, 2, 3]


def test_oversized_batch_is_refused_as_a_bound(clock: FixedClock) -> None:
    records = [(n, None) for n in range(bounds.ingest_batch_events_max + 1)]
    with pytest.raises(BoundExceededError, match="ingest_batch_events_max"):
        validate_records(records, clock)
