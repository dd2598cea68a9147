"""Clock, the exception tree and the bounds module."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from fengkong import bounds, errors
from fengkong.clock import (
    FixedClock,
    business_date,
    format_timestamp,
    parse_timestamp,
    require_utc,
    start_of_business_day,
)
from fengkong.errors import InputError, InvariantError, require


def test_business_date_is_shanghai() -> None:
    # 16:30 UTC is 00:30 the next day in Asia/Shanghai (UTC+8, no daylight saving)
    assert business_date(datetime(2026, 1, 31, 16, 30, tzinfo=UTC)) == date(2026, 2, 1)
    assert business_date(datetime(2026, 1, 31, 15, 59, tzinfo=UTC)) == date(2026, 1, 31)
    assert start_of_business_day(date(2026, 2, 1)) == datetime(2026, 1, 31, 16, 0, tzinfo=UTC)


def test_naive_timestamps_are_refused() -> None:
    with pytest.raises(InputError, match="no timezone"):
        require_utc(datetime(2026, 1, 1), "occurred_at")
    with pytest.raises(InputError) as info:
        parse_timestamp("2026-01-01T00:00:00", "received_at")
    assert info.value.field == "received_at"


def test_timestamps_round_trip_in_utc() -> None:
    parsed = parse_timestamp("2026-03-01T08:00:00+08:00")
    assert parsed == datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
    assert format_timestamp(parsed) == "2026-03-01T00:00:00.000000Z"
    assert parse_timestamp(format_timestamp(parsed)) == parsed
    with pytest.raises(InputError, match="not an ISO 8601"):
        parse_timestamp("yesterday")
    with pytest.raises(InputError):
        parse_timestamp(12)  # type: ignore[arg-type]


def test_fixed_clock_never_goes_back() -> None:
    clock = FixedClock(datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=8))))
    assert clock.now() == datetime(2025, 12, 31, 16, tzinfo=UTC)
    clock.advance(timedelta(hours=1))
    assert clock.now() == datetime(2025, 12, 31, 17, tzinfo=UTC)
    with pytest.raises(InputError):
        clock.advance(timedelta(seconds=-1))
    with pytest.raises(InputError):
        clock.set(datetime(2025, 1, 1, tzinfo=UTC))


def test_exception_tree_and_http_mapping() -> None:
    assert issubclass(errors.CurrencyMismatchError, errors.MoneyError)
    assert issubclass(errors.MoneyError, errors.InputError)
    assert issubclass(errors.IdempotencyConflictError, errors.ConflictError)
    statuses = {
        errors.InputError: 422,
        errors.NotFoundError: 404,
        errors.ConflictError: 409,
        errors.UnavailableError: 503,
        errors.InvariantError: 500,
    }
    for cls, status in statuses.items():
        assert issubclass(cls, errors.FengkongError)
        assert cls.http_status == status
    # Every class in the module appears in the docstring's tree, so the drawing cannot drift.
    doc = errors.__doc__ or ""
    for name in dir(errors):
        obj = getattr(errors, name)
        if isinstance(obj, type) and issubclass(obj, errors.FengkongError):
            assert name in doc, f"{name} is missing from the tree in errors.py's docstring"


def test_input_error_names_field() -> None:
    error = InputError("must be positive", field="amount")
    assert str(error) == "amount: must be positive"
    assert error.reason == "must be positive"


def test_require_survives_optimisation() -> None:
    require(True, "fine")
    with pytest.raises(InvariantError, match="broken"):
        require(False, "broken")


def test_bound_exceeded_message() -> None:
    error = errors.BoundExceededError("ingest_batch_events_max", 10, 11)
    assert "ingest_batch_events_max=10" in str(error)


def test_bounds_are_named_positive_integers_with_units() -> None:
    names = [
        name for name in dir(bounds) if not name.startswith("_") and name not in {"Final", "annotations"}
    ]
    assert names, "bounds.py defines no bound"
    units = ("_max", "_count", "_min", "_bytes", "_ms", "_seconds", "_days", "_rows", "_events")
    for name in names:
        value = getattr(bounds, name)
        assert isinstance(value, int) and not isinstance(value, bool), name
        assert value > 0, name
        assert name.endswith(units), f"{name}: a bound's name ends with its unit or kind"
