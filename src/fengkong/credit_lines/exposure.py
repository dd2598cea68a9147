"""The regulatory exposure caps that limits and household caps are set from (DOMAIN.md, "Limits on lending").

The caps are held and enforced in SQL by ``fengkong.store.exposure`` (reserved atomically; ``credit_lines``
may not import ``store``, so a service sets the rows from the values computed here):

* online micro-lenders (2024 rules, 金规〔2024〕26号): consumer credit at most 200,000 yuan per household,
  business credit at most 10 million yuan per borrower;
* the 2020 online micro-loan draft: at most 300,000 yuan per person and at most a third of the borrower's
  average annual income over three years.

Amounts are integer fen.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, Literal

from fengkong import bounds
from fengkong.errors import InputError

CreditKind = Literal["consumer", "business"]

FEN_PER_YUAN: Final = 100
CONSUMER_HOUSEHOLD_CAP_FEN: Final = 200_000 * FEN_PER_YUAN
BUSINESS_BORROWER_CAP_FEN: Final = 10_000_000 * FEN_PER_YUAN
PERSON_CAP_FEN: Final = 300_000 * FEN_PER_YUAN
INCOME_YEARS: Final = 3  # the average is taken over three years
INCOME_SHARE_DENOMINATOR: Final = 3  # at most a third of it


def _fen(value: int, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{field} must be an integer number of fen", field=field)
    if not 0 <= value <= bounds.exposure_amount_fen_max:
        raise InputError(f"{field} must be between 0 and {bounds.exposure_amount_fen_max} fen", field=field)
    return value


def household_cap_fen(kind: CreditKind) -> int:
    """The cap on a household's (consumer) or a borrower's (business) exposure across products."""
    if kind == "consumer":
        return CONSUMER_HOUSEHOLD_CAP_FEN
    if kind == "business":
        return BUSINESS_BORROWER_CAP_FEN
    raise InputError(f"kind must be 'consumer' or 'business', not {kind!r}", field="kind")


def person_cap_fen(annual_incomes_fen: Sequence[int]) -> int:
    """A person's cap: the lower of 300,000 yuan and a third of the average of the last three years' income.

    ``annual_incomes_fen`` holds the last three years' incomes (fewer years known: the missing ones count 0,
    so a short history gives a lower cap, never a higher one).
    """
    if isinstance(annual_incomes_fen, (str, bytes)) or len(annual_incomes_fen) > INCOME_YEARS:
        raise InputError(
            f"annual_incomes_fen must hold at most {INCOME_YEARS} years", field="annual_incomes_fen"
        )
    total = sum(_fen(income, "annual_incomes_fen") for income in annual_incomes_fen)
    return min(PERSON_CAP_FEN, total // (INCOME_YEARS * INCOME_SHARE_DENOMINATOR))


def party_limit_fen(
    requested_fen: int, kind: CreditKind, annual_incomes_fen: Sequence[int] | None = None
) -> int:
    """The limit a party may be given for one product: the request, cut to the caps that bind it."""
    limit = min(_fen(requested_fen, "requested_fen"), household_cap_fen(kind))
    if kind == "consumer" and annual_incomes_fen is not None:
        limit = min(limit, person_cap_fen(annual_incomes_fen))
    return limit
