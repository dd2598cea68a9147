"""The chart of accounts, sub-accounts, totals and the trial balance."""

from __future__ import annotations

import pytest

from fengkong.domain.ledger import PostingLine
from fengkong.errors import InputError
from fengkong.ledger.accounts import (
    STANDARD_CHART,
    Account,
    AccountType,
    ChartOfAccounts,
    join_account,
    split_account,
)
from fengkong.ledger.balances import AccountTotals, sum_lines, trial_balance
from fengkong.money import Money

REQUIRED = {
    "loans_receivable",
    "interest_receivable",
    "interest_income",
    "fee_income",
    "penalty_income",
    "cash_clearing",
    "partner_payables",
    "write_off_expense",
    "recoveries",
    "suspense",
}


def test_the_standard_chart_has_the_accounts_lending_needs() -> None:
    assert {account.code for account in STANDARD_CHART} >= REQUIRED
    assert STANDARD_CHART.get("loans_receivable").type is AccountType.ASSET
    assert STANDARD_CHART.get("partner_payables").type is AccountType.LIABILITY
    assert STANDARD_CHART.get("interest_income").type is AccountType.INCOME
    assert STANDARD_CHART.get("write_off_expense").type is AccountType.EXPENSE


def test_normal_sides() -> None:
    assert AccountType.ASSET.normal_sign == 1
    assert AccountType.EXPENSE.normal_sign == 1
    for kind in (AccountType.LIABILITY, AccountType.EQUITY, AccountType.INCOME):
        assert kind.normal_sign == -1


def test_sub_accounts_split_and_join() -> None:
    assert split_account("loans_receivable:LN-1") == ("loans_receivable", "LN-1")
    assert split_account("cash_clearing") == ("cash_clearing", "")
    assert join_account("loans_receivable", "LN-1") == "loans_receivable:LN-1"
    assert join_account("cash_clearing", "") == "cash_clearing"
    assert STANDARD_CHART.account_of("loans_receivable:LN-1").code == "loans_receivable"


def test_bad_charts_are_refused() -> None:
    with pytest.raises(InputError):
        ChartOfAccounts([])
    with pytest.raises(InputError):
        ChartOfAccounts([Account("a", "A", AccountType.ASSET), Account("a", "B", AccountType.ASSET)])
    with pytest.raises(InputError):
        Account("a:b", "colon", AccountType.ASSET)
    with pytest.raises(InputError):
        Account("", "empty", AccountType.ASSET)
    with pytest.raises(InputError):
        STANDARD_CHART.get("petty_cash")


def test_totals_roll_sub_accounts_up() -> None:
    lines = [
        PostingLine("loans_receivable:LN-1", Money(1000)),
        PostingLine("loans_receivable:LN-2", Money(500)),
        PostingLine("cash_clearing", Money(-1500)),
        PostingLine("loans_receivable:LN-1", Money(-200)),
        PostingLine("cash_clearing", Money(200)),
    ]
    assert sum_lines(lines) == [
        AccountTotals("cash_clearing", "CNY", 200, 1500),
        AccountTotals("loans_receivable", "CNY", 1500, 200),
    ]


def test_trial_balance_columns_and_totals() -> None:
    totals = [
        AccountTotals("cash_clearing", "CNY", 200, 1500),
        AccountTotals("loans_receivable", "CNY", 1500, 200),
        AccountTotals("cash_clearing", "USD", 0, 7),
        AccountTotals("suspense", "USD", 7, 0),
    ]
    trial = trial_balance(totals, STANDARD_CHART)
    assert trial.is_balanced
    cash_cny = trial.lines[0]
    assert (cash_cny.debit.amount_minor, cash_cny.credit.amount_minor) == (0, 1300)
    assert not cash_cny.is_normal  # an asset with a credit balance: money owed to the channels
    assert [money.format() for money in trial.total_debit] == ["13.00", "0.07"]
    assert [money.format() for money in trial.total_credit] == ["13.00", "0.07"]
    wire = trial.to_json()
    assert wire["balanced"] is True
    assert wire["accounts"][2] == {  # type: ignore[index]
        "account": "loans_receivable",
        "type": "asset",
        "currency": "CNY",
        "debit": "13.00",
        "credit": "0.00",
    }


def test_an_unbalanced_set_of_totals_shows_as_unbalanced() -> None:
    trial = trial_balance([AccountTotals("cash_clearing", "CNY", 100, 0)], STANDARD_CHART)
    assert not trial.is_balanced
