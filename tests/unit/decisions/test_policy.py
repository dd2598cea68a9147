"""The policy language: loading, validation (errors name file, line and problem), compiled rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from fengkong.decisions.policy import (
    STAGE_ORDER,
    Flow,
    Policy,
    RuleResult,
    Stage,
    evaluate_rule,
    load_policy,
    parse_policy,
    rule_outcome,
)
from fengkong.decisions.policy_yaml import PolicyError
from fengkong.domain.decision import Outcome
from tests.unit.decisions.conftest import DEFAULT_POLICY

HEAD = """\
policy:
  name: tiny
  version: "1"
models:
  champion: scorecard
eligibility:
  age_years_min: 18
  age_years_max: 60
  debt_service_ratio_max: "0.5"
products:
  installment:
    method: equal-installment
    day_count: 30/360
    installments: [12]
    amount_min_fen: 50000
    amount_max_fen: 5000000
risk_bands:
  - {band: A, pd_max: "0.05", annual_rate: "0.12", line_max_fen: 100000, income_multiple: "1"}
pricing:
  offer_validity_days: 7
"""
RULE = """\
rules:
  - id: r1
    stage: fraud
    when: device_accounts_distinct_24h >= 3
    outcome: decline
    reason: fraud:shared_device
"""


def _parse(text: str) -> Policy:
    return parse_policy(text, "tiny.yaml")


def test_the_default_policy_loads_with_thirty_rules_or_more(default_policy: Policy) -> None:
    assert len(default_policy.rules) >= 30
    assert default_policy.version.startswith("default@2026.11.25-1+")
    order = {stage: position for position, stage in enumerate(STAGE_ORDER)}
    positions = [order[rule.stage] for rule in default_policy.rules]
    assert positions == sorted(positions)
    onboarding = default_policy.rules_for(Flow.ONBOARDING)
    authorisation = default_policy.rules_for(Flow.AUTHORISATION)
    assert len(onboarding) >= 30 and authorisation
    assert all(rule.stage is not Stage.CREDIT for rule in authorisation)
    assert "device_accounts_distinct_30d" in default_policy.feature_variables(Flow.ONBOARDING)
    assert "consumer_logins_1h" in default_policy.feature_variables(Flow.AUTHORISATION)


def test_a_minimal_policy_loads() -> None:
    policy = _parse(HEAD + RULE)
    (rule,) = policy.rules
    assert rule.variables == ("device_accounts_distinct_24h",)
    assert rule.line == HEAD.count("\n") + 4
    assert policy.band_for(0.05) is not None and policy.band_for(0.0501) is None


def _line_of(text: str, fragment: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), start=1) if fragment in line)


@pytest.mark.parametrize(
    ("replace", "by", "problem"),
    [
        ("device_accounts_distinct_24h >= 3", "device_accounts_distinct_24h >= ", "does not compile"),
        ("device_accounts_distinct_24h >= 3", "no_such_feature >= 3", "unknown variable 'no_such_feature'"),
        ("device_accounts_distinct_24h >= 3", "pd_champion > 0.1", "scores are read only by credit-stage"),
        (
            "device_accounts_distinct_24h >= 3",
            "device_accounts_distinct_24h * 2 > 3",
            "every number is a double",
        ),
        ("device_accounts_distinct_24h >= 3", "device_accounts_distinct_24h + 1.0", "must be a condition"),
        ("reason: fraud:shared_device", "reason: fraud:no_text", "has no customer text"),
        ("outcome: decline", "outcome: reject", "must be one of approve, review, decline"),
        ("stage: fraud", "stage: vibes", "must be one of identity"),
        ("    outcome: decline", "    outcome: decline\n    colour: red", "unknown key 'colour'"),
    ],
)
def test_a_bad_rule_is_refused_naming_file_line_and_problem(replace: str, by: str, problem: str) -> None:
    text = HEAD + RULE.replace(replace, by)
    with pytest.raises(PolicyError) as caught:
        _parse(text)
    error = caught.value
    assert error.path == "tiny.yaml"
    assert problem in str(error)
    assert error.line == _line_of(text, by.splitlines()[-1].strip())
    assert str(error).startswith(f"tiny.yaml:{error.line} ")


@pytest.mark.parametrize(
    ("replace", "by", "problem"),
    [
        ('annual_rate: "0.12"', "annual_rate: 0.12", "write decimals as strings"),
        ("offer_validity_days: 7", "offer_validity_days: 90", "between 1 and 30"),
        ("champion: scorecard", "champion: scorecard\n  inline: [gbm]", "must be scored inline"),
        ("age_years_max: 60", "age_years_max: 10", "between 18 and 150"),
        ("installments: [12]", "installments: [0]", "installment counts from 1 to 60"),
        ("method: equal-installment", "method: balloon", "must be one of"),
    ],
)
def test_a_bad_section_is_refused_naming_its_line(replace: str, by: str, problem: str) -> None:
    text = HEAD.replace(replace, by) + RULE
    with pytest.raises(PolicyError, match=problem) as caught:
        _parse(text)
    assert caught.value.line == _line_of(text, by.splitlines()[-1].strip())


def test_duplicates_and_order_are_refused() -> None:
    twice = HEAD + RULE + RULE.removeprefix("rules:\n")
    with pytest.raises(PolicyError, match="duplicate rule id") as caught:
        _parse(twice)
    assert caught.value.line == twice.count("\n") - 4
    duplicate_key = HEAD.replace('  version: "1"', '  version: "1"\n  version: "2"') + RULE
    with pytest.raises(PolicyError, match="duplicate key 'version'"):
        _parse(duplicate_key)
    bands = HEAD.replace(
        "risk_bands:\n",
        "risk_bands:\n"
        '  - {band: Z, pd_max: "0.5", annual_rate: "0.2", line_max_fen: 1, income_multiple: "1"}\n',
    )
    with pytest.raises(PolicyError, match="pd_max must increase"):
        _parse(bands + RULE)


def test_broken_yaml_and_missing_files_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="not valid YAML") as caught:
        _parse(HEAD + "rules: [\n  - {id: x\n")
    assert caught.value.line >= HEAD.count("\n")
    with pytest.raises(PolicyError, match="no such file"):
        load_policy(tmp_path / "absent.yaml")
    with pytest.raises(PolicyError, match="must be a non-empty list of rules"):
        _parse(HEAD)
    with pytest.raises(PolicyError, match="a mapping of sections"):
        _parse("- just\n- a list\n")


def test_rules_evaluate_to_fired_passed_missing_or_error() -> None:
    policy = _parse(
        HEAD
        + RULE
        + """\
  - id: r2
    stage: fraud
    when: device_accounts_distinct_24h >= 3
    outcome: review
    reason: fraud:shared_device
    if_missing: fire
  - id: r3
    stage: velocity
    when: product.startsWith("x") && consumer_logins_1h > 1
    outcome: review
    reason: fraud:velocity
