"""Population stability of a score and of every feature: PSI with its bin table and a level.

``PSI = Σ (a − e) · ln(a / e)`` over bins cut at the expected (training) sample's quantiles, shares floored
at :data:`fengkong.monitoring.metrics.PSI_EPSILON`. Unlike :func:`fengkong.monitoring.metrics.psi`, missing
values are welcome here: they form a bin of their own, so a feature that starts arriving empty shows as a
shift instead of an error. Levels follow the industry's rule of thumb: below 0.10 *stable*, 0.10–0.25
*watch*, 0.25 and above *shift*.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from fengkong.monitoring.metrics import PSI_EPSILON, MetricInputError

PSI_WATCH: Final = 0.10
PSI_SHIFT: Final = 0.25


def level(value: float) -> str:
    """``stable``, ``watch`` or ``shift``."""
    if value >= PSI_SHIFT:
        return "shift"
    if value >= PSI_WATCH:
        return "watch"
    return "stable"


@dataclass(frozen=True, slots=True)
class Stability:
    """PSI of one variable with its bins: upper edges (the last is +inf, then the missing bin)."""

    name: str
    psi: float
    edges: tuple[float, ...]
    expected_share: tuple[float, ...]
    actual_share: tuple[float, ...]

    @property
    def level(self) -> str:
        return level(self.psi)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "psi": self.psi,
            "level": self.level,
            "bins": [
                {"upper": None if not np.isfinite(edge) else edge, "expected": e, "actual": a}
                for edge, e, a in zip(self.edges, self.expected_share, self.actual_share, strict=True)
            ],
        }


def stability(
    expected: npt.ArrayLike, actual: npt.ArrayLike, *, bins: int = 10, name: str = "score"
) -> Stability:
    """PSI of ``actual`` against ``expected`` (NaN is a bin of its own; infinities are refused)."""
    base = np.asarray(expected, dtype=np.float64)
    current = np.asarray(actual, dtype=np.float64)
    for label, values in (("expected", base), ("actual", current)):
        if values.ndim != 1 or values.size == 0:
            raise MetricInputError("must be a non-empty 1-D sample", field=label)
        if np.isinf(values).any():
            raise MetricInputError("holds infinity", field=label)
    if not 2 <= bins <= 1_000:
        raise MetricInputError("must be between 2 and 1000", field="bins")
    present = base[~np.isnan(base)]
    inner = (
        np.unique(np.quantile(present, np.linspace(0, 1, bins + 1))[1:-1]) if present.size else np.empty(0)
    )
    slots = inner.size + 2  # the regular bins, then the missing bin

    def shares(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        index = np.where(
            np.isnan(values), slots - 1, np.searchsorted(inner, np.nan_to_num(values), side="right")
        )
        return np.bincount(index, minlength=slots) / values.size

    e, a = shares(base), shares(current)
    e_floor, a_floor = np.maximum(e, PSI_EPSILON), np.maximum(a, PSI_EPSILON)
    value = float(np.sum((a_floor - e_floor) * np.log(a_floor / e_floor)))
    edges = (*(float(v) for v in inner), float("inf"), float("nan"))
    return Stability(
        name=name,
        psi=value,
        edges=edges,
        expected_share=tuple(float(v) for v in e),
        actual_share=tuple(float(v) for v in a),
    )


def feature_stability(
    expected: pd.DataFrame, actual: pd.DataFrame, columns: Iterable[str], *, bins: int = 10
) -> list[Stability]:
    """PSI of each numeric column (categories are coded by the expected sample's sorted values; an unseen
    category counts as missing), most shifted first."""
    out = []
    for column in columns:
        if column not in expected.columns or column not in actual.columns:
            raise MetricInputError(f"column {column!r} is missing from a sample", field="columns")
        before, after = expected[column], actual[column]
        if pd.api.types.is_numeric_dtype(before.dtype) and pd.api.types.is_numeric_dtype(after.dtype):
            e = before.to_numpy(dtype=np.float64, na_value=np.nan)
            a = after.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            categories = pd.Index(sorted(before.dropna().astype(str).unique()))
            e = _codes(before, categories)
            a = _codes(after, categories)
        out.append(stability(e, a, bins=bins, name=str(column)))
    return sorted(out, key=lambda item: (-item.psi, item.name))


def _codes(series: pd.Series, categories: pd.Index) -> npt.NDArray[np.float64]:
    codes = categories.get_indexer(pd.Index(series.astype(str).to_numpy(dtype=object)))
    values = codes.astype(np.float64)
    values[(codes < 0) | series.isna().to_numpy()] = np.nan
    return values
