"""Money: worked examples and every refusal."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fengkong.errors import CurrencyMismatchError, InputError, MoneyError
from fengkong.money import D, Money, allocate, total


def test_parse_and_format_examples() -> None:
    assert Money.parse("1234.56") == Money(123456, "CNY")
    assert Money.parse("-0.05").amount_minor == -5
    assert Money.parse("7") == Money(700)
    assert Money.parse("7.5").format() == "7.50"
    assert Money.parse("1200", "JPY") == Money(1200, "JPY")
    assert Money(-123456).format() == "-1234.56"
    assert Money(5).format() == "0.05"
    assert str(Money(100)) == "1.00 CNY"


@pytest.mark.parametrize(
    "text", ["", "1,234.56", "1.234", "12.3.4", "abc", "1e3", " - 1", "+1.00", "NaN", "0x10", "１２"]
)
def test_parse_refuses_malformed_amounts(text: str) -> None:
    with pytest.raises(MoneyError):
        Money.parse(text)


def test_parse_refuses_too_many_decimals_for_currency() -> None:
    with pytest.raises(MoneyError, match="more than 0 digits"):
        Money.parse("1.5", "JPY")


@pytest.mark.parametrize("bad", [1.5, 0.1, True, "12", Decimal("1")])
def test_construction_refuses_non_int_minor_units(bad: object) -> None:
    with pytest.raises(MoneyError, match="amount_minor"):
        Money(bad)  # type: ignore[arg-type]


def test_parse_refuses_floats() -> None:
    with pytest.raises(MoneyError):
        Money.parse(12.5)  # type: ignore[arg-type]


def test_unknown_currency_refused_with_field() -> None:
    with pytest.raises(MoneyError) as info:
        Money(1, "XXX")
    assert info.value.field == "currency"
    assert isinstance(info.value, InputError)


def test_decimal_helper_refuses_floats_and_nan() -> None:
    assert D("0.0365") == Decimal("0.0365")
    assert D(3) == Decimal(3)
    for bad in (0.1, "nan", "inf", "abc", True):
        with pytest.raises(MoneyError):
            D(bad)  # type: ignore[arg-type]


def test_arithmetic_and_comparison() -> None:
    a, b = Money.parse("10.00"), Money.parse("0.01")
    assert (a + b).format() == "10.01"
    assert (a - b).format() == "9.99"
    assert (a * 3).format() == "30.00"
    assert (3 * a).format() == "30.00"
    assert -a == Money(-1000)
    assert abs(-a) == a
    assert b < a and a > b and a >= a and b <= b
    assert Money.zero().is_zero() and (-a).is_negative()
    with pytest.raises(MoneyError):
        _ = a * 1.5  # type: ignore[operator]
    with pytest.raises(CurrencyMismatchError):
        _ = a + Money(1, "USD")
    with pytest.raises(MoneyError):
        _ = a + 1  # type: ignore[operator]


def test_times_names_its_rounding() -> None:
    amount = Money.parse("100.00")
    assert amount.times(D("0.000125"), "ROUND_HALF_UP") == Money(1)  # 1.25 fen → 1
    assert amount.times(D("0.000135"), "ROUND_HALF_UP") == Money(1)  # 1.35 → 1
    assert amount.times(D("0.000150"), "ROUND_HALF_UP") == Money(2)
    assert amount.times(D("0.000150"), "ROUND_HALF_EVEN") == Money(2)
    assert amount.times(D("0.000250"), "ROUND_HALF_EVEN") == Money(2)
    assert amount.times(D("0.000250"), "ROUND_HALF_UP") == Money(3)
    assert amount.times(D("0.000199"), "ROUND_DOWN") == Money(1)
    with pytest.raises(MoneyError, match="rounding"):
        amount.times(D("0.1"), "ROUND_SOMETIMES")  # type: ignore[arg-type]


def test_from_decimal_rounds_as_named() -> None:
    assert Money.from_decimal(D("1.005"), "CNY", "ROUND_HALF_UP") == Money(101)
    assert Money.from_decimal(D("1.005"), "CNY", "ROUND_HALF_EVEN") == Money(100)
    assert Money.from_decimal(D("-1.005"), "CNY", "ROUND_HALF_UP") == Money(-101)


def test_allocate_examples() -> None:
    assert allocate(100, [1, 1, 1]) == (34, 33, 33)
    assert allocate(-100, [1, 1, 1]) == (-34, -33, -33)
    assert allocate(5, [0, 1, 0]) == (0, 5, 0)
    assert allocate(10_000, [Decimal("0.3"), Decimal("0.7")]) == (3000, 7000)
    assert allocate(1, [1, 1]) == (1, 0)  # ties go to the earlier part
    assert Money(1001).allocate([3, 7]) == (Money(300), Money(701))


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ([], "at least one weight"),
        ([0, 0], "all be zero"),
        ([1, -1], "negative"),
        ([0.5, 0.5], "int or Decimal"),
    ],
)
def test_allocate_refuses_bad_weights(weights: list[object], message: str) -> None:
    with pytest.raises(MoneyError, match=message):
        allocate(100, weights)  # type: ignore[arg-type]


def test_allocate_refuses_float_total() -> None:
    with pytest.raises(MoneyError):
        allocate(1.0, [1])  # type: ignore[arg-type]


def test_total() -> None:
    assert total([Money(1), Money(2), Money(3)]) == Money(6)
    assert total([]) == Money(0)
