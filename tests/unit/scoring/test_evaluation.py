"""The champion is chosen on each outer fold's training rows only, never on its test rows."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import RepeatedStratifiedKFold

from fengkong.scoring.data import ScoringInputError, prepare
from fengkong.services import scoring

from .conftest import synthetic_credit


def test_inner_choice_sees_only_outer_training_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    frame, y = synthetic_credit(700, seed=31)
    data = prepare(frame.assign(target=y), "target", "1")
    seen: list[set[int]] = []
    real = scoring.inner_choice

    def recording(features: pd.DataFrame, target: np.ndarray, seed: int) -> tuple[str, dict[str, float]]:
        seen.append(set(features.index.tolist()))
        return real(features, target, seed)

    monkeypatch.setattr(scoring, "inner_choice", recording)
    result: dict[str, Any] = scoring.evaluate(data, folds=2, repeats=2, seed=4)
    splits = RepeatedStratifiedKFold(n_splits=2, n_repeats=2, random_state=4).split(
        np.zeros(700), data.target
    )
    for rows_seen, (train, test) in zip(seen, splits, strict=True):
        assert rows_seen == set(data.features.index[train].tolist())
        assert rows_seen.isdisjoint(data.features.index[test].tolist())
    assert len(result["chosen_per_fold"]) == 4
    figures = [result["fold_auc"][name][i] for i, name in enumerate(result["chosen_per_fold"])]
    assert result["champion"]["auc_mean"] == pytest.approx(np.mean(figures))


@pytest.mark.parametrize(
    ("folds", "repeats", "field"), [(1, 1, "folds"), (21, 1, "folds"), (2, 0, "repeats")]
)
def test_fold_counts_outside_their_bounds_are_refused(folds: int, repeats: int, field: str) -> None:
    frame, y = synthetic_credit(200, seed=32)
    data = prepare(frame.assign(target=y), "target", "1")
    with pytest.raises(ScoringInputError) as raised:
        scoring.evaluate(data, folds=folds, repeats=repeats)
    assert raised.value.field == field


def test_too_few_bads_for_the_folds_are_refused() -> None:
    frame, _ = synthetic_credit(200, seed=33)
    y = np.zeros(200, dtype=int)
    y[:4] = 1
    data = prepare(frame.assign(target=y), "target", "1")
    with pytest.raises(ScoringInputError, match="too few") as raised:
        scoring.evaluate(data, folds=5, repeats=1)
    assert raised.value.field == "target"
    with pytest.raises(ScoringInputError, match="too few"):
        scoring.inner_choice(data.features, data.target, seed=0)
