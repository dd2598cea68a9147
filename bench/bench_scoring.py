"""Credit models against open-source anchors on real data (same folds), and their speed.

    OMP_NUM_THREADS=1 .venv/bin/python bench/bench_scoring.py [--folds 5 --repeats 5] [--rows 100000]

Real data (shared/datasets): over the same repeated stratified folds, fengkong's champion (chosen by inner
CV on each training part) against optbinning's own ``Scorecard`` with defaults, toad (when it imports),
plain logistic regression (standardised numbers, one-hot categories) and LightGBM with defaults. Prints
each mean AUC, and the champion's mean paired AUC difference to the best anchor with its standard error
(folds overlap, so that error is optimistic). Speed (single thread): scorecard fit on rows × 40 synthetic
features; batch scoring rows/s with and without reason codes; GBM reason codes vs raw ``pred_contrib``.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import lightgbm as lgb
import numpy as np
import pandas as pd
from optbinning import BinningProcess, Scorecard
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import RepeatedStratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from fengkong.monitoring.metrics import auc
from fengkong.scoring.data import PreparedData, prepare, read_csv
from fengkong.scoring.gbm import GBMChallenger
from fengkong.scoring.scorecard import ScorecardModel, quiet_optbinning
from fengkong.services.scoring import evaluate

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
DATASETS = [("german_credit.csv", "creditability", "bad"), ("taiwan_default_6k.csv", "default", "1")]


def _optbinning_default(data: PreparedData, train: np.ndarray, test: np.ndarray) -> float:
    names = [*data.numeric, *data.categorical]
    card = Scorecard(
        binning_process=BinningProcess(names, categorical_variables=list(data.categorical)),
        estimator=LogisticRegression(),
        scaling_method=None,
    )
    with quiet_optbinning():
        card.fit(data.features.iloc[train][names], data.target[train])
        pd_bad = card.predict_proba(data.features.iloc[test][names])[:, 1]
    return auc(data.target[test], pd_bad)


def _plain_logistic(data: PreparedData, train: np.ndarray, test: np.ndarray) -> float:
    model = make_pipeline(
        ColumnTransformer(
            [
                ("num", make_pipeline(_imputer(), StandardScaler()), list(data.numeric)),
                ("cat", OneHotEncoder(handle_unknown="ignore"), list(data.categorical)),
            ]
        ),
        LogisticRegression(max_iter=2_000),
    )
    model.fit(data.features.iloc[train], data.target[train])
    return auc(data.target[test], model.predict_proba(data.features.iloc[test])[:, 1])


def _imputer():  # type: ignore[no-untyped-def]
    from sklearn.impute import SimpleImputer

    return SimpleImputer(strategy="median")


def _lightgbm_default(data: PreparedData, train: np.ndarray, test: np.ndarray) -> float:
    frame = data.features.copy()
    for name in data.categorical:
        frame[name] = frame[name].astype("category")
    model = lgb.LGBMClassifier(n_jobs=1, verbose=-1, random_state=0)
    model.fit(frame.iloc[train], data.target[train])
    return auc(data.target[test], model.predict_proba(frame.iloc[test])[:, 1])


def _toad(data: PreparedData, train: np.ndarray, test: np.ndarray) -> float:
    import toad

    frame = data.features.iloc[train].copy()
    combiner = toad.transform.Combiner()
    combiner.fit(frame, data.target[train], method="chi", min_samples=0.05)
    woe = toad.transform.WOETransformer()
    x_train = woe.fit_transform(combiner.transform(frame), data.target[train])
    card = LogisticRegression(max_iter=1_000).fit(x_train, data.target[train])
    x_test = woe.transform(combiner.transform(data.features.iloc[test].copy()))
    return auc(data.target[test], card.predict_proba(x_test)[:, 1])


def real_data(folds: int, repeats: int) -> None:
    anchors = {
        "optbinning Scorecard": _optbinning_default,
        "toad": _toad,
        "logistic regression": _plain_logistic,
        "LightGBM defaults": _lightgbm_default,
    }
    for file, target, bad_value in DATASETS:
        data = prepare(read_csv(SHARED / file), target, bad_value)
        started = time.perf_counter()
        result = evaluate(data, folds=folds, repeats=repeats, seed=0)
        champion = np.array(result["champion_fold_auc"])
        splitter = RepeatedStratifiedKFold(n_splits=folds, n_repeats=repeats, random_state=0)
        splits = list(splitter.split(np.zeros(len(data.target)), data.target))
        anchor_auc: dict[str, np.ndarray] = {}
        for name, run in anchors.items():
            try:
                anchor_auc[name] = np.array([run(data, train, test) for train, test in splits])
            except ImportError as error:
                print(f"  {name}: not run ({error})")
        print(
            f"{file}: {len(data.target)} rows, {folds}x{repeats} folds, {time.perf_counter() - started:.0f} s"
        )
        for name in ("scorecard", "gbm"):
            print(f"  fengkong {name:9s} AUC {result['models'][name]['auc_mean']:.4f}")
        print(
            f"  fengkong champion  AUC {champion.mean():.4f} ({result['champion']['name']}, picked "
            f"{result['champion']['selected_per_fold']})"
        )
        for name, values in anchor_auc.items():
            print(f"  anchor {name:22s} AUC {values.mean():.4f}")
        best = max(anchor_auc, key=lambda name: anchor_auc[name].mean())
        diff = champion - anchor_auc[best]
        print(
            f"  champion - best anchor ({best}): {diff.mean():+.4f} "
            f"(standard error {diff.std(ddof=1) / np.sqrt(diff.size):.4f})"
        )


def synthetic(rows: int, features: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, features))
    weights = rng.normal(0, 0.3, features)
    y = (rng.uniform(size=rows) < 1 / (1 + np.exp(-(x @ weights - 1.5)))).astype(np.int8)
    frame = pd.DataFrame(x, columns=[f"f{i:02d}" for i in range(features)])
    for i in range(0, features, 8):  # a few categorical columns
        frame[f"f{i:02d}"] = np.where(x[:, i] > 0.5, "high", np.where(x[:, i] < -0.5, "low", "mid"))
    return frame, y


def speed(rows: int) -> None:
    frame, y = synthetic(rows, 40, seed=1)
    started = time.perf_counter()
    model = ScorecardModel(random_state=0).fit(frame, y)
    print(
        f"scorecard fit, {rows} rows x 40 features, single thread: {time.perf_counter() - started:.1f} s "
        f"({len(model.table_.names)} characteristics kept)"
    )
    table = model.table_
    batch = pd.concat([frame] * max(1, 500_000 // rows), ignore_index=True)
    for reasons in (False, True):
        runs: list[float] = []
        for _ in range(3):  # best of three: the first run also warms caches
            started = time.perf_counter()
            points = table.points_matrix(batch)
            points.sum(axis=1)
            if reasons:
                table.reasons_from_points(points, 4)
            runs.append(time.perf_counter() - started)
        print(
            f"scorecard batch scoring of {len(batch):,} rows {'with' if reasons else 'without'} reasons: "
            f"{len(batch) / min(runs):,.0f} rows/s (best of 3)"
        )
    gbm = GBMChallenger(random_state=0).fit(frame, y)
    serving = gbm.serving_
    matrix = serving.matrix(frame.iloc[:2_000])
    ours_runs: list[float] = []
    raw_runs: list[float] = []
    for _ in range(3):  # alternate the two, keep each one's best run
        started = time.perf_counter()
        serving.reasons(matrix, 4)
        ours_runs.append(time.perf_counter() - started)
        started = time.perf_counter()
        serving.booster.predict(
            matrix, pred_contrib=True, num_iteration=serving.best_iteration, num_threads=1
        )
        raw_runs.append(time.perf_counter() - started)
    ours, raw = min(ours_runs), min(raw_runs)
    print(f"GBM: {serving.best_iteration} trees")
    print(
        f"GBM reason codes on 2,000 rows: {ours:.2f} s vs raw pred_contrib {raw:.2f} s "
        f"(ratio {ours / raw:.2f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--skip-real", action="store_true")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    if not args.skip_real:
        real_data(args.folds, args.repeats)
    speed(args.rows)


if __name__ == "__main__":
    main()
