"""The scorecard as a reviewable bin table with points, and the pure numpy scorer used when serving.

The table is what a credit officer reviews and what serving loads: JSON (``to_json``/``from_json``), a
flat CSV (one row per bin) and a readable HTML page. Scoring needs only this table and numpy.

How a value finds its bin (the same as optbinning's transform, which the tests check point for point):

* numeric: bins are ``[lower, upper)``; ``NaN`` takes the *Missing* bin's points;
* categorical: each bin lists its categories; a missing value takes the Missing bin's points; **a category
  never seen in training takes ``unknown_points``** — the points of weight of evidence 0 (the average
  applicant), as optbinning does, and is reported by :meth:`ScorecardTable.unseen_categories`.

Reason codes: for each applicant and characteristic, the points lost against the characteristic's best bin
(among bins that held training rows); the characteristics that cost the most come first, ties by name
order in the table, and characteristics that cost nothing are not reasons.
"""

from __future__ import annotations

import html
import io
import json
import math
from dataclasses import dataclass
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from fengkong import bounds
from fengkong.scoring.data import ScoringInputError, coerce_features

FORMAT: Final = "fengkong.scorecard/1"


@dataclass(frozen=True, slots=True)
class Bin:
    label: str
    lower: float | None  # numeric bins: [lower, upper); None is unbounded
    upper: float | None
    categories: tuple[str, ...]  # categorical bins: the categories in this bin
    count: int
    event_rate: float
    woe: float
    points: int


@dataclass(frozen=True, slots=True)
class Characteristic:
    name: str
    kind: Literal["numeric", "categorical"]
    bins: tuple[Bin, ...]
    missing_points: int
    missing_count: int
    unknown_points: int  # an unseen category (weight of evidence 0)
    information_value: float
    coefficient: float

    @property
    def best_points(self) -> int:
        seen = [b.points for b in self.bins if b.count > 0]
        if self.missing_count > 0:
            seen.append(self.missing_points)
        return max(seen) if seen else max(b.points for b in self.bins)

    @property
    def splits(self) -> npt.NDArray[np.float64]:
        return np.array([b.lower for b in self.bins[1:]], dtype=np.float64)


@dataclass(frozen=True, slots=True)
class ReasonCodes:
    """Per row, the characteristics that cost the most points (column index into ``names``), ranked."""

    names: tuple[str, ...]
    index: npt.NDArray[np.int64]  # (rows, k); -1 where fewer than k characteristics cost points
    points_lost: npt.NDArray[np.int64]  # (rows, k); 0 where index is -1

    def for_row(self, row: int) -> list[tuple[str, int]]:
        return [
            (self.names[i], int(lost))
            for i, lost in zip(self.index[row], self.points_lost[row], strict=True)
            if i >= 0
        ]


def top_reasons(
    cost: npt.NDArray[Any], names: tuple[str, ...], count: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[Any]]:
    """The ``count`` largest positive costs per row, ranked (equal costs keep column order).

    Worked through in row chunks that stay in cache; integer costs use a partial sort on a unique key.
    """
    if not 1 <= count <= bounds.scoring_reason_codes_max:
        raise ScoringInputError(
            f"must be between 1 and scoring_reason_codes_max={bounds.scoring_reason_codes_max}",
            field="reasons",
        )
    rows, columns = cost.shape
    k = min(count, columns)
    index = np.full((rows, count), -1, dtype=np.int64)
    lost = np.zeros((rows, count), dtype=cost.dtype)
    step = bounds.scoring_reason_chunk_rows
    tie_break = (columns - 1 - np.arange(columns)).astype(np.int64)
    for start in range(0, rows, step):
        chunk = np.ascontiguousarray(cost[start : start + step])
        if np.issubdtype(chunk.dtype, np.integer) and k < columns:
            key = chunk.astype(np.int64) * columns + tie_break  # unique per cell: cost, then earlier column
            top = np.argpartition(-key, k - 1, axis=1)[:, :k]
            order = np.take_along_axis(top, np.argsort(-np.take_along_axis(key, top, axis=1), axis=1), axis=1)
        else:
            order = np.argsort(-chunk, axis=1, kind="stable")[:, :k]
        taken = np.take_along_axis(chunk, order, axis=1)
        positive = taken > 0
        index[start : start + step, :k] = np.where(positive, order, -1)
        lost[start : start + step, :k] = np.where(positive, taken, 0)
    return index, lost


