"""Use case: train, evaluate and report the credit models on a simulated (or real) event lake.

:func:`train_evaluate_report` runs the whole chain and writes ``<out>/report.html`` (charts inline),
``<out>/models.json`` (every figure) and ``<out>/model_cards/<name>.card.json``:

1. the training table (:func:`fengkong.services.model_dataset.build_model_dataset`): booked applications
   with matured labels, point-in-time features, protected attributes kept apart;
2. an **out-of-time** split: bookings before the split date (by default the date that leaves
   ``train_share`` of the labelled bookings before it) train, the later ones test — on the drift scenario
   the test period is after the drift;
3. the models, all fitted on the training period only: the WoE scorecard and the LightGBM challenger
   (:func:`fengkong.services.scoring.fit_pair`), the challenger with **reject inference** (parcelling over
   the training period's unbooked applications), and the **thick/thin segment model**; besides, the
   thin-file **baseline** that scores on application data alone (age, declared income, identity checks);
4. on the test period: AUC, KS, Gini, Brier, calibration (ECE and curve); the thin-file and thick-file
   AUCs of the segment model; thin-file approvals against the baseline at equal realised bad rate; score
   and feature PSI (training period against test period applications); early indicators overall and by
   application month; fairness by age band and region at equal risk band;
5. **the oracle** — only here, and only when ``truth_dir`` holds the simulator's ``originations.parquet``:
   the AUC of the true PD at booking on the same test rows, the best any model could do. It is read after
   every model is fitted and is never a feature or a label. It also sets the risk bands of the fairness
   report (true-PD quintiles); without it the bands are the challenger's PD quintiles, and the report says
   which.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow.parquet as pq

from fengkong import bounds
from fengkong.errors import InputError
from fengkong.monitoring import metrics
from fengkong.monitoring.calibration import CalibrationReport, calibration_report
from fengkong.monitoring.fairness import fairness_report
from fengkong.monitoring.indicators import (
    AlertThresholds,
    IndicatorInputs,
    early_indicators,
    indicators_by_cohort,
)
from fengkong.monitoring.model_card import ModelCard
from fengkong.monitoring.psi import feature_stability, stability
from fengkong.monitoring.report_html import ModelSection, ReportContent, render_report
from fengkong.scoring.gbm import GBMChallenger
from fengkong.scoring.reject_inference import UNLABELLED, RejectInference
from fengkong.scoring.segments import SegmentedModel, application_data_baseline, approvals_at_equal_bad_rate
from fengkong.services.model_dataset import (
    PROTECTED_COLUMNS,
    DatasetOptions,
    ModelDataset,
    build_model_dataset,
)
from fengkong.services.scoring import INNER_FOLDS, fit_pair, inner_choice

REPORT_FILE: Final = "report.html"
FIGURES_FILE: Final = "models.json"
CARDS_DIR: Final = "model_cards"
ORACLE_FILE: Final = "originations.parquet"
BASELINE_COLUMNS: Final = ("age_years", "declared_monthly_income_fen", "identity_checks_passed")
IDENTITY_TENURE_DAYS_MIN: Final = 14  # the baseline's identity check: registered at least two weeks
IDENTITY_DEVICES_7D_MAX: Final = 2  # ... and signed in from at most two devices in the last week
#: The price grid of the fairness check: annual rate (basis points) by PD band of the challenger.
PRICE_GRID: Final = ((0.02, 1200), (0.05, 1800), (1.0, 2400))
#: The lake records bookings, not approvals: an approval band of [0.4, 0.8] (CALIBRATION.md, pre-qualified
#: embedded users) times draw-down given approval, about 0.60 (CALIBRATION.md, Qifu [p]), is a booking band.
DRAW_DOWN_GIVEN_APPROVAL: Final = 0.60
BOOKING_THRESHOLDS: Final = AlertThresholds(
    approval_rate_min=0.40 * DRAW_DOWN_GIVEN_APPROVAL, approval_rate_max=0.80 * DRAW_DOWN_GIVEN_APPROVAL
)
GOALS: Final = {
    "auc_gap_to_oracle_max": 0.03,
    "ece_max": 0.01,
    "thin_file_auc_min": 0.70,
    "thin_thick_auc_gap_max": 0.03,
    "thin_file_approval_gain_min": 0.30,
}


@dataclass(frozen=True, slots=True)
class ReportOptions:
    """What to fit and how to split. ``split_date`` overrides ``train_share`` when given."""

    dataset: DatasetOptions = field(default_factory=DatasetOptions)
    train_share: float = 0.5
    split_date: date | None = None
    seed: int = 0
    baseline_approval_share: float = 0.5
    fairness_approval_share: float = 0.6
    reject_inference: bool = True

    def __post_init__(self) -> None:
        for name in ("train_share", "baseline_approval_share", "fairness_approval_share"):
            value = getattr(self, name)
            if not 0.05 <= value <= 0.95:
                raise InputError("must be in [0.05, 0.95]", field=name)


@dataclass(frozen=True, slots=True)
class ModelReportResult:
    """What :func:`train_evaluate_report` wrote and measured."""

    report_path: Path
    figures_path: Path
    card_paths: dict[str, Path]
    figures: dict[str, Any]
    model_inputs: dict[str, tuple[str, ...]]  # model -> the columns it reads
    seconds: dict[str, float]


def _now() -> datetime:
    return datetime.now(UTC)


def _split(labelled: pd.DataFrame, options: ReportOptions) -> date:
    if options.split_date is not None:
        return options.split_date
    dates: list[date] = sorted(labelled["booked_date"].tolist())
    chosen: date = dates[min(len(dates) - 1, int(len(dates) * options.train_share))]
    return chosen


def _require_both_classes(y: npt.NDArray[np.int8], what: str) -> None:
    bads = int(y.sum())
    goods = int(y.size - bads)
    if min(bads, goods) < bounds.scoring_class_rows_min:
        raise InputError(
            f"the {what} has {bads} bads and {goods} goods; at least "
            f"{bounds.scoring_class_rows_min} of each are needed (a longer lake, or a shorter "
            "--bad-window-days)",
            field="lake",
        )


def baseline_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The application-data baseline's inputs: age in years, declared income, identity checks passed."""
    applied_year = pd.Series([day.year for day in frame["applied_date"]], index=frame.index, dtype="float64")
    devices = frame.get("consumer_login_devices_distinct_7d", pd.Series(0.0, index=frame.index))
    identity = (frame["party_tenure_days"] >= IDENTITY_TENURE_DAYS_MIN) & (
        devices.fillna(0) <= IDENTITY_DEVICES_7D_MAX
    )
    return pd.DataFrame(
        {
            "age_years": applied_year - frame["birth_year"],
            "declared_monthly_income_fen": np.log1p(frame["declared_monthly_income_fen"].clip(lower=0)),
            "identity_checks_passed": identity.astype("float64"),
        }
    )


