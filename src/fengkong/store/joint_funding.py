"""Joint-lending funding shares in SQL: who funds a joint loan, in what shares, and what each is still owed.

Every function takes the caller's connection, inside the caller's transaction, so a joint loan's funding is
written in the same commit as the loan itself (``joint_loans.loan_id`` refers to ``loans.loan_id``). The rows
are plain records (:class:`JointLoanRecord`, :class:`FunderRecord`); the rules — shares, floor, splits — are
:mod:`fengkong.lending.joint`'s, and the use case converts between the two (``store/`` imports no domain
package but ``domain``).

* :func:`add_joint_loan` — once per loan; the same record again is a no-op (a retry), another record for the
  same loan raises :class:`~fengkong.errors.IdempotencyConflictError`.
* :func:`joint_loan` — the record, funders in index order (0: the lender); ``lock`` takes the rows' locks on
  PostgreSQL, so a repayment's split is computed from balances nobody else is changing.
* :func:`apply_principal`, :func:`record_losses`, :func:`record_recoveries` — move the per-funder amounts
  with conditional UPDATEs that never take a balance below zero, a loss above what was outstanding or a
  recovery above the loss (the table's checks say the same); a move that would is refused with
  :class:`~fengkong.errors.ConflictError` and nothing of it is written (the caller's transaction rolls back).
* :func:`loans_funded_by` — the joint loans a partner bank funds (a partner may see only its own).
* :func:`written_off_unshared` — joint loans the close of business wrote off whose loss is not shared yet.
* :func:`add_repayment_parts`, :func:`repayment_parts`, :func:`partner_parts_on` — each funder's part of each
  repayment or recovery, once per repayment ID; what a partner's settlement for a day adds up;
  :func:`mark_parts_reversed`, :func:`restore_principal` and :func:`undo_recoveries` undo a reversed one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Final

import sqlalchemy as sa

from fengkong import bounds
from fengkong.clock import require_utc
from fengkong.errors import ConflictError, IdempotencyConflictError, InputError, NotFoundError
from fengkong.money import D
from fengkong.store import tables, tables_lending

LIST_ROWS_MAX: Final = bounds.loan_lookup_ids_per_query_max


@dataclass(frozen=True, slots=True)
class FunderRecord:
    """One funder of a joint loan: index 0 is the lender (no rate of its own), 1.. the partners."""

    funder_index: int
    funder_id: str
    share_bp: int
    annual_rate: Decimal | None
    disbursed_fen: int
    principal_outstanding_fen: int
    loss_fen: int = 0
    recovered_fen: int = 0


@dataclass(frozen=True, slots=True)
class JointLoanRecord:
    loan_id: str
    currency: str
    borrower_rate: Decimal
    lender_floor_bp: int
    loss_sharing: str  # "pro-rata" or "first-loss"
    first_loss_bp: int
    fee_sharing: str  # "pro-rata" or "lender"
    funders: tuple[FunderRecord, ...]

    def terms(self) -> tuple[object, ...]:
        """What identifies the funding (everything but the balances that move)."""
        return (
            self.loan_id, self.currency, self.borrower_rate, self.lender_floor_bp, self.loss_sharing,
            self.first_loss_bp, self.fee_sharing,
            tuple((f.funder_index, f.funder_id, f.share_bp, f.annual_rate, f.disbursed_fen)
                  for f in self.funders),
        )  # fmt: skip


def _check(record: JointLoanRecord) -> None:
    if not record.funders or [f.funder_index for f in record.funders] != list(range(len(record.funders))):
        raise InputError("funders are numbered 0 (the lender), 1, 2, ... in order", field="funders")
    if len(record.funders) > bounds.joint_partners_max + 1:
        raise InputError(f"at most {bounds.joint_partners_max} partners", field="funders")
    if record.loss_sharing not in tables_lending.LOSS_SHARINGS:
        raise InputError(f"must be one of {list(tables_lending.LOSS_SHARINGS)}", field="loss_sharing")
    if record.fee_sharing not in tables_lending.FEE_SHARINGS:
        raise InputError(f"must be one of {list(tables_lending.FEE_SHARINGS)}", field="fee_sharing")
    for funder in record.funders:
        if (
            funder.principal_outstanding_fen != funder.disbursed_fen
            or funder.loss_fen
            or funder.recovered_fen
        ):
            raise InputError("a new joint loan owes each funder what it lent", field="funders")
    for value, field in [(record.borrower_rate, "borrower_rate")] + [
        (f.annual_rate, f"funders[{f.funder_index}].annual_rate") for f in record.funders if f.annual_rate
    ]:
        if len(str(value)) > tables_lending.RATE_TEXT_LENGTH_MAX:
            raise InputError(
                f"more than {tables_lending.RATE_TEXT_LENGTH_MAX} characters as text", field=field
            )


def add_joint_loan(connection: sa.Connection, record: JointLoanRecord, now: datetime) -> bool:
    """Store a joint loan's funding; False when the same record was stored before (a retry)."""
    _check(record)
    loans = tables_lending.joint_loans
    existing = connection.execute(sa.select(loans.c.loan_id).where(loans.c.loan_id == record.loan_id)).first()
    if existing is not None:
        stored = joint_loan(connection, record.loan_id)
        if stored.terms() != record.terms():
            raise IdempotencyConflictError(f"joint loan {record.loan_id!r} was stored with another funding")
        return False
    connection.execute(
        loans.insert().values(
            loan_id=record.loan_id,
            currency=record.currency,
            borrower_rate=str(record.borrower_rate),
            lender_floor_bp=record.lender_floor_bp,
            loss_sharing=record.loss_sharing,
            first_loss_bp=record.first_loss_bp,
            fee_sharing=record.fee_sharing,
            created_at=require_utc(now),
        )
    )
    connection.execute(
        tables_lending.joint_loan_funders.insert(),
        [
            {
                "loan_id": record.loan_id,
                "funder_index": funder.funder_index,
                "funder_id": funder.funder_id,
                "share_bp": funder.share_bp,
                "annual_rate": None if funder.annual_rate is None else str(funder.annual_rate),
                "disbursed_fen": funder.disbursed_fen,
                "principal_outstanding_fen": funder.principal_outstanding_fen,
                "loss_fen": 0,
                "recovered_fen": 0,
            }
            for funder in record.funders
        ],
    )
    return True


