"""Loans: servicing state, installments, repayments with their allocation lines, and close-of-business runs.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25

The close of business records each run (one per business date) and its chunks of loans; a chunk is marked
done in the same transaction that writes its loans and postings, so a run interrupted by a crash resumes at
the first chunk not done and a day closed twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AMOUNTS = (
    "period_interest_fen",
    "accrued_in_period_fen",
    "principal_outstanding_fen",
    "due_principal_fen",
    "due_interest_fen",
    "due_fee_fen",
    "fees_outstanding_fen",
    "penalty_outstanding_fen",
    "interest_receivable_fen",
    "interest_suspended_fen",
)


def _fen(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger(), nullable=False)


def _stamp(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "loans",
        sa.Column("loan_number", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True),
        sa.Column("loan_id", sa.String(64), nullable=False),
        sa.Column("offer_id", sa.String(128), nullable=False),
        sa.Column("party_id", sa.String(128), nullable=False),
        sa.Column("product", sa.String(32), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        _fen("principal_fen"),
        sa.Column("disbursed_on", sa.Date(), nullable=False),
        _stamp("created_at"),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("last_closed_on", sa.Date(), nullable=False),
        sa.Column("period_number", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_due", sa.Date(), nullable=True),
        *(_fen(name) for name in AMOUNTS),
        _fen("penalty_carry"),
        _fen("penalty_rate_num"),
        _fen("penalty_rate_den"),
        sa.Column("overdue_since", sa.Date(), nullable=True),
        sa.Column("days_past_due", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.SmallInteger(), nullable=False),
        sa.Column("asset_class", sa.SmallInteger(), nullable=False),
        sa.PrimaryKeyConstraint("loan_number", name="pk_loans"),
        sa.UniqueConstraint("loan_id", name="uq_loans_loan_id"),
        sa.UniqueConstraint("offer_id", name="uq_loans_offer_id"),
        sa.CheckConstraint("status IN (0, 1, 2)", name="ck_loans_status"),
        sa.CheckConstraint("principal_fen > 0", name="ck_loans_principal_positive"),
        sa.CheckConstraint("penalty_rate_den > 0", name="ck_loans_penalty_rate_den_positive"),
        *(sa.CheckConstraint(f"{name} >= 0", name=f"ck_loans_{name}_not_negative") for name in AMOUNTS),
    )
    op.create_index("ix_loans_party_id", "loans", ["party_id"])
    op.create_table(
        "loan_installments",
        sa.Column("loan_number", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        _fen("principal_fen"),
        _fen("interest_fen"),
        _fen("fee_fen"),
        _fen("paid_principal_fen"),
        _fen("paid_interest_fen"),
        _fen("paid_fee_fen"),
        _fen("waived_interest_fen"),
        sa.PrimaryKeyConstraint("loan_number", "number", name="pk_loan_installments"),
        sa.ForeignKeyConstraint(
            ["loan_number"], ["loans.loan_number"], name="fk_loan_installments_loan_number_loans"
        ),
        sa.CheckConstraint(
            "paid_principal_fen >= 0 AND paid_principal_fen <= principal_fen",
            name="ck_loan_installments_principal_paid",
        ),
        sa.CheckConstraint(
            "paid_interest_fen >= 0 AND waived_interest_fen >= 0 "
            "AND paid_interest_fen + waived_interest_fen <= interest_fen",
            name="ck_loan_installments_interest_paid",
        ),
        sa.CheckConstraint(
            "paid_fee_fen >= 0 AND paid_fee_fen <= fee_fen", name="ck_loan_installments_fee_paid"
        ),
    )
    op.create_table(
        "loan_repayments",
        sa.Column("repayment_id", sa.String(64), nullable=False),
        sa.Column("loan_number", sa.BigInteger(), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        _fen("amount_fen"),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("parts", sa.Text(), nullable=False),
        sa.Column("paid_off", sa.Boolean(), nullable=False),
        sa.Column("posting_id", sa.String(128), nullable=True),
        sa.Column("reversed_by", sa.String(128), nullable=True),
        _stamp("created_at"),
        sa.PrimaryKeyConstraint("repayment_id", name="pk_loan_repayments"),
        sa.ForeignKeyConstraint(
            ["loan_number"], ["loans.loan_number"], name="fk_loan_repayments_loan_number_loans"
        ),
        sa.UniqueConstraint("reversed_by", name="uq_loan_repayments_reversed_by"),
        sa.CheckConstraint("outcome IN ('applied', 'refused')", name="ck_loan_repayments_outcome"),
        sa.CheckConstraint("amount_fen > 0", name="ck_loan_repayments_amount_positive"),
    )
    op.create_index("ix_loan_repayments_loan_number", "loan_repayments", ["loan_number"])
    op.create_table(
        "loan_repayment_allocations",
        sa.Column("repayment_id", sa.String(64), nullable=False),
        sa.Column("line_number", sa.Integer(), nullable=False),
        sa.Column("installment", sa.Integer(), nullable=False),
        sa.Column("component", sa.String(32), nullable=False),
        _fen("amount_fen"),
        sa.PrimaryKeyConstraint("repayment_id", "line_number", name="pk_loan_repayment_allocations"),
        sa.ForeignKeyConstraint(
            ["repayment_id"],
            ["loan_repayments.repayment_id"],
            name="fk_loan_repayment_allocations_repayment_id_loan_repayments",
        ),
        sa.CheckConstraint("amount_fen > 0", name="ck_loan_repayment_allocations_amount_positive"),
    )
    op.create_table(
        "cob_runs",
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("chunk_loans", sa.Integer(), nullable=False),
        sa.Column("chunks_total", sa.Integer(), nullable=False),
        _stamp("started_at"),
        _stamp("finished_at", nullable=True),
        sa.PrimaryKeyConstraint("business_date", name="pk_cob_runs"),
        sa.CheckConstraint("status IN ('running', 'done')", name="ck_cob_runs_status"),
    )
    op.create_table(
        "cob_chunks",
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("chunk_number", sa.Integer(), nullable=False),
        sa.Column("first_loan_number", sa.BigInteger(), nullable=False),
        sa.Column("last_loan_number", sa.BigInteger(), nullable=False),
        sa.Column("loans_closed", sa.Integer(), nullable=True),
        sa.Column("postings", sa.Integer(), nullable=True),
        _stamp("done_at", nullable=True),
        sa.PrimaryKeyConstraint("business_date", "chunk_number", name="pk_cob_chunks"),
        sa.ForeignKeyConstraint(
            ["business_date"], ["cob_runs.business_date"], name="fk_cob_chunks_business_date_cob_runs"
        ),
    )


def downgrade() -> None:
    op.drop_table("cob_chunks")
    op.drop_table("cob_runs")
    op.drop_table("loan_repayment_allocations")
    op.drop_index("ix_loan_repayments_loan_number", table_name="loan_repayments")
    op.drop_table("loan_repayments")
    op.drop_table("loan_installments")
    op.drop_index("ix_loans_party_id", table_name="loans")
    op.drop_table("loans")
