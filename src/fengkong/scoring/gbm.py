"""The gradient-boosted challenger: LightGBM with monotone constraints, early stopping and a calibrated PD.

Fitting (:class:`GBMChallenger`): a stratified inner split holds out ``validation_fraction`` of the
training rows; boosting stops when the held-out log-loss has not improved for ``early_stopping_rounds``;
the held-out raw scores then fit the calibration (Platt: a logistic on the raw score; or isotonic).
Numeric columns get a monotone constraint where ``monotone_constraints`` gives one (the scorecard's
binning found the bad rate rising, +1, or falling, −1); categorical columns are LightGBM categoricals,
coded by the sorted categories seen in training (an unseen category, like a missing one, is NaN).
Single thread, ``deterministic=True``, seeded: the same data gives the same model.

Artefacts (:meth:`GBMServing.save`): ``model.txt`` in LightGBM's text format and ``model_card.json`` with
its SHA-256, the columns and codes, the calibration and the parameters. Serving (:class:`GBMServing`)
uses the Booster on a preallocated float64 array; reason codes come from ``pred_contrib`` and are
computed only when asked.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Self

import lightgbm as lgb
import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from fengkong import bounds
from fengkong.scoring.data import ScoringInputError, coerce_features, column_kinds
from fengkong.scoring.table import top_reasons

CARD_FORMAT: Final = "fengkong.gbm-card/1"
MODEL_FILE: Final = "model.txt"
CARD_FILE: Final = "model_card.json"


@dataclass(frozen=True, slots=True)
class Calibration:
    """Raw LightGBM score → PD. Platt: ``1/(1+exp(-(a·raw+b)))``; isotonic: step interpolation."""

    method: str
    platt_a: float = 0.0
    platt_b: float = 0.0
    x: tuple[float, ...] = ()
    y: tuple[float, ...] = ()

    def apply(self, raw: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        if self.method == "platt":
            result: npt.NDArray[np.float64] = 1.0 / (1.0 + np.exp(-(self.platt_a * raw + self.platt_b)))
            return result
        interpolated: npt.NDArray[np.float64] = np.interp(raw, np.asarray(self.x), np.asarray(self.y))
        return interpolated

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "platt_a": self.platt_a,
            "platt_b": self.platt_b,
            "x": self.x,
            "y": self.y,
        }


def _fit_calibration(method: str, raw: npt.NDArray[np.float64], y: npt.NDArray[np.int8]) -> Calibration:
    if method == "platt":
        logistic = LogisticRegression(C=1e6, max_iter=1_000).fit(raw.reshape(-1, 1), y)
        return Calibration("platt", float(logistic.coef_[0, 0]), float(logistic.intercept_[0]))
    if method == "isotonic":
        iso = IsotonicRegression(out_of_bounds="clip", y_min=1e-6, y_max=1 - 1e-6).fit(raw, y)
        return Calibration(
            "isotonic",
            x=tuple(float(v) for v in iso.X_thresholds_),
            y=tuple(float(v) for v in iso.y_thresholds_),
        )
    raise ScoringInputError(f"must be 'platt' or 'isotonic', got {method!r}", field="calibration")


@dataclass(frozen=True, slots=True)
class GBMServing:
    """What serving needs: the Booster, column order, category codes and the calibration."""

    booster: Any
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    categories: Mapping[str, tuple[str, ...]]
    calibration: Calibration
    best_iteration: int
    card: Mapping[str, Any]

    @property
    def names(self) -> tuple[str, ...]:
        return (*self.numeric, *self.categorical)

    def matrix(self, X: pd.DataFrame, out: npt.NDArray[np.float64] | None = None) -> npt.NDArray[np.float64]:  # noqa: N803
        """Fill (or allocate) the float64 design matrix: numbers as they are, categories as codes."""
        rows = X.shape[0]
        if rows > bounds.scoring_batch_rows_max:
            raise ScoringInputError(
                f"{rows} rows, over scoring_batch_rows_max={bounds.scoring_batch_rows_max}", field="data"
            )
        frame = coerce_features(X, self.numeric, self.categorical)
        if out is None or out.shape[0] < rows or out.shape[1] != len(self.names):
            out = np.empty((rows, len(self.names)), dtype=np.float64)
        view = out[:rows]
        for column, name in enumerate(self.numeric):
            view[:, column] = frame[name].to_numpy(dtype=np.float64)
        for offset, name in enumerate(self.categorical):
            codes = pd.Index(self.categories[name], dtype=object).get_indexer(
                pd.Index(frame[name].to_numpy(dtype=object), dtype=object)
            )
            view[:, len(self.numeric) + offset] = np.where(codes < 0, np.nan, codes)
        return view

    def raw(self, matrix: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return np.asarray(
            self.booster.predict(matrix, raw_score=True, num_iteration=self.best_iteration, num_threads=1),
            dtype=np.float64,
        )

    def probability_of_default(self, X: pd.DataFrame) -> npt.NDArray[np.float64]:  # noqa: N803
        return self.calibration.apply(self.raw(self.matrix(X)))

    def contributions(self, matrix: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Per-row SHAP contributions to the raw (log-odds of bad) score; last column is the bias."""
        return np.asarray(
            self.booster.predict(matrix, pred_contrib=True, num_iteration=self.best_iteration, num_threads=1),
            dtype=np.float64,
        )

    def reasons(
        self, matrix: npt.NDArray[np.float64], count: int = 4
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """The columns that push the log-odds of bad up the most, ranked (index −1: no further reason)."""
        contributions = self.contributions(matrix)[:, : len(self.names)]
        return top_reasons(contributions, self.names, count)

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        text = self.booster.model_to_string(num_iteration=self.best_iteration)
        (directory / MODEL_FILE).write_text(text, encoding="utf-8")
        card = dict(self.card)
        card["model_sha256"] = hashlib.sha256(text.encode("utf-8")).hexdigest()
        (directory / CARD_FILE).write_text(
            json.dumps(card, indent=2, allow_nan=False) + "\n", encoding="utf-8"
        )

    @classmethod
    def load(cls, directory: Path) -> GBMServing:
        paths = [directory / MODEL_FILE, directory / CARD_FILE]
        for path in paths:
            if not path.is_file():
                raise ScoringInputError(f"no {path.name} in {directory}", field="model")
            if path.stat().st_size > bounds.scoring_model_file_bytes_max:
                raise ScoringInputError(f"{path.name} is over scoring_model_file_bytes_max", field="model")
        text = paths[0].read_text(encoding="utf-8")
        try:
            card = json.loads(paths[1].read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise ScoringInputError(f"model card is not JSON: {error}", field="model") from error
        if not isinstance(card, dict) or card.get("format") != CARD_FORMAT:
            raise ScoringInputError(f"model card is not {CARD_FORMAT}", field="model")
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        if digest != card.get("model_sha256"):
            raise ScoringInputError("model.txt does not match the checksum in the model card", field="model")
        calibration = card["calibration"]
        return cls(
            booster=lgb.Booster(model_str=text),
            numeric=tuple(card["numeric"]),
            categorical=tuple(card["categorical"]),
            categories={k: tuple(v) for k, v in card["categories"].items()},
            calibration=Calibration(
                str(calibration["method"]),
                float(calibration["platt_a"]),
                float(calibration["platt_b"]),
                tuple(float(v) for v in calibration["x"]),
                tuple(float(v) for v in calibration["y"]),
            ),
            best_iteration=int(card["best_iteration"]),
            card=card,
        )


class GBMChallenger(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """LightGBM with monotone constraints, early stopping and calibration (scikit-learn contract).

    Learned state: ``serving_`` (:class:`GBMServing`), ``best_iteration_``, ``monotone_``, ``dropped_``,
    ``classes_``.
    """

    def __init__(
        self,
        *,
        learning_rate: float = 0.05,
        num_leaves: int = 15,
        min_child_samples: int = 20,
        feature_fraction: float = 0.8,
        lambda_l2: float = 1.0,
        validation_fraction: float = 0.25,
        early_stopping_rounds: int = 50,
        rounds_max: int = 2_000,
        calibration: str = "platt",
        monotone_constraints: Mapping[str, int] | None = None,
        random_state: int = 0,
    ) -> None:
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.feature_fraction = feature_fraction
        self.lambda_l2 = lambda_l2
        self.validation_fraction = validation_fraction
        self.early_stopping_rounds = early_stopping_rounds
        self.rounds_max = rounds_max
        self.calibration = calibration
        self.monotone_constraints = monotone_constraints
        self.random_state = random_state

    def _params(self) -> dict[str, Any]:
        return {
            "objective": "binary",
            "learning_rate": float(self.learning_rate),
            "num_leaves": int(self.num_leaves),
            "min_child_samples": int(self.min_child_samples),
            "feature_fraction": float(self.feature_fraction),
            "lambda_l2": float(self.lambda_l2),
            "monotone_constraints_method": "advanced",
            "num_threads": 1,
            "deterministic": True,
            "force_row_wise": True,
            "seed": int(self.random_state),
            "verbosity": -1,
        }

    def fit(self, X: pd.DataFrame, y: npt.ArrayLike) -> Self:  # noqa: N803
        if not 0.05 <= float(self.validation_fraction) <= 0.5:
            raise ScoringInputError("must be between 0.05 and 0.5", field="validation_fraction")
        if not 1 <= int(self.rounds_max) <= bounds.gbm_boost_rounds_max:
            raise ScoringInputError(
                f"must be between 1 and gbm_boost_rounds_max={bounds.gbm_boost_rounds_max}",
                field="rounds_max",
            )
        if self.calibration not in ("platt", "isotonic"):
            raise ScoringInputError(
                f"must be 'platt' or 'isotonic', got {self.calibration!r}", field="calibration"
            )
        target = np.asarray(y, dtype=np.int8)
        if target.shape[0] != X.shape[0]:
            raise ScoringInputError(f"{target.shape[0]} labels for {X.shape[0]} rows", field="target")
        if set(np.unique(target).tolist()) != {0, 1}:
            raise ScoringInputError("the target needs both classes (0 good, 1 bad)", field="target")
        numeric, categorical, dropped = column_kinds(X)
        frame = coerce_features(X, numeric, categorical)
        categories = {name: tuple(sorted(frame[name].dropna().unique())) for name in categorical}
        directions = dict(self.monotone_constraints or {})
        monotone = [int(np.sign(directions.get(name, 0))) for name in numeric] + [0] * len(categorical)
        card: dict[str, Any] = {
            "format": CARD_FORMAT,
            "numeric": list(numeric),
            "categorical": list(categorical),
            "categories": {k: list(v) for k, v in categories.items()},
            "monotone_constraints": dict(zip(numeric, monotone, strict=False)),
            "dropped": [list(item) for item in dropped],
            "parameters": self._params(),
        }
        shell = GBMServing(None, numeric, categorical, categories, Calibration("platt"), 0, card)
        matrix = shell.matrix(frame).copy()
        fit_rows, held_rows = train_test_split(
            np.arange(len(target)),
            test_size=float(self.validation_fraction),
            stratify=target,
            random_state=self.random_state,
        )
        names = list(shell.names)
        cat_index = list(range(len(numeric), len(names)))
        params = {**self._params(), "monotone_constraints": monotone}
        train_set = lgb.Dataset(
            matrix[fit_rows],
            target[fit_rows],
            feature_name=names,
            categorical_feature=cat_index,
            params={"verbosity": -1},
            free_raw_data=False,
        )
        valid_set = lgb.Dataset(
            matrix[held_rows],
            target[held_rows],
            reference=train_set,
            feature_name=names,
            categorical_feature=cat_index,
            params={"verbosity": -1},
            free_raw_data=False,
        )
        booster = lgb.train(
            params,
            train_set,
            num_boost_round=int(self.rounds_max),
            valid_sets=[valid_set],
            callbacks=[lgb.early_stopping(int(self.early_stopping_rounds), verbose=False)],
        )
        best = int(booster.best_iteration) or int(booster.current_iteration())
        raw_held = np.asarray(booster.predict(matrix[held_rows], raw_score=True, num_iteration=best))
        calibration = _fit_calibration(str(self.calibration), raw_held, target[held_rows])
        card["best_iteration"] = best
        card["calibration"] = calibration.to_dict()
        card["training_rows"] = len(fit_rows)
        card["calibration_rows"] = len(held_rows)
        self.serving_ = GBMServing(booster, numeric, categorical, categories, calibration, best, card)
        self.best_iteration_ = best
        self.monotone_ = card["monotone_constraints"]
        self.dropped_ = dropped
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X: pd.DataFrame) -> npt.NDArray[np.float64]:  # noqa: N803
        pd_bad = self.serving_.probability_of_default(X)
        return np.column_stack([1.0 - pd_bad, pd_bad])

    def predict(self, X: pd.DataFrame) -> npt.NDArray[np.int64]:  # noqa: N803
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(np.int64)
