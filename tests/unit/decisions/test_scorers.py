"""The one-applicant scorers agree with the frame-based serving of the scoring package, value for value."""

from __future__ import annotations

import math
import threading
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from fengkong.decisions.scorers import GBMScorer, ScorecardScorer
from fengkong.decisions.shadow import ShadowScore, ShadowScoring
from fengkong.domain.features import FeatureVector
from fengkong.domain.protocols import Score
from fengkong.errors import InputError
from fengkong.scoring.gbm import GBMServing
from tests.unit.decisions.conftest import GBM_FEATURES, scorecard_table

AS_OF = datetime(2026, 3, 1, tzinfo=UTC)


def _rows() -> list[dict[str, float | None]]:
    rng = np.random.default_rng(3)
    rows: list[dict[str, float | None]] = []
    for _ in range(200):
        row: dict[str, float | None] = {
            "consumer_bureau_score_last": float(rng.integers(300, 850)),
            "consumer_orders_30d": float(rng.integers(0, 20)),
            "consumer_collection_repayment_share_180d": float(rng.uniform(0, 1)),
        }
        for name in list(row):
            if rng.uniform() < 0.15:
                row[name] = None
        rows.append(row)
    rows.append({"consumer_bureau_score_last": 500.0, "consumer_orders_30d": 10.0})  # on the bin edges
    return rows


def _vector(row: dict[str, float | None]) -> FeatureVector:
    return FeatureVector("consumer", "c-1", AS_OF, row)


def _frame(rows: list[dict[str, float | None]], names: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame(
        [{name: (math.nan if row.get(name) is None else row[name]) for name in names} for row in rows]
    )


def test_the_scorecard_scorer_matches_the_table() -> None:
    table = scorecard_table()
    scorer = ScorecardScorer(table, "sc-1", reasons=3)
    rows = _rows()
    frame = _frame(rows, table.names)
    points = table.points_matrix(frame)
    expected_pd = table.probability_of_default(table.score(frame))
    expected_reasons = table.reasons(frame, count=3)
    for index, row in enumerate(rows):
        score = scorer.score(_vector(row))
        assert scorer.points(_vector(row)) == tuple(int(p) for p in points[index])
        assert score.probability_of_default == pytest.approx(float(expected_pd[index]), rel=1e-12)
        assert [reason.code for reason in score.reasons] == [
            name for name, _ in expected_reasons.for_row(index)
        ]
        assert score.model_version == "sc-1"


def test_the_gbm_scorer_matches_the_booster(gbm_serving: GBMServing) -> None:
    scorer = GBMScorer(gbm_serving, "gbm-1", with_reasons=True, reasons=2)
    rows = _rows()
    frame = _frame(rows, GBM_FEATURES)
    expected = gbm_serving.probability_of_default(frame)
    index, _contribution = gbm_serving.reasons(gbm_serving.matrix(frame), 2)
    for position, row in enumerate(rows):
        score = scorer.score(_vector(row))
        assert score.probability_of_default == pytest.approx(float(expected[position]), rel=1e-12)
        assert [r.code for r in score.reasons] == [GBM_FEATURES[i] for i in index[position] if i >= 0]
    assert GBMScorer(gbm_serving, "gbm-1").score(_vector(rows[0])).reasons == ()


def test_reason_counts_are_bounded(gbm_serving: GBMServing) -> None:
    with pytest.raises(InputError):
        ScorecardScorer(scorecard_table(), "sc", reasons=99)
    with pytest.raises(InputError):
        GBMScorer(gbm_serving, "gbm", reasons=0)


class _Gated:
    """A challenger that waits for a gate, so the queue can be filled while it works."""

    version = "gated-1"

    def __init__(self) -> None:
        self.gate = threading.Event()

    def score(self, features: FeatureVector) -> Score:
        self.gate.wait(timeout=10)
        return Score(0.25, (), self.version)


class _Broken:
    version = "broken-1"

    def score(self, features: FeatureVector) -> Score:
        raise ValueError("no model")


def test_shadow_scoring_scores_every_challenger_and_drops_when_full() -> None:
    results: list[ShadowScore] = []
    gated = _Gated()
    shadow = ShadowScoring({"gated": gated, "broken": _Broken()}, results.append, capacity=2)
    vector = _vector({"consumer_orders_30d": 1.0})
    accepted = [shadow.submit(f"d-{i}", vector) for i in range(6)]
    # the worker holds at most one item while gated; the queue takes two more; the rest are dropped
    assert accepted[:2] == [True, True]
    assert shadow.dropped == accepted.count(False) >= 3
    gated.gate.set()
    shadow.close()
    scored = {(r.decision_id, r.model) for r in results}
    assert len(scored) == 2 * shadow.submitted
    assert all(r.probability_of_default == 0.25 for r in results if r.model == "gated")
    assert all(r.error.startswith("ValueError") for r in results if r.model == "broken")
    assert shadow.scored == shadow.submitted
