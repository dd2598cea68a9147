"""The tables, in one :data:`metadata` with a naming convention for constraints.

Alembic migrations (``store/migrations/versions/``) create exactly these tables; a test compares the migrated
schema with this metadata on SQLite and PostgreSQL. Change both together.

Timestamps are :class:`UtcDateTime`: timezone-aware UTC in Python on every backend. PostgreSQL stores
``timestamptz``; SQLite has no zones, so values are stored as naive UTC text (which sorts in time order) and
come back with ``tzinfo=UTC``. A naive datetime is refused at the boundary.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from fengkong import bounds
from fengkong.clock import require_utc

NAMING_CONVENTION: Final = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata: Final = sa.MetaData(naming_convention=NAMING_CONVENTION)

SHA256_HEX_LENGTH: Final = 64


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """A timezone-aware UTC instant on every backend (see the module docstring)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        instant = require_utc(value)
        if dialect.name == "sqlite":
            return instant.replace(tzinfo=None)
        return instant

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


parties: Final = sa.Table(
    "parties",
    metadata,
    sa.Column("party_id", sa.String(bounds.party_id_length_max), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    # sorted role values joined by commas: "consumer,rider"
    sa.Column("roles", sa.String(256), nullable=False),
    sa.Column("household_id", sa.String(bounds.party_id_length_max), nullable=True),
    # Not a foreign key: events may introduce a business before the person who owns it.
    sa.Column("owner_party_id", sa.String(bounds.party_id_length_max), nullable=True),
    # JSON list of [name, value] pairs (Party.attributes); never personal data
    sa.Column("attributes", sa.Text(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('person', 'business')", name="kind"),
    sa.CheckConstraint("roles <> ''", name="roles_not_empty"),
    sa.Index(None, "household_id"),
    sa.Index(None, "owner_party_id"),
)

ingested_events: Final = sa.Table(
    "ingested_events",
    metadata,
    sa.Column("event_id", sa.String(bounds.event_id_length_max), primary_key=True),
    sa.Column("event_type", sa.String(bounds.event_type_length_max), nullable=False),
    sa.Column("occurred_at", UtcDateTime(), nullable=False),
    sa.Column("received_at", UtcDateTime(), nullable=False),
    sa.Column("ingested_at", UtcDateTime(), nullable=False),
)

outbox: Final = sa.Table(
    "outbox",
    metadata,
    # BIGINT on PostgreSQL; SQLite only auto-increments an INTEGER PRIMARY KEY.
    sa.Column(
        "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True
    ),
    sa.Column("topic", sa.String(bounds.outbox_topic_length_max), nullable=False),
    sa.Column("key", sa.String(bounds.outbox_key_length_max), nullable=False),
    sa.Column("payload", sa.Text(), nullable=False),  # JSON object text
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("published_at", UtcDateTime(), nullable=True),
    sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0")),
    sa.Column("last_error", sa.Text(), nullable=True),
    sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
    # Workers look for unpublished rows in id order; published rows are history.
    sa.Index(None, "published_at", "id"),
)

idempotency_keys: Final = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("tenant", sa.String(bounds.tenant_id_length_max), primary_key=True),
    sa.Column("endpoint", sa.String(bounds.endpoint_name_length_max), primary_key=True),
    sa.Column("key", sa.String(bounds.idempotency_key_length_max), primary_key=True),
    sa.Column("request_hash", sa.String(SHA256_HEX_LENGTH), nullable=False),  # sha256 of the request body
    # JSON text of the first response; NULL only inside the transaction that is computing it
    sa.Column("response", sa.Text(), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
)

# -- ledger ------------------------------------------------------------------------------------------------
# Double entry, append-only (see fengkong.store.ledger). A transfer (a posting) is a header and its lines;
# the header states how many lines it has. Structural guarantees, the same on both databases:
#   * every line copies its header's line_count (a composite foreign key keeps the copy honest) and is
#     numbered 1..line_count (a check), numbers unique per transfer (the primary key): no transfer ever holds
#     more lines than its header says;
#   * the header refers to its own last line through a DEFERRED foreign key, checked at commit: a transfer
#     cannot be committed without its last line.
# The balance itself (lines sum to zero per currency) is checked by triggers created in migration 0002:
# on PostgreSQL a deferred constraint trigger at commit; on SQLite a trigger on the last line, which must
# come last and finds every other line present. UPDATE and DELETE are refused by triggers on both.

ledger_accounts: Final = sa.Table(
    "ledger_accounts",
    metadata,
    sa.Column("code", sa.String(bounds.ledger_account_code_length_max), primary_key=True),
    sa.Column("name", sa.String(256), nullable=False),
    sa.Column("type", sa.String(16), nullable=False),
    sa.CheckConstraint("type IN ('asset', 'liability', 'equity', 'income', 'expense')", name="type"),
)

ledger_transfers: Final = sa.Table(
    "ledger_transfers",
    metadata,
    sa.Column("transfer_id", sa.String(bounds.ledger_posting_id_length_max), primary_key=True),
    sa.Column("business_date", sa.Date(), nullable=False),
    sa.Column("description", sa.String(bounds.ledger_description_length_max), nullable=False),
    sa.Column(
        "reverses",
        sa.String(bounds.ledger_posting_id_length_max),
        sa.ForeignKey("ledger_transfers.transfer_id"),
        nullable=True,
    ),
    sa.Column("line_count", sa.Integer(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.CheckConstraint("line_count >= 2", name="line_count_at_least_two"),
    sa.UniqueConstraint("transfer_id", "line_count"),
    sa.UniqueConstraint("reverses"),  # a posting is reversed at most once
    sa.ForeignKeyConstraint(
        ["transfer_id", "line_count"],
        ["ledger_lines.transfer_id", "ledger_lines.line_number"],
        name="fk_ledger_transfers_last_line",
        deferrable=True,
        initially="DEFERRED",
        use_alter=True,
    ),
)

ledger_lines: Final = sa.Table(
    "ledger_lines",
    metadata,
    sa.Column("transfer_id", sa.String(bounds.ledger_posting_id_length_max), primary_key=True),
    sa.Column("line_number", sa.Integer(), primary_key=True),
    sa.Column("line_count", sa.Integer(), nullable=False),
    sa.Column(
        "account_code",
        sa.String(bounds.ledger_account_code_length_max),
        sa.ForeignKey("ledger_accounts.code"),
        nullable=False,
    ),
    sa.Column("subaccount", sa.String(bounds.ledger_subaccount_length_max), nullable=False),  # '' for none
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("amount_minor", sa.BigInteger(), nullable=False),  # debit positive, credit negative
    sa.CheckConstraint("amount_minor <> 0", name="amount_not_zero"),
    sa.CheckConstraint("line_number >= 1 AND line_number <= line_count", name="line_number_in_range"),
    sa.ForeignKeyConstraint(
        ["transfer_id", "line_count"],
        ["ledger_transfers.transfer_id", "ledger_transfers.line_count"],
        name="fk_ledger_lines_transfer",
    ),
)

# -- chain: the verifiable log -----------------------------------------------------------------------------
# RFC 9162 Merkle logs (see fengkong.chain.merkle and fengkong.store.chain). A log's row holds its head: the
# tree size, the root and the frontier (the compact range of [0, size): its complete subtree hashes, largest
# first, concatenated), moved forward by a conditional UPDATE so that an append expecting another size writes
# nothing. Leaves keep their entry and leaf hash; chain_nodes keeps the complete subtrees at the stored levels
# (multiples of fengkong.chain.merkle.STORED_LEVEL_STRIDE), from which proofs are made. chain_heads keeps the
# root after every append. Leaves, nodes and heads are append-only (triggers of migration 0003).

chain_logs: Final = sa.Table(
    "chain_logs",
    metadata,
    sa.Column("log_id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(bounds.chain_log_name_length_max), nullable=False),
    sa.Column("tree_size", sa.BigInteger(), nullable=False),
    sa.Column("root_hash", sa.LargeBinary(), nullable=False),
    sa.Column("frontier", sa.LargeBinary(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.CheckConstraint("tree_size >= 0", name="tree_size_not_negative"),
    sa.UniqueConstraint("name"),
)

chain_leaves: Final = sa.Table(
    "chain_leaves",
    metadata,
    sa.Column("log_id", sa.Integer(), sa.ForeignKey("chain_logs.log_id"), primary_key=True),
    sa.Column("leaf_index", sa.BigInteger(), primary_key=True),
    sa.Column("leaf_hash", sa.LargeBinary(), nullable=False),
    sa.Column("entry", sa.LargeBinary(), nullable=False),
    sa.CheckConstraint("leaf_index >= 0", name="leaf_index_not_negative"),
)

chain_nodes: Final = sa.Table(
    "chain_nodes",
    metadata,
    sa.Column("log_id", sa.Integer(), sa.ForeignKey("chain_logs.log_id"), primary_key=True),
    sa.Column("level", sa.SmallInteger(), primary_key=True),
    sa.Column("node_index", sa.BigInteger(), primary_key=True),
    sa.Column("node_hash", sa.LargeBinary(), nullable=False),
    sa.CheckConstraint("level > 0 AND level <= 64", name="level_in_range"),
    sa.CheckConstraint("node_index >= 0", name="node_index_not_negative"),
)

chain_heads: Final = sa.Table(
    "chain_heads",
    metadata,
    sa.Column("log_id", sa.Integer(), sa.ForeignKey("chain_logs.log_id"), primary_key=True),
    sa.Column("tree_size", sa.BigInteger(), primary_key=True),
    sa.Column("root_hash", sa.LargeBinary(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.CheckConstraint("tree_size > 0", name="tree_size_positive"),
)
