"""Scam text and fake-hotline detection: rules plus a trained classifier over normalised text.

:meth:`ScamDetector.check` normalises the text (:mod:`fengkong.fraud.text`), finds its numbers and checks
each against the brands' official channels on the date (:mod:`fengkong.fraud.numbers`), then scores:

* **Rules** — small pure units behind one ``evaluate`` (:data:`RULES`), each with a weight in (0, 1): a
  claim to be customer service next to a number that is no brand's official channel; a number whose
  official period has ended; a named brand with a number that is not its own; the scripts ("cancel your
  student account", "repair your credit record", refunds and compensation); instructions to borrow and move
  the money; screen-sharing or remote-control apps; upfront fees; urgency. Hits combine as
  ``1 - prod(1 - weight)``. Anti-scam education markers (谨防, 切勿, 反诈...) with no unofficial number
  scale the rule score down by :data:`EDUCATION_DAMPING`: education quotes the scripts to warn against them.
* **Classifier** — :class:`ScamTextClassifier`, TF-IDF over character 1–3-grams of the normalised text with
  every digit run replaced by one placeholder, and logistic regression; trained deterministically from the
  synthetic corpus of :mod:`fengkong.fraud.scam_corpus` (about a second; no pickled artefact to trust).

The score is ``1 - (1 - rules) * (1 - classifier)``; at :data:`SCAM_SCORE_MIN` and above the verdict is
``scam``, at :data:`SUSPICIOUS_SCORE_MIN` and above ``suspicious``, below it ``clean``. Rule arithmetic in
float is fine here: this is a fraud score, never money.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Final, Protocol, Self

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from fengkong.domain import Reason
from fengkong.errors import InputError, require
from fengkong.fraud.numbers import ChannelBook, FoundNumber, load_channels
from fengkong.fraud.scam_corpus import generate
from fengkong.fraud.text import NormalisedText, normalise

SCAM_SCORE_MIN: Final = 0.8
SUSPICIOUS_SCORE_MIN: Final = 0.5
PROTECTIVE_DAMPING: Final = 0.5
#: The training corpus: size and seed (fixed, so every process trains the same model).
TRAINING_TEXTS: Final = 3_000
TRAINING_SEED: Final = 20_261_125


class Verdict(Enum):
    """Outcomes, ordered by priority (the highest wins)."""

    CLEAN = ("clean", 0)
    SUSPICIOUS = ("suspicious", 1)
    SCAM = ("scam", 2)

    def __init__(self, label: str, priority: int) -> None:
        self.label = label
        self.priority = priority

    @classmethod
    def of_score(cls, score: float) -> Verdict:
        if score >= SCAM_SCORE_MIN:
            return cls.SCAM
        if score >= SUSPICIOUS_SCORE_MIN:
            return cls.SUSPICIOUS
        return cls.CLEAN


@dataclass(frozen=True, slots=True)
class ScamContext:
    """What every rule reads: the normalised text, its numbers, the brands it names, the date."""

    text: NormalisedText
    numbers: tuple[FoundNumber, ...]
    brands: tuple[str, ...]
    book: ChannelBook
    on: date

    @property
    def unofficial(self) -> tuple[FoundNumber, ...]:
        return tuple(n for n in self.numbers if not n.official)


class ScamRule(Protocol):
    """One rule: a stable ``code``, a ``weight`` in (0, 1), and ``evaluate`` (a reason when it fires)."""

    @property
    def code(self) -> str: ...

    @property
    def weight(self) -> float: ...

    def evaluate(self, context: ScamContext) -> Reason | None: ...


def _pattern(*alternatives: str) -> re.Pattern[str]:
    return re.compile("|".join(alternatives), re.IGNORECASE)


CUSTOMER_SERVICE_CLAIM: Final = _pattern(
    r"(官方|统一|全国|人工|唯一|24小时).{0,6}(客服|热线|电话|专线)",
    r"客服(热线|电话|专线|中心|号码)",
    r"(我是|这里是|本人是).{0,10}(客服|专员|工作人员|经理|理赔)",
    r"(客服|专员|经理)(微信|qq|电话|手机)",
    r"联系(客服|专员|工作人员|经理)",
    r"理赔(中心|专员)",
)
SCRIPT: Final = _pattern(
    r"注销.{0,8}(账户|账号|学生|校园|贷)",
    r"学生(账户|账号|贷)|校园贷",
    r"(影响|修复|消除|洗白|调整|修改|删除).{0,6}(征信|逾期记录|信用记录)",
    r"(征信|信用记录).{0,4}(修复|消除|洗白|调整|异常|受损)",
    r"(不良|逾期|查询)记录.{0,4}(洗|消除|删除|撤销|清除)|黑名单.{0,4}(洗|消除|删除|撤销|清除)",
    r"(退款|理赔|赔付|退费|返还|补偿|赔偿)",
    r"关闭.{0,8}(服务|功能|保障|会员|扣费)|自动扣费",
    r"(账户|资金|借款).{0,4}(冻结|解冻)",
)
BORROW_AND_TRANSFER: Final = _pattern(
    r"(借|贷|套现|额度).{0,24}(转(账|入|到|给)|汇(款|入|给)|打(到|给))",
    r"安全账户|监管账户|验证账户|清算账户|指定账户|核验账户",
    r"(资金|流水)(验证|核验)|验证(资金|流水)|刷流水|走.{0,2}流水",
)
SCREEN_SHARE: Final = _pattern(
    r"(屏幕|桌面)共享|共享(屏幕|桌面)|开始共享",
    r"远程(协助|控制|操作|帮)",
    r"会议(号|室|软件|app)|腾讯会议|视频会议|向日葵|todesk|zoom",
)
UPFRONT_FEE: Final = _pattern(
    r"(先|预先|提前)(交|缴|付|转|存).{0,8}(费|金|款)",
    r"保证金|解冻金|手续费|工本费|激活费|验资|服务费|会员费",
)
ISOLATION: Final = _pattern(
    r"不要(告诉|跟|和).{0,4}(家人|别人|任何人|家里|朋友)|不要挂断|全程保密|不要去银行",
)
SELF_IDENTIFIED_STAFF: Final = _pattern(
    r"(我是|这里是|这边是|本人是).{0,10}(客服|专员|工作人员|经理|部门|部|中心)"
)
OFF_CHANNEL: Final = _pattern(
    r"(加|添加).{0,6}(微信|qq|v信|vx)|企业微信|加v|微信同号|点击链接|扫码",
)
URGENCY: Final = _pattern(
    r"立即|立刻|马上|尽快|限时|最后期限|截止",
    r"(\d+|两|三|几)?(小时|天|分钟)内|今天之内|今日内|下班前|今晚",
    r"否则|逾期将|不处理将|将被冻结|影响.{0,4}征信",
)
#: Warnings against scams: education quotes the scripts to warn against them.
EDUCATION: Final = _pattern(
    r"谨防|警惕|切勿|千万不要(相信|转账|点击)|不要相信|防骗|反诈|骗子|骗局|是诈骗|都是诈骗|诈骗分子|不法分子|冒充|上当",
    r"诈骗(话术|手段|套路|案例)|典型的?诈骗|被骗|受害人|案例",
    r"从未|从不|不会(要求|向您|让您|以)|96110",
)


@dataclass(frozen=True, slots=True)
class CustomerServiceWithUnofficialNumber:
    """Claims to be customer service or an official hotline and gives a number no brand has."""

    code: str = "customer_service_unofficial_number"
    weight: float = 0.85

    def evaluate(self, context: ScamContext) -> Reason | None:
        claim = CUSTOMER_SERVICE_CLAIM.search(context.text.text)
        if claim is None or not context.unofficial:
            return None
        numbers = ", ".join(n.normalised for n in context.unofficial)
        return Reason(
            self.code, f"claims {claim.group(0)!r} with a number that is no official channel: {numbers}"
        )


@dataclass(frozen=True, slots=True)
class RetiredOfficialNumber:
    """A number that was (or will be) a brand's channel but is not in force on the date."""

    code: str = "official_number_not_in_force"
    weight: float = 0.5

    def evaluate(self, context: ScamContext) -> Reason | None:
        stale = [n.normalised for n in context.unofficial if context.book.was_official(n.normalised)]
        if not stale:
            return None
        return Reason(self.code, f"not an official channel on {context.on.isoformat()}: {', '.join(stale)}")


