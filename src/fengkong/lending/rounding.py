"""Rounding of exact rational amounts to whole minor units (or to a multiple of them), by a named mode.

Schedules compute in exact fractions (:mod:`fractions`) and round once per figure, so that a schedule is the
same on every machine and every rounding is visible at its call site.
"""

from __future__ import annotations

from fractions import Fraction

from fengkong.errors import InputError
from fengkong.money import ROUNDING_MODES, Rounding


def round_fraction(value: Fraction | int, rounding: Rounding) -> int:
    """``value`` rounded to an integer with the named mode (the modes of :mod:`decimal`)."""
    if rounding not in ROUNDING_MODES:
        raise InputError(f"unknown rounding mode {rounding!r}", field="rounding")
    exact = Fraction(value)
    floor, remainder = divmod(exact.numerator, exact.denominator)  # floor division; remainder >= 0
    if remainder == 0:
        return floor
    ceiling = floor + 1
    twice = 2 * remainder
    if rounding == "ROUND_FLOOR":
        return floor
    if rounding == "ROUND_CEILING":
        return ceiling
    if rounding == "ROUND_DOWN":  # toward zero
        return floor if exact > 0 else ceiling
    if rounding == "ROUND_UP":  # away from zero
        return ceiling if exact > 0 else floor
    if twice < exact.denominator:
        return floor
    if twice > exact.denominator:
        return ceiling
    if rounding == "ROUND_HALF_UP":  # a tie goes away from zero
        return ceiling if exact > 0 else floor
    return floor if floor % 2 == 0 else ceiling  # ROUND_HALF_EVEN


def round_to_multiple(value: Fraction | int, multiple: int, rounding: Rounding) -> int:
    """``value`` rounded to the nearest multiple of ``multiple`` (minor units) with the named mode."""
    if multiple < 1:
        raise InputError("must be a positive number of minor units", field="multiple")
    return round_fraction(Fraction(value) / multiple, rounding) * multiple
