"""Reason texts: every rule and model reason code as a plain customer sentence in Chinese and English.

The dictionary lives in ``data/reason_texts.yaml``:

* ``rules`` — the codes decision rules emit (``fraud:shared_device``, ``score``...), looked up exactly;
* ``model`` — sentences for the characteristics a scorecard or gradient-boosting model names as reason
  codes. A model reason code is a feature name (``consumer_bureau_score_last``), optionally written
  ``model:<feature>``; it takes the sentence of the longest ``model`` key its name starts with, so a
  feature family (``consumer_bureau_``) is always explained, and a narrower key refines it.

An unknown code raises :class:`~fengkong.errors.InputError` naming it: nothing reaches a borrower without a
reviewed sentence.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Final

import yaml

from fengkong.compliance.disclosure import LANGUAGES, Language
from fengkong.errors import InputError

MODEL_PREFIX: Final = "model:"
_SECTIONS: Final = ("rules", "model")


@dataclass(frozen=True, slots=True)
class ReasonText:
    """The sentences for one code; ``key`` is the dictionary entry that explained it."""

    code: str
    key: str
    zh_cn: str
    en: str

    def text(self, language: Language) -> str:
        if language == "zh-CN":
            return self.zh_cn
        if language == "en":
            return self.en
        raise InputError(f"must be one of {list(LANGUAGES)}, got {language!r}", field="language")


@dataclass(frozen=True, slots=True)
class ReasonDictionary:
    rules: Mapping[str, tuple[str, str]]  # code -> (zh-CN, en)
    model: Mapping[str, tuple[str, str]]  # feature-name prefix -> (zh-CN, en)

    def lookup(self, code: str) -> ReasonText:
        """The sentences for ``code``; :class:`InputError` naming it when no entry explains it."""
        if not isinstance(code, str) or not code.strip():
            raise InputError("must be a non-empty reason code", field="code")
        if code in self.rules:
            zh_cn, en = self.rules[code]
            return ReasonText(code, code, zh_cn, en)
        name = code.removeprefix(MODEL_PREFIX)
        matches = [prefix for prefix in self.model if name.startswith(prefix)]
        if not matches:
            raise InputError(f"unknown reason code {code!r}: it has no customer text", field="code")
        key = max(matches, key=len)
        zh_cn, en = self.model[key]
        return ReasonText(code, key, zh_cn, en)

    def text(self, code: str, language: Language) -> str:
        return self.lookup(code).text(language)


def load_reason_texts(text: str | None = None) -> ReasonDictionary:
    """The dictionary from YAML text (default: the packaged ``data/reason_texts.yaml``), every entry checked
    to carry a non-empty sentence in each language."""
    document = yaml.safe_load(text if text is not None else _packaged())
    if not isinstance(document, dict):
        raise InputError("must be a mapping with 'rules' and 'model'", field="reason_texts")
    unknown = sorted(set(document) - set(_SECTIONS))
    if unknown:
        raise InputError(f"unknown sections {unknown}", field="reason_texts")
    sections: dict[str, dict[str, tuple[str, str]]] = {}
    for section in _SECTIONS:
        entries = document.get(section)
        if not isinstance(entries, dict) or not entries:
            raise InputError("must be a non-empty mapping of code to texts", field=f"reason_texts.{section}")
        parsed: dict[str, tuple[str, str]] = {}
        for code, texts in entries.items():
            field = f"reason_texts.{section}.{code}"
            if not isinstance(code, str) or not code.strip():
                raise InputError("a code must be a non-empty string", field=field)
            if not isinstance(texts, dict) or set(texts) != set(LANGUAGES):
                raise InputError(f"must give exactly the languages {list(LANGUAGES)}", field=field)
            values = [texts[language] for language in LANGUAGES]
            if not all(isinstance(value, str) and value.strip() for value in values):
                raise InputError("every language needs a non-empty sentence", field=field)
            parsed[code] = (values[0].strip(), values[1].strip())
        sections[section] = parsed
    return ReasonDictionary(rules=sections["rules"], model=sections["model"])


@functools.cache
def default_reason_texts() -> ReasonDictionary:
    """The packaged dictionary, loaded once."""
    return load_reason_texts()


def reason_text(code: str, language: Language) -> str:
    """The customer sentence for ``code`` in ``language`` from the packaged dictionary."""
    return default_reason_texts().text(code, language)


def _packaged() -> str:
    return resources.files("fengkong.compliance").joinpath("data", "reason_texts.yaml").read_text("utf-8")
