"""The window rules, worked by hand, in both engines: the deterministic edge-case parity test.

Every event sits on an edge: exactly one window before the read (out: the old edge is open), one microsecond
after that (in), exactly at the read (in), one microsecond after it (out), at 00:00 Shanghai (in "today"),
one microsecond before (out of today). One event is late (occurred long before it was received); one is
retried later; one is retried with an *earlier* receipt that arrives last (the earliest receipt counts).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest

from fengkong.domain.features import FeatureValue
from fengkong.features.offline import KEY_AS_OF, KEY_ENTITY, backfill, lake_schema
from fengkong.features.online import OnlineFeatureEngine
from fengkong.features.spec import (
    Aggregation,
    Entity,
    FeatureSet,
    FeatureSpec,
    Filter,
    Measure,
    Operator,
    Source,
    Window,
)

T0 = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai; the business day began at T0 - 12 h
US = timedelta(microseconds=1)
H = timedelta(hours=1)

REVIEWS = Source("review_posted", "merchant_id")
STARS = Source("review_posted", "merchant_id", "stars")
BAD = Source("review_posted", "merchant_id", None, (Filter("stars", Operator.LE, 2),))
CONSUMERS = Source("review_posted", "merchant_id", "consumer_id")
DAY = Window.rolling(hours=24)


def _simple(name: str, aggregation: Aggregation, source: Source, window: Window = DAY) -> FeatureSpec:
    return FeatureSpec(
        name, Entity.MERCHANT, aggregation, "test", "u", Measure(aggregation, (source,), window)
    )


FEATURES = FeatureSet(
    (
        _simple("reviews_24h", Aggregation.COUNT, REVIEWS),
        _simple("stars_sum_24h", Aggregation.SUM, STARS),
        _simple("stars_mean_24h", Aggregation.MEAN, STARS),
        _simple("stars_min_24h", Aggregation.MIN, STARS),
        _simple("stars_max_24h", Aggregation.MAX, STARS),
        _simple("stars_last_24h", Aggregation.LAST, STARS),
        _simple("consumers_24h", Aggregation.DISTINCT_COUNT, CONSUMERS),
        _simple("seconds_since_review", Aggregation.TIME_SINCE_LAST, REVIEWS),
        _simple("reviews_today", Aggregation.COUNT, REVIEWS, Window.calendar_days(1)),
        FeatureSpec(
            "bad_share_24h",
            Entity.MERCHANT,
            Aggregation.RATIO,
            "test",
            "share",
            numerator=Measure(Aggregation.COUNT, (BAD,), DAY),
            denominator=Measure(Aggregation.COUNT, (REVIEWS,), DAY),
        ),
        FeatureSpec(
            "review_growth_1h_24h",
            Entity.MERCHANT,
            Aggregation.GROWTH,
            "test",
            "ratio",
            numerator=Measure(Aggregation.COUNT, (REVIEWS,), Window.rolling(hours=1)),
            denominator=Measure(Aggregation.COUNT, (REVIEWS,), DAY),
        ),
    )
)


def review(
    event_id: str, received: datetime, stars: int, consumer: str | None, late: timedelta = H * 0
) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "event_type": "review_posted",
        "occurred_at": received - late,
        "received_at": received,
        "source": "test",
        "consumer_id": consumer,
        "merchant_id": "M1",
        "order_id": None,
        "stars": stars,
    }


# In arrival order (the online engine sees them so; the offline engine sees the rows, unordered).
ARRIVALS = [
    review("e3", T0, 4, "C2"),
    review("e1", T0 - 24 * H, 5, "C9"),  # exactly one window old at T0: out
    review("e2", T0 - 24 * H + US, 1, "C1"),  # in at T0, out at T0 + 1 µs
    review("e6", T0 - 2 * H, 3, "C8"),  # counted until its earlier copy arrives
    review("e5", T0 - H, 2, "C1", late=30 * H),  # late: occurred 31 h before T0, counts from receipt
    review("e7", T0 - 12 * H, 5, "C3"),  # exactly 00:00 Shanghai: today
    review("e8", T0 - 12 * H - US, 1, None),  # a microsecond before: yesterday; no consumer
    review("e4", T0 + US, 1, "C4"),  # after the read at T0
    review("e2", T0 - 2 * H, 1, "C1"),  # a retry of e2, received later: ignored
    review("e6", T0 - 25 * H, 3, "C8"),  # an earlier copy of e6 arriving last: e6 is out of the window
]

EXPECTED_AT_T0: dict[str, FeatureValue] = {
    "reviews_24h": 5,  # e2 e3 e5 e7 e8
    "stars_sum_24h": 13,
    "stars_mean_24h": 2.6,
    "stars_min_24h": 1,
    "stars_max_24h": 5,
    "stars_last_24h": 4,  # e3, received exactly at T0
    "consumers_24h": 3,  # C1 C2 C3 (e8 has none)
    "seconds_since_review": 0.0,
    "reviews_today": 3,  # e7 (00:00) e5 e3
    "bad_share_24h": 0.6,  # e2 e5 e8
    "review_growth_1h_24h": 4.8,  # 1 in (T0 - 1 h, T0] (e5 sits on the open edge) against 5 in 24 h
}
EXPECTED_AFTER: dict[str, FeatureValue] = {  # at T0 + 1 µs: e4 in, e2 out
    "reviews_24h": 5,
    "stars_sum_24h": 13,
    "stars_mean_24h": 2.6,
    "stars_min_24h": 1,
    "stars_max_24h": 5,
    "stars_last_24h": 1,
    "consumers_24h": 4,  # C1 (e5) C2 C3 C4
    "seconds_since_review": 0.0,
    "reviews_today": 4,
    "bad_share_24h": 0.6,  # e4 e5 e8
    "review_growth_1h_24h": 9.6,
}
EMPTY: dict[str, FeatureValue] = {
    "reviews_24h": 0,
    "stars_sum_24h": 0,
    "stars_mean_24h": None,
    "stars_min_24h": None,
    "stars_max_24h": None,
    "stars_last_24h": None,
    "consumers_24h": 0,
    "seconds_since_review": None,
    "reviews_today": 0,
    "bad_share_24h": None,
    "review_growth_1h_24h": None,
}
READS = [("M1", T0, EXPECTED_AT_T0), ("M1", T0 + US, EXPECTED_AFTER), ("M2", T0, EMPTY)]


def _online(reads: list[tuple[str, datetime]]) -> list[dict[str, FeatureValue]]:
    engine = OnlineFeatureEngine(FEATURES)
    for row in ARRIVALS:
        engine.apply_row("review_posted", row)
    return [dict(engine.read("merchant", entity_id, as_of).values) for entity_id, as_of in reads]


def _offline(reads: list[tuple[str, datetime]]) -> list[dict[str, FeatureValue]]:
    tables = {"review_posted": pa.Table.from_pylist(ARRIVALS, schema=lake_schema("review_posted"))}
    keys = pa.table(
        {
            KEY_ENTITY: [entity_id for entity_id, _ in reads],
            KEY_AS_OF: pa.array([as_of for _, as_of in reads], type=pa.timestamp("us", tz="UTC")),
        }
    )
    result = backfill(FEATURES, "merchant", keys, tables=tables)
    return [{k: v for k, v in row.items() if k not in (KEY_ENTITY, KEY_AS_OF)} for row in result.to_pylist()]


@pytest.mark.parametrize("engine", [_online, _offline], ids=["online", "offline"])
def test_window_edges_late_and_retried_events(engine: Any) -> None:
    got = engine([(entity_id, as_of) for entity_id, as_of, _ in READS])
    for values, (_, _, expected) in zip(got, READS, strict=True):
        assert set(values) == set(expected)
        for name, value in expected.items():  # counts stay integers, None stays None
            assert type(values[name]) is type(value), name
            assert values[name] == (
                value if not isinstance(value, float) else pytest.approx(value, rel=1e-12)
            )


def test_seconds_since_last_counts_from_receipt() -> None:
    later = T0 + timedelta(minutes=90)
    online, offline = _online([("M1", later)]), _offline([("M1", later)])
    assert online[0]["seconds_since_review"] == offline[0]["seconds_since_review"] == 90 * 60 - 1e-6
