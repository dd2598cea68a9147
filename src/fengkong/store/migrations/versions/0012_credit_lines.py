"""Credit-line history, dynamic line changes and early-warning alerts (issue 8).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Reserved in the chain for this area; its tables are added with the area's code."""


def downgrade() -> None:
    """Nothing to drop until the area's tables are added."""
