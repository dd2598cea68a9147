"""Fraud interceptions and the review-case queue (issue 7).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _stamp(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "fraud_interceptions",
        sa.Column("interception_id", sa.String(128), nullable=False),
        sa.Column("party_id", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("subject_id", sa.String(128), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("reason_code", sa.String(256), nullable=False),
        sa.Column("reason_detail", sa.String(256), nullable=False),
        sa.Column("source", sa.String(256), nullable=False),
        _stamp("intercepted_at"),
        sa.PrimaryKeyConstraint("interception_id", name="pk_fraud_interceptions"),
        sa.CheckConstraint("kind IN ('application', 'draw', 'transfer')", name="ck_fraud_interceptions_kind"),
        sa.CheckConstraint("action IN ('blocked', 'held')", name="ck_fraud_interceptions_action"),
        sa.CheckConstraint("amount_fen >= 0", name="ck_fraud_interceptions_amount_not_negative"),
    )
    op.create_index("ix_fraud_interceptions_party_id", "fraud_interceptions", ["party_id"])
    op.create_index("ix_fraud_interceptions_intercepted_at", "fraud_interceptions", ["intercepted_at"])
    op.create_table(
        "fraud_cases",
        sa.Column("case_id", sa.String(128), nullable=False),
        sa.Column("party_id", sa.String(128), nullable=False),
        sa.Column("interception_id", sa.String(128), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=True),
        _stamp("opened_at"),
        _stamp("reviewed_at", nullable=True),
        sa.Column("reviewer", sa.String(256), nullable=True),
        sa.PrimaryKeyConstraint("case_id", name="pk_fraud_cases"),
        sa.ForeignKeyConstraint(
            ["interception_id"],
            ["fraud_interceptions.interception_id"],
            name="fk_fraud_cases_interception_id_fraud_interceptions",
        ),
        sa.CheckConstraint("status IN ('open', 'reviewed')", name="ck_fraud_cases_status"),
        sa.CheckConstraint(
            "outcome IS NULL OR outcome IN ('fraud', 'not_fraud')", name="ck_fraud_cases_outcome"
        ),
        sa.CheckConstraint(
            "(status = 'open' AND outcome IS NULL AND reviewed_at IS NULL) OR "
            "(status = 'reviewed' AND outcome IS NOT NULL AND reviewed_at IS NOT NULL)",
            name="ck_fraud_cases_reviewed_has_outcome",
        ),
        sa.CheckConstraint(
            "reviewed_at IS NULL OR reviewed_at >= opened_at", name="ck_fraud_cases_reviewed_after_opened"
        ),
    )
    op.create_index("ix_fraud_cases_status_opened_at", "fraud_cases", ["status", "opened_at"])
    op.create_index("ix_fraud_cases_party_id", "fraud_cases", ["party_id"])
    op.create_index("ix_fraud_cases_reviewed_at", "fraud_cases", ["reviewed_at"])
    op.create_index("ix_fraud_cases_interception_id", "fraud_cases", ["interception_id"])


def downgrade() -> None:
    op.drop_index("ix_fraud_cases_interception_id", table_name="fraud_cases")
    op.drop_index("ix_fraud_cases_reviewed_at", table_name="fraud_cases")
    op.drop_index("ix_fraud_cases_party_id", table_name="fraud_cases")
    op.drop_index("ix_fraud_cases_status_opened_at", table_name="fraud_cases")
    op.drop_table("fraud_cases")
    op.drop_index("ix_fraud_interceptions_intercepted_at", table_name="fraud_interceptions")
    op.drop_index("ix_fraud_interceptions_party_id", table_name="fraud_interceptions")
    op.drop_table("fraud_interceptions")
