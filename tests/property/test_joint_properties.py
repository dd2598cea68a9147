"""Joint lending invariants: every split adds up to its whole, the floor holds, shares add up to 10,000 bp."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from fengkong import bounds
from fengkong.domain.products import DayCount, ProductKind, ProductTerms, RepaymentMethod
from fengkong.errors import InputError
from fengkong.ledger.accounts import STANDARD_CHART
from fengkong.ledger.journal import InMemoryJournal
from fengkong.lending.joint import (
    BASIS_POINTS_WHOLE,
    JointFunding,
    LossAgreement,
    LossSharing,
    PartnerShare,
    balances_after,
    funding_posting,
    interest_weights,
    repayment_posting,
    settlement_posting,
    split_disbursement,
    split_flow,
    split_loss,
    split_recovery,
    split_schedule,
)
from fengkong.lending.schedule import SCHEDULED_METHODS, build_schedule
from fengkong.money import Money

rates_ppm = st.integers(min_value=0, max_value=360_000)


@st.composite
def fundings(draw: st.DrawFn, borrower_rate_ppm: int | None = None) -> tuple[JointFunding, Decimal]:
    """A valid funding (lender share at or above the default floor) and a borrower rate at or above every
    partner's rate."""
    count = draw(st.integers(min_value=1, max_value=bounds.joint_partners_max))
    floor = bounds.joint_lender_share_bp_min
    lender = draw(st.integers(min_value=floor, max_value=BASIS_POINTS_WHOLE - count))
    rest = BASIS_POINTS_WHOLE - lender
    cuts: list[int] = []
    if count > 1:
        cuts = sorted(
            draw(st.lists(st.integers(1, rest - 1), min_size=count - 1, max_size=count - 1, unique=True))
        )
    edges = [0, *cuts, rest]
    shares = [edges[i + 1] - edges[i] for i in range(count)]
    borrower_ppm = borrower_rate_ppm if borrower_rate_ppm is not None else draw(rates_ppm)
    partner_rates = draw(st.lists(st.integers(0, borrower_ppm), min_size=count, max_size=count))
    sharing = draw(st.sampled_from(LossSharing))
    tranche = draw(st.integers(1, BASIS_POINTS_WHOLE)) if sharing is LossSharing.FIRST_LOSS else 0
    partners = tuple(
        PartnerShare(f"BANK-{index}", share, Decimal(rate) / 1_000_000)
        for index, (share, rate) in enumerate(zip(shares, partner_rates, strict=True))
    )
    funding = JointFunding("LENDER", lender, partners, LossAgreement(sharing, tranche))
    return funding, Decimal(borrower_ppm) / 1_000_000


@given(fundings(), st.integers(min_value=1, max_value=bounds.loan_principal_fen_max))
def test_shares_add_up_and_the_disbursement_split_conserves_the_principal(
    drawn: tuple[JointFunding, Decimal], principal: int
) -> None:
    funding, _ = drawn
    assert sum(funding.shares_bp) == BASIS_POINTS_WHOLE
    assert funding.lender_share_bp >= bounds.joint_lender_share_bp_min
    parts = split_disbursement(funding, principal)
    assert sum(parts) == principal
    for part, share in zip(parts, funding.shares_bp, strict=True):
        assert abs(Fraction(part) - Fraction(principal * share, BASIS_POINTS_WHOLE)) < 1


