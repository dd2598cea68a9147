"""Supply-chain trade records, receivables, the audit trail's coverage of the outbox, stored checkpoints.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25

Trade records, receivable events, audit entries and checkpoints are append-only: BEFORE UPDATE/DELETE
triggers refuse any change (BEFORE TRUNCATE too on PostgreSQL). The identity of a receivable
(``receivables.identity_digest``) and of a financed part (``receivable_financings.part_identity``) are
unique: the database refuses the same invoice twice and the same part financed twice.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY_MESSAGE = "trade: the table is append-only"
APPEND_ONLY_TABLES = ("trade_records", "receivable_events", "audit_entries", "chain_checkpoints")
TABLES = (
    "trade_party_keys",
    "trade_records",
    "receivables",
    "receivable_parts",
    "receivable_financings",
    "receivable_events",
    "audit_entries",
    "chain_checkpoints",
)


def _stamp(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def _text(name: str, length: int, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.String(length), nullable=nullable)


def _fen(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "trade_party_keys",
        _text("key_id", 32),
        _text("party_id", 128),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        _stamp("registered_at"),
        sa.PrimaryKeyConstraint("key_id", name="pk_trade_party_keys"),
    )
    op.create_index("ix_trade_party_keys_party_id", "trade_party_keys", ["party_id"])
    op.create_table(
        "trade_records",
        _text("record_id", 128),
        _text("trade_id", 128),
        _text("kind", 32),
        _text("issuer_party_id", 128),
        _text("receiver_party_id", 128),
        _fen("amount_fen"),
        _text("currency", 3),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("issuer_sequence", sa.BigInteger(), nullable=False),
        _text("nonce", 32),
        _text("issuer_key_id", 32),
        _text("receiver_key_id", 32),
        sa.Column("canonical", sa.LargeBinary(), nullable=False),
        sa.Column("issuer_signature", sa.LargeBinary(), nullable=False),
        sa.Column("receiver_signature", sa.LargeBinary(), nullable=False),
        sa.Column("salt", sa.LargeBinary(), nullable=False),
        sa.Column("commitment", sa.LargeBinary(), nullable=False),
        sa.Column("leaf_index", sa.BigInteger(), nullable=False),
        _stamp("recorded_at"),
        sa.CheckConstraint("amount_fen > 0", name="ck_trade_records_amount_positive"),
        sa.CheckConstraint("issuer_sequence > 0", name="ck_trade_records_sequence_positive"),
        sa.CheckConstraint(
            "kind IN ('purchase_order', 'delivery_receipt', 'invoice')", name="ck_trade_records_kind_known"
        ),
        sa.PrimaryKeyConstraint("record_id", name="pk_trade_records"),
        sa.UniqueConstraint(
            "issuer_party_id", "issuer_sequence", name="uq_trade_records_issuer_party_id_issuer_sequence"
        ),
        sa.UniqueConstraint("nonce", name="uq_trade_records_nonce"),
        sa.UniqueConstraint("commitment", name="uq_trade_records_commitment"),
    )
    op.create_index("ix_trade_records_trade_id", "trade_records", ["trade_id"])
    op.create_index("ix_trade_records_receiver_party_id", "trade_records", ["receiver_party_id"])
    op.create_table(
        "receivables",
        _text("receivable_id", 128),
        _text("identity_digest", 64),
        _text("invoice_record_id", 128),
        _text("seller_party_id", 128),
        _text("debtor_party_id", 128),
        _fen("amount_fen"),
        _text("currency", 3),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        _text("status", 16),
        _stamp("created_at"),
        _stamp("updated_at"),
        sa.CheckConstraint("amount_fen > 0", name="ck_receivables_amount_positive"),
        sa.CheckConstraint(
            "status IN ('issued', 'confirmed', 'settled')", name="ck_receivables_status_known"
        ),
        sa.CheckConstraint("due_on > issued_on", name="ck_receivables_due_after_issue"),
        sa.ForeignKeyConstraint(
            ["invoice_record_id"],
            ["trade_records.record_id"],
            name="fk_receivables_invoice_record_id_trade_records",
        ),
        sa.PrimaryKeyConstraint("receivable_id", name="pk_receivables"),
        sa.UniqueConstraint("identity_digest", name="uq_receivables_identity_digest"),
        sa.UniqueConstraint("invoice_record_id", name="uq_receivables_invoice_record_id"),
    )
    op.create_index("ix_receivables_seller_party_id", "receivables", ["seller_party_id"])
    op.create_index("ix_receivables_debtor_party_id", "receivables", ["debtor_party_id"])
    op.create_table(
        "receivable_parts",
        _text("part_id", 256),
        _text("receivable_id", 128),
        _text("path", 256),
        _text("parent_part_id", 256, nullable=True),
        _text("part_identity", 64),
        _text("holder_party_id", 128),
        _fen("amount_fen"),
        _text("status", 16),
        _stamp("updated_at"),
        sa.CheckConstraint("amount_fen > 0", name="ck_receivable_parts_amount_positive"),
        sa.CheckConstraint(
            "status IN ('active', 'split', 'financed', 'settled')", name="ck_receivable_parts_status_known"
        ),
        sa.ForeignKeyConstraint(
            ["receivable_id"],
            ["receivables.receivable_id"],
            name="fk_receivable_parts_receivable_id_receivables",
        ),
        sa.PrimaryKeyConstraint("part_id", name="pk_receivable_parts"),
        sa.UniqueConstraint("part_identity", name="uq_receivable_parts_part_identity"),
        sa.UniqueConstraint("receivable_id", "path", name="uq_receivable_parts_receivable_id_path"),
    )
    op.create_index("ix_receivable_parts_holder_party_id", "receivable_parts", ["holder_party_id"])
    op.create_table(
        "receivable_financings",
        _text("part_identity", 64),
        _text("part_id", 256),
        _text("lender_party_id", 128),
        _text("seller_party_id", 128),
        _fen("amount_fen"),
        _fen("advance_fen"),
        _text("rate_annual", 32),
        sa.Column("financed_on", sa.Date(), nullable=False),
        sa.Column("proof_leaf_index", sa.BigInteger(), nullable=False),
        sa.Column("proof_tree_size", sa.BigInteger(), nullable=False),
        _stamp("created_at"),
        sa.CheckConstraint(
            "advance_fen > 0 AND advance_fen <= amount_fen",
            name="ck_receivable_financings_advance_within_amount",
        ),
        sa.ForeignKeyConstraint(
            ["part_id"],
            ["receivable_parts.part_id"],
            name="fk_receivable_financings_part_id_receivable_parts",
        ),
        sa.PrimaryKeyConstraint("part_identity", name="pk_receivable_financings"),
        sa.UniqueConstraint("part_id", name="uq_receivable_financings_part_id"),
    )
    op.create_table(
        "receivable_events",
        sa.Column(
            "event_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        _text("receivable_id", 128),
        _text("part_id", 256, nullable=True),
        _text("kind", 16),
        _text("from_party_id", 128, nullable=True),
        _text("to_party_id", 128, nullable=True),
        _fen("amount_fen"),
        sa.Column("event_on", sa.Date(), nullable=False),
        sa.Column("canonical", sa.LargeBinary(), nullable=False),
        sa.Column("salt", sa.LargeBinary(), nullable=False),
        sa.Column("commitment", sa.LargeBinary(), nullable=False),
        sa.Column("leaf_index", sa.BigInteger(), nullable=False),
        _stamp("created_at"),
        sa.CheckConstraint(
            "kind IN ('issue', 'confirm', 'split', 'transfer', 'finance', 'settle')",
            name="ck_receivable_events_kind_known",
        ),
        sa.PrimaryKeyConstraint("event_id", name="pk_receivable_events"),
        sa.UniqueConstraint("commitment", name="uq_receivable_events_commitment"),
    )
    op.create_index("ix_receivable_events_receivable_id", "receivable_events", ["receivable_id"])
    op.create_table(
        "audit_entries",
        sa.Column("outbox_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("log_id", sa.Integer(), nullable=False),
        sa.Column("leaf_index", sa.BigInteger(), nullable=False),
        _stamp("committed_at"),
        _stamp("covered_at"),
        sa.ForeignKeyConstraint(["log_id"], ["chain_logs.log_id"], name="fk_audit_entries_log_id_chain_logs"),
        sa.PrimaryKeyConstraint("outbox_id", name="pk_audit_entries"),
        sa.UniqueConstraint("log_id", "leaf_index", name="uq_audit_entries_log_id_leaf_index"),
    )
    op.create_table(
        "chain_checkpoints",
        sa.Column("log_id", sa.Integer(), nullable=False),
        sa.Column("tree_size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        _stamp("signed_at"),
        sa.ForeignKeyConstraint(
            ["log_id"], ["chain_logs.log_id"], name="fk_chain_checkpoints_log_id_chain_logs"
        ),
        sa.PrimaryKeyConstraint("log_id", "tree_size", name="pk_chain_checkpoints"),
    )
    _append_only_triggers(op.get_bind().dialect.name)


def _append_only_triggers(dialect: str) -> None:
    if dialect == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION trade_refuse_change() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{APPEND_ONLY_MESSAGE} (% on %)', TG_OP, TG_TABLE_NAME
                    USING ERRCODE = 'integrity_constraint_violation';
            END;
            $$
            """
        )
        for table in APPEND_ONLY_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION trade_refuse_change()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION trade_refuse_change()"
            )
        return
    for table in APPEND_ONLY_TABLES:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE} ({action} on {table})'); END"
            )


def downgrade() -> None:
    # Dropping a table drops its triggers on both databases.
    for table in reversed(TABLES):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION trade_refuse_change()")
