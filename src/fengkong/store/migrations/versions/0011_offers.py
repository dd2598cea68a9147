"""Offers: the offers the lender made, found by ``POST /v1/offers/{id}/accept`` and ``POST /v1/draws``.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25

One row per offer with the whole offer as JSON (``store/offers.py``); a draw on a line is its own offer
pointing at the line (``line_offer_id``).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _stamp(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "offers",
        sa.Column("offer_id", sa.String(128), nullable=False),
        sa.Column("party_id", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("product", sa.String(32), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        _stamp("valid_from"),
        _stamp("valid_until"),
        sa.Column("line_offer_id", sa.String(128), nullable=True),
        _stamp("accepted_at", nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        _stamp("created_at"),
        sa.PrimaryKeyConstraint("offer_id", name="pk_offers"),
        sa.CheckConstraint("kind IN ('loan', 'line')", name="ck_offers_kind"),
        sa.CheckConstraint("amount_fen > 0", name="ck_offers_amount_positive"),
        sa.CheckConstraint("valid_until > valid_from", name="ck_offers_validity"),
    )
    op.create_index("ix_offers_party_id", "offers", ["party_id"])
    op.create_index("ix_offers_line_offer_id", "offers", ["line_offer_id"])


def downgrade() -> None:
    op.drop_index("ix_offers_line_offer_id", table_name="offers")
    op.drop_index("ix_offers_party_id", table_name="offers")
    op.drop_table("offers")
