"""Joint lending (联合贷): one loan funded by the platform lender and partner banks in set shares.

Shares are basis points of the principal (10,000 bp is the whole loan). The lender's own share must be at
least a configurable floor — 30 % by default (:data:`fengkong.bounds.joint_lender_share_bp_min`; the 2021
rules on bank internet loans ask the cooperating platform to fund at least 30 % of every joint loan, see
DOMAIN.md) — and the shares must add up to 10,000 bp exactly. Bad funding raises
:class:`~fengkong.errors.InputError` naming the field.

Every cash flow is split to the fen with :func:`fengkong.money.allocate` (largest remainder), so the parts
always add up to the whole:

* **disbursement**: the principal by funding shares;
* **principal** repaid (scheduled or not): by each funder's *principal still outstanding*, so that every
  funder is repaid exactly what it lent (a split by the fixed shares would drift by a fen here and there and
  leave one funder a fen short at the end); the last installment repays every funder's balance exactly;
* **interest** — the convention: a partner earns interest on *its own principal outstanding at its own
  annual rate*; the lender earns interest on its principal at the borrower's rate **and keeps the spread**
  on the partners' principal (borrower's rate − partner's rate). The interest the borrower pays for a period
  (whatever the day count, grace or interest-free period made it) is split with the weights
  ``balance_p × rate_p`` for each partner and ``Σ balance × borrower rate − Σ_p balance_p × rate_p`` for the
  lender, so a partner's part is its balance at its rate over the same period, rounded by largest
  remainder (in proportion to the period's actual interest: rounding, grace and interest-free periods reach
  every funder alike). A partner rate above the borrower's rate would make the lender pay the spread out of
  its own pocket and is refused;
* **fees**: by funding shares (:attr:`FeeSharing.PRO_RATA`, the default) or all to the lender
  (:attr:`FeeSharing.LENDER`, a platform service fee);
* **penalty interest**: by principal outstanding (it is charged on overdue principal, which the funders own
  in those proportions);
* **write-off loss**, by the agreement (:class:`LossAgreement`): pro rata (each funder loses its principal
  outstanding, in proportion) or a first-loss tranche — the lender absorbs losses up to ``first_loss_bp``
  of the loan's principal first, and the rest is shared by principal outstanding. Recoveries go back in
  proportion to the losses borne (pro rata) or to the partners first, up to their losses (first loss);
* **repayments**: a repayment already allocated to penalty, fee, interest and principal (see
  :mod:`fengkong.lending.allocation`) is split component by component with the rules above.

Ledger (:mod:`fengkong.ledger.accounts`). The lender services the whole loan: the borrower's receivable is
booked in full (``loans_receivable:L``) and each partner's share is a liability to that partner,
``partner_payables:<partner>``. These postings come *on top of* the single-loan postings of
:mod:`fengkong.lending.servicing`:

* funding — ``Dr cash_clearing / Cr partner_payables:P`` (the partner wires its share);
* a repayment — the partner's interest, fee and penalty are its income, not the lender's:
  ``Dr interest_income, fee_income, penalty_income / Cr partner_payables:P`` (its principal is already owed to
  it since funding); the lender recognises the partners' interest as theirs when the borrower pays it;
* a settlement — ``Dr partner_payables:P / Cr cash_clearing`` (the money passed on);
* a write-off — the partner's share of the loss lowers what the lender owes it:
  ``Dr partner_payables:P / Cr write_off_expense``; a recovery the other way,
  ``Dr recoveries / Cr partner_payables:P``.

Interest and fees the borrower never paid are written off by the lender alone: partners are passed their
interest only when it is collected, so they never booked it.

Room at a partner bank (:func:`check_partner_room`). The same 2021 rules cap each *bank*: its joint loans
with one cooperating platform within 25 % of its tier-1 capital, and all its jointly funded internet loans
within 50 % of its loans (DOMAIN.md; both fractions are configuration on :class:`PartnerBankLimits`). The bank
decides and checks for itself; the platform checks before it routes a share to a bank, so that a loan is not
offered on funding the bank would have to refuse. Over either cap is a :class:`PartnerRoomRefused` value.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from math import lcm
from typing import Final

from fengkong import bounds
from fengkong.domain.ledger import Posting, PostingLine
from fengkong.domain.products import Schedule
from fengkong.errors import InputError, InvariantError
from fengkong.ledger.accounts import (
    CASH_CLEARING,
    FEE_INCOME,
    INTEREST_INCOME,
    PARTNER_PAYABLES,
    PENALTY_INCOME,
    RECOVERIES,
    SUBACCOUNT_SEPARATOR,
    WRITE_OFF_EXPENSE,
    join_account,
)
from fengkong.lending.rounding import round_fraction
from fengkong.money import Money, allocate

BASIS_POINTS_WHOLE: Final = 10_000


class LossSharing(StrEnum):
    PRO_RATA = "pro-rata"  # each funder loses in proportion to its principal outstanding
    FIRST_LOSS = "first-loss"  # the lender absorbs a tranche first; the rest pro rata


class FeeSharing(StrEnum):
    PRO_RATA = "pro-rata"  # fees by funding shares
    LENDER = "lender"  # fees are the platform lender's (a service fee)


@dataclass(frozen=True, slots=True)
class PartnerShare:
    """A partner bank's share of a joint loan (basis points) and its own annual rate (a fraction)."""

    partner_id: str
    share_bp: int
    annual_rate: Decimal


