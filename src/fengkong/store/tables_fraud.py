"""The interception log and the fraud review-case queue (issue 7; migration 0009).

``fraud_interceptions``: one row per blocked or held application, draw or transfer, keyed by the caller's
interception ID (the idempotency key), with the amount in fen and the reason. ``fraud_cases``: the review
queue; a case is ``open`` until reviewed with an outcome (``fraud`` / ``not_fraud``), and the review time is
when that label became known (:mod:`fengkong.store.fraud_cases`).
"""

from __future__ import annotations

from typing import Final

import sqlalchemy as sa

from fengkong import bounds
from fengkong.store.tables import UtcDateTime, metadata

fraud_interceptions: Final = sa.Table(
    "fraud_interceptions",
    metadata,
    sa.Column("interception_id", sa.String(bounds.fraud_case_id_length_max), primary_key=True),
    sa.Column("party_id", sa.String(bounds.party_id_length_max), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # application | draw | transfer
    sa.Column("action", sa.String(16), nullable=False),  # blocked | held
    sa.Column("subject_id", sa.String(bounds.fraud_case_id_length_max), nullable=False),
    sa.Column("amount_fen", sa.BigInteger(), nullable=False),
    sa.Column("reason_code", sa.String(bounds.fraud_reason_length_max), nullable=False),
    sa.Column("reason_detail", sa.String(bounds.fraud_reason_length_max), nullable=False),
    sa.Column("source", sa.String(bounds.fraud_reason_length_max), nullable=False),
    sa.Column("intercepted_at", UtcDateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('application', 'draw', 'transfer')", name="kind"),
    sa.CheckConstraint("action IN ('blocked', 'held')", name="action"),
    sa.CheckConstraint("amount_fen >= 0", name="amount_not_negative"),
    sa.Index(None, "party_id"),
    sa.Index(None, "intercepted_at"),
)

fraud_cases: Final = sa.Table(
    "fraud_cases",
    metadata,
    sa.Column("case_id", sa.String(bounds.fraud_case_id_length_max), primary_key=True),
    sa.Column("party_id", sa.String(bounds.party_id_length_max), nullable=False),
    sa.Column(
        "interception_id",
        sa.String(bounds.fraud_case_id_length_max),
        sa.ForeignKey("fraud_interceptions.interception_id"),
        nullable=True,
    ),
    sa.Column("status", sa.String(16), nullable=False),  # open | reviewed
    sa.Column("outcome", sa.String(16), nullable=True),  # fraud | not_fraud, once reviewed
    sa.Column("opened_at", UtcDateTime(), nullable=False),
    sa.Column("reviewed_at", UtcDateTime(), nullable=True),  # when the label became known
    sa.Column("reviewer", sa.String(bounds.fraud_reason_length_max), nullable=True),
    sa.CheckConstraint("status IN ('open', 'reviewed')", name="status"),
    sa.CheckConstraint("outcome IS NULL OR outcome IN ('fraud', 'not_fraud')", name="outcome"),
    sa.CheckConstraint(
        "(status = 'open' AND outcome IS NULL AND reviewed_at IS NULL) OR "
        "(status = 'reviewed' AND outcome IS NOT NULL AND reviewed_at IS NOT NULL)",
        name="reviewed_has_outcome",
    ),
    sa.CheckConstraint("reviewed_at IS NULL OR reviewed_at >= opened_at", name="reviewed_after_opened"),
    sa.Index(None, "status", "opened_at"),
    sa.Index(None, "party_id"),
    sa.Index(None, "reviewed_at"),
    sa.Index(None, "interception_id"),
)
