"""Loans in SQL: servicing state, installments, repayments and close-of-business runs.

Every method takes the caller's connection, so a use case writes its loan rows, repayment rows and ledger
postings in one transaction. The servicing state travels as plain columns: a mapping of the field names of
:class:`fengkong.lending.close_of_business.Book` to numpy arrays (chunks of the close of business) or to ints
(one loan), dates as ``date.toordinal()`` with 0 for none. ``store/`` may not import ``lending/``; the names
are mirrored in :data:`STATE_COLUMNS` and a test checks they match.

Speed. A chunk is read with dates converted to ordinals by the database itself (SQLite ``julianday``,
PostgreSQL date subtraction) straight into numpy arrays, and written back with one executemany (SQLite) or a
COPY into a staging table and one ``UPDATE ... FROM`` (PostgreSQL).

Locking. :meth:`LoansRepository.state` with ``lock=True`` takes the loan's row lock on PostgreSQL
(``SELECT ... FOR UPDATE``); on SQLite every write transaction already holds the database (``BEGIN
IMMEDIATE``). Repayments of one loan are therefore serialised.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import sqlalchemy as sa

from fengkong import bounds
from fengkong.clock import Clock
from fengkong.errors import InvariantError, NotFoundError
from fengkong.store import tables
from fengkong.store.dialect import insert_for as _insert

#: (field of the servicing state, column of ``loans``, kind): kind is "int", "date" or "date?" (nullable).
STATE_COLUMNS: Final = (
    ("status", "status", "int"),
    ("last_closed", "last_closed_on", "date"),
    ("period_number", "period_number", "int"),
    ("period_start", "period_start", "date"),
    ("period_due", "period_due", "date?"),
    ("period_interest", "period_interest_fen", "int"),
    ("accrued_in_period", "accrued_in_period_fen", "int"),
    ("principal_outstanding", "principal_outstanding_fen", "int"),
    ("due_principal", "due_principal_fen", "int"),
    ("due_interest", "due_interest_fen", "int"),
    ("due_fee", "due_fee_fen", "int"),
    ("fees_outstanding", "fees_outstanding_fen", "int"),
    ("penalty_outstanding", "penalty_outstanding_fen", "int"),
    ("penalty_carry", "penalty_carry", "int"),
    ("penalty_rate_num", "penalty_rate_num", "int"),
    ("penalty_rate_den", "penalty_rate_den", "int"),
    ("interest_receivable", "interest_receivable_fen", "int"),
    ("interest_suspended", "interest_suspended_fen", "int"),
    ("overdue_since", "overdue_since", "date?"),
    ("days_past_due", "days_past_due", "int"),
    ("bucket", "bucket", "int"),
    ("asset_class", "asset_class", "int"),
)
SMALL_FIELDS: Final = frozenset({"status", "bucket", "asset_class"})
SQLITE_JULIAN_OF_ORDINAL_ZERO: Final = 1721424.5  # julianday('0001-01-01') is 1721425.5; its ordinal is 1
INSTALLMENT_AMOUNTS: Final = (
    "principal_fen",
    "interest_fen",
    "fee_fen",
    "paid_principal_fen",
    "paid_interest_fen",
    "paid_fee_fen",
    "waived_interest_fen",
)


def _read_expression(dialect: str, column: str, kind: str) -> str:
    if kind == "int":
        return column
    if dialect == "sqlite":
        return f"COALESCE(CAST(julianday({column}) - {SQLITE_JULIAN_OF_ORDINAL_ZERO} AS INTEGER), 0)"
    return f"COALESCE({column} - DATE '0001-01-01' + 1, 0)"


def _write_expression(dialect: str, value: str, kind: str) -> str:
    if kind == "int":
        return value
    if dialect == "sqlite":
        return f"date(NULLIF({value}, 0) + {SQLITE_JULIAN_OF_ORDINAL_ZERO})"
    return f"DATE '0001-01-01' + CAST(NULLIF({value}, 0) - 1 AS integer)"


def _to_date(ordinal: int) -> date | None:
    return date.fromordinal(ordinal) if ordinal else None


def state_values(state: Mapping[str, int]) -> dict[str, Any]:
    """``loans`` column values of a one-loan state mapping (ordinals become dates)."""
    values: dict[str, Any] = {}
    for field, column, kind in STATE_COLUMNS:
        value = int(state[field])
        values[column] = value if kind == "int" else _to_date(value)
    return values


class LoansRepository:
    """Loans, installments, repayments and close-of-business runs in SQL (see the module docstring)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    # -- one loan ------------------------------------------------------------------------------------------
    def add_loan(
        self,
        connection: sa.Connection,
        header: Mapping[str, Any],
        state: Mapping[str, int],
        installments: Sequence[Mapping[str, Any]],
    ) -> int | None:
        """Insert a loan and its installments; None when its offer or loan ID is already taken."""
        table = tables.loans
        row = {**header, **state_values(state), "created_at": self._clock.now()}
        statement = (
            _insert(connection, table).values(row).on_conflict_do_nothing().returning(table.c.loan_number)
        )
        loan_number = connection.execute(statement).scalar_one_or_none()
        if loan_number is None:
            return None
        connection.execute(
            tables.loan_installments.insert(),
            [{**item, "loan_number": loan_number} for item in installments],
        )
        return int(loan_number)

    def header(
        self, connection: sa.Connection, *, loan_id: str | None = None, offer_id: str | None = None
    ) -> dict[str, Any]:
        table = tables.loans
        condition = table.c.loan_id == loan_id if loan_id is not None else table.c.offer_id == offer_id
        row = connection.execute(
            sa.select(
                table.c.loan_number, table.c.loan_id, table.c.offer_id, table.c.party_id, table.c.product,
                table.c.currency, table.c.principal_fen, table.c.disbursed_on,
            ).where(condition)
        ).mappings().first()  # fmt: skip
        if row is None:
            raise NotFoundError(f"loan {loan_id or offer_id!r} not found")
        return dict(row)

    def state(self, connection: sa.Connection, loan_number: int, *, lock: bool = False) -> dict[str, int]:
        """The servicing state of one loan (ordinals for dates); ``lock`` takes its row lock on PostgreSQL."""
        dialect = connection.dialect.name
        select = ", ".join(_read_expression(dialect, column, kind) for _, column, kind in STATE_COLUMNS)
        suffix = " FOR UPDATE" if lock and dialect == "postgresql" else ""
        placeholder = "?" if dialect == "sqlite" else "%s"
        row = connection.exec_driver_sql(
            f"SELECT {select} FROM loans WHERE loan_number = {placeholder}{suffix}", (loan_number,)
        ).first()
        if row is None:
            raise NotFoundError(f"loan number {loan_number} not found")
        return {field: int(value) for (field, _, _), value in zip(STATE_COLUMNS, row, strict=True)}

    def update_state(self, connection: sa.Connection, loan_number: int, state: Mapping[str, int]) -> None:
        table = tables.loans
        result = connection.execute(
            table.update().where(table.c.loan_number == loan_number).values(state_values(state))
        )
        if result.rowcount != 1:
            raise InvariantError(f"loan number {loan_number} was not updated")

    def installments(self, connection: sa.Connection, loan_number: int) -> list[dict[str, Any]]:
        table = tables.loan_installments
        rows = connection.execute(
            sa.select(table).where(table.c.loan_number == loan_number).order_by(table.c.number)
        ).mappings()
        return [dict(row) for row in rows]

    def update_installments(
        self, connection: sa.Connection, loan_number: int, changed: Iterable[Mapping[str, Any]]
    ) -> None:
        table = tables.loan_installments
        rows = [
            {"n": item["number"], **{f"v_{name}": item[name] for name in INSTALLMENT_AMOUNTS[3:]}}
            for item in changed
        ]
        if not rows:
            return
        statement = (
            table.update()
            .where(table.c.loan_number == loan_number, table.c.number == sa.bindparam("n"))
            .values({name: sa.bindparam(f"v_{name}") for name in INSTALLMENT_AMOUNTS[3:]})
        )
        connection.execute(statement, rows)

    # -- repayments ----------------------------------------------------------------------------------------
    def add_repayment(self, connection: sa.Connection, row: Mapping[str, Any]) -> bool:
        """Insert a repayment row; False when its ``repayment_id`` is already stored (waits for a concurrent
        writer of the same id on PostgreSQL, then reports it)."""
        table = tables.loan_repayments
        statement = (
            _insert(connection, table)
            .values({**row, "created_at": self._clock.now()})
            .on_conflict_do_nothing(index_elements=[table.c.repayment_id])
            .returning(table.c.repayment_id)
        )
        return connection.execute(statement).scalar_one_or_none() is not None

    def repayment(self, connection: sa.Connection, repayment_id: str) -> dict[str, Any] | None:
        table = tables.loan_repayments
        row = (
            connection.execute(sa.select(table).where(table.c.repayment_id == repayment_id))
            .mappings()
            .first()
        )
        return None if row is None else dict(row)

    def add_allocations(
        self, connection: sa.Connection, repayment_id: str, lines: Sequence[tuple[int, str, int]]
    ) -> None:
        if lines:
            connection.execute(
                tables.loan_repayment_allocations.insert(),
                [
                    {"repayment_id": repayment_id, "line_number": number, "installment": installment,
                     "component": component, "amount_fen": amount}
                    for number, (installment, component, amount) in enumerate(lines, start=1)
                ],
            )  # fmt: skip

    def allocations(self, connection: sa.Connection, repayment_id: str) -> list[tuple[int, str, int]]:
        table = tables.loan_repayment_allocations
        rows = connection.execute(
            sa.select(table.c.installment, table.c.component, table.c.amount_fen)
            .where(table.c.repayment_id == repayment_id)
            .order_by(table.c.line_number)
        )
        return [(int(installment), str(component), int(amount)) for installment, component, amount in rows]

    def mark_reversed(self, connection: sa.Connection, repayment_id: str, reversal_id: str) -> bool:
        table = tables.loan_repayments
        result = connection.execute(
            table.update()
            .where(table.c.repayment_id == repayment_id, table.c.reversed_by.is_(None))
            .values(reversed_by=reversal_id)
        )
        return result.rowcount == 1

    # -- close of business ---------------------------------------------------------------------------------
    def run(self, connection: sa.Connection, business_date: date) -> dict[str, Any] | None:
        table = tables.cob_runs
        row = (
            connection.execute(sa.select(table).where(table.c.business_date == business_date))
            .mappings()
            .first()
        )
        return None if row is None else dict(row)

    def unfinished_runs(self, connection: sa.Connection) -> list[date]:
        table = tables.cob_runs
        return list(
            connection.execute(
                sa.select(table.c.business_date)
                .where(table.c.status != "done")
                .order_by(table.c.business_date)
            ).scalars()
        )

    def last_done(self, connection: sa.Connection) -> date | None:
        table = tables.cob_runs
        value = connection.execute(
            sa.select(sa.func.max(table.c.business_date)).where(table.c.status == "done")
        ).scalar_one_or_none()
        return value if isinstance(value, date) or value is None else None

    def open_loan_numbers(self, connection: sa.Connection, business_date: date) -> npt.NDArray[np.int64]:
        """Numbers of active loans not yet closed for ``business_date``, ascending."""
        table = tables.loans
        values = connection.execute(
            sa.select(table.c.loan_number)
            .where(table.c.status == 0, table.c.last_closed_on < business_date)
            .order_by(table.c.loan_number)
        ).scalars()
        return np.fromiter((int(value) for value in values), dtype=np.int64)

    def earliest_open_day(self, connection: sa.Connection) -> date | None:
        """The last closed day of the active loan that is furthest behind (None: no active loan)."""
        table = tables.loans
        value = connection.execute(
            sa.select(sa.func.min(table.c.last_closed_on)).where(table.c.status == 0)
        ).scalar_one_or_none()
        return value if isinstance(value, date) else None

    def start_run(
        self,
        connection: sa.Connection,
        business_date: date,
        chunk_loans: int,
        ranges: Sequence[tuple[int, int]],
    ) -> bool:
        """Record a run and its chunks; False when a run for the date already exists (another process)."""
        table = tables.cob_runs
        inserted = connection.execute(
            _insert(connection, table)
            .values(
                business_date=business_date, status="running", chunk_loans=chunk_loans,
                chunks_total=len(ranges), started_at=self._clock.now(),
            )
            .on_conflict_do_nothing()
            .returning(table.c.business_date)
        ).first()  # fmt: skip
        if inserted is None:
            return False
        if ranges:
            connection.execute(
                tables.cob_chunks.insert(),
                [
                    {"business_date": business_date, "chunk_number": number, "first_loan_number": first,
                     "last_loan_number": last}
                    for number, (first, last) in enumerate(ranges)
                ],
            )  # fmt: skip
        return True

    def chunks(self, connection: sa.Connection, business_date: date) -> list[dict[str, Any]]:
        table = tables.cob_chunks
        rows = connection.execute(
            sa.select(table).where(table.c.business_date == business_date).order_by(table.c.chunk_number)
        ).mappings()
        return [dict(row) for row in rows]

    def claim_chunk(self, connection: sa.Connection, business_date: date, chunk_number: int) -> bool:
        """Lock the chunk's row (PostgreSQL) and say whether it is still to do."""
        table = tables.cob_chunks
        statement = sa.select(table.c.done_at).where(
            table.c.business_date == business_date, table.c.chunk_number == chunk_number
        )
        if connection.dialect.name == "postgresql":
            statement = statement.with_for_update()
        row = connection.execute(statement).first()
        if row is None:
            raise NotFoundError(f"chunk {chunk_number} of {business_date} not found")
        return row[0] is None

    def finish_chunk(
        self,
        connection: sa.Connection,
        business_date: date,
        chunk_number: int,
        loans_closed: int,
        postings: int,
    ) -> None:
        table = tables.cob_chunks
        connection.execute(
            table.update()
            .where(table.c.business_date == business_date, table.c.chunk_number == chunk_number)
            .values(loans_closed=loans_closed, postings=postings, done_at=self._clock.now())
        )

    def finish_run(self, connection: sa.Connection, business_date: date) -> None:
        table = tables.cob_runs
        connection.execute(
            table.update()
            .where(table.c.business_date == business_date)
            .values(status="done", finished_at=self._clock.now())
        )

    def load_chunk(
        self, connection: sa.Connection, first: int, last: int, business_date: date
    ) -> dict[str, npt.NDArray[Any]]:
        """Active loans numbered ``first..last`` not yet closed for ``business_date``, as columns (locked on
        PostgreSQL until the transaction ends)."""
        dialect = connection.dialect.name
        select = ", ".join(_read_expression(dialect, column, kind) for _, column, kind in STATE_COLUMNS)
        placeholder = "?" if dialect == "sqlite" else "%s"
        ordinal = business_date.toordinal()
        last_closed = _read_expression(dialect, "last_closed_on", "date")
        # PostgreSQL: lock the chunk's loans (in loan-number order) so that a repayment committed meanwhile
        # is not overwritten by the chunk's write-back; SQLite's write transaction already excludes it
        lock = " FOR UPDATE" if dialect == "postgresql" else ""
        rows = connection.exec_driver_sql(
            f"SELECT loan_number, loan_id, product, {select} FROM loans "
            f"WHERE loan_number BETWEEN {placeholder} AND {placeholder} AND status = 0 "
            f"AND {last_closed} < {placeholder} ORDER BY loan_number{lock}",
            (first, last, ordinal),
        ).all()
        count = len(rows)
        columns: dict[str, npt.NDArray[Any]] = {
            "loan_number": np.fromiter((row[0] for row in rows), dtype=np.int64, count=count),
            "loan_id": np.array([row[1] for row in rows], dtype=object),
            "product": np.array([row[2] for row in rows], dtype=object),
        }
        for offset, (field, _, _) in enumerate(STATE_COLUMNS, start=3):
            values = np.fromiter((row[offset] for row in rows), dtype=np.int64, count=count)
            columns[field] = values.astype(np.int8) if field in SMALL_FIELDS else values
        return columns

    def write_chunk(self, connection: sa.Connection, columns: Mapping[str, npt.NDArray[Any]]) -> None:
        """Write the servicing state of the loans in ``columns`` (keyed by ``loan_number``)."""
        numbers = columns["loan_number"]
        if len(numbers) == 0:
            return
        dialect = connection.dialect.name
        names = [field for field, _, _ in STATE_COLUMNS]
        matrix = list(zip(*(columns[name].tolist() for name in names), numbers.tolist(), strict=True))
        if dialect == "sqlite":
            assignments = ", ".join(
                f"{column} = {_write_expression(dialect, '?', kind)}" for _, column, kind in STATE_COLUMNS
            )
            connection.exec_driver_sql(f"UPDATE loans SET {assignments} WHERE loan_number = ?", matrix)
            return
        if dialect != "postgresql":
            raise InvariantError(f"unsupported database dialect {dialect!r}")
        stage_columns = ", ".join(f"{field} bigint" for field in names)
        connection.exec_driver_sql(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS loans_stage ({stage_columns}, loan_number bigint) "
            "ON COMMIT DELETE ROWS"
        )
        connection.exec_driver_sql("TRUNCATE loans_stage")
        cursor: Any = connection.connection.cursor()
        try:
            with cursor.copy(f"COPY loans_stage ({', '.join(names)}, loan_number) FROM STDIN") as copy:
                copy.write("".join("\t".join(map(str, row)) + "\n" for row in matrix))
        finally:
            cursor.close()
        assignments = ", ".join(
            f"{column} = {_write_expression(dialect, f's.{field}', kind)}"
            for field, column, kind in STATE_COLUMNS
        )
        connection.exec_driver_sql(
            f"UPDATE loans SET {assignments} FROM loans_stage AS s WHERE loans.loan_number = s.loan_number"
        )

    def installments_of(
        self, connection: sa.Connection, loan_numbers: Sequence[int]
    ) -> dict[int, list[dict[str, Any]]]:
        """Installments of each loan in ``loan_numbers``, in number order."""
        table = tables.loan_installments
        found: dict[int, list[dict[str, Any]]] = {}
        step = bounds.loan_lookup_ids_per_query_max
        for start in range(0, len(loan_numbers), step):
            rows = connection.execute(
                sa.select(table)
                .where(table.c.loan_number.in_(list(loan_numbers[start : start + step])))
                .order_by(table.c.loan_number, table.c.number)
            ).mappings()
            for row in rows:
                found.setdefault(int(row["loan_number"]), []).append(dict(row))
        return found

    def count_by_status(self, connection: sa.Connection) -> dict[int, int]:
        table = tables.loans
        rows = connection.execute(sa.select(table.c.status, sa.func.count()).group_by(table.c.status))
        return {int(status): int(count) for status, count in rows}