@dataclass(frozen=True, slots=True)
class LossAgreement:
    """How write-off losses are shared; ``first_loss_bp`` is the lender's tranche in bp of the principal."""

    sharing: LossSharing = LossSharing.PRO_RATA
    first_loss_bp: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.first_loss_bp, int) or isinstance(self.first_loss_bp, bool):
            raise InputError("must be a whole number of basis points", field="loss.first_loss_bp")
        if self.sharing is LossSharing.PRO_RATA and self.first_loss_bp != 0:
            raise InputError("a pro-rata agreement has no first-loss tranche", field="loss.first_loss_bp")
        if self.sharing is LossSharing.FIRST_LOSS and not 0 < self.first_loss_bp <= BASIS_POINTS_WHOLE:
            raise InputError(
                f"a first-loss tranche is between 1 and {BASIS_POINTS_WHOLE} bp", field="loss.first_loss_bp"
            )


def _check_id(value: str, field: str) -> None:
    if not isinstance(value, str) or not value or len(value) > bounds.joint_funder_id_length_max:
        raise InputError(f"must be 1 to {bounds.joint_funder_id_length_max} characters", field=field)
    if SUBACCOUNT_SEPARATOR in value or value != value.strip():
        raise InputError(
            f"must not contain {SUBACCOUNT_SEPARATOR!r} or surrounding spaces (it names a sub-account)",
            field=field,
        )


