"""Tables of credit-bureau reporting (migration 0008, beside the personal-data tables).

* ``bureau_notices`` — each notice given to a borrower before adverse data is reported (kind, date,
  channel), idempotent by ``notice_id``. A file refuses an adverse record without a notice given at least
  the lead time before the file's date.
* ``bureau_reported`` — what each file reported per account and month, per bureau format, in revisions:
  revision 1 is the monthly record; a later export that derives another status for an already reported month
  writes the next revision and a correction record in its file. Append-only in use.
"""

from __future__ import annotations

from typing import Final

import sqlalchemy as sa

from fengkong import bounds
from fengkong.store.tables import UtcDateTime, metadata

bureau_notices: Final = sa.Table(
    "bureau_notices",
    metadata,
    sa.Column("notice_id", sa.String(bounds.bureau_notice_id_length_max), primary_key=True),
    sa.Column("loan_id", sa.String(bounds.loan_id_length_max), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("notified_on", sa.Date(), nullable=False),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('delinquency', 'write_off')", name="kind"),
    sa.Index(None, "loan_id"),
)

bureau_reported: Final = sa.Table(
    "bureau_reported",
    metadata,
    sa.Column("file_format", sa.String(8), primary_key=True),
    sa.Column("loan_id", sa.String(bounds.loan_id_length_max), primary_key=True),
    sa.Column("month", sa.String(7), primary_key=True),  # YYYY-MM
    sa.Column("revision", sa.Integer(), primary_key=True),
    sa.Column("code", sa.String(1), nullable=False),  # the PBOC-shaped status code of the month
    sa.Column("days_past_due", sa.Integer(), nullable=False),
    sa.Column("balance_fen", sa.BigInteger(), nullable=False),
    sa.Column("past_due_fen", sa.BigInteger(), nullable=False),
    sa.Column("reported_in", sa.String(7), nullable=False),  # the month whose file carried this revision
    sa.Column("reported_at", UtcDateTime(), nullable=False),
    sa.CheckConstraint("file_format IN ('pboc', 'metro2')", name="file_format"),
    sa.CheckConstraint("revision >= 1", name="revision_positive"),
    sa.CheckConstraint("days_past_due >= 0", name="days_past_due_not_negative"),
)
