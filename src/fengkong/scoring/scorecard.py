"""The WoE logistic scorecard, built on optbinning, and its reviewable bin table.

Fitting (:class:`ScorecardModel`): optimal binning per characteristic (numeric bins monotone in the event
rate, ascending or descending as the data says: ``monotonic_trend="auto_asc_desc"``), weight of evidence
and information value, selection (IV at least ``iv_min``; of two characteristics whose WoE correlate above
``correlation_max`` the one with the higher IV stays), a logistic regression on the WoE, and points scaled
so that ``base_points`` stand for good:bad odds of ``base_odds`` and every ``pdo`` points double the odds.
Points are rounded to whole numbers (optbinning's ``rounding=True``), so the score is an integer sum.

The fitted model exports a :class:`~fengkong.scoring.table.ScorecardTable` — the JSON bin table with
points that serving uses (:mod:`fengkong.scoring.table`); optbinning is needed to fit, not to score.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Self

import numpy as np
import numpy.typing as npt
import pandas as pd
from optbinning import BinningProcess, Scorecard
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression

from fengkong import bounds
from fengkong.scoring.data import ScoringInputError, coerce_features, column_kinds
from fengkong.scoring.table import Bin, Characteristic, ScorecardTable

PARAMETER_RULES: dict[str, tuple[float, float]] = {
    # name: (lowest allowed, highest allowed); the messages and the negative tests come from this table
    "pdo": (1.0, 1_000.0),
    "base_odds": (1e-6, 1e6),
    "base_points": (0.0, 100_000.0),
    "iv_min": (0.0, 10.0),
    "correlation_max": (0.0, 1.0),
    "min_bin_size": (0.001, 0.5),
    "max_n_bins": (2, bounds.scoring_bins_per_feature_max),
    "regularisation_c": (1e-6, 1e6),
}


@contextmanager
def quiet_optbinning() -> Iterator[None]:
    """optbinning 1.0.0 trips pandas 3 deprecation warnings inside its own tables; they are not ours."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module=r"optbinning(\..*)?")
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"pandas(\..*)?")
        warnings.filterwarnings("ignore", message=r".*inplace keyword.*")
        warnings.filterwarnings("ignore", message=r".*incompatible dtype.*")
        yield


def check_parameters(model: BaseEstimator) -> None:
    """Refuse parameters outside :data:`PARAMETER_RULES`, naming the parameter and its allowed range."""
    for name, (low, high) in PARAMETER_RULES.items():
        value = getattr(model, name, None)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ScoringInputError(f"must be a finite number, got {value!r}", field=name)
        if not low <= value <= high:
            raise ScoringInputError(f"must be between {low} and {high}, got {value!r}", field=name)


def _binning_process(numeric: tuple[str, ...], categorical: tuple[str, ...], model: ScorecardModel) -> Any:
    names = [*numeric, *categorical]
    params: dict[str, dict[str, object]] = {name: {"monotonic_trend": "auto_asc_desc"} for name in numeric}
    return BinningProcess(
        names,
        categorical_variables=list(categorical),
        max_n_bins=int(model.max_n_bins),
        min_bin_size=float(model.min_bin_size),
        binning_fit_params=params,
        n_jobs=1,
    )


def _correlated_out(
    woe: pd.DataFrame, iv: dict[str, float], correlation_max: float
) -> tuple[list[str], list[tuple[str, str]]]:
    """Greedy by IV: keep a characteristic unless its WoE correlates above the bound with one kept."""
    ordered = sorted(iv, key=lambda name: (-iv[name], name))
    values = woe[ordered].to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.corrcoef(values, rowvar=False) if len(ordered) > 1 else np.ones((1, 1))
    kept: list[int] = []
    dropped: list[tuple[str, str]] = []
    for index, name in enumerate(ordered):
        clash = [k for k in kept if abs(float(np.nan_to_num(corr[index, k]))) > correlation_max]
        if clash:
            dropped.append((name, f"WoE correlates {corr[index, clash[0]]:+.2f} with {ordered[clash[0]]}"))
        else:
            kept.append(index)
    return [ordered[k] for k in kept], dropped


def _trend(optb: Any) -> int:
    """The direction of a fitted numeric binning: +1 bad rate ascending, −1 descending, 0 neither."""
    table = optb.binning_table.build()
    rates = table["Event rate"].to_numpy(dtype=np.float64)[: len(optb.splits) + 1]
    rates = rates[np.isfinite(rates)]
    if rates.size < 2:
        return 0
    steps = np.diff(rates)
    if np.all(steps >= 0) and np.any(steps > 0):
        return 1
    if np.all(steps <= 0) and np.any(steps < 0):
        return -1
    return 0


