"""Calibration, PSI, early indicators, fairness, model cards and the HTML report."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from fengkong.errors import InputError
from fengkong.monitoring import metrics
from fengkong.monitoring.calibration import calibration_report
from fengkong.monitoring.fairness import fairness_report
from fengkong.monitoring.indicators import (
    STATUS_ALERT,
    STATUS_NO_DATA,
    STATUS_OK,
    AlertThresholds,
    IndicatorInputs,
    early_indicators,
    indicators_by_cohort,
)
from fengkong.monitoring.model_card import ModelCard, verify_card
from fengkong.monitoring.psi import feature_stability, stability
from fengkong.monitoring.report_html import ModelSection, ReportContent, render_report, roc_points


def _calibrated(rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    pd_bad = rng.beta(1, 12, rows)
    return (rng.random(rows) < pd_bad).astype(np.int8), pd_bad


def test_ece_is_small_for_a_calibrated_pd_and_equals_a_uniform_shift() -> None:
    y, pd_bad = _calibrated(200_000, seed=1)
    report = calibration_report(y, pd_bad)
    assert report.ece < 0.003 and report.within_bound
    assert sum(report.count) == y.size and report.mean_pd == pytest.approx(pd_bad.mean())
    shifted = calibration_report(y, np.clip(pd_bad + 0.02, 0, 1))
    assert shifted.ece == pytest.approx(0.02, abs=0.003) and not shifted.within_bound
    assert report.to_dict()["curve"][0]["count"] == report.count[0]


def test_psi_matches_the_metric_without_missing_values_and_sees_a_column_going_empty() -> None:
    rng = np.random.default_rng(2)
    before, after = rng.normal(size=5_000), rng.normal(0.5, 1, 5_000)
    assert stability(before, after).psi == pytest.approx(metrics.psi(before, after))
    assert stability(before, before).psi == pytest.approx(0.0)
    emptied = after.copy()
    emptied[:2_500] = np.nan
    result = stability(before, emptied)
    assert result.level == "shift" and result.actual_share[-1] == pytest.approx(0.5)
    frame_a = pd.DataFrame({"x": before, "kind": ["a", "b"] * 2_500})
    frame_b = pd.DataFrame({"x": before, "kind": ["a"] * 4_000 + ["c"] * 1_000})
    ranked = feature_stability(frame_a, frame_b, ["x", "kind"])
    assert [item.name for item in ranked] == ["kind", "x"] and ranked[1].psi == pytest.approx(0.0)
    with pytest.raises(InputError) as caught:
        stability(np.array([1.0, np.inf]), before)
    assert caught.value.field == "expected"


def test_indicators_raise_alerts_past_their_thresholds_and_say_when_there_is_no_data() -> None:
    fpd = np.array([1, 0, 0, 0, np.nan])  # 1 of 4 measured
    items = early_indicators(
        IndicatorInputs(
            first_payment_default=fpd, ever_30_mob3=[0, 0, 0], approved=[1, 1, 0, 0], score_psi=0.3
        )
    )
    by_name = {item.name: item for item in items}
    assert by_name["first_payment_default_rate"].value == 0.25
    assert by_name["first_payment_default_rate"].rows == 4
    assert by_name["first_payment_default_rate"].status == STATUS_ALERT
    assert by_name["ever_30_mob3_rate"].status == STATUS_OK
    assert by_name["approval_rate"].status == STATUS_OK  # 0.5 inside [0.4, 0.8]
    assert by_name["score_psi"].status == STATUS_ALERT
    empty = early_indicators(IndicatorInputs())
    assert {item.status for item in empty} == {STATUS_NO_DATA}
    cohorts = indicators_by_cohort(["2026-02", "2026-01", "2026-02"], [0, 1, 0], [0, 1, 0], [1, 1, 1])
    assert list(cohorts) == ["2026-01", "2026-02"] and cohorts["2026-01"][0].status == STATUS_ALERT
    with pytest.raises(InputError) as caught:
        AlertThresholds(approval_rate_min=0.9, approval_rate_max=0.5)
    assert caught.value.field == "approval_rate_min"


def test_fairness_compares_groups_within_a_risk_band_and_flags_four_fifths() -> None:
    rng = np.random.default_rng(3)
    rows = 4_000
    group = rng.choice(["north", "south"], rows)
    band = rng.choice(["low", "high"], rows)
    # same risk band, same chance — except "south" in the low band is approved half as often
    chance = np.where(band == "low", 0.8, 0.3) * np.where((group == "south") & (band == "low"), 0.5, 1.0)
    approved = rng.random(rows) < chance
    price = np.where(group == "south", 1900.0, 1800.0)
    [report, absent] = fairness_report({"region": group, "gender": None}, band, approved, price)
    figures = {item.group: item for item in report.groups}
    assert figures["north"].approval_ratio == pytest.approx(1.0, abs=0.05)
    assert figures["south"].approval_ratio < 0.8 and figures["south"].flagged
    assert figures["south"].price_gap == pytest.approx(100.0) and figures["north"].price_gap == 0.0
    assert not absent.recorded and absent.groups == ()
    with pytest.raises(InputError):
        fairness_report({"region": group[:10]}, band, approved, price)


def _card(**changes: object) -> ModelCard:
    fields: dict[str, object] = {
        "name": "gbm",
        "created_at": datetime(2026, 7, 1, tzinfo=UTC),
        "model_type": "GBMChallenger",
        "data": {"rows": 10},
        "features": ["orders"],
        "excluded_features": {"age_band": "protected"},
        "parameters": {"learning_rate": 0.05},
        "metrics": {"auc": 0.8},
        "validation": {"scheme": "out of time"},
    }
    fields.update(changes)
    return ModelCard(**fields)  # type: ignore[arg-type]


def test_model_cards_carry_a_digest_that_an_edit_breaks() -> None:
    text = _card().to_json()
    body = verify_card(text)
    assert body["created_at"] == "2026-07-01T00:00:00Z" and body["features"] == ["orders"]
    tampered = json.loads(text)
    tampered["metrics"]["auc"] = 0.99
    with pytest.raises(InputError) as caught:
        verify_card(json.dumps(tampered))
    assert caught.value.field == "card.content_sha256"
    with pytest.raises(InputError) as both:
        _card(features=["orders", "age_band"])
    assert both.value.field == "features"
    with pytest.raises(InputError):
        _card(created_at=datetime(2026, 7, 1))  # naive on purpose


def test_the_report_is_self_contained_html_with_svg_charts_and_escaped_text() -> None:
    y, pd_bad = _calibrated(2_000, seed=4)
    fpr, tpr = roc_points(y, pd_bad)
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0.0, 0.0, 1.0, 1.0)
    # the trapezoid area under the drawn curve is the AUC
    assert np.trapezoid(tpr, fpr) == pytest.approx(metrics.auc(y, pd_bad), abs=1e-9)
    section = ModelSection(
        "<gbm>",
        "a model",
        y.astype(float),
        pd_bad,
        {"auc": metrics.auc(y, pd_bad)},
        calibration_report(y, pd_bad),
    )
    html = render_report(
        ReportContent(
            title="report",
            summary={"rows": 2_000},
            models=[section],
            score_psi=[stability(pd_bad[:1_000], pd_bad[1_000:], name="PD")],
            cards={"gbm": _card().to_json()},
        )
    )
    assert html.count("<svg") == 5  # ROC, KS, calibration, distribution, PSI
    assert "&lt;gbm&gt;" in html and "<gbm>" not in html
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in html
