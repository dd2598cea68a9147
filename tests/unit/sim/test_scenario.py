"""Scenario files: the packaged calibration loads, overrides apply, bad files name the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from fengkong.errors import ScenarioError
from fengkong.sim.scenario import load_scenario, scenario_from_mapping

REPO = Path(__file__).resolve().parents[3]


def test_the_default_scenario_holds_the_calibration() -> None:
    scenario = load_scenario()
    assert scenario.scale == "small"
    assert scenario.days == scenario.size.days == 180
    assert scenario.population.thin_file_share == pytest.approx(0.40)
    assert scenario.riders.activity_class_weights == (0.11, 0.41, 0.48)
    assert scenario.riders.pay_per_order_yuan == pytest.approx(3.65)
    assert scenario.merchants.closure_annual.restaurant == pytest.approx(0.226)
    assert scenario.fraud.share_of_consumers == pytest.approx(0.03)


def test_overrides_win_over_the_file() -> None:
    scenario = load_scenario(seed=7, scale="tiny", days=12)
    assert (scenario.seed, scenario.scale, scenario.days, scenario.size.consumers) == (7, "tiny", 12, 500)


@pytest.mark.parametrize("name", ["stress", "drift", "fraud_burst", "thin_file_heavy"])
def test_every_repository_scenario_loads(name: str) -> None:
    scenario = load_scenario(REPO / "scenarios" / f"{name}.yaml", scale="small")
    assert scenario.name == name


def test_the_stress_scenario_is_a_severe_shock() -> None:
    scenario = load_scenario(REPO / "scenarios" / "stress.yaml")
    shocked = [scenario.macro_multiplier(month) for month in range(6)]
    assert max(shocked) == pytest.approx(3.0)
    assert shocked[0] == pytest.approx(1.0)


def test_drift_changes_behaviour_from_its_month_only() -> None:
    scenario = load_scenario(REPO / "scenarios" / "drift.yaml")
    assert scenario.drift.after_month == 3
    before, after = scenario.behaviour_for_month(2), scenario.behaviour_for_month(3)
    assert before == scenario.behaviour
    assert after.spend_cv_per_risk_sd == 0.0
    assert after.bnpl_logit_per_risk_sd != before.bnpl_logit_per_risk_sd


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"fraud": {"share_of_consumers": 2.0}}, "fraud.share_of_consumers"),
        ({"population": {"thin_file_share": -0.1}}, "population.thin_file_share"),
        ({"merchants": {"closure_anual": {}}}, "merchants.closure_anual"),
        ({"scale": "huge"}, "scale"),
        ({"riders": {"activity_class_weights": [0.5, 0.5]}}, "riders.activity_class_weights.2"),
        ({"identifiers": {"phone_prefix": "+1800"}}, "identifiers.phone_prefix"),
        ({"response": {"beta_debt_burden": 0.0}}, "response.beta_debt_burden"),
        ({"response": {"acceptance_probability": 1.5}}, "response.acceptance_probability"),
        (
            {"response": {"application_daily": {"rider": {"mortgage": 0.1}}}},
            "response.application_daily.rider.mortgage",
        ),
        ({"response": {"hazard_logit_shift": -1.2}}, "response.hazard_logit_shift"),
        ({"response": {"default_days_past_due": 200}}, "response"),
        (
            {
                "fraud": {
                    "burst": {"start_day": 900, "days": 3, "arrivals_per_day_share": 0.01, "fraud_share": 0.5}
                }
            },
            "fraud.burst.start_day",
        ),
    ],
)
def test_a_bad_value_names_its_field(data: dict[str, object], field: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        scenario_from_mapping(data)
    assert caught.value.field == field
    assert str(caught.value).startswith(field)


def test_a_bad_file_names_the_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("macro:\n  multiplier: -3\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert caught.value.field == "macro.multiplier"


def test_unreadable_and_malformed_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as missing:
        load_scenario(tmp_path / "absent.yaml")
    assert missing.value.field == "path"
    broken = tmp_path / "broken.yaml"
    broken.write_text("macro: [unclosed\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="not valid YAML"):
        load_scenario(broken)
    listed = tmp_path / "list.yaml"
    listed.write_text("- 1\n- 2\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="mapping"):
        load_scenario(listed)


def test_the_stress_world_is_more_delinquent_during_its_shock_only() -> None:
    """Same seed, same people: before the shock the worlds agree; in it, every hazard's odds are ×3."""
    import numpy as np

    from fengkong.sim.ecosystem import Ecosystem
    from fengkong.sim.response import default_response_parameters, monthly_hazard

    calm = Ecosystem(load_scenario(scale="tiny", days=70))
    stress = Ecosystem(load_scenario(REPO / "scenarios" / "stress.yaml", scale="tiny", days=70))
    params = default_response_parameters()
    hazards: dict[str, list[float]] = {"calm": [], "stress": []}
    for day in range(70):
        calm.step()
        stress.step()
        if day in (40, 69):  # month 1 (before the shock) and month 2 (in it)
            for name, world in (("calm", calm), ("stress", stress)):
                debt = np.zeros(len(world.state), dtype=np.int64)
                hazards[name].append(float(monthly_hazard(world.state, debt, params).mean()))
    assert hazards["stress"][0] == pytest.approx(hazards["calm"][0], rel=0.05)
    assert hazards["stress"][1] > 2.5 * hazards["calm"][1]


@pytest.mark.parametrize(
    ("name", "differs"),
    [
        ("stress", lambda s: s.macro_multiplier(3) == 3.0),
        ("drift", lambda s: s.behaviour_for_month(3) != s.behaviour),
        ("fraud_burst", lambda s: s.fraud.burst is not None and s.fraud.burst.fraud_share == 0.5),
        ("thin_file_heavy", lambda s: s.population.thin_file_share == 0.55),
    ],
)
def test_every_repository_scenario_keeps_the_default_calibration_but_its_own_change(
    name: str, differs: object
) -> None:
    default = load_scenario()
    scenario = load_scenario(REPO / "scenarios" / f"{name}.yaml")
    assert callable(differs) and differs(scenario) and not differs(default)
    assert scenario.response == default.response and scenario.risk == default.risk
