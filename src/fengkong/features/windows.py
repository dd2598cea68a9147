"""Window arithmetic shared by the online and offline engines, on integer microseconds since the epoch.

Both engines place events by ``received_at`` in microseconds (``int``), so a window edge is compared exactly,
never through floats. Calendar-day windows start at 00:00 Asia/Shanghai of the first of their days
(:func:`fengkong.clock.start_of_business_day`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from fengkong.clock import business_date, require_utc, start_of_business_day
from fengkong.errors import InvariantError
from fengkong.features.spec import Window, WindowKind

EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECONDS_PER_SECOND: Final = 1_000_000
_HOUR_US: Final = 3_600 * MICROSECONDS_PER_SECOND


def to_microseconds(instant: datetime, field: str = "timestamp") -> int:
    """Microseconds since the Unix epoch of a timezone-aware instant (naive ones are refused)."""
    return (require_utc(instant, field) - EPOCH) // timedelta(microseconds=1)


def from_microseconds(microseconds: int) -> datetime:
    return EPOCH + timedelta(microseconds=microseconds)


@lru_cache(maxsize=4_096)
def _calendar_start_for_hour(hour: int, days: int) -> int:
    # Asia/Shanghai days begin on whole UTC hours (+08:00 since 1901), so every instant of one UTC hour
    # shares a business date; checked here so that a zone rule change cannot slip past silently.
    first = from_microseconds(hour * _HOUR_US)
    today = business_date(first)
    if business_date(from_microseconds((hour + 1) * _HOUR_US - 1)) != today:
        raise InvariantError("a business day boundary fell inside a UTC hour")
    return to_microseconds(start_of_business_day(today - timedelta(days=days - 1)))


def window_start_us(window: Window, as_of_us: int) -> tuple[int, bool]:
    """The old edge of ``window`` for a read at ``as_of_us`` and whether it is inclusive.

    Rolling: ``(as_of - length, False)`` — an event counts iff ``start < received_at <= as_of``.
    Calendar days: ``(00:00 Shanghai of the first day, True)`` — iff ``start <= received_at <= as_of``.
    """
    if window.kind is WindowKind.ROLLING:
        return as_of_us - window.length * MICROSECONDS_PER_SECOND, False
    return _calendar_start_for_hour(as_of_us // _HOUR_US, window.length), True


def calendar_starts_us(as_of_us: npt.NDArray[np.int64], days: int) -> npt.NDArray[np.int64]:
    """Vectorised calendar-window starts (inclusive) for many read instants (the offline engine's keys)."""
    hours = as_of_us // _HOUR_US
    unique, inverse = np.unique(hours, return_inverse=True)
    starts = np.fromiter(
        (_calendar_start_for_hour(int(hour), days) for hour in unique), dtype=np.int64, count=len(unique)
    )
    result: npt.NDArray[Any] = starts[inverse.reshape(-1)]
    return result.astype(np.int64, copy=False)
