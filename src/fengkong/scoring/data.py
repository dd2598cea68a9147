"""Labelled tables for the credit models: target checks, column kinds and the columns a model cannot use.

Documented handling of awkward columns (every case is named in :class:`PreparedData`, nothing is silent):

* a column with every value missing, or a single distinct value, is **dropped** and listed in ``dropped``
  with the reason — it carries no information about default;
* a column read as text whose values are almost all numbers (at least ``NUMERIC_SHARE_MIN``) is a numeric
  column with text in it: that is refused with :class:`ScoringInputError` naming the column and a bad value;
* any other text column is categorical;
* the target must exist, have no missing values, and hold both the bad value and at least one other value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from fengkong import bounds
from fengkong.errors import InputError

NUMERIC_SHARE_MIN: Final = 0.95  # a text column this numeric is a numeric column with typos in it
BAD_VALUE_LABEL: Final = 1


class ScoringInputError(InputError):
    """A table, column or model file that the credit models cannot use; ``field`` names the column."""


@dataclass(frozen=True, slots=True)
class PreparedData:
    """Features, the binary target (1 = bad) and the column decisions taken on the way."""

    features: pd.DataFrame
    target: npt.NDArray[np.int8]
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    dropped: tuple[tuple[str, str], ...]  # (column, reason)


def read_csv(path: Path, *, field: str = "data") -> pd.DataFrame:
    """Read a CSV into a frame, refusing missing, empty, oversized or unparsable files with the reason."""
    if not path.is_file():
        raise ScoringInputError(f"no such file: {path}", field=field)
    size = path.stat().st_size
    if size > bounds.scoring_csv_bytes_max:
        raise ScoringInputError(
            f"file is {size} bytes, over scoring_csv_bytes_max={bounds.scoring_csv_bytes_max}", field=field
        )
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise ScoringInputError(f"cannot read {path} as CSV: {error}", field=field) from error
    if frame.shape[0] == 0:
        raise ScoringInputError(f"{path} has no rows", field=field)
    return frame


def _parse_bad_value(series: pd.Series, bad_value: str) -> object:
    """The bad value in the target's own type: ``"1"`` matches an integer column's ``1``."""
    if pd.api.types.is_numeric_dtype(series.dtype):
        try:
            number = float(bad_value)
        except ValueError as error:
            raise ScoringInputError(
                f"bad value {bad_value!r} is not a number but the target column is numeric", field="bad_value"
            ) from error
        return number
    return bad_value


def binary_target(frame: pd.DataFrame, target: str, bad_value: str) -> npt.NDArray[np.int8]:
    """The target column as 1 (bad) / 0 (anything else), refusing a missing or single-class target."""
    if target not in frame.columns:
        raise ScoringInputError(f"column {target!r} is not in the data", field="target")
    column = frame[target]
    if column.isna().any():
        raise ScoringInputError(f"{int(column.isna().sum())} rows have no target value", field=target)
    wanted = _parse_bad_value(column, bad_value)
    values = column.to_numpy(dtype=float) if isinstance(wanted, float) else column.astype(str).to_numpy()
    is_bad = values == wanted
    bad_count = int(is_bad.sum())
    if bad_count == 0:
        seen = sorted({str(v) for v in column.unique()[:10]})
        raise ScoringInputError(f"no row has the bad value {bad_value!r} (values seen: {seen})", field=target)
    if bad_count == len(is_bad):
        raise ScoringInputError(f"every row has the bad value {bad_value!r}: one class only", field=target)
    result: npt.NDArray[np.int8] = np.asarray(is_bad, dtype=np.int8)
    return result


def _numeric_share(values: pd.Series) -> tuple[float, str | None]:
    present = values.dropna().astype(str)
    if present.empty:
        return 0.0, None
    parsed = pd.to_numeric(present, errors="coerce")
    share = float(parsed.notna().mean())
    bad = present[parsed.isna()]
    return share, (str(bad.iloc[0]) if not bad.empty else None)


def column_kinds(
    frame: pd.DataFrame,
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[tuple[str, str], ...]]:
    """Split columns into numeric and categorical, listing those dropped (all missing, constant)."""
    if frame.shape[1] > bounds.scoring_features_max:
        raise ScoringInputError(
            f"{frame.shape[1]} columns, over scoring_features_max={bounds.scoring_features_max}",
            field="data",
        )
    numeric: list[str] = []
    categorical: list[str] = []
    dropped: list[tuple[str, str]] = []
    for name in frame.columns:
        column = frame[name]
        key = str(name)
        if column.isna().all():
            dropped.append((key, "every value is missing"))
            continue
        if column.nunique(dropna=True) < 2 and not column.isna().any():
            dropped.append((key, "a single value in every row"))
            continue
        if pd.api.types.is_bool_dtype(column.dtype):
            categorical.append(key)
        elif pd.api.types.is_numeric_dtype(column.dtype):
            numeric.append(key)
        else:
            share, example = _numeric_share(column)
            if share >= NUMERIC_SHARE_MIN and example is not None:
                raise ScoringInputError(
                    f"numeric column holds text such as {example!r} ({(1 - share):.1%} of its values)",
                    field=key,
                )
            if share == 1.0:
                numeric.append(key)  # numbers stored as text: read as numbers
                continue
            if column.nunique(dropna=True) > bounds.scoring_categories_max:
                raise ScoringInputError(
                    f"{column.nunique()} distinct values, over scoring_categories_max="
                    f"{bounds.scoring_categories_max}",
                    field=key,
                )
            categorical.append(key)
    if not numeric and not categorical:
        raise ScoringInputError("no usable feature column (all dropped: " + repr(dropped) + ")", field="data")
    return tuple(numeric), tuple(categorical), tuple(dropped)


def prepare(frame: pd.DataFrame, target: str, bad_value: str) -> PreparedData:
    """Check the target and the columns of a labelled table and return the features the models may use."""
    y = binary_target(frame, target, bad_value)
    features = frame.drop(columns=[target])
    numeric, categorical, dropped = column_kinds(features)
    return PreparedData(
        features=coerce_features(features, numeric, categorical),
        target=y,
        numeric=numeric,
        categorical=categorical,
        dropped=dropped,
    )


def coerce_features(frame: pd.DataFrame, numeric: Sequence[str], categorical: Sequence[str]) -> pd.DataFrame:
    """The model's columns in the model's kinds: numbers as float64, categories as text (missing kept).

    A column the model needs but the table lacks, or text in a numeric column, is refused with the column.
    """
    missing = [name for name in (*numeric, *categorical) if name not in frame.columns]
    if missing:
        raise ScoringInputError(f"the data lacks the model's column(s) {missing}", field=missing[0])
    out: dict[str, pd.Series] = {}
    for name in numeric:
        column = frame[name]
        if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column.dtype):
            out[name] = column.astype(np.float64)
            continue
        parsed = pd.to_numeric(column.astype(object).where(column.notna(), np.nan), errors="coerce")
        bad = column[parsed.isna() & column.notna()]
        if not bad.empty:
            raise ScoringInputError(f"numeric column holds text such as {str(bad.iloc[0])!r}", field=name)
        out[name] = parsed.astype(np.float64)
    for name in categorical:
        column = frame[name]
        text = column.astype("str").to_numpy(dtype=object)
        text[column.isna().to_numpy()] = None
        out[name] = pd.Series(text, index=frame.index, dtype=object)
    return pd.DataFrame(out, index=frame.index)
