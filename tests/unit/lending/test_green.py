"""Green loans: eligible purposes and borrowers, the discount and its floor, the portfolio tag."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fengkong.compliance.caps import check_price, default_cap_policy
from fengkong.domain.party import Role
from fengkong.domain.products import DayCount, ProductKind, ProductTerms, RepaymentMethod
from fengkong.errors import InputError
from fengkong.lending.green import (
    DEFAULT_GREEN_POLICY,
    GreenApproved,
    GreenPolicy,
    GreenPurpose,
    GreenRefusal,
    GreenRefused,
    green_purpose_of,
    green_terms,
)
from fengkong.lending.schedule import build_schedule
from fengkong.money import Money


def base(rate: str = "0.18") -> ProductTerms:
    return ProductTerms(
        ProductKind.INSTALLMENT, Decimal(rate), RepaymentMethod.EQUAL_INSTALLMENT, DayCount.ACTUAL_365,
        installments=12, tags=frozenset({"campaign:spring"}),
    )  # fmt: skip


def test_an_e_bike_for_a_rider_gets_the_discount_and_the_tags() -> None:
    outcome = green_terms(base(), "e-bike", {Role.RIDER, Role.CONSUMER}, DEFAULT_GREEN_POLICY)
    assert isinstance(outcome, GreenApproved)
    assert outcome.terms.product is ProductKind.GREEN
    assert outcome.terms.annual_rate == Decimal("0.16") and outcome.discount_applied == Decimal("0.02")
    assert outcome.terms.tags == {"campaign:spring", "green", "green:e-bike"}
    assert green_purpose_of(outcome.terms) is GreenPurpose.E_BIKE
    assert green_purpose_of(base()) is None
    # the discounted price is still checked like any other, and is lower
    schedule = build_schedule(outcome.terms, Money(500_000), date(2026, 3, 1), rounding="ROUND_HALF_EVEN")
    check = check_price(
        default_cap_policy(), outcome.terms.product.value, date(2026, 3, 1), schedule, fees=()
    )
    assert check.allowed and check.rate_pct < Decimal(17)


def test_energy_saving_kitchen_equipment_is_for_merchants() -> None:
    approved = green_terms(base(), "energy-saving-kitchen", {Role.MERCHANT}, DEFAULT_GREEN_POLICY)
    assert isinstance(approved, GreenApproved) and approved.purpose is GreenPurpose.ENERGY_SAVING_KITCHEN
    refused = green_terms(base(), "energy-saving-kitchen", {Role.RIDER}, DEFAULT_GREEN_POLICY)
    assert isinstance(refused, GreenRefused) and refused.code is GreenRefusal.BORROWER_NOT_ELIGIBLE
    assert (
        refused.reason
        == "a green energy-saving-kitchen loan is for a borrower who is a merchant or merchant_owner"
    )


def test_an_ineligible_purpose_is_a_clear_refusal() -> None:
    refused = green_terms(base(), "sports-car", {Role.RIDER}, DEFAULT_GREEN_POLICY)
    assert isinstance(refused, GreenRefused) and refused.code is GreenRefusal.PURPOSE_NOT_ELIGIBLE
    assert refused.reason == (
        "'sports-car' is not an eligible green purpose (eligible: e-bike, energy-saving-kitchen)"
    )
    only_bikes = GreenPolicy(
        Decimal("0.01"), Decimal("0.05"), ((GreenPurpose.E_BIKE, frozenset({Role.RIDER})),)
    )
    narrowed = green_terms(base(), "energy-saving-kitchen", {Role.MERCHANT}, only_bikes)
    assert isinstance(narrowed, GreenRefused) and "eligible: e-bike)" in narrowed.reason


def test_the_discount_stops_at_the_floor_and_never_raises_a_rate() -> None:
    near = green_terms(base("0.07"), "e-bike", {Role.RIDER}, DEFAULT_GREEN_POLICY)
    assert isinstance(near, GreenApproved) and near.terms.annual_rate == Decimal("0.06")  # floor, not 5 %
    under = green_terms(base("0.05"), "e-bike", {Role.RIDER}, DEFAULT_GREEN_POLICY)
    assert isinstance(under, GreenApproved) and under.terms.annual_rate == Decimal("0.05")
    with pytest.raises(InputError) as caught:
        GreenPolicy(Decimal("-0.01"), Decimal("0.06"))
    assert caught.value.field == "discount_annual"


@given(
    st.integers(min_value=0, max_value=360_000),
    st.integers(min_value=0, max_value=100_000),
    st.integers(min_value=0, max_value=200_000),
)
def test_the_green_rate_is_between_the_floor_and_the_base(
    base_ppm: int, discount_ppm: int, floor_ppm: int
) -> None:
    policy = GreenPolicy(Decimal(discount_ppm) / 1_000_000, Decimal(floor_ppm) / 1_000_000)
    rate = Decimal(base_ppm) / 1_000_000
    outcome = green_terms(base(str(rate)), "e-bike", {Role.RIDER}, policy)
    assert isinstance(outcome, GreenApproved)
    assert outcome.terms.annual_rate <= rate
    assert outcome.terms.annual_rate >= min(rate, policy.rate_floor_annual)
    assert rate - outcome.terms.annual_rate <= policy.discount_annual
