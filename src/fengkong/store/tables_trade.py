"""Tables of supply-chain trade, receivables and the audit trail (issue 9; migration 0006).

* ``trade_party_keys`` — the Ed25519 public keys parties registered, by key ID.
* ``trade_records`` — signed trade documents (canonical bytes, both signatures), each with its salt, the
  commitment in the trade log and the leaf index. ``(issuer_party_id, issuer_sequence)``, ``nonce`` and
  ``commitment`` are unique: a replay or a second document at one sequence cannot be stored.
* ``receivables`` — one per invoice; ``identity_digest`` (the normalised e-invoice number, tax IDs, amount and
  date, hashed) is UNIQUE: the same invoice presented twice, in any spelling, is refused by the database.
* ``receivable_parts`` — the parts a receivable is held as (split, transferred, financed, settled);
  ``part_identity`` is unique.
* ``receivable_financings`` — one row per financed part, primary key ``part_identity``: no part is financed
  twice, whatever the code above does.
* ``receivable_events`` — every change, as canonical bytes with the salt and the commitment logged.
* ``audit_entries`` — which outbox rows the audit log covers (``outbox_id`` is the primary key, so a row is
  appended once) and at which leaf.
* ``chain_checkpoints`` — the signed checkpoint notes of a log, one per size signed.

Trade records, receivable events, audit entries and checkpoints are append-only: triggers in migration 0006
refuse UPDATE and DELETE.
"""

from __future__ import annotations

from typing import Final

import sqlalchemy as sa

from fengkong import bounds
from fengkong.store.tables import SHA256_HEX_LENGTH, UtcDateTime, metadata

KEY_ID_HEX_LENGTH: Final = 32
NONCE_HEX_LENGTH: Final = 32
PART_ID_LENGTH: Final = 256
PATH_LENGTH: Final = 256
STATUS_LENGTH: Final = 16
RATE_TEXT_LENGTH: Final = 32

_party = bounds.party_id_length_max
_record = bounds.trade_record_id_length_max

trade_party_keys: Final = sa.Table(
    "trade_party_keys",
    metadata,
    sa.Column("key_id", sa.String(KEY_ID_HEX_LENGTH), primary_key=True),
    sa.Column("party_id", sa.String(_party), nullable=False),
    sa.Column("public_key", sa.LargeBinary(), nullable=False),
    sa.Column("registered_at", UtcDateTime(), nullable=False),
    sa.Index(None, "party_id"),
)

