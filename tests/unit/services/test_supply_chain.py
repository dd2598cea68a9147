"""The supply chain of a tiny simulated world through fengkong: every step runs, every injected attack is
caught, the lake's forged and double-presented invoices are caught exactly (compared with the simulator's
truth here, in the test only), money is conserved, the stored history verifies, and supplier-credit inputs
come out of the verified history."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

import fengkong.cli.trade  # noqa: F401  (registers `chain trades`)
from fengkong.chain.note import VerifierKey
from fengkong.cli.main import app
from fengkong.clock import SystemClock
from fengkong.ingest.lake import read_lake_table
from fengkong.services.audit import verify_database
from fengkong.services.receivables import registration_export
from fengkong.services.simulate import run_simulation
from fengkong.services.supplier_credit import FEATURE_NAMES, supplier_credit_inputs
from fengkong.services.supply_chain import (
    ATTACKS,
    SupplyChainParameters,
    SupplyChainRun,
    fictitious_tax_id,
    run_supply_chain,
)
from fengkong.services.trade import TradeStores
from fengkong.sim.scenario import scenario_from_mapping
from fengkong.store import migrate
from fengkong.store.config import make_engine

SEED = 5


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("supply-chain-world")
    # forgeries and double presentations far above the calibrated 0.5 % so a 40-day world has several
    scenario = scenario_from_mapping(
        {"supply_chain": {"forged_invoice_rate": 0.04, "double_presented_rate": 0.04}},
        seed=SEED,
        scale="tiny",
        days=40,
        name="supply-chain-test",
    )
    run_simulation(scenario, out)
    return out


@pytest.fixture(scope="module")
def database(
    world: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[sa.Engine, SupplyChainRun]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('supply-chain-db') / 'trades.sqlite'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    result = run_supply_chain(world / "events", engine, SupplyChainParameters(seed=SEED))
    yield engine, result
    engine.dispose()


def test_every_step_ran_and_every_injected_attack_was_caught(
    database: tuple[sa.Engine, SupplyChainRun],
) -> None:
    _, run = database
    assert run.documents_recorded == run.documents_read
    assert run.receivables_confirmed > 0 and run.parts_split > 0 and run.parts_transferred > 0
    assert run.parts_financed > 0 and run.receivables_settled == run.receivables_confirmed
    assert set(run.injected) <= set(ATTACKS) and sum(run.injected.values()) > 0
    for attack, count in run.injected.items():
        assert run.caught.get(attack) == count, attack
    assert run.advanced_fen < run.financed_fen <= run.settled_fen
    assert run.registrations == run.parts_transferred + run.parts_financed


def test_the_lakes_forged_and_double_presented_invoices_are_caught_exactly(
    world: Path, database: tuple[sa.Engine, SupplyChainRun]
) -> None:
    _, run = database
    truth = pq.read_table(world / "truth" / "forged_records.parquet").to_pylist()
    forged = {row["record_id"] for row in truth if row["kind"] == "forged"}
    doubled_trades = {row["trade_id"] for row in truth if row["kind"] == "double_presented"}
    assert forged and doubled_trades
    assert set(run.caught_record_ids["forged_invoice"]) == forged
    lake = read_lake_table(world / "events", "trade_record").to_pylist()
    trade_of = {row["record_id"]: row["trade_id"] for row in lake}
    caught_trades = {trade_of[record_id] for record_id in run.caught_record_ids["double_presented_invoice"]}
    assert caught_trades == doubled_trades


def test_the_stored_history_verifies_and_exports_registrations(
    database: tuple[sa.Engine, SupplyChainRun],
) -> None:
    engine, run = database
    stores = TradeStores.of(SystemClock())
    report = verify_database(engine, stores, [VerifierKey.parse(run.log_verifier_key)])
    assert report.intact, report.findings
    assert report.logs[0].tree_size == run.trade_log_size
    with engine.connect() as connection:
        rows = registration_export(connection, stores)
    assert len(rows) == run.registrations
    assert {row.registration_type.value for row in rows} == {"receivable_transfer", "receivable_pledge"}


def test_supplier_credit_inputs_come_from_the_verified_history(
    database: tuple[sa.Engine, SupplyChainRun],
) -> None:
    engine, _ = database
    stores = TradeStores.of(SystemClock())
    with engine.connect() as connection:
        supplier = connection.exec_driver_sql(
            "SELECT seller_party_id FROM receivables WHERE status = 'settled' "
            "GROUP BY seller_party_id ORDER BY count(*) DESC, seller_party_id LIMIT 1"
        ).scalar_one()
        last_due = connection.exec_driver_sql("SELECT max(due_on) FROM receivables").scalar_one()
        inputs = supplier_credit_inputs(connection, stores, supplier, _as_date(last_due), window_days=730)
    values = inputs.features.values
    assert set(values) == set(FEATURE_NAMES)
    assert values["supplier_trades_count"] and values["supplier_invoiced_fen"]
    on_time = values["supplier_on_time_delivery_bp"]
    assert on_time is not None and 0 <= on_time <= 10_000
    assert inputs.main_buyer_party_id is not None
    assert (
        values["core_enterprise_paid_on_time_bp"] == 10_000
    )  # every confirmed receivable was paid at maturity
    assert values["supplier_open_confirmed_fen"] == 0  # all settled by the last due date


def _as_date(value: object) -> date:
    """A date column read through a raw query (SQLite returns it as text)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def test_the_command_prints_what_was_caught(world: Path, tmp_path: Path) -> None:
    registry = tmp_path / "registrations.json"
    result = CliRunner().invoke(
        app,
        [
            "chain",
            "trades",
            "--lake",
            str(world / "events"),
            "--seed",
            str(SEED),
            "--days",
            "20",
            "--format",
            "json",
            "--registry-out",
            str(registry),
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["documents_read"] > 0
    assert all(summary["caught"][kind] == count for kind, count in summary["injected"].items())
    assert len(json.loads(registry.read_text(encoding="utf-8"))) == summary["registrations"]
    bad = CliRunner().invoke(app, ["chain", "trades", "--lake", str(tmp_path), "--attack-rate", "x"])
    assert bad.exit_code == 2
    no_days = CliRunner().invoke(app, ["chain", "trades", "--lake", str(world / "events"), "--days", "0"])
    assert no_days.exit_code == 2 and "days" in no_days.output
    empty = CliRunner().invoke(app, ["chain", "trades", "--lake", str(tmp_path)])
    assert empty.exit_code == 2 and "trade_record" in empty.output


def test_tax_ids_are_fictitious_and_well_formed() -> None:
    tax_id = fictitious_tax_id("S000001")
    assert len(tax_id) == 18 and tax_id.startswith("91") and tax_id.isdigit()
