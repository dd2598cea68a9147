"""Use cases for the credit models on any labelled CSV: evaluate, fit and save, score.

Evaluation is repeated stratified k-fold. In each outer fold both models are fitted on the training part
and measured on the test part; the champion of that fold is chosen by an inner stratified k-fold **on the
training part only** (higher mean inner AUC), so the outer test folds never choose. The reported
champion figures are those of the chosen model on each outer test fold — an honest estimate of "fit both,
pick by inner CV" — and its name is the model picked most often (ties: higher outer-independent inner AUC).

The GBM's monotone constraints come from the scorecard's binning fitted on the same training rows.

A model directory holds ``manifest.json`` (the champion and the columns), ``scorecard.json`` (the bin
table with points), ``scorecard.csv``, ``scorecard.html``, and ``gbm/model.txt`` with
``gbm/model_card.json`` (SHA-256 of the text model).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.model_selection import RepeatedStratifiedKFold, StratifiedKFold

from fengkong import bounds
from fengkong.monitoring import metrics
from fengkong.scoring.data import PreparedData, ScoringInputError, prepare, read_csv
from fengkong.scoring.gbm import GBMChallenger, GBMServing
from fengkong.scoring.scorecard import ScorecardModel
from fengkong.scoring.table import ScorecardTable

MODEL_NAMES: Final = ("scorecard", "gbm")
INNER_FOLDS: Final = 3
MANIFEST_FORMAT: Final = "fengkong.credit-model/1"


def fit_pair(features: pd.DataFrame, target: npt.NDArray[np.int8], seed: int) -> dict[str, Any]:
    """Fit the scorecard, then the GBM constrained by the scorecard's monotone trends."""
    scorecard = ScorecardModel(random_state=seed).fit(features, target)
    gbm = GBMChallenger(monotone_constraints=scorecard.monotone_directions(), random_state=seed).fit(
        features, target
    )
    return {"scorecard": scorecard, "gbm": gbm}


def _pd(model: Any, features: pd.DataFrame) -> npt.NDArray[np.float64]:
    return np.asarray(model.predict_proba(features)[:, 1], dtype=np.float64)


def _measures(y: npt.NDArray[np.int8], pd_bad: npt.NDArray[np.float64]) -> dict[str, float]:
    return {
        "auc": metrics.auc(y, pd_bad),
        "ks": metrics.ks(y, pd_bad),
        "gini": metrics.gini(y, pd_bad),
        "brier": metrics.brier(y, pd_bad),
        "ece": metrics.ece(y, pd_bad),
    }


def require_class_rows(target: npt.NDArray[np.int8], splits: int) -> None:
    """Refuse data with too few goods or bads to be cut into ``splits`` folds of useful size."""
    bads = int(target.sum())
    goods = len(target) - bads
    needed = splits * bounds.scoring_class_rows_min
    if min(bads, goods) < needed:
        raise ScoringInputError(
            f"{bads} bads and {goods} goods are too few: {splits} folds need at least {needed} of each "
            f"(scoring_class_rows_min={bounds.scoring_class_rows_min} per fold)",
            field="target",
        )


def inner_choice(
    features: pd.DataFrame, target: npt.NDArray[np.int8], seed: int
) -> tuple[str, dict[str, float]]:
    """The model with the higher mean AUC over an inner stratified k-fold of these rows."""
    require_class_rows(target, INNER_FOLDS)
    folds = StratifiedKFold(n_splits=INNER_FOLDS, shuffle=True, random_state=seed)
    scores: dict[str, list[float]] = {name: [] for name in MODEL_NAMES}
    for train, test in folds.split(np.zeros(len(target)), target):
        models = fit_pair(features.iloc[train], target[train], seed)
        for name in MODEL_NAMES:
            scores[name].append(metrics.auc(target[test], _pd(models[name], features.iloc[test])))
    means = {name: float(np.mean(values)) for name, values in scores.items()}
    return max(MODEL_NAMES, key=lambda name: (means[name], name == "scorecard")), means


