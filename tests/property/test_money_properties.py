"""Invariants of money: parsing round-trips, arithmetic is exact, allocation conserves the total."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fengkong.errors import CurrencyMismatchError
from fengkong.money import Money, allocate
from tests.strategies import decimal_weights, int_weights, minor_units, money


@given(money())
def test_format_then_parse_is_identity(amount: Money) -> None:
    assert Money.parse(amount.format(), amount.currency) == amount


@given(money())
def test_to_decimal_is_exact(amount: Money) -> None:
    assert Money.from_decimal(amount.to_decimal(), amount.currency, "ROUND_HALF_EVEN") == amount


@given(money("CNY"), money("CNY"), money("CNY"))
def test_addition_is_associative_and_subtraction_inverts(a: Money, b: Money, c: Money) -> None:
    assert (a + b) + c == a + (b + c)
    assert (a + b) - b == a
    assert a + (-a) == Money.zero("CNY")


@given(money("CNY"), money("USD"))
def test_mixed_currencies_are_refused(a: Money, b: Money) -> None:
    with pytest.raises(CurrencyMismatchError):
        _ = a + b
    with pytest.raises(CurrencyMismatchError):
        _ = a < b


@given(minor_units, int_weights)
def test_allocate_conserves_the_total_int_weights(total: int, weights: list[int]) -> None:
    parts = allocate(total, weights)
    assert sum(parts) == total
    assert len(parts) == len(weights)
    weight_sum = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        exact = Decimal(total) * weight / weight_sum
        assert abs(Decimal(part) - exact) < 1, "each part is within one minor unit of its exact share"
        if weight == 0:
            assert part == 0


@given(minor_units, decimal_weights)
def test_allocate_conserves_the_total_decimal_weights(total: int, weights: list[Decimal]) -> None:
    parts = allocate(total, weights)
    assert sum(parts) == total
    assert all((part >= 0) if total >= 0 else (part <= 0) for part in parts)


@given(money("CNY"), int_weights)
def test_money_allocate_keeps_currency(amount: Money, weights: list[int]) -> None:
    parts = amount.allocate(weights)
    assert sum(p.amount_minor for p in parts) == amount.amount_minor
    assert {p.currency for p in parts} == {"CNY"}


@given(money("CNY"), st.decimals(min_value=Decimal("-10"), max_value=Decimal("10"), places=6))
def test_times_rounds_to_within_half_a_unit(amount: Money, rate: Decimal) -> None:
    product = amount.times(rate, "ROUND_HALF_EVEN")
    assert abs(Decimal(product.amount_minor) - Decimal(amount.amount_minor) * rate) <= Decimal("0.5")
