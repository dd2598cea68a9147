"""Credit lines with their history of changes, and early-warning alerts (issue 8; migration 0012).

``credit_lines``: one row per (party, product): the limit in fen, ``active`` or ``frozen``, the date it opened
and last rose. The limit that reservations check is the exposure row (``exposure_party_limits``), which
:mod:`fengkong.store.credit_lines` sets in the same transaction as every change.
``credit_line_changes``: every change ever made (open, raise, cut, freeze, unfreeze, set), append-only, keyed
by the caller's change ID (the idempotency key), with the old and new limit, the reason, the triggering
feature values (JSON text), when, and the rule version (or operator) that made it.
``credit_line_alerts``: the early-warning review queue: an alert is ``open`` until reviewed with an outcome
(``confirmed`` or ``dismissed``).
"""

from __future__ import annotations

from typing import Final

import sqlalchemy as sa

from fengkong import bounds
from fengkong.store.tables import UtcDateTime, metadata

credit_lines: Final = sa.Table(
    "credit_lines",
    metadata,
    sa.Column("party_id", sa.String(bounds.party_id_length_max), primary_key=True),
    sa.Column("product", sa.String(bounds.exposure_product_length_max), primary_key=True),
    sa.Column("limit_fen", sa.BigInteger(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # active | frozen
    sa.Column("opened_on", sa.Date(), nullable=False),
    sa.Column("last_raised_on", sa.Date(), nullable=True),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.CheckConstraint("limit_fen >= 0", name="limit_not_negative"),
    sa.CheckConstraint("status IN ('active', 'frozen')", name="status"),
)

credit_line_changes: Final = sa.Table(
    "credit_line_changes",
    metadata,
    sa.Column("change_id", sa.String(bounds.credit_line_change_id_length_max), primary_key=True),
    sa.Column("party_id", sa.String(bounds.party_id_length_max), nullable=False),
    sa.Column("product", sa.String(bounds.exposure_product_length_max), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("reason", sa.String(bounds.credit_line_reason_length_max), nullable=False),
    sa.Column("old_limit_fen", sa.BigInteger(), nullable=False),
    sa.Column("new_limit_fen", sa.BigInteger(), nullable=False),
    sa.Column("triggers", sa.Text(), nullable=False),  # JSON object text: feature name -> value
    sa.Column("business_date", sa.Date(), nullable=False),
    sa.Column("changed_at", UtcDateTime(), nullable=False),
    sa.Column("changed_by", sa.String(bounds.credit_line_rule_version_length_max), nullable=False),
    sa.CheckConstraint("action IN ('open', 'raise', 'cut', 'freeze', 'unfreeze', 'set')", name="action"),
    sa.CheckConstraint("old_limit_fen >= 0 AND new_limit_fen >= 0", name="limits_not_negative"),
    sa.Index(None, "party_id", "product", "changed_at"),
    sa.Index(None, "business_date"),
)

credit_line_alerts: Final = sa.Table(
    "credit_line_alerts",
    metadata,
    sa.Column("alert_id", sa.String(bounds.credit_line_alert_id_length_max), primary_key=True),
    sa.Column("party_id", sa.String(bounds.party_id_length_max), nullable=False),
    sa.Column("business_date", sa.Date(), nullable=False),
    sa.Column("severity", sa.SmallInteger(), nullable=False),  # 1 low, 2 medium, 3 high
    sa.Column("reason", sa.String(bounds.credit_line_reason_length_max), nullable=False),
    sa.Column("indicators", sa.Text(), nullable=False),  # JSON object text: feature name -> value
    sa.Column("rule_version", sa.String(bounds.credit_line_rule_version_length_max), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # open | reviewed
    sa.Column("outcome", sa.String(16), nullable=True),  # confirmed | dismissed, once reviewed
    sa.Column("opened_at", UtcDateTime(), nullable=False),
    sa.Column("reviewed_at", UtcDateTime(), nullable=True),
    sa.Column("reviewer", sa.String(bounds.fraud_reason_length_max), nullable=True),
    sa.CheckConstraint("severity BETWEEN 1 AND 3", name="severity"),
    sa.CheckConstraint("status IN ('open', 'reviewed')", name="status"),
    sa.CheckConstraint("outcome IS NULL OR outcome IN ('confirmed', 'dismissed')", name="outcome"),
    sa.CheckConstraint(
        "(status = 'open' AND outcome IS NULL AND reviewed_at IS NULL) OR "
        "(status = 'reviewed' AND outcome IS NOT NULL AND reviewed_at IS NOT NULL)",
        name="reviewed_has_outcome",
    ),
    sa.Index(None, "status", "severity", "opened_at"),
    sa.Index(None, "party_id"),
)
