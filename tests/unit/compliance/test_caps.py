"""The LPR and cap tables (packaged configuration) and check_price at the caps' edges."""

from __future__ import annotations

import tomllib
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from fengkong.compliance.apr import add_months, annualised_rate
from fengkong.compliance.caps import (
    CapCheck,
    check_price,
    default_cap_policy,
    load_cap_policy,
    load_lpr_table,
)
from fengkong.domain.products import AnnualisedRate, CashFlow, Fee
from fengkong.errors import InputError, NotFoundError
from fengkong.money import Money

ROOT = Path(__file__).resolve().parents[3]
CONTRACT_DAY = date(2026, 1, 15)


def monthly_loan(payment: str, start: date = CONTRACT_DAY, principal: str = "10000") -> list[CashFlow]:
    flows = [CashFlow(start, -Money.parse(principal))]
    flows.extend(CashFlow(add_months(start, month), Money.parse(payment)) for month in range(1, 13))
    return flows


# -- the LPR table -------------------------------------------------------------------------------------------


def test_the_packaged_lpr_table_has_the_fixings_in_force() -> None:
    lpr = load_lpr_table()
    assert lpr.one_year_on(date(2019, 8, 20)).one_year_pct == Decimal("4.25")
    assert lpr.one_year_on(date(2020, 8, 20)).one_year_pct == Decimal("3.85")  # the day the 4×LPR line began
    assert lpr.one_year_on(date(2021, 12, 19)).one_year_pct == Decimal("3.85")
    assert lpr.one_year_on(date(2021, 12, 20)).one_year_pct == Decimal("3.80")
    assert lpr.one_year_on(date(2025, 6, 1)).one_year_pct == Decimal("3.00")
    assert lpr.verified_through == date(2025, 7, 21)
    assert lpr.verified_on(date(2025, 7, 21)) and not lpr.verified_on(date(2025, 7, 22))
    with pytest.raises(NotFoundError, match="no one-year LPR"):
        lpr.one_year_on(date(2019, 8, 19))


def test_the_data_files_ship_with_the_package() -> None:
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    assert "compliance/data/*.yaml" in package_data["package-data"]["fengkong"]
    data = ROOT / "src" / "fengkong" / "compliance" / "data"
    assert {path.name for path in data.glob("*.yaml")} >= {"caps.yaml", "lpr.yaml"}


# -- the cap table -------------------------------------------------------------------------------------------


def test_assisted_platform_loans_are_capped_at_24_percent_from_october_2025() -> None:
    policy = default_cap_policy()
    entry = policy.cap_in_force("installment", date(2025, 10, 1))
    assert entry.annual_rate_cap == Decimal("0.24")
    assert entry.effective_from == date(2025, 10, 1)
    assert "金规〔2025〕9号" in entry.basis
    for product in ("bnpl", "revolving", "installment", "merchant", "green"):
        assert policy.cap_in_force(product, date(2026, 6, 1)).annual_rate_cap == Decimal("0.24")
    with pytest.raises(NotFoundError, match="no cap in force"):
        policy.cap_in_force("installment", date(2025, 9, 30))


def test_the_court_line_is_four_times_the_lpr_at_the_contract_date() -> None:
    policy = default_cap_policy()
    assert policy.cap_in_force("private-lending", date(2020, 8, 19)).annual_rate_cap == Decimal("0.24")
    on_reform = policy.cap_in_force("private-lending", date(2020, 8, 20))
    assert on_reform.annual_rate_cap == Decimal("0.1540")  # 4 × 3.85 %
    assert "4 × one-year LPR 3.85 %" in on_reform.basis
    assert policy.cap_in_force("private-lending", date(2024, 10, 21)).annual_rate_cap == Decimal("0.1240")
    assert policy.cap_in_force("private-lending", date(2025, 5, 20)).annual_rate_cap == Decimal("0.1200")
    with pytest.raises(NotFoundError):
        policy.cap_in_force("private-lending", date(2015, 8, 31))


def test_an_unknown_product_is_bad_input() -> None:
    with pytest.raises(InputError, match="no caps are configured") as error:
        default_cap_policy().cap_in_force("payday", CONTRACT_DAY)
    assert error.value.field == "product"


# -- check_price ---------------------------------------------------------------------------------------------


def test_a_price_under_the_cap_is_allowed_with_its_margin() -> None:
    check = check_price(default_cap_policy(), "installment", CONTRACT_DAY, monthly_loan("888.49"), fees=())
    assert isinstance(check, CapCheck)
    assert check.allowed
    assert check.cap_pct == Decimal("24.00")
    assert check.rate_pct.quantize(Decimal("0.01")) == Decimal("12.00")
    assert check.margin_pct == check.cap_pct - check.rate_pct
    assert check.basis == check.cap.basis
    assert check.notes == ()


