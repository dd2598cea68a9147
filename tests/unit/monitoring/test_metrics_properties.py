"""Metric invariants over drawn samples: agreement with scikit-learn/SciPy, rank invariance, symmetry."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from scipy.stats import ks_2samp
from sklearn.metrics import roc_auc_score

from fengkong.monitoring import metrics
from tests.strategies import labelled_scores


@given(labelled_scores())
def test_auc_and_ks_agree_with_the_references(sample: tuple[list[int], list[float]]) -> None:
    y, score = np.array(sample[0]), np.array(sample[1])
    assert metrics.auc(y, score) == pytest.approx(roc_auc_score(y, score), abs=1e-12)
    assert metrics.ks(y, score) == pytest.approx(ks_2samp(score[y == 1], score[y == 0]).statistic, abs=1e-12)


@given(labelled_scores())
def test_auc_depends_only_on_ranks_and_flips_with_the_score(sample: tuple[list[int], list[float]]) -> None:
    y, score = np.array(sample[0]), np.array(sample[1])
    value = metrics.auc(y, score)
    assert metrics.auc(y, 3 * score + 5) == pytest.approx(value, abs=1e-12)
    assert metrics.auc(y, -score) == pytest.approx(1 - value, abs=1e-12)
    assert metrics.psi(score, score) == pytest.approx(0.0, abs=1e-12)
    assert 0.0 <= metrics.ece(y, score) <= 1.0
