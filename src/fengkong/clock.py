"""The injected clock. Event times are UTC; business dates are in Asia/Shanghai.

Nothing in product code calls ``datetime.now()`` directly: use cases receive a :class:`Clock`. The
simulator and the tests use :class:`FixedClock` / :class:`SimulatedClock`, so runs repeat exactly.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Final, Protocol
from zoneinfo import ZoneInfo

from fengkong.errors import InputError

BUSINESS_TIMEZONE: Final = ZoneInfo("Asia/Shanghai")


class Clock(Protocol):
    """Anything that tells the current instant (timezone-aware, UTC)."""

    def now(self) -> datetime: ...


class SystemClock:
    """The wall clock. Only ``api/`` and ``cli/`` construct it."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that reads what it was set to; ``advance`` moves it forward."""

    def __init__(self, instant: datetime) -> None:
        self._instant = require_utc(instant, "instant")

    def now(self) -> datetime:
        return self._instant

    def advance(self, delta: timedelta) -> None:
        if delta < timedelta(0):
            raise InputError("a clock never goes back", field="delta")
        self._instant += delta

    def set(self, instant: datetime) -> None:
        instant = require_utc(instant, "instant")
        if instant < self._instant:
            raise InputError("a clock never goes back", field="instant")
        self._instant = instant


SimulatedClock = FixedClock


def require_utc(instant: datetime, field: str = "timestamp") -> datetime:
    """Return ``instant`` in UTC; naive datetimes are refused (their zone is a guess)."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise InputError("timestamp has no timezone; send ISO 8601 with 'Z' or an offset", field=field)
    return instant.astimezone(UTC)


def business_date(instant: datetime) -> date:
    """The Asia/Shanghai calendar date of a UTC instant (accounting runs on these)."""
    return require_utc(instant).astimezone(BUSINESS_TIMEZONE).date()


def start_of_business_day(day: date) -> datetime:
    """The UTC instant at which business date ``day`` begins (00:00 Asia/Shanghai)."""
    return datetime.combine(day, time(0), tzinfo=BUSINESS_TIMEZONE).astimezone(UTC)


def parse_timestamp(text: str, field: str = "timestamp") -> datetime:
    """Parse an ISO 8601 timestamp with a zone ('Z' or an offset) into UTC."""
    if not isinstance(text, str):
        raise InputError(f"expected an ISO 8601 string, got {type(text).__name__}", field=field)
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise InputError(f"not an ISO 8601 timestamp: {text!r}", field=field) from exc
    return require_utc(parsed, field)


def format_timestamp(instant: datetime) -> str:
    """UTC ISO 8601 with microseconds and 'Z' — the wire form."""
    return require_utc(instant).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
