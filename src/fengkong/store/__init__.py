"""SQLAlchemy tables, repositories, Alembic migrations; row <-> domain adapters; the transactional outbox."""
