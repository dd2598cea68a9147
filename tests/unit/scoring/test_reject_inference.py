"""Reject inference: the scikit-learn contract, parcelling and fuzzy augmentation, and refused parameters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier

from fengkong.scoring.data import ScoringInputError
from fengkong.scoring.reject_inference import PARAMETER_RULES, UNLABELLED, RejectInference


def _world(rows: int, seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """One risk driver; the old policy declined the riskier third, whose outcomes are hidden."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=rows)
    truth = (rng.random(rows) < 1 / (1 + np.exp(-(-2.0 + 1.5 * x)))).astype(np.int64)
    declined = x + rng.normal(0, 0.5, rows) > np.quantile(x, 0.66)
    y = np.where(declined, UNLABELLED, truth)
    return pd.DataFrame({"x": x, "noise": rng.normal(size=rows)}), y, truth


@pytest.mark.parametrize("method", ["parcelling", "fuzzy"])
def test_rejects_are_inferred_riskier_than_the_booked_and_the_contract_holds(method: str) -> None:
    x, y, truth = _world(4_000, seed=1)
    model = RejectInference(LogisticRegression(), method=method, random_state=3)
    assert clone(model).get_params()["method"] == method
    fitted = model.fit(x, y)
    assert fitted is model
    booked = y != UNLABELLED
    assert model.rejects_ == int((~booked).sum())
    assert model.reject_bad_rate_ > truth[booked].mean()  # the declined were riskier, and it says so
    assert model.predict_proba(x).shape == (len(x), 2)
    assert set(np.unique(model.predict(x))) <= {0, 1}
    # the inferred bad rate of the rejects is nearer their true (hidden) bad rate than the booked rate is
    hidden = truth[~booked].mean()
    assert abs(model.reject_bad_rate_ - hidden) < abs(truth[booked].mean() - hidden)


def test_parcelling_repeats_with_its_seed_and_without_rejects_is_the_booked_model() -> None:
    x, y, _ = _world(2_000, seed=2)
    first = RejectInference(LogisticRegression(), random_state=5).fit(x, y).predict_proba(x)
    second = RejectInference(LogisticRegression(), random_state=5).fit(x, y).predict_proba(x)
    np.testing.assert_array_equal(first, second)
    booked = y != UNLABELLED
    plain = RejectInference(LogisticRegression()).fit(x[booked], y[booked])
    assert plain.model_ is plain.booked_model_ and plain.rejects_ == 0


@pytest.mark.parametrize(("name", "bounds"), sorted(PARAMETER_RULES.items()))
def test_parameters_outside_their_rule_are_refused_by_name(name: str, bounds: tuple[float, float]) -> None:
    x, y, _ = _world(300, seed=3)
    for value in (bounds[0] - 1, bounds[1] + 1, float("nan")):
        with pytest.raises(ScoringInputError) as caught:
            RejectInference(LogisticRegression(), **{name: value}).fit(x, y)
        assert caught.value.field == name


def test_bad_targets_methods_and_estimators_are_refused() -> None:
    x, y, _ = _world(300, seed=4)
    with pytest.raises(ScoringInputError, match="-1") as labels:
        RejectInference(LogisticRegression()).fit(x, np.where(y == UNLABELLED, 2, y))
    assert labels.value.field == "target"
    with pytest.raises(ScoringInputError) as method:
        RejectInference(LogisticRegression(), method="guess").fit(x, y)
    assert method.value.field == "method"
    with pytest.raises(ScoringInputError, match="sample_weight") as weights:
        RejectInference(KNeighborsClassifier(), method="fuzzy").fit(x, y)
    assert weights.value.field == "estimator"
    with pytest.raises(ScoringInputError, match="both classes"):
        RejectInference(LogisticRegression()).fit(x, np.where(y == 1, 0, y))