@dataclass(frozen=True, slots=True)
class BrandWithForeignNumber:
    """Names a brand and gives a number that is not that brand's official channel."""

    code: str = "brand_named_with_unofficial_number"
    weight: float = 0.6

    def evaluate(self, context: ScamContext) -> Reason | None:
        if not context.brands:
            return None
        own = {n.normalised for n in context.numbers if n.official_brand in context.brands}
        foreign = [
            n.normalised for n in context.numbers if n.normalised not in own and n.kind.value != "mobile"
        ]
        if not foreign:
            return None
        return Reason(self.code, f"names {', '.join(context.brands)} with {', '.join(foreign)}")


@dataclass(frozen=True, slots=True)
class PatternRule:
    """The text matches a script, an instruction or a pressure pattern."""

    code: str
    weight: float
    pattern: re.Pattern[str]
    what: str

    def evaluate(self, context: ScamContext) -> Reason | None:
        match = self.pattern.search(context.text.text)
        if match is None:
            return None
        return Reason(self.code, f"{self.what}: {match.group(0)!r}")


RULES: Final[tuple[ScamRule, ...]] = (
    CustomerServiceWithUnofficialNumber(),
    RetiredOfficialNumber(),
    BrandWithForeignNumber(),
    PatternRule(
        "cancel_account_or_credit_script", 0.25, SCRIPT, "cancellation, credit-record or refund script"
    ),
    PatternRule("borrow_and_transfer", 0.6, BORROW_AND_TRANSFER, "asks to borrow and move money"),
    PatternRule("screen_share_app", 0.5, SCREEN_SHARE, "screen sharing or remote control"),
    PatternRule("upfront_fee", 0.4, UPFRONT_FEE, "asks for a fee before money is paid out"),
    PatternRule("isolation", 0.5, ISOLATION, "asks to keep it from family or not to hang up"),
    PatternRule("off_channel_contact", 0.35, OFF_CHANNEL, "moves the contact off official channels"),
    PatternRule("self_identified_staff", 0.3, SELF_IDENTIFIED_STAFF, "a caller presenting as staff"),
    PatternRule("urgency", 0.15, URGENCY, "deadline or threat"),
)


