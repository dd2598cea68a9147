"""The credit models on real public data (German credit, Taiwan default subset), read from shared/.

Fast: 3 outer folds once. The German figures are checked against the published cross-validated range
(about 0.78 for WoE scorecards, LightGBM and logistic regression; see shared/datasets/README.md). The
Taiwan file keeps only 4 of the 23 features, so the full-data figure (0.76-0.78) does not apply; there the
champion is checked against plain logistic regression on one-hot/standardised columns over the same folds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import RepeatedStratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from fengkong.scoring.data import prepare, read_csv
from fengkong.services.scoring import evaluate


def _plain_logistic_auc(data, folds: int, seed: int) -> float:  # type: ignore[no-untyped-def]
    from fengkong.monitoring.metrics import auc

    splitter = RepeatedStratifiedKFold(n_splits=folds, n_repeats=1, random_state=seed)
    model = make_pipeline(
        ColumnTransformer(
            [
                ("num", StandardScaler(), list(data.numeric)),
                ("cat", OneHotEncoder(handle_unknown="ignore"), list(data.categorical)),
            ]
        ),
        LogisticRegression(max_iter=2_000),
    )
    scores = []
    for train, test in splitter.split(np.zeros(len(data.target)), data.target):
        model.fit(data.features.iloc[train], data.target[train])
        scores.append(auc(data.target[test], model.predict_proba(data.features.iloc[test])[:, 1]))
    return float(np.mean(scores))


@pytest.mark.parametrize(
    ("file", "target", "bad_value", "low", "high"),
    [
        ("german_credit.csv", "creditability", "bad", 0.74, 0.84),
        ("taiwan_default_6k.csv", "default", "1", 0.57, 0.70),
    ],
)
def test_cross_validated_auc_in_the_published_range(
    shared_dir: Path, file: str, target: str, bad_value: str, low: float, high: float
) -> None:
    data = prepare(read_csv(shared_dir / "datasets" / file), target, bad_value)
    result = evaluate(data, folds=3, repeats=1, seed=0)
    champion = result["champion"]
    assert low <= champion["auc_mean"] <= high
    for name in ("scorecard", "gbm"):
        assert low - 0.03 <= result["models"][name]["auc_mean"] <= high
    assert champion["gini_mean"] == pytest.approx(2 * champion["auc_mean"] - 1)
    assert champion["auc_mean"] >= _plain_logistic_auc(data, folds=3, seed=0) - 0.02
