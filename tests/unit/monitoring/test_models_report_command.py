"""``fengkong models report`` end to end on a small simulated lake, and protected attributes never reach a
model. The lake is drawn by ``tests/unit/services/model_lake.py`` (fictitious parties, a few seconds)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from fengkong.cli.main import _register, app
from fengkong.monitoring.model_card import verify_card
from fengkong.services.model_dataset import PROTECTED_COLUMNS
from fengkong.services.model_report import ReportOptions, train_evaluate_report
from tests.unit.services.model_lake import simulated_lake


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return simulated_lake(tmp_path_factory.mktemp("models") / "lake", parties=1_000, seed=7)


@pytest.fixture(scope="module")
def command_run(lake: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    _register()
    out = tmp_path_factory.mktemp("report") / "models.html"
    result = CliRunner().invoke(
        app, ["models", "report", "--lake", str(lake), "--out", str(out), "--format", "json"]
    )
    return result, out


def test_the_command_writes_the_report_figures_and_verifiable_cards(command_run: tuple[Any, Path]) -> None:
    result, out = command_run
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["report"] == str(out)
    html = out.read_text(encoding="utf-8")
    assert html.count("<svg") >= 17 and "<script" not in html  # four charts a model, four models, PSI
    figures = json.loads((out.parent / "models.json").read_text(encoding="utf-8"))
    assert figures["train"]["rows"] + figures["test"]["rows"] == figures["labelled"]
    assert figures["oracle"] == {"available": False}  # this lake has no simulator truth beside it
    assert figures["fairness"]["risk_bands"].startswith("quintiles of the challenger")
    gender = next(item for item in figures["fairness"]["attributes"] if item["attribute"] == "gender")
    assert gender == {"attribute": "gender", "recorded": False, "groups": [], "by_band": []}
    assert 0.5 < figures["models"]["gbm"]["auc"] <= 1.0  # risk drives the lake's outcomes
    names = {row["figure"] for row in printed["headline"]}
    assert "thin-file approvals vs baseline at equal bad rate" in names
    for name, path in printed["cards"].items():
        card = verify_card(Path(path).read_text(encoding="utf-8"))
        assert card["name"] == name and card["validation"]["scheme"] == "out of time"


def test_protected_attributes_are_never_model_inputs(command_run: tuple[Any, Path]) -> None:
    result, out = command_run
    figures = json.loads((out.parent / "models.json").read_text(encoding="utf-8"))
    inputs = figures["model_inputs"]  # the columns each model was fitted on
    assert set(inputs) == {"scorecard", "gbm", "gbm_reject_inference", "segment"}
    cards = json.loads(result.stdout)["cards"]
    for name, columns in inputs.items():
        assert not set(PROTECTED_COLUMNS) & set(columns), name
        card = verify_card(Path(cards[name]).read_text(encoding="utf-8"))
        assert card["features"] == columns
        assert set(PROTECTED_COLUMNS) <= set(card["excluded_features"])


def test_the_service_reports_the_inputs_it_fitted(lake: Path, tmp_path: Path) -> None:
    """The figures' model_inputs are the service's own record, not a copy made for the file."""
    result = train_evaluate_report(lake, tmp_path, options=ReportOptions(reject_inference=False))
    assert set(result.model_inputs) == {"scorecard", "gbm", "segment"}
    assert result.figures["model_inputs"] == {name: list(cols) for name, cols in result.model_inputs.items()}
    assert "thin_file" in result.model_inputs["segment"]  # the routing flag, not a protected attribute


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--split-date", "July"], "split_date"),
        (["--bad-window-days", "10"], "bad_window_days"),
        (["--train-share", "1.5"], "train_share"),
    ],
)
def test_bad_input_exits_2_naming_the_field(
    lake: Path, tmp_path: Path, arguments: list[str], message: str
) -> None:
    _register()
    result = CliRunner().invoke(
        app, ["models", "report", "--lake", str(lake), "--out", str(tmp_path / "r.html"), *arguments]
    )
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.output


def test_a_lake_without_applications_exits_2(tmp_path: Path) -> None:
    _register()
    (tmp_path / "lake").mkdir()
    result = CliRunner().invoke(
        app, ["models", "report", "--lake", str(tmp_path / "lake"), "--out", str(tmp_path / "r.html")]
    )
    assert result.exit_code == 2 and "loan_application" in result.stderr