class ScorecardModel(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """A monotone-binned WoE logistic scorecard with points (scikit-learn estimator contract).

    ``fit(X, y)`` takes a frame of characteristics and ``y`` with 1 = bad. Learned state: ``table_`` (the
    :class:`ScorecardTable`), ``scorecard_`` (optbinning's fitted ``Scorecard``, the reference the JSON
    scorer is tested against), ``numeric_``, ``categorical_``, ``dropped_`` (column, reason),
    ``information_value_``, ``monotone_trends_`` and ``classes_``.
    """

    def __init__(
        self,
        *,
        pdo: float = 20.0,
        base_odds: float = 50.0,
        base_points: float = 600.0,
        iv_min: float = 0.02,
        correlation_max: float = 0.7,
        min_bin_size: float = 0.05,
        max_n_bins: int = 10,
        regularisation_c: float = 1.0,
        random_state: int | None = 0,
    ) -> None:
        self.pdo = pdo
        self.base_odds = base_odds
        self.base_points = base_points
        self.iv_min = iv_min
        self.correlation_max = correlation_max
        self.min_bin_size = min_bin_size
        self.max_n_bins = max_n_bins
        self.regularisation_c = regularisation_c
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, y: npt.ArrayLike) -> Self:  # noqa: N803 (scikit-learn's names)
        check_parameters(self)
        target = np.asarray(y, dtype=np.int8)
        if target.shape[0] != X.shape[0]:
            raise ScoringInputError(f"{target.shape[0]} labels for {X.shape[0]} rows", field="target")
        if set(np.unique(target).tolist()) != {0, 1}:
            raise ScoringInputError("the target needs both classes (0 good, 1 bad)", field="target")
        numeric, categorical, dropped = column_kinds(X)
        frame = coerce_features(X, numeric, categorical)
        with quiet_optbinning():
            screen = _binning_process(numeric, categorical, self).fit(frame, target)
            summary = screen.summary()
            iv = {str(row.name): float(row.iv) for row in summary.itertuples()}
            low_iv = [name for name in iv if iv[name] < self.iv_min]
            dropped_all = [*dropped, *((name, f"IV {iv[name]:.4f} below iv_min") for name in low_iv)]
            candidates = {name: value for name, value in iv.items() if value >= self.iv_min}
            if not candidates:
                best = max(iv, key=lambda name: iv[name])
                candidates = {best: iv[best]}  # keep the strongest so that a model exists
                dropped_all = [item for item in dropped_all if item[0] != best]
            woe = screen.transform(frame, metric="woe")
            selected, correlated = _correlated_out(woe, candidates, float(self.correlation_max))
            dropped_all.extend(correlated)
            keep_numeric = tuple(name for name in numeric if name in selected)
            keep_categorical = tuple(name for name in categorical if name in selected)
            scorecard = Scorecard(
                binning_process=_binning_process(keep_numeric, keep_categorical, self),
                estimator=LogisticRegression(
                    C=float(self.regularisation_c), max_iter=1_000, random_state=self.random_state
                ),
                scaling_method="pdo_odds",
                scaling_method_params={
                    "pdo": float(self.pdo),
                    "odds": float(self.base_odds),
                    "scorecard_points": float(self.base_points),
                },
                rounding=True,
            )
            scorecard.fit(
                frame[[*keep_numeric, *keep_categorical]],
                target,
                metric_missing="empirical",
                metric_special="empirical",
            )
            self.table_ = self._table(scorecard, keep_numeric, keep_categorical, iv)
            self.monotone_trends_ = {name: _trend(screen.get_binned_variable(name)) for name in numeric}
        self.scorecard_ = scorecard
        self.numeric_ = keep_numeric
        self.categorical_ = keep_categorical
        self.dropped_ = tuple(dropped_all)
        self.information_value_ = iv
        self.classes_ = np.array([0, 1])
        return self

    def _table(
        self,
        scorecard: Any,
        numeric: tuple[str, ...],
        categorical: tuple[str, ...],
        iv: dict[str, float],
    ) -> ScorecardTable:
        detailed = scorecard.table(style="detailed")
        process = scorecard.binning_process_
        characteristics: list[Characteristic] = []
        for name in (*numeric, *categorical):
            rows = detailed[detailed["Variable"] == name]
            optb = process.get_binned_variable(name)
            is_numeric = name in numeric
            bins: list[Bin] = []
            regular = rows.iloc[:-2]
            for position, (_, row) in enumerate(regular.iterrows()):
                if is_numeric:
                    splits = [float(s) for s in optb.splits]
                    lower = splits[position - 1] if position > 0 else None
                    upper = splits[position] if position < len(splits) else None
                    categories: tuple[str, ...] = ()
                else:
                    lower = upper = None
                    categories = tuple(str(c) for c in optb.splits[position])
                bins.append(
                    Bin(
                        label=str(row["Bin"]) if is_numeric else " | ".join(categories),
                        lower=lower,
                        upper=upper,
                        categories=categories,
                        count=int(row["Count"]),
                        event_rate=float(row["Event rate"]),
                        woe=float(row["WoE"]),
                        points=round(float(row["Points"])),
                    )
                )
            special, missing = rows.iloc[-2], rows.iloc[-1]
            characteristics.append(
                Characteristic(
                    name=name,
                    kind="numeric" if is_numeric else "categorical",
                    bins=tuple(bins),
                    missing_points=round(float(missing["Points"])),
                    missing_count=int(missing["Count"]),
                    unknown_points=round(float(special["Points"])),
                    information_value=iv[name],
                    coefficient=float(rows["Coefficient"].iloc[0]),
                )
            )
        factor = float(self.pdo) / math.log(2.0)
        offset = float(self.base_points) - factor * math.log(float(self.base_odds))
        return ScorecardTable(
            characteristics=tuple(characteristics),
            pdo=float(self.pdo),
            base_odds=float(self.base_odds),
            base_points=float(self.base_points),
            factor=factor,
            offset=offset,
            intercept=float(scorecard.estimator_.intercept_[0]),
        )

    def points(self, X: pd.DataFrame) -> npt.NDArray[np.int64]:  # noqa: N803
        """The integer score of each row, from the JSON bin table."""
        return self.table_.score(X)

    def predict_proba(self, X: pd.DataFrame) -> npt.NDArray[np.float64]:  # noqa: N803
        pd_bad = self.table_.probability_of_default(self.table_.score(X))
        return np.column_stack([1.0 - pd_bad, pd_bad])

    def predict(self, X: pd.DataFrame) -> npt.NDArray[np.int64]:  # noqa: N803
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(np.int64)

    def monotone_directions(self) -> dict[str, int]:
        """+1 where the bad rate rises with a numeric column, −1 where it falls, 0 otherwise.

        From the screening binning, so it covers every numeric column, selected into the scorecard or not.
        """
        return dict(self.monotone_trends_)
