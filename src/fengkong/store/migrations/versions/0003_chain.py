"""The verifiable log: logs and their heads, leaves, and the stored complete subtrees.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25

Leaves, nodes and heads are append-only: BEFORE UPDATE/DELETE triggers (and BEFORE TRUNCATE on PostgreSQL)
refuse any change, so a rewritten history needs the database's owner to drop a trigger first, and even then
the signed roots give it away. The log row itself moves forward on every append (its size, root and frontier).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY_MESSAGE = "chain: the log is append-only"
APPEND_ONLY_TABLES = ("chain_leaves", "chain_nodes", "chain_heads")


def _timestamp(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "chain_logs",
        sa.Column("log_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.LargeBinary(), nullable=False),
        sa.Column("frontier", sa.LargeBinary(), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.CheckConstraint("tree_size >= 0", name=op.f("ck_chain_logs_tree_size_not_negative")),
        sa.PrimaryKeyConstraint("log_id", name=op.f("pk_chain_logs")),
        sa.UniqueConstraint("name", name=op.f("uq_chain_logs_name")),
    )
    op.create_table(
        "chain_leaves",
        sa.Column("log_id", sa.Integer(), nullable=False),
        sa.Column("leaf_index", sa.BigInteger(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(), nullable=False),
        sa.Column("entry", sa.LargeBinary(), nullable=False),
        sa.CheckConstraint("leaf_index >= 0", name=op.f("ck_chain_leaves_leaf_index_not_negative")),
        sa.ForeignKeyConstraint(
            ["log_id"], ["chain_logs.log_id"], name=op.f("fk_chain_leaves_log_id_chain_logs")
        ),
        sa.PrimaryKeyConstraint("log_id", "leaf_index", name=op.f("pk_chain_leaves")),
    )
    op.create_table(
        "chain_nodes",
        sa.Column("log_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("node_index", sa.BigInteger(), nullable=False),
        sa.Column("node_hash", sa.LargeBinary(), nullable=False),
        sa.CheckConstraint("level > 0 AND level <= 64", name=op.f("ck_chain_nodes_level_in_range")),
        sa.CheckConstraint("node_index >= 0", name=op.f("ck_chain_nodes_node_index_not_negative")),
        sa.ForeignKeyConstraint(
            ["log_id"], ["chain_logs.log_id"], name=op.f("fk_chain_nodes_log_id_chain_logs")
        ),
        sa.PrimaryKeyConstraint("log_id", "level", "node_index", name=op.f("pk_chain_nodes")),
    )
    op.create_table(
        "chain_heads",
        sa.Column("log_id", sa.Integer(), nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.LargeBinary(), nullable=False),
        _timestamp("created_at"),
        sa.CheckConstraint("tree_size > 0", name=op.f("ck_chain_heads_tree_size_positive")),
        sa.ForeignKeyConstraint(
            ["log_id"], ["chain_logs.log_id"], name=op.f("fk_chain_heads_log_id_chain_logs")
        ),
        sa.PrimaryKeyConstraint("log_id", "tree_size", name=op.f("pk_chain_heads")),
    )
    if dialect == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION chain_refuse_change() RETURNS trigger
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
                "FOR EACH ROW EXECUTE FUNCTION chain_refuse_change()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION chain_refuse_change()"
            )
    else:
        for table in APPEND_ONLY_TABLES:
            for action in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE} ({action} on {table})'); END"
                )


def downgrade() -> None:
    # Dropping a table drops its triggers on both databases.
    for table in reversed(("chain_logs", *APPEND_ONLY_TABLES)):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION chain_refuse_change()")
