"""Personal data: pseudonyms, encrypted identities, consent, retention, told reasons, reviews (issue 5); and
the credit-bureau notices and reported months.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _stamp(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "privacy_values",
        sa.Column("party_id", sa.String(128), nullable=False),
        sa.Column("field", sa.String(32), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("nonce", sa.LargeBinary(), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("blind_index", sa.String(64), nullable=True),
        sa.Column("pseudonym_key_id", sa.String(64), nullable=True),
        sa.Column("retain_until", sa.Date(), nullable=True),
        _stamp("created_at"),
        _stamp("updated_at"),
        sa.PrimaryKeyConstraint("party_id", "field", name="pk_privacy_values"),
        sa.CheckConstraint(
            "field IN ('name', 'name_latin', 'id_number', 'phone')", name="ck_privacy_values_field"
        ),
    )
    op.create_index("ix_privacy_values_field_blind_index", "privacy_values", ["field", "blind_index"])
    op.create_index("ix_privacy_values_key_id", "privacy_values", ["key_id"])
    op.create_index("ix_privacy_values_retain_until", "privacy_values", ["retain_until"])
    op.create_table(
        "privacy_consents",
        sa.Column("event_id", sa.String(128), nullable=False),
        sa.Column("party_id", sa.String(128), nullable=False),
        sa.Column("use", sa.String(32), nullable=False),
        sa.Column("partner", sa.String(128), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        _stamp("at"),
        _stamp("created_at"),
        sa.PrimaryKeyConstraint("event_id", name="pk_privacy_consents"),
        sa.CheckConstraint("action IN ('grant', 'withdraw')", name="ck_privacy_consents_action"),
    )
    op.create_index(
        "ix_privacy_consents_party_id_use_partner", "privacy_consents", ["party_id", "use", "partner"]
    )
    op.create_table(
        "privacy_purges",
        sa.Column("purge_id", sa.String(128), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("values_purged", sa.Integer(), nullable=False),
        sa.Column("counts", sa.Text(), nullable=False),
        sa.Column("party_ids", sa.Text(), nullable=False),
        _stamp("created_at"),
        sa.PrimaryKeyConstraint("purge_id", name="pk_privacy_purges"),
        sa.CheckConstraint("values_purged >= 0", name="ck_privacy_purges_values_purged_not_negative"),
    )
    op.create_table(
        "told_reasons",
        sa.Column("decision_id", sa.String(128), nullable=False),
        sa.Column("party_id", sa.String(128), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("codes", sa.Text(), nullable=False),
        sa.Column("sentences", sa.Text(), nullable=False),
        _stamp("told_at"),
        _stamp("created_at"),
        sa.PrimaryKeyConstraint("decision_id", name="pk_told_reasons"),
    )
    op.create_index("ix_told_reasons_party_id", "told_reasons", ["party_id"])
    op.create_table(
        "review_cases",
        sa.Column("case_id", sa.String(128), nullable=False),
        sa.Column("decision_id", sa.String(128), nullable=False),
        sa.Column("party_id", sa.String(128), nullable=False),
        sa.Column("statement", sa.Text(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=True),
        sa.Column("reviewer", sa.String(128), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        _stamp("requested_at"),
        _stamp("closed_at", nullable=True),
        sa.PrimaryKeyConstraint("case_id", name="pk_review_cases"),
        sa.UniqueConstraint("decision_id", name="uq_review_cases_decision_id"),
        sa.CheckConstraint("status IN ('open', 'closed')", name="ck_review_cases_status"),
        sa.CheckConstraint(
            "outcome IS NULL OR outcome IN ('upheld', 'overturned', 'withdrawn')",
            name="ck_review_cases_outcome",
        ),
    )
    op.create_index("ix_review_cases_party_id", "review_cases", ["party_id"])
    op.create_index("ix_review_cases_status", "review_cases", ["status"])
    op.create_table(
        "bureau_notices",
        sa.Column("notice_id", sa.String(128), nullable=False),
        sa.Column("loan_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("notified_on", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        _stamp("created_at"),
        sa.PrimaryKeyConstraint("notice_id", name="pk_bureau_notices"),
        sa.CheckConstraint("kind IN ('delinquency', 'write_off')", name="ck_bureau_notices_kind"),
    )
    op.create_index("ix_bureau_notices_loan_id", "bureau_notices", ["loan_id"])
    op.create_table(
        "bureau_reported",
        sa.Column("file_format", sa.String(8), nullable=False),
        sa.Column("loan_id", sa.String(64), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(1), nullable=False),
        sa.Column("days_past_due", sa.Integer(), nullable=False),
        sa.Column("balance_fen", sa.BigInteger(), nullable=False),
        sa.Column("past_due_fen", sa.BigInteger(), nullable=False),
        sa.Column("reported_in", sa.String(7), nullable=False),
        _stamp("reported_at"),
        sa.PrimaryKeyConstraint("file_format", "loan_id", "month", "revision", name="pk_bureau_reported"),
        sa.CheckConstraint("file_format IN ('pboc', 'metro2')", name="ck_bureau_reported_file_format"),
        sa.CheckConstraint("revision >= 1", name="ck_bureau_reported_revision_positive"),
        sa.CheckConstraint("days_past_due >= 0", name="ck_bureau_reported_days_past_due_not_negative"),
    )


def downgrade() -> None:
    op.drop_table("bureau_reported")
    op.drop_index("ix_bureau_notices_loan_id", table_name="bureau_notices")
    op.drop_table("bureau_notices")
    op.drop_index("ix_review_cases_status", table_name="review_cases")
    op.drop_index("ix_review_cases_party_id", table_name="review_cases")
    op.drop_table("review_cases")
    op.drop_index("ix_told_reasons_party_id", table_name="told_reasons")
    op.drop_table("told_reasons")
    op.drop_table("privacy_purges")
    op.drop_index("ix_privacy_consents_party_id_use_partner", table_name="privacy_consents")
    op.drop_table("privacy_consents")
    op.drop_index("ix_privacy_values_retain_until", table_name="privacy_values")
    op.drop_index("ix_privacy_values_key_id", table_name="privacy_values")
    op.drop_index("ix_privacy_values_field_blind_index", table_name="privacy_values")
    op.drop_table("privacy_values")
