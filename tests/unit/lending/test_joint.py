"""Joint lending: a hand-worked split, funding rules, loss sharing and the ledger through a serviced loan."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest

from fengkong.domain.products import (
    AnnualisedRate,
    DayCount,
    Offer,
    ProductKind,
    ProductTerms,
    RepaymentMethod,
)
from fengkong.errors import InputError
from fengkong.ledger.accounts import STANDARD_CHART
from fengkong.ledger.journal import InMemoryJournal
from fengkong.lending.allocation import Component
from fengkong.lending.close_of_business import close_day, day_postings
from fengkong.lending.delinquency import DelinquencyPolicy
from fengkong.lending.joint import (
    FeeSharing,
    JointFunding,
    LossAgreement,
    LossSharing,
    PartnerBankLimits,
    PartnerShare,
    balances_after,
    check_partner_room,
    funding_posting,
    repayment_posting,
    settlement_posting,
    split_disbursement,
    split_flow,
    split_loss,
    split_recovery,
    split_schedule,
    write_off_posting,
)
from fengkong.lending.schedule import build_schedule
from fengkong.lending.servicing import (
    Accepted,
    RepaymentApplied,
    accept_offer,
    apply_repayment,
    book_of,
    falling_due_for,
    row_of,
)
from fengkong.money import Money, allocate

RATE = Decimal("0.18")
START = date(2026, 1, 15)
T0 = datetime(2026, 1, 15, 1, 0, tzinfo=UTC)


def funding(**changes: object) -> JointFunding:
    values: dict[str, object] = {
        "lender_id": "LENDER",
        "lender_share_bp": 3_000,
        "partners": (
            PartnerShare("BANK-A", 5_000, Decimal("0.06")),
            PartnerShare("BANK-B", 2_000, Decimal("0.08")),
        ),
    }
    values.update(changes)
    return JointFunding(**values)  # type: ignore[arg-type]


def terms(installments: int = 12) -> ProductTerms:
    return ProductTerms(
        product=ProductKind.INSTALLMENT,
        annual_rate=RATE,
        method=RepaymentMethod.EQUAL_INSTALLMENT,
        day_count=DayCount.THIRTY_360,
        installments=installments,
    )


def test_a_hand_worked_first_installment() -> None:
    # 10,000 yuan at 18 % (30/360): the first month's interest is 1,000,000 x 0.18 / 12 = 15,000 fen.
    schedule = build_schedule(terms(), Money(1_000_000), START, rounding="ROUND_HALF_EVEN")
    joint = split_schedule(funding(), schedule, RATE)
    assert joint.disbursed == (300_000, 500_000, 200_000)
    first = joint.installments[0].parts
    # weights: A 500,000 x 6 % = 30,000; B 200,000 x 8 % = 16,000; lender 1,000,000 x 18 % - 46,000 = 134,000
    # A: 15,000 x 30,000 / 180,000 = 2,500 exactly (= 500,000 x 6 % / 12, its own principal at its own rate)
    # B: 1,333.33..., lender 11,166.66...: the one fen left goes to the larger remainder, the lender's
    assert [part.interest for part in first] == [11_167, 2_500, 1_333]
    # principal by principal outstanding (the shares, at the start)
    principal = schedule.installments[0].principal.amount_minor
    assert sum(part.principal for part in first) == principal
    assert [part.principal for part in first] == list(allocate(principal, [3, 5, 2]))
    for funder, lent in zip(funding().funder_ids, joint.disbursed, strict=True):
        assert joint.funder_totals(funder).principal == lent


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"lender_share_bp": 2_999, "partners": (PartnerShare("BANK-A", 7_001, Decimal("0.05")),)},
         "lender_share_bp"),
        ({"lender_share_bp": 3_000, "partners": (PartnerShare("BANK-A", 6_999, Decimal("0.05")),)}, "shares"),
        ({"partners": ()}, "partners"),
        ({"partners": (PartnerShare("BANK-A", 3_500, Decimal("0.05")),
                       PartnerShare("BANK-A", 3_500, Decimal("0.05")))}, "partners[1].partner_id"),
        ({"partners": (PartnerShare("BANK:A", 7_000, Decimal("0.05")),)}, "partners[0].partner_id"),
        ({"partners": (PartnerShare("BANK-A", 7_000, Decimal("1.5")),)}, "partners[0].annual_rate"),
        ({"partners": (PartnerShare("BANK-A", 0, Decimal("0.05")), PartnerShare("B", 7_000, Decimal(0)))},
         "partners[0].share_bp"),
        ({"lender_floor_bp": 10_001}, "lender_floor_bp"),
    ],
)  # fmt: skip
def test_bad_funding_is_refused_naming_the_field(changes: dict[str, object], field: str) -> None:
    with pytest.raises(InputError) as caught:
        funding(**changes)
    assert caught.value.field == field


@pytest.mark.parametrize(("sharing", "tranche_bp"), [(LossSharing.PRO_RATA, 100), (LossSharing.FIRST_LOSS, 0),
                                                     (LossSharing.FIRST_LOSS, 10_001)])  # fmt: skip
def test_a_bad_loss_agreement_names_its_field(sharing: LossSharing, tranche_bp: int) -> None:
    with pytest.raises(InputError) as caught:
        LossAgreement(sharing, tranche_bp)
    assert caught.value.field == "loss.first_loss_bp"


def test_the_floor_is_configurable() -> None:
    raised = funding(lender_share_bp=4_000, partners=(PartnerShare("BANK-A", 6_000, Decimal("0.05")),),
                     lender_floor_bp=4_000)  # fmt: skip
    assert raised.lender_share_bp == 4_000
    with pytest.raises(InputError, match="below the lender's floor of 5000 bp"):
        funding(lender_share_bp=4_000, partners=(PartnerShare("BANK-A", 6_000, Decimal("0.05")),),
                lender_floor_bp=5_000)  # fmt: skip


def test_a_partner_rate_above_the_borrower_rate_is_refused() -> None:
    with pytest.raises(InputError) as caught:
        split_flow(funding(), Decimal("0.07"), [300, 500, 200], interest=10)
    assert caught.value.field == "partners[1].annual_rate"


def test_fees_can_go_to_the_lender_alone() -> None:
    parts = split_flow(funding(fees=FeeSharing.LENDER), RATE, [300, 500, 200], fee=999)
    assert [part.fee for part in parts] == [999, 0, 0]
    shared = split_flow(funding(), RATE, [300, 500, 200], fee=999)
    # 299.7, 499.5, 199.8: floors 299 + 499 + 199, the two fen left to the largest remainders (.8, .7)
    assert [part.fee for part in shared] == [300, 499, 200]


def test_losses_pro_rata_and_first_loss() -> None:
    balances = [150_000, 250_000, 100_000]
    assert split_loss(funding(), 1_000_000, balances, 500_000) == (150_000, 250_000, 100_000)
    first_loss = funding(loss=LossAgreement(LossSharing.FIRST_LOSS, 1_000))  # 10 % of 1,000,000 = 100,000
    # the lender takes the first 100,000; the other 400,000 by balances: 120,000 / 200,000 / 80,000
    assert split_loss(first_loss, 1_000_000, balances, 500_000) == (220_000, 200_000, 80_000)
    # a small loss stays inside the tranche: the partners lose nothing
    assert split_loss(first_loss, 1_000_000, balances, 60_000) == (60_000, 0, 0)
    # recoveries: pro rata by losses, or to the partners first under a first loss
    assert split_recovery(funding(), [150_000, 250_000, 100_000], 50_000) == (15_000, 25_000, 10_000)
    assert split_recovery(first_loss, [220_000, 200_000, 80_000], 350_000) == (70_000, 200_000, 80_000)
    with pytest.raises(InputError, match="loss_fen"):
        split_loss(funding(), 1_000_000, balances, 500_001)


def _offer(schedule_terms: ProductTerms, principal: int) -> Offer:
    schedule = build_schedule(schedule_terms, Money(principal), START, rounding="ROUND_HALF_EVEN")
    rate = AnnualisedRate(Decimal("19.56"), "irr-periodic")
    return Offer("OF-J", "P-J", schedule_terms, Money(principal), rate, T0, T0 + timedelta(days=1), schedule)


def test_a_joint_loan_serviced_to_the_end_settles_every_partner_exactly() -> None:
    """Disburse, close every day, pay each installment on its due date, split each repayment among the
    funders, pass the partners' parts on: every payable ends at zero and the ledger balances."""
    joint = funding()
    offer = _offer(terms(6), 1_234_567)
    accepted = accept_offer(offer, T0, "LN-J", START)
    assert isinstance(accepted, Accepted)
    loan = accepted.loan
    journal = InMemoryJournal(STANDARD_CHART)
    disbursed = split_disbursement(joint, loan.principal)
    funded = funding_posting(joint, "LN-J", disbursed, START, "CNY")
    assert funded is not None
    journal.post([loan.posting, funded])
    book, items = book_of([loan.row]), {"LN-J": loan.installments}
    balances = disbursed
    received = dict.fromkeys(joint.funder_ids, 0)
    expected = split_schedule(joint, offer.schedule, RATE) if offer.schedule else None
    assert expected is not None
    day = START
    while day < offer.schedule.installments[-1].due:
        day += timedelta(days=1)
        falling = falling_due_for(book, day, items)
        book, movements = close_day(book, day, falling, DelinquencyPolicy())
        journal.post(day_postings(book, movements, day, "CNY"))
        row = row_of(book, 0)
        due = row.due_principal + row.due_interest + row.due_fee + row.penalty_outstanding
        if not due:
            continue
        outcome = apply_repayment(row, items["LN-J"], f"R-{day}", due, day, "CNY")
        assert isinstance(outcome, RepaymentApplied)
        book, items = book_of([outcome.row]), {"LN-J": outcome.installments}
        parts_by = dict(outcome.parts)
        split = split_flow(
            joint, RATE, balances,
            principal=parts_by[Component.PRINCIPAL.value] + parts_by["prepaid-principal"],
            interest=parts_by[Component.INTEREST.value], fee=parts_by[Component.FEE.value],
            penalty=parts_by[Component.PENALTY.value],
        )  # fmt: skip
        balances = balances_after(balances, split)
        postings = [outcome.posting]
        shares = repayment_posting(f"R-{day}", split, day, "CNY")
        if shares is not None:
            postings.append(shares)
        for part in split[1:]:
            postings.append(
                settlement_posting(f"R-{day}:{part.funder_id}", part.funder_id, part.total, day, "CNY")
            )
        journal.post(postings)
        for part in split:
            received[part.funder_id] += part.total
    assert balances == (0, 0, 0)
    totals = {(total.code): total.net_minor for total in journal.totals()}
    assert totals.get("partner_payables", 0) == 0
    assert totals.get("loans_receivable", 0) == 0
    assert sum(totals.values()) == 0
    # each partner got back what it lent plus its scheduled interest, to the fen
    for index, partner in enumerate(joint.funder_ids):
        scheduled = expected.funder_totals(partner)
        assert received[partner] == disbursed[index] + scheduled.interest
    # the partners' interest is not the lender's income: income is the lender's interest alone
    lender_interest = expected.funder_totals("LENDER").interest
    assert totals["interest_income"] == -lender_interest


