"""The SQL journal: transfer headers and lines, written in batches, idempotent by ``posting_id``.

Every method takes the caller's connection, so postings commit together with whatever else the use case
writes. The checks in code live in :mod:`fengkong.ledger.journal` (called by :mod:`fengkong.services.ledger`
before this repository); the databases check again on their own (migration 0002):

* PostgreSQL — a deferred constraint trigger on each header verifies at COMMIT that the transfer has exactly
  ``line_count`` lines summing to zero in every currency; a violation makes the COMMIT fail.
* SQLite — lines go in in order; the trigger on the last line refuses it unless every other line is present
  and the lines balance; the header's deferred foreign key to its last line makes COMMIT fail for an
  incomplete transfer (``PRAGMA foreign_keys=ON``, which :func:`fengkong.store.config.make_engine` sets).

No UPDATE or DELETE reaches a posting (triggers refuse both); a correction is a reversing posting, whose
header names the posting it reverses (unique: a posting is reversed at most once).

Writing. :meth:`LedgerRepository.post_batch` inserts the headers of a batch with ``ON CONFLICT DO NOTHING
RETURNING`` (so a retried posting is reported as a duplicate, and under concurrent callers exactly one
transaction writes each ``posting_id``), compares every duplicate with what is stored (a different body under
the same id raises :class:`~fengkong.errors.IdempotencyConflictError`), then inserts the new postings' lines
in one executemany.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

import sqlalchemy as sa

from fengkong import bounds
from fengkong.clock import Clock
from fengkong.domain.ledger import Posting, PostingLine
from fengkong.errors import (
    BoundExceededError,
    ConflictError,
    IdempotencyConflictError,
    InputError,
    InvariantError,
    NotFoundError,
)
from fengkong.money import Money
from fengkong.store import tables
from fengkong.store.dialect import insert_for as _insert

#: Mirrors :data:`fengkong.ledger.accounts.SUBACCOUNT_SEPARATOR` (store/ may not import ledger/; tested).
SUBACCOUNT_SEPARATOR: Final = ":"
ACCOUNT_TYPES: Final = ("asset", "liability", "equity", "income", "expense")


@dataclass(frozen=True, slots=True)
class LedgerTotalsRow:
    """Debit and credit totals (non-negative minor units) of one account code in one currency."""

    code: str
    currency: str
    debit_minor: int
    credit_minor: int


@dataclass(frozen=True, slots=True)
class PostedBatch:
    """The ``posting_id`` values written now, and those that had been written before (identical retries)."""

    posted: tuple[str, ...]
    duplicates: tuple[str, ...]


def _bind(column: sa.Column[Any], connection: sa.Connection) -> Any:
    """The column type's bind processor for this dialect (identity when it has none)."""
    processor = column.type.bind_processor(connection.dialect)
    return processor if processor is not None else (lambda value: value)


HEADER_COLUMNS: Final = "transfer_id, business_date, description, reverses, line_count, created_at"
LINE_COLUMNS: Final = "transfer_id, line_number, line_count, account_code, subaccount, currency, amount_minor"
NULL_IN_COPY: Final = "\\N"
_COPY_ESCAPES: Final = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: str) -> str:
    """``value`` escaped for PostgreSQL's COPY text format."""
    return value.translate(_COPY_ESCAPES)


def _copy(connection: sa.Connection, statement: str, data: str) -> None:
    """Send ``data`` (COPY text format) through the driver's ``COPY ... FROM STDIN``."""
    cursor: Any = connection.connection.cursor()
    try:
        with cursor.copy(statement) as copy:
            copy.write(data)
    finally:
        cursor.close()


def _split(account: str) -> tuple[str, str]:
    code, _, subaccount = account.partition(SUBACCOUNT_SEPARATOR)
    return code, subaccount


def header_row(posting: Posting, created_at: Any) -> dict[str, Any]:
    """The ``ledger_transfers`` row of ``posting``."""
    return {
        "transfer_id": posting.posting_id,
        "business_date": posting.business_date,
        "description": posting.description,
        "reverses": posting.reverses,
        "line_count": len(posting.lines),
        "created_at": created_at,
    }


