"""Reject inference: what the declined applicants would have done, so a model learns from everyone.

A model trained only on booked loans learns the risk of the people the old policy liked; declined
applicants — usually riskier at the same score — are missing. Two standard remedies, both as one
scikit-learn meta-estimator, :class:`RejectInference`:

* **parcelling** — score the rejects with a model fitted on the booked, cut the booked scores into
  ``bands`` quantile bands, and in each band label rejects bad at random with the band's booked bad rate
  times ``reject_bad_rate_multiple`` (rejects are riskier at equal score; 1 assumes they are not); then
  refit on booked plus parcelled rejects;
* **fuzzy augmentation** — every reject enters twice, as bad with weight ``w·p`` and as good with weight
  ``w·(1 − p)``, where ``p`` is its PD from the booked model times the multiple (capped at 1) and ``w`` is
  ``reject_weight``; then refit with sample weights (the estimator must accept ``sample_weight``).

``fit(X, y)`` follows scikit-learn's semi-supervised convention: ``y`` is 1 (bad), 0 (good) or −1 for a
row without an outcome (declined, or approved and not taken up). Learned state: ``booked_model_`` (fitted
on labelled rows only), ``model_`` (the final one), ``reject_bad_rate_`` (the bad rate inferred for the
rejects), ``rejects_`` and ``classes_``. ``random_state`` makes parcelling repeat.
"""

from __future__ import annotations

from typing import Any, Final, Self

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone

from fengkong import bounds
from fengkong.scoring.data import ScoringInputError

METHODS: Final = ("parcelling", "fuzzy")
UNLABELLED: Final = -1

PARAMETER_RULES: Final[dict[str, tuple[float, float]]] = {
    # name: (lowest allowed, highest allowed); messages and negative tests come from this table
    "bands": (2, 100),
    "reject_bad_rate_multiple": (0.5, 10.0),
    "reject_weight": (0.0, 10.0),
}


class RejectInference(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Parcelling or fuzzy augmentation around any probabilistic classifier (see the module docstring)."""

    def __init__(
        self,
        estimator: Any,
        *,
        method: str = "parcelling",
        bands: int = 10,
        reject_bad_rate_multiple: float = 1.5,
        reject_weight: float = 1.0,
        random_state: int | None = 0,
    ) -> None:
        self.estimator = estimator
        self.method = method
        self.bands = bands
        self.reject_bad_rate_multiple = reject_bad_rate_multiple
        self.reject_weight = reject_weight
        self.random_state = random_state

    def _check(self) -> None:
        if self.method not in METHODS:
            raise ScoringInputError(f"must be one of {list(METHODS)}, got {self.method!r}", field="method")
        for name, (low, high) in PARAMETER_RULES.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
                raise ScoringInputError(f"must be a finite number, got {value!r}", field=name)
            if not low <= value <= high:
                raise ScoringInputError(f"must be between {low} and {high}, got {value!r}", field=name)

    def fit(self, X: pd.DataFrame, y: npt.ArrayLike) -> Self:  # noqa: N803 (scikit-learn's names)
        self._check()
        target = np.asarray(y, dtype=np.int64)
        if target.shape[0] != X.shape[0]:
            raise ScoringInputError(f"{target.shape[0]} labels for {X.shape[0]} rows", field="target")
        if not np.isin(target, (0, 1, UNLABELLED)).all():
            raise ScoringInputError("labels must be 1 (bad), 0 (good) or -1 (no outcome)", field="target")
        labelled = target != UNLABELLED
        if set(np.unique(target[labelled]).tolist()) != {0, 1}:
            raise ScoringInputError("the booked rows need both classes (0 good, 1 bad)", field="target")
        rejects = np.flatnonzero(~labelled)
        if X.shape[0] + rejects.size > bounds.reject_inference_rows_max:
            raise ScoringInputError(
                f"{X.shape[0] + rejects.size} augmented rows, over "
                f"reject_inference_rows_max={bounds.reject_inference_rows_max}",
                field="data",
            )
        booked_rows = X.iloc[np.flatnonzero(labelled)]
        booked_y = target[labelled]
        self.booked_model_ = clone(self.estimator).fit(booked_rows, booked_y)
        self.rejects_ = int(rejects.size)
        if rejects.size == 0:
            self.model_ = self.booked_model_
            self.reject_bad_rate_ = float("nan")
            self.classes_ = np.array([0, 1])
            return self
        reject_rows = X.iloc[rejects]
        reject_pd = np.asarray(self.booked_model_.predict_proba(reject_rows)[:, 1], dtype=np.float64)
        if self.method == "parcelling":
            booked_pd = np.asarray(self.booked_model_.predict_proba(booked_rows)[:, 1], dtype=np.float64)
            inferred = self._parcel(booked_pd, booked_y, reject_pd)
            self.reject_bad_rate_ = float(inferred.mean())
            self.model_ = clone(self.estimator).fit(
                pd.concat([booked_rows, reject_rows], ignore_index=True), np.concatenate([booked_y, inferred])
            )
        else:
            p = np.minimum(reject_pd * float(self.reject_bad_rate_multiple), 1.0)
            self.reject_bad_rate_ = float(p.mean())
            features = pd.concat([booked_rows, reject_rows, reject_rows], ignore_index=True)
            labels = np.concatenate(
                [booked_y, np.ones(rejects.size, np.int64), np.zeros(rejects.size, np.int64)]
            )
            weights = np.concatenate(
                [np.ones(booked_y.size), float(self.reject_weight) * p, float(self.reject_weight) * (1.0 - p)]
            )
            try:
                self.model_ = clone(self.estimator).fit(features, labels, sample_weight=weights)
            except TypeError as error:
                raise ScoringInputError(
                    f"fuzzy augmentation needs an estimator whose fit takes sample_weight: {error}",
                    field="estimator",
                ) from error
        self.classes_ = np.array([0, 1])
        return self

    def _parcel(
        self,
        booked_pd: npt.NDArray[np.float64],
        booked_y: npt.NDArray[np.int64],
        reject_pd: npt.NDArray[np.float64],
    ) -> npt.NDArray[np.int64]:
        """Bad labels drawn for the rejects, band by band (bands cut at the booked PD quantiles)."""
        edges = np.unique(np.quantile(booked_pd, np.linspace(0, 1, int(self.bands) + 1))[1:-1])
        booked_band = np.searchsorted(edges, booked_pd, side="right")
        reject_band = np.searchsorted(edges, reject_pd, side="right")
        counts = np.bincount(booked_band, minlength=edges.size + 1)
        bads = np.bincount(booked_band, weights=booked_y.astype(np.float64), minlength=edges.size + 1)
        overall = float(booked_y.mean())
        rate = np.where(counts > 0, bads / np.maximum(counts, 1), overall)
        probability = np.minimum(rate[reject_band] * float(self.reject_bad_rate_multiple), 1.0)
        rng = np.random.default_rng(self.random_state)
        return (rng.random(reject_pd.size) < probability).astype(np.int64)

    def predict_proba(self, X: pd.DataFrame) -> npt.NDArray[np.float64]:  # noqa: N803
        return np.asarray(self.model_.predict_proba(X), dtype=np.float64)

    def predict(self, X: pd.DataFrame) -> npt.NDArray[np.int64]:  # noqa: N803
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(np.int64)
