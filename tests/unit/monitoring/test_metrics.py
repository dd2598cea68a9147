"""The numpy metrics agree with scikit-learn and SciPy, and refuse inputs they cannot judge."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import ks_2samp
from sklearn.calibration import calibration_curve as sk_calibration_curve
from sklearn.metrics import brier_score_loss, roc_auc_score

from fengkong.monitoring import metrics


def _sample(seed: int, rows: int = 2_000, ties: bool = False) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, rows)
    pd_bad = 1 / (1 + np.exp(-(rng.normal(size=rows) + y)))
    if ties:
        pd_bad = np.round(pd_bad, 1)
    return y, pd_bad


@pytest.mark.parametrize(("seed", "ties"), [(0, False), (1, True), (2, True)])
def test_auc_gini_ks_brier_match_the_references(seed: int, ties: bool) -> None:
    y, pd_bad = _sample(seed, ties=ties)
    assert metrics.auc(y, pd_bad) == pytest.approx(roc_auc_score(y, pd_bad), abs=1e-12)
    assert metrics.gini(y, pd_bad) == pytest.approx(2 * roc_auc_score(y, pd_bad) - 1, abs=1e-12)
    assert metrics.ks(y, pd_bad) == pytest.approx(
        ks_2samp(pd_bad[y == 1], pd_bad[y == 0]).statistic, abs=1e-12
    )
    assert metrics.brier(y, pd_bad) == pytest.approx(brier_score_loss(y, pd_bad), abs=1e-12)


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
def test_calibration_curve_matches_scikit_learn(strategy: str) -> None:
    y, pd_bad = _sample(3)
    observed, predicted = sk_calibration_curve(y, pd_bad, n_bins=10, strategy=strategy)
    curve = metrics.calibration_curve(y, pd_bad, bins=10, strategy=strategy)
    np.testing.assert_allclose(curve.observed, observed, atol=1e-12)
    np.testing.assert_allclose(curve.predicted, predicted, atol=1e-12)
    assert curve.count.sum() == y.size


def test_ece_is_zero_for_perfect_calibration_and_grows_with_bias() -> None:
    pd_bad = np.repeat([0.1, 0.3, 0.6], 1_000)
    y = np.concatenate([np.r_[np.ones(k), np.zeros(1_000 - k)] for k in (100, 300, 600)]).astype(int)
    assert metrics.ece(y, pd_bad, bins=3, strategy="uniform") == pytest.approx(0.0, abs=1e-12)
    shifted = np.clip(pd_bad + 0.05, 0, 1)
    assert metrics.ece(y, shifted, bins=3, strategy="uniform") == pytest.approx(0.05, abs=1e-12)


def test_psi_is_zero_for_the_same_sample_and_positive_under_shift() -> None:
    rng = np.random.default_rng(5)
    base = rng.normal(size=5_000)
    assert metrics.psi(base, base) == pytest.approx(0.0, abs=1e-12)
    small = metrics.psi(base, rng.normal(0.1, 1, 5_000))
    large = metrics.psi(base, rng.normal(1.0, 1, 5_000))
    assert 0 < small < 0.1 < large
    # by hand: two bins, shares (0.5, 0.5) -> (0.8, 0.2)
    expected = np.r_[np.zeros(50), np.ones(50)]
    actual = np.r_[np.zeros(80), np.ones(20)]
    by_hand = (0.8 - 0.5) * np.log(0.8 / 0.5) + (0.2 - 0.5) * np.log(0.2 / 0.5)
    assert metrics.psi(expected, actual, bins=2) == pytest.approx(by_hand, abs=1e-12)


@pytest.mark.parametrize(
    ("y", "score", "field"),
    [
        ([0, 0, 0], [0.1, 0.2, 0.3], "y"),
        ([0, 1], [0.1], "score"),
        ([], [], "y"),
        ([0, 2], [0.1, 0.2], "y"),
        ([0, 1], [0.1, float("nan")], "score"),
    ],
)
def test_auc_refuses_what_it_cannot_judge(y: list[int], score: list[float], field: str) -> None:
    with pytest.raises(metrics.MetricInputError) as raised:
        metrics.auc(y, score)
    assert raised.value.field == field


def test_probability_metrics_refuse_values_outside_zero_one() -> None:
    with pytest.raises(metrics.MetricInputError, match="pd_bad"):
        metrics.brier([0, 1], [0.2, 1.5])
    with pytest.raises(metrics.MetricInputError, match="strategy"):
        metrics.calibration_curve([0, 1], [0.2, 0.5], strategy="other")
    with pytest.raises(metrics.MetricInputError, match="actual"):
        metrics.psi([1.0, 2.0], [])