def joint_loan(connection: sa.Connection, loan_id: str, *, lock: bool = False) -> JointLoanRecord:
    """The joint loan's funding; :class:`~fengkong.errors.NotFoundError` when ``loan_id`` is not joint."""
    loans = tables_lending.joint_loans
    funders = tables_lending.joint_loan_funders
    header = connection.execute(sa.select(loans).where(loans.c.loan_id == loan_id)).mappings().first()
    if header is None:
        raise NotFoundError(f"joint loan {loan_id!r} not found")
    query = sa.select(funders).where(funders.c.loan_id == loan_id).order_by(funders.c.funder_index)
    if lock and connection.dialect.name == "postgresql":
        query = query.with_for_update()
    rows = connection.execute(query).mappings().all()
    return JointLoanRecord(
        loan_id=header["loan_id"],
        currency=header["currency"],
        borrower_rate=D(header["borrower_rate"]),
        lender_floor_bp=int(header["lender_floor_bp"]),
        loss_sharing=header["loss_sharing"],
        first_loss_bp=int(header["first_loss_bp"]),
        fee_sharing=header["fee_sharing"],
        funders=tuple(
            FunderRecord(
                funder_index=int(row["funder_index"]),
                funder_id=row["funder_id"],
                share_bp=int(row["share_bp"]),
                annual_rate=None if row["annual_rate"] is None else D(row["annual_rate"]),
                disbursed_fen=int(row["disbursed_fen"]),
                principal_outstanding_fen=int(row["principal_outstanding_fen"]),
                loss_fen=int(row["loss_fen"]),
                recovered_fen=int(row["recovered_fen"]),
            )
            for row in rows
        ),
    )


def _move(
    connection: sa.Connection, loan_id: str, parts: Sequence[int], what: str, values: dict[str, object],
    condition: sa.ColumnElement[bool],
) -> None:  # fmt: skip
    funders = tables_lending.joint_loan_funders
    if any(isinstance(part, bool) or not isinstance(part, int) or part < 0 for part in parts):
        raise InputError("must be non-negative whole numbers of fen", field=what)
    count = connection.execute(
        sa.select(sa.func.count()).select_from(funders).where(funders.c.loan_id == loan_id)
    ).scalar_one()
    if count == 0:
        raise NotFoundError(f"joint loan {loan_id!r} not found")
    if len(parts) != count:
        raise InputError(f"{len(parts)} parts for {count} funders", field=what)
    for index, part in enumerate(parts):
        if part == 0:
            continue
        result = connection.execute(
            funders.update()
            .where(funders.c.loan_id == loan_id, funders.c.funder_index == index, condition)
            .values(values),
            {"part": part},
        )
        if result.rowcount != 1:
            raise ConflictError(f"joint loan {loan_id!r}: {what} of {part} fen refused for funder {index}")


