"""The double-entry ledger: accounts, transfer headers and lines, and the triggers that keep it balanced and
append-only.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

Debits equal credits, checked by the database itself (see fengkong.store.tables, "ledger"):

* PostgreSQL: a deferred constraint trigger on each transfer header runs at COMMIT and refuses a transfer
  whose lines are not exactly ``line_count`` in number or do not sum to zero in every currency.
* SQLite (no deferred triggers): lines are written in order and the last line's trigger refuses the insert
  unless every earlier line is present and the lines sum to zero; once the last line is in, no line can be
  added. The header's deferred foreign key to its own last line makes COMMIT fail for a transfer left without
  it.

On both, BEFORE UPDATE/DELETE triggers (and BEFORE TRUNCATE on PostgreSQL) refuse any change of a posting:
corrections are reversing entries.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY_MESSAGE = "ledger: postings are append-only; correct with a reversing entry"

POSTGRESQL_UP = [
    """
    CREATE FUNCTION ledger_check_transfer() RETURNS trigger
    LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
    DECLARE
        found_lines bigint;
        unbalanced boolean;
    BEGIN
        SELECT coalesce(sum(lines_in_currency), 0), coalesce(bool_or(currency_total <> 0), false)
        INTO found_lines, unbalanced
        FROM (
            SELECT count(*) AS lines_in_currency, sum(amount_minor) AS currency_total
            FROM ledger_lines WHERE transfer_id = NEW.transfer_id GROUP BY currency
        ) AS per_currency;
        IF found_lines <> NEW.line_count THEN
            RAISE EXCEPTION 'ledger: transfer % has % lines, its header says %',
                NEW.transfer_id, found_lines, NEW.line_count
                USING ERRCODE = 'check_violation';
        END IF;
        IF unbalanced THEN
            RAISE EXCEPTION 'ledger: debits and credits of transfer % differ', NEW.transfer_id
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
    END;
    $$
    """,
    """
    CREATE CONSTRAINT TRIGGER ledger_transfers_balanced
    AFTER INSERT ON ledger_transfers
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_check_transfer()
    """,
    f"""
    CREATE FUNCTION ledger_refuse_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{APPEND_ONLY_MESSAGE} (% on %)', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'integrity_constraint_violation';
    END;
    $$
    """,
    """
    CREATE TRIGGER ledger_transfers_append_only BEFORE UPDATE OR DELETE ON ledger_transfers
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()
    """,
    """
    CREATE TRIGGER ledger_lines_append_only BEFORE UPDATE OR DELETE ON ledger_lines
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()
    """,
    """
    CREATE TRIGGER ledger_transfers_no_truncate BEFORE TRUNCATE ON ledger_transfers
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()
    """,
    """
    CREATE TRIGGER ledger_lines_no_truncate BEFORE TRUNCATE ON ledger_lines
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()
    """,
]

POSTGRESQL_DOWN = [
    "DROP TRIGGER IF EXISTS ledger_lines_no_truncate ON ledger_lines",
    "DROP TRIGGER IF EXISTS ledger_transfers_no_truncate ON ledger_transfers",
    "DROP TRIGGER IF EXISTS ledger_lines_append_only ON ledger_lines",
    "DROP TRIGGER IF EXISTS ledger_transfers_append_only ON ledger_transfers",
    "DROP TRIGGER IF EXISTS ledger_transfers_balanced ON ledger_transfers",
    "DROP FUNCTION IF EXISTS ledger_refuse_change()",
    "DROP FUNCTION IF EXISTS ledger_check_transfer()",
]

SQLITE_UP = [
    """
    CREATE TRIGGER ledger_lines_sealed BEFORE INSERT ON ledger_lines
    WHEN NEW.line_number < NEW.line_count
    BEGIN
        SELECT RAISE(ABORT, 'ledger: the transfer is complete; no line can be added to it')
        WHERE EXISTS (
            SELECT 1 FROM ledger_lines WHERE transfer_id = NEW.transfer_id AND line_number = NEW.line_count
        );
    END
    """,
    """
    CREATE TRIGGER ledger_lines_balanced BEFORE INSERT ON ledger_lines
    WHEN NEW.line_number = NEW.line_count
    BEGIN
        SELECT RAISE(ABORT, 'ledger: the last line must come after every other line of its transfer')
        WHERE (SELECT count(*) FROM ledger_lines WHERE transfer_id = NEW.transfer_id) <> NEW.line_count - 1;
        SELECT RAISE(ABORT, 'ledger: debits and credits of the transfer differ')
        WHERE EXISTS (
            SELECT 1 FROM (
                SELECT currency, amount_minor FROM ledger_lines WHERE transfer_id = NEW.transfer_id
                UNION ALL SELECT NEW.currency, NEW.amount_minor
            ) GROUP BY currency HAVING sum(amount_minor) <> 0
        );
    END
    """,
    *(
        f"""
        CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table}
        BEGIN
            SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}');
        END
        """
        for table in ("ledger_transfers", "ledger_lines")
        for operation in ("UPDATE", "DELETE")
    ),
]

SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS ledger_lines_no_delete",
    "DROP TRIGGER IF EXISTS ledger_lines_no_update",
    "DROP TRIGGER IF EXISTS ledger_transfers_no_delete",
    "DROP TRIGGER IF EXISTS ledger_transfers_no_update",
    "DROP TRIGGER IF EXISTS ledger_lines_balanced",
    "DROP TRIGGER IF EXISTS ledger_lines_sealed",
]


def _last_line_foreign_key() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["transfer_id", "line_count"],
        ["ledger_lines.transfer_id", "ledger_lines.line_number"],
        name=op.f("fk_ledger_transfers_last_line"),
        deferrable=True,
        initially="DEFERRED",
    )


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "ledger_accounts",
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.CheckConstraint(
            "type IN ('asset', 'liability', 'equity', 'income', 'expense')",
            name=op.f("ck_ledger_accounts_type"),
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_ledger_accounts")),
    )
    # SQLite cannot add a constraint later, and does not mind a reference to a table created next; PostgreSQL
    # gets the circular foreign key once both tables exist.
    inline_last_line = [_last_line_foreign_key()] if dialect == "sqlite" else []
    op.create_table(
        "ledger_transfers",
        sa.Column("transfer_id", sa.String(128), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("description", sa.String(256), nullable=False),
        sa.Column("reverses", sa.String(128), nullable=True),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("line_count >= 2", name=op.f("ck_ledger_transfers_line_count_at_least_two")),
        sa.ForeignKeyConstraint(
            ["reverses"],
            ["ledger_transfers.transfer_id"],
            name=op.f("fk_ledger_transfers_reverses_ledger_transfers"),
        ),
        sa.PrimaryKeyConstraint("transfer_id", name=op.f("pk_ledger_transfers")),
        sa.UniqueConstraint(
            "transfer_id", "line_count", name=op.f("uq_ledger_transfers_transfer_id_line_count")
        ),
        sa.UniqueConstraint("reverses", name=op.f("uq_ledger_transfers_reverses")),
        *inline_last_line,
    )
    op.create_table(
        "ledger_lines",
        sa.Column("transfer_id", sa.String(128), nullable=False),
        sa.Column("line_number", sa.Integer(), nullable=False),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("account_code", sa.String(64), nullable=False),
        sa.Column("subaccount", sa.String(128), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount_minor <> 0", name=op.f("ck_ledger_lines_amount_not_zero")),
        sa.CheckConstraint(
            "line_number >= 1 AND line_number <= line_count",
            name=op.f("ck_ledger_lines_line_number_in_range"),
        ),
        sa.ForeignKeyConstraint(
            ["account_code"],
            ["ledger_accounts.code"],
            name=op.f("fk_ledger_lines_account_code_ledger_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["transfer_id", "line_count"],
            ["ledger_transfers.transfer_id", "ledger_transfers.line_count"],
            name=op.f("fk_ledger_lines_transfer"),
        ),
        sa.PrimaryKeyConstraint("transfer_id", "line_number", name=op.f("pk_ledger_lines")),
    )
    if dialect == "postgresql":
        op.create_foreign_key(
            op.f("fk_ledger_transfers_last_line"),
            "ledger_transfers",
            "ledger_lines",
            ["transfer_id", "line_count"],
            ["transfer_id", "line_number"],
            deferrable=True,
            initially="DEFERRED",
        )
        for statement in POSTGRESQL_UP:
            op.execute(statement)
    elif dialect == "sqlite":
        for statement in SQLITE_UP:
            op.execute(statement)
    else:
        raise NotImplementedError(
            f"the ledger's balance checks exist for sqlite and postgresql, not {dialect}"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for statement in POSTGRESQL_DOWN:
            op.execute(statement)
        op.drop_constraint(op.f("fk_ledger_transfers_last_line"), "ledger_transfers", type_="foreignkey")
    else:
        for statement in SQLITE_DOWN:
            op.execute(statement)
    op.drop_table("ledger_lines")
    op.drop_table("ledger_transfers")
    op.drop_table("ledger_accounts")
