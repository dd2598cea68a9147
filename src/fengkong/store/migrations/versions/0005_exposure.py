"""Exposure: party limits per product, household caps, and reservations (holds) with expiry and status.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fen(name: str, nullable: bool = False) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger(), nullable=nullable)


def _stamp(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "exposure_party_limits",
        sa.Column("party_id", sa.String(128), nullable=False),
        sa.Column("product", sa.String(32), nullable=False),
        _fen("limit_fen"),
        _fen("held_fen"),
        _fen("outstanding_fen"),
        _stamp("updated_at"),
        sa.PrimaryKeyConstraint("party_id", "product", name="pk_exposure_party_limits"),
        sa.CheckConstraint("limit_fen >= 0", name="ck_exposure_party_limits_limit_not_negative"),
        sa.CheckConstraint("held_fen >= 0", name="ck_exposure_party_limits_held_not_negative"),
        sa.CheckConstraint("outstanding_fen >= 0", name="ck_exposure_party_limits_outstanding_not_negative"),
    )
    op.create_table(
        "exposure_households",
        sa.Column("household_id", sa.String(128), nullable=False),
        _fen("cap_fen"),
        _fen("held_fen"),
        _fen("outstanding_fen"),
        _stamp("updated_at"),
        sa.PrimaryKeyConstraint("household_id", name="pk_exposure_households"),
        sa.CheckConstraint("cap_fen >= 0", name="ck_exposure_households_cap_not_negative"),
        sa.CheckConstraint("held_fen >= 0", name="ck_exposure_households_held_not_negative"),
        sa.CheckConstraint("outstanding_fen >= 0", name="ck_exposure_households_outstanding_not_negative"),
    )
    op.create_table(
        "exposure_reservations",
        sa.Column("reservation_id", sa.String(128), nullable=False),
        sa.Column("party_id", sa.String(128), nullable=False),
        sa.Column("household_id", sa.String(128), nullable=False),
        sa.Column("product", sa.String(32), nullable=False),
        _fen("amount_fen"),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("refused_cap", sa.String(32), nullable=True),
        _fen("available_fen", nullable=True),
        _stamp("expires_at"),
        _stamp("created_at"),
        _stamp("updated_at"),
        sa.PrimaryKeyConstraint("reservation_id", name="pk_exposure_reservations"),
        sa.CheckConstraint(
            "status IN ('held', 'refused', 'released', 'expired', 'converted')",
            name="ck_exposure_reservations_status",
        ),
        sa.CheckConstraint("amount_fen > 0", name="ck_exposure_reservations_amount_positive"),
    )
    op.create_index(
        "ix_exposure_reservations_status_expires_at", "exposure_reservations", ["status", "expires_at"]
    )
    op.create_index("ix_exposure_reservations_party_id", "exposure_reservations", ["party_id"])
    op.create_index("ix_exposure_reservations_household_id", "exposure_reservations", ["household_id"])


def downgrade() -> None:
    op.drop_index("ix_exposure_reservations_household_id", table_name="exposure_reservations")
    op.drop_index("ix_exposure_reservations_party_id", table_name="exposure_reservations")
    op.drop_index("ix_exposure_reservations_status_expires_at", table_name="exposure_reservations")
    op.drop_table("exposure_reservations")
    op.drop_table("exposure_households")
    op.drop_table("exposure_party_limits")