trade_records: Final = sa.Table(
    "trade_records",
    metadata,
    sa.Column("record_id", sa.String(_record), primary_key=True),
    sa.Column("trade_id", sa.String(_record), nullable=False),
    sa.Column("kind", sa.String(STATUS_LENGTH + 16), nullable=False),
    sa.Column("issuer_party_id", sa.String(_party), nullable=False),
    sa.Column("receiver_party_id", sa.String(_party), nullable=False),
    sa.Column("amount_fen", sa.BigInteger(), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("issued_on", sa.Date(), nullable=False),
    sa.Column("due_on", sa.Date(), nullable=True),
    sa.Column("issuer_sequence", sa.BigInteger(), nullable=False),
    sa.Column("nonce", sa.String(NONCE_HEX_LENGTH), nullable=False),
    sa.Column("issuer_key_id", sa.String(KEY_ID_HEX_LENGTH), nullable=False),
    sa.Column("receiver_key_id", sa.String(KEY_ID_HEX_LENGTH), nullable=False),
    sa.Column("canonical", sa.LargeBinary(), nullable=False),
    sa.Column("issuer_signature", sa.LargeBinary(), nullable=False),
    sa.Column("receiver_signature", sa.LargeBinary(), nullable=False),
    sa.Column("salt", sa.LargeBinary(), nullable=False),
    sa.Column("commitment", sa.LargeBinary(), nullable=False),
    sa.Column("leaf_index", sa.BigInteger(), nullable=False),
    sa.Column("recorded_at", UtcDateTime(), nullable=False),
    sa.CheckConstraint("amount_fen > 0", name="amount_positive"),
    sa.CheckConstraint("issuer_sequence > 0", name="sequence_positive"),
    sa.CheckConstraint("kind IN ('purchase_order', 'delivery_receipt', 'invoice')", name="kind_known"),
    sa.UniqueConstraint("issuer_party_id", "issuer_sequence"),
    sa.UniqueConstraint("nonce"),
    sa.UniqueConstraint("commitment"),
    sa.Index(None, "trade_id"),
    sa.Index(None, "receiver_party_id"),
)

receivables: Final = sa.Table(
    "receivables",
    metadata,
    sa.Column("receivable_id", sa.String(_record), primary_key=True),
    sa.Column("identity_digest", sa.String(SHA256_HEX_LENGTH), nullable=False),
    sa.Column(
        "invoice_record_id", sa.String(_record), sa.ForeignKey("trade_records.record_id"), nullable=False
    ),
    sa.Column("seller_party_id", sa.String(_party), nullable=False),
    sa.Column("debtor_party_id", sa.String(_party), nullable=False),
    sa.Column("amount_fen", sa.BigInteger(), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("issued_on", sa.Date(), nullable=False),
    sa.Column("due_on", sa.Date(), nullable=False),
    sa.Column("status", sa.String(STATUS_LENGTH), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.CheckConstraint("amount_fen > 0", name="amount_positive"),
    sa.CheckConstraint("status IN ('issued', 'confirmed', 'settled')", name="status_known"),
    sa.CheckConstraint("due_on > issued_on", name="due_after_issue"),
    sa.UniqueConstraint("identity_digest"),
    sa.UniqueConstraint("invoice_record_id"),
    sa.Index(None, "seller_party_id"),
    sa.Index(None, "debtor_party_id"),
)

receivable_parts: Final = sa.Table(
    "receivable_parts",
    metadata,
    sa.Column("part_id", sa.String(PART_ID_LENGTH), primary_key=True),
    sa.Column(
        "receivable_id", sa.String(_record), sa.ForeignKey("receivables.receivable_id"), nullable=False
    ),
    sa.Column("path", sa.String(PATH_LENGTH), nullable=False),
    sa.Column("parent_part_id", sa.String(PART_ID_LENGTH), nullable=True),
    sa.Column("part_identity", sa.String(SHA256_HEX_LENGTH), nullable=False),
    sa.Column("holder_party_id", sa.String(_party), nullable=False),
    sa.Column("amount_fen", sa.BigInteger(), nullable=False),
    sa.Column("status", sa.String(STATUS_LENGTH), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.CheckConstraint("amount_fen > 0", name="amount_positive"),
    sa.CheckConstraint("status IN ('active', 'split', 'financed', 'settled')", name="status_known"),
    sa.UniqueConstraint("part_identity"),
    sa.UniqueConstraint("receivable_id", "path"),
    sa.Index(None, "holder_party_id"),
)

receivable_financings: Final = sa.Table(
    "receivable_financings",
    metadata,
    sa.Column("part_identity", sa.String(SHA256_HEX_LENGTH), primary_key=True),
    sa.Column(
        "part_id", sa.String(PART_ID_LENGTH), sa.ForeignKey("receivable_parts.part_id"), nullable=False
    ),
    sa.Column("lender_party_id", sa.String(_party), nullable=False),
    sa.Column("seller_party_id", sa.String(_party), nullable=False),  # the holder who discounted it
    sa.Column("amount_fen", sa.BigInteger(), nullable=False),
    sa.Column("advance_fen", sa.BigInteger(), nullable=False),
    sa.Column("rate_annual", sa.String(RATE_TEXT_LENGTH), nullable=False),  # a Decimal as text
    sa.Column("financed_on", sa.Date(), nullable=False),
    sa.Column("proof_leaf_index", sa.BigInteger(), nullable=False),
    sa.Column("proof_tree_size", sa.BigInteger(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.CheckConstraint("advance_fen > 0 AND advance_fen <= amount_fen", name="advance_within_amount"),
    sa.UniqueConstraint("part_id"),
)

receivable_events: Final = sa.Table(
    "receivable_events",
    metadata,
    sa.Column(
        "event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True
    ),
    sa.Column("receivable_id", sa.String(_record), nullable=False),
    sa.Column("part_id", sa.String(PART_ID_LENGTH), nullable=True),
    sa.Column("kind", sa.String(STATUS_LENGTH), nullable=False),
    sa.Column("from_party_id", sa.String(_party), nullable=True),
    sa.Column("to_party_id", sa.String(_party), nullable=True),
    sa.Column("amount_fen", sa.BigInteger(), nullable=False),
    sa.Column("event_on", sa.Date(), nullable=False),
    sa.Column("canonical", sa.LargeBinary(), nullable=False),
    sa.Column("salt", sa.LargeBinary(), nullable=False),
    sa.Column("commitment", sa.LargeBinary(), nullable=False),
    sa.Column("leaf_index", sa.BigInteger(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.CheckConstraint(
        "kind IN ('issue', 'confirm', 'split', 'transfer', 'finance', 'settle')", name="kind_known"
    ),
    sa.UniqueConstraint("commitment"),
    sa.Index(None, "receivable_id"),
)

audit_entries: Final = sa.Table(
    "audit_entries",
    metadata,
    sa.Column("outbox_id", sa.BigInteger(), primary_key=True, autoincrement=False),
    sa.Column("log_id", sa.Integer(), sa.ForeignKey("chain_logs.log_id"), nullable=False),
    sa.Column("leaf_index", sa.BigInteger(), nullable=False),
    sa.Column("committed_at", UtcDateTime(), nullable=False),  # the outbox row's created_at
    sa.Column("covered_at", UtcDateTime(), nullable=False),  # when a signed checkpoint covered it
    sa.UniqueConstraint("log_id", "leaf_index"),
)

chain_checkpoints: Final = sa.Table(
    "chain_checkpoints",
    metadata,
    sa.Column("log_id", sa.Integer(), sa.ForeignKey("chain_logs.log_id"), primary_key=True),
    sa.Column("tree_size", sa.BigInteger(), primary_key=True, autoincrement=False),
    sa.Column("note", sa.Text(), nullable=False),
    sa.Column("signed_at", UtcDateTime(), nullable=False),
)

APPEND_ONLY_TABLES: Final = ("trade_records", "receivable_events", "audit_entries", "chain_checkpoints")
