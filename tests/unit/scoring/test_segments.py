"""Segment models route thin-file rows to an ecosystem-only model; approvals at equal bad rate by hand."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression

from fengkong.scoring.data import ScoringInputError
from fengkong.scoring.segments import SegmentedModel, application_data_baseline, approvals_at_equal_bad_rate


class Spy(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Remembers the columns it was fitted and asked on; predicts a constant."""

    def __init__(self, value: float = 0.1) -> None:
        self.value = value

    def fit(self, X: pd.DataFrame, y: Any) -> Spy:  # noqa: N803
        self.fitted_columns_ = list(X.columns)
        self.fitted_rows_ = len(X)
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:  # noqa: N803
        assert list(X.columns) == self.fitted_columns_
        return np.column_stack([np.full(len(X), 1 - self.value), np.full(len(X), self.value)])


def _frame(rows: int = 400) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    thin = rng.random(rows) < 0.4
    bureau = np.where(thin, np.nan, rng.normal(650, 50, rows))
    orders = rng.poisson(10, rows).astype(float)
    y = (rng.random(rows) < 0.2).astype(np.int8)
    y[:2], y[-2:] = [0, 1], [0, 1]
    y[np.flatnonzero(thin)[:2]] = [0, 1]
    return pd.DataFrame({"bureau_score": bureau, "orders": orders, "thin_file": thin}), y


@pytest.mark.parametrize("training", ["segment", "all"])
def test_thin_rows_go_to_the_ecosystem_model_which_never_sees_the_bureau(training: str) -> None:
    x, y = _frame()
    model = SegmentedModel(Spy(0.1), Spy(0.3), thin_columns=["orders"], thin_training=training).fit(x, y)
    assert model.thin_model_.fitted_columns_ == ["orders"]
    assert model.thick_model_.fitted_columns_ == ["bureau_score", "orders"]
    thin = x["thin_file"].to_numpy()
    expected_thin_rows = int(thin.sum()) if training == "segment" else len(x)
    assert model.thin_model_.fitted_rows_ == expected_thin_rows
    pd_bad = model.predict_proba(x)[:, 1]
    np.testing.assert_allclose(pd_bad[thin], 0.3)
    np.testing.assert_allclose(pd_bad[~thin], 0.1)


def test_segment_model_refuses_what_it_cannot_use() -> None:
    x, y = _frame()
    with pytest.raises(ScoringInputError) as empty:
        SegmentedModel(Spy(), Spy()).fit(x, y)
    assert empty.value.field == "thin_columns"
    with pytest.raises(ScoringInputError) as flag:
        SegmentedModel(Spy(), Spy(), thin_columns=["orders", "thin_file"]).fit(x, y)
    assert flag.value.field == "thin_columns"
    with pytest.raises(ScoringInputError) as missing:
        SegmentedModel(Spy(), Spy(), thin_columns=["orders"]).fit(x.drop(columns="thin_file"), y)
    assert missing.value.field == "segment_column"
    with pytest.raises(ScoringInputError) as training:
        SegmentedModel(Spy(), Spy(), thin_columns=["orders"], thin_training="some").fit(x, y)
    assert training.value.field == "thin_training"


def test_approvals_at_equal_bad_rate_worked_by_hand() -> None:
    # ten applicants; the baseline approves the safest half by its PD: rows 0-4, two bads → 40 %
    y = np.array([1, 0, 1, 0, 0, 0, 0, 1, 0, 1])
    baseline = np.arange(10) / 10
    # the model ranks 1, 3, 4, 5, 6, 8 (all good) first, then 0, 2, 7, 9 (bad)
    model = np.array([0.7, 0.1, 0.8, 0.1, 0.2, 0.2, 0.3, 0.9, 0.3, 0.95])
    result = approvals_at_equal_bad_rate(y, model, baseline, baseline_approval_share=0.5)
    assert (result.baseline_approvals, result.baseline_bad_rate) == (5, 0.4)
    # safest first: 6 goods, then bads: 7 rows → 1/7, 8 → 2/8, 9 → 3/9, 10 → 4/10 = 0.4 still allowed
    assert result.model_approvals == 10 and result.model_bad_rate == pytest.approx(0.4)
    assert result.gain == pytest.approx(1.0)
    stricter = approvals_at_equal_bad_rate(y, model, baseline, baseline_approval_share=0.2)
    assert (stricter.baseline_approvals, stricter.baseline_bad_rate) == (2, 0.5)
    with pytest.raises(ScoringInputError) as share:
        approvals_at_equal_bad_rate(y, model, baseline, baseline_approval_share=0.0)
    assert share.value.field == "baseline_approval_share"
    with pytest.raises(ScoringInputError):
        approvals_at_equal_bad_rate(y[:3], model, baseline, baseline_approval_share=0.5)


def test_the_baseline_is_a_fitted_pipeline_on_application_data() -> None:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"age_years": rng.integers(20, 60, 300), "income": rng.lognormal(8, 0.5, 300)})
    y = (rng.random(300) < 0.3).astype(int)
    baseline = application_data_baseline(0).fit(frame, y)
    assert isinstance(baseline.steps[-1][1], LogisticRegression)
    assert baseline.predict_proba(frame).shape == (300, 2)