def apply_principal(connection: sa.Connection, loan_id: str, parts: Sequence[int]) -> None:
    """Lower each funder's principal outstanding by its part (lender first); never below zero."""
    funders = tables_lending.joint_loan_funders
    part = sa.bindparam("part", type_=sa.BigInteger())
    _move(
        connection, loan_id, parts, "principal",
        {"principal_outstanding_fen": funders.c.principal_outstanding_fen - part},
        funders.c.principal_outstanding_fen >= part,
    )  # fmt: skip


def record_losses(connection: sa.Connection, loan_id: str, losses: Sequence[int]) -> None:
    """Book each funder's share of a write-off: its loss grows, its principal outstanding goes to zero (the
    loan is written off). A funder's loss may exceed its own principal only for the lender (first loss)."""
    funders = tables_lending.joint_loan_funders
    part = sa.bindparam("part", type_=sa.BigInteger())
    _move(
        connection, loan_id, losses, "losses", {"loss_fen": funders.c.loss_fen + part},
        sa.or_(funders.c.funder_index == 0, funders.c.principal_outstanding_fen >= part),
    )  # fmt: skip
    connection.execute(
        funders.update().where(funders.c.loan_id == loan_id).values(principal_outstanding_fen=0)
    )


def record_recoveries(connection: sa.Connection, loan_id: str, parts: Sequence[int]) -> None:
    """Book what was recovered for each funder; never more than its loss."""
    funders = tables_lending.joint_loan_funders
    part = sa.bindparam("part", type_=sa.BigInteger())
    _move(
        connection, loan_id, parts, "recoveries", {"recovered_fen": funders.c.recovered_fen + part},
        funders.c.loss_fen - funders.c.recovered_fen >= part,
    )  # fmt: skip


def loans_funded_by(connection: sa.Connection, partner_id: str, *, after_loan_id: str = "") -> list[str]:
    """The joint loans ``partner_id`` funds, in loan-ID order, a page of at most
    ``loan_lookup_ids_per_query_max`` after ``after_loan_id``."""
    funders = tables_lending.joint_loan_funders
    rows = connection.execute(
        sa.select(funders.c.loan_id)
        .where(
            funders.c.funder_id == partner_id, funders.c.funder_index > 0, funders.c.loan_id > after_loan_id
        )
        .order_by(funders.c.loan_id)
        .limit(LIST_ROWS_MAX)
    )
    return [str(row[0]) for row in rows]


# -- each funder's part of each repayment -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RepaymentPart:
    """One funder's part of one repayment (``kind`` "repayment") or recovery (``kind`` "recovery")."""

    repayment_id: str
    funder_index: int
    funder_id: str
    loan_id: str
    kind: str
    business_date: date
    principal_fen: int = 0
    interest_fen: int = 0
    fee_fen: int = 0
    penalty_fen: int = 0
    recovery_fen: int = 0
    reversed_by: str | None = None

    @property
    def total_fen(self) -> int:
        return self.principal_fen + self.interest_fen + self.fee_fen + self.penalty_fen + self.recovery_fen


def add_repayment_parts(connection: sa.Connection, parts: Sequence[RepaymentPart], now: datetime) -> None:
    """Record each funder's part of one repayment (all parts share its ID, loan, kind and date)."""
    if not parts:
        return
    first = parts[0]
    if any(
        (part.repayment_id, part.loan_id, part.kind, part.business_date)
        != (first.repayment_id, first.loan_id, first.kind, first.business_date)
        for part in parts
    ):
        raise InputError("the parts of one repayment share its ID, loan, kind and date", field="parts")
    if first.kind not in tables_lending.REPAYMENT_PART_KINDS:
        raise InputError(f"must be one of {list(tables_lending.REPAYMENT_PART_KINDS)}", field="kind")
    stamp = require_utc(now)
    connection.execute(
        tables_lending.joint_repayment_parts.insert(),
        [
            {
                "repayment_id": part.repayment_id, "funder_index": part.funder_index, "loan_id": part.loan_id,
                "funder_id": part.funder_id, "kind": part.kind, "business_date": part.business_date,
                "principal_fen": part.principal_fen, "interest_fen": part.interest_fen,
                "fee_fen": part.fee_fen, "penalty_fen": part.penalty_fen, "recovery_fen": part.recovery_fen,
                "reversed_by": None,
                "created_at": stamp,
            }
            for part in parts
        ],
    )  # fmt: skip


