"""Early-warning alerts (fengkong.credit_lines.early_warning): severity, reason and lead indicators."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from fengkong.credit_lines.dynamic import FraudSignals, LineState, propose
from fengkong.credit_lines.early_warning import EarlyWarningParameters, Severity, alert_id, assess
from fengkong.domain.features import FeatureValue
from fengkong.errors import InputError

TODAY = date(2026, 6, 20)
NO_FRAUD = FraudSignals()
STATE = LineState("p-1", "bnpl", 1_000_000, 0, TODAY - timedelta(days=200))


def test_nothing_fired_no_alert() -> None:
    assert (
        assess("p-1", {"rider_delivery_growth_7d_30d": 1.1, "rider_deliveries_30d": 100}, NO_FRAUD, TODAY)
        is None
    )


def test_one_weak_indicator_is_below_the_default_severity() -> None:
    features: dict[str, FeatureValue] = {"rider_deliveries_30d": 100, "rider_delivery_growth_7d_30d": 0.4}
    assert assess("p-1", features, NO_FRAUD, TODAY) is None
    low = assess("p-1", features, NO_FRAUD, TODAY, params=EarlyWarningParameters(severity_min=Severity.LOW))
    assert low is not None and low.severity is Severity.LOW and low.reason == "rider_deliveries_falling"


def test_two_weak_indicators_make_a_medium_alert_with_both_values() -> None:
    features: dict[str, FeatureValue] = {
        "rider_deliveries_30d": 100,
        "rider_delivery_growth_7d_30d": 0.4,
        "rider_earnings_growth_7d_30d": 0.5,
    }
    alert = assess("p-1", features, NO_FRAUD, TODAY)
    assert alert is not None and alert.severity is Severity.MEDIUM
    assert dict(alert.indicators) == {
        "rider_delivery_growth_7d_30d": 0.4,
        "rider_earnings_growth_7d_30d": 0.5,
    }
    assert alert.alert_id == alert_id("p-1", TODAY, "early-warning-1")


def test_a_falling_trend_needs_history() -> None:
    features: dict[str, FeatureValue] = {
        "rider_deliveries_30d": 19,
        "rider_delivery_growth_7d_30d": 0.1,
        "rider_earnings_growth_7d_30d": 0.1,
    }
    assert assess("p-1", features, NO_FRAUD, TODAY) is None


def test_heavy_indicators_are_high_and_name_the_heaviest_reason() -> None:
    features: dict[str, FeatureValue] = {
        "consumer_bureau_delinquencies_24m_last": 1,
        "consumer_collection_repayment_share_180d": 0.5,
    }
    alert = assess("p-1", features, NO_FRAUD, TODAY)
    assert alert is not None and alert.severity is Severity.HIGH and alert.reason == "collection_repayments"
    fraud = assess("p-1", {}, FraudSignals(ring_member=True), TODAY)
    assert fraud is not None and fraud.reason == "fraud_signal"
    late = LineState("p-1", "bnpl", 100, 0, TODAY, days_past_due=30)
    past_due = assess("p-1", {}, NO_FRAUD, TODAY, state=late)
    assert past_due is not None and past_due.reason == "past_due_on_line"
    assert past_due.severity is Severity.HIGH
    # a first miss mostly cures: alone it is a low indicator, below the default severity
    first_miss = LineState("p-1", "bnpl", 100, 0, TODAY, days_past_due=3)
    assert assess("p-1", {}, NO_FRAUD, TODAY, state=first_miss) is None


def test_a_bad_review_cut_is_a_lead_indicator() -> None:
    features: dict[str, FeatureValue] = {"merchant_bad_review_share_7d": 0.5}
    change = propose(STATE, features, NO_FRAUD, TODAY)
    alert = assess("p-1", features, NO_FRAUD, TODAY, STATE, change)
    assert alert is not None and alert.reason == "bad_review_surge" and alert.severity is Severity.MEDIUM


def test_repaying_less_than_drawn_counts_only_after_enough_was_drawn() -> None:
    base: dict[str, FeatureValue] = {
        "consumer_repaid_to_drawn_90d": 0.1,
        "consumer_bureau_delinquencies_24m_last": 0,
    }
    low = EarlyWarningParameters(severity_min=Severity.LOW)
    assert (
        assess("p-1", {**base, "consumer_drawn_amount_90d_fen": 99_999}, NO_FRAUD, TODAY, params=low) is None
    )
    alert = assess("p-1", {**base, "consumer_drawn_amount_90d_fen": 100_000}, NO_FRAUD, TODAY, params=low)
    assert alert is not None and alert.reason == "repaying_less_than_drawn"


def test_bad_input() -> None:
    with pytest.raises(InputError) as raised:
        assess("", {}, NO_FRAUD, TODAY)
    assert raised.value.field == "party_id"
    with pytest.raises(InputError) as raised:
        EarlyWarningParameters(falling_ratio_max=2)  # type: ignore[arg-type]
    assert raised.value.field == "falling_ratio_max"
    with pytest.raises(InputError) as raised:
        alert_id("p" * 200, TODAY, "v1")
    assert raised.value.field == "party_id"