def classifier_input(text: NormalisedText) -> str:
    """What the classifier reads: the normalised text with every digit run as one ``#``."""
    return re.sub(r"\+?\d+", "#", text.text)


class ScamTextClassifier:
    """Character n-gram TF-IDF and logistic regression (scikit-learn contract: ``fit`` returns self)."""

    def __init__(self, ngram_max: int = 3, regularisation: float = 4.0, random_state: int = 0) -> None:
        self.ngram_max = ngram_max
        self.regularisation = regularisation
        self.random_state = random_state

    def fit(self, texts: Sequence[str], labels: Sequence[bool]) -> Self:
        if len(texts) != len(labels) or not texts:
            raise InputError("texts and labels are non-empty and of one length", field="texts")
        if len(set(labels)) != 2:
            raise InputError("training needs both scam and legitimate texts", field="labels")
        self.pipeline_ = Pipeline(
            [
                (
                    "tfidf",
                    TfidfVectorizer(
                        analyzer="char", ngram_range=(1, self.ngram_max), sublinear_tf=True, min_df=2
                    ),
                ),
                (
                    "logistic",
                    LogisticRegression(C=self.regularisation, max_iter=2_000, random_state=self.random_state),
                ),
            ]
        )
        inputs = [classifier_input(normalise(t)) for t in texts]
        self.pipeline_.fit(inputs, np.asarray(labels, dtype=bool))
        return self

    def predict_proba(self, texts: Sequence[NormalisedText]) -> np.ndarray:
        """Probability of scam per normalised text."""
        probabilities = self.pipeline_.predict_proba([classifier_input(t) for t in texts])
        column = list(self.pipeline_.classes_).index(True)
        return np.asarray(probabilities[:, column], dtype=float)


