"""Credit-line history, dynamic line changes and early-warning alerts (issue 8).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _stamp(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "credit_lines",
        sa.Column("party_id", sa.String(128), nullable=False),
        sa.Column("product", sa.String(32), nullable=False),
        sa.Column("limit_fen", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("last_raised_on", sa.Date(), nullable=True),
        _stamp("updated_at"),
        sa.PrimaryKeyConstraint("party_id", "product", name="pk_credit_lines"),
        sa.CheckConstraint("limit_fen >= 0", name="ck_credit_lines_limit_not_negative"),
        sa.CheckConstraint("status IN ('active', 'frozen')", name="ck_credit_lines_status"),
    )
    op.create_table(
        "credit_line_changes",
        sa.Column("change_id", sa.String(128), nullable=False),
        sa.Column("party_id", sa.String(128), nullable=False),
        sa.Column("product", sa.String(32), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("old_limit_fen", sa.BigInteger(), nullable=False),
        sa.Column("new_limit_fen", sa.BigInteger(), nullable=False),
        sa.Column("triggers", sa.Text(), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        _stamp("changed_at"),
        sa.Column("changed_by", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("change_id", name="pk_credit_line_changes"),
        sa.CheckConstraint(
            "action IN ('open', 'raise', 'cut', 'freeze', 'unfreeze', 'set')",
            name="ck_credit_line_changes_action",
        ),
        sa.CheckConstraint(
            "old_limit_fen >= 0 AND new_limit_fen >= 0", name="ck_credit_line_changes_limits_not_negative"
        ),
    )
    op.create_index(
        "ix_credit_line_changes_party_id_product_changed_at",
        "credit_line_changes",
        ["party_id", "product", "changed_at"],
    )
    op.create_index("ix_credit_line_changes_business_date", "credit_line_changes", ["business_date"])
    op.create_table(
        "credit_line_alerts",
        sa.Column("alert_id", sa.String(128), nullable=False),
        sa.Column("party_id", sa.String(128), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("severity", sa.SmallInteger(), nullable=False),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("indicators", sa.Text(), nullable=False),
        sa.Column("rule_version", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=True),
        _stamp("opened_at"),
        _stamp("reviewed_at", nullable=True),
        sa.Column("reviewer", sa.String(256), nullable=True),
        sa.PrimaryKeyConstraint("alert_id", name="pk_credit_line_alerts"),
        sa.CheckConstraint("severity BETWEEN 1 AND 3", name="ck_credit_line_alerts_severity"),
        sa.CheckConstraint("status IN ('open', 'reviewed')", name="ck_credit_line_alerts_status"),
        sa.CheckConstraint(
            "outcome IS NULL OR outcome IN ('confirmed', 'dismissed')", name="ck_credit_line_alerts_outcome"
        ),
        sa.CheckConstraint(
            "(status = 'open' AND outcome IS NULL AND reviewed_at IS NULL) OR "
            "(status = 'reviewed' AND outcome IS NOT NULL AND reviewed_at IS NOT NULL)",
            name="ck_credit_line_alerts_reviewed_has_outcome",
        ),
    )
    op.create_index(
        "ix_credit_line_alerts_status_severity_opened_at",
        "credit_line_alerts",
        ["status", "severity", "opened_at"],
    )
    op.create_index("ix_credit_line_alerts_party_id", "credit_line_alerts", ["party_id"])


def downgrade() -> None:
    op.drop_index("ix_credit_line_alerts_party_id", table_name="credit_line_alerts")
    op.drop_index("ix_credit_line_alerts_status_severity_opened_at", table_name="credit_line_alerts")
    op.drop_table("credit_line_alerts")
    op.drop_index("ix_credit_line_changes_business_date", table_name="credit_line_changes")
    op.drop_index("ix_credit_line_changes_party_id_product_changed_at", table_name="credit_line_changes")
    op.drop_table("credit_line_changes")
    op.drop_table("credit_lines")
