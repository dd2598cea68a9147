"""The engine's wiring: models checked against the policy, challengers in shadow, the entry point."""

from __future__ import annotations

from pathlib import Path

import pytest

from fengkong.clock import FixedClock
from fengkong.decisions.engine import DecisionEngine
from fengkong.decisions.policy import Policy
from fengkong.decisions.policy_yaml import PolicyError
from fengkong.decisions.scorers import GBMScorer, ScorecardScorer
from fengkong.decisions.shadow import ShadowScore
from fengkong.errors import InputError
from fengkong.scoring.gbm import GBMServing
from tests.unit.decisions.conftest import DEFAULT_POLICY, NOW, application, scorecard_table, world


def _models(gbm: GBMServing) -> dict[str, object]:
    return {"scorecard": ScorecardScorer(scorecard_table(), "sc-1"), "gbm": GBMScorer(gbm, "gbm-1")}


def test_the_entry_point_loads_the_policy_file(gbm_serving: GBMServing) -> None:
    engine = DecisionEngine.from_policy_file(
        DEFAULT_POLICY, reader=world(), models=_models(gbm_serving), clock=FixedClock(NOW)
    )
    assert engine.version.startswith("default@")
    assert engine.decide_application(application()).decision.decision_id == "onb-app-1"
    # the features read per application: the rules' and every model's inputs, each entity read once
    entities = dict(engine.onboarding.plan.by_entity)
    assert set(entities) == {"consumer", "device", "phone", "ip"}
    assert "consumer_bureau_score_last" in entities["consumer"]
    with pytest.raises(PolicyError):
        DecisionEngine.from_policy_file(Path("/nonexistent/policy.yaml"), reader=world(), models={})


def test_models_must_match_the_policy(default_policy: Policy, gbm_serving: GBMServing) -> None:
    models = _models(gbm_serving)
    del models["gbm"]
    with pytest.raises(InputError, match="inline"):
        DecisionEngine(default_policy, reader=world(), models=models)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="challengers"):
        DecisionEngine(
            default_policy,
            reader=world(),
            models=_models(gbm_serving),  # type: ignore[arg-type]
            challengers={"extra": GBMScorer(gbm_serving, "gbm-2")},
        )


def test_challengers_score_in_shadow_and_never_decide(
    default_policy: Policy, gbm_serving: GBMServing
) -> None:
    from dataclasses import replace

    from fengkong.decisions.policy import Models

    policy = replace(default_policy, models=Models("scorecard", ("scorecard", "gbm"), ("gbm_next",)))
    shadow: list[ShadowScore] = []
    challenger = GBMScorer(gbm_serving, "gbm-next-1")
    engine = DecisionEngine(
        policy,
        reader=world(),
        models=_models(gbm_serving),  # type: ignore[arg-type]
        challengers={"gbm_next": challenger},
        shadow_sink=shadow.append,
        clock=FixedClock(NOW),
    )
    decided = [engine.decide_application(application(application_id=f"a-{i}")) for i in range(5)]
    engine.close()
    assert [s.decision_id for s in shadow] == [d.decision.decision_id for d in decided]
    assert all(s.model == "gbm_next" and s.model_version == "gbm-next-1" for s in shadow)
    assert all("model:gbm_next" not in dict(d.trace.versions) for d in decided)
    assert shadow[0].probability_of_default == pytest.approx(
        decided[0].trace.scores[1].probability_of_default
    )


def test_an_engine_from_a_policy_file_and_a_model_directory(tmp_path: Path, gbm_serving: GBMServing) -> None:
    import json
    from dataclasses import replace

    from fengkong.scoring.gbm import CARD_FORMAT
    from fengkong.services.decisions import engine_from_files
    from fengkong.services.scoring import MANIFEST_FORMAT

    (tmp_path / "manifest.json").write_text(json.dumps({"format": MANIFEST_FORMAT, "champion": "gbm"}))
    (tmp_path / "scorecard.json").write_text(scorecard_table().to_json())
    card = {
        "format": CARD_FORMAT,
        "numeric": list(gbm_serving.numeric),
        "categorical": [],
        "categories": {},
        "calibration": gbm_serving.calibration.to_dict(),
        "best_iteration": gbm_serving.best_iteration,
    }
    replace(gbm_serving, card=card).save(tmp_path / "gbm")
    engine = engine_from_files(DEFAULT_POLICY, tmp_path, reader=world(), clock=FixedClock(NOW))
    decided = engine.decide_application(application())
    versions = dict(decided.trace.versions)
    assert versions["model:scorecard"].startswith("scorecard-") and versions["model:gbm"].startswith("gbm-")
    reference = DecisionEngine.from_policy_file(
        DEFAULT_POLICY, reader=world(), models=_models(gbm_serving), clock=FixedClock(NOW)
    ).decide_application(application())
    assert [s.probability_of_default for s in decided.trace.scores] == pytest.approx(
        [s.probability_of_default for s in reference.trace.scores]
    )
