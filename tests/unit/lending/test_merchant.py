"""Merchant loans: term loans checked against the cap, and revenue-based repayment exact to the fen."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fengkong.compliance.caps import default_cap_policy
from fengkong.domain.products import ProductKind
from fengkong.errors import InputError
from fengkong.lending.merchant import (
    MerchantLoanRefused,
    MerchantTermLoan,
    RemittanceKind,
    RevenueSharePriced,
    RevenueShareRefused,
    RevenueShareTerms,
    merchant_term_loan,
    price_revenue_share,
    revenue_share_remittances,
)
from fengkong.money import Money

POLICY = default_cap_policy()
START = date(2026, 1, 1)


def terms(total: int = 1_080_000, **changes: object) -> RevenueShareTerms:
    values: dict[str, object] = {
        "principal": Money(1_000_000),  # 10,000 yuan
        "total_repayable": Money(total),
        "share_bp": 1_000,  # 10 % of each day's sales
        "minimum_per_period": Money(100_000),  # at least 1,000 yuan every 30 days
        "period_days": 30,
        "term_days_max": 180,
    }
    values.update(changes)
    return RevenueShareTerms(**values)  # type: ignore[arg-type]


def test_steady_sales_repay_the_total_exactly() -> None:
    # 800 yuan of sales a day: 80 yuan remitted a day, 1,080,000 / 8,000 = 135 days
    run = revenue_share_remittances(terms(), START, [80_000] * 180)
    assert run.completed_on == date(2026, 5, 16)  # day 135
    assert len(run.remittances) == 135 and {item.amount for item in run.remittances} == {8_000}
    assert run.repaid == 1_080_000 and run.remaining == 0
    assert sum(item.principal for item in run.remittances) == 1_000_000
    assert sum(item.charge for item in run.remittances) == 80_000
    # the first day: principal ⌊8,000 x 1,000,000 / 1,080,000⌋ = 7,407, charge 593
    assert (run.remittances[0].principal, run.remittances[0].charge) == (7_407, 593)


def test_a_slow_month_is_topped_up_to_the_minimum() -> None:
    sales = [80_000] * 30 + [0] * 30 + [80_000] * 120
    run = revenue_share_remittances(terms(), START, sales)
    top_ups = [
        (item.day, item.amount) for item in run.remittances if item.kind is RemittanceKind.MINIMUM_TOP_UP
    ]
    assert top_ups == [(60, 100_000)]  # nothing was remitted in days 31-60
    assert run.repaid == 1_080_000 and sum(item.principal for item in run.remittances) == 1_000_000


def test_what_is_left_at_the_term_cap_falls_due_that_day() -> None:
    # 100 yuan of sales a day: 10 yuan a day, 300 yuan a period, topped up by 700 yuan to the minimum
    run = revenue_share_remittances(terms(), START, [10_000] * 180)
    top_ups = [item.amount for item in run.remittances if item.kind is RemittanceKind.MINIMUM_TOP_UP]
    assert top_ups == [70_000] * 6
    last = run.remittances[-1]
    assert (last.day, last.kind, last.amount) == (180, RemittanceKind.TERM_END, 1_080_000 - 6 * 100_000)
    assert run.completed_on == date(2026, 6, 30)
    assert sum(item.principal for item in run.remittances) == 1_000_000


def test_its_rate_is_the_dated_irr_on_the_expected_sales_and_the_cap_binds() -> None:
    priced = price_revenue_share(terms(1_030_000), START, [80_000] * 180, POLICY)
    assert isinstance(priced, RevenueSharePriced)
    assert priced.rate.method == "irr-dated-actual/365" and priced.check.product == ProductKind.MERCHANT.value
    assert Decimal(18) < priced.check.rate_pct < Decimal("18.5")
    # the rate is the one that makes the dated flows worth nothing today
    rate = priced.rate.effective_annual_rate_pct
    assert rate is not None
    with localcontext() as context:
        context.prec = 40
        growth = 1 + rate / 100
        value = sum(
            Decimal(flow.amount.amount_minor) / growth ** (Decimal((flow.on - START).days) / 365)
            for flow in priced.run.cash_flows()
        )
    assert abs(value) < Decimal("0.001")
    # 8 % of charge over 135 days is about 52 % a year: refused, as a value
    refused = price_revenue_share(terms(), START, [80_000] * 180, POLICY)
    assert isinstance(refused, RevenueShareRefused) and not refused.check.allowed
    assert Decimal(51) < refused.check.rate_pct < Decimal(53)
    with pytest.raises(InputError) as caught:
        price_revenue_share(terms(), START, [80_000] * 100, POLICY)  # neither repaid nor to the term's end
    assert caught.value.field == "expected_daily_sales"


def test_term_loans_reuse_the_schedule_and_the_cap() -> None:
    loan = merchant_term_loan(Money(2_000_000), Decimal("0.15"), 6, START, POLICY, rounding="ROUND_HALF_EVEN")
    assert isinstance(loan, MerchantTermLoan)
    assert loan.terms.product is ProductKind.MERCHANT
    assert sum(line.principal.amount_minor for line in loan.schedule.installments) == 2_000_000
    assert loan.check.allowed
    refused = merchant_term_loan(
        Money(2_000_000), Decimal("0.25"), 6, START, POLICY, rounding="ROUND_HALF_EVEN"
    )
    assert isinstance(refused, MerchantLoanRefused) and refused.check.rate_pct > refused.check.cap_pct


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"total_repayable": Money(999_999)}, "total_repayable"),
        ({"share_bp": 0}, "share_bp"),
        ({"period_days": 0}, "period_days"),
        ({"term_days_max": 731}, "term_days_max"),
        ({"period_days": 200}, "period_days"),
        ({"minimum_per_period": Money(-1)}, "minimum_per_period"),
    ],
)
def test_bad_terms_name_the_field(changes: dict[str, object], field: str) -> None:
    with pytest.raises(InputError) as caught:
        terms(**changes)
    assert caught.value.field == field


@given(
    st.integers(min_value=1, max_value=10**9),
    st.integers(min_value=0, max_value=10**8),
    st.integers(min_value=1, max_value=10_000),
    st.integers(min_value=0, max_value=10**8),
    st.integers(min_value=1, max_value=60),
    st.integers(min_value=60, max_value=400),
    st.lists(st.integers(min_value=0, max_value=10**8), min_size=1, max_size=400),
)
def test_remittances_never_pass_the_total_and_split_exactly(
    principal: int, charge: int, share_bp: int, minimum: int, period: int, term: int, sales: list[int]
) -> None:
    loan = RevenueShareTerms(
        Money(principal), Money(principal + charge), share_bp, Money(minimum), period, term
    )
    run = revenue_share_remittances(loan, START, sales[:term])
    assert sum(item.amount for item in run.remittances) == run.repaid <= principal + charge
    assert all(item.amount > 0 and item.principal + item.charge == item.amount for item in run.remittances)
    assert all(item.principal >= 0 and item.charge >= 0 for item in run.remittances)
    principal_paid = sum(item.principal for item in run.remittances)
    assert principal_paid == run.repaid * principal // (principal + charge)
    if len(sales) >= term:  # the sales cover the term: the loan ends by the term's last day
        assert run.completed_on is not None and (run.completed_on - START).days <= term
    if run.completed_on is not None:
        assert principal_paid == principal and run.remaining == 0
    # every full period collected at least its minimum, or what was left
    left = principal + charge
    for end in range(period, len(sales[:term]) + 1, period):
        collected = sum(item.amount for item in run.remittances if end - period < item.day <= end)
        assert collected >= min(minimum, left)
        left -= collected
