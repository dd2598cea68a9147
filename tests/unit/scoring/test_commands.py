"""``fengkong scorecard evaluate|fit`` and ``fengkong score`` on a small synthetic CSV; bad input exits 2."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from fengkong.cli import scorecard  # noqa: F401  (registers the commands)
from fengkong.cli.main import app

from .conftest import synthetic_credit


@pytest.fixture(scope="module")
def csv_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    frame, y = synthetic_credit(900, seed=21)
    path = tmp_path_factory.mktemp("data") / "credit.csv"
    frame.assign(status=["bad" if v else "good" for v in y]).to_csv(path, index=False)
    return path


def test_evaluate_prints_both_models_and_the_champion(csv_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "scorecard",
            "evaluate",
            "--data",
            str(csv_path),
            "--target",
            "status",
            "--bad-value",
            "bad",
            "--folds",
            "2",
            "--repeats",
            "1",
            "--seed",
            "1",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert set(document["models"]) == {"scorecard", "gbm"}
    champion = document["champion"]
    assert champion["name"] in {"scorecard", "gbm"}
    assert {"auc_mean", "auc_std", "ks_mean", "gini_mean"} <= set(champion)
    assert 0.6 < champion["auc_mean"] < 1.0
    assert sum(champion["selected_per_fold"].values()) == 2
    for fold, chosen in enumerate(document["chosen_per_fold"]):
        assert document["champion_fold_auc"][fold] == document["fold_auc"][chosen][fold]


def test_fit_then_score_with_reasons(csv_path: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "model"
    fitted = runner.invoke(
        app,
        [
            "scorecard",
            "fit",
            "--data",
            str(csv_path),
            "--target",
            "status",
            "--bad-value",
            "bad",
            "--out",
            str(out),
        ],
    )
    assert fitted.exit_code == 0, fitted.output
    assert {p.name for p in out.iterdir()} == {
        "manifest.json",
        "scorecard.json",
        "scorecard.csv",
        "scorecard.html",
        "gbm",
    }
    assert (out / "gbm" / "model.txt").is_file() and (out / "gbm" / "model_card.json").is_file()
    scored = runner.invoke(app, ["score", "--model", str(out), "--data", str(csv_path), "--reasons"])
    assert scored.exit_code == 0, scored.output
    table = pd.read_csv(io.StringIO(scored.stdout))
    assert len(table) == 900
    assert {"score", "pd", "reason_1"} <= set(table.columns)
    assert table["pd"].between(0, 1).all()
    assert table["score"].rank().corr(-table["pd"].rank()) > 0.99


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (
            "a,y\n1,good\n2,good\n3,good\n",
            ["--target", "y", "--bad-value", "bad"],
            "no row has the bad value",
        ),
        ("a,y\n1,bad\n2,bad\n", ["--target", "y", "--bad-value", "bad"], "one class only"),
        ("a,y\n1,bad\n2,good\n", ["--target", "status", "--bad-value", "bad"], "target"),
        ("a,b,y\n,1,bad\n,1,good\n", ["--target", "y", "--bad-value", "bad"], "no usable feature"),
    ],
)
def test_bad_input_exits_2_with_the_reason(
    tmp_path: Path, content: str, args: list[str], message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    result = CliRunner().invoke(
        app, ["scorecard", "evaluate", "--data", str(path), *args, "--format", "json"]
    )
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_missing_files_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["score", "--model", str(tmp_path), "--data", str(tmp_path / "none.csv")]
    )
    assert result.exit_code == 2
    assert "manifest.json" in result.output or "no such file" in result.output


def test_fit_on_a_tiny_table_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "tiny.csv"
    path.write_text("a,b,y\n1,x,1\n2,y,0\n3,z,1\nfoo,x,0\n")
    result = CliRunner().invoke(
        app,
        [
            "scorecard",
            "fit",
            "--data",
            str(path),
            "--target",
            "y",
            "--bad-value",
            "1",
            "--out",
            str(tmp_path / "m"),
        ],
    )
    assert result.exit_code == 2
    assert "too few" in result.output
