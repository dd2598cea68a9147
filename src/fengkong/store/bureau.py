"""Credit-bureau reporting in SQL: the loan facts a month's file is derived from, the notices given to
borrowers, and what each file reported (tables in ``tables_bureau.py``; loans read from ``tables.py``).

Loan facts are plain rows (``store/`` may not import ``reporting/``); the service turns them into
:class:`fengkong.reporting.bureau.LoanFacts`. Payments are the allocation lines of applied repayments that
were not reversed, with the repayment's business date. A closed loan's settlement date is the business date
of its unreversed payoff; a written-off loan's write-off date is its ``last_closed_on`` (close of business
skips it from that day on).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from fengkong import bounds
from fengkong.clock import Clock
from fengkong.store import tables
from fengkong.store.dialect import insert_for as _insert
from fengkong.store.tables_bureau import bureau_notices, bureau_reported


class BureauRepository:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    # -- loans -----------------------------------------------------------------------------------------------
    def loans_disbursed_by(self, connection: sa.Connection, last_day: date) -> list[dict[str, Any]]:
        """Headers of loans disbursed on or before ``last_day``, with status and last closed day."""
        table = tables.loans
        rows = connection.execute(
            sa.select(
                table.c.loan_number,
                table.c.loan_id,
                table.c.party_id,
                table.c.product,
                table.c.currency,
                table.c.principal_fen,
                table.c.disbursed_on,
                table.c.status,
                table.c.last_closed_on,
            )
            .where(table.c.disbursed_on <= last_day)
            .order_by(table.c.loan_number)
        ).mappings()
        return [dict(row) for row in rows]

    def installments_of(
        self, connection: sa.Connection, loan_numbers: Sequence[int]
    ) -> dict[int, list[dict[str, Any]]]:
        table = tables.loan_installments
        found: dict[int, list[dict[str, Any]]] = {}
        step = bounds.loan_lookup_ids_per_query_max
        for first in range(0, len(loan_numbers), step):
            rows = connection.execute(
                sa.select(table)
                .where(table.c.loan_number.in_(list(loan_numbers[first : first + step])))
                .order_by(table.c.loan_number, table.c.number)
            ).mappings()
            for row in rows:
                found.setdefault(int(row["loan_number"]), []).append(dict(row))
        return found

    def payments_of(
        self, connection: sa.Connection, loan_numbers: Sequence[int]
    ) -> dict[int, list[dict[str, Any]]]:
        """Allocation lines of applied, unreversed repayments, with the repayment's date and payoff flag."""
        repayments, lines = tables.loan_repayments, tables.loan_repayment_allocations
        found: dict[int, list[dict[str, Any]]] = {}
        step = bounds.loan_lookup_ids_per_query_max
        for first in range(0, len(loan_numbers), step):
            rows = connection.execute(
                sa.select(
                    repayments.c.loan_number,
                    repayments.c.business_date,
                    repayments.c.paid_off,
                    lines.c.installment,
                    lines.c.component,
                    lines.c.amount_fen,
                )
                .join(lines, lines.c.repayment_id == repayments.c.repayment_id)
                .where(
                    repayments.c.loan_number.in_(list(loan_numbers[first : first + step])),
                    repayments.c.outcome == "applied",
                    repayments.c.reversed_by.is_(None),
                )
                .order_by(
                    repayments.c.loan_number,
                    repayments.c.business_date,
                    lines.c.repayment_id,
                    lines.c.line_number,
                )
            ).mappings()
            for row in rows:
                found.setdefault(int(row["loan_number"]), []).append(dict(row))
        return found

    # -- notices ---------------------------------------------------------------------------------------------
    def add_notice(
        self,
        connection: sa.Connection,
        notice_id: str,
        loan_id: str,
        kind: str,
        notified_on: date,
        channel: str,
    ) -> bool:
        statement = (
            _insert(connection, bureau_notices)
            .values(
                notice_id=notice_id,
                loan_id=loan_id,
                kind=kind,
                notified_on=notified_on,
                channel=channel,
                created_at=self._clock.now(),
            )
            .on_conflict_do_nothing(index_elements=["notice_id"])
            .returning(bureau_notices.c.notice_id)
        )
        return connection.execute(statement).scalar_one_or_none() is not None

    def notice(self, connection: sa.Connection, notice_id: str) -> dict[str, Any] | None:
        table = bureau_notices
        row = connection.execute(sa.select(table).where(table.c.notice_id == notice_id)).mappings().first()
        return None if row is None else dict(row)

    def notices(self, connection: sa.Connection) -> list[dict[str, Any]]:
        table = bureau_notices
        rows = connection.execute(sa.select(table).order_by(table.c.loan_id, table.c.notified_on)).mappings()
        return [dict(row) for row in rows]

    # -- what files reported --------------------------------------------------------------------------------
    def latest_reported(
        self, connection: sa.Connection, file_format: str
    ) -> dict[tuple[str, str], dict[str, Any]]:
        """The latest revision per (loan ID, month) reported in ``file_format`` files."""
        table = bureau_reported
        rows = connection.execute(
            sa.select(table)
            .where(table.c.file_format == file_format)
            .order_by(table.c.loan_id, table.c.month, table.c.revision)
        ).mappings()
        latest: dict[tuple[str, str], dict[str, Any]] = {}
        for row in rows:
            latest[(str(row["loan_id"]), str(row["month"]))] = dict(row)
        return latest

    def add_reported(self, connection: sa.Connection, rows: Sequence[dict[str, Any]], at: datetime) -> None:
        if rows:
            connection.execute(bureau_reported.insert(), [{**row, "reported_at": at} for row in rows])
