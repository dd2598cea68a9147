"""Postings: one double-entry journal entry, balanced by construction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from fengkong.errors import InputError
from fengkong.money import Money


@dataclass(frozen=True, slots=True)
class PostingLine:
    """One side of an entry: an account and a signed amount (debit positive, credit negative)."""

    account: str
    amount: Money


@dataclass(frozen=True, slots=True)
class Posting:
    """A journal entry. Lines sum to zero per currency; postings are never updated, only reversed."""

    posting_id: str
    business_date: date
    description: str
    lines: tuple[PostingLine, ...]
    reverses: str | None = None  # posting_id this entry reverses

    def __post_init__(self) -> None:
        if len(self.lines) < 2:
            raise InputError("an entry has at least two lines", field="lines")
        totals: dict[str, int] = {}
        for line in self.lines:
            totals[line.amount.currency] = totals.get(line.amount.currency, 0) + line.amount.amount_minor
        unbalanced = {currency: amount for currency, amount in totals.items() if amount != 0}
        if unbalanced:
            raise InputError(f"debits and credits differ: {unbalanced}", field="lines")
