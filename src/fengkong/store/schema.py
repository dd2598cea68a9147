"""Every table on one :data:`metadata`: the core tables in ``tables.py`` and each area's own table module.

Alembic's ``env.py`` and the migration tests compare against this metadata, so an area's tables count only
once its module is imported here.
"""

from __future__ import annotations

from typing import Final

import sqlalchemy as sa

from fengkong.store import tables

metadata: Final[sa.MetaData] = tables.metadata
