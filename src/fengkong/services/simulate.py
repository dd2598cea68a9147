"""Use case: simulate an ecosystem from a scenario and write its events and ground truth apart."""

from __future__ import annotations

from pathlib import Path

from fengkong.sim.run import Progress, SimulationSummary, estimate_output, simulate
from fengkong.sim.scenario import Scenario, load_scenario

__all__ = ["Progress", "Scenario", "SimulationSummary", "estimate", "prepare", "run_simulation"]


def prepare(
    scenario_path: Path | None = None,
    *,
    seed: int | None = None,
    scale: str | None = None,
    days: int | None = None,
) -> Scenario:
    """Load and validate the scenario (the packaged default when ``scenario_path`` is None)."""
    return load_scenario(scenario_path, seed=seed, scale=scale, days=days)


def estimate(scenario: Scenario) -> tuple[int, int]:
    """(events, bytes) the run is expected to write."""
    return estimate_output(scenario)


def run_simulation(scenario: Scenario, out_dir: Path, progress: Progress | None = None) -> SimulationSummary:
    """Simulate ``scenario`` into ``out_dir`` (events/ and truth/)."""
    return simulate(scenario, out_dir, progress)
