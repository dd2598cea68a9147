"""A borrower-facing question answerer: deterministic, intent-based, answering only from the borrower's own
loan data passed in (no language model, nothing looked up elsewhere).

* **Intents** (:class:`Intent`): my bill, due date, annualised rate, repayment options, how to verify an
  official channel, and anything else, which is handed to a person. A question is normalised (full-width to
  half-width, traditional to simplified Chinese with OpenCC, lower case) and matched against keyword lists in
  Chinese and English; the first intent in :data:`INTENT_ORDER` with a hit wins, so "when is my bill due" is
  a due-date question. A question that mentions a phone number is always a channel-verification question:
  that is the fake-hotline scam's opening move (DOMAIN.md, "Fake customer-service hotlines").
* **Answers** are fixed sentences (``data/customer_service.yaml``) in Chinese or English, filled with the
  borrower's figures (amounts as decimal strings, dates ``YYYY-MM-DD``, the annualised rate with its method).
  A figure the caller does not have (a loan booked without its disclosed rate) is not guessed: the answer
  points to the contract.
* **Phone numbers.** An answer never contains a phone number that is not in the configured list of official
  channels: it never repeats the question, tells the borrower whether a number they mention is official
  without echoing an unofficial one, and a last guard (:func:`redact_unofficial_numbers`) removes any
  number-like run that is not official, in case a template or a loan's data ever carried one.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from importlib import resources
from typing import Final, Literal

import opencc
import yaml

from fengkong import bounds
from fengkong.errors import InputError, InvariantError
from fengkong.money import Money

Language = Literal["zh-CN", "en"]


class Intent(StrEnum):
    VERIFY_CHANNEL = "verify_channel"
    ANNUAL_RATE = "annual_rate"
    REPAYMENT_OPTIONS = "repayment_options"
    DUE_DATE = "due_date"
    BILL = "bill"
    HAND_OFF = "hand_off"


INTENT_ORDER: Final = (
    Intent.VERIFY_CHANNEL,
    Intent.ANNUAL_RATE,
    Intent.REPAYMENT_OPTIONS,
    Intent.DUE_DATE,
    Intent.BILL,
)

KEYWORDS: Final[dict[Intent, tuple[str, ...]]] = {
    Intent.VERIFY_CHANNEL: (
        "客服电话",
        "客服热线",
        "官方",
        "热线",
        "真假",
        "真的吗",
        "是不是你们",
        "是你们的",
        "诈骗",
        "骗子",
        "核实",
        "注销",
        "学生贷",
        "安全账户",
        "影响征信",
        "customer service",
        "hotline",
        "official",
        "scam",
        "fraud",
        "is this your",
        "verify",
        "safe account",
        "cancel my account",
        "phone number",
        "call you",
    ),
    Intent.ANNUAL_RATE: ("年化", "利率", "利息", "费率", "apr", "interest", "annual rate", "rate"),
    Intent.REPAYMENT_OPTIONS: (
        "怎么还",
        "如何还",
        "提前还",
        "提前结清",
        "还款方式",
        "分期",
        "延期",
        "还不上",
        "how do i pay",
        "how can i pay",
        "how to pay",
        "repay early",
        "pay early",
        "pay off",
        "payoff",
        "options",
        "installments",
        "defer",
        "can't pay",
        "cannot pay",
    ),
    Intent.DUE_DATE: ("还款日", "哪天", "什么时候还", "几号", "到期", "截止", "due", "when"),
    Intent.BILL: (
        "账单",
        "欠",
        "多少钱",
        "应还",
        "还多少",
        "余额",
        "bill",
        "statement",
        "owe",
        "balance",
        "how much",
    ),
}


@functools.cache
def texts() -> dict[str, dict[str, str]]:
    """The answer sentences (``data/customer_service.yaml``), each checked to exist in both languages."""
    raw = resources.files("fengkong.compliance").joinpath("data", "customer_service.yaml").read_text("utf-8")
    document = yaml.safe_load(raw)
    for key, entry in document.items():
        if not isinstance(entry, dict) or set(entry) != {"zh-CN", "en"}:
            raise InvariantError(f"customer-service text {key!r} needs zh-CN and en")
    return {str(key): {str(k): str(v) for k, v in entry.items()} for key, entry in document.items()}


def _say(key: str, language: Language, **values: object) -> str:
    return texts()[key][language].format(**values)


def _join(parts: Sequence[str], language: Language) -> str:
    return ("" if language == "zh-CN" else " ").join(parts)


@dataclass(frozen=True, slots=True)
class OfficialChannel:
    """One official channel: ``phone`` (a number), ``app`` or ``web`` (a path or address), with a label."""

    kind: Literal["phone", "app", "web"]
    value: str
    label_zh: str
    label_en: str


@dataclass(frozen=True, slots=True)
class OfficialChannels:
    """The configured list; phone numbers are compared as dialled inside China (:func:`national_digits`)."""

    channels: tuple[OfficialChannel, ...]

    def __post_init__(self) -> None:
        for channel in self.channels:
            if channel.kind == "phone" and not 3 <= len(national_digits(channel.value)) <= 15:
                raise InputError(f"not a phone number: {channel.value!r}", field="official_channels")

    def is_official(self, text: str) -> bool:
        """Whether ``text`` is one of the official phone numbers, in any spelling."""
        wanted = national_digits(text)
        return any(c.kind == "phone" and national_digits(c.value) == wanted for c in self.channels)


@dataclass(frozen=True, slots=True)
class LoanSummary:
    """What the answerer knows of one of the borrower's loans (all from the borrower's own records)."""

    loan_id: str
    product: str
    currency: str
    outstanding_fen: int  # principal unpaid
    due_now_fen: int  # fallen due and unpaid (penalty included)
    days_past_due: int
    next_due_on: date | None
    next_due_fen: int
    installments_left: int
    annual_rate_pct: Decimal | None = None  # the disclosed annualised rate, None when not on file
    rate_method: str | None = None  # "irr-periodic", "irr-dated-actual/365", "simple"


@dataclass(frozen=True, slots=True)
class Answer:
    intent: Intent
    language: Language
    text: str
    handed_off: bool


@functools.cache
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def normalise_question(text: str) -> str:
    half = unicodedata.normalize("NFKC", text)
    return str(_t2s().convert(half)).lower()


def national_digits(text: str) -> str:
    """A phone number as dialled inside China: digits only, a ``+86``/``0086`` prefix dropped (the form of the
    fraud package's channel book, ``fraud/data/official_channels.yaml``)."""
    digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", text))
    if digits.startswith("0086"):
        return digits[4:]
    if digits.startswith("86") and len(digits) >= 12:
        return digits[2:]
    return digits


# A digit run of 5 or more digits, allowing the separators and look-alike evasions scam texts use between
# digits (spaces, dashes, dots, brackets, slashes); full-width digits are folded to ASCII by NFKC first.
_NUMBER_RUN: Final = re.compile(r"[+＋]?\d(?:[\s\-.()/·_（）－—．・]{0,3}\d){4,}")


def numbers_in(text: str) -> list[str]:
    """Every phone-like number in ``text`` as digits (a ``0086``/``86`` country prefix kept), in order."""
    found = []
    for match in _NUMBER_RUN.finditer(text):
        digits = unicodedata.normalize("NFKC", re.sub(r"\D", "", match.group(0)))
        found.append(("+" if match.group(0)[0] in "+＋" else "") + digits)
    return found


def classify(question: str) -> Intent:
    """The intent of ``question`` (see the module docstring)."""
    if numbers_in(question):
        return Intent.VERIFY_CHANNEL
    text = normalise_question(question)
    for intent in INTENT_ORDER:
        if any(keyword in text for keyword in KEYWORDS[intent]):
            return intent
    return Intent.HAND_OFF


def _amount(fen: int, currency: str, language: Language) -> str:
    text = Money(fen, currency).format()
    return f"{text} 元" if language == "zh-CN" and currency == "CNY" else f"{text} {currency}"


def _channels_text(channels: OfficialChannels, language: Language) -> str:
    parts = [
        f"{channel.label_zh if language == 'zh-CN' else channel.label_en}: {channel.value}"
        for channel in channels.channels
    ]
    return ("；" if language == "zh-CN" else "; ").join(parts)


def _verify_text(question: str, channels: OfficialChannels, language: Language) -> str:
    mentioned = numbers_in(question)
    parts = []
    if any(channels.is_official(number) for number in mentioned):
        parts.append(_say("number_official", language))
    if any(not channels.is_official(number) for number in mentioned):
        parts.append(_say("number_not_official", language))
    parts.append(_say("official_channels", language, channels=_channels_text(channels, language)))
    parts.append(_say("never_ask", language))
    return _join(parts, language)


def _rate_text(loans: Sequence[LoanSummary], language: Language) -> str:
    parts = []
    for loan in loans:
        if loan.annual_rate_pct is None:
            parts.append(_say("rate_unknown", language, loan_id=loan.loan_id))
            continue
        method = _say("rate_method_simple" if loan.rate_method == "simple" else "rate_method_irr", language)
        parts.append(
            _say("rate", language, loan_id=loan.loan_id, rate_pct=loan.annual_rate_pct, method=method)
        )
    return _join(parts, language)


def _bill_text(loans: Sequence[LoanSummary], language: Language) -> str:
    return _join(
        [
            _say(
                "bill_overdue" if loan.days_past_due else "bill",
                language,
                loan_id=loan.loan_id,
                outstanding=_amount(loan.outstanding_fen, loan.currency, language),
                due_now=_amount(loan.due_now_fen, loan.currency, language),
                days=loan.days_past_due,
            )
            for loan in loans
        ],
        language,
    )


def _due_text(loans: Sequence[LoanSummary], language: Language) -> str:
    parts = []
    for loan in loans:
        if loan.next_due_on is None:
            parts.append(_say("due_none", language, loan_id=loan.loan_id))
        else:
            amount = _amount(loan.next_due_fen, loan.currency, language)
            parts.append(
                _say(
                    "due", language, loan_id=loan.loan_id, due_on=loan.next_due_on.isoformat(), amount=amount
                )
            )
    return _join(parts, language)


def _options_text(loans: Sequence[LoanSummary], language: Language) -> str:
    left = [
        _say("options_left", language, loan_id=loan.loan_id, count=loan.installments_left)
        for loan in loans
        if loan.installments_left
    ]
    return _join([_say("options", language), *left], language)


def redact_unofficial_numbers(text: str, channels: OfficialChannels, keep: Sequence[str] = ()) -> str:
    """``text`` with every number-like run removed unless it is an official phone number or one of ``keep``
    (strings the answer itself put there: amounts, dates, loan IDs)."""

    def replace(match: re.Match[str]) -> str:
        run = match.group(0)
        if any(run in kept for kept in keep):
            return run
        if channels.is_official(run):
            return run
        return "***"

    return _NUMBER_RUN.sub(replace, text)


def answer(
    question: str, loans: Sequence[LoanSummary], channels: OfficialChannels, language: str = "zh-CN"
) -> Answer:
    """The answer to ``question`` from ``loans`` (the asking borrower's own) and the official ``channels``."""
    if language not in ("zh-CN", "en"):
        raise InputError(f"must be 'zh-CN' or 'en', got {language!r}", field="language")
    lang: Language = "zh-CN" if language == "zh-CN" else "en"
    if not isinstance(question, str) or not question.strip():
        raise InputError("ask a question", field="question")
    if len(question) > bounds.customer_question_chars_max:
        raise InputError(f"must be at most {bounds.customer_question_chars_max} characters", field="question")
    intent = classify(question)
    needs_loans = intent in {Intent.ANNUAL_RATE, Intent.BILL, Intent.DUE_DATE}
    if intent is Intent.HAND_OFF or (needs_loans and not loans):
        parts = [_say("no_loans", lang)] if needs_loans else []
        parts.append(_say("hand_off", lang, channels=_channels_text(channels, lang)))
        return Answer(intent, lang, _guard(_join(parts, lang), channels, loans), True)
    if intent is Intent.VERIFY_CHANNEL:
        text = _verify_text(question, channels, lang)
    elif intent is Intent.ANNUAL_RATE:
        text = _rate_text(loans, lang)
    elif intent is Intent.BILL:
        text = _bill_text(loans, lang)
    elif intent is Intent.DUE_DATE:
        text = _due_text(loans, lang)
    else:
        text = _options_text(loans, lang)
    return Answer(intent, lang, _guard(text, channels, loans), False)


def _guard(text: str, channels: OfficialChannels, loans: Sequence[LoanSummary]) -> str:
    keep: list[str] = []
    for loan in loans:
        keep += [
            loan.loan_id,
            Money(loan.outstanding_fen, loan.currency).format(),
            Money(loan.due_now_fen, loan.currency).format(),
            Money(loan.next_due_fen, loan.currency).format(),
        ]
        if loan.next_due_on is not None:
            keep.append(loan.next_due_on.isoformat())
        if loan.annual_rate_pct is not None:
            keep.append(str(loan.annual_rate_pct))
    return redact_unofficial_numbers(text, channels, keep)
