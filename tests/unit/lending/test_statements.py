"""BNPL monthly statements, bill conversion at the cap's price point, and installment-loan statements."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fengkong.compliance.caps import default_cap_policy
from fengkong.domain.products import DayCount, ProductKind, ProductTerms, RepaymentMethod
from fengkong.errors import InputError
from fengkong.lending.products import BillConversion, BnplCycle, ConversionRefused
from fengkong.lending.schedule import build_schedule
from fengkong.lending.servicing import InstallmentState
from fengkong.lending.statements import (
    MinimumDuePolicy,
    Purchase,
    apply_conversion,
    bnpl_statement,
    convert_statement,
    loan_statement,
)
from fengkong.money import Money

CYCLE = BnplCycle()  # statement on the 1st, due on the 8th
POLICY = default_cap_policy()


def purchases() -> list[Purchase]:
    return [
        Purchase("PU-1", date(2026, 1, 31), Money(9_900)),  # the previous cycle: not on this bill
        Purchase("PU-2", date(2026, 2, 1), Money(100_000)),  # the day after the previous statement
        Purchase("PU-3", date(2026, 2, 14), Money(23_456)),
        Purchase("PU-4", date(2026, 2, 28), Money(2_000)),  # the last day of the cycle
        Purchase("PU-5", date(2026, 3, 1), Money(5_000)),  # on the statement day: the next bill
    ]


def test_a_statement_bills_the_cycle_and_states_each_interest_free_period() -> None:
    statement = bnpl_statement(CYCLE, date(2026, 3, 1), purchases(), previous_unpaid=Money(0))
    assert (statement.cycle_start, statement.due_on) == (date(2026, 2, 1), date(2026, 3, 8))
    assert [(line.purchase_id, line.interest_free_days) for line in statement.purchases] == [
        ("PU-2", 35), ("PU-3", 22), ("PU-4", 8),  # February: 35 days from the 1st, 8 from the last day
    ]  # fmt: skip
    assert statement.new_purchases == Money(125_456) == statement.total_due
    # minimum: 10 % of 125,456 = 12,545.6, rounded up to 12,546 fen
    assert statement.minimum_due == Money(12_546)
    january = bnpl_statement(CYCLE, date(2026, 2, 1), [Purchase("PU-0", date(2026, 1, 1), Money(100))],
                             previous_unpaid=Money(0))  # fmt: skip
    assert january.purchases[0].interest_free_days == 38  # the 1st of a 31-day month (DOMAIN.md)
    assert january.minimum_due == Money(100)  # never more than the total, though under the floor


def test_an_unpaid_bill_is_carried_with_overdue_interest_held_to_the_cap() -> None:
    # 500 yuan unpaid since 8 February: 21 days to 1 March at 0.05 % a day (18.25 % a year):
    # 50,000 x 0.1825 x 21 / 365 = 525 fen
    statement = bnpl_statement(CYCLE, date(2026, 3, 1), purchases(), previous_unpaid=Money(50_000),
                               overdue_rate_annual=Decimal("0.1825"), cap_policy=POLICY)  # fmt: skip
    assert statement.overdue_interest == Money(525)
    assert statement.total_due == Money(125_456 + 50_000 + 525)
    assert statement.minimum_due == Money(12_546 + 50_000 + 525)  # what is overdue is owed in full
    # 0.1 % a day (36.5 %) is above the 24 % cap in force: charged at 24 %, 50,000 x 0.24 x 21 / 365 = 690.41
    capped = bnpl_statement(CYCLE, date(2026, 3, 1), purchases(), previous_unpaid=Money(50_000),
                            overdue_rate_annual=Decimal("0.365"), cap_policy=POLICY)  # fmt: skip
    assert capped.overdue_interest == Money(690)
    assert capped.overdue_rate_check is not None and not capped.overdue_rate_check.allowed
    with pytest.raises(InputError) as caught:
        bnpl_statement(CYCLE, date(2026, 3, 1), purchases(), previous_unpaid=Money(50_000))
    assert caught.value.field == "overdue_rate_annual"


def test_conversion_is_priced_by_compliance_and_refused_above_the_cap() -> None:
    statement = bnpl_statement(CYCLE, date(2026, 3, 1), purchases(), previous_unpaid=Money(0))
    # 12 installments: a monthly fee of 1.12 % of the bill is 23.95 % a year by IRR, within the 24 % cap;
    # 1.13 % is 24.15 %, above it, and is refused — this is the price point where the cap binds
    allowed = convert_statement(statement, 12, Decimal("0.0112"), POLICY)
    assert isinstance(allowed, BillConversion)
    assert Decimal("23.9") < allowed.check.rate_pct <= Decimal("24") == allowed.check.cap_pct
    refused = convert_statement(statement, 12, Decimal("0.0113"), POLICY)
    assert isinstance(refused, ConversionRefused)
    assert Decimal("24") < refused.check.rate_pct < Decimal("24.2") and not refused.check.allowed
    assert "above the cap" in refused.reason
    # the fee each month is 1.12 % of 125,456 = 1,405.1 -> 1,405 fen; principal split to add up
    assert [line.fee.amount_minor for line in allowed.schedule.installments] == [1_405] * 12
    assert sum(line.principal.amount_minor for line in allowed.schedule.installments) == 125_456
    after = apply_conversion(statement, allowed)
    assert after.total_due == Money(0) and after.minimum_due == Money(0) and after.converted == Money(125_456)
    # the next bill carries the first installment, due in full
    april = bnpl_statement(CYCLE, date(2026, 4, 1), purchases(), previous_unpaid=Money(0),
                           conversions=[allowed.schedule])  # fmt: skip
    assert [(line.number, line.principal + line.fee) for line in april.installments_due] == [
        (1, allowed.schedule.installments[0].total)
    ]
    assert april.new_purchases == Money(5_000)  # PU-5, bought on the March statement day
    assert april.total_due == Money(5_000) + allowed.schedule.installments[0].total
    assert april.minimum_due == Money(500) + allowed.schedule.installments[0].total


def test_a_partial_conversion_and_refusals_name_the_field() -> None:
    statement = bnpl_statement(CYCLE, date(2026, 3, 1), purchases(), previous_unpaid=Money(0))
    part = convert_statement(statement, 6, Decimal("0.006"), POLICY, Money(100_000))
    assert isinstance(part, BillConversion)
    after = apply_conversion(statement, part)
    assert after.total_due == Money(25_456) and after.convertible == Money(25_456)
    assert after.minimum_due == Money(2_546)
    with pytest.raises(InputError) as caught:
        convert_statement(after, 6, Decimal("0.006"), POLICY, Money(25_457))
    assert caught.value.field == "amount"
    with pytest.raises(InputError) as caught:
        bnpl_statement(CYCLE, date(2026, 3, 2), purchases(), previous_unpaid=Money(0))
    assert caught.value.field == "statement_on"
    with pytest.raises(InputError) as caught:
        MinimumDuePolicy(share_bp=10_001)
    assert caught.value.field == "share_bp"


@given(
    st.lists(st.tuples(st.integers(0, 70), st.integers(1, 10**7)), max_size=30),
    st.integers(0, 10**7),
    st.integers(0, 10_000),
    st.integers(0, 100_000),
)
def test_the_minimum_never_exceeds_the_total_and_covers_what_is_owed_in_full(
    raw: list[tuple[int, int]], unpaid: int, share_bp: int, floor: int
) -> None:
    first = date(2026, 1, 20)
    bought = [
        Purchase(f"P{i}", first + timedelta(days=offset), Money(amount))
        for i, (offset, amount) in enumerate(raw)
    ]
    minimum = MinimumDuePolicy(share_bp, floor)
    statement = bnpl_statement(
        CYCLE, date(2026, 3, 1), bought, previous_unpaid=Money(unpaid),
        overdue_rate_annual=Decimal("0.1825"), cap_policy=POLICY, minimum=minimum,
    )  # fmt: skip
    billed = [
        amount
        for offset, amount in raw
        if date(2026, 2, 1) <= first + timedelta(days=offset) < date(2026, 3, 1)
    ]
    assert statement.new_purchases == Money(sum(billed))
    assert (
        statement.total_due
        == statement.new_purchases + statement.previous_unpaid + statement.overdue_interest
    )
    owed = statement.previous_unpaid + statement.overdue_interest
    assert statement.minimum_due <= statement.total_due
    assert statement.minimum_due >= min(owed, statement.total_due)
    assert all(line.interest_free_days <= 38 for line in statement.purchases)


def test_an_installment_loan_statement_breaks_down_the_amount_due() -> None:
    terms = ProductTerms(ProductKind.INSTALLMENT, Decimal("0.12"), RepaymentMethod.EQUAL_INSTALLMENT,
                         DayCount.THIRTY_360, installments=12)  # fmt: skip
    schedule = build_schedule(terms, Money(1_200_000), date(2026, 1, 15), rounding="ROUND_HALF_EVEN")
    states = [
        InstallmentState(line.number, line.due, line.principal.amount_minor, line.interest.amount_minor, 300)
        for line in schedule.installments
    ]
    states[0] = replace(states[0], paid_principal=states[0].principal, paid_interest=states[0].interest,
                        paid_fee=300)  # fmt: skip
    states[1] = replace(states[1], paid_interest=states[1].interest)  # principal and fee of month 2 unpaid
    statement = loan_statement("LN-S", states, date(2026, 4, 1), penalty_fen=777)
    # installment 2 (due 15 March) is overdue: 95,565 principal and the 300 fee; installment 3 is next
    assert statement.overdue_numbers == (2,) and statement.current_number == 3
    assert (statement.overdue.principal, statement.overdue.interest, statement.overdue.fee) == (
        95_565,
        0,
        300,
    )
    assert (statement.current.principal, statement.current.interest, statement.current.fee) == (
        96_521,
        10_098,
        300,
    )
    assert statement.amount_due == 95_565 + 300 + 96_521 + 10_098 + 300 + 777
    assert statement.principal_outstanding == 1_200_000 - 94_619
    assert statement.principal_after == 913_295  # the schedule's balance after installment 3
    done = loan_statement("LN-S", [replace(s, paid_principal=s.principal, paid_interest=s.interest,
                                           paid_fee=s.fee) for s in states], date(2027, 2, 1))  # fmt: skip
    assert done.amount_due == 0 and done.current_number is None and done.principal_after == 0
