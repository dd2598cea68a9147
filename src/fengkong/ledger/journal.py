"""The journal: append-only postings, checked before they are written, idempotent by ``posting_id``.

* :func:`validate_posting` is the check in code (the databases check again, see
  :mod:`fengkong.store.ledger`): every account is in the chart, no line is zero, ids and texts are within
  their bounds, and — by construction of :class:`~fengkong.domain.Posting` — debits equal credits in every
  currency.
* :func:`reversal_of` is the only way to correct a posting: a new posting with every line negated, which
  names the one it reverses. Postings are never updated or deleted.
* :class:`InMemoryJournal` is the same contract in memory (the reference the SQL journal is tested against,
  and the embedded journal of a simulation).

Posting the same ``posting_id`` again with the same content is a no-op reported as a duplicate; with other
content it raises :class:`~fengkong.errors.IdempotencyConflictError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from fengkong import bounds
from fengkong.domain.ledger import Posting, PostingLine
from fengkong.errors import BoundExceededError, IdempotencyConflictError, InputError, NotFoundError
from fengkong.ledger.accounts import SUBACCOUNT_SEPARATOR, ChartOfAccounts, split_account
from fengkong.ledger.balances import AccountTotals, sum_lines


def validate_posting(posting: Posting, chart: ChartOfAccounts) -> None:
    """Raise :class:`~fengkong.errors.InputError` (naming the field) unless ``posting`` may be journaled."""
    if not posting.posting_id or len(posting.posting_id) > bounds.ledger_posting_id_length_max:
        raise InputError(f"must be 1 to {bounds.ledger_posting_id_length_max} characters", field="posting_id")
    if len(posting.description) > bounds.ledger_description_length_max:
        raise InputError(
            f"longer than {bounds.ledger_description_length_max} characters", field="description"
        )
    if len(posting.lines) > bounds.ledger_posting_lines_max:
        raise BoundExceededError(
            "ledger_posting_lines_max", bounds.ledger_posting_lines_max, len(posting.lines)
        )
    if posting.reverses is not None and posting.reverses == posting.posting_id:
        raise InputError("a posting cannot reverse itself", field="reverses")
    for index, line in enumerate(posting.lines):
        field = f"lines[{index}]"
        if line.amount.amount_minor == 0:
            raise InputError("a zero line moves nothing", field=f"{field}.amount")
        code, subaccount = split_account(line.account)
        if code not in chart:
            raise InputError(f"unknown account {code!r}", field=f"{field}.account")
        if len(subaccount) > bounds.ledger_subaccount_length_max:
            raise InputError(
                f"sub-account longer than {bounds.ledger_subaccount_length_max} characters",
                field=f"{field}.account",
            )
        if not subaccount and SUBACCOUNT_SEPARATOR in line.account:
            raise InputError(f"empty sub-account after {SUBACCOUNT_SEPARATOR!r}", field=f"{field}.account")


def reversal_of(
    original: Posting, posting_id: str, business_date: date, description: str | None = None
) -> Posting:
    """The posting that undoes ``original``: the same lines negated, ``reverses=original.posting_id``."""
    return Posting(
        posting_id=posting_id,
        business_date=business_date,
        description=description if description is not None else f"reversal of {original.posting_id}",
        lines=tuple(PostingLine(line.account, -line.amount) for line in original.lines),
        reverses=original.posting_id,
    )


@dataclass(frozen=True, slots=True)
class PostResult:
    """Which postings of a batch were new and which had been posted before (retries)."""

    posted: tuple[str, ...]
    duplicates: tuple[str, ...]


def unique_in_batch(postings: Sequence[Posting]) -> list[Posting]:
    """``postings`` with repeats of one ``posting_id`` collapsed (identical repeats only; others conflict)."""
    if len(postings) > bounds.ledger_batch_postings_max:
        raise BoundExceededError("ledger_batch_postings_max", bounds.ledger_batch_postings_max, len(postings))
    seen: dict[str, Posting] = {}
    for posting in postings:
        earlier = seen.get(posting.posting_id)
        if earlier is None:
            seen[posting.posting_id] = posting
        elif earlier != posting:
            raise IdempotencyConflictError(
                f"posting {posting.posting_id!r} appears twice with different content"
            )
    return list(seen.values())


class InMemoryJournal:
    """An append-only journal in memory with the contract of the SQL journal."""

    def __init__(self, chart: ChartOfAccounts) -> None:
        self._chart = chart
        self._postings: dict[str, Posting] = {}
        self._reversed: dict[str, str] = {}

    def post(self, postings: Iterable[Posting]) -> PostResult:
        """Validate every posting, then append the new ones; nothing is written if any is refused."""
        batch = unique_in_batch(list(postings))
        posted: list[str] = []
        duplicates: list[str] = []
        reversed_now: dict[str, str] = {}
        batch_ids = {posting.posting_id for posting in batch}
        for posting in batch:
            validate_posting(posting, self._chart)
            stored = self._postings.get(posting.posting_id)
            if stored is not None:
                if stored != posting:
                    raise IdempotencyConflictError(
                        f"posting {posting.posting_id!r} was posted before with different content"
                    )
                duplicates.append(posting.posting_id)
                continue
            if posting.reverses is not None:
                if posting.reverses not in self._postings and posting.reverses not in batch_ids:
                    raise NotFoundError(f"posting {posting.reverses!r} to reverse does not exist")
                if posting.reverses in self._reversed or posting.reverses in reversed_now:
                    raise IdempotencyConflictError(f"posting {posting.reverses!r} is already reversed")
                reversed_now[posting.reverses] = posting.posting_id
            posted.append(posting.posting_id)
        for posting in batch:
            if posting.posting_id in posted:
                self._postings[posting.posting_id] = posting
        self._reversed.update(reversed_now)
        return PostResult(tuple(posted), tuple(duplicates))

    def get(self, posting_id: str) -> Posting:
        try:
            return self._postings[posting_id]
        except KeyError:
            raise NotFoundError(f"posting {posting_id!r} not found") from None

    def __len__(self) -> int:
        return len(self._postings)

    def postings(self) -> tuple[Posting, ...]:
        """Every posting, in the order posted."""
        return tuple(self._postings.values())

    def totals(self) -> list[AccountTotals]:
        """Debit and credit totals per account code and currency (sub-accounts rolled up)."""
        return sum_lines(line for posting in self._postings.values() for line in posting.lines)
