"""Tests of fengkong.store on SQLite (PostgreSQL: tests/integration/test_store_postgres.py)."""