def _measures(y: npt.NDArray[np.int8], pd_bad: npt.NDArray[np.float64]) -> dict[str, float]:
    return {
        "auc": metrics.auc(y, pd_bad),
        "ks": metrics.ks(y, pd_bad),
        "gini": metrics.gini(y, pd_bad),
        "brier": metrics.brier(y, pd_bad),
        "ece": metrics.ece(y, pd_bad),
    }


def read_oracle(truth_dir: Path, application_ids: pd.Series) -> pd.DataFrame | None:
    """The simulator's true 6-month PD at booking (``true_pd_6m``, NaN where unknown) and its fraud flag
    for each application; None when the truth folder has no originations. Evaluation only: never a
    feature, never a label."""
    path = Path(truth_dir) / ORACLE_FILE
    if not path.is_file():
        return None
    table = pq.read_table(path, columns=["application_id", "true_pd_6m", "fraud"]).to_pandas()
    table = table.drop_duplicates("application_id").set_index("application_id")
    joined = pd.DataFrame({"application_id": application_ids.to_numpy()}).join(table, on="application_id")
    return pd.DataFrame(
        {
            "true_pd_6m": joined["true_pd_6m"].to_numpy(dtype=np.float64, na_value=np.nan),
            "fraud": joined["fraud"].fillna(False).to_numpy(dtype=bool),
        }
    )