def line_rows(posting: Posting) -> list[dict[str, Any]]:
    """The ``ledger_lines`` rows of ``posting``, numbered from 1 in the posting's order."""
    count = len(posting.lines)
    rows = []
    for number, line in enumerate(posting.lines, start=1):
        code, subaccount = _split(line.account)
        rows.append(
            {
                "transfer_id": posting.posting_id,
                "line_number": number,
                "line_count": count,
                "account_code": code,
                "subaccount": subaccount,
                "currency": line.amount.currency,
                "amount_minor": line.amount.amount_minor,
            }
        )
    return rows


def posting_from_rows(
    header: sa.RowMapping | Mapping[str, Any], lines: Sequence[sa.RowMapping] | Sequence[Mapping[str, Any]]
) -> Posting:
    """The :class:`~fengkong.domain.Posting` stored as ``header`` and its ``lines`` (in line order)."""
    business_date = header["business_date"]
    if not isinstance(business_date, date):
        raise InvariantError(f"business_date of {header['transfer_id']!r} is not a date")
    return Posting(
        posting_id=header["transfer_id"],
        business_date=business_date,
        description=header["description"],
        lines=tuple(
            PostingLine(
                f"{row['account_code']}{SUBACCOUNT_SEPARATOR}{row['subaccount']}"
                if row["subaccount"]
                else row["account_code"],
                Money(int(row["amount_minor"]), row["currency"]),
            )
            for row in lines
        ),
        reverses=header["reverses"],
    )