def test_guarantee_insurance_and_membership_fees_count_in_the_comprehensive_cost() -> None:
    """21.80 % of interest alone is allowed; the same loan with a 200-yuan guarantee fee is 25.75 %, and with
    a 30-yuan insurance premium plus a 9.90-yuan monthly membership it is 24.44 %: over the 24 % cap."""
    policy = default_cap_policy()
    loan = monthly_loan("935.00")
    interest_only = check_price(policy, "installment", CONTRACT_DAY, loan, fees=())
    assert interest_only.allowed
    assert interest_only.rate_pct.quantize(Decimal("0.01")) == Decimal("21.80")

    guarantee = (Fee("guarantee", Money.parse("200"), CONTRACT_DAY),)
    over = check_price(policy, "installment", CONTRACT_DAY, loan, fees=guarantee)
    assert not over.allowed
    assert over.rate_pct.quantize(Decimal("0.01")) == Decimal("25.75")
    assert over.margin_pct < 0
    assert over.fees_counted == ("guarantee",)

    membership = [Fee("membership", Money.parse("9.90"), add_months(CONTRACT_DAY, m)) for m in range(1, 13)]
    insurance_and_membership = (Fee("insurance", Money.parse("30"), CONTRACT_DAY), *membership)
    bundled = check_price(policy, "installment", CONTRACT_DAY, loan, fees=insurance_and_membership)
    assert not bundled.allowed
    assert bundled.rate_pct.quantize(Decimal("0.01")) == Decimal("24.44")
    assert bundled.fees_counted[:2] == ("insurance", "membership")


def test_a_rate_exactly_at_the_cap_is_allowed() -> None:
    at_cap = AnnualisedRate(annual_rate_pct=Decimal("24.000000000000"), method="irr-periodic")
    check = check_price(default_cap_policy(), "bnpl", CONTRACT_DAY, at_cap, fees=())
    assert check.allowed
    assert check.margin_pct == 0
    just_over = AnnualisedRate(annual_rate_pct=Decimal("24.000000000001"), method="irr-periodic")
    assert not check_price(default_cap_policy(), "bnpl", CONTRACT_DAY, just_over, fees=()).allowed


def test_a_precomputed_rate_takes_no_extra_fees_and_must_be_an_irr() -> None:
    rate = annualised_rate(monthly_loan("888.49"), fees=())
    with pytest.raises(InputError, match="pass the cash flows") as error:
        check_price(
            default_cap_policy(), "installment", CONTRACT_DAY, rate, fees=(Fee("x", Money(1), CONTRACT_DAY),)
        )
    assert error.value.field == "fees"
    simple = AnnualisedRate(annual_rate_pct=Decimal("18.25"), method="simple")
    with pytest.raises(InputError, match="IRR-based") as error:
        check_price(default_cap_policy(), "installment", CONTRACT_DAY, simple, fees=())
    assert error.value.field == "rate"


def test_missing_fees_are_rejected() -> None:
    with pytest.raises(InputError, match="missing") as error:
        check_price(default_cap_policy(), "installment", CONTRACT_DAY, monthly_loan("888.49"), fees=None)
    assert error.value.field == "fees"


def test_a_cap_from_an_lpr_fixing_later_than_the_verified_table_says_so() -> None:
    policy = default_cap_policy()
    rate = AnnualisedRate(annual_rate_pct=Decimal("11.5"), method="irr-periodic")
    fresh = check_price(policy, "private-lending", date(2025, 6, 1), rate, fees=())
    assert fresh.allowed and fresh.cap_pct == Decimal("12.00") and fresh.notes == ()
    stale = check_price(policy, "private-lending", date(2026, 6, 1), rate, fees=())
    assert stale.cap_pct == Decimal("12.00")
    assert stale.notes and "verified through 2025-07-21" in stale.notes[0]
    over = check_price(
        policy, "private-lending", date(2025, 6, 1), annualised_rate(monthly_loan("888.49"), fees=()), fees=()
    )
    assert not over.allowed  # 12.0005 % > 4 × 3.00 %


# -- loading the configuration -------------------------------------------------------------------------------

LPR_YAML = """
verified_through: 2024-12-31
fixings:
  - {effective_from: 2024-01-01, one_year_pct: "4.00"}
  - {effective_from: 2024-06-01, one_year_pct: "3.50"}
  - {effective_from: 2024-09-01, one_year_pct: "3.00"}
"""


def caps_yaml(entries: str, products: str = "demo: [line]") -> str:
    return f"regimes:\n  line:\n    entries:\n{entries}\nproducts:\n  {products}\n"


