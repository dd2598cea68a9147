"""Splitting a repayment over what is owed: a configurable order, every split conserving its total.

Components are penalty (overdue) interest, fee, interest and principal. :class:`AllocationOrder` is
configuration; the default is penalty → fee → interest → principal (overdue interest first). Two ways:

* ``waterfall`` (the default): each component in the order is paid in full before the next gets anything;
* ``pro-rata``: the payment is shared over the components in proportion to what each is owed, by the
  largest-remainder method (:func:`fengkong.money.allocate`), ties going to the earlier component in the
  order.

Both return one part per component, never more than owed, summing to ``min(amount, total owed)``; the
caller decides what to do with the rest (prepayment, or refusing it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from fengkong.errors import InputError, InvariantError
from fengkong.money import allocate


class Component(StrEnum):
    PENALTY = "penalty"
    FEE = "fee"
    INTEREST = "interest"
    PRINCIPAL = "principal"


class Strategy(StrEnum):
    WATERFALL = "waterfall"
    PRO_RATA = "pro-rata"


DEFAULT_ORDER: Final = (Component.PENALTY, Component.FEE, Component.INTEREST, Component.PRINCIPAL)


@dataclass(frozen=True, slots=True)
class AllocationOrder:
    """The order components are paid in, and how (waterfall or pro rata)."""

    order: tuple[Component, ...] = DEFAULT_ORDER
    strategy: Strategy = Strategy.WATERFALL

    def __post_init__(self) -> None:
        if sorted(self.order) != sorted(Component):
            raise InputError(
                f"must name each of {[component.value for component in Component]} exactly once",
                field="order",
            )

    @classmethod
    def parse(cls, names: Sequence[str], strategy: str = Strategy.WATERFALL.value) -> AllocationOrder:
        try:
            order = tuple(Component(name) for name in names)
        except ValueError:
            raise InputError(f"unknown component in {list(names)}", field="order") from None
        try:
            chosen = Strategy(strategy)
        except ValueError:
            raise InputError(f"unknown strategy {strategy!r}", field="strategy") from None
        return cls(order, chosen)


def split(amount_fen: int, owed: Mapping[Component, int], order: AllocationOrder) -> dict[Component, int]:
    """Parts of ``amount_fen`` per component (see the module docstring)."""
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen < 0:
        raise InputError("must be a non-negative whole number of fen", field="amount")
    for component in order.order:
        if owed.get(component, 0) < 0:
            raise InvariantError(f"owed {component.value} is negative")
    owed_total = sum(owed.get(component, 0) for component in order.order)
    paying = min(amount_fen, owed_total)
    parts = dict.fromkeys(order.order, 0)
    if paying == 0:
        return parts
    if order.strategy is Strategy.WATERFALL or paying == owed_total:
        left = paying
        for component in order.order:
            part = min(left, owed.get(component, 0))
            parts[component] = part
            left -= part
    else:
        weights = [owed.get(component, 0) for component in order.order]
        for component, part in zip(order.order, allocate(paying, weights), strict=True):
            parts[component] = part
        # largest remainder can give one fen more than owed to a component only if weights were exceeded,
        # which cannot happen since paying < owed_total; check anyway
    for component in order.order:
        if parts[component] > owed.get(component, 0):
            raise InvariantError(f"allocated more {component.value} than owed")
    if sum(parts.values()) != paying:
        raise InvariantError(f"split {parts} does not add up to {paying}")
    return parts
