"""Money: integer minor units with a currency. Never a float.

* ``Money(amount_minor, currency)``: ``Money(123456, "CNY")`` is 1,234.56 yuan (123,456 fen).
* Arithmetic across currencies raises :class:`CurrencyMismatchError`; floats raise :class:`MoneyError`.
* Rates are :class:`decimal.Decimal`, built through :func:`D` (which refuses floats too).
* Multiplying money by a rate names its rounding mode at the call site (:meth:`Money.times`).
* :func:`allocate` splits an amount by weights with the largest-remainder method; the parts always add
  up to the whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import (
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Decimal,
    InvalidOperation,
    localcontext,
)
from typing import Final, Literal

from fengkong.errors import CurrencyMismatchError, InvariantError, MoneyError

#: Digits after the decimal point per ISO 4217 currency we handle.
CURRENCY_SCALES: Final[dict[str, int]] = {"CNY": 2, "HKD": 2, "USD": 2, "EUR": 2, "JPY": 0}
DEFAULT_CURRENCY: Final = "CNY"

Rounding = Literal[
    "ROUND_HALF_UP", "ROUND_HALF_EVEN", "ROUND_DOWN", "ROUND_UP", "ROUND_FLOOR", "ROUND_CEILING"
]
ROUNDING_MODES: Final[frozenset[str]] = frozenset(
    {ROUND_HALF_UP, ROUND_HALF_EVEN, ROUND_DOWN, ROUND_UP, ROUND_FLOOR, ROUND_CEILING}
)

_AMOUNT_PATTERN: Final = re.compile(r"^(?P<sign>-)?(?P<units>[0-9]{1,18})(?:\.(?P<fraction>[0-9]+))?$")
_DECIMAL_PRECISION: Final = 50


def D(value: str | int | Decimal) -> Decimal:  # noqa: N802 - beancount's name for the one Decimal helper
    """Build a Decimal from a string, int or Decimal. Floats are refused: they are already inexact."""
    if isinstance(value, (bool, float)):
        raise MoneyError(f"refusing {type(value).__name__} {value!r}: pass a string such as '0.0365'")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise MoneyError(f"not a finite number: {value!r}")
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation as exc:
            raise MoneyError(f"not a decimal number: {value!r}") from exc
        if not result.is_finite():
            raise MoneyError(f"not a finite number: {value!r}")
        return result
    raise MoneyError(f"cannot make a Decimal from {type(value).__name__}")


def currency_scale(currency: str) -> int:
    """Digits after the decimal point for ``currency``; unknown currencies raise."""
    try:
        return CURRENCY_SCALES[currency]
    except KeyError:
        raise MoneyError(f"unknown currency {currency!r}", field="currency") from None


def _check_rounding(rounding: str) -> str:
    if rounding not in ROUNDING_MODES:
        raise MoneyError(f"unknown rounding mode {rounding!r}")
    return rounding


@dataclass(frozen=True, slots=True, order=False)
class Money:
    """An amount in integer minor units (fen for CNY) and its currency."""

    amount_minor: int
    currency: str = DEFAULT_CURRENCY

    def __post_init__(self) -> None:
        if isinstance(self.amount_minor, bool) or not isinstance(self.amount_minor, int):
            raise MoneyError(
                f"amount_minor must be an int of minor units, got {type(self.amount_minor).__name__}",
                field="amount_minor",
            )
        currency_scale(self.currency)

    # -- construction -------------------------------------------------------------------------------
    @classmethod
    def zero(cls, currency: str = DEFAULT_CURRENCY) -> Money:
        return cls(0, currency)

    @classmethod
    def parse(cls, text: str, currency: str = DEFAULT_CURRENCY) -> Money:
        """Parse ``"1234.56"`` (at most the currency's digits after the point; no float, no grouping)."""
        if not isinstance(text, str):
            raise MoneyError(f"amount must be a string such as '1234.56', got {type(text).__name__}")
        scale = currency_scale(currency)
        match = _AMOUNT_PATTERN.match(text.strip())
        if match is None:
            raise MoneyError(f"not an amount: {text!r} (expected digits with an optional '.' and fraction)")
        fraction = match.group("fraction") or ""
        if len(fraction) > scale:
            raise MoneyError(f"{text!r} has more than {scale} digits after the point for {currency}")
        minor = int(match.group("units")) * 10**scale + (int(fraction.ljust(scale, "0")) if scale else 0)
        return cls(-minor if match.group("sign") else minor, currency)

    @classmethod
    def from_decimal(cls, value: Decimal, currency: str, rounding: Rounding) -> Money:
        """Round a Decimal amount in major units to minor units with the named rounding mode."""
        scale = currency_scale(currency)
        quantum = Decimal(1).scaleb(-scale)
        with localcontext() as ctx:
            ctx.prec = _DECIMAL_PRECISION
            rounded = D(value).quantize(quantum, rounding=_check_rounding(rounding))
        return cls(int(rounded.scaleb(scale)), currency)

    # -- views --------------------------------------------------------------------------------------
    def to_decimal(self) -> Decimal:
        """The amount in major units, exactly (``Decimal('1234.56')``)."""
        return Decimal(self.amount_minor).scaleb(-currency_scale(self.currency))

    def format(self) -> str:
        """``"1234.56"``: the inverse of :meth:`parse`; the wire form in JSON."""
        scale = currency_scale(self.currency)
        sign = "-" if self.amount_minor < 0 else ""
        units, fraction = divmod(abs(self.amount_minor), 10**scale)
        return f"{sign}{units}.{fraction:0{scale}d}" if scale else f"{sign}{units}"

    def __str__(self) -> str:
        return f"{self.format()} {self.currency}"

    # -- arithmetic ---------------------------------------------------------------------------------
    def _same(self, other: object) -> Money:
        if not isinstance(other, Money):
            raise MoneyError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatchError(f"{self.currency} and {other.currency} cannot be combined")
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.amount_minor + self._same(other).amount_minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.amount_minor - self._same(other).amount_minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount_minor, self.currency)

    def __abs__(self) -> Money:
        return Money(abs(self.amount_minor), self.currency)

    def __mul__(self, factor: int) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, int):
            raise MoneyError("Money * int only; use Money.times(rate, rounding) for a rate")
        return Money(self.amount_minor * factor, self.currency)

    __rmul__ = __mul__

    def times(self, rate: Decimal, rounding: Rounding) -> Money:
        """``self × rate`` rounded to minor units with the named mode."""
        with localcontext() as ctx:
            ctx.prec = _DECIMAL_PRECISION
            product = Decimal(self.amount_minor) * D(rate)
            minor = product.quantize(Decimal(1), rounding=_check_rounding(rounding))
        return Money(int(minor), self.currency)

    def __lt__(self, other: Money) -> bool:
        return self.amount_minor < self._same(other).amount_minor

    def __le__(self, other: Money) -> bool:
        return self.amount_minor <= self._same(other).amount_minor

    def __gt__(self, other: Money) -> bool:
        return self.amount_minor > self._same(other).amount_minor

    def __ge__(self, other: Money) -> bool:
        return self.amount_minor >= self._same(other).amount_minor

    def is_zero(self) -> bool:
        return self.amount_minor == 0

    def is_negative(self) -> bool:
        return self.amount_minor < 0

    def allocate(self, weights: Sequence[int | Decimal]) -> tuple[Money, ...]:
        """Split by ``weights``; see :func:`allocate`."""
        return tuple(Money(part, self.currency) for part in allocate(self.amount_minor, weights))