@dataclass(frozen=True, slots=True)
class FoldResult:
    repeat: int
    fold: int
    measures: dict[str, dict[str, float]]  # model -> metric -> value on the outer test fold
    chosen: str
    inner_auc: dict[str, float]


def _summary(values: list[dict[str, float]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for key in values[0]:
        column = np.array([v[key] for v in values])
        out[f"{key}_mean"] = float(column.mean())
        out[f"{key}_std"] = float(column.std(ddof=1)) if column.size > 1 else 0.0
    return out


def evaluate(data: PreparedData, *, folds: int = 5, repeats: int = 3, seed: int = 0) -> dict[str, Any]:
    """Repeated stratified k-fold of both models with the champion chosen by inner cross-validation."""
    if not 2 <= folds <= bounds.scoring_folds_max:
        raise ScoringInputError(
            f"must be between 2 and scoring_folds_max={bounds.scoring_folds_max}", field="folds"
        )
    if not 1 <= repeats <= bounds.scoring_repeats_max:
        raise ScoringInputError(
            f"must be between 1 and scoring_repeats_max={bounds.scoring_repeats_max}", field="repeats"
        )
    require_class_rows(data.target, folds * INNER_FOLDS)
    splitter = RepeatedStratifiedKFold(n_splits=folds, n_repeats=repeats, random_state=seed)
    results: list[FoldResult] = []
    for index, (train, test) in enumerate(splitter.split(np.zeros(len(data.target)), data.target)):
        x_train, y_train = data.features.iloc[train], data.target[train]
        models = fit_pair(x_train, y_train, seed)
        measures = {
            name: _measures(data.target[test], _pd(models[name], data.features.iloc[test]))
            for name in MODEL_NAMES
        }
        chosen, inner = inner_choice(x_train, y_train, seed + 1 + index)
        results.append(FoldResult(index // folds, index % folds, measures, chosen, inner))
    picked = Counter(r.chosen for r in results)
    inner_mean = {name: float(np.mean([r.inner_auc[name] for r in results])) for name in MODEL_NAMES}
    name = max(MODEL_NAMES, key=lambda n: (picked[n], inner_mean[n]))
    champion_folds = [r.measures[r.chosen] for r in results]
    champion_summary = _summary(champion_folds)
    return {
        "rows": len(data.target),
        "bad_rate": float(data.target.mean()),
        "folds": folds,
        "repeats": repeats,
        "seed": seed,
        "dropped_columns": [list(item) for item in data.dropped],
        "models": {model: _summary([r.measures[model] for r in results]) for model in MODEL_NAMES},
        "champion": {
            "name": name,
            "auc_mean": champion_summary["auc_mean"],
            "auc_std": champion_summary["auc_std"],
            "ks_mean": champion_summary["ks_mean"],
            "gini_mean": champion_summary["gini_mean"],
            "selected_per_fold": {model: picked[model] for model in MODEL_NAMES},
            "selection": "inner stratified 3-fold AUC on each outer training part",
        },
        "fold_auc": {model: [r.measures[model]["auc"] for r in results] for model in MODEL_NAMES},
        "champion_fold_auc": [r.measures[r.chosen]["auc"] for r in results],
        "chosen_per_fold": [r.chosen for r in results],
    }


def evaluate_csv(
    path: Path, target: str, bad_value: str, *, folds: int, repeats: int, seed: int
) -> dict[str, Any]:
    return evaluate(prepare(read_csv(path), target, bad_value), folds=folds, repeats=repeats, seed=seed)


def fit_and_save(path: Path, target: str, bad_value: str, out: Path, *, seed: int = 0) -> dict[str, Any]:
    """Fit both models on all rows, choose the champion by cross-validation, write the model directory."""
    data = prepare(read_csv(path), target, bad_value)
    champion, inner = inner_choice(data.features, data.target, seed)
    models = fit_pair(data.features, data.target, seed)
    scorecard: ScorecardModel = models["scorecard"]
    gbm: GBMChallenger = models["gbm"]
    out.mkdir(parents=True, exist_ok=True)
    (out / "scorecard.json").write_text(scorecard.table_.to_json(), encoding="utf-8")
    (out / "scorecard.csv").write_text(scorecard.table_.to_csv(), encoding="utf-8")
    (out / "scorecard.html").write_text(scorecard.table_.to_html(f"Scorecard: {path.name}"), encoding="utf-8")
    gbm.serving_.save(out / "gbm")
    manifest = {
        "format": MANIFEST_FORMAT,
        "champion": champion,
        "inner_auc": inner,
        "data": path.name,
        "rows": len(data.target),
        "bad_rate": float(data.target.mean()),
        "target": target,
        "bad_value": bad_value,
        "dropped_columns": [list(item) for item in data.dropped],
        "scorecard_dropped": [list(item) for item in scorecard.dropped_],
        "fitted_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "seed": seed,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


@dataclass(frozen=True, slots=True)
class LoadedModel:
    champion: str
    table: ScorecardTable
    gbm: GBMServing


def load_model(directory: Path) -> LoadedModel:
    manifest_path = directory / "manifest.json"
    if not manifest_path.is_file():
        raise ScoringInputError(f"no manifest.json in {directory}", field="model")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ScoringInputError(f"manifest.json is not JSON: {error}", field="model") from error
    if (
        not isinstance(manifest, dict)
        or manifest.get("format") != MANIFEST_FORMAT
        or manifest.get("champion") not in MODEL_NAMES
    ):
        raise ScoringInputError(f"manifest.json is not a {MANIFEST_FORMAT} document", field="model")
    table_path = directory / "scorecard.json"
    if not table_path.is_file():
        raise ScoringInputError(f"no scorecard.json in {directory}", field="model")
    table = ScorecardTable.from_json(table_path.read_text(encoding="utf-8"))
    return LoadedModel(str(manifest["champion"]), table, GBMServing.load(directory / "gbm"))


def score_frame(model: LoadedModel, frame: pd.DataFrame, *, reasons: bool, count: int = 4) -> pd.DataFrame:
    """Score, PD and (when asked) ranked reason codes from the champion, one row per input row.

    The score is on the scorecard's points scale for both models (the GBM's PD mapped through the same
    PDO and base odds), so a cut-off means the same thing whichever model is champion.
    """
    table = model.table
    out = pd.DataFrame(index=frame.index)
    if model.champion == "scorecard":
        points = table.points_matrix(frame)
        score = points.sum(axis=1)
        out["score"] = score
        out["pd"] = table.probability_of_default(score)
        if reasons:
            codes = table.reasons_from_points(points, count)
            names = np.array([*table.names, ""], dtype=object)
            for k in range(count):
                out[f"reason_{k + 1}"] = names[codes.index[:, k]]
                out[f"points_lost_{k + 1}"] = codes.points_lost[:, k]
    else:
        gbm = model.gbm
        matrix = gbm.matrix(frame)
        pd_bad = np.clip(gbm.calibration.apply(gbm.raw(matrix)), 1e-9, 1 - 1e-9)
        out["score"] = np.round(table.offset + table.factor * np.log((1 - pd_bad) / pd_bad)).astype(np.int64)
        out["pd"] = pd_bad
        if reasons:
            index, push = gbm.reasons(matrix, count)
            names = np.array([*gbm.names, ""], dtype=object)
            for k in range(count):
                out[f"reason_{k + 1}"] = names[index[:, k]]
                out[f"log_odds_added_{k + 1}"] = push[:, k]
    unseen = table.unseen_categories(frame) if model.champion == "scorecard" else {}
    out.attrs["unseen_categories"] = unseen
    return out


def score_csv(model_dir: Path, data: Path, *, reasons: bool) -> pd.DataFrame:
    return score_frame(load_model(model_dir), read_csv(data), reasons=reasons)
