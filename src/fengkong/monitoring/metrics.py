"""Discrimination, calibration and stability metrics for credit models, in numpy.

``y`` is 1 for bad, 0 for good; ``pd_bad`` (or ``score``) grows with risk. Each function refuses inputs it
cannot judge (empty, mismatched lengths, one class only, probabilities outside [0, 1]) with
:class:`MetricInputError` naming the argument.

* :func:`auc` — area under the ROC curve by average ranks (ties count half), as scikit-learn's
  ``roc_auc_score``; :func:`gini` is ``2·AUC − 1``;
* :func:`ks` — the largest gap between the bad and good score distributions, as SciPy's two-sample KS;
* :func:`brier` — mean squared error of the PD;
* :func:`calibration_curve` — mean PD and observed bad rate per bin (``uniform`` or ``quantile`` bins, as
  scikit-learn's ``calibration_curve``), and :func:`ece`, the row-weighted mean gap between the two;
* :func:`psi` — population stability index of a score or feature between an expected (training) and an
  actual sample, over bins cut at the expected sample's quantiles.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from fengkong.errors import InputError

PSI_EPSILON: Final = 1e-4  # share floor in an empty PSI bin, so the log stays finite


class MetricInputError(InputError):
    """An input a metric cannot judge; ``field`` names the argument."""


def _pair(
    y: npt.ArrayLike, score: npt.ArrayLike, *, score_name: str = "score"
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.float64]]:
    labels = np.asarray(y)
    values = np.asarray(score, dtype=np.float64)
    if labels.ndim != 1 or values.ndim != 1 or labels.shape != values.shape:
        raise MetricInputError(f"y {labels.shape} and {score_name} {values.shape} differ", field=score_name)
    if labels.size == 0:
        raise MetricInputError("no rows", field="y")
    if not np.isin(labels, (0, 1)).all():
        raise MetricInputError("labels must be 0 (good) or 1 (bad)", field="y")
    if not np.isfinite(values).all():
        raise MetricInputError("holds NaN or infinity", field=score_name)
    return labels.astype(np.int8), values


def _both_classes(labels: npt.NDArray[np.int8]) -> tuple[int, int]:
    bads = int(labels.sum())
    goods = int(labels.size - bads)
    if bads == 0 or goods == 0:
        raise MetricInputError("needs both goods and bads", field="y")
    return bads, goods


def _average_ranks(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    first = np.r_[True, sorted_values[1:] != sorted_values[:-1]]
    group = np.cumsum(first) - 1
    starts = np.flatnonzero(first)
    ends = np.r_[starts[1:], values.size]
    mean_rank = (starts + ends + 1) / 2.0  # 1-based average of positions start+1..end
    ranks = np.empty(values.size, dtype=np.float64)
    ranks[order] = mean_rank[group]
    return ranks


def auc(y: npt.ArrayLike, score: npt.ArrayLike) -> float:
    labels, values = _pair(y, score)
    bads, goods = _both_classes(labels)
    rank_sum = float(_average_ranks(values)[labels == 1].sum())
    return (rank_sum - bads * (bads + 1) / 2.0) / (bads * goods)


def gini(y: npt.ArrayLike, score: npt.ArrayLike) -> float:
    return 2.0 * auc(y, score) - 1.0


def ks(y: npt.ArrayLike, score: npt.ArrayLike) -> float:
    labels, values = _pair(y, score)
    bads, goods = _both_classes(labels)
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    sorted_labels = labels[order]
    cum_bad = np.cumsum(sorted_labels) / bads
    cum_good = np.cumsum(1 - sorted_labels) / goods
    last_of_value = np.r_[sorted_values[1:] != sorted_values[:-1], True]  # evaluate between distinct values
    return float(np.max(np.abs(cum_bad - cum_good)[last_of_value]))


def _probabilities(
    y: npt.ArrayLike, pd_bad: npt.ArrayLike
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.float64]]:
    labels, values = _pair(y, pd_bad, score_name="pd_bad")
    if values.min() < 0.0 or values.max() > 1.0:
        raise MetricInputError("probabilities must lie in [0, 1]", field="pd_bad")
    return labels, values


def brier(y: npt.ArrayLike, pd_bad: npt.ArrayLike) -> float:
    labels, values = _probabilities(y, pd_bad)
    return float(np.mean((values - labels) ** 2))


@dataclass(frozen=True, slots=True)
class CalibrationCurve:
    """Per non-empty bin: the mean predicted PD, the observed bad rate and the row count."""

    predicted: npt.NDArray[np.float64]
    observed: npt.NDArray[np.float64]
    count: npt.NDArray[np.int64]


def calibration_curve(
    y: npt.ArrayLike, pd_bad: npt.ArrayLike, bins: int = 10, strategy: str = "uniform"
) -> CalibrationCurve:
    labels, values = _probabilities(y, pd_bad)
    if not 1 <= bins <= 1_000:
        raise MetricInputError("must be between 1 and 1000", field="bins")
    if strategy == "uniform":
        edges = np.linspace(0.0, 1.0, bins + 1)
    elif strategy == "quantile":
        edges = np.percentile(values, np.linspace(0, 100, bins + 1))
    else:
        raise MetricInputError(f"must be 'uniform' or 'quantile', got {strategy!r}", field="strategy")
    index = np.searchsorted(edges[1:-1], values, side="right")
    count = np.bincount(index, minlength=len(edges) - 1)
    total_pd = np.bincount(index, weights=values, minlength=len(edges) - 1)
    total_bad = np.bincount(index, weights=labels.astype(np.float64), minlength=len(edges) - 1)
    present = count > 0
    return CalibrationCurve(
        predicted=total_pd[present] / count[present],
        observed=total_bad[present] / count[present],
        count=count[present].astype(np.int64),
    )


def ece(y: npt.ArrayLike, pd_bad: npt.ArrayLike, bins: int = 10, strategy: str = "quantile") -> float:
    """Expected calibration error: Σ (rows in bin / rows) · |observed − predicted|."""
    curve = calibration_curve(y, pd_bad, bins=bins, strategy=strategy)
    weights = curve.count / curve.count.sum()
    return float(np.sum(weights * np.abs(curve.observed - curve.predicted)))


def psi(expected: npt.ArrayLike, actual: npt.ArrayLike, bins: int = 10) -> float:
    """Σ (a − e)·ln(a / e) over bins cut at the expected sample's quantiles (shares floored at 1e-4)."""
    base = np.asarray(expected, dtype=np.float64)
    current = np.asarray(actual, dtype=np.float64)
    for name, values in (("expected", base), ("actual", current)):
        if values.ndim != 1 or values.size == 0:
            raise MetricInputError("must be a non-empty 1-D sample", field=name)
        if not np.isfinite(values).all():
            raise MetricInputError("holds NaN or infinity", field=name)
    if not 2 <= bins <= 1_000:
        raise MetricInputError("must be between 2 and 1000", field="bins")
    edges = np.unique(np.quantile(base, np.linspace(0, 1, bins + 1))[1:-1])
    e = np.bincount(np.searchsorted(edges, base, side="right"), minlength=edges.size + 1) / base.size
    a = np.bincount(np.searchsorted(edges, current, side="right"), minlength=edges.size + 1) / current.size
    e = np.maximum(e, PSI_EPSILON)
    a = np.maximum(a, PSI_EPSILON)
    return float(np.sum((a - e) * np.log(a / e)))
