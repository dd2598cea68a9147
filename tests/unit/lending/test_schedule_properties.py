"""Properties of every schedule, for random products: principal sums to the loan, no negative line, the
balance falls to zero and never rises, equal installments stay equal until the last."""

from __future__ import annotations

import itertools
from datetime import date

from hypothesis import given

from fengkong.domain.products import ProductTerms, RepaymentMethod
from fengkong.lending.schedule import build_schedule, due_dates
from fengkong.money import Money
from tests.strategies import installment_products


@given(installment_products())
def test_every_schedule_repays_exactly_the_principal(product: tuple[ProductTerms, Money, date, int]) -> None:
    terms, principal, start, multiple = product
    schedule = build_schedule(
        terms, principal, start, rounding="ROUND_HALF_EVEN", installment_multiple_minor=multiple
    )
    lines = schedule.installments
    assert len(lines) == terms.installments
    assert sum(line.principal.amount_minor for line in lines) == principal.amount_minor
    assert all(line.principal.amount_minor >= 0 and line.interest.amount_minor >= 0 for line in lines)
    assert lines[-1].balance_after.amount_minor == 0
    balances = [principal.amount_minor] + [line.balance_after.amount_minor for line in lines]
    assert all(later <= earlier for earlier, later in itertools.pairwise(balances))
    assert [line.due for line in lines] == list(due_dates(start, terms.installments))
    # no principal inside the principal grace (but the last installment always settles)
    for line in lines[: terms.principal_grace_periods]:
        if line.number < terms.installments:
            assert line.principal.amount_minor == 0
    # interest-free periods charge nothing, and nothing is due inside an interest grace
    free_or_grace = max(terms.interest_free_periods, terms.interest_grace_periods)
    for line in lines[:free_or_grace]:
        if line.number < terms.installments:
            assert line.interest.amount_minor == 0
    if terms.annual_rate == 0 or terms.interest_free_periods == terms.installments:
        assert all(line.interest.amount_minor == 0 for line in lines)


@given(installment_products())
def test_equal_installments_are_equal_until_the_last(product: tuple[ProductTerms, Money, date, int]) -> None:
    terms, principal, start, multiple = product
    schedule = build_schedule(
        terms, principal, start, rounding="ROUND_HALF_EVEN", installment_multiple_minor=multiple
    )
    settled = max(terms.principal_grace_periods, terms.interest_grace_periods, terms.interest_free_periods)
    lines = schedule.installments[settled:-1]
    if terms.method is RepaymentMethod.EQUAL_INSTALLMENT and terms.day_count.value == "30/360":
        # while the installment still exceeds the interest and the balance lasts, every one is the same
        totals = {line.total.amount_minor for line in lines if line.balance_after.amount_minor > 0}
        assert len(totals) <= 1
        if totals and multiple > 1:
            assert totals.pop() % multiple == 0
    if terms.method is RepaymentMethod.EQUAL_PRINCIPAL:
        principals = {line.principal.amount_minor for line in lines if line.balance_after.amount_minor > 0}
        assert len(principals) <= 1