def _part_of(row: sa.RowMapping) -> RepaymentPart:
    return RepaymentPart(
        repayment_id=row["repayment_id"], funder_index=int(row["funder_index"]), funder_id=row["funder_id"],
        loan_id=row["loan_id"], kind=row["kind"], business_date=row["business_date"],
        principal_fen=int(row["principal_fen"]), interest_fen=int(row["interest_fen"]),
        fee_fen=int(row["fee_fen"]), penalty_fen=int(row["penalty_fen"]),
        recovery_fen=int(row["recovery_fen"]), reversed_by=row["reversed_by"],
    )  # fmt: skip


def repayment_parts(connection: sa.Connection, repayment_id: str) -> list[RepaymentPart]:
    """The funders' parts of ``repayment_id`` in funder order (empty when it was not split)."""
    table = tables_lending.joint_repayment_parts
    rows = connection.execute(
        sa.select(table).where(table.c.repayment_id == repayment_id).order_by(table.c.funder_index)
    ).mappings()
    return [_part_of(row) for row in rows]


def partner_parts_on(connection: sa.Connection, partner_id: str, on: date) -> list[RepaymentPart]:
    """``partner_id``'s parts of the repayments of ``on`` not reversed, at most
    ``loan_lookup_ids_per_query_max`` (what the day's settlement to it adds up)."""
    table = tables_lending.joint_repayment_parts
    rows = connection.execute(
        sa.select(table)
        .where(table.c.funder_id == partner_id, table.c.business_date == on, table.c.funder_index > 0,
               table.c.reversed_by.is_(None))
        .order_by(table.c.repayment_id)
        .limit(LIST_ROWS_MAX)
    ).mappings()  # fmt: skip
    return [_part_of(row) for row in rows]


def mark_parts_reversed(connection: sa.Connection, repayment_id: str, reversal_id: str) -> bool:
    """Mark the parts of ``repayment_id`` reversed by ``reversal_id``; False when they already were."""
    table = tables_lending.joint_repayment_parts
    result = connection.execute(
        table.update()
        .where(table.c.repayment_id == repayment_id, table.c.reversed_by.is_(None))
        .values(reversed_by=reversal_id)
    )
    return bool(result.rowcount)


def restore_principal(connection: sa.Connection, loan_id: str, parts: Sequence[int]) -> None:
    """Give back each funder's principal part of a reversed repayment; never above what it lent."""
    funders = tables_lending.joint_loan_funders
    part = sa.bindparam("part", type_=sa.BigInteger())
    _move(
        connection, loan_id, parts, "principal",
        {"principal_outstanding_fen": funders.c.principal_outstanding_fen + part},
        funders.c.principal_outstanding_fen + part <= funders.c.disbursed_fen,
    )  # fmt: skip


def undo_recoveries(connection: sa.Connection, loan_id: str, parts: Sequence[int]) -> None:
    """Take back each funder's part of a reversed recovery; never below zero."""
    funders = tables_lending.joint_loan_funders
    part = sa.bindparam("part", type_=sa.BigInteger())
    _move(
        connection, loan_id, parts, "recoveries", {"recovered_fen": funders.c.recovered_fen - part},
        funders.c.recovered_fen >= part,
    )  # fmt: skip


WRITTEN_OFF_STATUS: Final = 2  # loans.status: 0 active, 1 closed, 2 written off


def written_off_unshared(connection: sa.Connection) -> list[str]:
    """Joint loans written off whose funders bear no loss yet, in loan-ID order, at most
    ``loan_lookup_ids_per_query_max`` (call again until empty)."""
    loans = tables.loans
    joint = tables_lending.joint_loans
    funders = tables_lending.joint_loan_funders
    shared = sa.select(funders.c.loan_id).where(funders.c.loss_fen > 0)
    rows = connection.execute(
        sa.select(joint.c.loan_id)
        .join(loans, loans.c.loan_id == joint.c.loan_id)
        .where(loans.c.status == WRITTEN_OFF_STATUS, joint.c.loan_id.not_in(shared))
        .order_by(joint.c.loan_id)
        .limit(LIST_ROWS_MAX)
    )
    return [str(row[0]) for row in rows]