@functools.cache
def trained_classifier(count: int = TRAINING_TEXTS, seed: int = TRAINING_SEED) -> ScamTextClassifier:
    """The classifier trained on ``count`` synthetic texts of ``seed`` (once per process)."""
    corpus = generate(count, seed)
    return ScamTextClassifier().fit([c.text for c in corpus], [c.is_scam for c in corpus])


@dataclass(frozen=True, slots=True)
class ScamCheck:
    """The answer for one text."""

    verdict: Verdict
    score: float
    rule_score: float
    classifier_score: float
    reasons: tuple[Reason, ...]
    numbers: tuple[FoundNumber, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "verdict": self.verdict.label,
            "score": round(self.score, 4),
            "reasons": [{"code": r.code, "detail": r.detail} for r in self.reasons],
            "numbers": [n.to_json() for n in self.numbers],
            "rule_score": round(self.rule_score, 4),
            "classifier_score": round(self.classifier_score, 4),
        }


@dataclass(frozen=True)
class ScamDetector:
    """Rules and the classifier over one channel book."""

    book: ChannelBook
    classifier: ScamTextClassifier
    rules: tuple[ScamRule, ...] = RULES

    @classmethod
    def default(cls) -> ScamDetector:
        return cls(load_channels(), trained_classifier())

    @staticmethod
    def _protective_context(context: ScamContext) -> Reason | None:
        """A warning or an official notice that gives no way to reach a scammer: no unofficial number and
        no off-channel contact. The fake-hotline scam needs a channel to the victim; education and official
        notices quote its phrases without one."""
        if context.unofficial or OFF_CHANNEL.search(context.text.text):
            return None
        education = EDUCATION.search(context.text.text)
        if education is not None:
            return Reason(
                "education_context", f"warns against scams ({education.group(0)!r}), no contact given"
            )
        official = [n.normalised for n in context.numbers if n.official]
        if official:
            return Reason("official_channel_only", f"gives only official channels: {', '.join(official)}")
        return None

    def check(self, text: str, on: date) -> ScamCheck:
        if not isinstance(text, str) or not text.strip():
            raise InputError("is empty: there is no text to check", field="text")
        normalised = normalise(text)
        context = ScamContext(
            normalised,
            tuple(self.book.check(normalised, on)),
            self.book.brands_named(normalised.text),
            self.book,
            on,
        )
        reasons = tuple(r for r in (rule.evaluate(context) for rule in self.rules) if r is not None)
        weights = {rule.code: rule.weight for rule in self.rules}
        rule_score = 1.0 - math.prod(1.0 - weights[r.code] for r in reasons)
        classifier_score = float(self.classifier.predict_proba([normalised])[0])
        score = 1.0 - (1.0 - rule_score) * (1.0 - classifier_score)
        protective = self._protective_context(context)
        if protective is not None:
            score *= PROTECTIVE_DAMPING
            reasons += (protective,)
        require(0.0 <= score <= 1.0, f"scam score {score} outside [0, 1]")
        if classifier_score >= SUSPICIOUS_SCORE_MIN:
            reasons += (Reason("classifier", f"text reads like the scam corpus (p={classifier_score:.2f})"),)
        return ScamCheck(
            Verdict.of_score(score), score, rule_score, classifier_score, reasons, context.numbers
        )
