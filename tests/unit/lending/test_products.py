"""BNPL monthly pay and the revolving line's daily interest."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fengkong.compliance.caps import default_cap_policy
from fengkong.errors import InputError
from fengkong.lending.products import (
    BillConversion,
    BnplCycle,
    ConversionRefused,
    convert_bill,
    daily_interest,
)
from fengkong.money import Money

CYCLE = BnplCycle()


@pytest.mark.parametrize(
    ("purchase", "days"),
    [
        (date(2026, 1, 1), 38),  # a 31-day month: up to 38 days interest-free (DOMAIN.md)
        (date(2026, 4, 1), 37),  # a 30-day month
        (date(2026, 2, 1), 35),  # February
        (date(2026, 1, 31), 8),  # the last day of the month
        (date(2026, 12, 15), 24),  # across the year end: billed 1 January, due 8 January
    ],
)
def test_interest_free_days_follow_the_statement_and_due_day(purchase: date, days: int) -> None:
    assert CYCLE.interest_free_days(purchase) == days


def test_a_bad_cycle_names_its_field() -> None:
    with pytest.raises(InputError, match="due_day"):
        BnplCycle(statement_day=10, due_day=5)


def test_a_bill_converts_into_installments_that_add_up_and_whose_rate_is_checked() -> None:
    policy = default_cap_policy()
    outcome = convert_bill(Money(100_000), date(2026, 3, 8), 6, Decimal("0.006"), policy)
    assert isinstance(outcome, BillConversion)
    lines = outcome.schedule.installments
    assert sum(line.principal.amount_minor for line in lines) == 100_000
    assert [line.fee.amount_minor for line in lines] == [600] * 6 and outcome.fee_total == 3_600
    assert [line.due for line in lines][:2] == [date(2026, 4, 8), date(2026, 5, 8)]
    # 0.6 % a month on the original bill is about 12.2 % a year by IRR, within the 24 % cap
    assert Decimal("12") < outcome.check.rate_pct < Decimal("12.5") and outcome.check.allowed
    refused = convert_bill(Money(100_000), date(2026, 3, 8), 3, Decimal("0.02"), policy)
    assert isinstance(refused, ConversionRefused) and not refused.check.allowed
    with pytest.raises(InputError, match="installments"):
        convert_bill(Money(100_000), date(2026, 3, 8), 5, Decimal("0.006"), policy)


@given(
    st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=120),
    st.integers(min_value=0, max_value=1_000_000),
    st.integers(min_value=1, max_value=119),
)
def test_daily_interest_is_exact_and_resumes_with_its_carry(
    balances: list[int], rate_ppm: int, cut: int
) -> None:
    rate = Decimal(rate_ppm) / Decimal(1_000_000)
    array = np.array(balances, dtype=np.int64)
    charged, _ = daily_interest(array, rate)
    exact = Fraction(sum(balances)) * Fraction(rate) / 365
    assert int(charged.sum()) == int(exact)  # the floor of the exact total, never a fen more or less
    cut = min(cut, len(balances))
    first, carry = daily_interest(array[:cut], rate)
    rest, _ = (
        daily_interest(array[cut:], rate, carry) if cut < len(balances) else (np.zeros(0, np.int64), carry)
    )
    assert np.concatenate([first, rest]).tolist() == charged.tolist()


def test_daily_interest_over_many_lines_at_once() -> None:
    balances = np.array([[100_000] * 30, [0] * 30, [50_000] * 15 + [0] * 15], dtype=np.int64)
    charged, carry = daily_interest(balances, Decimal("0.1825"))
    # 1,000.00 at 18.25 % a year is 0.50 a day
    assert charged[0].tolist() == [50] * 30 and charged[1].sum() == 0 and charged[2].sum() == 375
    assert carry.tolist() == [0, 0, 0]
