"""Joint-lending funding shares, stored with the loan (migration 0010).

``joint_loans``: one row per jointly funded loan (a ``loans`` row): the borrower's rate the interest split
weighs against, the lender's floor in force when it was booked, how losses and fees are shared.
``joint_loan_funders``: one row per funder of that loan — index 0 is the platform lender, 1.. the partner
banks in order (the order of every split, :attr:`fengkong.lending.joint.JointFunding.funder_ids`) — with its
share in basis points, its own rate (partners only), what it lent, its principal still outstanding, the loss
it bore and what was recovered for it. ``joint_repayment_parts``: each funder's part of each repayment (or
recovery) of a joint loan, the record a partner's settlement and reversals read. Rates are decimal text
(never a float); amounts integer fen.
:mod:`fengkong.store.joint_funding` reads and writes them.
"""

from __future__ import annotations

from typing import Final

import sqlalchemy as sa

from fengkong import bounds
from fengkong.store.tables import UtcDateTime, metadata

RATE_TEXT_LENGTH_MAX: Final = 32  # a rate as decimal text ("0.0635")
LOSS_SHARINGS: Final = ("pro-rata", "first-loss")
FEE_SHARINGS: Final = ("pro-rata", "lender")

joint_loans: Final = sa.Table(
    "joint_loans",
    metadata,
    sa.Column(
        "loan_id", sa.String(bounds.loan_id_length_max), sa.ForeignKey("loans.loan_id"), primary_key=True
    ),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("borrower_rate", sa.String(RATE_TEXT_LENGTH_MAX), nullable=False),
    sa.Column("lender_floor_bp", sa.Integer(), nullable=False),
    sa.Column("loss_sharing", sa.String(16), nullable=False),
    sa.Column("first_loss_bp", sa.Integer(), nullable=False),
    sa.Column("fee_sharing", sa.String(16), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.CheckConstraint("loss_sharing IN ('pro-rata', 'first-loss')", name="loss_sharing"),
    sa.CheckConstraint("fee_sharing IN ('pro-rata', 'lender')", name="fee_sharing"),
    sa.CheckConstraint("lender_floor_bp BETWEEN 0 AND 10000", name="lender_floor_bp"),
    sa.CheckConstraint("first_loss_bp BETWEEN 0 AND 10000", name="first_loss_bp"),
)

joint_loan_funders: Final = sa.Table(
    "joint_loan_funders",
    metadata,
    sa.Column(
        "loan_id",
        sa.String(bounds.loan_id_length_max),
        sa.ForeignKey("joint_loans.loan_id"),
        primary_key=True,
    ),
    sa.Column("funder_index", sa.SmallInteger(), primary_key=True, autoincrement=False),  # 0: the lender
    sa.Column("funder_id", sa.String(bounds.joint_funder_id_length_max), nullable=False),
    sa.Column("share_bp", sa.Integer(), nullable=False),
    sa.Column("annual_rate", sa.String(RATE_TEXT_LENGTH_MAX), nullable=True),  # NULL for the lender
    sa.Column("disbursed_fen", sa.BigInteger(), nullable=False),
    sa.Column("principal_outstanding_fen", sa.BigInteger(), nullable=False),
    sa.Column("loss_fen", sa.BigInteger(), nullable=False),
    sa.Column("recovered_fen", sa.BigInteger(), nullable=False),
    sa.UniqueConstraint("loan_id", "funder_id"),
    sa.CheckConstraint("share_bp BETWEEN 1 AND 10000", name="share_bp"),
    sa.CheckConstraint(
        "principal_outstanding_fen >= 0 AND principal_outstanding_fen <= disbursed_fen", name="outstanding"
    ),
    sa.CheckConstraint("recovered_fen >= 0 AND loss_fen >= recovered_fen", name="loss_and_recovery"),
    sa.CheckConstraint(
        "(funder_index = 0 AND annual_rate IS NULL) OR (funder_index > 0 AND annual_rate IS NOT NULL)",
        name="partner_rate",
    ),
    sa.Index(None, "funder_id"),
)

REPAYMENT_PART_KINDS: Final = ("repayment", "recovery")

joint_repayment_parts: Final = sa.Table(
    "joint_repayment_parts",
    metadata,
    sa.Column("repayment_id", sa.String(bounds.repayment_id_length_max), primary_key=True),
    sa.Column("funder_index", sa.SmallInteger(), primary_key=True, autoincrement=False),
    sa.Column(
        "loan_id", sa.String(bounds.loan_id_length_max), sa.ForeignKey("joint_loans.loan_id"), nullable=False
    ),
    sa.Column("funder_id", sa.String(bounds.joint_funder_id_length_max), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("business_date", sa.Date(), nullable=False),
    sa.Column("principal_fen", sa.BigInteger(), nullable=False),
    sa.Column("interest_fen", sa.BigInteger(), nullable=False),
    sa.Column("fee_fen", sa.BigInteger(), nullable=False),
    sa.Column("penalty_fen", sa.BigInteger(), nullable=False),
    sa.Column("recovery_fen", sa.BigInteger(), nullable=False),
    sa.Column("reversed_by", sa.String(bounds.repayment_id_length_max), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('repayment', 'recovery')", name="kind"),
    sa.CheckConstraint(
        "principal_fen >= 0 AND interest_fen >= 0 AND fee_fen >= 0 AND penalty_fen >= 0 "
        "AND recovery_fen >= 0",
        name="amounts_not_negative",
    ),
    sa.Index(None, "loan_id"),
    sa.Index(None, "funder_id", "business_date"),
)
