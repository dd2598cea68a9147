"""The chart of accounts: what each account is, and which side of the ledger it normally sits on.

A posting line names an account by its code, optionally followed by ``:`` and a sub-account (a loan, a
partner): ``loans_receivable:LN-000123``. Balances roll up to the code; the sub-account keeps per-loan and
per-partner detail without multiplying the chart.

Signs: a debit is a positive amount, a credit a negative one (:class:`~fengkong.domain.PostingLine`). Assets
and expenses normally carry debit (positive) balances; liabilities, equity and income credit (negative) ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from fengkong import bounds
from fengkong.errors import InputError

SUBACCOUNT_SEPARATOR: Final = ":"


class AccountType(StrEnum):
    ASSET = "asset"
    LIABILITY = "liability"
    EQUITY = "equity"
    INCOME = "income"
    EXPENSE = "expense"

    @property
    def normal_sign(self) -> int:
        """+1 when the account normally carries a debit balance, -1 for a credit balance."""
        return 1 if self in (AccountType.ASSET, AccountType.EXPENSE) else -1


@dataclass(frozen=True, slots=True)
class Account:
    """One account of the chart: a stable ``code``, a readable ``name`` and its :class:`AccountType`."""

    code: str
    name: str
    type: AccountType

    def __post_init__(self) -> None:
        if not self.code or len(self.code) > bounds.ledger_account_code_length_max:
            raise InputError(
                f"must be 1 to {bounds.ledger_account_code_length_max} characters", field="account.code"
            )
        if SUBACCOUNT_SEPARATOR in self.code:
            raise InputError(f"must not contain {SUBACCOUNT_SEPARATOR!r}", field="account.code")


def split_account(account: str) -> tuple[str, str]:
    """``"loans_receivable:LN-1"`` → ``("loans_receivable", "LN-1")``; no sub-account → ``(code, "")``."""
    code, _, subaccount = account.partition(SUBACCOUNT_SEPARATOR)
    return code, subaccount


def join_account(code: str, subaccount: str) -> str:
    """The inverse of :func:`split_account`."""
    return f"{code}{SUBACCOUNT_SEPARATOR}{subaccount}" if subaccount else code


class ChartOfAccounts:
    """An immutable set of accounts, looked up by code."""

    def __init__(self, accounts: Iterable[Account]) -> None:
        by_code: dict[str, Account] = {}
        for account in accounts:
            if account.code in by_code:
                raise InputError(f"account {account.code!r} appears twice", field="accounts")
            by_code[account.code] = account
        if not by_code:
            raise InputError("a chart needs at least one account", field="accounts")
        self._by_code = by_code

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __iter__(self) -> Iterator[Account]:
        return iter(self._by_code.values())

    def __len__(self) -> int:
        return len(self._by_code)

    def get(self, code: str) -> Account:
        try:
            return self._by_code[code]
        except KeyError:
            raise InputError(f"unknown account {code!r}", field="account") from None

    def account_of(self, account: str) -> Account:
        """The chart account behind a posting line's account (its sub-account stripped)."""
        return self.get(split_account(account)[0])


LOANS_RECEIVABLE: Final = "loans_receivable"
INTEREST_RECEIVABLE: Final = "interest_receivable"
FEES_RECEIVABLE: Final = "fees_receivable"
INTEREST_INCOME: Final = "interest_income"
FEE_INCOME: Final = "fee_income"
PENALTY_INCOME: Final = "penalty_income"
CASH_CLEARING: Final = "cash_clearing"
PARTNER_PAYABLES: Final = "partner_payables"
WRITE_OFF_EXPENSE: Final = "write_off_expense"
RECOVERIES: Final = "recoveries"
SUSPENSE: Final = "suspense"
EQUITY: Final = "equity"

#: The lender's standard chart.
STANDARD_CHART: Final = ChartOfAccounts(
    (
        Account(LOANS_RECEIVABLE, "Loans receivable (principal outstanding)", AccountType.ASSET),
        Account(INTEREST_RECEIVABLE, "Interest receivable (accrued, not yet paid)", AccountType.ASSET),
        Account(FEES_RECEIVABLE, "Fees and penalties receivable", AccountType.ASSET),
        Account(
            CASH_CLEARING, "Cash clearing (money in transit with the payment channels)", AccountType.ASSET
        ),
        Account(
            PARTNER_PAYABLES, "Payables to partner banks (their share of joint loans)", AccountType.LIABILITY
        ),
        Account(SUSPENSE, "Suspense (money received and not yet identified)", AccountType.LIABILITY),
        Account(EQUITY, "Lender's equity (funding of the book)", AccountType.EQUITY),
        Account(INTEREST_INCOME, "Interest income", AccountType.INCOME),
        Account(FEE_INCOME, "Fee income", AccountType.INCOME),
        Account(PENALTY_INCOME, "Penalty (overdue) interest income", AccountType.INCOME),
        Account(RECOVERIES, "Recoveries on written-off loans", AccountType.INCOME),
        Account(WRITE_OFF_EXPENSE, "Write-off expense", AccountType.EXPENSE),
    )
)