def _price_bp(pd_bad: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    prices = np.full(pd_bad.size, float(PRICE_GRID[-1][1]))
    for upper, rate in reversed(PRICE_GRID):
        prices[pd_bad <= upper] = float(rate)
    return prices


def _quintiles(values: npt.NDArray[np.float64]) -> npt.NDArray[np.str_]:
    edges = np.unique(np.quantile(values, [0.2, 0.4, 0.6, 0.8]))
    bands = np.searchsorted(edges, values, side="right") + 1
    return np.asarray([f"Q{band}" for band in bands.tolist()], dtype=np.str_)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        number = float(value)
        return None if math.isnan(number) or math.isinf(number) else round(number, 6)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _json_params(model: Any) -> dict[str, Any]:
    params = model.get_params(deep=False)
    return {
        key: value
        for key, value in params.items()
        if isinstance(value, int | float | str | bool | type(None) | dict)
        and not (isinstance(value, float) and not math.isfinite(value))
    }


def train_evaluate_report(
    lake_dir: Path | str,
    out_dir: Path | str,
    *,
    truth_dir: Path | str | None = None,
    options: ReportOptions | None = None,
    now: datetime | None = None,
    report_name: str = REPORT_FILE,
    on_stage: Callable[[str], None] | None = None,
) -> ModelReportResult:
    """Train, evaluate and report (see the module docstring). ``truth_dir`` defaults to the lake's
    sibling ``truth`` folder (the demo's layout) when it exists; ``on_stage`` hears each stage's name as
    it starts."""
    if not report_name.endswith(".html") or "/" in report_name or "\\" in report_name:
        raise InputError(f"a file name ending in .html, got {report_name!r}", field="out")
    stage = on_stage or (lambda _name: None)
    options = options or ReportOptions()
    timings: dict[str, float] = {}
    started = time.perf_counter()
    lake = Path(lake_dir)
    out = Path(out_dir)
    truth = Path(truth_dir) if truth_dir is not None else lake.parent / "truth"

    stage("training table (point-in-time features, labels)")
    dataset = build_model_dataset(lake, options.dataset)
    timings["dataset"] = time.perf_counter() - started
    labelled = dataset.labelled.sort_values(["booked_date", "application_id"], kind="mergesort")
    labelled = labelled.reset_index(drop=True)
    if labelled.empty:
        raise InputError(
            f"no booked application in {lake} has a closed {options.dataset.bad_window_days}-day window "
            f"(the lake runs {dataset.first_date} to {dataset.last_date})",
            field="lake",
        )
    split = _split(labelled, options)
    train = labelled[labelled["booked_date"] < split].reset_index(drop=True)
    test = labelled[labelled["booked_date"] >= split].reset_index(drop=True)
    y_train = train["bad"].to_numpy().astype(np.int8)
    y_test = test["bad"].to_numpy().astype(np.int8)
    _require_both_classes(y_train, f"training period (bookings before {split})")
    _require_both_classes(y_test, f"test period (bookings from {split})")
    columns = list(dataset.feature_columns)
    ecosystem = list(dataset.ecosystem_columns)
    x_train, x_test = train[columns], test[columns]

    # -- fit, on the training period only ----------------------------------------------------------
    stage("fitting the models on the training period")
    fitted_at = time.perf_counter()
    # the champion (scorecard or challenger) by inner cross-validation on the training period only;
    # with too few bads or goods for three inner folds, the challenger, and the figures say why
    needed = INNER_FOLDS * bounds.scoring_class_rows_min
    if min(int(y_train.sum()), int(y_train.size - y_train.sum())) >= needed:
        champion, inner_auc = inner_choice(x_train, y_train, options.seed)
        selection = "higher mean AUC over an inner stratified 3-fold of the training period"
    else:
        champion, inner_auc = "gbm", {}
        selection = f"the challenger by default: fewer than {needed} bads or goods for inner cross-validation"
    pair = fit_pair(x_train, y_train, options.seed)
    models: dict[str, Any] = dict(pair)
    inputs: dict[str, tuple[str, ...]] = {"scorecard": tuple(columns), "gbm": tuple(columns)}
    monotone = pair["scorecard"].monotone_directions()
    if options.reject_inference:
        unbooked = dataset.unbooked
        rejects = unbooked[unbooked["applied_date"] < split]
        augmented = pd.concat([x_train, rejects[columns]], ignore_index=True)
        target = np.concatenate([y_train.astype(np.int64), np.full(len(rejects), UNLABELLED, np.int64)])
        models["gbm_reject_inference"] = RejectInference(
            GBMChallenger(monotone_constraints=monotone, random_state=options.seed),
            method="parcelling",
            random_state=options.seed,
        ).fit(augmented, target)
        inputs["gbm_reject_inference"] = tuple(columns)
    segment_columns = [*columns, "thin_file"]
    models["segment"] = SegmentedModel(
        GBMChallenger(monotone_constraints=monotone, random_state=options.seed),
        GBMChallenger(monotone_constraints=monotone, random_state=options.seed),
        thin_columns=ecosystem,
        thin_training="all",
    ).fit(train[segment_columns], y_train)
    inputs["segment"] = tuple(segment_columns)
    # the baseline learns from thin-file bookings (its population) when they hold both classes
    thin_train = train["thin_file"].to_numpy(dtype=bool)
    baseline_rows = (
        thin_train if 0 < y_train[thin_train].sum() < thin_train.sum() else np.ones_like(thin_train)
    )
    baseline = application_data_baseline(options.seed).fit(
        baseline_frame(train[baseline_rows]), y_train[baseline_rows]
    )
    timings["fit"] = time.perf_counter() - fitted_at

    # -- evaluate on the test period -------------------------------------------------------------------
    stage("evaluating on the test period")
    evaluated_at = time.perf_counter()
    pds: dict[str, npt.NDArray[np.float64]] = {}
    for name, model in models.items():
        frame = test[segment_columns] if name == "segment" else x_test
        pds[name] = np.asarray(model.predict_proba(frame)[:, 1], dtype=np.float64)
    figures_by_model = {name: _measures(y_test, values) for name, values in pds.items()}
    calibrations: dict[str, CalibrationReport] = {
        name: calibration_report(y_test, values) for name, values in pds.items()
    }
    thin = test["thin_file"].to_numpy(dtype=bool)
    segment_figures: dict[str, Any] = {
        "thin_file_rows": int(thin.sum()),
        "thick_file_rows": int((~thin).sum()),
    }
    for label, rows in (("thin_file", thin), ("thick_file", ~thin)):
        labels = y_test[rows]
        if 0 < labels.sum() < labels.size:
            segment_figures[f"{label}_auc"] = metrics.auc(labels, pds["segment"][rows])
            segment_figures[f"{label}_bads"] = int(labels.sum())
    approvals: dict[str, Any] | None = None
    if thin.any() and 0 < y_test[thin].sum() < thin.sum():
        baseline_pd = baseline.predict_proba(baseline_frame(test[thin]))[:, 1]
        comparison = approvals_at_equal_bad_rate(
            y_test[thin],
            pds["segment"][thin],
            baseline_pd,
            baseline_approval_share=options.baseline_approval_share,
        )
        approvals = comparison.to_dict()
        approvals["baseline_auc"] = metrics.auc(y_test[thin], baseline_pd)
        approvals["population"] = "thin-file booked applications of the test period with a matured label"
        approvals["baseline_trained_on"] = "thin-file" if not baseline_rows.all() else "all"
        approvals["gain_by_baseline_share"] = {
            f"{share:.1f}": approvals_at_equal_bad_rate(
                y_test[thin], pds["segment"][thin], baseline_pd, baseline_approval_share=share
            ).gain
            for share in (0.3, 0.5, 0.7)
        }

    # stability: applications of the training period against those of the test period
    applications = dataset.frame
    before = applications[applications["applied_date"] < split]
    after = applications[applications["applied_date"] >= split]
    score_psi = stability(
        pair["gbm"].predict_proba(before[columns])[:, 1],
        pair["gbm"].predict_proba(after[columns])[:, 1],
        name="gbm PD",
    )
    feature_psi = feature_stability(before, after, [name for name in columns if name != "product"])

    indicators = early_indicators(
        IndicatorInputs(
            first_payment_default=after["first_payment_default"].to_numpy(dtype=np.float64),
            ever_30_mob3=after["ever_30_mob3"].to_numpy(dtype=np.float64),
            approved=after["booked"].to_numpy(dtype=np.float64),
            score_psi=score_psi.psi,
            feature_psi={item.name: item.psi for item in feature_psi},
        ),
        BOOKING_THRESHOLDS,
    )
    months = [day.strftime("%Y-%m") for day in applications["applied_date"]]
    cohorts = indicators_by_cohort(
        months,
        applications["first_payment_default"].to_numpy(dtype=np.float64),
        applications["ever_30_mob3"].to_numpy(dtype=np.float64),
        applications["booked"].to_numpy(dtype=np.float64),
        BOOKING_THRESHOLDS,
    )
    timings["evaluate"] = time.perf_counter() - evaluated_at

    # -- the oracle (evaluation only, after every fit) -------------------------------------------------
    oracle_frame = read_oracle(truth, test["application_id"]) if truth.is_dir() else None
    oracle = None if oracle_frame is None else oracle_frame["true_pd_6m"].to_numpy(dtype=np.float64)
    oracle_figures: dict[str, Any] = {"available": oracle is not None}
    if oracle_frame is not None and oracle is not None:
        known = ~np.isnan(oracle)
        honest = known & ~oracle_frame["fraud"].to_numpy(dtype=bool)
        oracle_figures["rows"] = int(known.sum())
        oracle_figures["fraud_rows"] = int((known & ~honest).sum())
        for suffix, rows in (("", known), ("_non_fraud", honest)):
            labels = y_test[rows]
            if 0 < labels.sum() < labels.size:
                oracle_figures[f"auc{suffix}"] = metrics.auc(labels, oracle[rows])
                for name, values in pds.items():
                    oracle_figures[f"{name}_auc{suffix}"] = metrics.auc(labels, values[rows])
        for label, segment_rows in (("thin_file", thin), ("thick_file", ~thin)):
            rows = honest & segment_rows
            if 0 < y_test[rows].sum() < rows.sum():
                segment_figures[f"{label}_auc_non_fraud"] = metrics.auc(y_test[rows], pds["segment"][rows])
                segment_figures[f"{label}_bads_non_fraud"] = int(y_test[rows].sum())
    # fairness: the challenger's decisions at equal risk band
    gbm_pd = pds["gbm"]
    cutoff = float(np.quantile(gbm_pd, options.fairness_approval_share))
    approved = gbm_pd <= cutoff
    if oracle is not None and not np.isnan(oracle).any():
        bands, band_basis = _quintiles(oracle), "quintiles of the simulator's true PD at booking (oracle)"
    else:
        bands, band_basis = _quintiles(gbm_pd), "quintiles of the challenger's PD (no oracle available)"
    fairness = fairness_report(
        {
            "age_band": test["age_band"].to_numpy(),
            "region": test["region"].to_numpy(),
            "gender": None,  # the event schema records no gender
        },
        bands,
        approved,
        _price_bp(gbm_pd),
    )

    # -- figures, cards, report ------------------------------------------------------------------------
    primary = champion
    figures: dict[str, Any] = {
        "lake": str(lake),
        "lake_dates": [dataset.first_date, dataset.last_date],
        "bad_definition": f"ever 30+ days past due within {options.dataset.bad_window_days} days of "
        "booking, read from repayment events; younger bookings are indeterminate and left out",
        "applications": len(applications),
        "booked": int(applications["booked"].sum()),
        "labelled": len(labelled),
        "split_date": split,
        "train": {"rows": len(train), "bads": int(y_train.sum()), "from": train["booked_date"].min()},
        "test": {"rows": len(test), "bads": int(y_test.sum()), "to": test["booked_date"].max()},
        "models": figures_by_model,
        "calibration": {name: report.to_dict() for name, report in calibrations.items()},
        "segments": segment_figures,
        "thin_file_approvals": approvals,
        "oracle": oracle_figures,
        "psi": {"score": score_psi.to_dict(), "features": [item.to_dict() for item in feature_psi[:15]]},
        "indicators": [item.to_dict() for item in indicators],
        "indicators_by_month": {k: [i.to_dict() for i in v] for k, v in cohorts.items()},
        "fairness": {"risk_bands": band_basis, "attributes": [item.to_dict() for item in fairness]},
        "goals": dict(GOALS),
        "champion": {
            "name": champion,
            "inner_auc": inner_auc,
            "selection": selection,
        },
        "model_inputs": {name: list(value) for name, value in inputs.items()},
    }
    for suffix in ("", "_non_fraud"):
        if f"auc{suffix}" in oracle_figures:
            figures[f"auc_gap_to_oracle{suffix}"] = (
                oracle_figures[f"auc{suffix}"] - oracle_figures[f"{primary}_auc{suffix}"]
            )
    if reject := models.get("gbm_reject_inference"):
        figures["reject_inference"] = {
            "method": "parcelling",
            "rejects": reject.rejects_,
            "inferred_reject_bad_rate": reject.reject_bad_rate_,
        }
    figures = _plain(figures)

    created = now or _now()
    cards = _cards(dataset, models, inputs, figures, created, split, train, test)
    cards_dir = out / CARDS_DIR
    card_paths = {card.name: card.write(cards_dir) for card in cards}
    descriptions = {
        "scorecard": "WoE logistic scorecard on optbinning (monotone bins, IV and correlation selection).",
        "gbm": "LightGBM challenger with monotone constraints, early stopping and a Platt-calibrated PD.",
        "gbm_reject_inference": "The challenger refitted with the training period's unbooked applications "
        "parcelled by score band (reject inference).",
        "segment": "Thick-file model (bureau + ecosystem) and thin-file model (ecosystem only), routed by "
        "the applicant's file.",
    }
    summary = {
        "lake": figures["lake"],
        "lake dates": f"{dataset.first_date} to {dataset.last_date}",
        "bad definition": figures["bad_definition"],
        "applications / booked / labelled": f"{len(applications)} / {figures['booked']} / {len(labelled)}",
        "out-of-time split (booking date)": str(split),
        "train rows (bads)": f"{len(train)} ({int(y_train.sum())})",
        "test rows (bads)": f"{len(test)} ({int(y_test.sum())})",
        "oracle AUC (test rows)": oracle_figures.get("auc"),
        "champion (inner cross-validation on the training period)": champion,
        "champion AUC gap to oracle (goal ≤ 0.03)": figures.get("auc_gap_to_oracle"),
        "the same without fraud (oracle AUC; gap)": (
            f"{oracle_figures['auc_non_fraud']:.4f}; {figures['auc_gap_to_oracle_non_fraud']:.4f}"
            if "auc_non_fraud" in oracle_figures
            else None
        ),
        "thin-file AUC (goal ≥ 0.70)": segment_figures.get("thin_file_auc"),
        "thick-file AUC": segment_figures.get("thick_file_auc"),
        "thin-file approvals vs baseline at equal bad rate (goal ≥ +0.30)": (
            approvals["gain"] if approvals else None
        ),
        "fairness risk bands": band_basis,
    }
    content = ReportContent(
        title="fengkong — credit models on the event lake",
        summary=summary,
        models=[
            ModelSection(
                name,
                descriptions[name],
                y_test.astype(np.float64),
                pds[name],
                figures_by_model[name],
                calibrations[name],
            )
            for name in models
        ],
        score_psi=[score_psi],
        feature_psi=feature_psi,
        indicators=indicators,
        cohort_indicators=cohorts,
        fairness=fairness,
        cards={name: path.read_text(encoding="utf-8") for name, path in card_paths.items()},
        notes=[
            "Every model was fitted on bookings before the split date and is measured on bookings after it "
            "(out of time). The oracle is the simulator's ground truth, read only to score this report.",
            "Approval in the indicators is booking (the lake records no decisions): declined and "
            "not-taken-up applications look alike, so its band is the approval band [0.4, 0.8] times "
            "draw-down given approval (0.60): [0.24, 0.48].",
        ],
    )
    out.mkdir(parents=True, exist_ok=True)
    stage("writing the report and the model cards")
    report_path = out / report_name
    report_path.write_text(render_report(content), encoding="utf-8")
    timings["total"] = time.perf_counter() - started
    figures["seconds"] = {name: round(value, 3) for name, value in timings.items()}
    figures_path = out / FIGURES_FILE
    figures_path.write_text(
        json.dumps(figures, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n",
        encoding="utf-8",
    )
    return ModelReportResult(
        report_path=report_path,
        figures_path=figures_path,
        card_paths=card_paths,
        figures=figures,
        model_inputs=inputs,
        seconds=timings,
    )


def _cards(
    dataset: ModelDataset,
    models: Mapping[str, Any],
    inputs: Mapping[str, tuple[str, ...]],
    figures: Mapping[str, Any],
    created: datetime,
    split: date,
    train: pd.DataFrame,
    test: pd.DataFrame,
) -> list[ModelCard]:
    protected = dict.fromkeys(PROTECTED_COLUMNS, "protected attribute: used only for the fairness report")
    data = {
        "source": figures["lake"],
        "lake_dates": figures["lake_dates"],
        "population": "applications of persons (BNPL, revolving, installment) with a booked account",
        "label": figures["bad_definition"],
        "train_rows": len(train),
        "train_bads": int(train["bad"].sum()),
        "test_rows": len(test),
        "test_bads": int(test["bad"].sum()),
    }
    validation = {
        "scheme": "out of time",
        "train_bookings": [str(train["booked_date"].min()), str(split)],
        "test_bookings": [str(split), str(test["booked_date"].max())],
        "oracle": figures["oracle"],
    }
    cards = []
    for name, model in models.items():
        excluded = dict(protected)
        if name == "segment":
            model_type = "SegmentedModel(GBMChallenger thick, GBMChallenger thin)"
            parameters: dict[str, Any] = {
                "thin_training": model.thin_training,
                "thin_columns": list(model.thin_columns_),
                "rows": model.rows_,
            }
        elif name == "gbm_reject_inference":
            model_type = "RejectInference(GBMChallenger)"
            parameters = _json_params(model)
        else:
            model_type = type(model).__name__
            parameters = _json_params(model)
        cards.append(
            ModelCard(
                name=name,
                created_at=created,
                model_type=model_type,
                data=data,
                features=list(inputs[name]),
                excluded_features=excluded,
                parameters=parameters,
                metrics={
                    "test": figures["models"][name],
                    "calibration_ece": figures["calibration"][name]["ece"],
                    "goals": figures["goals"],
                },
                validation=validation,
                limitations=[
                    "Trained on booked loans only; unbooked applications mix declines and offers not taken.",
                    "The label is read from repayment events (no servicing ledger yet); it matched the "
                    "simulator's truth on 99.6 % of bookings in the drift-2027 world.",
                    "Gender is not recorded in the events, so fairness by gender cannot be reported.",
                ],
            )
        )
    return cards