def allocate(total_minor: int, weights: Sequence[int | Decimal]) -> tuple[int, ...]:
    """Split ``total_minor`` in proportion to ``weights`` by the largest-remainder method.

    Each part gets the floor of its exact share (toward zero for a negative total); the units left over go
    one each to the parts with the largest remainders, ties to the earlier part. The parts always add up to
    ``total_minor``; a zero weight always gets zero.
    """
    if isinstance(total_minor, bool) or not isinstance(total_minor, int):
        raise MoneyError("total_minor must be an int")
    if not weights:
        raise MoneyError("allocate needs at least one weight", field="weights")
    exact_weights: list[Decimal] = []
    for weight in weights:
        if isinstance(weight, (bool, float)) or not isinstance(weight, int | Decimal):
            raise MoneyError(f"weights must be int or Decimal, got {type(weight).__name__}", field="weights")
        if weight < 0:
            raise MoneyError("weights must not be negative", field="weights")
        exact_weights.append(Decimal(weight))
    weight_sum = sum(exact_weights, Decimal(0))
    if weight_sum == 0:
        raise MoneyError("weights must not all be zero", field="weights")
    sign = -1 if total_minor < 0 else 1
    magnitude = abs(total_minor)
    with localcontext() as ctx:
        ctx.prec = _DECIMAL_PRECISION
        shares = [magnitude * weight / weight_sum for weight in exact_weights]
        floors = [int(share.to_integral_value(rounding=ROUND_FLOOR)) for share in shares]
        remainders = [share - floor for share, floor in zip(shares, floors, strict=True)]
    leftover = magnitude - sum(floors)
    order = sorted(range(len(floors)), key=lambda index: (-remainders[index], index))
    for index in order[:leftover]:
        floors[index] += 1
    parts = tuple(sign * part for part in floors)
    if sum(parts) != total_minor:
        raise InvariantError(f"allocate lost money: {parts} does not add up to {total_minor}")
    return parts


def total(amounts: Iterable[Money], currency: str = DEFAULT_CURRENCY) -> Money:
    """Sum of ``amounts`` (all in ``currency``); the empty sum is zero."""
    result = Money.zero(currency)
    for amount in amounts:
        result = result + amount
    return result
