"""Decision headers and policy governance on a real PostgreSQL; concurrent authorisations against one
household cap through the SQL exposure port never pass it.

Each test gets a fresh schema (the ``postgres_url`` fixture); skipped on a laptop without PostgreSQL,
failed in CI.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from fengkong.decisions.authorisation import AuthorisationRequest
from fengkong.decisions.policy import load_policy
from fengkong.domain.decision import Outcome
from fengkong.errors import ConflictError
from fengkong.services import policy_governance
from fengkong.services.decisions import DecisionRecorder, SqlExposure, TraceLake
from fengkong.store import exposure, migrate
from fengkong.store.config import make_engine
from fengkong.store.decisions import get_header, headers_for_party
from tests.unit.decisions.conftest import (
    DEFAULT_POLICY,
    NOW,
    RECEIVED,
    application,
    build_engine,
    small_gbm,
    world,
)

pytestmark = pytest.mark.integration

THREADS = 8
BARRIER_TIMEOUT_SECONDS = 30


@pytest.fixture
def sql(postgres_url: str) -> Iterator[sa.Engine]:
    migrate.upgrade(postgres_url)
    engine = make_engine(postgres_url)
    yield engine
    engine.dispose()


def test_headers_and_traces_round_trip_on_postgresql(sql: sa.Engine, tmp_path: Path) -> None:
    engine = build_engine(load_policy(DEFAULT_POLICY), small_gbm(), world())
    recorder = DecisionRecorder(sql, TraceLake(tmp_path / "traces", fsync=False))
    decided = [
        engine.decide_application(application(application_id=f"app-{i}", age_years=16 + i)) for i in range(4)
    ]
    assert recorder.record(decided) == 4
    assert recorder.record(decided) == 0
    with sql.connect() as connection:
        header = get_header(connection, "onb-app-3")
        assert header.decided_at == NOW and header.outcome == decided[3].decision.outcome.label
        assert len(headers_for_party(connection, "c-1")) == 4
    for item in decided:
        assert engine.replay(recorder.explain(item.trace.decision_id).trace).decision == item.decision


def test_governance_on_postgresql(sql: sa.Engine) -> None:
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    version = policy_governance.propose_policy(sql, DEFAULT_POLICY, "alice", t0, t0)
    with pytest.raises(ConflictError):
        policy_governance.approve_policy(sql, version.version, "alice", t0)
    policy_governance.approve_policy(sql, version.version, "bob", t0)
    chosen, policy = policy_governance.policy_for_decisions(sql, "default", t0 + timedelta(hours=1))
    assert chosen.version == version.version == policy.version


def test_concurrent_authorisations_never_pass_the_household_cap(sql: sa.Engine) -> None:
    with sql.begin() as connection:
        exposure.set_household_cap(connection, "h-1", 100_000, NOW)
        for index in range(THREADS):
            exposure.set_party_limit(connection, f"c-{index}", "bnpl", 100_000, NOW)
    reader = world()
    for index in range(THREADS):
        reader.data[("consumer", f"c-{index}")] = dict(reader.data[("consumer", "c-1")])
    engine = build_engine(load_policy(DEFAULT_POLICY), small_gbm(), reader, exposure=SqlExposure(sql))
    barrier = threading.Barrier(THREADS, timeout=BARRIER_TIMEOUT_SECONDS)

    def authorise(index: int) -> Outcome:
        request = AuthorisationRequest(f"a-{index}", f"c-{index}", "h-1", "bnpl", 30_000, RECEIVED, "food")
        barrier.wait()
        return engine.authorise(request).decision.outcome

    with ThreadPoolExecutor(THREADS) as pool:
        outcomes = list(pool.map(authorise, range(THREADS)))
    assert outcomes.count(Outcome.APPROVE) == 3  # 3 x 30,000 fits under 100,000; a fourth would not
    with sql.connect() as connection:
        household = exposure.household_exposure(connection, "h-1")
        assert household is not None and household.held_fen == 90_000
