"""Tables of personal data, consent, retention, told reasons and human reviews (migration 0008).

* ``privacy_values`` — one sealed value per (party, field): AES-GCM ciphertext, its nonce and the ID of the
  key that sealed it; a blind index (HMAC-SHA256 hex, with its key ID) for fields the identity graph joins
  on; ``retain_until`` once the relationship has ended (the purge job deletes the row after that date).
  Never a plaintext value.
* ``privacy_consents`` — every grant and withdrawal, per use and partner (``''``: the lender itself),
  idempotent by ``event_id``; kept as evidence, never purged with the values.
* ``privacy_purges`` — what each purge run removed: counts per field and the party IDs, never the data.
* ``told_reasons`` — the reason codes of an automated decision and the exact sentences told to the borrower,
  in the language told, keyed by decision ID (a string: decisions live elsewhere).
* ``review_cases`` — a borrower's request for a human review of an automated decision: one case per
  decision, open until a reviewer closes it with an outcome.
"""

from __future__ import annotations

from typing import Final

import sqlalchemy as sa

from fengkong import bounds
from fengkong.store.tables import SHA256_HEX_LENGTH, UtcDateTime, metadata

KEY_ID_LENGTH_MAX: Final = 64

privacy_values: Final = sa.Table(
    "privacy_values",
    metadata,
    sa.Column("party_id", sa.String(bounds.party_id_length_max), primary_key=True),
    sa.Column("field", sa.String(32), primary_key=True),
    sa.Column("key_id", sa.String(KEY_ID_LENGTH_MAX), nullable=False),
    sa.Column("nonce", sa.LargeBinary(), nullable=False),
    sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
    sa.Column("blind_index", sa.String(SHA256_HEX_LENGTH), nullable=True),
    sa.Column("pseudonym_key_id", sa.String(KEY_ID_LENGTH_MAX), nullable=True),
    sa.Column("retain_until", sa.Date(), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.CheckConstraint("field IN ('name', 'name_latin', 'id_number', 'phone')", name="field"),
    sa.Index(None, "field", "blind_index"),
    sa.Index(None, "key_id"),
    sa.Index(None, "retain_until"),
)

privacy_consents: Final = sa.Table(
    "privacy_consents",
    metadata,
    sa.Column("event_id", sa.String(bounds.privacy_consent_id_length_max), primary_key=True),
    sa.Column("party_id", sa.String(bounds.party_id_length_max), nullable=False),
    sa.Column("use", sa.String(32), nullable=False),
    sa.Column("partner", sa.String(bounds.privacy_partner_id_length_max), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.CheckConstraint("action IN ('grant', 'withdraw')", name="action"),
    sa.Index(None, "party_id", "use", "partner"),
)

privacy_purges: Final = sa.Table(
    "privacy_purges",
    metadata,
    sa.Column("purge_id", sa.String(128), primary_key=True),
    sa.Column("business_date", sa.Date(), nullable=False),
    sa.Column("values_purged", sa.Integer(), nullable=False),
    sa.Column("counts", sa.Text(), nullable=False),  # JSON {field: count}
    sa.Column("party_ids", sa.Text(), nullable=False),  # JSON list of party IDs, never their data
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.CheckConstraint("values_purged >= 0", name="values_purged_not_negative"),
)

told_reasons: Final = sa.Table(
    "told_reasons",
    metadata,
    sa.Column("decision_id", sa.String(bounds.decision_id_length_max), primary_key=True),
    sa.Column("party_id", sa.String(bounds.party_id_length_max), nullable=False),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("codes", sa.Text(), nullable=False),  # JSON list of reason codes, in the order told
    sa.Column("sentences", sa.Text(), nullable=False),  # JSON list of the exact sentences told
    sa.Column("told_at", UtcDateTime(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Index(None, "party_id"),
)

review_cases: Final = sa.Table(
    "review_cases",
    metadata,
    sa.Column("case_id", sa.String(bounds.review_case_id_length_max), primary_key=True),
    sa.Column("decision_id", sa.String(bounds.decision_id_length_max), nullable=False, unique=True),
    sa.Column("party_id", sa.String(bounds.party_id_length_max), nullable=False),
    sa.Column("statement", sa.Text(), nullable=True),  # the borrower's own words, if any
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("outcome", sa.String(32), nullable=True),
    sa.Column("reviewer", sa.String(128), nullable=True),
    sa.Column("note", sa.Text(), nullable=True),
    sa.Column("requested_at", UtcDateTime(), nullable=False),
    sa.Column("closed_at", UtcDateTime(), nullable=True),
    sa.CheckConstraint("status IN ('open', 'closed')", name="status"),
    sa.CheckConstraint("outcome IS NULL OR outcome IN ('upheld', 'overturned', 'withdrawn')", name="outcome"),
    sa.Index(None, "party_id"),
    sa.Index(None, "status"),
)
