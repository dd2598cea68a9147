"""A policy's price grid: every point's rate solved once at load, looked up per decision."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

import fengkong.compliance.grid as grid_module
from fengkong.compliance.apr import add_months, annualised_rate
from fengkong.compliance.caps import default_cap_policy
from fengkong.compliance.grid import PriceGrid, PricePoint
from fengkong.domain.products import AnnualisedRate, CashFlow, Fee
from fengkong.errors import InputError, NotFoundError
from fengkong.money import Money

START = date(2026, 3, 1)


def point(key: str, payment: str, fee: str | None = None) -> PricePoint:
    payments = [CashFlow(add_months(START, month), Money.parse(payment)) for month in range(1, 13)]
    flows = (CashFlow(START, -Money.parse("10000")), *payments)
    fees = () if fee is None else (Fee("service", Money.parse(fee), START),)
    return PricePoint(key, flows, fees)


POINTS = (point("A/12m", "888.49"), point("B/12m", "920.00"), point("C/12m", "935.00", fee="200"))


def test_every_rate_is_solved_once_at_build_and_then_looked_up(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = grid_module.annualised_rate

    def counting(*args: object, **kwargs: object) -> AnnualisedRate:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(grid_module, "annualised_rate", counting)
    grid = PriceGrid.build(POINTS)
    assert len(calls) == len(POINTS)
    for _ in range(100):
        grid.rate("A/12m")
    grid.check(default_cap_policy(), "installment", START)
    assert len(calls) == len(POINTS)


def test_grid_rates_equal_direct_computation() -> None:
    grid = PriceGrid.build(POINTS)
    for price_point in POINTS:
        assert grid.rate(price_point.key) == annualised_rate(price_point.cash_flows, fees=price_point.fees)
    assert grid.rate("A/12m").annual_rate_pct.quantize(Decimal("0.01")) == Decimal("12.00")


def test_grid_checks_every_point_against_the_cap() -> None:
    checks = PriceGrid.build(POINTS).check(default_cap_policy(), "installment", START)
    assert {key: check.allowed for key, check in checks.items()} == {
        "A/12m": True,
        "B/12m": True,
        "C/12m": False,
    }


def test_grid_bad_input() -> None:
    with pytest.raises(InputError, match="duplicate"):
        PriceGrid.build([POINTS[0], POINTS[0]])
    bad = PricePoint("broken", (CashFlow(START, Money(100)), CashFlow(START, Money(100))), ())
    with pytest.raises(InputError, match="no sign change") as error:
        PriceGrid.build([POINTS[0], bad])
    assert error.value.field == "points[broken].cash_flows"
    with pytest.raises(NotFoundError):
        PriceGrid.build(POINTS).rate("Z/99m")