@dataclass(frozen=True, slots=True)
class ScorecardTable:
    characteristics: tuple[Characteristic, ...]
    pdo: float
    base_odds: float
    base_points: float
    factor: float  # pdo / ln 2
    offset: float  # base_points - factor * ln(base_odds)
    intercept: float

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.characteristics)

    @property
    def numeric(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.characteristics if c.kind == "numeric")

    @property
    def categorical(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.characteristics if c.kind == "categorical")

    # -- scoring ------------------------------------------------------------------------------------
    def points_matrix(self, X: pd.DataFrame) -> npt.NDArray[np.int64]:  # noqa: N803
        """Points per row and characteristic, shape (rows, characteristics)."""
        if X.shape[0] > bounds.scoring_batch_rows_max:
            raise ScoringInputError(
                f"{X.shape[0]} rows, over scoring_batch_rows_max={bounds.scoring_batch_rows_max}",
                field="data",
            )
        frame = coerce_features(X, self.numeric, self.categorical)
        out = np.empty((frame.shape[0], len(self.characteristics)), dtype=np.int64, order="F")
        for column, characteristic in enumerate(self.characteristics):
            out[:, column] = _bin_points(characteristic, frame[characteristic.name])
        return out

    def score(self, X: pd.DataFrame) -> npt.NDArray[np.int64]:  # noqa: N803
        result: npt.NDArray[np.int64] = self.points_matrix(X).sum(axis=1)
        return result

    def probability_of_default(self, score: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """PD implied by the points: score = offset + factor · ln(good:bad odds)."""
        log_odds_good = (np.asarray(score, dtype=np.float64) - self.offset) / self.factor
        result: npt.NDArray[np.float64] = 1.0 / (1.0 + np.exp(log_odds_good))
        return result

    def reasons(self, X: pd.DataFrame, count: int = 4) -> ReasonCodes:  # noqa: N803
        return self.reasons_from_points(self.points_matrix(X), count)

    def reasons_from_points(self, points: npt.NDArray[np.int64], count: int = 4) -> ReasonCodes:
        best = np.array([c.best_points for c in self.characteristics], dtype=np.int64)
        index, lost = top_reasons(best[np.newaxis, :] - points, self.names, count)
        return ReasonCodes(names=self.names, index=index, points_lost=lost.astype(np.int64))

    def unseen_categories(self, X: pd.DataFrame) -> dict[str, list[str]]:  # noqa: N803
        """Categories in ``X`` that training never saw, per characteristic (they score as WoE 0)."""
        frame = coerce_features(X, self.numeric, self.categorical)
        found: dict[str, list[str]] = {}
        for c in self.characteristics:
            if c.kind != "categorical":
                continue
            known = {category for b in c.bins for category in b.categories}
            values = {v for v in frame[c.name].dropna().unique() if v not in known}
            if values:
                found[c.name] = sorted(values)
        return found

    def monotone_directions(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for c in self.characteristics:
            if c.kind != "numeric" or len(c.bins) < 2:
                continue
            steps = np.diff([b.event_rate for b in c.bins])
            out[c.name] = 1 if np.all(steps >= 0) else -1 if np.all(steps <= 0) else 0
        return out

    # -- export -------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "pdo": self.pdo,
            "base_odds": self.base_odds,
            "base_points": self.base_points,
            "factor": self.factor,
            "offset": self.offset,
            "intercept": self.intercept,
            "characteristics": [
                {
                    "name": c.name,
                    "kind": c.kind,
                    "information_value": c.information_value,
                    "coefficient": c.coefficient,
                    "missing_points": c.missing_points,
                    "missing_count": c.missing_count,
                    "unknown_points": c.unknown_points,
                    "bins": [
                        {
                            "label": b.label,
                            "lower": b.lower,
                            "upper": b.upper,
                            "categories": list(b.categories),
                            "count": b.count,
                            "event_rate": b.event_rate,
                            "woe": b.woe,
                            "points": b.points,
                        }
                        for b in c.bins
                    ],
                }
                for c in self.characteristics
            ],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> ScorecardTable:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ScoringInputError(f"not JSON: {error}", field="scorecard") from error
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: Any) -> ScorecardTable:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ScoringInputError(f"not a {FORMAT} document", field="scorecard")
        try:
            characteristics = tuple(
                Characteristic(
                    name=str(c["name"]),
                    kind=_kind(c["kind"]),
                    information_value=float(c["information_value"]),
                    coefficient=float(c["coefficient"]),
                    missing_points=int(c["missing_points"]),
                    missing_count=int(c["missing_count"]),
                    unknown_points=int(c["unknown_points"]),
                    bins=tuple(
                        Bin(
                            label=str(b["label"]),
                            lower=None if b["lower"] is None else float(b["lower"]),
                            upper=None if b["upper"] is None else float(b["upper"]),
                            categories=tuple(str(x) for x in b["categories"]),
                            count=int(b["count"]),
                            event_rate=float(b["event_rate"]),
                            woe=float(b["woe"]),
                            points=int(b["points"]),
                        )
                        for b in c["bins"]
                    ),
                )
                for c in data["characteristics"]
            )
            table = cls(
                characteristics=characteristics,
                pdo=float(data["pdo"]),
                base_odds=float(data["base_odds"]),
                base_points=float(data["base_points"]),
                factor=float(data["factor"]),
                offset=float(data["offset"]),
                intercept=float(data["intercept"]),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ScoringInputError(f"malformed scorecard: {error!r}", field="scorecard") from error
        for c in table.characteristics:
            if not c.bins or len(c.bins) > bounds.scoring_bins_per_feature_max + 1:
                raise ScoringInputError(f"{len(c.bins)} bins", field=c.name)
            if c.kind == "numeric" and np.any(np.diff(c.splits) <= 0):
                raise ScoringInputError("bin edges are not increasing", field=c.name)
        if not math.isfinite(table.factor) or table.factor <= 0:
            raise ScoringInputError("factor must be positive", field="factor")
        return table

    def to_csv(self) -> str:
        rows = [
            {
                "characteristic": c.name,
                "kind": c.kind,
                "bin": b.label,
                "count": b.count,
                "event_rate": b.event_rate,
                "woe": b.woe,
                "points": b.points,
                "information_value": c.information_value,
            }
            for c in self.characteristics
            for b in (
                *c.bins,
                Bin("Missing", None, None, (), c.missing_count, math.nan, math.nan, c.missing_points),
            )
        ]
        buffer = io.StringIO()
        pd.DataFrame(rows).to_csv(buffer, index=False)
        return buffer.getvalue()

    def to_html(self, title: str = "Scorecard") -> str:
        esc = html.escape
        parts = [
            "<!doctype html><html><head><meta charset='utf-8'>",
            f"<title>{esc(title)}</title><style>body{{font-family:sans-serif;margin:2em}}"
            "table{border-collapse:collapse;margin-bottom:1.5em}td,th{border:1px solid #bbb;"
            "padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}</style>",
            f"</head><body><h1>{esc(title)}</h1>",
            f"<p>{self.base_points:g} points at good:bad odds {self.base_odds:g}:1; every {self.pdo:g} "
            f"points double the odds. A characteristic's best bin is marked ★.</p>",
        ]
        for c in sorted(self.characteristics, key=lambda c: -c.information_value):
            best = c.best_points
            parts.append(
                f"<h2>{esc(c.name)}</h2><p>{c.kind}, information value {c.information_value:.3f}, "
                f"coefficient {c.coefficient:.3f}; unseen category: {c.unknown_points} points</p>"
                "<table><tr><th>bin</th><th>count</th><th>bad rate</th><th>WoE</th><th>points</th></tr>"
            )
            for b in c.bins:
                mark = " ★" if b.points == best and b.count > 0 else ""
                parts.append(
                    f"<tr><td>{esc(b.label)}</td><td>{b.count}</td><td>{b.event_rate:.3f}</td>"
                    f"<td>{b.woe:.3f}</td><td>{b.points}{mark}</td></tr>"
                )
            parts.append(
                f"<tr><td>Missing</td><td>{c.missing_count}</td><td></td><td></td>"
                f"<td>{c.missing_points}</td></tr></table>"
            )
        parts.append("</body></html>\n")
        return "".join(parts)


def _kind(value: object) -> Literal["numeric", "categorical"]:
    if value == "numeric":
        return "numeric"
    if value == "categorical":
        return "categorical"
    raise ScoringInputError(f"unknown kind {value!r}", field="kind")


def _bin_points(c: Characteristic, column: pd.Series) -> npt.NDArray[np.int64]:
    points = np.array([b.points for b in c.bins], dtype=np.int64)
    if c.kind == "numeric":
        values = column.to_numpy(dtype=np.float64)
        index = np.searchsorted(c.splits, values, side="right")
        result = points[np.minimum(index, len(points) - 1)]
        return np.where(np.isnan(values), c.missing_points, result)
    categories = [category for b in c.bins for category in b.categories]
    lookup = np.array(
        [points[i] for i, b in enumerate(c.bins) for _ in b.categories] + [c.unknown_points], dtype=np.int64
    )
    codes = (
        pd.Index(categories, dtype=object)
        .get_indexer(pd.Index(column.to_numpy(dtype=object), dtype=object))
        .astype(np.int64)
    )
    result = lookup[codes]  # code -1 (missing or unseen) picks the last entry, unknown_points
    missing = column.isna().to_numpy()
    return np.where(missing, c.missing_points, result)
