"""The audit trail through the outbox, and `fengkong audit verify` catching each kind of tampering."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

import fengkong.cli.audit  # noqa: F401  (registers the audit commands on the app)
from fengkong.chain.checkpoint import verify_checkpoint
from fengkong.chain.note import SignerKey
from fengkong.chain.receivables import Refusal
from fengkong.cli.main import app
from fengkong.clock import FixedClock
from fengkong.services import audit as audit_service
from fengkong.services import receivables as receivable_service
from fengkong.services.audit import AUDIT_LOG, AUDIT_ORIGIN, drain_audit, verify_database
from fengkong.services.trade import TradeStores
from fengkong.store.config import make_engine
from fengkong.store.repositories import OutboxRepository
from tests.unit.chain import trade_fixtures as fx

AUDIT_KEY = SignerKey.from_seed(AUDIT_ORIGIN, hashlib.sha256(b"audit key").digest())


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fx.migrated_template(tmp_path_factory.mktemp("audit-template"))


@pytest.fixture
def url(template: Path, tmp_path: Path) -> str:
    return fx.copy_of(template, tmp_path)


@pytest.fixture
def engine(url: str) -> Iterator[sa.Engine]:
    engine = make_engine(url)
    yield engine
    engine.dispose()


def enqueue(engine: sa.Engine, clock: FixedClock, count: int) -> None:
    outbox = OutboxRepository(clock)
    with engine.begin() as connection:
        for index in range(count):
            audit_service.enqueue_decision(
                connection, outbox, f"D-{index}", {"outcome": "approve", "band": "B"}
            )
        audit_service.enqueue_ledger_batch(connection, outbox, "B-1", ["TX-1", "TX-2"])


def test_the_drainer_covers_every_outbox_row_once_under_a_signed_checkpoint(engine: sa.Engine) -> None:
    clock = FixedClock(fx.AT)
    enqueue(engine, clock, 3)
    clock.advance(timedelta(milliseconds=1500))
    stores = TradeStores.of(clock)
    report = drain_audit(engine, stores, AUDIT_KEY, clock, batch_rows=2)
    assert (report.appended, report.batches, report.tree_size) == (4, 2, 4)
    assert report.lags_ms == (1500, 1500, 1500, 1500)
    assert report.checkpoint is not None
    verdict = verify_checkpoint(report.checkpoint, AUDIT_KEY.verifier())
    assert verdict.checkpoint is not None and verdict.checkpoint.tree_size == 4
    again = drain_audit(engine, stores, AUDIT_KEY, clock)
    assert (again.appended, again.tree_size) == (0, 4)
    enqueue(engine, clock, 1)
    assert drain_audit(engine, stores, AUDIT_KEY, clock).appended == 2
    assert verify_database(engine, stores, [AUDIT_KEY.verifier()]).intact


def test_a_drain_that_dies_before_its_commit_leaves_nothing_and_the_next_one_does_it_all(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FixedClock(fx.AT)
    enqueue(engine, clock, 2)
    stores = TradeStores.of(clock)

    def crash(*_: object, **__: object) -> tuple[int, str]:
        raise RuntimeError("the process died while signing")

    with monkeypatch.context() as patched:
        patched.setattr(audit_service, "sign_and_store_checkpoint", crash)
        with pytest.raises(RuntimeError):
            drain_audit(engine, stores, AUDIT_KEY, clock)
    with engine.connect() as connection:
        assert stores.chain.head(connection, AUDIT_LOG).tree_size == 0
        assert stores.audit.uncovered(connection, 10) != []
    assert drain_audit(engine, stores, AUDIT_KEY, clock).appended == 3


def populated(engine: sa.Engine) -> TradeStores:
    """A database with a recorded trade, a confirmed receivable, and a drained audit trail."""
    clock = FixedClock(fx.AT)
    stores = TradeStores.of(clock)
    fx.set_up_parties(engine, stores)
    fx.record_full_trade(engine, stores)
    with engine.begin() as connection:
        issued = receivable_service.issue_receivable(
            connection,
            stores,
            receivable_id="R-1",
            invoice_record_id="INV-1",
            invoice_number=fx.INVOICE_NUMBER,
            seller_tax_id=fx.SELLER_TAX_ID,
            buyer_tax_id=fx.BUYER_TAX_ID,
            amount=10_000_001,
            issued_on=fx.DAY,
            on=fx.DAY,
        )
    assert not isinstance(issued, Refusal)
    fx.checkpoint(engine, stores)
    enqueue(engine, clock, 3)
    drain_audit(engine, stores, AUDIT_KEY, clock)
    return stores


def tamper(engine: sa.Engine, *statements: str) -> None:
    with engine.begin() as connection:
        for statement in statements:
            connection.exec_driver_sql(statement)


KEYS = [AUDIT_KEY.verifier(), fx.log_signer().verifier()]
TAMPERING = {
    "altered outbox row": (
        ["UPDATE outbox SET payload = replace(payload, 'approve', 'decline') WHERE id = 2"],
        "altered_record",
    ),
    "deleted outbox row": (["DELETE FROM outbox WHERE id = 1"], "missing_record"),
    "deleted leaf": (
        ["DROP TRIGGER chain_leaves_no_delete", "DELETE FROM chain_leaves WHERE leaf_index = 1"],
        "deleted_leaf",
    ),
    "altered leaf": (
        ["DROP TRIGGER chain_leaves_no_update", "UPDATE chain_leaves SET entry = X'00' WHERE leaf_index = 0"],
        "altered_leaf",
    ),
    "changed checkpoint": (
        [
            "DROP TRIGGER chain_checkpoints_no_update",
            "UPDATE chain_checkpoints SET note = replace(note, '\n4\n', '\n2\n')",
        ],
        "changed_checkpoint",
    ),
    "altered trade record": (
        [
            "DROP TRIGGER trade_records_no_update",
            "UPDATE trade_records SET canonical = CAST(replace(canonical, 'PO-1', 'PO-9') AS BLOB) "
            "WHERE record_id = 'PO-1'",
        ],
        "altered_record",
    ),
    "altered receivable event": (
        [
            "DROP TRIGGER receivable_events_no_update",
            "UPDATE receivable_events SET canonical = CAST(replace(canonical, 'R-1', 'R-2') AS BLOB)",
        ],
        "altered_record",
    ),
    "changed head": (
        ["DROP TRIGGER chain_heads_no_update", "UPDATE chain_heads SET root_hash = X'00'"],
        "changed_head",
    ),
}


@pytest.mark.parametrize("case", sorted(TAMPERING))
def test_verify_reports_each_kind_of_tampering(engine: sa.Engine, case: str) -> None:
    stores = populated(engine)
    assert verify_database(engine, stores, KEYS).intact
    statements, kind = TAMPERING[case]
    tamper(engine, *statements)
    report = verify_database(engine, stores, KEYS)
    assert not report.intact
    assert kind in {finding.kind for finding in report.findings}, report.findings


def test_the_command_exits_0_when_intact_1_when_tampered_2_on_bad_input(
    engine: sa.Engine, url: str, tmp_path: Path
) -> None:
    populated(engine)
    runner = CliRunner()
    key_file = tmp_path / "audit.vkey"
    key_file.write_text(AUDIT_KEY.verifier().to_text() + "\n", encoding="utf-8")
    arguments = ["audit", "verify", "--database-url", url, "--public-key", str(key_file), "--format", "json"]
    intact = runner.invoke(app, arguments)
    assert intact.exit_code == 0, intact.output
    assert '"intact": true' in intact.output
    tamper(engine, "UPDATE outbox SET key = 'D-forged' WHERE id = 3")
    tampered = runner.invoke(app, arguments)
    assert tampered.exit_code == 1
    assert "altered_record" in tampered.output and "outbox row 3" in tampered.output
    table = runner.invoke(app, ["audit", "verify", "--database-url", url])
    assert table.exit_code == 1 and "tampered" in table.output
    empty = runner.invoke(app, ["audit", "verify", "--database-url", f"sqlite:///{tmp_path / 'none.sqlite'}"])
    assert empty.exit_code == 2 and "no fengkong tables" in empty.output
    bad_key = runner.invoke(app, [*arguments[:4], "--public-key", "not-a-key"])
    assert bad_key.exit_code == 2


def test_ledger_postings_reach_the_audit_log_through_the_outbox_when_they_commit(engine: sa.Engine) -> None:
    from fengkong.services import ledger as ledger_service
    from fengkong.store.ledger import LedgerRepository
    from tests.unit.ledger.ledger_contract import disbursement

    clock = FixedClock(fx.AT)
    ledger, outbox = LedgerRepository(clock), OutboxRepository(clock)
    with engine.begin() as connection:
        ledger_service.install_chart(connection, ledger)
    postings = [disbursement(f"P-{index}", f"L-{index}", 100_00 + index) for index in range(5)]
    result = ledger_service.post_in_batches(engine, ledger, postings, 3, audit_outbox=outbox)
    assert len(result.posted) == 5
    again = ledger_service.post_in_batches(engine, ledger, postings, 3, audit_outbox=outbox)
    assert again.posted == ()  # duplicates post nothing and put nothing on the trail
    stores = TradeStores.of(clock)
    report = drain_audit(engine, stores, AUDIT_KEY, clock)
    assert report.appended == 2  # one outbox row per committed batch (3 + 2 postings)
    with engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT topic, payload FROM outbox ORDER BY id").all()
    assert [row[0] for row in rows] == [audit_service.TOPIC_LEDGER_BATCH] * 2
    assert [len(json.loads(row[1])["transfer_ids"]) for row in rows] == [3, 2]
    assert verify_database(engine, stores, [AUDIT_KEY.verifier()]).intact


def test_a_large_ledger_batch_is_split_across_outbox_rows(engine: sa.Engine) -> None:
    clock = FixedClock(fx.AT)
    ids = [f"P-{index:0120d}" for index in range(audit_service.LEDGER_IDS_PER_ROW + 1)]
    with engine.begin() as connection:
        row_ids = audit_service.enqueue_ledger_batch(connection, OutboxRepository(clock), "B-big", ids)
    assert len(row_ids) == 2


def test_the_drain_command_covers_the_outbox_under_the_given_key(
    engine: sa.Engine, url: str, tmp_path: Path
) -> None:
    enqueue(engine, FixedClock(fx.AT), 2)
    key_file = tmp_path / "audit.key"
    key_file.write_text(AUDIT_KEY.to_text() + "\n", encoding="utf-8")
    runner = CliRunner()
    drained = runner.invoke(app, ["audit", "drain", "--database-url", url, "--signer-key", str(key_file)])
    assert drained.exit_code == 0, drained.output
    assert json.loads(drained.output)["appended"] == 3
    missing = runner.invoke(
        app, ["audit", "drain", "--database-url", url, "--signer-key", str(tmp_path / "no.key")]
    )
    assert missing.exit_code == 2 and "private_key" in missing.output
