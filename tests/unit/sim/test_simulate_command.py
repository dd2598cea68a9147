"""``fengkong simulate``: the command writes the lake and the truth, and refuses a bad scenario by field."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from fengkong.cli.main import _register, app
from fengkong.services.simulate import estimate, prepare, run_simulation


def test_the_command_simulates_a_tiny_world(tmp_path: Path) -> None:
    _register()
    result = CliRunner().invoke(
        app, ["simulate", "--out", str(tmp_path), "--scale", "tiny", "--days", "3", "--seed", "5"]
    )
    assert result.exit_code == 0, result.output
    assert "events total" in result.output
    assert "on disk" in result.output  # the estimate comes before the run
    assert (tmp_path / "truth" / "parties.parquet").is_file()
    assert (tmp_path / "truth" / "scenario.json").is_file()
    assert len(list((tmp_path / "events" / "order_placed").glob("date=*/part-000000.parquet"))) == 3


def test_a_bad_scenario_is_refused_naming_the_field(tmp_path: Path) -> None:
    _register()
    scenario = tmp_path / "bad.yaml"
    scenario.write_text("fraud:\n  share_of_consumers: 7\n", encoding="utf-8")
    result = CliRunner().invoke(
        app, ["simulate", "--out", str(tmp_path / "out"), "--scenario", str(scenario)]
    )
    assert result.exit_code == 2
    assert "fraud.share_of_consumers" in result.output
    assert not (tmp_path / "out").exists()


def test_the_use_case_estimates_then_runs(tmp_path: Path) -> None:
    scenario = prepare(scale="tiny", days=2)
    events, size = estimate(scenario)
    summary = run_simulation(scenario, tmp_path)
    assert 0.5 < summary.events_total / events < 2.0
    assert 0.2 < summary.bytes_written / size < 5.0
