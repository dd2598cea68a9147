"""Decision headers and policy governance (migration 0007).

* ``decisions`` — one row per decision: what a query needs (party, flow, outcome, time, reasons, versions,
  band and offer figures) and where the trace body is (``trace_part``, a Parquet file of the trace lake,
  relative to the lake's root). The body itself is never in SQL.
* ``policy_versions`` — every policy text proposed, with its maker, its checker (never the maker), its
  status and the instant from which it is in force.
* ``policy_switches`` — per policy name, the kill switch and the conservative version it falls back to.
"""

from __future__ import annotations

from typing import Final

import sqlalchemy as sa

from fengkong import bounds
from fengkong.store.tables import UtcDateTime, metadata

OUTCOMES: Final = ("approve", "review", "decline")
FLOWS: Final = ("onboarding", "authorisation")
POLICY_STATUSES: Final = ("proposed", "approved", "rejected", "retired")
VERSION_LENGTH_MAX: Final = 128
ACTOR_LENGTH_MAX: Final = 64
REASONS_LENGTH_MAX: Final = 1_024

decisions: Final = sa.Table(
    "decisions",
    metadata,
    sa.Column("decision_id", sa.String(bounds.decision_id_length_max), primary_key=True),
    sa.Column("flow", sa.String(16), nullable=False),
    sa.Column("party_id", sa.String(bounds.party_id_length_max), nullable=False),
    sa.Column("outcome", sa.String(8), nullable=False),
    sa.Column("decided_at", UtcDateTime(), nullable=False),
    sa.Column("reasons", sa.String(REASONS_LENGTH_MAX), nullable=False),  # codes, space-separated, in order
    sa.Column("policy_version", sa.String(VERSION_LENGTH_MAX), nullable=False),
    sa.Column("model_versions", sa.String(REASONS_LENGTH_MAX), nullable=False),  # "name=version ..."
    sa.Column("feature_set_version", sa.String(VERSION_LENGTH_MAX), nullable=False),
    sa.Column("probability_of_default", sa.Float(), nullable=True),  # a model score, not money
    sa.Column("risk_band", sa.String(16), nullable=True),
    sa.Column("offer_amount_fen", sa.BigInteger(), nullable=True),
    sa.Column("annualised_rate_pct", sa.String(32), nullable=True),  # decimal text
    sa.Column("trace_part", sa.String(512), nullable=False),
    sa.Column("recorded_at", UtcDateTime(), nullable=False),
    sa.CheckConstraint("outcome IN ('approve', 'review', 'decline')", name="outcome"),
    sa.CheckConstraint("flow IN ('onboarding', 'authorisation')", name="flow"),
    sa.CheckConstraint("offer_amount_fen IS NULL OR offer_amount_fen > 0", name="offer_amount_positive"),
    sa.Index(None, "party_id", "decided_at"),
    sa.Index(None, "decided_at"),
)

policy_versions: Final = sa.Table(
    "policy_versions",
    metadata,
    sa.Column("policy_version", sa.String(VERSION_LENGTH_MAX), primary_key=True),
    sa.Column("policy_name", sa.String(64), nullable=False),
    sa.Column("digest", sa.String(64), nullable=False),  # SHA-256 of source_text
    sa.Column("source_text", sa.Text(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("effective_from", UtcDateTime(), nullable=False),
    sa.Column("maker", sa.String(ACTOR_LENGTH_MAX), nullable=False),
    sa.Column("checker", sa.String(ACTOR_LENGTH_MAX), nullable=True),
    sa.Column("proposed_at", UtcDateTime(), nullable=False),
    sa.Column("decided_at", UtcDateTime(), nullable=True),
    sa.CheckConstraint("status IN ('proposed', 'approved', 'rejected', 'retired')", name="status"),
    sa.CheckConstraint("checker IS NULL OR checker <> maker", name="maker_is_not_checker"),
    sa.Index(None, "policy_name", "status", "effective_from"),
)

policy_switches: Final = sa.Table(
    "policy_switches",
    metadata,
    sa.Column("policy_name", sa.String(64), primary_key=True),
    sa.Column("kill_switch", sa.Boolean(), nullable=False),
    sa.Column("fallback_version", sa.String(VERSION_LENGTH_MAX), nullable=True),
    sa.Column("changed_by", sa.String(ACTOR_LENGTH_MAX), nullable=False),
    sa.Column("changed_at", UtcDateTime(), nullable=False),
    sa.Column("reason", sa.String(512), nullable=False),
)
