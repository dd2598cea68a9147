"""Thin-file credit: segment models, and approvals against an application-data baseline at equal bad rate.

People with a bureau record (thick-file) and people without one (thin-file, 白户) are scored by different
models: :class:`SegmentedModel` routes each row by its segment column — the thick-file model reads every
feature (bureau and ecosystem), the thin-file model only the ecosystem columns it is given, so a thin-file
score can never lean on a bureau field that is empty for everyone it scores. ``thin_training="segment"``
fits the thin-file model on thin-file rows only; ``"all"`` fits it on every row's ecosystem columns (more
data, the same inputs), useful while the thin-file book is small.

The comparison the issue asks for is :func:`approvals_at_equal_bad_rate`: a baseline policy approves the
share ``baseline_approval_share`` of applicants it ranks safest on application data alone (age, declared
income, identity checks — :func:`application_data_baseline`), realising some bad rate; the model then
approves as many applicants as it can, safest first, without exceeding that realised bad rate. The gain is
the ratio of the two approval counts, minus one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Self

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from fengkong import bounds
from fengkong.scoring.data import ScoringInputError

THIN_TRAINING: Final = ("segment", "all")


class SegmentedModel(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Thick-file and thin-file models behind one scikit-learn estimator (see the module docstring).

    ``X`` holds ``segment_column`` (True for thin-file rows). Learned state: ``thick_model_``,
    ``thin_model_``, ``thick_columns_``, ``thin_columns_``, ``rows_`` (fitted rows per segment),
    ``classes_``.
    """

    def __init__(
        self,
        thick_estimator: Any,
        thin_estimator: Any,
        *,
        thin_columns: Sequence[str] = (),
        segment_column: str = "thin_file",
        thin_training: str = "segment",
    ) -> None:
        self.thick_estimator = thick_estimator
        self.thin_estimator = thin_estimator
        self.thin_columns = thin_columns
        self.segment_column = segment_column
        self.thin_training = thin_training

    def _segments(self, X: pd.DataFrame) -> npt.NDArray[np.bool_]:  # noqa: N803
        if self.segment_column not in X.columns:
            raise ScoringInputError(
                f"column {self.segment_column!r} is not in the data", field="segment_column"
            )
        flags = X[self.segment_column]
        if flags.isna().any():
            raise ScoringInputError("the segment flag is missing on some rows", field=self.segment_column)
        return np.asarray(flags.astype(bool).to_numpy(), dtype=bool)

    def fit(self, X: pd.DataFrame, y: npt.ArrayLike) -> Self:  # noqa: N803
        if self.thin_training not in THIN_TRAINING:
            raise ScoringInputError(
                f"must be one of {list(THIN_TRAINING)}, got {self.thin_training!r}", field="thin_training"
            )
        target = np.asarray(y, dtype=np.int8)
        if target.shape[0] != X.shape[0]:
            raise ScoringInputError(f"{target.shape[0]} labels for {X.shape[0]} rows", field="target")
        thin = self._segments(X)
        thin_columns = tuple(self.thin_columns)
        if not thin_columns:
            raise ScoringInputError(
                "name the ecosystem columns the thin-file model may read", field="thin_columns"
            )
        missing = [name for name in thin_columns if name not in X.columns]
        if missing:
            raise ScoringInputError(f"columns not in the data: {missing}", field="thin_columns")
        if self.segment_column in thin_columns:
            raise ScoringInputError("the segment flag is not a feature", field="thin_columns")
        thick_columns = tuple(name for name in X.columns if name != self.segment_column)
        for name, rows in (
            ("thick-file", ~thin),
            ("thin-file", thin if self.thin_training == "segment" else None),
        ):
            chosen = target if rows is None else target[rows]
            if set(np.unique(chosen).tolist()) != {0, 1}:
                raise ScoringInputError(f"the {name} rows need both classes (0 good, 1 bad)", field="target")
        self.thick_model_ = clone(self.thick_estimator).fit(X.loc[~thin, list(thick_columns)], target[~thin])
        thin_rows = thin if self.thin_training == "segment" else np.ones(len(target), dtype=bool)
        self.thin_model_ = clone(self.thin_estimator).fit(
            X.loc[thin_rows, list(thin_columns)], target[thin_rows]
        )
        self.thick_columns_ = thick_columns
        self.thin_columns_ = thin_columns
        self.rows_ = {"thick_file": int((~thin).sum()), "thin_file": int(thin_rows.sum())}
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X: pd.DataFrame) -> npt.NDArray[np.float64]:  # noqa: N803
        thin = self._segments(X)
        pd_bad = np.empty(len(X), dtype=np.float64)
        if (~thin).any():
            pd_bad[~thin] = self.thick_model_.predict_proba(X.loc[~thin, list(self.thick_columns_)])[:, 1]
        if thin.any():
            pd_bad[thin] = self.thin_model_.predict_proba(X.loc[thin, list(self.thin_columns_)])[:, 1]
        return np.column_stack([1.0 - pd_bad, pd_bad])

    def predict(self, X: pd.DataFrame) -> npt.NDArray[np.int64]:  # noqa: N803
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(np.int64)


