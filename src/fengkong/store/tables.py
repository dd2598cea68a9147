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

# -- loans -------------------------------------------------------------------------------------------------
# Servicing state of each loan (fengkong.lending.close_of_business.Book has one column per field below from
# `status` on), its installments as serviced, repayments (idempotent by repayment_id) with their allocation
# lines, and the close-of-business runs with per-chunk progress. Amounts are integer fen.

LOAN_STATE_AMOUNTS: Final = (
    "period_interest_fen",
    "accrued_in_period_fen",
    "principal_outstanding_fen",
    "due_principal_fen",
    "due_interest_fen",
    "due_fee_fen",
    "fees_outstanding_fen",
    "penalty_outstanding_fen",
    "interest_receivable_fen",
    "interest_suspended_fen",
)

loans: Final = sa.Table(
    "loans",
    metadata,
    # the order loans are chunked in by the close of business
    sa.Column(
        "loan_number",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("loan_id", sa.String(bounds.loan_id_length_max), nullable=False, unique=True),
    sa.Column("offer_id", sa.String(128), nullable=False, unique=True),  # an offer is accepted once
    sa.Column("party_id", sa.String(bounds.party_id_length_max), nullable=False),
    sa.Column("product", sa.String(32), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("principal_fen", sa.BigInteger(), nullable=False),
    sa.Column("disbursed_on", sa.Date(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("status", sa.SmallInteger(), nullable=False),  # 0 active, 1 closed, 2 written off
    sa.Column("last_closed_on", sa.Date(), nullable=False),
    sa.Column("period_number", sa.Integer(), nullable=False),
    sa.Column("period_start", sa.Date(), nullable=False),
    sa.Column("period_due", sa.Date(), nullable=True),  # NULL once the last installment has fallen due
    *(sa.Column(name, sa.BigInteger(), nullable=False) for name in LOAN_STATE_AMOUNTS),
    sa.Column("penalty_carry", sa.BigInteger(), nullable=False),  # numerator over penalty_rate_den x 365
    sa.Column("penalty_rate_num", sa.BigInteger(), nullable=False),
    sa.Column("penalty_rate_den", sa.BigInteger(), nullable=False),
    sa.Column("overdue_since", sa.Date(), nullable=True),
    sa.Column("days_past_due", sa.Integer(), nullable=False),
    sa.Column("bucket", sa.SmallInteger(), nullable=False),
    sa.Column("asset_class", sa.SmallInteger(), nullable=False),
    sa.CheckConstraint("status IN (0, 1, 2)", name="status"),
    sa.CheckConstraint("principal_fen > 0", name="principal_positive"),
    sa.CheckConstraint("penalty_rate_den > 0", name="penalty_rate_den_positive"),
    *(sa.CheckConstraint(f"{name} >= 0", name=f"{name}_not_negative") for name in LOAN_STATE_AMOUNTS),
    sa.Index(None, "party_id"),
)

loan_installments: Final = sa.Table(
    "loan_installments",
    metadata,
    sa.Column("loan_number", sa.BigInteger(), sa.ForeignKey("loans.loan_number"), primary_key=True),
    sa.Column("number", sa.Integer(), primary_key=True),
    sa.Column("due_on", sa.Date(), nullable=False),
    sa.Column("principal_fen", sa.BigInteger(), nullable=False),
    sa.Column("interest_fen", sa.BigInteger(), nullable=False),
    sa.Column("fee_fen", sa.BigInteger(), nullable=False),
    sa.Column("paid_principal_fen", sa.BigInteger(), nullable=False),
    sa.Column("paid_interest_fen", sa.BigInteger(), nullable=False),
    sa.Column("paid_fee_fen", sa.BigInteger(), nullable=False),
    sa.Column("waived_interest_fen", sa.BigInteger(), nullable=False),
    sa.CheckConstraint(
        "paid_principal_fen >= 0 AND paid_principal_fen <= principal_fen", name="principal_paid"
    ),
    sa.CheckConstraint(
        "paid_interest_fen >= 0 AND waived_interest_fen >= 0 "
        "AND paid_interest_fen + waived_interest_fen <= interest_fen",
        name="interest_paid",
    ),
    sa.CheckConstraint("paid_fee_fen >= 0 AND paid_fee_fen <= fee_fen", name="fee_paid"),
)

loan_repayments: Final = sa.Table(
    "loan_repayments",
    metadata,
    sa.Column("repayment_id", sa.String(bounds.repayment_id_length_max), primary_key=True),
    sa.Column("loan_number", sa.BigInteger(), sa.ForeignKey("loans.loan_number"), nullable=False),
    sa.Column("request_hash", sa.String(SHA256_HEX_LENGTH), nullable=False),
    sa.Column("amount_fen", sa.BigInteger(), nullable=False),
    sa.Column("business_date", sa.Date(), nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),  # applied | refused
    sa.Column("reason", sa.Text(), nullable=True),
    sa.Column("parts", sa.Text(), nullable=False),  # JSON [[component, fen], ...]
    sa.Column("paid_off", sa.Boolean(), nullable=False),
    sa.Column("posting_id", sa.String(bounds.ledger_posting_id_length_max), nullable=True),
    sa.Column("reversed_by", sa.String(bounds.ledger_posting_id_length_max), nullable=True, unique=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.CheckConstraint("outcome IN ('applied', 'refused')", name="outcome"),
    sa.CheckConstraint("amount_fen > 0", name="amount_positive"),
    sa.Index(None, "loan_number"),
)

loan_repayment_allocations: Final = sa.Table(
    "loan_repayment_allocations",
    metadata,
    sa.Column(
        "repayment_id",
        sa.String(bounds.repayment_id_length_max),
        sa.ForeignKey("loan_repayments.repayment_id"),
        primary_key=True,
    ),
    sa.Column("line_number", sa.Integer(), primary_key=True),
    sa.Column("installment", sa.Integer(), nullable=False),  # 0: the loan itself (penalty, recovery)
    sa.Column("component", sa.String(32), nullable=False),
    sa.Column("amount_fen", sa.BigInteger(), nullable=False),
    sa.CheckConstraint("amount_fen > 0", name="amount_positive"),
)

cob_runs: Final = sa.Table(
    "cob_runs",
    metadata,
    sa.Column("business_date", sa.Date(), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),  # running | done
    sa.Column("chunk_loans", sa.Integer(), nullable=False),
    sa.Column("chunks_total", sa.Integer(), nullable=False),
    sa.Column("started_at", UtcDateTime(), nullable=False),
    sa.Column("finished_at", UtcDateTime(), nullable=True),
    sa.CheckConstraint("status IN ('running', 'done')", name="status"),
)

cob_chunks: Final = sa.Table(
    "cob_chunks",
    metadata,
    sa.Column("business_date", sa.Date(), sa.ForeignKey("cob_runs.business_date"), primary_key=True),
    sa.Column("chunk_number", sa.Integer(), primary_key=True),
    sa.Column("first_loan_number", sa.BigInteger(), nullable=False),
    sa.Column("last_loan_number", sa.BigInteger(), nullable=False),
    sa.Column("loans_closed", sa.Integer(), nullable=True),  # NULL until the chunk is done
    sa.Column("postings", sa.Integer(), nullable=True),
    sa.Column("done_at", UtcDateTime(), nullable=True),
)

# -- exposure ----------------------------------------------------------------------------------------------
# Limits, holds and outstanding in integer fen (see fengkong.store.exposure). A party's limit per product and
# a household's cap each keep their held and outstanding sums; a reservation moves its amount into "held" on
# both rows with conditional UPDATEs (WHERE limit - held - outstanding >= amount), so two concurrent requests
# can never both pass a cap. A limit may be lowered below what is used (a line cut); only new holds are
# refused. Reservations are idempotent by reservation_id and keep their outcome (a refusal names its cap).

exposure_party_limits: Final = sa.Table(
    "exposure_party_limits",
    metadata,
    sa.Column("party_id", sa.String(bounds.party_id_length_max), primary_key=True),
    sa.Column("product", sa.String(bounds.exposure_product_length_max), primary_key=True),
    sa.Column("limit_fen", sa.BigInteger(), nullable=False),
    sa.Column("held_fen", sa.BigInteger(), nullable=False),
    sa.Column("outstanding_fen", sa.BigInteger(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.CheckConstraint("limit_fen >= 0", name="limit_not_negative"),
    sa.CheckConstraint("held_fen >= 0", name="held_not_negative"),
    sa.CheckConstraint("outstanding_fen >= 0", name="outstanding_not_negative"),
)

exposure_households: Final = sa.Table(
    "exposure_households",
    metadata,
    sa.Column("household_id", sa.String(bounds.party_id_length_max), primary_key=True),
    sa.Column("cap_fen", sa.BigInteger(), nullable=False),
    sa.Column("held_fen", sa.BigInteger(), nullable=False),
    sa.Column("outstanding_fen", sa.BigInteger(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.CheckConstraint("cap_fen >= 0", name="cap_not_negative"),
    sa.CheckConstraint("held_fen >= 0", name="held_not_negative"),
    sa.CheckConstraint("outstanding_fen >= 0", name="outstanding_not_negative"),
)

exposure_reservations: Final = sa.Table(
    "exposure_reservations",
    metadata,
    sa.Column("reservation_id", sa.String(bounds.exposure_reservation_id_length_max), primary_key=True),
    sa.Column("party_id", sa.String(bounds.party_id_length_max), nullable=False),
    sa.Column("household_id", sa.String(bounds.party_id_length_max), nullable=False),
    sa.Column("product", sa.String(bounds.exposure_product_length_max), nullable=False),
    sa.Column("amount_fen", sa.BigInteger(), nullable=False),
    # held | refused | released | expired | converted
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("refused_cap", sa.String(32), nullable=True),  # party_limit | household_cap, when refused
    sa.Column("available_fen", sa.BigInteger(), nullable=True),  # room under refused_cap when refused
    sa.Column("expires_at", UtcDateTime(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.CheckConstraint("status IN ('held', 'refused', 'released', 'expired', 'converted')", name="status"),
    sa.CheckConstraint("amount_fen > 0", name="amount_positive"),
    sa.Index(None, "status", "expires_at"),
    sa.Index(None, "party_id"),
    sa.Index(None, "household_id"),
)
