"""Shared by the SQLite and PostgreSQL tests of credit lines: a feature reader over fixed values, and the
scenarios run against either database."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from fengkong.domain.features import FeatureValue, FeatureVector
from fengkong.errors import ConflictError, IdempotencyConflictError
from fengkong.services import credit_line_review as review
from fengkong.store import credit_lines as store
from fengkong.store import exposure, fraud_cases

OPENED_AT = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
REVIEW_AT = datetime(2026, 6, 20, 2, 0, tzinfo=UTC)
YUAN = 100

FEATURES: dict[tuple[str, str], dict[str, FeatureValue]] = {
    ("rider", "p-rider"): {
        "rider_deliveries_30d": 300,
        "rider_delivery_growth_7d_30d": 1.5,
        "rider_earnings_growth_7d_30d": 1.4,
    },
    ("merchant", "p-shop"): {"merchant_reviews_24h": 8, "merchant_bad_review_share_24h": 0.75},
    ("consumer", "p-late"): {"consumer_collection_repayment_share_180d": 0.2},
}


class FixedFeatures:
    """A FeatureReader over fixed values (the engines have their own tests); it records what was read."""

    def __init__(self, values: Mapping[tuple[str, str], Mapping[str, FeatureValue]]) -> None:
        self.values = values
        self.reads: list[tuple[str, str, datetime]] = []

    def read(
        self, entity_type: str, entity_id: str, as_of: datetime, names: Sequence[str] | None = None
    ) -> FeatureVector:
        self.reads.append((entity_type, entity_id, as_of))
        values = self.values.get((entity_type, entity_id), {})
        wanted = names if names is not None else list(values)
        return FeatureVector(entity_type, entity_id, as_of, {name: values.get(name) for name in wanted})


def open_lines(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        exposure.set_household_cap(connection, "h-1", 200_000 * 100 * YUAN // 100, OPENED_AT)
        connection.execute(
            sa.text(
                "INSERT INTO parties (party_id, kind, roles, household_id, attributes, created_at) "
                "VALUES (:party, 'person', 'rider', 'h-1', '[]', :at)"
            ),
            {"party": "p-rider", "at": OPENED_AT},
        )
        for party, product in (
            ("p-rider", "bnpl"),
            ("p-shop", "merchant"),
            ("p-late", "revolving"),
            ("p-calm", "bnpl"),
        ):
            review.open_line(connection, party, product, 10_000 * YUAN, OPENED_AT, "onboarding-v1")
        fraud_cases.open_case(
            connection,
            fraud_cases.CaseRecord("case-1", "p-calm", None, "open", None, OPENED_AT, None, None),
        )


def run_review_scenario(engine: sa.Engine) -> None:
    open_lines(engine)
    features = FixedFeatures(FEATURES)
    report = review.review_lines(engine, features, REVIEW_AT, batch_rows=2)
    assert report.lines_reviewed == 4
    assert (report.raised, report.cut, report.frozen) == (1, 1, 2)
    assert {read[2] for read in features.reads} == {REVIEW_AT}  # point in time: the review's instant
    with engine.connect() as connection:
        [rider] = review.line_view(connection, "p-rider")
        assert rider.line.limit_fen == 12_000 * YUAN and rider.line.last_raised_on == REVIEW_AT.date()
        assert rider.exposure is not None and rider.exposure.limit_fen == 12_000 * YUAN
        assert [change.action for change in rider.history] == ["open", "raise"]
        raise_ = rider.history[1]
        assert (raise_.old_limit_fen, raise_.new_limit_fen, raise_.reason) == (
            10_000 * YUAN,
            12_000 * YUAN,
            "sustained_delivery_growth",
        )
        assert raise_.triggers["rider_delivery_growth_7d_30d"] == 1.5
        assert raise_.changed_by == "dynamic-lines-1" and raise_.changed_at == REVIEW_AT
        [shop] = review.line_view(connection, "p-shop")
        assert shop.line.limit_fen == 5_000 * YUAN and shop.line.status == "active"
        [late] = review.line_view(connection, "p-late")
        assert late.line.status == "frozen" and late.line.limit_fen == 0
        assert late.exposure is not None and late.exposure.limit_fen == 0  # new holds are refused
        [calm] = review.line_view(connection, "p-calm")
        assert calm.line.status == "frozen" and calm.history[-1].reason == "fraud_case_open"
        queue = review.alerts(connection)
        # most severe first: the fraud case and the collection repayments (high), then the review surge
        assert [(alert.party_id, alert.severity) for alert in queue] == [
            ("p-calm", 3),
            ("p-late", 3),
            ("p-shop", 2),
        ]
        assert queue[2].reason == "bad_review_surge"
    # a second run on the same day changes nothing twice and opens no alert twice
    again = review.review_lines(engine, features, REVIEW_AT + timedelta(hours=1))
    assert (again.raised, again.cut, again.frozen, again.alerts_opened) == (0, 0, 0, 0)
    with engine.begin() as connection:
        reviewed = review.review_alert(connection, queue[0].alert_id, "confirmed", REVIEW_AT, "analyst-7")
        assert reviewed.status == "reviewed" and reviewed.outcome == "confirmed"
        assert [alert.alert_id for alert in review.alerts(connection, "reviewed")] == [queue[0].alert_id]
        with pytest.raises(ConflictError):
            review.review_alert(connection, queue[0].alert_id, "dismissed", REVIEW_AT, "analyst-8")


def run_change_conflicts(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        review.open_line(connection, "p-1", "bnpl", 5_000 * YUAN, OPENED_AT, "onboarding-v1")
    change = store.ChangeRecord(
        "c-1",
        "p-1",
        "bnpl",
        "set",
        "operator",
        5_000 * YUAN,
        6_000 * YUAN,
        {},
        REVIEW_AT.date(),
        REVIEW_AT,
        "ops",
    )
    with engine.begin() as connection:
        assert store.apply_change(connection, change) is True
        assert store.apply_change(connection, change) is False  # a retry
    other = store.ChangeRecord(
        "c-1",
        "p-1",
        "bnpl",
        "set",
        "operator",
        5_000 * YUAN,
        7_000 * YUAN,
        {},
        REVIEW_AT.date(),
        REVIEW_AT,
        "ops",
    )
    with pytest.raises(IdempotencyConflictError), engine.begin() as connection:
        store.apply_change(connection, other)
    stale = store.ChangeRecord(
        "c-2",
        "p-1",
        "bnpl",
        "cut",
        "operator",
        5_000 * YUAN,
        1_000 * YUAN,
        {},
        REVIEW_AT.date(),
        REVIEW_AT,
        "ops",
    )
    with pytest.raises(ConflictError), engine.begin() as connection:
        store.apply_change(connection, stale)  # proposed from 5,000 but the line is at 6,000 now
    with engine.connect() as connection:
        assert [change.change_id for change in store.history(connection, "p-1")][1:] == ["c-1"]
        line = store.get_line(connection, "p-1", "bnpl")
        assert line is not None and line.limit_fen == 6_000 * YUAN
        assert exposure.party_exposure(connection, "p-1")["bnpl"].limit_fen == 6_000 * YUAN