def application_data_baseline(random_state: int = 0) -> Pipeline:
    """The baseline's model: a logistic regression on application data alone (median-imputed, scaled)."""
    return make_pipeline(
        SimpleImputer(strategy="median"),
        StandardScaler(),
        LogisticRegression(max_iter=1_000, random_state=random_state),
    )


@dataclass(frozen=True, slots=True)
class ApprovalComparison:
    """Approvals of the baseline and of the model at the baseline's realised bad rate."""

    applicants: int
    baseline_approvals: int
    baseline_bad_rate: float
    model_approvals: int
    model_bad_rate: float

    @property
    def gain(self) -> float:
        """Model approvals over baseline approvals, minus one (0.30 is 30 % more approvals)."""
        return self.model_approvals / self.baseline_approvals - 1.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "applicants": self.applicants,
            "baseline_approvals": self.baseline_approvals,
            "baseline_bad_rate": self.baseline_bad_rate,
            "model_approvals": self.model_approvals,
            "model_bad_rate": self.model_bad_rate,
            "gain": self.gain,
        }


def approvals_at_equal_bad_rate(
    y: npt.ArrayLike,
    model_pd: npt.ArrayLike,
    baseline_pd: npt.ArrayLike,
    *,
    baseline_approval_share: float,
) -> ApprovalComparison:
    """See the module docstring. Ties in a PD are broken by row order (stable sort), the same for both."""
    labels = np.asarray(y, dtype=np.float64)
    model = np.asarray(model_pd, dtype=np.float64)
    baseline = np.asarray(baseline_pd, dtype=np.float64)
    if not labels.shape == model.shape == baseline.shape or labels.ndim != 1 or labels.size == 0:
        raise ScoringInputError("y, model_pd and baseline_pd need the same non-zero length", field="y")
    if labels.size > bounds.scoring_batch_rows_max:
        raise ScoringInputError(
            f"over scoring_batch_rows_max={bounds.scoring_batch_rows_max} rows", field="y"
        )
    if not np.isin(labels, (0.0, 1.0)).all():
        raise ScoringInputError("labels must be 0 (good) or 1 (bad)", field="y")
    if not 0.0 < baseline_approval_share <= 1.0:
        raise ScoringInputError("must be in (0, 1]", field="baseline_approval_share")
    count = max(1, round(baseline_approval_share * labels.size))
    baseline_order = np.argsort(baseline, kind="mergesort")
    baseline_bad = float(labels[baseline_order[:count]].mean())
    model_order = np.argsort(model, kind="mergesort")
    cumulative = np.cumsum(labels[model_order]) / np.arange(1, labels.size + 1)
    within = np.flatnonzero(cumulative <= baseline_bad + 1e-12)
    approvals = int(within[-1] + 1) if within.size else 0
    return ApprovalComparison(
        applicants=int(labels.size),
        baseline_approvals=count,
        baseline_bad_rate=baseline_bad,
        model_approvals=approvals,
        model_bad_rate=float(cumulative[approvals - 1]) if approvals else 0.0,
    )
