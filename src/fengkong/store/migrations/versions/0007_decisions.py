"""Decision headers (the trace bodies live in the Parquet trace lake), policy versions and switches.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _stamp(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "decisions",
        sa.Column("decision_id", sa.String(128), nullable=False),
        sa.Column("flow", sa.String(16), nullable=False),
        sa.Column("party_id", sa.String(128), nullable=False),
        sa.Column("outcome", sa.String(8), nullable=False),
        _stamp("decided_at"),
        sa.Column("reasons", sa.String(1024), nullable=False),
        sa.Column("policy_version", sa.String(128), nullable=False),
        sa.Column("model_versions", sa.String(1024), nullable=False),
        sa.Column("feature_set_version", sa.String(128), nullable=False),
        sa.Column("probability_of_default", sa.Float(), nullable=True),
        sa.Column("risk_band", sa.String(16), nullable=True),
        sa.Column("offer_amount_fen", sa.BigInteger(), nullable=True),
        sa.Column("annualised_rate_pct", sa.String(32), nullable=True),
        sa.Column("trace_part", sa.String(512), nullable=False),
        _stamp("recorded_at"),
        sa.PrimaryKeyConstraint("decision_id", name="pk_decisions"),
        sa.CheckConstraint("outcome IN ('approve', 'review', 'decline')", name="ck_decisions_outcome"),
        sa.CheckConstraint("flow IN ('onboarding', 'authorisation')", name="ck_decisions_flow"),
        sa.CheckConstraint(
            "offer_amount_fen IS NULL OR offer_amount_fen > 0", name="ck_decisions_offer_amount_positive"
        ),
    )
    op.create_index("ix_decisions_party_id_decided_at", "decisions", ["party_id", "decided_at"])
    op.create_index("ix_decisions_decided_at", "decisions", ["decided_at"])
    op.create_table(
        "policy_versions",
        sa.Column("policy_version", sa.String(128), nullable=False),
        sa.Column("policy_name", sa.String(64), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("source_text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _stamp("effective_from"),
        sa.Column("maker", sa.String(64), nullable=False),
        sa.Column("checker", sa.String(64), nullable=True),
        _stamp("proposed_at"),
        _stamp("decided_at", nullable=True),
        sa.PrimaryKeyConstraint("policy_version", name="pk_policy_versions"),
        sa.CheckConstraint(
            "status IN ('proposed', 'approved', 'rejected', 'retired')", name="ck_policy_versions_status"
        ),
        sa.CheckConstraint(
            "checker IS NULL OR checker <> maker", name="ck_policy_versions_maker_is_not_checker"
        ),
    )
    op.create_index(
        "ix_policy_versions_policy_name_status_effective_from",
        "policy_versions",
        ["policy_name", "status", "effective_from"],
    )
    op.create_table(
        "policy_switches",
        sa.Column("policy_name", sa.String(64), nullable=False),
        sa.Column("kill_switch", sa.Boolean(), nullable=False),
        sa.Column("fallback_version", sa.String(128), nullable=True),
        sa.Column("changed_by", sa.String(64), nullable=False),
        _stamp("changed_at"),
        sa.Column("reason", sa.String(512), nullable=False),
        sa.PrimaryKeyConstraint("policy_name", name="pk_policy_switches"),
    )


def downgrade() -> None:
    op.drop_table("policy_switches")
    op.drop_index("ix_policy_versions_policy_name_status_effective_from", table_name="policy_versions")
    op.drop_table("policy_versions")
    op.drop_index("ix_decisions_decided_at", table_name="decisions")
    op.drop_index("ix_decisions_party_id_decided_at", table_name="decisions")
    op.drop_table("decisions")