"""
    )
    r1, r2, r3 = policy.rules
    assert evaluate_rule(r1, {"device_accounts_distinct_24h": 3.0}).status == "fired"
    assert evaluate_rule(r1, {"device_accounts_distinct_24h": 2.0}).status == "passed"
    missing = evaluate_rule(r1, {"device_accounts_distinct_24h": None})
    assert missing.status == "missing" and rule_outcome(r1, missing) is None
    fired_when_missing = evaluate_rule(r2, {"device_accounts_distinct_24h": None})
    assert rule_outcome(r2, fired_when_missing) == (Outcome.REVIEW, "fraud:shared_device")
    broken = evaluate_rule(r3, {"product": 3.0, "consumer_logins_1h": 2.0})  # a number where text belongs
    assert broken.status == "error" and broken.error
    assert rule_outcome(r3, broken) == (Outcome.REVIEW, "policy:rule_error")
    assert evaluate_rule(r3, {"product": "x", "consumer_logins_1h": 2.0}) == RuleResult(
        "r3", "fired", (("consumer_logins_1h", 2.0), ("product", "x"))
    )


def test_the_packaged_file_is_the_one_tests_load() -> None:
    assert DEFAULT_POLICY.is_file()
    assert load_policy(DEFAULT_POLICY).digest == load_policy(DEFAULT_POLICY).digest


def test_no_code_of_the_decision_engine_calls_eval_or_exec() -> None:
    import ast

    package = DEFAULT_POLICY.parents[1]
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in {"eval", "exec", "compile"}, f"{path.name} calls {node.func.id}"
