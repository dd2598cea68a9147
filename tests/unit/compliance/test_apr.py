"""The annualised rate: worked examples, method choice, fees as their own flows, and every bad input."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy_financial as npf
import pytest

from fengkong import bounds
from fengkong.compliance.apr import (
    METHOD_DATED,
    METHOD_PERIODIC,
    PeriodFlow,
    add_months,
    annualised_rate,
    dated_rate,
    loan_cash_flows,
    net_present_value_minor,
    periodic_rate,
    regular_periods,
    verify_offer,
)
from fengkong.domain.products import (
    AnnualisedRate,
    CashFlow,
    DayCount,
    Fee,
    Frequency,
    Installment,
    Offer,
    ProductKind,
    ProductTerms,
    RepaymentMethod,
    Schedule,
)
from fengkong.errors import InputError
from fengkong.money import Money

START = date(2026, 1, 15)


def cny(text: str) -> Money:
    return Money.parse(text)


def annuity_flows(principal: str, payment: str, count: int, fee: str | None = None) -> list[PeriodFlow]:
    flows = [PeriodFlow(0, -cny(principal))]
    if fee is not None:
        flows.append(PeriodFlow(0, cny(fee)))
    flows.extend(PeriodFlow(number, cny(payment)) for number in range(1, count + 1))
    return flows


def monthly_schedule(principal_fen: int, payment_fen: int, count: int, start: date = START) -> Schedule:
    """An equal-installment schedule at 1 % a month, the last line absorbing the rounding (Fineract style)."""
    balance = principal_fen
    lines = []
    for number in range(1, count + 1):
        interest = (balance + 50) // 100  # 1 % a month, half up
        principal_part = balance if number == count else payment_fen - interest
        balance -= principal_part
        lines.append(
            Installment(
                number,
                add_months(start, number),
                Money(principal_part),
                Money(interest),
                Money(0),
                Money(balance),
            )
        )
    return Schedule(Money(principal_fen), start, tuple(lines))


# -- worked examples -----------------------------------------------------------------------------------------


def test_pmt_one_percent_twelve_months_is_twelve_percent_a_year() -> None:
    # PMT(1 %, 12, 10000) = 888.4879 → 888.49; rounding up the payment adds 0.0005 percentage points.
    assert Decimal(str(round(-npf.pmt(0.01, 12, 10000), 2))) == Decimal("888.49")
    rate = periodic_rate(annuity_flows("10000", "888.49", 12))
    assert rate.method == METHOD_PERIODIC
    assert rate.annual_rate_pct.quantize(Decimal("0.01")) == Decimal("12.00")
    assert rate.periodic_irr is not None
    assert abs(rate.periodic_irr - Decimal("0.01")) < Decimal("0.000001")
    assert rate.effective_annual_rate_pct is not None
    assert rate.effective_annual_rate_pct.quantize(Decimal("0.01")) == Decimal("12.68")  # 1.01**12 - 1


def test_exact_annuity_gives_the_exact_rate() -> None:
    # 1,000 fen a period for 2 periods on a principal of 1,000 / 1.1 + 1,000 / 1.21: build it the other way:
    # a loan of 17,355 fen repaid 10,000 fen twice has i with 17,355 = 10,000/(1+i) + 10,000/(1+i)^2.
    rate = periodic_rate(
        [PeriodFlow(0, Money(-17_355)), PeriodFlow(1, Money(10_000)), PeriodFlow(2, Money(10_000))]
    )
    assert rate.periodic_irr is not None
    assert abs(rate.periodic_irr - Decimal("0.1")) < Decimal("0.0001")
    flows = [PeriodFlow(0, Money(-17_355)), PeriodFlow(1, Money(10_000)), PeriodFlow(2, Money(10_000))]
    assert abs(net_present_value_minor(flows, rate.periodic_irr)) < Decimal("1e-12")


def test_zero_interest_loan_is_zero_percent() -> None:
    rate = periodic_rate(annuity_flows("1200", "100", 12))
    assert rate.annual_rate_pct == 0
    assert rate.effective_annual_rate_pct == 0


def test_an_interest_free_bnpl_with_a_fee_is_not_free() -> None:
    # A 3,000-yuan bill converted into 3 monthly payments with a 1 % fee (30 yuan, 10 with each payment):
    # the fee looks like 1 %, the annualised rate is about 6 %.
    flows = [PeriodFlow(0, cny("-3000"))] + [PeriodFlow(number, cny("1010")) for number in (1, 2, 3)]
    rate = periodic_rate(flows)
    expected = Decimal(str(npf.irr([-3000, 1010, 1010, 1010]) * 12 * 100))
    assert abs(rate.annual_rate_pct - expected) < Decimal("1e-9")
    assert Decimal("5.9") < rate.annual_rate_pct < Decimal("6.0")


@pytest.mark.parametrize(
    ("principal", "payment", "count", "fee"),
    [
        ("10000", "888.49", 12, None),
        ("10000", "888.49", 12, "100"),
        ("5000", "230.12", 24, "50"),
        ("300000", "9965.33", 36, "3000"),
        ("1000", "1010", 1, None),
        ("800", "20", 60, "8"),
    ],
)
def test_agrees_with_numpy_financial(principal: str, payment: str, count: int, fee: str | None) -> None:
    flows = annuity_flows(principal, payment, count, fee)
    reference = npf.irr([float(flow.amount.to_decimal()) for flow in _by_period(flows)])
    rate = periodic_rate(flows)
    assert rate.periodic_irr is not None
    assert abs(rate.periodic_irr - Decimal(str(reference))) < Decimal("1e-10")


def _by_period(flows: list[PeriodFlow]) -> list[PeriodFlow]:
    totals: dict[int, int] = {}
    for flow in flows:
        totals[flow.period] = totals.get(flow.period, 0) + flow.amount.amount_minor
    return [PeriodFlow(period, Money(totals.get(period, 0))) for period in range(max(totals) + 1)]


def test_agrees_with_numpy_financial_when_flows_change_sign_twice() -> None:
    # A line drawn, repaid, drawn again and repaid: two sign changes, one rate in the bounds.
    amounts = ["-100", "101", "-100", "102"]
    flows = [PeriodFlow(period, cny(amount)) for period, amount in enumerate(amounts)]
    rate = periodic_rate(flows)
    assert rate.periodic_irr is not None
    assert abs(rate.periodic_irr - Decimal(str(npf.irr([float(a) for a in amounts])))) < Decimal("1e-10")


# -- which method --------------------------------------------------------------------------------------------


def test_monthly_dates_get_the_periodic_method() -> None:
    flows = [CashFlow(START, cny("-10000"))] + [
        CashFlow(add_months(START, k), cny("888.49")) for k in range(1, 13)
    ]
    rate = annualised_rate(flows, fees=())
    assert rate.method == METHOD_PERIODIC
    assert rate == periodic_rate(annuity_flows("10000", "888.49", 12))


def test_month_ends_clamp_and_stay_regular() -> None:
    start = date(2026, 1, 31)
    assert [add_months(start, k) for k in range(4)] == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
    ]
    assert regular_periods([add_months(start, k) for k in range(13)], Frequency.MONTHLY) == tuple(range(13))
    assert add_months(date(2027, 12, 15), 2) == date(2028, 2, 15)


def test_a_bnpl_first_period_is_irregular_and_gets_the_dated_method() -> None:
    # Bought on 2026-01-01, billed 2026-02-01, repaid in three installments from the due day 2026-02-08.
    flows = [
        CashFlow(date(2026, 1, 1), cny("-3000")),
        CashFlow(date(2026, 2, 8), cny("1010")),
        CashFlow(date(2026, 3, 8), cny("1010")),
        CashFlow(date(2026, 4, 8), cny("1010")),
    ]
    assert regular_periods([flow.on for flow in flows], Frequency.MONTHLY) is None
    rate = annualised_rate(flows, fees=())
    assert rate.method == METHOD_DATED == "irr-dated-actual/365"
    assert rate.annual_rate_pct == rate.effective_annual_rate_pct
    days = [(flow.on - flows[0].on).days for flow in flows]
    npv = sum(
        float(flow.amount.to_decimal()) * (1 + float(rate.annual_rate_pct) / 100) ** (-day / 365)
        for flow, day in zip(flows, days, strict=True)
    )
    assert abs(npv) < 1e-6
    assert rate.periodic_irr is not None
    # the daily rate (20 places) compounds to the annual rate (12 places of a percent)
    assert abs((1 + rate.periodic_irr) ** 365 - 1 - rate.annual_rate_pct / 100) < Decimal("1e-13")


def test_dated_rate_of_a_one_year_bullet_is_the_simple_yield() -> None:
    flows = [CashFlow(date(2025, 3, 1), cny("-1000")), CashFlow(date(2026, 3, 1), cny("1100"))]
    assert dated_rate(flows).annual_rate_pct == Decimal("10.000000000000")


def test_weekly_frequency_is_periodic_with_52_periods() -> None:
    flows = [CashFlow(START, cny("-520"))] + [
        CashFlow(date.fromordinal(START.toordinal() + 7 * week), cny("10.50")) for week in range(1, 53)
    ]
    rate = annualised_rate(flows, fees=(), frequency=Frequency.WEEKLY)
    assert rate.method == METHOD_PERIODIC
    assert rate.periodic_irr is not None
    assert rate.annual_rate_pct == (rate.periodic_irr * 52 * 100).quantize(Decimal("1e-12"))


# -- fees are their own cash flows ---------------------------------------------------------------------------


def test_schedule_with_fees_lists_the_fee_as_its_own_flow_and_pays_out_the_full_principal() -> None:
    schedule = monthly_schedule(1_000_000, 88_849, 12)
    fee = Fee("service", cny("100"), START)
    flows = loan_cash_flows(schedule, fees=(fee,))
    assert flows[0] == CashFlow(START, Money(-1_000_000))
    assert CashFlow(START, Money(10_000)) in flows
    assert len(flows) == 14
    with_fee = annualised_rate(schedule, fees=(fee,))
    without = annualised_rate(schedule, fees=())
    assert with_fee.annual_rate_pct > without.annual_rate_pct
    # the same as netting for the IRR, but disclosed as two flows
    last = PeriodFlow(12, schedule.installments[-1].total)
    assert with_fee == periodic_rate([*annuity_flows("10000", "888.49", 11), PeriodFlow(0, cny("100")), last])


def test_guarantee_insurance_and_membership_fees_all_raise_the_rate() -> None:
    schedule = monthly_schedule(1_000_000, 88_849, 12)
    base = annualised_rate(schedule, fees=()).annual_rate_pct
    fees = (
        Fee("guarantee", cny("30"), START),
        Fee("insurance", cny("12"), add_months(START, 6)),
        Fee("membership", cny("9.90"), add_months(START, 1)),
    )
    previous = base
    for count in range(1, len(fees) + 1):
        rate = annualised_rate(schedule, fees=fees[:count]).annual_rate_pct
        assert rate > previous
        previous = rate


# -- bad input -----------------------------------------------------------------------------------------------


def reason_and_field(error: pytest.ExceptionInfo[InputError]) -> tuple[str, str | None]:
    return error.value.reason, error.value.field


def test_missing_fees_are_rejected() -> None:
    with pytest.raises(InputError, match="missing") as error:
        annualised_rate(monthly_schedule(1_000_000, 88_849, 12), fees=None)
    assert error.value.field == "fees"


@pytest.mark.parametrize(
    ("fee", "field", "reason"),
    [
        (Fee("", cny("1"), START), "fees[0].name", "name"),
        (Fee("service", cny("0"), START), "fees[0].amount", "more than zero"),
        (Fee("rebate", cny("-5"), START), "fees[0].amount", "more than zero"),
        (Fee("service", Money(100, "USD"), START), "fees[0].amount", "USD"),
        (Fee("service", cny("1"), date(2025, 12, 31)), "fees[0].due", "outside the loan"),
        (Fee("service", cny("1"), date(2027, 12, 31)), "fees[0].due", "outside the loan"),
    ],
)
def test_bad_fees_are_rejected(fee: Fee, field: str, reason: str) -> None:
    with pytest.raises(InputError, match=reason) as error:
        annualised_rate(monthly_schedule(1_000_000, 88_849, 12), fees=(fee,))
    assert error.value.field == field


def test_no_sign_change_is_rejected() -> None:
    with pytest.raises(InputError, match="no sign change") as error:
        periodic_rate([PeriodFlow(0, cny("100")), PeriodFlow(1, cny("100"))])
    assert error.value.field == "cash_flows"
    with pytest.raises(InputError, match="no sign change"):
        periodic_rate([PeriodFlow(0, cny("-100")), PeriodFlow(1, cny("-100"))])


def test_zero_principal_is_rejected() -> None:
    with pytest.raises(InputError, match=r"no sign change|zero principal"):
        periodic_rate([PeriodFlow(0, Money(0))] + [PeriodFlow(k, cny("10")) for k in range(1, 4)])
    zero = Schedule(Money(0), START, ())
    with pytest.raises(InputError, match="zero principal") as error:
        annualised_rate(zero, fees=())
    assert error.value.field == "principal"


def test_flows_that_cancel_on_the_same_day_have_no_sign_change() -> None:
    with pytest.raises(InputError, match="no sign change"):
        annualised_rate([CashFlow(START, cny("-100")), CashFlow(START, cny("100"))], fees=())


def test_fewer_than_two_flows_are_rejected() -> None:
    with pytest.raises(InputError, match="at least two"):
        periodic_rate([PeriodFlow(0, cny("-100"))])
    with pytest.raises(InputError, match="no cash flows"):
        annualised_rate([], fees=())


def test_too_many_flows_are_rejected() -> None:
    count = bounds.irr_cash_flows_max + 1
    flows = [PeriodFlow(0, cny("-100000"))] + [PeriodFlow(k, cny("1")) for k in range(1, count)]
    with pytest.raises(InputError, match="too many cash flows") as error:
        periodic_rate(flows)
    assert error.value.field == "cash_flows"


def test_a_rate_beyond_the_bound_is_rejected() -> None:
    # 1 yuan lent, 1,000 yuan repaid a month later: 99,900 % a month.
    with pytest.raises(InputError, match="beyond the bounds") as error:
        periodic_rate([PeriodFlow(0, cny("-1")), PeriodFlow(1, cny("1000"))])
    assert error.value.field == "cash_flows"
    # and a rate below -99 % a year: 1,000 lent, 1 repaid after a year
    with pytest.raises(InputError, match="beyond the bounds"):
        dated_rate([CashFlow(date(2025, 1, 1), cny("-1000")), CashFlow(date(2026, 1, 1), cny("1"))])


def test_several_rates_are_rejected() -> None:
    # -100, +230, -132 has IRRs 10 % and 20 % a period (NPV = -(1.1 - x)(1.2 - x)·100 in x = 1+i).
    flows = [PeriodFlow(0, cny("-100")), PeriodFlow(1, cny("230")), PeriodFlow(2, cny("-132"))]
    with pytest.raises(InputError, match="not unique"):
        periodic_rate(flows)


def test_no_solution_is_rejected() -> None:
    # +100, -300, +300: the NPV (100 x² - 300 x + 300 in x = 1/(1+i)) is positive for every rate.
    flows = [PeriodFlow(0, cny("100")), PeriodFlow(1, cny("-300")), PeriodFlow(2, cny("300"))]
    with pytest.raises(InputError, match="no solution") as error:
        periodic_rate(flows)
    assert error.value.field == "cash_flows"


def test_absurd_amounts_and_spans_are_rejected() -> None:
    huge = Money(bounds.cash_flow_amount_fen_max + 1)
    with pytest.raises(InputError, match="cash_flow_amount_fen_max") as error:
        periodic_rate([PeriodFlow(0, -huge), PeriodFlow(1, huge)])
    assert error.value.field == "cash_flows[0].amount"
    far = date.fromordinal(START.toordinal() + bounds.irr_span_days_max + 1)
    with pytest.raises(InputError, match="span"):
        dated_rate([CashFlow(START, cny("-100")), CashFlow(far, cny("200"))])
    with pytest.raises(InputError, match="span"):
        periodic_rate([PeriodFlow(0, cny("-100")), PeriodFlow(12 * 101, cny("200"))])


def test_bad_periods_and_currencies_are_rejected() -> None:
    with pytest.raises(InputError, match="whole period") as error:
        periodic_rate([PeriodFlow(-1, cny("-100")), PeriodFlow(1, cny("200"))])
    assert error.value.field == "cash_flows[0].period"
    with pytest.raises(InputError, match="several currencies"):
        periodic_rate([PeriodFlow(0, cny("-100")), PeriodFlow(1, Money(20_000, "USD"))])


def test_a_schedule_without_installments_is_rejected() -> None:
    with pytest.raises(InputError, match="at least one installment"):
        annualised_rate(Schedule(Money(100), START, ()), fees=())


# -- offers --------------------------------------------------------------------------------------------------


def offer_with(stated: AnnualisedRate, fees: tuple[Fee, ...], schedule: Schedule | None) -> Offer:
    terms = ProductTerms(
        product=ProductKind.INSTALLMENT,
        annual_rate=Decimal("0.12"),
        method=RepaymentMethod.EQUAL_INSTALLMENT,
        day_count=DayCount.THIRTY_360,
        installments=12,
        fees=fees,
    )
    valid_from = datetime(2026, 1, 15, tzinfo=UTC)
    return Offer(
        "offer-1",
        "party-1",
        terms,
        Money(1_000_000),
        stated,
        valid_from,
        valid_from + timedelta(days=7),
        schedule=schedule,
    )


def test_an_offer_that_states_its_full_cost_passes() -> None:
    schedule = monthly_schedule(1_000_000, 88_849, 12)
    fees = (Fee("guarantee", cny("150"), START),)
    full = annualised_rate(schedule, fees=fees)
    assert verify_offer(offer_with(full, fees, schedule)) == full


def test_an_offer_whose_fees_are_missing_from_its_rate_is_rejected() -> None:
    schedule = monthly_schedule(1_000_000, 88_849, 12)
    fees = (Fee("guarantee", cny("150"), START),)
    interest_only = annualised_rate(schedule, fees=())
    with pytest.raises(InputError, match="fees are missing from the price") as error:
        verify_offer(offer_with(interest_only, fees, schedule))
    assert error.value.field == "annualised_rate"


def test_an_offer_stated_by_another_method_or_without_a_schedule_is_rejected() -> None:
    schedule = monthly_schedule(1_000_000, 88_849, 12)
    simple = AnnualisedRate(annual_rate_pct=Decimal("30"), method="simple")
    with pytest.raises(InputError, match="'simple' method"):
        verify_offer(offer_with(simple, (), schedule))
    with pytest.raises(InputError, match="no schedule") as error:
        verify_offer(offer_with(simple, (), None))
    assert error.value.field == "schedule"