def test_an_lpr_regime_stops_at_its_next_entry() -> None:
    entries = (
        '      - {effective_from: 2024-03-01, lpr_multiple: "4", basis: "court line", verified: unverified}\n'
        '      - {effective_from: 2024-08-01, annual_rate_cap: "0.2", basis: "new rule", verified: primary}'
    )
    policy = load_cap_policy(caps_yaml(entries), lpr=load_lpr_table(LPR_YAML))
    caps = [(entry.effective_from, entry.annual_rate_cap) for entry in policy.table.entries]
    assert caps == [
        (date(2024, 3, 1), Decimal("0.16")),  # 4 × the fixing in force on 2024-03-01
        (date(2024, 6, 1), Decimal("0.14")),
        (date(2024, 8, 1), Decimal("0.2")),  # the 2024-09-01 fixing no longer matters
    ]
    assert policy.cap_in_force("demo", date(2024, 10, 1)).basis == "new rule [primary]"


@pytest.mark.parametrize(
    ("entries", "products", "field", "reason"),
    [
        (
            "      - {effective_from: 2024-03-01, annual_rate_cap: 0.24, basis: b, verified: primary}",
            None,
            "regimes.line.entries[0].annual_rate_cap",
            "not the float",
        ),
        (
            '      - {effective_from: 2024-03-01, annual_rate_cap: "24", basis: b, verified: primary}',
            None,
            "regimes.line.entries[0].annual_rate_cap",
            "fraction",
        ),
        (
            '      - {effective_from: 2024-03-01, annual_rate_cap: "0.24", verified: primary}',
            None,
            "regimes.line.entries[0].basis",
            "basis",
        ),
        (
            '      - {effective_from: 2024-03-01, annual_rate_cap: "0.24", basis: b, verified: maybe}',
            None,
            "regimes.line.entries[0].verified",
            "one of",
        ),
        (
            '      - {effective_from: 2024-03-01, annual_rate_cap: "0.24", lpr_multiple: "4", basis: b, '
            "verified: primary}",
            None,
            "regimes.line.entries[0]",
            "exactly one",
        ),
        (
            '      - {effective_from: someday, annual_rate_cap: "0.24", basis: b, verified: primary}',
            None,
            "regimes.line.entries[0].effective_from",
            "YYYY-MM-DD",
        ),
        (
            '      - {effective_from: 2024-03-01, lpr_multiple: "0", basis: b, verified: primary}',
            None,
            "regimes.line.entries[0].lpr_multiple",
            "more than zero",
        ),
        (
            '      - {effective_from: 2023-03-01, lpr_multiple: "4", basis: b, verified: primary}',
            None,
            "regimes.line.effective_from",
            "no one-year LPR",
        ),
        (
            '      - {effective_from: 2024-03-01, annual_rate_cap: "0.24", basis: b, verified: primary}',
            "demo: [other]",
            "products.demo",
            "unknown regimes",
        ),
        (
            '      - {effective_from: 2024-03-01, annual_rate_cap: "0.24", basis: b, verified: primary}',
            "demo: []",
            "products.demo",
            "non-empty",
        ),
    ],
)
def test_bad_cap_configuration_names_the_field(
    entries: str, products: str | None, field: str, reason: str
) -> None:
    text = caps_yaml(entries) if products is None else caps_yaml(entries, products)
    with pytest.raises(InputError, match=reason) as error:
        load_cap_policy(text, lpr=load_lpr_table(LPR_YAML))
    assert error.value.field == field


@pytest.mark.parametrize(
    ("text", "field", "reason"),
    [
        ("verified_through: 2024-12-31\nfixings: []\n", "fixings", "non-empty"),
        (
            "verified_through: 2024-12-31\nfixings:\n  - {effective_from: 2024-01-01, one_year_pct: 3.5}\n",
            "fixings[0].one_year_pct",
            "not the float",
        ),
        (
            'fixings:\n  - {effective_from: 2024-01-01, one_year_pct: "3.5"}\n',
            "verified_through",
            "YYYY-MM-DD",
        ),
        (
            'verified_through: 2024-12-31\nfixings:\n  - {effective_from: 2024-06-01, one_year_pct: "3.5"}\n'
            '  - {effective_from: 2024-01-01, one_year_pct: "3.6"}\n',
            "fixings",
            "increasing",
        ),
        (
            'verified_through: 2024-12-31\nfixings:\n  - {effective_from: 2024-06-01, one_year_pct: "350"}\n',
            "one_year_pct",
            "plausible",
        ),
        ("- just a list\n", "lpr.yaml", "mapping"),
    ],
)
def test_bad_lpr_configuration_names_the_field(text: str, field: str, reason: str) -> None:
    with pytest.raises(InputError, match=reason) as error:
        load_lpr_table(text)
    assert error.value.field == field
