"""The packaged Alembic migrations: up, down, up again, and equal to the SQLAlchemy metadata."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from fengkong.errors import InputError
from fengkong.store import migrate, schema
from fengkong.store.config import make_engine

APPLICATION_TABLES = {
    "parties",
    "ingested_events",
    "outbox",
    "idempotency_keys",
    "ledger_accounts",  # 0002: the ledger
    "ledger_transfers",
    "ledger_lines",
    "chain_logs",  # 0003: the verifiable log
    "chain_leaves",
    "chain_nodes",
    "chain_heads",
    "loans",  # 0004: loan servicing
    "loan_installments",
    "loan_repayments",
    "loan_repayment_allocations",
    "cob_runs",
    "cob_chunks",
    "exposure_party_limits",  # 0005: exposure
    "exposure_households",
    "exposure_reservations",
    "privacy_values",  # 0008: personal data, consent, told reasons, reviews, bureau reporting
    "privacy_consents",
    "privacy_purges",
    "told_reasons",
    "review_cases",
    "bureau_notices",
    "bureau_reported",
    "trade_party_keys",  # 0006: trade records, receivables, the audit trail
    "trade_records",
    "receivables",
    "receivable_parts",
    "receivable_financings",
    "receivable_events",
    "audit_entries",
    "chain_checkpoints",
    "offers",  # 0011: offers accepted and drawn on through the API
    "fraud_interceptions",  # 0009: fraud interceptions and review cases
    "fraud_cases",
    "credit_lines",  # 0012: credit lines, their changes, early-warning alerts
    "credit_line_changes",
    "credit_line_alerts",
    "decisions",  # 0007: decision headers, policy versions and switches
    "policy_versions",
    "policy_switches",
    "joint_loans",  # 0010: joint-lending funding shares
    "joint_loan_funders",
    "joint_repayment_parts",
}
HEAD = "0012"


def schema_differences(url: str, target: sa.MetaData = schema.metadata) -> list[object]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "compare_server_default": True}
            )
            return list(compare_metadata(context, target))
    finally:
        engine.dispose()


def table_names(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_the_migrations_are_packaged() -> None:
    assert (migrate.MIGRATIONS_DIR / "env.py").is_file()
    assert (migrate.MIGRATIONS_DIR / "script.py.mako").is_file()
    assert (migrate.MIGRATIONS_DIR / "versions" / "0001_initial.py").is_file()
    assert (migrate.MIGRATIONS_DIR / "versions" / "0002_ledger.py").is_file()
    assert (migrate.MIGRATIONS_DIR / "versions" / "0003_chain.py").is_file()
    assert (migrate.MIGRATIONS_DIR / "versions" / "0004_loans.py").is_file()
    assert (migrate.MIGRATIONS_DIR / "versions" / "0005_exposure.py").is_file()
    for name in (
        "0006_trade",
        "0007_decisions",
        "0008_privacy",
        "0009_fraud_cases",
        "0010_lending_products",
        "0011_offers",
        "0012_credit_lines",
    ):
        assert (migrate.MIGRATIONS_DIR / "versions" / f"{name}.py").is_file()
    assert migrate.head_revision() == HEAD


def test_up_down_and_up_again(sqlite_url: str) -> None:
    assert migrate.current_revision(sqlite_url) is None
    migrate.upgrade(sqlite_url)
    assert migrate.current_revision(sqlite_url) == HEAD
    assert table_names(sqlite_url) == APPLICATION_TABLES | {"alembic_version"}
    migrate.upgrade(sqlite_url)  # already at head: nothing to do
    migrate.downgrade(sqlite_url)
    assert migrate.current_revision(sqlite_url) is None
    assert table_names(sqlite_url) == {"alembic_version"}
    migrate.upgrade(sqlite_url, "0001")
    assert migrate.current_revision(sqlite_url) == "0001"
    migrate.upgrade(sqlite_url)
    assert migrate.current_revision(sqlite_url) == HEAD
    assert schema_differences(sqlite_url) == []


def test_the_migrated_schema_equals_the_metadata(sqlite_url: str) -> None:
    migrate.upgrade(sqlite_url)
    assert schema_differences(sqlite_url) == []


def test_the_comparison_sees_a_difference(sqlite_url: str) -> None:
    """Guards the test above: a column the migrations lack must show up as a difference."""
    migrate.upgrade(sqlite_url)
    drifted = sa.MetaData()
    for table in schema.metadata.tables.values():
        table.to_metadata(drifted)
    drifted.tables["outbox"].append_column(sa.Column("partition", sa.Integer(), nullable=True))
    differences = schema_differences(sqlite_url, drifted)
    assert [difference[0] for difference in differences if isinstance(difference, tuple)] == ["add_column"]


def test_an_unknown_revision_is_refused(sqlite_url: str) -> None:
    with pytest.raises(InputError) as caught:
        migrate.upgrade(sqlite_url, "9999")
    assert caught.value.field == "revision"
    with pytest.raises(InputError):
        migrate.downgrade(sqlite_url, "9999")


def test_a_url_with_percent_signs_reaches_alembic() -> None:
    """The URL travels in Config.attributes, not through configparser, so '%' needs no escaping."""
    config = migrate.alembic_config("postgresql+psycopg://u@h/db?options=-csearch_path%3Dt_1")
    assert config.attributes["url"].endswith("%3Dt_1")
