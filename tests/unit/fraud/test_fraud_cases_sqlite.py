"""The interception log and the case queue on SQLite (the contract in fraud_cases_contract.py), and the
domain rules of fengkong.fraud.interceptions."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from fengkong.errors import ConflictError, InputError
from fengkong.fraud.interceptions import (
    CaseOutcome,
    CaseStatus,
    FraudCase,
    InterceptionKind,
    case_for,
    labels_known_at,
)
from fengkong.store import migrate
from fengkong.store.config import make_engine

from . import fraud_cases_contract as contract
from .fraud_cases_contract import T0, interception


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    url = f"sqlite:///{tmp_path / 'fraud.sqlite'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


def test_an_interception_is_logged_once_with_its_case(engine: sa.Engine) -> None:
    contract.check_an_interception_is_logged_once_with_its_case(engine)


def test_a_failed_transaction_leaves_nothing(engine: sa.Engine) -> None:
    contract.check_a_failed_transaction_leaves_nothing(engine)


def test_reviews_close_cases_once_and_labels_wait_for_the_review(engine: sa.Engine) -> None:
    contract.check_reviews_close_cases_once_and_labels_wait_for_the_review(engine)


def test_totals_sum_amounts_per_kind_and_action(engine: sa.Engine) -> None:
    contract.check_totals_sum_amounts_per_kind_and_action(engine)


def test_the_database_refuses_a_reviewed_case_without_outcome(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        from fengkong.services import fraud_cases

        fraud_cases.intercept(connection, interception(1))
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
        connection.execute(sa.text("UPDATE fraud_cases SET status = 'reviewed' WHERE case_id = 'case:icp-1'"))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount_fen": -1}, "amount_fen"),
        ({"amount_fen": 1.5}, "amount_fen"),
        ({"amount_fen": True}, "amount_fen"),
        ({"party_id": ""}, "party_id"),
        ({"reason_code": " "}, "reason_code"),
        ({"reason_detail": "x" * 300}, "reason_detail"),
        ({"kind": "loan"}, "kind"),
        ({"intercepted_at": T0.replace(tzinfo=None)}, "intercepted_at"),
        ({"interception_id": "x" * 200}, "interception_id"),
    ],
)
def test_a_bad_interception_is_refused_naming_the_field(change: dict[str, object], field: str) -> None:
    values = {f.name: getattr(interception(1), f.name) for f in dataclasses.fields(interception(1))}
    values.update(change)
    with pytest.raises(InputError) as raised:
        type(interception(1))(**values)
    assert raised.value.field == field


def test_a_case_moves_open_to_reviewed_once() -> None:
    case = case_for(interception(1))
    assert case.status is CaseStatus.OPEN and case.outcome is None
    closed = case.review(CaseOutcome.NOT_FRAUD, T0 + timedelta(days=1), "analyst")
    assert closed.status is CaseStatus.REVIEWED and case.status is CaseStatus.OPEN  # a new value
    with pytest.raises(ConflictError):
        closed.review(CaseOutcome.FRAUD, T0 + timedelta(days=2), "analyst")
    with pytest.raises(InputError):
        case.review(CaseOutcome.FRAUD, T0 - timedelta(days=1), "analyst")
    with pytest.raises(InputError):
        FraudCase("c", "P1", T0, status=CaseStatus.REVIEWED)  # reviewed without an outcome


def test_labels_known_at_never_include_a_later_review() -> None:
    cases = [
        case_for(interception(1, "P1")).review(CaseOutcome.FRAUD, T0 + timedelta(days=5), "a"),
        case_for(interception(2, "P2")).review(CaseOutcome.NOT_FRAUD, T0 + timedelta(days=2), "a"),
        case_for(interception(3, "P3")),
    ]
    assert labels_known_at(cases, T0 + timedelta(days=1)) == ()
    assert [label.party_id for label in labels_known_at(cases, T0 + timedelta(days=2))] == ["P2"]
    known = labels_known_at(cases, T0 + timedelta(days=30))
    assert [(label.party_id, label.is_fraud) for label in known] == [("P2", False), ("P1", True)]
    assert all(label.known_at >= label.observed_at for label in known)
    assert InterceptionKind("transfer") is InterceptionKind.TRANSFER


def test_a_protection_hold_is_logged_with_its_case_and_a_clear_draw_is_not(engine: sa.Engine) -> None:
    from fengkong.fraud.numbers import load_channels
    from fengkong.fraud.protection import ProtectionSignals
    from fengkong.services import fraud_cases
    from fengkong.store import fraud_cases as store

    coerced = ProtectionSignals(
        party_id="P7",
        product="revolving",
        amount_fen=1_000_000,
        limit_fen=1_000_000,
        used_before_fen=0,
        requested_at=T0,
        device_first_seen_at=T0 - timedelta(minutes=30),
        products_borrowed_24h=("installment",),
        destination_known=False,
    )
    book = load_channels()
    with engine.begin() as connection:
        held = fraud_cases.protect_disbursement(
            connection, coerced, book, "风控示例金融", T0.date(), "icp-7", "draw-7"
        )
        clear = fraud_cases.protect_disbursement(
            connection,
            dataclasses.replace(
                coerced, party_id="P8", amount_fen=100_000, destination_known=True, products_borrowed_24h=()
            ),
            book,
            "风控示例金融",
            T0.date(),
            "icp-8",
            "draw-8",
        )
    assert held.decision.hold and held.case is not None and held.case.case_id == "case:icp-7"
    assert not clear.decision.hold and clear.case is None
    with engine.connect() as connection:
        assert store.get_interception(connection, "icp-7").action == "held"
        assert [c.case_id for c in fraud_cases.review_queue(connection)] == ["case:icp-7"]


def test_the_case_commands_list_the_queue_and_review(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from fengkong.cli import fraud as fraud_cli  # noqa: F401  (registers the commands)
    from fengkong.cli.main import app
    from fengkong.services import fraud_cases

    url = f"sqlite:///{tmp_path / 'cases.sqlite'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    with engine.begin() as connection:
        fraud_cases.intercept(connection, interception(1, "P1"))
        fraud_cases.intercept(connection, interception(2, "P2", at=T0 + timedelta(hours=1)))
    engine.dispose()
    runner = CliRunner()
    listed = runner.invoke(app, ["fraud", "cases", "--url", url, "--format", "json"])
    assert listed.exit_code == 0, listed.output
    assert [case["case_id"] for case in json.loads(listed.output)] == ["case:icp-1", "case:icp-2"]
    reviewed = runner.invoke(
        app, ["fraud", "review", "case:icp-1", "--outcome", "fraud", "--reviewer", "analyst-a", "--url", url]
    )
    assert reviewed.exit_code == 0, reviewed.output
    assert json.loads(reviewed.output)["outcome"] == "fraud"
    again = runner.invoke(
        app,
        ["fraud", "review", "case:icp-1", "--outcome", "not_fraud", "--reviewer", "analyst-b", "--url", url],
    )
    assert again.exit_code == 1 and "already reviewed" in again.output
    unknown = runner.invoke(
        app, ["fraud", "review", "case:nope", "--outcome", "fraud", "--reviewer", "a", "--url", url]
    )
    assert unknown.exit_code == 2 and "no fraud case" in unknown.output
    bad = runner.invoke(
        app, ["fraud", "review", "case:icp-2", "--outcome", "maybe", "--reviewer", "a", "--url", url]
    )
    assert bad.exit_code == 2
    table = runner.invoke(app, ["fraud", "cases", "--url", url])
    assert table.exit_code == 0 and "case:icp-2" in table.output and "case:icp-1" not in table.output
