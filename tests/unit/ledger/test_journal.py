"""The journal in code: validation, reversing entries, idempotency, and the in-memory journal's invariants."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given

from fengkong import bounds
from fengkong.domain.ledger import Posting, PostingLine
from fengkong.errors import BoundExceededError, IdempotencyConflictError, InputError, NotFoundError
from fengkong.ledger.accounts import STANDARD_CHART
from fengkong.ledger.balances import trial_balance
from fengkong.ledger.journal import InMemoryJournal, reversal_of, unique_in_batch, validate_posting
from fengkong.money import Money
from tests.strategies import balanced_postings

DAY = date(2026, 3, 1)


def posting(posting_id: str = "p-1", amount: int = 500, debit: str = "loans_receivable:LN-1") -> Posting:
    return Posting(
        posting_id,
        DAY,
        "disburse",
        (PostingLine(debit, Money(amount)), PostingLine("cash_clearing", Money(-amount))),
    )


def test_the_domain_refuses_an_unbalanced_posting() -> None:
    with pytest.raises(InputError):
        Posting("p", DAY, "x", (PostingLine("cash_clearing", Money(5)), PostingLine("equity", Money(-4))))
    with pytest.raises(InputError):
        Posting("p", DAY, "x", (PostingLine("cash_clearing", Money(0)),))


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        (posting(debit="petty_cash"), "lines[0].account"),
        (posting(debit="loans_receivable:"), "lines[0].account"),
        (
            posting(debit="loans_receivable:" + "x" * (bounds.ledger_subaccount_length_max + 1)),
            "lines[0].account",
        ),
        (posting(amount=0), "lines[0].amount"),
        (posting(posting_id=""), "posting_id"),
        (posting(posting_id="p" * (bounds.ledger_posting_id_length_max + 1)), "posting_id"),
        (replace(posting(), description="d" * (bounds.ledger_description_length_max + 1)), "description"),
        (replace(posting(), reverses="p-1"), "reverses"),
    ],
)
def test_validation_names_the_field(bad: Posting, field: str) -> None:
    with pytest.raises(InputError) as caught:
        validate_posting(bad, STANDARD_CHART)
    assert caught.value.field == field


def test_too_many_lines_hit_the_bound() -> None:
    count = bounds.ledger_posting_lines_max + 1
    lines = (
        *tuple(PostingLine("cash_clearing", Money(1)) for _ in range(count - 1)),
        PostingLine("equity", Money(-(count - 1))),
    )
    with pytest.raises(BoundExceededError):
        validate_posting(Posting("big", DAY, "many", lines), STANDARD_CHART)


def test_a_reversal_negates_every_line() -> None:
    original = posting()
    reversal = reversal_of(original, "rev-1", date(2026, 3, 2))
    assert reversal.reverses == "p-1"
    assert [line.amount.amount_minor for line in reversal.lines] == [-500, 500]
    assert [line.account for line in reversal.lines] == [line.account for line in original.lines]
    assert reversal.description == "reversal of p-1"


def test_unique_in_batch() -> None:
    assert unique_in_batch([posting(), posting()]) == [posting()]
    with pytest.raises(IdempotencyConflictError):
        unique_in_batch([posting(), posting(amount=501)])


def test_in_memory_journal_is_idempotent_and_append_only() -> None:
    journal = InMemoryJournal(STANDARD_CHART)
    assert journal.post([posting("p-1"), posting("p-2")]).posted == ("p-1", "p-2")
    again = journal.post([posting("p-1"), posting("p-3")])
    assert again.posted == ("p-3",) and again.duplicates == ("p-1",)
    with pytest.raises(IdempotencyConflictError):
        journal.post([posting("p-1", amount=9)])
    with pytest.raises(InputError):  # one bad posting: nothing of the batch is written
        journal.post([posting("p-4"), posting("p-5", debit="petty_cash")])
    assert len(journal) == 3
    with pytest.raises(NotFoundError):
        journal.get("p-4")


def test_in_memory_reversals() -> None:
    journal = InMemoryJournal(STANDARD_CHART)
    journal.post([posting("p-1")])
    journal.post([reversal_of(journal.get("p-1"), "rev-1", DAY)])
    with pytest.raises(IdempotencyConflictError):
        journal.post([reversal_of(journal.get("p-1"), "rev-2", DAY)])
    with pytest.raises(NotFoundError):
        journal.post([reversal_of(posting("ghost"), "rev-3", DAY)])
    assert all(total.net_minor == 0 for total in journal.totals())


@given(balanced_postings())
def test_the_journal_always_balances_and_reversals_cancel(postings: list[Posting]) -> None:
    journal = InMemoryJournal(STANDARD_CHART)
    journal.post(postings)
    assert trial_balance(journal.totals(), STANDARD_CHART).is_balanced
    journal.post([reversal_of(original, f"rev-{original.posting_id}", DAY) for original in postings])
    assert all(total.net_minor == 0 for total in journal.totals())
    assert trial_balance(journal.totals(), STANDARD_CHART).is_balanced