@pytest.mark.parametrize(
    ("agreement", "payable_after"),
    [
        (LossAgreement(), {"BANK-A": 0, "BANK-B": 0}),  # pro rata: each partner loses its whole share
        (LossAgreement(LossSharing.FIRST_LOSS, 10_000), {"BANK-A": -500_000, "BANK-B": -200_000}),
    ],
)
def test_a_written_off_joint_loan_shares_its_loss_by_agreement(
    agreement: LossAgreement, payable_after: dict[str, int]
) -> None:
    joint = funding(loss=agreement)
    offer = _offer(terms(3), 1_000_000)
    accepted = accept_offer(offer, T0, "LN-W", START)
    assert isinstance(accepted, Accepted)
    journal = InMemoryJournal(STANDARD_CHART)
    disbursed = split_disbursement(joint, 1_000_000)
    funded = funding_posting(joint, "LN-W", disbursed, START, "CNY")
    assert funded is not None
    journal.post([accepted.loan.posting, funded])
    book, items = book_of([accepted.loan.row]), {"LN-W": accepted.loan.installments}
    policy = DelinquencyPolicy()
    day = START
    written = 0
    for _ in range(400):
        day += timedelta(days=1)
        book, movements = close_day(book, day, falling_due_for(book, day, items), policy)
        journal.post(day_postings(book, movements, day, "CNY"))
        written += int(np.sum(movements.write_off_principal))
        if written:
            break
    assert written == 1_000_000  # nothing was ever paid
    losses = split_loss(joint, 1_000_000, disbursed, written)
    posting = write_off_posting(joint, "LN-W", losses, day, "CNY")
    if posting is not None:
        journal.post([posting])
    payables: dict[str, int] = {}
    for entry in journal.postings():
        for line in entry.lines:
            if line.account.startswith("partner_payables:"):
                partner = line.account.split(":")[1]
                payables[partner] = payables.get(partner, 0) + line.amount.amount_minor
    assert payables == payable_after
    totals = {total.code: total.net_minor for total in journal.totals()}
    assert sum(totals.values()) == 0
    # the lender's write-off expense is its share of the principal (with what it covered for the partners)
    # and the interest and fees written off, which were its income alone
    assert totals["write_off_expense"] == losses[0] + _interest_written(journal)


