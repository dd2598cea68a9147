"""The quick demo: the whole loop end to end, its scoreboard, and that a rerun repeats it exactly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from fengkong.cli.main import _register, app
from fengkong.errors import ScenarioError
from fengkong.money import Money
from fengkong.services.demo import DemoConfig, run_demo

SECTIONS = (
    "simulation",
    "ingestion",
    "decisions",
    "credit_lines",
    "loan_book",
    "ground_truth_evaluation",
    "features",
    "models",
    "supply_chain",
    "timings",
    "versions",
)


def _money_fields(value: Any, path: str = "") -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            assert not key.endswith("_fen"), f"{path}.{key}: JSON carries yuan strings, named _yuan"
            if key.endswith("_yuan"):
                found.append((f"{path}.{key}", item))
            found.extend(_money_fields(item, f"{path}.{key}"))
    return found


def _without_timings(summary: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in summary.items() if key != "timings"}


@pytest.fixture(scope="module")
def quick_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], dict[str, Any]]:
    first = tmp_path_factory.mktemp("demo-a")
    second = tmp_path_factory.mktemp("demo-b")
    run_demo(DemoConfig(out_dir=first, quick=True, seed=5))
    run_demo(DemoConfig(out_dir=second, quick=True, seed=5))
    return (
        first,
        json.loads((first / "summary.json").read_text(encoding="utf-8")),
        json.loads((second / "summary.json").read_text(encoding="utf-8")),
    )


def test_summary_has_every_section_and_the_lake_and_truth_exist(quick_runs: tuple[Path, dict, dict]) -> None:
    out, summary, _ = quick_runs
    assert set(SECTIONS) <= set(summary)
    assert (out / "lake" / "order_placed").is_dir()
    assert (out / "lake" / "loan_application").is_dir()
    assert list((out / "truth").glob("borrowers-*.parquet"))
    assert summary["simulation"]["days"] > 60
    assert summary["decisions"]["applications"] > 100
    assert summary["loan_book"]["accounts_booked"] > 20


def test_decisions_read_the_online_features_and_parity_holds_on_every_logged_read(
    quick_runs: tuple[Path, dict, dict],
) -> None:
    _, summary, _ = quick_runs
    features = summary["features"]
    parity = features["parity_logged_reads"]
    # every application reads its applicant's consumer, rider and merchant features
    assert features["reads"] == 3 * summary["decisions"]["applications"]
    assert parity["reads_checked"] == features["reads"]
    assert {row["feature"] for row in parity["by_feature"]} == set(features["features_read"])
    assert parity["values_compared"] >= features["reads"]
    assert parity["mismatches"] == 0 and parity["agrees"] is True
    assert features["events_applied"] > 100_000


def test_the_supply_chain_catches_the_simulated_forgeries_and_every_injected_attack(
    quick_runs: tuple[Path, dict, dict],
) -> None:
    _, summary, _ = quick_runs
    chain = summary["supply_chain"]
    assert chain["receivables_issued"] > 0 and chain["parts_financed"] > 0
    assert chain["inclusion_proofs_verified"] == chain["parts_financed"]
    for kind, count in chain["injected"].items():
        assert chain["caught"].get(kind) == count, kind
    for found in chain["simulated_fraud_caught"].values():
        assert found["caught"] == found["in_window"]
    assert sum(found["in_window"] for found in chain["simulated_fraud_caught"].values()) > 0


def test_money_is_strings_that_parse(quick_runs: tuple[Path, dict, dict]) -> None:
    _, summary, _ = quick_runs
    fields = _money_fields(summary)
    assert len(fields) >= 7
    for path, value in fields:
        assert isinstance(value, str), path
        assert Money.parse(value).format() == value, path


def test_figures_are_consistent(quick_runs: tuple[Path, dict, dict]) -> None:
    _, summary, _ = quick_runs
    book = summary["loan_book"]
    buckets = book["by_days_past_due"]
    bucket_total = sum(Money.parse(bucket["outstanding_yuan"]).amount_minor for bucket in buckets.values())
    assert bucket_total == Money.parse(book["outstanding_yuan"]).amount_minor
    ingestion = summary["ingestion"]
    assert ingestion["read"] == ingestion["accepted"] + ingestion["duplicates"] + ingestion["rejected"]
    assert ingestion["accepted"] == sum(ingestion["accepted_by_type"].values())
    simulation = summary["simulation"]
    assert simulation["events_total"] == sum(simulation["events_by_type"].values())
    decisions = summary["decisions"]
    assert 0 < decisions["approvals"] <= decisions["applications"]
    assert decisions["approval_rate"] == round(decisions["approvals"] / decisions["applications"], 4)
    truth = summary["decisions"]
    assert (
        truth["fraud_applications"]
        == truth["fraud_applications_approved"] + truth["fraud_applications_declined"]
    )
    assert (
        sum(entry["applications"] for entry in decisions["by_product"].values()) == decisions["applications"]
    )
    evaluation = summary["ground_truth_evaluation"]
    for key in ("baseline_score_auc", "oracle_true_pd_auc"):
        if key in evaluation:  # absent when the run has no bad (a figure not computed is not invented)
            assert 0.0 <= evaluation[key] <= 1.0
    assert 0.0 <= book["share_30_plus_of_balance"] <= 1.0


def test_same_seed_same_summary(quick_runs: tuple[Path, dict, dict]) -> None:
    _, first, second = quick_runs
    assert _without_timings(first) == _without_timings(second)
    assert set(first["timings"]) >= {"simulate", "ingest", "decide", "respond", "total"}


def test_the_command_runs_a_short_demo(tmp_path: Path) -> None:
    _register()
    result = CliRunner().invoke(
        app, ["demo", "--quick", "--days", "12", "--out", str(tmp_path), "--seed", "3"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert summary["simulation"]["days"] == 12
    assert "scoreboard" in result.output


def test_the_scenario_file_seeds_the_run_unless_seed_is_given(tmp_path: Path) -> None:
    scenario = tmp_path / "seeded.yaml"
    scenario.write_text("seed: 11\n", encoding="utf-8")
    result = run_demo(DemoConfig(out_dir=tmp_path / "out", quick=True, days=12, scenario_path=scenario))
    assert result is not None
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["simulation"]["seed"] == 11


def test_a_bad_scenario_file_is_refused_naming_the_field(tmp_path: Path) -> None:
    scenario = tmp_path / "bad.yaml"
    scenario.write_text("seed: -1\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="seed"):
        run_demo(DemoConfig(out_dir=tmp_path / "out", quick=True, days=12, scenario_path=scenario))
