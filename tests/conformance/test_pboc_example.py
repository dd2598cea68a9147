"""The regulator's worked example of the annualised rate, and published arithmetic anyone can check.

Source of the official example: PBOC announcement [2021] No. 3
(中国人民银行公告〔2021〕第3号, dated 2021-03-12), its attachment with a
worked example of the annualised rate. Its primary text could NOT be read with this project's search tools
(the pbc.gov.cn pages are not in the stored corpus). The figures come from a secondary summary that cites
the primary page (a public repository's note "Official annualized-rate disclosure rule", linking
xining.pbc.gov.cn/goutongjiaoliu/113456/113469/2025092212551432728/index.html, verified_as_of 2026-09-03):
a 100,000-yuan loan for one year in twelve equal monthly installments of 8,833.3(3) yuan (6 % flat
interest: 100,000 × 1.06 / 12) with a 1,000-yuan service fee charged up front is about **12.80 %** a year
(the monthly IRR × 12) and about **13.58 %** compounded ((1 + monthly IRR)^12 − 1). The summary calls the
first "simple annualisation": it is the monthly IRR annualised without compounding, which is what we
assert. Both figures are also checked independently against numpy-financial's ``irr``.

Independent published arithmetic: PMT(1 %, 12, 10,000) = 888.49 yuan (rounded to the fen), so a 10,000-yuan
loan repaid 888.49 a month for 12 months has a monthly IRR of 1 % and an annualised rate of 12 %.
"""

from __future__ import annotations

from decimal import Decimal

import numpy_financial as npf
import pytest

from fengkong.compliance.apr import METHOD_PERIODIC, PeriodFlow, periodic_rate
from fengkong.money import Money

TWO_PLACES = Decimal("0.01")


def pboc_example_flows(monthly_payment: str) -> list[PeriodFlow]:
    flows = [
        PeriodFlow(0, -Money.parse("100000")),  # the full principal is paid out: no head-cut interest
        PeriodFlow(0, Money.parse("1000")),  # the service fee: its own cash flow, paid by the borrower
    ]
    flows.extend(PeriodFlow(month, Money.parse(monthly_payment)) for month in range(1, 13))
    return flows


@pytest.mark.parametrize("monthly_payment", ["8833.33", "8833.30"])
def test_pboc_2021_no_3_worked_example(monthly_payment: str) -> None:
    rate = periodic_rate(pboc_example_flows(monthly_payment))
    assert rate.method == METHOD_PERIODIC
    assert rate.annual_rate_pct.quantize(TWO_PLACES) == Decimal("12.80")
    assert rate.effective_annual_rate_pct is not None
    assert rate.effective_annual_rate_pct.quantize(TWO_PLACES) == Decimal("13.58")


def test_pboc_example_against_numpy_financial() -> None:
    monthly = npf.irr([-99_000.0] + [8_833.33] * 12)
    rate = periodic_rate(pboc_example_flows("8833.33"))
    assert rate.periodic_irr is not None
    assert abs(float(rate.periodic_irr) - monthly) < 1e-12
    assert abs(float(rate.annual_rate_pct) - monthly * 12 * 100) < 1e-9
    assert rate.effective_annual_rate_pct is not None
    assert abs(float(rate.effective_annual_rate_pct) - ((1 + monthly) ** 12 - 1) * 100) < 1e-9


def test_the_fee_is_what_lifts_the_example_above_its_flat_six_percent() -> None:
    without_fee = periodic_rate(
        [flow for flow in pboc_example_flows("8833.33") if flow.amount != Money.parse("1000")]
    )
    # 6 % flat on the original principal is already about 10.9 % by IRR; the fee adds about 1.9 points.
    assert without_fee.annual_rate_pct.quantize(TWO_PLACES) == Decimal(
        str(round(npf.irr([-100_000.0] + [8_833.33] * 12) * 1200, 2))
    )
    with_fee = periodic_rate(pboc_example_flows("8833.33"))
    assert with_fee.annual_rate_pct - without_fee.annual_rate_pct > Decimal("1.8")


def test_pmt_one_percent_twelve_months() -> None:
    payment = Decimal(str(-npf.pmt(0.01, 12, 10_000))).quantize(TWO_PLACES)
    assert payment == Decimal("888.49")
    flows = [PeriodFlow(0, -Money.parse("10000"))] + [
        PeriodFlow(k, Money.parse(str(payment))) for k in range(1, 13)
    ]
    rate = periodic_rate(flows)
    assert rate.periodic_irr is not None
    assert rate.periodic_irr.quantize(Decimal("0.0001")) == Decimal("0.0100")
    assert rate.annual_rate_pct.quantize(TWO_PLACES) == Decimal("12.00")
