"""Cap tables: the highest annualised rate allowed, by product and effective date (data, never constants)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from fengkong.errors import InputError, NotFoundError


@dataclass(frozen=True, slots=True)
class CapEntry:
    """From ``effective_from`` (inclusive) the comprehensive annualised cost of ``product`` is at most
    ``annual_rate_cap``; ``basis`` says where it comes from (a regulation, or "4×LPR")."""

    product: str
    effective_from: date
    annual_rate_cap: Decimal
    basis: str


@dataclass(frozen=True, slots=True)
class CapTable:
    """All cap entries; the entry in force is the latest one effective on or before the date."""

    entries: tuple[CapEntry, ...]

    def __post_init__(self) -> None:
        seen: set[tuple[str, date]] = set()
        for entry in self.entries:
            key = (entry.product, entry.effective_from)
            if key in seen:
                raise InputError(f"two caps for {entry.product} from {entry.effective_from}", field="entries")
            seen.add(key)
            if entry.annual_rate_cap <= 0:
                raise InputError("a cap must be positive", field="annual_rate_cap")

    def cap_on(self, product: str, on: date) -> CapEntry:
        candidates = [e for e in self.entries if e.product == product and e.effective_from <= on]
        if not candidates:
            raise NotFoundError(f"no cap in force for {product!r} on {on.isoformat()}")
        return max(candidates, key=lambda entry: entry.effective_from)
