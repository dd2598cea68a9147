"""Every table on one :data:`metadata`: the core tables in ``tables.py`` and each area's own table module.

Alembic's ``env.py`` and the migration tests compare against this metadata, so an area's tables count only
once its module is imported here.
"""

from __future__ import annotations

from typing import Final

import sqlalchemy as sa

from fengkong.store import (
    tables,
    tables_bureau,  # noqa: F401  (0008: bureau notices and reported months)
    tables_credit_lines,  # noqa: F401  (0012: credit lines, their changes, early-warning alerts)
    tables_decisions,  # noqa: F401  (0007: decision headers, policy versions and switches)
    tables_fraud,  # noqa: F401  (0009: fraud interceptions and review cases)
    tables_lending,  # noqa: F401  (0010: joint-lending funding shares)
    tables_offers,  # noqa: F401  (0011: offers, fengkong serve)
    tables_privacy,  # noqa: F401  (0008: personal data, consent, told reasons, reviews)
    tables_trade,  # noqa: F401  (0006: trade records, receivables, audit coverage, checkpoints)
)

metadata: Final[sa.MetaData] = tables.metadata
