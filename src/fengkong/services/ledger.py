"""Use cases of the ledger: install the chart, post (checked in code, then by the database), reverse, and
the trial balance.

Postings are validated against the chart by :func:`fengkong.ledger.journal.validate_posting` before a row is
written; :class:`fengkong.store.ledger.LedgerRepository` writes them and the database checks the balance again
(deferred trigger on PostgreSQL, checked header on SQLite). Every function takes the caller's connection so
that postings commit with the rest of a use case; :func:`post_in_batches` is the throughput path, one
transaction per batch (safe to retry: posting is idempotent by ``posting_id``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa

from fengkong import bounds
from fengkong.domain.ledger import Posting
from fengkong.errors import ConflictError, InputError, InvariantError
from fengkong.ledger.accounts import STANDARD_CHART, ChartOfAccounts
from fengkong.ledger.balances import AccountTotals, TrialBalance, trial_balance
from fengkong.ledger.journal import PostResult, reversal_of, unique_in_batch, validate_posting
from fengkong.services.audit import enqueue_ledger_batch
from fengkong.store.ledger import LedgerRepository
from fengkong.store.repositories import OutboxRepository


def install_chart(
    connection: sa.Connection, repository: LedgerRepository, chart: ChartOfAccounts = STANDARD_CHART
) -> int:
    """Store every account of ``chart`` (idempotent); returns how many were new."""
    return repository.add_accounts(
        connection, ((account.code, account.name, account.type.value) for account in chart)
    )


def post(
    connection: sa.Connection,
    repository: LedgerRepository,
    postings: Sequence[Posting],
    chart: ChartOfAccounts = STANDARD_CHART,
    *,
    audit_outbox: OutboxRepository | None = None,
) -> PostResult:
    """Validate ``postings`` against ``chart`` and write the new ones in the caller's transaction.

    With ``audit_outbox``, the batch of new postings is also put on the audit trail (one outbox row naming
    their IDs, :func:`fengkong.services.audit.enqueue_ledger_batch`) in the same transaction, so it reaches
    the audit log exactly when the postings commit.
    """
    batch = unique_in_batch(postings)
    for posting in batch:
        validate_posting(posting, chart)
    written = repository.post_batch(connection, batch)
    if audit_outbox is not None and written.posted:
        batch_id = "ledger:" + hashlib.sha256("\n".join(written.posted).encode("utf-8")).hexdigest()[:32]
        enqueue_ledger_batch(connection, audit_outbox, batch_id, written.posted)
    return PostResult(written.posted, written.duplicates)


def post_in_batches(
    engine: sa.Engine,
    repository: LedgerRepository,
    postings: Sequence[Posting],
    batch_postings: int,
    chart: ChartOfAccounts = STANDARD_CHART,
    *,
    audit_outbox: OutboxRepository | None = None,
) -> PostResult:
    """:func:`post` in transactions of ``batch_postings`` postings each ; a failure keeps earlier batches."""
    if not 1 <= batch_postings <= bounds.ledger_batch_postings_max:
        raise InputError(
            f"must be between 1 and ledger_batch_postings_max={bounds.ledger_batch_postings_max}",
            field="batch_postings",
        )
    posted: list[str] = []
    duplicates: list[str] = []
    for start in range(0, len(postings), batch_postings):
        with engine.begin() as connection:
            result = post(
                connection,
                repository,
                postings[start : start + batch_postings],
                chart,
                audit_outbox=audit_outbox,
            )
        posted.extend(result.posted)
        duplicates.extend(result.duplicates)
    return PostResult(tuple(posted), tuple(duplicates))


def reverse(
    connection: sa.Connection,
    repository: LedgerRepository,
    posting_id: str,
    reversal_id: str,
    business_date: date,
    chart: ChartOfAccounts = STANDARD_CHART,
) -> Posting:
    """Post the reversal of ``posting_id`` under ``reversal_id`` (idempotent on ``reversal_id``)."""
    original = repository.get(connection, posting_id)
    if original.reverses is not None:
        raise InputError(f"{posting_id!r} is itself a reversal; post a new entry instead", field="posting_id")
    existing = repository.reversal_of(connection, posting_id)
    if existing is not None and existing != reversal_id:
        raise ConflictError(f"posting {posting_id!r} is already reversed by {existing!r}")
    reversal = reversal_of(original, reversal_id, business_date)
    post(connection, repository, [reversal], chart)
    return reversal


def totals(connection: sa.Connection, repository: LedgerRepository) -> list[AccountTotals]:
    return [
        AccountTotals(row.code, row.currency, row.debit_minor, row.credit_minor)
        for row in repository.totals(connection)
    ]


def current_trial_balance(
    connection: sa.Connection, repository: LedgerRepository, chart: ChartOfAccounts = STANDARD_CHART
) -> TrialBalance:
    """The trial balance of everything posted; an unbalanced one is a broken invariant and raises."""
    result = trial_balance(totals(connection, repository), chart)
    if not result.is_balanced:
        raise InvariantError(f"the ledger does not balance: {result.to_json()['totals']}")
    return result
