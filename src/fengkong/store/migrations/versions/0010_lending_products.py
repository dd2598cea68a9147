"""Joint-lending funding shares (issue 4): one row per joint loan, one per funder of it, one per funder and
repayment.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25

``joint_loans`` refers to ``loans.loan_id``; ``joint_loan_funders`` holds each funder's share, rate, what it
lent, its principal outstanding, the loss it bore and what was recovered; ``joint_repayment_parts`` each
funder's part of each repayment or recovery (``store/tables_lending.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fen(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "joint_loans",
        sa.Column("loan_id", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("borrower_rate", sa.String(32), nullable=False),
        sa.Column("lender_floor_bp", sa.Integer(), nullable=False),
        sa.Column("loss_sharing", sa.String(16), nullable=False),
        sa.Column("first_loss_bp", sa.Integer(), nullable=False),
        sa.Column("fee_sharing", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("loan_id", name="pk_joint_loans"),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.loan_id"], name="fk_joint_loans_loan_id_loans"),
        sa.CheckConstraint("loss_sharing IN ('pro-rata', 'first-loss')", name="ck_joint_loans_loss_sharing"),
        sa.CheckConstraint("fee_sharing IN ('pro-rata', 'lender')", name="ck_joint_loans_fee_sharing"),
        sa.CheckConstraint("lender_floor_bp BETWEEN 0 AND 10000", name="ck_joint_loans_lender_floor_bp"),
        sa.CheckConstraint("first_loss_bp BETWEEN 0 AND 10000", name="ck_joint_loans_first_loss_bp"),
    )
    op.create_table(
        "joint_loan_funders",
        sa.Column("loan_id", sa.String(64), nullable=False),
        sa.Column("funder_index", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("funder_id", sa.String(64), nullable=False),
        sa.Column("share_bp", sa.Integer(), nullable=False),
        sa.Column("annual_rate", sa.String(32), nullable=True),
        _fen("disbursed_fen"),
        _fen("principal_outstanding_fen"),
        _fen("loss_fen"),
        _fen("recovered_fen"),
        sa.PrimaryKeyConstraint("loan_id", "funder_index", name="pk_joint_loan_funders"),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["joint_loans.loan_id"], name="fk_joint_loan_funders_loan_id_joint_loans"
        ),
        sa.UniqueConstraint("loan_id", "funder_id", name="uq_joint_loan_funders_loan_id_funder_id"),
        sa.CheckConstraint("share_bp BETWEEN 1 AND 10000", name="ck_joint_loan_funders_share_bp"),
        sa.CheckConstraint(
            "principal_outstanding_fen >= 0 AND principal_outstanding_fen <= disbursed_fen",
            name="ck_joint_loan_funders_outstanding",
        ),
        sa.CheckConstraint(
            "recovered_fen >= 0 AND loss_fen >= recovered_fen", name="ck_joint_loan_funders_loss_and_recovery"
        ),
        sa.CheckConstraint(
            "(funder_index = 0 AND annual_rate IS NULL) OR (funder_index > 0 AND annual_rate IS NOT NULL)",
            name="ck_joint_loan_funders_partner_rate",
        ),
    )
    op.create_index("ix_joint_loan_funders_funder_id", "joint_loan_funders", ["funder_id"])
    op.create_table(
        "joint_repayment_parts",
        sa.Column("repayment_id", sa.String(64), nullable=False),
        sa.Column("funder_index", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("loan_id", sa.String(64), nullable=False),
        sa.Column("funder_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        _fen("principal_fen"),
        _fen("interest_fen"),
        _fen("fee_fen"),
        _fen("penalty_fen"),
        _fen("recovery_fen"),
        sa.Column("reversed_by", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("repayment_id", "funder_index", name="pk_joint_repayment_parts"),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["joint_loans.loan_id"], name="fk_joint_repayment_parts_loan_id_joint_loans"
        ),
        sa.CheckConstraint("kind IN ('repayment', 'recovery')", name="ck_joint_repayment_parts_kind"),
        sa.CheckConstraint(
            "principal_fen >= 0 AND interest_fen >= 0 AND fee_fen >= 0 AND penalty_fen >= 0 "
            "AND recovery_fen >= 0",
            name="ck_joint_repayment_parts_amounts_not_negative",
        ),
    )
    op.create_index("ix_joint_repayment_parts_loan_id", "joint_repayment_parts", ["loan_id"])
    op.create_index(
        "ix_joint_repayment_parts_funder_id_business_date",
        "joint_repayment_parts",
        ["funder_id", "business_date"],
    )


def downgrade() -> None:
    op.drop_index("ix_joint_repayment_parts_funder_id_business_date", table_name="joint_repayment_parts")
    op.drop_index("ix_joint_repayment_parts_loan_id", table_name="joint_repayment_parts")
    op.drop_table("joint_repayment_parts")
    op.drop_index("ix_joint_loan_funders_funder_id", table_name="joint_loan_funders")
    op.drop_table("joint_loan_funders")
    op.drop_table("joint_loans")
