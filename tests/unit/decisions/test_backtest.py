"""Backtests: stored applications decided again under a candidate policy, compared side by side."""

from __future__ import annotations

import pytest

from fengkong.decisions.backtest import ALL, compare
from fengkong.decisions.policy import load_policy
from fengkong.errors import InputError
from fengkong.scoring.gbm import GBMServing
from tests.unit.decisions.conftest import DEFAULT_POLICY, DictReader, application, build_engine, world

CONSERVATIVE = DEFAULT_POLICY.with_name("conservative.yaml")


def test_the_conservative_policy_approves_less_on_the_same_applications(gbm_serving: GBMServing) -> None:
    default = load_policy(DEFAULT_POLICY)
    reader = world()
    bureau_scores = [720, 640, 560, 700, 610, 480]
    for index, score in enumerate(bureau_scores):
        reader.data[("consumer", f"c-{index}")] = {
            **reader.data[("consumer", "c-1")],
            "consumer_bureau_score_last": score,
        }
    baseline = build_engine(default, gbm_serving, reader)
    traces = [
        baseline.decide_application(
            application(application_id=f"app-{i}", party_id=f"c-{i}", requested_amount_fen=800_000)
        ).trace
        for i in range(len(bureau_scores))
    ]
    candidate = build_engine(load_policy(CONSERVATIVE), gbm_serving, DictReader({}))
    went_bad = {"c-1": True, "c-0": False, "c-3": False}
    report = compare(
        traces,
        baseline,
        candidate,
        went_bad,
        segment_of=lambda t: "thin" if t.features["consumer_bureau_score_last"] is None else "thick",
    )
    overall = report.segments[ALL]
    assert overall.baseline.applications == overall.candidate.applications == len(bureau_scores)
    assert overall.baseline.approvals == sum(
        t.outcome == "approve" for t in traces
    )  # the same decisions again
    assert overall.candidate.approvals < overall.baseline.approvals
    assert overall.approved_by_candidate_only == 0
    assert overall.approved_by_baseline_only == overall.baseline.approvals - overall.candidate.approvals
    assert overall.candidate.volume_fen <= overall.baseline.volume_fen
    assert overall.baseline.bads == 1 and overall.baseline.exposure_at_default_fen > 0
    assert report.segments["thick"].baseline.applications == len(bureau_scores)
    assert report.to_json()["candidate_version"] == candidate.version


def test_a_candidate_reading_features_the_snapshot_lacks_needs_a_reader(gbm_serving: GBMServing) -> None:
    engine = build_engine(load_policy(DEFAULT_POLICY), gbm_serving, world())
    trace = engine.decide_application(application()).trace
    trimmed = type(trace).from_json({**trace.to_json(), "features": {}})
    with pytest.raises(InputError, match="the snapshot has no"):
        compare([trimmed], engine, engine, {})
    report = compare([trimmed], engine, engine, {}, reader=world())
    assert report.segments[ALL].baseline.approvals == 1
