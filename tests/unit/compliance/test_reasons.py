"""Reason texts: every code the baseline policy and the models can emit has a sentence in both languages."""

from __future__ import annotations

import ast
import inspect

import pytest

from fengkong.compliance.disclosure import LANGUAGES
from fengkong.compliance.reasons import default_reason_texts, load_reason_texts, reason_text
from fengkong.errors import InputError
from fengkong.features.standard import STANDARD_FEATURES
from fengkong.services import baseline_policy


def _policy_reason_codes() -> set[str]:
    """Every string the baseline policy assigns to a variable named ``reason`` (also in tuple targets),
    read from its source so that a new rule cannot slip past this test."""
    tree = ast.parse(inspect.getsource(baseline_policy))
    codes: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Assign):
            continue
        for target in node.targets:
            if isinstance(target, ast.Name) and target.id == "reason":
                values = [node.value]
            elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                values = [
                    value
                    for element, value in zip(target.elts, node.value.elts, strict=True)
                    if isinstance(element, ast.Name) and element.id == "reason"
                ]
            else:
                continue
            codes.update(v.value for v in values if isinstance(v, ast.Constant) and isinstance(v.value, str))
    return codes


def test_the_policy_source_yields_its_codes() -> None:
    codes = _policy_reason_codes()
    assert {"score", "fraud:shared_device", "amount_below_minimum", "approved"} <= codes
    assert len(codes) >= 8


@pytest.mark.parametrize("code", sorted(_policy_reason_codes()))
def test_every_baseline_policy_code_has_both_texts(code: str) -> None:
    found = default_reason_texts().lookup(code)
    assert found.key == code  # a rule code is explained by its own entry, never by a model family
    for language in LANGUAGES:
        assert reason_text(code, language).strip()
    assert found.zh_cn != found.en


def test_every_standard_feature_has_both_texts_as_a_model_reason() -> None:
    dictionary = default_reason_texts()
    names = [spec.name for spec in STANDARD_FEATURES.specs]
    assert names
    for name in names:
        for code in (name, f"model:{name}"):
            found = dictionary.lookup(code)
            assert found.zh_cn.strip() and found.en.strip(), code


def test_the_longest_prefix_explains_a_model_code() -> None:
    dictionary = default_reason_texts()
    assert dictionary.lookup("consumer_bureau_score_last").key == "consumer_bureau_score"
    assert dictionary.lookup("consumer_orders_7d").key == "consumer_"
    assert (
        dictionary.text("model:merchant_refund_rate_30d", "en") == "Your shop has made many refunds recently."
    )


def test_an_unknown_code_is_refused_by_name() -> None:
    with pytest.raises(InputError, match="no_such_rule"):
        reason_text("no_such_rule", "en")
    with pytest.raises(InputError, match="code"):
        reason_text("", "zh-CN")
    with pytest.raises(InputError, match="language"):
        default_reason_texts().lookup("score").text("fr")  # type: ignore[arg-type]


def test_a_dictionary_missing_a_language_is_refused() -> None:
    with pytest.raises(InputError, match=r"rules\.score"):
        load_reason_texts("rules:\n  score:\n    en: Low score.\nmodel:\n  x_:\n    zh-CN: 甲\n    en: A\n")
    with pytest.raises(InputError, match="model"):
        load_reason_texts("rules:\n  score:\n    zh-CN: 甲\n    en: A\n")
    with pytest.raises(InputError, match=r"rules\.score"):
        load_reason_texts(
            "rules:\n  score:\n    zh-CN: ' '\n    en: A\nmodel:\n  x_:\n    zh-CN: 甲\n    en: A\n"
        )