def _interest_written(journal: InMemoryJournal) -> int:
    """Interest and fees written off (the lender's alone: the partners never booked them)."""
    total = 0
    for posting in journal.postings():
        if "write-off" in posting.posting_id and not posting.posting_id.startswith("joint"):
            total += sum(
                -line.amount.amount_minor for line in posting.lines
                if line.account.split(":")[0] in {"interest_receivable", "fees_receivable"}
            )  # fmt: skip
    return total


def test_a_partner_share_beyond_the_banks_room_is_refused_as_a_value() -> None:
    # BANK-A: tier-1 capital 1,000,000 yuan -> 25 % is 250,000 yuan with this platform, 240,000 already
    # used; loans 10,000,000 yuan -> 50 % is 5,000,000 in joint loans, 1,000,000 used: room 10,000 yuan
    bank_a = PartnerBankLimits("BANK-A", 100_000_000, 1_000_000_000, 24_000_000, 100_000_000)
    assert bank_a.room_fen == 1_000_000
    bank_b = PartnerBankLimits("BANK-B", 10**10, 10**11, 0, 0)
    assert check_partner_room(funding(), 2_000_000, [bank_a, bank_b]) == ()  # BANK-A's half: 1,000,000 fen
    refused = check_partner_room(funding(), 2_000_002, [bank_a, bank_b])  # its half: 1,000,001 fen
    assert [(item.partner_id, item.share_fen, item.room_fen) for item in refused] == [
        ("BANK-A", 1_000_001, 1_000_000)
    ]
    # the joint-loan cap can be the one that binds
    crowded = PartnerBankLimits("BANK-B", 10**10, 10**8, 0, 49_999_000)
    assert crowded.room_fen == 1_000
    assert [item.partner_id for item in check_partner_room(funding(), 1_000_000, [bank_a, crowded])] == [
        "BANK-B"
    ]
    with pytest.raises(InputError) as caught:
        check_partner_room(funding(), 1_000, [bank_a])
    assert caught.value.field == "partners[1]"