@given(
    st.integers(min_value=1, max_value=bounds.joint_lender_share_bp_min - 1),
    st.integers(min_value=1, max_value=bounds.joint_partners_max),
)
def test_a_lender_share_below_the_floor_is_always_refused(lender: int, count: int) -> None:
    rest = BASIS_POINTS_WHOLE - lender
    shares = [rest // count] * count
    shares[0] += rest - sum(shares)
    assume(all(share > 0 for share in shares))
    partners = tuple(PartnerShare(f"B{i}", share, Decimal("0.05")) for i, share in enumerate(shares))
    with pytest.raises(InputError) as caught:
        JointFunding("LENDER", lender, partners)
    assert caught.value.field == "lender_share_bp"


@given(fundings(), st.integers(min_value=-50, max_value=50).filter(lambda delta: delta != 0))
def test_shares_that_do_not_add_up_to_the_whole_are_refused(
    drawn: tuple[JointFunding, Decimal], delta: int
) -> None:
    funding, _ = drawn
    first = funding.partners[0]
    assume(first.share_bp + delta > 0)
    changed = (
        PartnerShare(first.partner_id, first.share_bp + delta, first.annual_rate),
        *funding.partners[1:],
    )
    with pytest.raises(InputError) as caught:
        JointFunding("LENDER", funding.lender_share_bp, changed)
    assert caught.value.field == "shares"


@given(
    fundings(),
    st.integers(min_value=100, max_value=10**9),
    st.integers(min_value=1, max_value=36),
    st.sampled_from(sorted(SCHEDULED_METHODS)),
    st.sampled_from(list(DayCount)),
    st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)),
    st.data(),
)  # fmt: skip
def test_every_installment_split_adds_up_and_every_funder_is_repaid_what_it_lent(
    drawn: tuple[JointFunding, Decimal],
    principal: int,
    installments: int,
    method: RepaymentMethod,
    day_count: DayCount,
    start: date,
    data: st.DataObject,
) -> None:
    funding, rate = drawn
    principal_grace, interest_grace, interest_free = (
        min(value, installments - 1) for value in (data.draw(st.integers(0, 3)) for _ in range(3))
    )
    terms = ProductTerms(
        ProductKind.INSTALLMENT, rate, method, day_count, installments=installments,
        principal_grace_periods=principal_grace, interest_grace_periods=interest_grace,
        interest_free_periods=interest_free,
    )  # fmt: skip
    schedule = build_schedule(terms, Money(principal), start, rounding="ROUND_HALF_EVEN")
    joint = split_schedule(funding, schedule, rate)
    assert sum(joint.disbursed) == principal
    balances = list(joint.disbursed)
    for line, split in zip(schedule.installments, joint.installments, strict=True):
        assert sum(part.principal for part in split.parts) == line.principal.amount_minor
        assert sum(part.interest for part in split.parts) == line.interest.amount_minor
        assert sum(part.fee for part in split.parts) == line.fee.amount_minor
        # a partner's interest is its own balance at its own rate over the period, within a fen
        weights = interest_weights(funding, rate, balances)
        if sum(weights):
            for part, weight in zip(split.parts, weights, strict=True):
                exact = Fraction(line.interest.amount_minor * weight, sum(weights))
                assert abs(part.interest - exact) < 1
        balances = [balance - part.principal for balance, part in zip(balances, split.parts, strict=True)]
        assert min(balances) >= 0
    assert balances == [0] * len(balances)
    for funder, lent in zip(funding.funder_ids, joint.disbursed, strict=True):
        assert joint.funder_totals(funder).principal == lent


@given(fundings(), st.data())
def test_losses_and_recoveries_add_up_and_no_partner_loses_more_than_it_has_out(
    drawn: tuple[JointFunding, Decimal], data: st.DataObject
) -> None:
    funding, _ = drawn
    principal = data.draw(st.integers(min_value=1, max_value=10**10))
    disbursed = split_disbursement(funding, principal)
    balances = [data.draw(st.integers(0, part)) for part in disbursed]
    loss = data.draw(st.integers(0, sum(balances)))
    losses = split_loss(funding, principal, balances, loss)
    assert sum(losses) == loss
    assert all(part <= balance for part, balance in zip(losses[1:], balances[1:], strict=True))
    tranche = principal * funding.loss.first_loss_bp // BASIS_POINTS_WHOLE
    assert losses[0] >= min(loss, tranche)
    recovered = data.draw(st.integers(0, loss))
    parts = split_recovery(funding, losses, recovered)
    assert sum(parts) == recovered
    assert all(0 <= part <= lost for part, lost in zip(parts, losses, strict=True))


@given(fundings(), st.data())
def test_random_repayments_keep_the_ledger_balanced_and_settle_every_partner(
    drawn: tuple[JointFunding, Decimal], data: st.DataObject
) -> None:
    funding, rate = drawn
    principal = data.draw(st.integers(min_value=1, max_value=10**9))
    disbursed = split_disbursement(funding, principal)
    journal = InMemoryJournal(STANDARD_CHART)
    day = date(2026, 1, 1)
    funded = funding_posting(funding, "LN", disbursed, day, "CNY")
    journal.post([funded] if funded is not None else [])
    balances = disbursed
    for number in range(data.draw(st.integers(1, 6))):
        principal_part = data.draw(st.integers(0, sum(balances)))
        amounts = {name: data.draw(st.integers(0, 10**7)) for name in ("interest", "fee", "penalty")}
        split = split_flow(funding, rate, balances, principal=principal_part, **amounts)
        assert sum(part.total for part in split) == principal_part + sum(amounts.values())
        balances = balances_after(balances, split)
        assert min(balances) >= 0
        postings = []
        shares = repayment_posting(f"R{number}", split, day, "CNY")
        if shares is not None:
            postings.append(shares)
        postings += [
            settlement_posting(f"R{number}:{part.funder_id}", part.funder_id, part.total, day, "CNY")
            for part in split[1:]
            if part.total
        ]
        journal.post(postings)
    totals = {total.code: total.net_minor for total in journal.totals()}
    assert sum(totals.values()) == 0
    # what each partner is still owed is exactly its principal outstanding
    assert totals.get("partner_payables", 0) == -sum(balances[1:])
