"""The LightGBM challenger: monotone constraints, calibration, artefacts with checksum, Booster serving."""

from __future__ import annotations

from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from fengkong.monitoring import metrics
from fengkong.scoring.data import ScoringInputError
from fengkong.scoring.gbm import GBMChallenger, GBMServing


@pytest.fixture(scope="module")
def fitted_gbm(credit_data, fitted_scorecard):  # type: ignore[no-untyped-def]
    frame, y = credit_data
    return GBMChallenger(monotone_constraints=fitted_scorecard.monotone_directions(), random_state=0).fit(
        frame, y
    )


def test_monotone_constraints_hold_along_each_constrained_column(fitted_gbm, credit_data) -> None:  # type: ignore[no-untyped-def]
    frame, _ = credit_data
    assert fitted_gbm.monotone_["income"] == -1 and fitted_gbm.monotone_["utilisation"] == 1
    grid = np.linspace(frame["income"].min(), frame["income"].max(), 50)
    for row in range(0, 40, 7):
        probe = pd.DataFrame([frame.iloc[row]] * len(grid)).reset_index(drop=True)
        probe["income"] = grid
        pd_bad = fitted_gbm.predict_proba(probe)[:, 1]
        assert np.all(np.diff(pd_bad) <= 1e-12)


def test_early_stopping_and_calibration_on_held_out_rows(fitted_gbm, credit_data, fresh_rows) -> None:  # type: ignore[no-untyped-def]
    frame, y = credit_data
    card = fitted_gbm.serving_.card
    assert 1 <= fitted_gbm.best_iteration_ < 2_000
    assert card["calibration_rows"] + card["training_rows"] == len(y)
    pd_bad = fitted_gbm.predict_proba(frame)[:, 1]
    assert abs(pd_bad.mean() - y.mean()) < 0.03
    assert metrics.auc(y, pd_bad) > 0.7
    fresh = fitted_gbm.predict_proba(fresh_rows)[:, 1]  # unseen and missing categories score, as NaN
    assert np.all((fresh > 0) & (fresh < 1))


def test_saved_model_reloads_identically_and_a_tampered_one_is_refused(
    fitted_gbm, fresh_rows, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    fitted_gbm.serving_.save(tmp_path)
    loaded = GBMServing.load(tmp_path)
    np.testing.assert_array_equal(
        loaded.probability_of_default(fresh_rows), fitted_gbm.predict_proba(fresh_rows)[:, 1]
    )
    text = (tmp_path / "model.txt").read_text()
    (tmp_path / "model.txt").write_text(text.replace("learning_rate", "learning_rate ", 1))
    with pytest.raises(ScoringInputError, match="checksum"):
        GBMServing.load(tmp_path)


def test_contributions_add_up_and_reasons_rank_them(fitted_gbm, fresh_rows) -> None:  # type: ignore[no-untyped-def]
    serving = fitted_gbm.serving_
    matrix = serving.matrix(fresh_rows)
    contributions = serving.contributions(matrix)
    np.testing.assert_allclose(contributions.sum(axis=1), serving.raw(matrix), atol=1e-9)
    index, push = serving.reasons(matrix, count=2)
    for row in range(len(fresh_rows)):
        positive = sorted((c for c in contributions[row, :-1] if c > 0), reverse=True)[:2]
        np.testing.assert_allclose(push[row][: len(positive)], positive)
        assert all(index[row][len(positive) :] == -1)


def test_serving_fills_a_preallocated_array(fitted_gbm, fresh_rows) -> None:  # type: ignore[no-untyped-def]
    serving = fitted_gbm.serving_
    buffer = np.empty((1_000, len(serving.names)))
    view = serving.matrix(fresh_rows, out=buffer)
    assert view.base is buffer and view.shape == (len(fresh_rows), len(serving.names))
    direct = serving.booster.predict(view, raw_score=True, num_iteration=serving.best_iteration)
    np.testing.assert_array_equal(serving.raw(view), direct)
    assert isinstance(serving.booster, lgb.Booster)


def test_same_seed_same_model(credit_data) -> None:  # type: ignore[no-untyped-def]
    frame, y = credit_data
    first = GBMChallenger(random_state=5).fit(frame, y)
    second = clone(first).fit(frame, y)
    assert first.serving_.booster.model_to_string() == second.serving_.booster.model_to_string()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"validation_fraction": 0.9}, "validation_fraction"),
        ({"rounds_max": 0}, "rounds_max"),
        ({"calibration": "magic"}, "calibration"),
    ],
)
def test_bad_parameters_are_refused(params: dict[str, object], field: str, credit_data) -> None:  # type: ignore[no-untyped-def]
    frame, y = credit_data
    with pytest.raises(ScoringInputError) as raised:
        GBMChallenger(**params).fit(frame, y)  # type: ignore[arg-type]
    assert raised.value.field == field


def test_single_class_target_is_refused(credit_data) -> None:  # type: ignore[no-untyped-def]
    frame, y = credit_data
    with pytest.raises(ScoringInputError, match="both classes"):
        GBMChallenger().fit(frame, np.zeros_like(y))


def test_isotonic_calibration_is_monotone(credit_data) -> None:  # type: ignore[no-untyped-def]
    frame, y = credit_data
    model = GBMChallenger(calibration="isotonic").fit(frame, y)
    raw = np.linspace(-4, 4, 100)
    assert np.all(np.diff(model.serving_.calibration.apply(raw)) >= 0)
