"""The customer-service answerer: intents in Chinese (simplified and traditional) and English, answers from
the borrower's own figures, a hand-off for anything else, and never a phone number outside the official list.

Every phone number here is fictitious: official ones are the made-up 400-000-000x / 95000 numbers of the
fraud package's fictitious brands, the others are 138-0000-xxxx style or plainly invented.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from fengkong.clock import FixedClock
from fengkong.compliance.customer_service import (
    Intent,
    LoanSummary,
    OfficialChannel,
    OfficialChannels,
    answer,
    classify,
    national_digits,
    numbers_in,
    redact_unofficial_numbers,
)
from fengkong.domain.products import (
    AnnualisedRate,
    DayCount,
    Offer,
    ProductKind,
    ProductTerms,
    RepaymentMethod,
)
from fengkong.errors import InputError
from fengkong.lending.schedule import build_schedule
from fengkong.money import Money
from fengkong.services import customer_service as service
from fengkong.services import ledger as ledger_service
from fengkong.services import loans as loans_service
from fengkong.store import migrate
from fengkong.store.config import make_engine
from fengkong.store.ledger import LedgerRepository
from fengkong.store.offers import OffersRepository

CHANNELS = OfficialChannels(
    (
        OfficialChannel("phone", "400-000-0001", "客服热线", "hotline"),
        OfficialChannel("phone", "95000", "客服专线", "service code"),
        OfficialChannel("app", "App → 我的 → 在线客服", "应用内在线客服", "in-app chat"),
    )
)
LOAN = LoanSummary(
    loan_id="L-000123",
    product="installment",
    currency="CNY",
    outstanding_fen=503_685,
    due_now_fen=105_315,
    days_past_due=3,
    next_due_on=date(2026, 3, 31),
    next_due_fen=105_315,
    installments_left=5,
    annual_rate_pct=Decimal("19.56"),
    rate_method="irr-periodic",
)


@pytest.mark.parametrize(
    ("question", "intent"),
    [
        ("我这个月的账单是多少？", Intent.BILL),
        ("How much do I owe?", Intent.BILL),
        ("我下一期还款日是几号", Intent.DUE_DATE),
        ("When is my bill due?", Intent.DUE_DATE),
        ("年化利率是多少", Intent.ANNUAL_RATE),
        ("我這筆借款的年化利率是多少", Intent.ANNUAL_RATE),  # traditional characters
        ("What's the APR on my loan?", Intent.ANNUAL_RATE),
        ("可以提前还款吗？", Intent.REPAYMENT_OPTIONS),
        ("I can't pay this month, what are my options", Intent.REPAYMENT_OPTIONS),
        ("你们的官方客服电话是什么", Intent.VERIFY_CHANNEL),
        ("有人说我的学生贷要注销不然影响征信", Intent.VERIFY_CHANNEL),
        ("Is 400 000 0001 really your number?", Intent.VERIFY_CHANNEL),
        ("我想投诉骑手送餐太慢", Intent.HAND_OFF),
        ("hello", Intent.HAND_OFF),
    ],
)
def test_questions_are_classified_by_intent(question: str, intent: Intent) -> None:
    assert classify(question) is intent


def test_answers_come_from_the_borrowers_own_figures() -> None:
    bill = answer("我的账单", [LOAN], CHANNELS, "zh-CN")
    assert "L-000123" in bill.text and "5036.85 元" in bill.text and "1053.15 元" in bill.text
    assert "逾期 3 天" in bill.text and not bill.handed_off
    due = answer("When is my next payment due?", [LOAN], CHANNELS, "en")
    assert "2026-03-31" in due.text and "1053.15 CNY" in due.text
    rate = answer("年化利率是多少", [LOAN], CHANNELS, "zh-CN")
    assert "19.56%" in rate.text and "IRR" in rate.text
    unknown = answer("what is the interest rate", [replace(LOAN, annual_rate_pct=None)], CHANNELS, "en")
    assert "contract" in unknown.text and "%" not in unknown.text
    options = answer("可以提前还款吗", [LOAN], CHANNELS, "zh-CN")
    assert "还剩 5 期" in options.text


def test_without_loans_or_intent_the_question_goes_to_a_person_with_the_official_channels() -> None:
    none = answer("我的账单是多少", [], CHANNELS, "zh-CN")
    assert none.handed_off and "没有借款记录" in none.text and "400-000-0001" in none.text
    other = answer("Tell me a joke", [LOAN], CHANNELS, "en")
    assert other.intent is Intent.HAND_OFF and other.handed_off and "in-app chat" in other.text


def test_a_mentioned_number_is_judged_without_echoing_an_unofficial_one() -> None:
    official = answer("400-000-0001 是你们的电话吗", [LOAN], CHANNELS, "zh-CN")
    assert "是我们的官方客服号码" in official.text and "不是我们的官方渠道" not in official.text
    fake = answer("客服让我打 138-0000-4321 注销学生贷", [LOAN], CHANNELS, "zh-CN")
    assert "不是我们的官方渠道" in fake.text and "安全账户" in fake.text
    assert "43214321"[:4] not in re.sub(r"\D", "", fake.text)
    assert "400-000-0001" in fake.text and "95000" in fake.text


EVASIONS = (
    "{n}",
    "{a} {b} {c}",
    "{a}-{b}-{c}",
    "+86 {n}",
    "0086{n}",
    "（{a}）{b}{c}",
    "{fw}",
    "{a}.{b}.{c}",
)


@given(
    number=st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
    template=st.sampled_from(EVASIONS),
    question=st.sampled_from(
        [
            "官方客服电话是{x}吗",
            "我的账单多少，客服{x}说我逾期了",
            "Call me at {x} about my bill",
            "年化利率 {x}",
            "可以提前还款吗 {x}",
            "{x}",
            "what is my due date? my number is {x}",
        ]
    ),
    language=st.sampled_from(["zh-CN", "en"]),
)
def test_no_unofficial_number_is_ever_echoed(
    number: str, template: str, question: str, language: str
) -> None:
    fullwidth = "".join(chr(ord(d) + 0xFEE0) for d in number)
    spelled = template.format(n=number, a=number[:3], b=number[3:7], c=number[7:], fw=fullwidth)
    reply = answer(question.format(x=spelled), [LOAN], CHANNELS, language)
    data_runs = {"20260331", "503685", "105315", "000123"}  # the loan's own date, amounts and ID
    for found in numbers_in(reply.text):
        assert CHANNELS.is_official(found) or found in data_runs, f"{found} in {reply.text!r}"
        assert number[3:] not in found or CHANNELS.is_official(found)


def test_the_last_guard_removes_any_unofficial_number_a_template_might_carry() -> None:
    text = "Call 400-000-0001 or 95000, not 138 0000 9999 or ０２１-１２３４５６７８; L-000123 due 2026-03-31"
    cleaned = redact_unofficial_numbers(text, CHANNELS, keep=["L-000123", "2026-03-31"])
    assert (
        "400-000-0001" in cleaned and "95000" in cleaned and "L-000123" in cleaned and "2026-03-31" in cleaned
    )
    assert "9999" not in cleaned and "12345678" not in re.sub(r"\D", "", cleaned)
    assert national_digits("+86 400 000 0001") == national_digits("0086-4000000001") == "4000000001"


@pytest.mark.parametrize(
    ("question", "language", "field"),
    [("", "zh-CN", "question"), ("账单", "fr", "language"), ("账" * 2001, "zh-CN", "question")],
)
def test_bad_questions_are_refused_naming_the_field(question: str, language: str, field: str) -> None:
    with pytest.raises(InputError) as caught:
        answer(question, [LOAN], CHANNELS, language)
    assert caught.value.field == field


# -- the service on a real loan book -------------------------------------------------------------------------

T0 = datetime(2026, 1, 31, 2, 0, tzinfo=UTC)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    url = f"sqlite:///{tmp_path / 'cs.sqlite'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


def test_the_service_answers_from_the_asking_borrowers_loans_only(engine: sa.Engine) -> None:
    clock = FixedClock(T0)
    terms = ProductTerms(
        product=ProductKind.INSTALLMENT,
        annual_rate=Decimal("0.18"),
        method=RepaymentMethod.EQUAL_INSTALLMENT,
        day_count=DayCount.THIRTY_360,
        installments=6,
        penalty_rate_annual=Decimal("0.18"),
        fees=(),
    )
    schedule = build_schedule(terms, Money(600_000), date(2026, 1, 31), rounding="ROUND_HALF_EVEN")
    offer = Offer(
        "OF-1",
        "P-1",
        terms,
        Money(600_000),
        AnnualisedRate(Decimal("19.56"), "irr-periodic"),
        T0,
        T0 + timedelta(days=7),
        schedule,
    )
    with engine.begin() as connection:
        ledger_service.install_chart(connection, LedgerRepository(clock))
        OffersRepository(clock).add(connection, offer)
    loans_service.accept_offer(engine, clock, offer, T0, "L-1", date(2026, 1, 31))
    other = Offer(
        "OF-2", "P-2", terms, Money(600_000), offer.annualised_rate, T0, offer.valid_until, schedule
    )
    loans_service.accept_offer(engine, clock, other, T0, "L-2", date(2026, 1, 31))
    channels = service.official_channels("示例花", date(2026, 2, 1))
    assert [c.value for c in channels.channels][:2] == ["95000", "4000000001"]
    with engine.connect() as connection:
        rate = service.answer_question(
            connection, clock, "P-1", "年化利率是多少？", channels, date(2026, 2, 1)
        )
        due = service.answer_question(
            connection, clock, "P-1", "When is my payment due?", channels, date(2026, 2, 1), "en"
        )
        nobody = service.answer_question(connection, clock, "P-9", "我的账单", channels, date(2026, 2, 1))
    assert "19.56%" in rate.text and "L-1" in rate.text and "L-2" not in rate.text
    assert "2026-02-28" in due.text
    assert nobody.handed_off
    with pytest.raises(InputError):
        service.official_channels("no such brand", date(2026, 2, 1))
