"""Decisions recorded on SQLite and in the trace lake, explained by ID, replayed from what was stored;
authorisation holds placed through the SQL exposure port."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

import fengkong.cli.decisions  # noqa: F401 - registers the command
from fengkong.cli.main import app
from fengkong.decisions.authorisation import AuthorisationRequest
from fengkong.decisions.policy import Policy
from fengkong.domain.decision import Outcome
from fengkong.errors import ConflictError, NotFoundError
from fengkong.scoring.gbm import GBMServing
from fengkong.services.decisions import DecisionRecorder, SqlExposure, TraceLake, explain_decision
from fengkong.store import exposure as exposure_store
from fengkong.store import migrate
from fengkong.store.config import make_engine
from fengkong.store.decisions import get_header, headers_for_party
from tests.unit.decisions.conftest import NOW, RECEIVED, application, build_engine, world


@pytest.fixture
def database(tmp_path: Path) -> Iterator[tuple[str, sa.Engine]]:
    url = f"sqlite:///{tmp_path / 'decisions.sqlite'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    yield url, engine
    engine.dispose()


def test_recorded_decisions_are_explained_and_replayed_from_storage(
    default_policy: Policy, gbm_serving: GBMServing, database: tuple[str, sa.Engine], tmp_path: Path
) -> None:
    url, sql = database
    lake = TraceLake(tmp_path / "traces", fsync=False)
    recorder = DecisionRecorder(sql, lake)
    engine = build_engine(default_policy, gbm_serving, world())
    decided = [
        engine.decide_application(application(application_id=f"app-{i}", age_years=15 + i)) for i in range(5)
    ]
    assert recorder.record(decided) == 5
    assert recorder.record(decided) == 0  # a retried batch adds nothing
    parts = sorted((tmp_path / "traces").glob("date=*/part-*.parquet"))
    assert len(parts) == 2  # one file per batch and business date
    with sql.connect() as connection:
        header = get_header(connection, "onb-app-0")
        assert header.outcome == "decline" and header.reasons == ("eligibility:age",)
        approved = get_header(connection, "onb-app-4")
        assert approved.outcome == "approve" and approved.offer_amount_fen == 1_000_000
        assert approved.policy_version == default_policy.version
        assert dict(approved.model_versions) == {"scorecard": "scorecard-test-1", "gbm": "gbm-test-1"}
        assert [h.decision_id for h in headers_for_party(connection, "c-1", 3)] == [
            "onb-app-4",
            "onb-app-3",
            "onb-app-2",
        ]
    for item in decided:
        explained = recorder.explain(item.trace.decision_id)
        assert explained.trace == item.trace
        assert engine.replay(explained.trace).decision == item.decision
        assert lake.read(item.trace.decision_id) == item.trace  # found by DuckDB without the header
    explanation = explain_decision("onb-app-0", tmp_path / "traces", url)
    assert explanation.reason_texts()[0]["code"] == "eligibility:age"
    assert explanation.reason_texts()[0]["en"]
    with pytest.raises(NotFoundError):
        recorder.explain("onb-nobody")
    changed = replace(decided[0], trace=replace(decided[0].trace, outcome="approve", reasons=()))
    with pytest.raises(ConflictError):
        recorder.record([changed])


def test_the_cli_explains_a_decision(
    default_policy: Policy, gbm_serving: GBMServing, database: tuple[str, sa.Engine], tmp_path: Path
) -> None:
    url, sql = database
    recorder = DecisionRecorder(sql, TraceLake(tmp_path / "traces", fsync=False))
    engine = build_engine(default_policy, gbm_serving, world())
    recorder.record([engine.decide_application(application(identity_verified=False))])
    runner = CliRunner()
    args = ["decisions", "explain", "onb-app-1", "--lake", str(tmp_path / "traces"), "--url", url]
    result = runner.invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["outcome"] == "decline"
    assert document["reasons"][0]["code"] == "eligibility:identity"
    assert document["trace"]["checks"][1] == {
        "id": "eligibility.identity_verified",
        "status": "fired",
        "values": [["identity_verified", False]],
    }
    table = runner.invoke(app, args)
    assert table.exit_code == 0 and "eligibility.identity_verified" in table.stdout
    missing = runner.invoke(
        app, ["decisions", "explain", "nope", "--lake", str(tmp_path / "traces"), "--url", url]
    )
    assert missing.exit_code == 2 and "no decision" in " ".join(missing.stderr.split())
    assert "Traceback" not in missing.output


def test_the_cli_checks_a_policy_file(tmp_path: Path) -> None:
    runner = CliRunner()
    bad = tmp_path / "bad.yaml"
    bad.write_text("policy:\n  name: x\n  version: 1\nrules: [\n", encoding="utf-8")
    result = runner.invoke(app, ["decisions", "check-policy", str(bad)])
    assert result.exit_code == 2
    message = " ".join(result.stderr.split())  # rich wraps long lines
    assert f"{bad}:5" in message and "not valid YAML" in message


def test_authorisations_hold_credit_in_sql(
    default_policy: Policy, gbm_serving: GBMServing, database: tuple[str, sa.Engine]
) -> None:
    _url, sql = database
    with sql.begin() as connection:
        exposure_store.set_household_cap(connection, "h-1", 100_000, NOW)
        exposure_store.set_party_limit(connection, "c-1", "bnpl", 80_000, NOW)
    engine = build_engine(default_policy, gbm_serving, world(), exposure=SqlExposure(sql))

    def request(authorisation_id: str, amount_fen: int) -> AuthorisationRequest:
        return AuthorisationRequest(
            authorisation_id, "c-1", "h-1", "bnpl", amount_fen, RECEIVED, "food", "dev-1"
        )

    first = engine.authorise(request("a-1", 50_000))
    assert first.decision.outcome is Outcome.APPROVE
    assert first.trace.line == (80_000, 80_000)
    retry = engine.authorise(request("a-1", 50_000))  # decided on the line the first attempt saw
    assert retry.decision.outcome is Outcome.APPROVE
    assert retry.trace.line == (80_000, 80_000)
    second = engine.authorise(request("a-2", 40_000))  # over what is left: the rule declines it
    assert second.decision.outcome is Outcome.DECLINE
    assert second.trace.line == (80_000, 30_000)
    with sql.connect() as connection:
        assert exposure_store.party_exposure(connection, "c-1")["bnpl"].held_fen == 50_000


def test_one_file_per_decision_is_compacted_and_still_explained(
    default_policy: Policy, gbm_serving: GBMServing, database: tuple[str, sa.Engine], tmp_path: Path
) -> None:
    from fengkong.clock import business_date
    from fengkong.services.decisions import compact_trace_day

    _url, sql = database
    lake = TraceLake(tmp_path / "traces", fsync=False)
    recorder = DecisionRecorder(sql, lake)
    engine = build_engine(default_policy, gbm_serving, world())
    decided = [engine.decide_application(application(application_id=f"app-{i}")) for i in range(6)]
    for item in decided:
        recorder.record([item])  # as the API records: one file each
    recorder.record(decided[:2])  # a retried batch: two bodies written twice
    day = business_date(NOW)
    assert compact_trace_day(sql, lake, day) == (7, 1)
    assert len(list((tmp_path / "traces").glob("date=*/part-*.parquet"))) == 1
    for item in decided:
        assert recorder.explain(item.trace.decision_id).trace == item.trace
    assert compact_trace_day(sql, lake, day) == (1, 0)
