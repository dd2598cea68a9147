"""Rounding exact fractions to minor units: every mode, ties, negatives, multiples."""

from __future__ import annotations

from fractions import Fraction

import pytest

from fengkong.errors import InputError
from fengkong.lending.rounding import round_fraction, round_to_multiple
from fengkong.money import Rounding

CASES: list[tuple[Fraction, dict[str, int]]] = [
    (
        Fraction(5, 2),
        {
            "ROUND_HALF_EVEN": 2,
            "ROUND_HALF_UP": 3,
            "ROUND_DOWN": 2,
            "ROUND_UP": 3,
            "ROUND_FLOOR": 2,
            "ROUND_CEILING": 3,
        },
    ),
    (
        Fraction(7, 2),
        {"ROUND_HALF_EVEN": 4, "ROUND_HALF_UP": 4, "ROUND_DOWN": 3, "ROUND_UP": 4},
    ),
    (
        Fraction(-5, 2),
        {
            "ROUND_HALF_EVEN": -2,
            "ROUND_HALF_UP": -3,
            "ROUND_DOWN": -2,
            "ROUND_UP": -3,
            "ROUND_FLOOR": -3,
            "ROUND_CEILING": -2,
        },
    ),
    (Fraction(2, 3), {"ROUND_HALF_EVEN": 1, "ROUND_HALF_UP": 1, "ROUND_DOWN": 0, "ROUND_FLOOR": 0}),
    (Fraction(1, 3), {"ROUND_HALF_EVEN": 0, "ROUND_HALF_UP": 0, "ROUND_UP": 1, "ROUND_CEILING": 1}),
    (Fraction(-1, 3), {"ROUND_HALF_EVEN": 0, "ROUND_UP": -1, "ROUND_FLOOR": -1, "ROUND_CEILING": 0}),
    (Fraction(12, 1), {"ROUND_HALF_EVEN": 12, "ROUND_UP": 12, "ROUND_DOWN": 12}),
]


@pytest.mark.parametrize(("value", "expected"), CASES)
def test_round_fraction(value: Fraction, expected: dict[Rounding, int]) -> None:
    for mode, result in expected.items():
        assert round_fraction(value, mode) == result, mode  # type: ignore[arg-type]


def test_round_to_multiple_of_a_yuan() -> None:
    assert round_to_multiple(Fraction(30491), 100, "ROUND_HALF_EVEN") == 30500
    assert round_to_multiple(1250, 100, "ROUND_HALF_EVEN") == 1200  # 12.50 → 12 (half to even)
    assert round_to_multiple(1250, 100, "ROUND_HALF_UP") == 1300
    assert round_to_multiple(Fraction(41667), 2000, "ROUND_HALF_EVEN") == 42000


def test_bad_mode_and_multiple_are_refused() -> None:
    with pytest.raises(InputError):
        round_fraction(Fraction(1, 2), "ROUND_SIDEWAYS")  # type: ignore[arg-type]
    with pytest.raises(InputError):
        round_fraction(Fraction(1, 3), "ROUND_SIDEWAYS")  # type: ignore[arg-type]
    with pytest.raises(InputError):
        round_to_multiple(5, 0, "ROUND_HALF_EVEN")
