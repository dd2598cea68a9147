"""Balances and the trial balance.

:class:`AccountTotals` are the debit and credit totals of one account code in one currency, whoever summed
them (the in-memory journal, or SQL in :mod:`fengkong.store.ledger`). :func:`trial_balance` lays them out the
accountant's way: each account's net balance in the debit or the credit column, and the two columns'
totals, which are equal in every currency when the ledger balances.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from fengkong.domain.ledger import PostingLine
from fengkong.ledger.accounts import Account, ChartOfAccounts, split_account
from fengkong.money import Money


@dataclass(frozen=True, slots=True)
class AccountTotals:
    """Sum of debits and of credits (both non-negative, in minor units) of ``code`` in ``currency``."""

    code: str
    currency: str
    debit_minor: int
    credit_minor: int

    @property
    def net_minor(self) -> int:
        """Debits less credits: positive is a debit balance."""
        return self.debit_minor - self.credit_minor


def sum_lines(lines: Iterable[PostingLine]) -> list[AccountTotals]:
    """Totals per (account code, currency) of ``lines``, sub-accounts rolled up, sorted by code."""
    sums: dict[tuple[str, str], list[int]] = {}
    for line in lines:
        code, _ = split_account(line.account)
        entry = sums.setdefault((code, line.amount.currency), [0, 0])
        if line.amount.amount_minor >= 0:
            entry[0] += line.amount.amount_minor
        else:
            entry[1] -= line.amount.amount_minor
    return [
        AccountTotals(code, currency, debit, credit)
        for (code, currency), (debit, credit) in sorted(sums.items())
    ]


@dataclass(frozen=True, slots=True)
class TrialBalanceLine:
    account: Account
    currency: str
    debit: Money  # the net balance when it is a debit balance, else zero
    credit: Money  # the net balance when it is a credit balance, else zero

    @property
    def is_normal(self) -> bool:
        """True when the balance sits on the account's normal side (or is zero)."""
        net = self.debit.amount_minor - self.credit.amount_minor
        return net == 0 or (net > 0) == (self.account.type.normal_sign > 0)


@dataclass(frozen=True, slots=True)
class TrialBalance:
    lines: tuple[TrialBalanceLine, ...]
    total_debit: tuple[Money, ...]  # one per currency, sorted by currency
    total_credit: tuple[Money, ...]

    @property
    def is_balanced(self) -> bool:
        return all(
            debit.amount_minor == credit.amount_minor
            for debit, credit in zip(self.total_debit, self.total_credit, strict=True)
        )

    def to_json(self) -> dict[str, object]:
        """Wire form: every amount a decimal string."""
        return {
            "balanced": self.is_balanced,
            "accounts": [
                {
                    "account": line.account.code,
                    "type": line.account.type.value,
                    "currency": line.currency,
                    "debit": line.debit.format(),
                    "credit": line.credit.format(),
                }
                for line in self.lines
            ],
            "totals": [
                {"currency": debit.currency, "debit": debit.format(), "credit": credit.format()}
                for debit, credit in zip(self.total_debit, self.total_credit, strict=True)
            ],
        }


def trial_balance(totals: Iterable[AccountTotals], chart: ChartOfAccounts) -> TrialBalance:
    """The trial balance of ``totals`` (accounts with no movement are left out)."""
    lines: list[TrialBalanceLine] = []
    debit_by_currency: dict[str, int] = {}
    credit_by_currency: dict[str, int] = {}
    for entry in sorted(totals, key=lambda item: (item.code, item.currency)):
        account = chart.get(entry.code)
        net = entry.net_minor
        debit = max(net, 0)
        credit = max(-net, 0)
        debit_by_currency[entry.currency] = debit_by_currency.get(entry.currency, 0) + debit
        credit_by_currency[entry.currency] = credit_by_currency.get(entry.currency, 0) + credit
        lines.append(
            TrialBalanceLine(
                account, entry.currency, Money(debit, entry.currency), Money(credit, entry.currency)
            )
        )
    currencies = sorted(debit_by_currency)
    return TrialBalance(
        lines=tuple(lines),
        total_debit=tuple(Money(debit_by_currency[currency], currency) for currency in currencies),
        total_credit=tuple(Money(credit_by_currency[currency], currency) for currency in currencies),
    )
