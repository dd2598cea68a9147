"""Offers the lender has made, kept so that ``POST /v1/offers/{id}/accept`` and ``POST /v1/draws`` find them.

One row per offer: the columns a query needs (party, kind, product, amount, validity, the line a draw came
from, when a line was accepted) and the whole :class:`~fengkong.domain.products.Offer` as JSON text (``body``;
:mod:`fengkong.store.offers` converts both ways). A draw on a credit line is its own offer with a fixed
schedule, pointing at its line through ``line_offer_id``; the loan it books refers to it by ``offer_id``.
Migration 0011.
"""

from __future__ import annotations

from typing import Final

import sqlalchemy as sa

from fengkong import bounds
from fengkong.store.tables import UtcDateTime, metadata

OFFER_KINDS: Final = ("loan", "line")

offers: Final = sa.Table(
    "offers",
    metadata,
    sa.Column("offer_id", sa.String(bounds.offer_id_length_max), primary_key=True),
    sa.Column("party_id", sa.String(bounds.party_id_length_max), nullable=False),
    sa.Column("kind", sa.String(8), nullable=False),  # "loan": a fixed schedule; "line": drawn on
    sa.Column("product", sa.String(32), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("amount_fen", sa.BigInteger(), nullable=False),  # principal, or the line's limit
    sa.Column("valid_from", UtcDateTime(), nullable=False),
    sa.Column("valid_until", UtcDateTime(), nullable=False),
    sa.Column("line_offer_id", sa.String(bounds.offer_id_length_max), nullable=True),  # a draw's line
    sa.Column("accepted_at", UtcDateTime(), nullable=True),  # a line: when it was accepted
    sa.Column("body", sa.Text(), nullable=False),  # the Offer as JSON (store.offers.offer_to_json)
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('loan', 'line')", name="kind"),
    sa.CheckConstraint("amount_fen > 0", name="amount_positive"),
    sa.CheckConstraint("valid_until > valid_from", name="validity"),
    sa.Index(None, "party_id"),
    sa.Index(None, "line_offer_id"),
)