def _check_bp(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError("must be a whole number of basis points", field=field)
    if not 0 < value <= BASIS_POINTS_WHOLE:
        raise InputError(f"must be between 1 and {BASIS_POINTS_WHOLE} basis points", field=field)
    return value


@dataclass(frozen=True, slots=True)
class JointFunding:
    """Who funds a joint loan and on what terms: the lender's share, the partners', loss and fee sharing.

    ``lender_floor_bp`` is the configured floor on the lender's own share (default 30 %).
    """

    lender_id: str
    lender_share_bp: int
    partners: tuple[PartnerShare, ...]
    loss: LossAgreement = LossAgreement()
    fees: FeeSharing = FeeSharing.PRO_RATA
    lender_floor_bp: int = bounds.joint_lender_share_bp_min

    def __post_init__(self) -> None:
        _check_id(self.lender_id, "lender_id")
        if isinstance(self.lender_floor_bp, bool) or not isinstance(self.lender_floor_bp, int):
            raise InputError("must be a whole number of basis points", field="lender_floor_bp")
        if not 0 <= self.lender_floor_bp <= BASIS_POINTS_WHOLE:
            raise InputError(f"must be between 0 and {BASIS_POINTS_WHOLE}", field="lender_floor_bp")
        _check_bp(self.lender_share_bp, "lender_share_bp")
        if self.lender_share_bp < self.lender_floor_bp:
            raise InputError(
                f"{self.lender_share_bp} bp is below the lender's floor of {self.lender_floor_bp} bp "
                "(the platform funds at least this share of every joint loan)",
                field="lender_share_bp",
            )
        if not isinstance(self.partners, tuple) or not self.partners:
            raise InputError("a joint loan has at least one partner (as a tuple)", field="partners")
        if len(self.partners) > bounds.joint_partners_max:
            raise InputError(
                f"{len(self.partners)} partners; at most joint_partners_max={bounds.joint_partners_max}",
                field="partners",
            )
        seen = {self.lender_id}
        for index, partner in enumerate(self.partners):
            field = f"partners[{index}]"
            _check_id(partner.partner_id, f"{field}.partner_id")
            if partner.partner_id in seen:
                raise InputError(f"{partner.partner_id!r} funds the loan twice", field=f"{field}.partner_id")
            seen.add(partner.partner_id)
            _check_bp(partner.share_bp, f"{field}.share_bp")
            rate = partner.annual_rate
            if not isinstance(rate, Decimal) or not rate.is_finite() or not 0 <= rate < 1:
                raise InputError("must be a Decimal fraction in [0, 1)", field=f"{field}.annual_rate")
        total = self.lender_share_bp + sum(partner.share_bp for partner in self.partners)
        if total != BASIS_POINTS_WHOLE:
            raise InputError(f"shares add up to {total} bp, not {BASIS_POINTS_WHOLE}", field="shares")

    @property
    def funder_ids(self) -> tuple[str, ...]:
        """The lender first, then the partners in order: the order of every split."""
        return (self.lender_id, *(partner.partner_id for partner in self.partners))

    @property
    def shares_bp(self) -> tuple[int, ...]:
        return (self.lender_share_bp, *(partner.share_bp for partner in self.partners))

    def check_borrower_rate(self, borrower_rate: Decimal) -> None:
        """Refuse a borrower rate below a partner's rate (the lender's spread would be negative)."""
        if not isinstance(borrower_rate, Decimal) or not borrower_rate.is_finite() or borrower_rate < 0:
            raise InputError("must be a non-negative Decimal fraction", field="borrower_rate")
        for index, partner in enumerate(self.partners):
            if partner.annual_rate > borrower_rate:
                raise InputError(
                    f"partner {partner.partner_id!r} earns {partner.annual_rate}, more than the borrower's "
                    f"rate {borrower_rate}: the lender's spread cannot be negative",
                    field=f"partners[{index}].annual_rate",
                )


@dataclass(frozen=True, slots=True)
class FunderAmounts:
    """One funder's part of a cash flow, by component (fen)."""

    funder_id: str
    principal: int = 0
    interest: int = 0
    fee: int = 0
    penalty: int = 0

    @property
    def total(self) -> int:
        return self.principal + self.interest + self.fee + self.penalty


def _zeros(count: int) -> tuple[int, ...]:
    return (0,) * count


def _split(amount: int, weights: Sequence[int], fallback: Sequence[int]) -> tuple[int, ...]:
    """``amount`` by ``weights`` (largest remainder); by ``fallback`` when every weight is zero."""
    if amount == 0:
        return _zeros(len(weights))
    if any(weights):
        return allocate(amount, list(weights))
    return allocate(amount, list(fallback))


def split_disbursement(funding: JointFunding, principal_fen: int) -> tuple[int, ...]:
    """Each funder's part of the principal (lender first), by funding shares."""
    if isinstance(principal_fen, bool) or not isinstance(principal_fen, int) or principal_fen <= 0:
        raise InputError("must be a positive whole number of fen", field="principal_fen")
    if principal_fen > bounds.loan_principal_fen_max:
        raise InputError(
            f"above loan_principal_fen_max={bounds.loan_principal_fen_max}", field="principal_fen"
        )
    return allocate(principal_fen, list(funding.shares_bp))


@functools.lru_cache(maxsize=1_024)
def _scaled_rates(funding: JointFunding, borrower_rate: Decimal) -> tuple[int, tuple[int, ...]]:
    """The borrower's and each partner's rate times one common denominator, as integers (checked once per
    funding and rate)."""
    funding.check_borrower_rate(borrower_rate)
    rates = [Fraction(partner.annual_rate) for partner in funding.partners]
    borrower = Fraction(borrower_rate)
    scale = lcm(borrower.denominator, *(rate.denominator for rate in rates))
    return int(borrower * scale), tuple(int(rate * scale) for rate in rates)


def interest_weights(
    funding: JointFunding, borrower_rate: Decimal, balances: Sequence[int]
) -> tuple[int, ...]:
    """Integer weights that split a period's interest: each partner's balance at its rate, and the lender's
    balance at the borrower's rate plus the spread on the partners' balances (see the module docstring)."""
    borrower, partner_rates = _scaled_rates(funding, borrower_rate)
    partner_weights = [balance * rate for balance, rate in zip(balances[1:], partner_rates, strict=True)]
    lender = sum(balances) * borrower - sum(partner_weights)
    if lender < 0:
        raise InvariantError("the lender's interest weight is negative")
    return (lender, *partner_weights)


def _check_balances(funding: JointFunding, balances: Sequence[int]) -> None:
    if len(balances) != len(funding.funder_ids):
        raise InputError(f"{len(balances)} balances for {len(funding.funder_ids)} funders", field="balances")
    if any(isinstance(b, bool) or not isinstance(b, int) or b < 0 for b in balances):
        raise InputError("must be non-negative whole numbers of fen", field="balances")


def split_flow(
    funding: JointFunding,
    borrower_rate: Decimal,
    balances: Sequence[int],
    *,
    principal: int = 0,
    interest: int = 0,
    fee: int = 0,
    penalty: int = 0,
) -> tuple[FunderAmounts, ...]:
    """Split one flow (an installment, or a repayment already allocated to its components) among the
    funders, whose principal outstanding *before* this flow is ``balances`` (lender first)."""
    _check_balances(funding, balances)
    for name, value in (("principal", principal), ("interest", interest), ("fee", fee), ("penalty", penalty)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InputError("must be a non-negative whole number of fen", field=name)
    if principal > sum(balances):
        raise InputError(
            f"{principal} fen of principal is more than the {sum(balances)} fen outstanding",
            field="principal",
        )
    shares = funding.shares_bp
    count = len(shares)
    principal_parts = _split(principal, balances, shares)
    interest_parts = _split(interest, interest_weights(funding, borrower_rate, balances), shares)
    fee_weights = shares if funding.fees is FeeSharing.PRO_RATA else (1, *_zeros(count - 1))
    fee_parts = _split(fee, fee_weights, fee_weights)
    penalty_parts = _split(penalty, balances, shares)
    parts = tuple(
        FunderAmounts(funder, p, i, f, n)
        for funder, p, i, f, n in zip(
            funding.funder_ids, principal_parts, interest_parts, fee_parts, penalty_parts, strict=True
        )
    )
    if sum(part.total for part in parts) != principal + interest + fee + penalty:
        raise InvariantError("a joint split lost money")
    return parts


@dataclass(frozen=True, slots=True)
class JointInstallment:
    number: int
    due: date
    parts: tuple[FunderAmounts, ...]  # one per funder, lender first


@dataclass(frozen=True, slots=True)
class JointSchedule:
    """A schedule split among the funders: what each lent and what each is repaid, installment by
    installment."""

    funding: JointFunding
    borrower_rate: Decimal
    disbursed: tuple[int, ...]  # per funder, lender first
    installments: tuple[JointInstallment, ...]

    def funder_totals(self, funder_id: str) -> FunderAmounts:
        """Everything ``funder_id`` is scheduled to receive over the loan."""
        index = self.funding.funder_ids.index(funder_id)
        rows = [line.parts[index] for line in self.installments]
        return FunderAmounts(
            funder_id,
            sum(row.principal for row in rows),
            sum(row.interest for row in rows),
            sum(row.fee for row in rows),
            sum(row.penalty for row in rows),
        )


def split_schedule(funding: JointFunding, schedule: Schedule, borrower_rate: Decimal) -> JointSchedule:
    """Split ``schedule`` (at ``borrower_rate``) among the funders of ``funding``."""
    disbursed = split_disbursement(funding, schedule.principal.amount_minor)
    balances = list(disbursed)
    lines: list[JointInstallment] = []
    for line in schedule.installments:
        parts = split_flow(
            funding,
            borrower_rate,
            balances,
            principal=line.principal.amount_minor,
            interest=line.interest.amount_minor,
            fee=line.fee.amount_minor,
        )
        balances = [balance - part.principal for balance, part in zip(balances, parts, strict=True)]
        lines.append(JointInstallment(line.number, line.due, parts))
    if any(balances):
        raise InvariantError(f"a funder is left with principal outstanding: {balances}")
    return JointSchedule(funding, borrower_rate, disbursed, tuple(lines))


def balances_after(balances: Sequence[int], parts: Sequence[FunderAmounts]) -> tuple[int, ...]:
    """Each funder's principal outstanding after a flow split by :func:`split_flow`."""
    return tuple(balance - part.principal for balance, part in zip(balances, parts, strict=True))


def split_loss(
    funding: JointFunding, principal_fen: int, balances: Sequence[int], loss_fen: int
) -> tuple[int, ...]:
    """Each funder's share of ``loss_fen`` of principal written off (lender first).

    Pro rata: by principal outstanding. First loss: the lender takes ``min(loss, tranche)`` first, the tranche
    being ``first_loss_bp`` of the loan's original ``principal_fen`` rounded down to the fen; the rest is
    shared by principal outstanding. No partner loses more than its principal outstanding.
    """
    _check_balances(funding, balances)
    if isinstance(loss_fen, bool) or not isinstance(loss_fen, int) or loss_fen < 0:
        raise InputError("must be a non-negative whole number of fen", field="loss_fen")
    if loss_fen > sum(balances):
        raise InputError(
            f"{loss_fen} fen is more than the {sum(balances)} fen of principal outstanding", field="loss_fen"
        )
    tranche = round_fraction(
        Fraction(principal_fen * funding.loss.first_loss_bp, BASIS_POINTS_WHOLE), "ROUND_DOWN"
    )
    first = min(loss_fen, tranche)
    rest = _split(loss_fen - first, balances, funding.shares_bp)
    parts = (rest[0] + first, *rest[1:])
    if sum(parts) != loss_fen:
        raise InvariantError("a loss split lost money")
    return parts


def split_recovery(funding: JointFunding, losses: Sequence[int], recovery_fen: int) -> tuple[int, ...]:
    """Each funder's part of ``recovery_fen`` recovered after write-off, given the losses still unrecovered
    (lender first): pro rata by those losses, or — under a first-loss agreement — to the partners first, in
    proportion to their losses and up to them, then to the lender."""
    _check_balances(funding, losses)
    if isinstance(recovery_fen, bool) or not isinstance(recovery_fen, int) or recovery_fen < 0:
        raise InputError("must be a non-negative whole number of fen", field="recovery_fen")
    if recovery_fen > sum(losses):
        raise InputError(
            f"{recovery_fen} fen is more than the {sum(losses)} fen still lost", field="recovery_fen"
        )
    if recovery_fen == 0:
        return _zeros(len(losses))
    if funding.loss.sharing is LossSharing.PRO_RATA:
        return allocate(recovery_fen, list(losses))
    partner_losses = list(losses[1:])
    to_partners = min(recovery_fen, sum(partner_losses))
    partner_parts = allocate(to_partners, partner_losses) if to_partners else _zeros(len(partner_losses))
    return (recovery_fen - to_partners, *partner_parts)


# -- ledger postings ---------------------------------------------------------------------------------------


def _payable(partner_id: str) -> str:
    return join_account(PARTNER_PAYABLES, partner_id)


def funding_posting(
    funding: JointFunding, loan_id: str, disbursed: Sequence[int], business_date: date, currency: str
) -> Posting | None:
    """The partners' funding of ``loan_id``: ``Dr cash_clearing / Cr partner_payables:P`` per partner
    (``disbursed`` from :func:`split_disbursement`). ``None`` when the partners' parts round to nothing."""
    partner_parts = list(disbursed[1:])
    if not any(partner_parts):
        return None
    lines = [PostingLine(CASH_CLEARING, Money(sum(partner_parts), currency))]
    lines += [
        PostingLine(_payable(partner.partner_id), Money(-part, currency))
        for partner, part in zip(funding.partners, partner_parts, strict=True)
        if part
    ]
    return Posting(
        f"joint-fund:{loan_id}", business_date, f"partner funding of joint loan {loan_id}", tuple(lines)
    )


def repayment_posting(
    repayment_id: str, parts: Sequence[FunderAmounts], business_date: date, currency: str
) -> Posting | None:
    """The partners' interest, fee and penalty out of a repayment become what the lender owes them
    (``parts`` from :func:`split_flow`, lender first). ``None`` when no partner earned anything."""
    lines: list[PostingLine] = []
    for part in parts[1:]:
        income = part.interest + part.fee + part.penalty
        if income == 0:
            continue
        for account, amount in (
            (INTEREST_INCOME, part.interest),
            (FEE_INCOME, part.fee),
            (PENALTY_INCOME, part.penalty),
        ):
            if amount:
                lines.append(PostingLine(account, Money(amount, currency)))
        lines.append(PostingLine(_payable(part.funder_id), Money(-income, currency)))
    if not lines:
        return None
    return Posting(
        f"joint-repay:{repayment_id}",
        business_date,
        f"partners' share of repayment {repayment_id}",
        tuple(lines),
    )


def settlement_posting(
    settlement_id: str, partner_id: str, amount_fen: int, business_date: date, currency: str
) -> Posting:
    """Money passed on to a partner: ``Dr partner_payables:P / Cr cash_clearing``."""
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen <= 0:
        raise InputError("must be a positive whole number of fen", field="amount_fen")
    return Posting(
        f"joint-settle:{settlement_id}",
        business_date,
        f"settlement to partner {partner_id}",
        (
            PostingLine(_payable(partner_id), Money(amount_fen, currency)),
            PostingLine(CASH_CLEARING, Money(-amount_fen, currency)),
        ),
    )


def write_off_posting(
    funding: JointFunding, loan_id: str, losses: Sequence[int], business_date: date, currency: str
) -> Posting | None:
    """The partners' share of a write-off (``losses`` from :func:`split_loss`, lender first) lowers what the
    lender owes them: ``Dr partner_payables:P / Cr write_off_expense``. ``None`` when they lose nothing."""
    partner_losses = [
        (partner.partner_id, loss) for partner, loss in zip(funding.partners, losses[1:], strict=True) if loss
    ]
    if not partner_losses:
        return None
    lines = [PostingLine(_payable(partner), Money(loss, currency)) for partner, loss in partner_losses]
    lines.append(PostingLine(WRITE_OFF_EXPENSE, Money(-sum(loss for _, loss in partner_losses), currency)))
    return Posting(
        f"joint-write-off:{loan_id}", business_date, f"partners' share of the loss on {loan_id}", tuple(lines)
    )


def recovery_posting(
    funding: JointFunding, repayment_id: str, parts: Sequence[int], business_date: date, currency: str
) -> Posting | None:
    """The partners' part of a recovery (``parts`` from :func:`split_recovery`) is owed to them:
    ``Dr recoveries / Cr partner_payables:P``. ``None`` when they get nothing."""
    partner_parts = [
        (partner.partner_id, part) for partner, part in zip(funding.partners, parts[1:], strict=True) if part
    ]
    if not partner_parts:
        return None
    lines = [PostingLine(RECOVERIES, Money(sum(part for _, part in partner_parts), currency))]
    lines += [PostingLine(_payable(partner), Money(-part, currency)) for partner, part in partner_parts]
    return Posting(
        f"joint-recover:{repayment_id}",
        business_date,
        f"partners' share of recovery {repayment_id}",
        tuple(lines),
    )


# -- room at a partner bank --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PartnerBankLimits:
    """What a partner bank has and owes towards the caps on its joint lending (fen), and the caps themselves
    (basis points: 25 % of tier-1 capital with this platform, 50 % of its loans in all joint loans)."""

    partner_id: str
    tier1_capital_fen: int
    loans_total_fen: int
    with_lender_outstanding_fen: int  # its joint loans with this platform, outstanding
    joint_outstanding_fen: int  # all its jointly funded internet loans, outstanding
    with_lender_cap_bp: int = 2_500  # of tier-1 capital
    joint_cap_bp: int = 5_000  # of its loans

    def __post_init__(self) -> None:
        for name in (
            "tier1_capital_fen",
            "loans_total_fen",
            "with_lender_outstanding_fen",
            "joint_outstanding_fen",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InputError("must be a non-negative whole number of fen", field=name)
        for name in ("with_lender_cap_bp", "joint_cap_bp"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= BASIS_POINTS_WHOLE:
                raise InputError(f"must be between 0 and {BASIS_POINTS_WHOLE} basis points", field=name)

    @property
    def room_fen(self) -> int:
        """How much more the bank may fund with this platform under both caps (rounded down to the fen)."""
        with_lender = round_fraction(
            Fraction(self.tier1_capital_fen * self.with_lender_cap_bp, BASIS_POINTS_WHOLE), "ROUND_DOWN"
        )
        joint = round_fraction(
            Fraction(self.loans_total_fen * self.joint_cap_bp, BASIS_POINTS_WHOLE), "ROUND_DOWN"
        )
        return max(0, min(with_lender - self.with_lender_outstanding_fen, joint - self.joint_outstanding_fen))


@dataclass(frozen=True, slots=True)
class PartnerRoomRefused:
    """An expected outcome: a partner's share of the loan does not fit under its caps."""

    partner_id: str
    share_fen: int
    room_fen: int
    reason: str


def check_partner_room(
    funding: JointFunding, principal_fen: int, limits: Sequence[PartnerBankLimits]
) -> tuple[PartnerRoomRefused, ...]:
    """Every partner whose share of ``principal_fen`` exceeds its room (empty: the funding fits). A partner
    without limits in ``limits`` is an input error: its room cannot be known."""
    by_partner = {item.partner_id: item for item in limits}
    parts = split_disbursement(funding, principal_fen)
    refused: list[PartnerRoomRefused] = []
    for index, (partner, part) in enumerate(zip(funding.partners, parts[1:], strict=True)):
        known = by_partner.get(partner.partner_id)
        if known is None:
            raise InputError(f"no limits for partner {partner.partner_id!r}", field=f"partners[{index}]")
        if part > known.room_fen:
            refused.append(
                PartnerRoomRefused(
                    partner.partner_id, part, known.room_fen,
                    f"{partner.partner_id} would fund {part} fen with {known.room_fen} fen of room under its "
                    f"caps ({known.with_lender_cap_bp} bp of tier-1 capital with this platform, "
                    f"{known.joint_cap_bp} bp of its loans in joint loans)",
                )
            )  # fmt: skip
    return tuple(refused)
