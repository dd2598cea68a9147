"""Alembic migrations of the fengkong schema, run through :mod:`fengkong.store.migrate` (no alembic.ini)."""
