"""Invariants of the annualised rate over random regular installment loans (tests/strategies.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy_financial as npf
from hypothesis import given, settings
from hypothesis import strategies as st

from fengkong.compliance.apr import (
    PeriodFlow,
    add_months,
    annualised_rate,
    dated_rate,
    net_present_value_minor,
    periodic_rate,
)
from fengkong.domain.products import CashFlow
from fengkong.money import Money
from tests.strategies import installment_loans

Loan = tuple[int, int, int, int]
start_dates = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))


def flows_of(loan: Loan, *, extra_payment_fen: int = 0, fee_fen: int | None = None) -> list[PeriodFlow]:
    principal, payment, count, fee = loan
    fee = fee if fee_fen is None else fee_fen
    flows = [PeriodFlow(0, Money(-principal))]
    if fee:
        flows.append(PeriodFlow(0, Money(fee)))  # the upfront fee: its own flow, never netted
    flows.extend(PeriodFlow(number, Money(payment + extra_payment_fen)) for number in range(1, count + 1))
    return flows


@given(installment_loans())
def test_the_irr_makes_the_npv_zero_to_within_a_fen(loan: Loan) -> None:
    flows = flows_of(loan)
    rate = periodic_rate(flows)
    assert rate.periodic_irr is not None
    assert abs(net_present_value_minor(flows, rate.periodic_irr)) < 1


@given(installment_loans())
def test_agrees_with_numpy_financial(loan: Loan) -> None:
    flows = flows_of(loan)
    by_period = [0.0] * (loan[2] + 1)
    for flow in flows:
        by_period[flow.period] += flow.amount.amount_minor
    rate = periodic_rate(flows)
    assert rate.periodic_irr is not None
    # numpy-financial solves in float64 by polynomial roots: agree to 1e-9 per period
    assert abs(float(rate.periodic_irr) - float(npf.irr(by_period))) < 1e-9


@given(installment_loans(), st.integers(min_value=1, max_value=100_000))
def test_a_higher_payment_never_lowers_the_rate(loan: Loan, extra_fen: int) -> None:
    lower = periodic_rate(flows_of(loan))
    higher = periodic_rate(flows_of(loan, extra_payment_fen=extra_fen))
    assert lower.periodic_irr is not None and higher.periodic_irr is not None
    assert higher.periodic_irr > lower.periodic_irr
    assert higher.annual_rate_pct >= lower.annual_rate_pct


@given(installment_loans(), st.integers(min_value=1, max_value=10_000_00))
def test_an_upfront_fee_always_raises_the_rate(loan: Loan, fee_fen: int) -> None:
    principal = loan[0]
    fee = min(fee_fen, principal // 2)
    without = periodic_rate(flows_of(loan, fee_fen=0))
    with_fee = periodic_rate(flows_of(loan, fee_fen=max(fee, 1)))
    assert without.periodic_irr is not None and with_fee.periodic_irr is not None
    assert with_fee.periodic_irr > without.periodic_irr
    assert with_fee.annual_rate_pct >= without.annual_rate_pct


@settings(max_examples=60)
@given(installment_loans(), start_dates)
def test_dated_and_periodic_rates_agree_up_to_the_length_of_a_month(loan: Loan, start: date) -> None:
    """What is true, not "equal": on exactly monthly dates the periodic method counts every month as
    1/12 year, actual/365 counts its 28 to 31 days. Each month lasting between 28 and 31 days, the monthly
    IRR ``i`` lies between the dated rate over 28 days and over 31 days:
    ``(1+r)^(28/365) - 1 <= i <= (1+r)^(31/365) - 1`` (to 1e-15, the reported precisions)."""
    principal, payment, count, fee = loan
    flows = [CashFlow(start, Money(-principal))]
    if fee:
        flows.append(CashFlow(start, Money(fee)))
    flows.extend(CashFlow(add_months(start, number), Money(payment)) for number in range(1, count + 1))
    periodic = annualised_rate(flows, fees=())
    dated = dated_rate(flows)
    assert periodic.method == "irr-periodic" and dated.method == "irr-dated-actual/365"
    assert periodic.periodic_irr is not None
    annual = 1 + dated.annual_rate_pct / 100
    tolerance = Decimal("1e-15")
    assert annual ** (Decimal(28) / 365) - 1 - tolerance <= periodic.periodic_irr
    assert periodic.periodic_irr <= annual ** (Decimal(31) / 365) - 1 + tolerance


def test_dated_and_periodic_effective_rates_are_close_over_a_whole_year() -> None:
    """Over a year of monthly dates (365 days) the two effective rates differ by far less than over a month:
    10,000 yuan at 888.49 for 12 months from 2026-01-15: 12.683 % periodic (compounded), 12.739 % dated."""
    start = date(2026, 1, 15)
    flows = [CashFlow(start, Money(-1_000_000))] + [
        CashFlow(add_months(start, number), Money(88_849)) for number in range(1, 13)
    ]
    periodic = annualised_rate(flows, fees=())
    dated = dated_rate(flows)
    assert periodic.effective_annual_rate_pct is not None
    assert abs(periodic.effective_annual_rate_pct - dated.annual_rate_pct) < Decimal("0.1")