class LedgerRepository:
    """Accounts, postings and totals in SQL (see the module docstring)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    # -- accounts ------------------------------------------------------------------------------------------
    def add_accounts(self, connection: sa.Connection, accounts: Iterable[tuple[str, str, str]]) -> int:
        """Store ``(code, name, type)`` accounts; idempotent by code. Returns how many were new.

        An existing code with another name or type raises :class:`~fengkong.errors.ConflictError`.
        """
        rows = [{"code": code, "name": name, "type": kind} for code, name, kind in accounts]
        for row in rows:
            if row["type"] not in ACCOUNT_TYPES:
                raise InputError(f"unknown account type {row['type']!r}", field="type")
        if not rows:
            return 0
        table = tables.ledger_accounts
        statement = _insert(connection, table).on_conflict_do_nothing(index_elements=[table.c.code])
        new = 0
        for row in rows:
            result = connection.execute(statement.values(row).returning(table.c.code))
            if result.first() is not None:
                new += 1
                continue
            stored = connection.execute(sa.select(table).where(table.c.code == row["code"])).mappings().one()
            if (stored["name"], stored["type"]) != (row["name"], row["type"]):
                raise ConflictError(f"account {row['code']!r} is already stored as {dict(stored)}")
        return new

    def account_codes(self, connection: sa.Connection) -> set[str]:
        table = tables.ledger_accounts
        return set(connection.execute(sa.select(table.c.code)).scalars())

    # -- postings ------------------------------------------------------------------------------------------
    def post_batch(self, connection: sa.Connection, postings: Sequence[Posting]) -> PostedBatch:
        """Write the new postings of ``postings`` (headers, then lines); report earlier ones as duplicates.

        Repeats of one ``posting_id`` inside the batch must be identical. Raises
        :class:`~fengkong.errors.BoundExceededError` past :data:`~fengkong.bounds.ledger_batch_postings_max`.
        """
        if len(postings) > bounds.ledger_batch_postings_max:
            raise BoundExceededError(
                "ledger_batch_postings_max", bounds.ledger_batch_postings_max, len(postings)
            )
        unique: dict[str, Posting] = {}
        for posting in postings:
            earlier = unique.get(posting.posting_id)
            if earlier is None:
                unique[posting.posting_id] = posting
            elif earlier != posting:
                raise IdempotencyConflictError(
                    f"posting {posting.posting_id!r} appears twice with different content"
                )
        if not unique:
            return PostedBatch((), ())
        created_at = self._clock.now()
        # headers in posting_id order, so that concurrent overlapping batches lock rows in the same order
        batch = sorted(unique.values(), key=lambda posting: posting.posting_id)
        new_ids: set[str] = set()
        chunk_size = bounds.ledger_insert_rows_max
        for start in range(0, len(batch), chunk_size):
            new_ids.update(self._insert_headers(connection, batch[start : start + chunk_size], created_at))
        duplicates = [posting for posting in batch if posting.posting_id not in new_ids]
        for posting in duplicates:
            try:
                stored = self.get(connection, posting.posting_id)
            except NotFoundError:  # the insert met another unique key: a second reversal of one posting
                raise ConflictError(
                    f"posting {posting.posting_id!r} reverses {posting.reverses!r}, which is already reversed"
                ) from None
            if stored != posting:
                raise IdempotencyConflictError(
                    f"posting {posting.posting_id!r} was posted before with different content"
                )
        fresh = [posting for posting in batch if posting.posting_id in new_ids]
        for start in range(0, len(fresh), chunk_size):
            self._insert_lines(connection, fresh[start : start + chunk_size])
        return PostedBatch(
            tuple(posting.posting_id for posting in fresh),
            tuple(posting.posting_id for posting in duplicates),
        )

    # Fast paths. PostgreSQL: COPY (text format) — the headers into a session's staging table, then one
    # INSERT ... ON CONFLICT DO NOTHING RETURNING in posting_id order; the lines straight into ledger_lines
    # (its constraints and the deferred checks apply to COPY as to INSERT). SQLite: one writer at a time
    # (BEGIN IMMEDIATE), so the ids already stored are read first and the rest go in through the driver's
    # executemany; values pass the columns' own bind processors, so they are stored as SQLAlchemy would.

    def _insert_headers(
        self, connection: sa.Connection, postings: Sequence[Posting], created_at: Any
    ) -> set[str]:
        table = tables.ledger_transfers
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(
                "CREATE TEMPORARY TABLE IF NOT EXISTS ledger_transfers_stage "
                "(LIKE ledger_transfers INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
            )
            connection.exec_driver_sql("TRUNCATE ledger_transfers_stage")
            stamp = _copy_text(created_at.isoformat())
            _copy(
                connection,
                f"COPY ledger_transfers_stage ({HEADER_COLUMNS}) FROM STDIN",
                "".join(
                    f"{_copy_text(posting.posting_id)}\t{posting.business_date.isoformat()}\t"
                    f"{_copy_text(posting.description)}\t"
                    f"{NULL_IN_COPY if posting.reverses is None else _copy_text(posting.reverses)}\t"
                    f"{len(posting.lines)}\t{stamp}\n"
                    for posting in postings
                ),
            )
            result = connection.exec_driver_sql(
                f"INSERT INTO ledger_transfers ({HEADER_COLUMNS}) "
                f"SELECT {HEADER_COLUMNS} FROM ledger_transfers_stage ORDER BY transfer_id "
                # no conflict target: every unique index is an arbiter, so a concurrent insert of the same
                # transfer never trips (transfer_id, line_count) or (reverses) before the primary key
                "ON CONFLICT DO NOTHING RETURNING transfer_id"
            )
            return {str(value) for value in result.scalars()}
        if connection.dialect.name != "sqlite":
            raise InvariantError(f"unsupported database dialect {connection.dialect.name!r}")
        ids = [posting.posting_id for posting in postings]
        stored = set(
            connection.execute(sa.select(table.c.transfer_id).where(table.c.transfer_id.in_(ids))).scalars()
        )
        fresh = [posting for posting in postings if posting.posting_id not in stored]
        if not fresh:
            return set()
        reversed_ids = [posting.reverses for posting in fresh if posting.reverses is not None]
        if reversed_ids:
            already = connection.execute(
                sa.select(table.c.reverses).where(table.c.reverses.in_(reversed_ids)).limit(1)
            ).scalar_one_or_none()
            if already is not None:
                raise ConflictError(f"posting {already!r} is already reversed")
        to_date = _bind(table.c.business_date, connection)
        stamp = _bind(table.c.created_at, connection)(created_at)
        connection.exec_driver_sql(
            f"INSERT INTO ledger_transfers ({HEADER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
            [
                (
                    posting.posting_id,
                    to_date(posting.business_date),
                    posting.description,
                    posting.reverses,
                    len(posting.lines),
                    stamp,
                )
                for posting in fresh
            ],
        )
        return {posting.posting_id for posting in fresh}

    def _insert_lines(self, connection: sa.Connection, postings: Sequence[Posting]) -> None:
        if not postings:
            return
        numbered = [
            (posting, number, line, *_split(line.account))
            for posting in postings
            for number, line in enumerate(posting.lines, start=1)
        ]
        if connection.dialect.name == "postgresql":
            _copy(
                connection,
                f"COPY ledger_lines ({LINE_COLUMNS}) FROM STDIN",
                "".join(
                    f"{_copy_text(posting.posting_id)}\t{number}\t{len(posting.lines)}\t{_copy_text(code)}\t"
                    f"{_copy_text(subaccount)}\t{line.amount.currency}\t{line.amount.amount_minor}\n"
                    for posting, number, line, code, subaccount in numbered
                ),
            )
            return
        connection.exec_driver_sql(
            f"INSERT INTO ledger_lines ({LINE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    posting.posting_id,
                    number,
                    len(posting.lines),
                    code,
                    subaccount,
                    line.amount.currency,
                    line.amount.amount_minor,
                )
                for posting, number, line, code, subaccount in numbered
            ],
        )

    def get(self, connection: sa.Connection, posting_id: str) -> Posting:
        """The posting ``posting_id``; :class:`~fengkong.errors.NotFoundError` when there is none."""
        transfers, lines = tables.ledger_transfers, tables.ledger_lines
        header = connection.execute(
            sa.select(transfers).where(transfers.c.transfer_id == posting_id)
        ).mappings()
        found = header.first()
        if found is None:
            raise NotFoundError(f"posting {posting_id!r} not found")
        rows = (
            connection.execute(
                sa.select(lines).where(lines.c.transfer_id == posting_id).order_by(lines.c.line_number)
            )
            .mappings()
            .all()
        )
        return posting_from_rows(found, rows)

    def reversal_of(self, connection: sa.Connection, posting_id: str) -> str | None:
        """The ``posting_id`` of the posting that reverses ``posting_id``, if there is one."""
        transfers = tables.ledger_transfers
        return connection.execute(
            sa.select(transfers.c.transfer_id).where(transfers.c.reverses == posting_id)
        ).scalar_one_or_none()

    def count(self, connection: sa.Connection) -> tuple[int, int]:
        """(postings, lines) stored."""
        transfers, lines = tables.ledger_transfers, tables.ledger_lines
        postings = connection.execute(sa.select(sa.func.count()).select_from(transfers)).scalar_one()
        line_count = connection.execute(sa.select(sa.func.count()).select_from(lines)).scalar_one()
        return int(postings), int(line_count)

    # -- balances ------------------------------------------------------------------------------------------
    def totals(self, connection: sa.Connection) -> list[LedgerTotalsRow]:
        """Debit and credit totals per account code and currency (sub-accounts rolled up)."""
        lines = tables.ledger_lines
        debit = sa.func.sum(sa.case((lines.c.amount_minor > 0, lines.c.amount_minor), else_=0))
        credit = sa.func.sum(sa.case((lines.c.amount_minor < 0, -lines.c.amount_minor), else_=0))
        statement = (
            sa.select(lines.c.account_code, lines.c.currency, debit, credit)
            .group_by(lines.c.account_code, lines.c.currency)
            .order_by(lines.c.account_code, lines.c.currency)
        )
        return [
            LedgerTotalsRow(code, currency, int(debit_sum), int(credit_sum))
            for code, currency, debit_sum, credit_sum in connection.execute(statement)
        ]

    def balance(self, connection: sa.Connection, account: str, currency: str) -> int:
        """Net balance (debits less credits, minor units) of ``code`` or ``code:sub`` in ``currency``."""
        lines = tables.ledger_lines
        code, subaccount = _split(account)
        statement = sa.select(sa.func.coalesce(sa.func.sum(lines.c.amount_minor), 0)).where(
            lines.c.account_code == code, lines.c.currency == currency
        )
        if SUBACCOUNT_SEPARATOR in account:
            statement = statement.where(lines.c.subaccount == subaccount)
        return int(connection.execute(statement).scalar_one())
