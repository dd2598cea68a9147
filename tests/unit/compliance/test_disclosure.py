"""Offer disclosures: exact figures, the annualised rate first and largest, both languages, rejections."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest

from fengkong.compliance.apr import METHOD_PERIODIC, add_months, annualised_rate
from fengkong.compliance.disclosure import LANGUAGES, build_disclosure
from fengkong.domain.products import (
    AnnualisedRate,
    DayCount,
    Fee,
    Installment,
    Offer,
    ProductKind,
    ProductTerms,
    RepaymentMethod,
    Schedule,
)
from fengkong.errors import InputError
from fengkong.money import Money

START = date(2026, 3, 10)
NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def equal_principal_schedule() -> Schedule:
    """3,000.00 repaid 1,000.00 a month with 1 % a month on the balance: 30.00, 20.00, 10.00 interest."""
    lines = tuple(
        Installment(n, add_months(START, n), Money(100_000), Money(interest), Money(0), Money(balance))
        for n, interest, balance in ((1, 3_000, 200_000), (2, 2_000, 100_000), (3, 1_000, 0))
    )
    return Schedule(Money(300_000), START, lines)


def make_offer(
    schedule: Schedule,
    fees: tuple[Fee, ...] = (),
    stated: AnnualisedRate | None = None,
    penalty: Decimal | None = Decimal("0.18"),
) -> Offer:
    terms = ProductTerms(
        product=ProductKind.INSTALLMENT,
        annual_rate=Decimal("0.12"),
        method=RepaymentMethod.EQUAL_PRINCIPAL,
        day_count=DayCount.ACTUAL_365,
        installments=len(schedule.installments),
        penalty_rate_annual=penalty,
        fees=fees,
    )
    if stated is None:
        stated = annualised_rate(schedule, fees=fees, frequency=terms.frequency)
    return Offer(
        offer_id="offer-1",
        party_id="party-1",
        terms=terms,
        amount=schedule.principal,
        annualised_rate=stated,
        valid_from=NOW,
        valid_until=NOW + timedelta(days=7),
        schedule=schedule,
    )


def test_worked_example_equal_principal_one_percent_a_month() -> None:
    disclosure = build_disclosure(make_offer(equal_principal_schedule()))
    data = disclosure.to_json_dict()
    # Interest on the outstanding balance at exactly 1 % a month: the IRR is exactly 1 % a month.
    assert data["annualised_rate"]["annual_rate_pct"] == "12.000000000000"
    assert data["annualised_rate"]["method"] == METHOD_PERIODIC
    assert data["amount"] == "3000.00"
    assert data["installments"] == 3
    assert data["total_interest"] == "60.00"
    assert data["total_fees"] == "0.00"
    assert data["total_cost"] == "60.00"
    assert data["total_repayable"] == "3060.00"
    assert data["reference_rates"] == {"monthly_rate_pct": "1.0000", "daily_rate_pct": "0.0329"}
    assert [line["total"] for line in data["schedule"]] == ["1030.00", "1020.00", "1010.00"]
    assert data["overdue"]["penalty_rate_annual_pct"] == "18.00"
    assert data["rights"]["cooling_off_days"] == 7


def test_worked_example_with_an_upfront_fee() -> None:
    # 1,000.00 for one month at 10.00 interest, plus a 10.00 service fee on the day of disbursement:
    # the borrower nets 990.00 and repays 1,010.00, so i = 20/990 a month and 12 i = 24.2424...% a year.
    schedule = Schedule(
        Money(100_000),
        START,
        (Installment(1, add_months(START, 1), Money(100_000), Money(1_000), Money(0), Money(0)),),
    )
    fee = Fee("service", Money(1_000), START)
    data = build_disclosure(make_offer(schedule, fees=(fee,))).to_json_dict()
    assert data["annualised_rate"]["annual_rate_pct"] == "24.242424242424"
    assert data["annualised_rate"]["display_pct"] == "24.25"  # rounded up: never shown below the true rate
    assert data["fees"] == [{"name": "service", "amount": "10.00", "due": START.isoformat()}]
    assert data["total_cost"] == "20.00"
    assert data["total_repayable"] == "1020.00"


def test_json_amounts_are_decimal_strings() -> None:
    fee = Fee("insurance", Money(1_234), START)
    text = build_disclosure(make_offer(equal_principal_schedule(), fees=(fee,))).to_json()
    data = json.loads(text)
    for key in ("amount", "total_interest", "total_fees", "total_cost", "total_repayable"):
        assert isinstance(data[key], str)
        assert re.fullmatch(r"-?\d+\.\d{2}", data[key])
    assert data["total_fees"] == "12.34"
    assert data["total_cost"] == "72.34"
    for line in data["schedule"]:
        for key in ("principal", "interest", "fee", "total", "balance_after"):
            assert isinstance(line[key], str)
    assert isinstance(data["annualised_rate"]["annual_rate_pct"], str)


class _RateElements(HTMLParser):
    """Collect, in document order, each element carrying ``data-rate`` with its font size and weight."""

    def __init__(self) -> None:
        super().__init__()
        self.rates: list[tuple[str, int, int]] = []
        self.external: list[str] = []
        self.lang: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "html":
            self.lang = values.get("lang")
        if tag in ("script", "link", "img", "iframe") or any(
            (v or "").startswith(("http:", "https:", "//")) for k, v in attrs if k in ("src", "href")
        ):
            self.external.append(tag)
        if "data-rate" in values:
            style = values.get("style") or ""
            size = re.search(r"font-size:(\d+)px", style)
            weight = re.search(r"font-weight:(\d+)", style)
            assert size is not None and weight is not None
            self.rates.append((values["data-rate"] or "", int(size.group(1)), int(weight.group(1))))


@pytest.mark.parametrize("language", LANGUAGES)
def test_html_shows_the_annualised_rate_first_and_largest(language: str) -> None:
    fee = Fee("service", Money(1_000), START)
    page = build_disclosure(make_offer(equal_principal_schedule(), fees=(fee,))).to_html(language)  # type: ignore[arg-type]
    parser = _RateElements()
    parser.feed(page)
    assert parser.lang == language
    assert parser.external == []
    kinds = [kind for kind, _, _ in parser.rates]
    assert kinds[0] == "annualised"
    assert "daily" in kinds and "monthly" in kinds
    _, apr_size, apr_weight = parser.rates[0]
    for kind, size, weight in parser.rates[1:]:
        assert size < apr_size, kind
        assert weight <= apr_weight, kind
    assert "3000.00" in page and "10.00" in page


def test_both_languages_say_the_same_figures_in_their_own_words() -> None:
    disclosure = build_disclosure(make_offer(equal_principal_schedule()))
    chinese, english = disclosure.to_html("zh-CN"), disclosure.to_html("en")
    assert "年化利率" in chinese and "冷静期" in chinese and "逾期" in chinese
    assert "Annualised rate" in english and "Cooling-off" in english and "Overdue" in english
    assert "年化利率" not in english
    for page in (chinese, english):
        assert "12.00%" in page and "3060.00" in page and "18.00" in page
    with pytest.raises(InputError, match="language"):
        disclosure.to_html("fr")  # type: ignore[arg-type]


def test_no_penalty_and_no_fee_are_said_plainly() -> None:
    page = build_disclosure(make_offer(equal_principal_schedule(), penalty=None)).to_html("en")
    assert "No penalty interest" in page and "charges no fee" in page


def test_a_stated_rate_that_leaves_the_fees_out_is_rejected() -> None:
    schedule = equal_principal_schedule()
    fee = Fee("membership", Money(5_000), START)
    without_fee = annualised_rate(schedule, fees=(), frequency=make_offer(schedule).terms.frequency)
    with pytest.raises(InputError, match="fees are missing"):
        build_disclosure(make_offer(schedule, fees=(fee,), stated=without_fee))


def test_a_line_without_a_schedule_is_rejected() -> None:
    offer = replace(make_offer(equal_principal_schedule()), schedule=None)
    with pytest.raises(InputError, match="schedule"):
        build_disclosure(offer)


def test_an_amount_that_differs_from_the_schedule_is_rejected() -> None:
    offer = replace(make_offer(equal_principal_schedule()), amount=Money(500_000))
    with pytest.raises(InputError, match="amount"):
        build_disclosure(offer)


def test_a_bad_fee_and_a_bad_cooling_off_are_rejected() -> None:
    schedule = equal_principal_schedule()
    late_fee = Fee("service", Money(100), START + timedelta(days=400))
    offer = make_offer(schedule)
    offer = replace(offer, terms=replace(offer.terms, fees=(late_fee,)))
    with pytest.raises(InputError, match="fees"):
        build_disclosure(offer)
    with pytest.raises(InputError, match="cooling_off_days"):
        build_disclosure(make_offer(schedule), cooling_off_days=-1)


def test_fees_carried_on_the_schedule_count_in_the_total_cost() -> None:
    # The same 3,000.00 loan with a 5.00 service fee on each installment: 15.00 of fees on top of 60.00.
    base = equal_principal_schedule()
    lines = tuple(replace(line, fee=Money(500)) for line in base.installments)
    schedule = Schedule(base.principal, base.disbursed_on, lines)
    data = build_disclosure(make_offer(schedule)).to_json_dict()
    assert data["fees"] == [{"name": "installment-fees", "amount": "15.00", "due": "per installment"}]
    assert data["total_fees"] == "15.00"
    assert data["total_cost"] == "75.00"
    assert data["total_repayable"] == "3075.00"
    assert Decimal(data["annualised_rate"]["annual_rate_pct"]) > Decimal(12)
