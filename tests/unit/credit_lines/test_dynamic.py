"""Dynamic credit-line rules (fengkong.credit_lines.dynamic): raises within caps and cool-downs, cuts,
freezes."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fengkong.credit_lines.dynamic import (
    DynamicLineParameters,
    FraudSignals,
    LineAction,
    LineReason,
    LineState,
    apply,
    propose,
)
from fengkong.domain.features import FeatureValue
from fengkong.errors import InputError

TODAY = date(2026, 6, 20)
YUAN = 100
PARAMS = DynamicLineParameters()
GROWING: dict[str, FeatureValue] = {
    "rider_deliveries_30d": 240,
    "rider_delivery_growth_7d_30d": 1.4,
    "rider_earnings_growth_7d_30d": 1.3,
}
NO_FRAUD = FraudSignals()


def line(**changes: Any) -> LineState:
    base = LineState(
        party_id="p-rider-1",
        product="bnpl",
        limit_fen=10_000 * YUAN,
        used_fen=3_000 * YUAN,
        opened_on=TODAY - timedelta(days=120),
    )
    return dataclasses.replace(base, **changes)


def test_a_sustained_rise_in_deliveries_raises_the_line_by_the_step() -> None:
    change = propose(line(), GROWING, NO_FRAUD, TODAY)
    assert change is not None
    assert change.action is LineAction.RAISE and change.reason is LineReason.DELIVERY_GROWTH
    assert (change.old_limit_fen, change.new_limit_fen) == (10_000 * YUAN, 12_000 * YUAN)  # +20 %
    assert dict(change.triggers) == GROWING
    assert change.rule_version == PARAMS.rule_version and change.as_of == TODAY


@pytest.mark.parametrize(
    ("features", "state", "why"),
    [
        ({**GROWING, "rider_deliveries_30d": 59}, line(), "too little history of deliveries"),
        ({**GROWING, "rider_delivery_growth_7d_30d": 1.14}, line(), "deliveries barely grew"),
        ({**GROWING, "rider_earnings_growth_7d_30d": 1.0}, line(), "the rise is not in both windows"),
        ({**GROWING, "rider_earnings_growth_7d_30d": None}, line(), "a missing value never triggers"),
        (GROWING, line(opened_on=TODAY - timedelta(days=59)), "the line is too young"),
        (GROWING, line(last_raised_on=TODAY - timedelta(days=29)), "within the cool-down"),
        (GROWING, line(household_available_fen=0), "no room under the household cap"),
        (GROWING, line(limit_fen=50_000 * YUAN), "already at the product maximum"),
        (GROWING, line(frozen=True), "a frozen line waits for a reviewer"),
    ],
)
def test_no_raise(features: dict[str, FeatureValue], state: LineState, why: str) -> None:
    assert propose(state, features, NO_FRAUD, TODAY) is None, why


def test_the_cool_down_ends_on_its_last_day() -> None:
    change = propose(line(last_raised_on=TODAY - timedelta(days=30)), GROWING, NO_FRAUD, TODAY)
    assert change is not None and change.action is LineAction.RAISE


def test_a_raise_is_bounded_by_the_step_max_the_product_max_and_the_household_room() -> None:
    big = propose(line(limit_fen=40_000 * YUAN), GROWING, NO_FRAUD, TODAY)
    assert (
        big is not None and big.new_limit_fen == 45_000 * YUAN
    )  # 20 % would be 8,000; the step max is 5,000
    near_max = propose(line(limit_fen=48_000 * YUAN), GROWING, NO_FRAUD, TODAY)
    assert near_max is not None and near_max.new_limit_fen == 50_000 * YUAN
    household = propose(line(household_available_fen=1_234 * YUAN), GROWING, NO_FRAUD, TODAY)
    assert household is not None and household.new_limit_fen == 11_200 * YUAN  # rounded down to 100 yuan


def test_a_surge_of_bad_reviews_cuts_the_line() -> None:
    features = {"merchant_reviews_24h": 6, "merchant_bad_review_share_24h": 0.67}
    change = propose(line(product="merchant"), features, NO_FRAUD, TODAY)
    assert change is not None and change.action is LineAction.CUT
    assert change.reason is LineReason.BAD_REVIEW_SURGE and change.new_limit_fen == 5_000 * YUAN
    assert dict(change.triggers) == features
    too_few = {"merchant_reviews_24h": 2, "merchant_bad_review_share_24h": 1.0}
    assert propose(line(), too_few, NO_FRAUD, TODAY) is None
    weekly = propose(line(), {"merchant_bad_review_share_7d": 0.31}, NO_FRAUD, TODAY)
    assert weekly is not None and weekly.reason is LineReason.BAD_REVIEW_SURGE


def test_delinquency_elsewhere_and_fraud_freeze_and_win_over_a_raise() -> None:
    collection = {**GROWING, "consumer_collection_repayment_share_180d": 0.25}
    frozen = propose(line(), collection, NO_FRAUD, TODAY)
    assert frozen is not None and frozen.action is LineAction.FREEZE and frozen.new_limit_fen == 0
    assert frozen.reason is LineReason.DELINQUENCY_ELSEWHERE
    ring = propose(line(), GROWING, FraudSignals(ring_member=True), TODAY)
    assert ring is not None and ring.reason is LineReason.FRAUD_RING
    case = propose(line(), GROWING, FraudSignals(open_cases=2), TODAY)
    assert case is not None and case.reason is LineReason.FRAUD_CASE_OPEN
    assert dict(case.triggers) == {"fraud_cases_open": 2}
    past_due = propose(line(days_past_due=30), GROWING, NO_FRAUD, TODAY)
    assert past_due is not None and past_due.reason is LineReason.PAST_DUE
    assert past_due.action is LineAction.FREEZE


def test_a_first_miss_cuts_the_line_and_a_long_one_freezes_it() -> None:
    first = propose(line(days_past_due=9), GROWING, NO_FRAUD, TODAY)
    assert first is not None and first.action is LineAction.CUT and first.reason is LineReason.PAST_DUE
    assert first.new_limit_fen == 5_000 * YUAN and dict(first.triggers) == {"days_past_due": 9}
    cut_once = apply(line(days_past_due=9), first)
    longer = propose(dataclasses.replace(cut_once, days_past_due=29), {}, NO_FRAUD, TODAY)
    assert longer is not None and longer.new_limit_fen == 2_500 * YUAN  # each review cuts again
    frozen = propose(dataclasses.replace(cut_once, days_past_due=30), {}, NO_FRAUD, TODAY)
    assert frozen is not None and frozen.action is LineAction.FREEZE


def test_bureau_delinquencies_known_at_booking_do_not_cut() -> None:
    assert propose(line(), {"consumer_bureau_delinquencies_24m_last": 2}, NO_FRAUD, TODAY) is None


def test_apply_makes_a_new_state() -> None:
    state = line()
    change = propose(state, GROWING, NO_FRAUD, TODAY)
    assert change is not None
    after = apply(state, change)
    assert after.limit_fen == change.new_limit_fen and after.last_raised_on == TODAY
    assert state.limit_fen == 10_000 * YUAN  # unchanged
    assert propose(after, GROWING, NO_FRAUD, TODAY + timedelta(days=1)) is None  # cool-down
    frozen = propose(after, GROWING, FraudSignals(ring_member=True), TODAY)
    assert frozen is not None and apply(after, frozen).frozen
    with pytest.raises(InputError, match="another limit"):
        apply(state, frozen)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("rule_version", ""),
        ("raise_growth_min", Decimal("0.9")),
        ("raise_step_permille", 0),
        ("raise_step_permille", 1_001),
        ("raise_cooldown_days", 366),
        ("raise_line_age_days_min", 0),
        ("cut_keep_permille", 1_000),
        ("past_due_freeze_days_min", 0),
        ("bad_review_share_24h_max", Decimal("1.5")),
        ("product_line_max_fen", 0),
        ("raise_deliveries_30d_min", True),
    ],
)
def test_parameters_are_checked_against_their_bounds(name: str, value: object) -> None:
    with pytest.raises(InputError) as raised:
        DynamicLineParameters(**{name: value})  # type: ignore[arg-type]
    assert raised.value.field == name


def test_line_state_refuses_negative_amounts() -> None:
    with pytest.raises(InputError) as raised:
        line(used_fen=-1)
    assert raised.value.field == "used_fen"


@given(
    limit_yuan=st.integers(min_value=0, max_value=60_000),
    room_yuan=st.none() | st.integers(min_value=0, max_value=100_000),
    growth=st.floats(min_value=0.0, max_value=5.0),
    deliveries=st.integers(min_value=0, max_value=1_000),
    share=st.floats(min_value=0.0, max_value=1.0),
    collection=st.floats(min_value=0.0, max_value=1.0),
)
def test_every_change_respects_the_caps(
    limit_yuan: int, room_yuan: int | None, growth: float, deliveries: int, share: float, collection: float
) -> None:
    state = line(
        limit_fen=limit_yuan * YUAN, household_available_fen=None if room_yuan is None else room_yuan * YUAN
    )
    features: dict[str, FeatureValue] = {
        "rider_deliveries_30d": deliveries,
        "rider_delivery_growth_7d_30d": growth,
        "rider_earnings_growth_7d_30d": growth,
        "merchant_bad_review_share_7d": share,
        "consumer_collection_repayment_share_180d": collection,
    }
    change = propose(state, features, NO_FRAUD, TODAY)
    if change is None:
        return
    assert change.old_limit_fen == state.limit_fen
    if change.action is LineAction.RAISE:
        step = change.new_limit_fen - change.old_limit_fen
        assert 0 < step <= PARAMS.raise_step_fen_max
        assert change.new_limit_fen <= PARAMS.product_line_max_fen
        assert state.household_available_fen is None or step <= state.household_available_fen
        assert change.new_limit_fen % PARAMS.line_unit_fen == 0
    elif change.action is LineAction.CUT:
        assert change.new_limit_fen < change.old_limit_fen
    else:  # a freeze closes the line to new draws, even one already at 0
        assert change.action is LineAction.FREEZE and change.new_limit_fen == 0
