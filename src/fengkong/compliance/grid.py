"""A policy's price grid with its annualised rates computed once, when the policy loads.

A decision picks a price point (a risk band's rate, term and fees); the disclosure needs that point's
annualised rate. Solving an IRR per decision would repeat the same work thousands of times, so
:meth:`PriceGrid.build` solves every point once and :meth:`PriceGrid.rate` is a lookup.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType

from fengkong import bounds
from fengkong.compliance.apr import annualised_rate
from fengkong.compliance.caps import CapCheck, CapPolicy, check_price
from fengkong.domain.products import AnnualisedRate, CashFlow, Fee, Frequency
from fengkong.errors import InputError, NotFoundError


@dataclass(frozen=True, slots=True)
class PricePoint:
    """One point of a grid: its key (e.g. ``"band-A/12m"``), the cash flows of a reference loan at that
    price, and every fee charged with it (each its own flow)."""

    key: str
    cash_flows: tuple[CashFlow, ...]
    fees: tuple[Fee, ...]
    frequency: Frequency = Frequency.MONTHLY


@dataclass(frozen=True, slots=True)
class PriceGrid:
    """Annualised rates by price-point key, computed once by :meth:`build`."""

    rates: Mapping[str, AnnualisedRate] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def build(cls, points: Iterable[PricePoint]) -> PriceGrid:
        """Solve every point's IRR once. Keys must be unique; each point's bad input names its key."""
        rates: dict[str, AnnualisedRate] = {}
        for index, point in enumerate(points):
            if index >= bounds.price_grid_points_max:
                raise InputError(
                    f"more than price_grid_points_max={bounds.price_grid_points_max} points", field="points"
                )
            if point.key in rates:
                raise InputError(f"duplicate price point {point.key!r}", field="points")
            try:
                rates[point.key] = annualised_rate(
                    point.cash_flows, fees=point.fees, frequency=point.frequency
                )
            except InputError as error:
                raise InputError(error.reason, field=f"points[{point.key}].{error.field}") from error
        return cls(MappingProxyType(rates))

    def rate(self, key: str) -> AnnualisedRate:
        try:
            return self.rates[key]
        except KeyError:
            raise NotFoundError(f"no price point {key!r} in the grid") from None

    def check(
        self, policy: CapPolicy, product: str, on: date, keys: Sequence[str] | None = None
    ) -> dict[str, CapCheck]:
        """Every point's (or ``keys``') cap check for ``product`` on ``on``, from the precomputed rates."""
        chosen = list(self.rates) if keys is None else list(keys)
        return {key: check_price(policy, product, on, self.rate(key), fees=()) for key in chosen}
