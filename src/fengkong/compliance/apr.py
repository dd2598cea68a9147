"""Annualised rates by the IRR method, over every cash flow including every fee.

PBOC announcement [2021] No. 3 asks every lender to show the annualised rate: all loan costs (interest and
every directly related fee) over the principal actually in use, annualised; the compound method is the
internal rate of return (IRR) over the cash flows. This module computes it.

* **Regular schedules** (every flow falls on a whole period from the first one: monthly dates with the day
  kept, clamped to the month's end): the periodic IRR ``i`` solves ``Σ aₖ (1+i)^-k = 0``; the annualised
  rate is ``i × periods per year`` (method ``"irr-periodic"``) and the effective annual rate is
  ``(1+i)^n − 1``.
* **Irregular flows** (a BNPL first period, a revolving line): a dated IRR on actual/365 (XIRR-style):
  ``Σ aₖ (1+r)^(-dₖ/365) = 0`` with ``dₖ`` the days from the first flow; ``r`` is an effective annual rate
  (method ``"irr-dated-actual/365"``); ``periodic_irr`` is then the daily rate ``(1+r)^(1/365) − 1``.

The solver works in :class:`~decimal.Decimal` with :data:`WORKING_PRECISION_DIGITS` digits on the per-period
(or per-day) rate ``u``: it brackets the root inside the rates :mod:`fengkong.bounds` allows, then runs a
safeguarded Newton iteration that falls back to bisection whenever a Newton step leaves the bracket or fails
to halve the previous step, so it always converges when a root exists in the bracket. The periodic IRR is
solved to within :data:`IRR_TOLERANCE` and reported to :data:`PERIODIC_IRR_QUANTUM`; percentages to
:data:`RATE_PCT_QUANTUM`.

Bad input raises :class:`~fengkong.errors.InputError` naming the field and the reason: fewer than two flows,
no sign change, no rate that makes the NPV zero inside the bounds, several such rates, too many flows,
amounts or spans beyond the bounds, a zero principal, and a loan whose fees are missing (``fees=None``:
every caller states its fees, ``()`` when there are none). An upfront fee is its own cash flow on the
disbursement date; the disbursement is always the full principal (no head-cut interest, Civil Code
art. 670).
"""

from __future__ import annotations

import calendar
import functools
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from typing import Final

from fengkong import bounds
from fengkong.domain.products import AnnualisedRate, CashFlow, Fee, Frequency, Offer, Schedule
from fengkong.errors import InputError, InvariantError
from fengkong.money import Money

METHOD_PERIODIC: Final = "irr-periodic"
METHOD_DATED: Final = "irr-dated-actual/365"
DAYS_PER_YEAR: Final = 365  # actual/365: the dated IRR's year
PERIODS_PER_YEAR: Final[dict[Frequency, int]] = {
    Frequency.MONTHLY: 12,
    Frequency.WEEKLY: 52,
    Frequency.DAILY: 365,
}
WORKING_PRECISION_DIGITS: Final = 40  # significant digits carried while solving
IRR_TOLERANCE: Final = Decimal("1e-28")  # the per-period rate is solved to within this (absolute)
PERIODIC_IRR_QUANTUM: Final = Decimal("1e-20")  # reported periodic IRR: 20 decimal places of a fraction
RATE_PCT_QUANTUM: Final = Decimal("1e-12")  # reported percentages: 12 decimal places
OFFER_RATE_TOLERANCE_PCT: Final = Decimal("1e-9")  # a stated rate may differ from ours by rounding only
_HUNDRED: Final = Decimal(100)
_RANGE_TEXT: Final = (
    f"-{bounds.negative_annualised_rate_pct_max} % to {bounds.annualised_rate_pct_max} % a year"
)


@dataclass(frozen=True, slots=True)
class PeriodFlow:
    """A cash flow on a whole period of a regular schedule (period 0 is the disbursement), from the
    borrower's side: negative is paid out to the borrower, positive is paid by the borrower."""

    period: int
    amount: Money


@dataclass(frozen=True, slots=True)
class _Flows:
    """Flows aggregated per offset (periods or days from the first flow), ascending, amounts in minor
    units; ``unit_per_year`` is the number of offsets in a year."""

    offsets: tuple[int, ...]
    amounts: tuple[Decimal, ...]
    unit_per_year: int
    dated: bool


# -- public API --------------------------------------------------------------------------------------------


def annualised_rate(
    priced: Schedule | Sequence[CashFlow],
    *,
    fees: Sequence[Fee] | None,
    frequency: Frequency = Frequency.MONTHLY,
) -> AnnualisedRate:
    """The annualised rate of a schedule or a list of dated cash flows, with ``fees`` as their own flows.

    ``fees`` is required: ``None`` means the fees are missing and is refused; ``()`` says there are none.
    Flows whose dates all fall on whole ``frequency`` periods from the first are priced by the periodic IRR;
    any other set of dates by the dated IRR on actual/365.
    """
    flows = loan_cash_flows(priced, fees=fees)
    periods = regular_periods([flow.on for flow in flows], frequency)
    if periods is None:
        return dated_rate(flows)
    return periodic_rate(
        [PeriodFlow(period, flow.amount) for period, flow in zip(periods, flows, strict=True)], frequency
    )


def verify_offer(offer: Offer) -> AnnualisedRate:
    """Recompute an offer's annualised rate from its schedule and every fee its terms declare, and reject
    the offer when its stated rate leaves cost out (it is lower than the recomputed one, or computed by
    another method): an offer whose fees are missing from its price is not shown to anyone."""
    if offer.schedule is None:
        raise InputError(
            "a line has no schedule until a draw: its rate is disclosed per draw or statement",
            field="schedule",
        )
    recomputed = annualised_rate(offer.schedule, fees=offer.terms.fees, frequency=offer.terms.frequency)
    stated = offer.annualised_rate
    if stated.method != recomputed.method:
        raise InputError(
            f"stated by the {stated.method!r} method, the schedule calls for {recomputed.method!r}",
            field="annualised_rate",
        )
    if stated.annual_rate_pct < recomputed.annual_rate_pct - OFFER_RATE_TOLERANCE_PCT:
        raise InputError(
            f"states {stated.annual_rate_pct} % but the schedule with every fee costs "
            f"{recomputed.annual_rate_pct} %: fees are missing from the price",
            field="annualised_rate",
        )
    return recomputed


def loan_cash_flows(
    priced: Schedule | Sequence[CashFlow], *, fees: Sequence[Fee] | None
) -> tuple[CashFlow, ...]:
    """Every cash flow of a loan for disclosure: the disbursement of the full principal, each installment
    and each fee as its own flow (positive: paid by the borrower), in date order (stable)."""
    if fees is None:
        raise InputError(
            "missing: state every fee charged with the loan (guarantee, insurance, membership, service...), "
            "or an empty list when there is none",
            field="fees",
        )
    if isinstance(priced, Schedule):
        _check_schedule(priced)
        base = list(priced.cash_flows())
        first_day, last_day = priced.disbursed_on, max(line.due for line in priced.installments)
        currency = priced.principal.currency
    else:
        base = list(priced)
        if not base:
            raise InputError("no cash flows", field="cash_flows")
        first_day, last_day = min(flow.on for flow in base), max(flow.on for flow in base)
        currency = base[0].amount.currency
    for index, fee in enumerate(fees):
        _check_fee(fee, index, currency, first_day, last_day)
    flows = base + [CashFlow(fee.due, fee.amount) for fee in fees]
    return tuple(sorted(flows, key=lambda flow: flow.on))


def periodic_rate(flows: Sequence[PeriodFlow], frequency: Frequency = Frequency.MONTHLY) -> AnnualisedRate:
    """The periodic IRR of flows on whole periods, annualised by ``periods per year`` (and compounded)."""
    per_year = PERIODS_PER_YEAR[frequency]
    _check_count(len(flows))
    _common_currency([flow.amount for flow in flows])
    for index, flow in enumerate(flows):
        if isinstance(flow.period, bool) or not isinstance(flow.period, int) or flow.period < 0:
            raise InputError("must be a whole period number, 0 or more", field=f"cash_flows[{index}].period")
        _check_amount(flow.amount, index)
    span_days = (max(flow.period for flow in flows) * DAYS_PER_YEAR) // per_year
    if span_days > bounds.irr_span_days_max:
        raise InputError(
            f"the flows span about {span_days} days, beyond irr_span_days_max={bounds.irr_span_days_max}",
            field="cash_flows",
        )
    prepared = _aggregate(((flow.period, flow.amount) for flow in flows), per_year, dated=False)
    rate = _solve(prepared)
    with localcontext() as ctx:
        ctx.prec = WORKING_PRECISION_DIGITS
        annual = rate * per_year * _HUNDRED
        effective = ((1 + rate) ** per_year - 1) * _HUNDRED
    return AnnualisedRate(
        annual_rate_pct=_pct(annual),
        method=METHOD_PERIODIC,
        periodic_irr=rate.quantize(PERIODIC_IRR_QUANTUM, rounding=ROUND_HALF_EVEN),
        effective_annual_rate_pct=_pct(effective),
    )


def dated_rate(flows: Sequence[CashFlow]) -> AnnualisedRate:
    """The dated IRR on actual/365 (XIRR-style): an effective annual rate; ``periodic_irr`` is per day."""
    _check_count(len(flows))
    _common_currency([flow.amount for flow in flows])
    for index, flow in enumerate(flows):
        if not isinstance(flow.on, date):
            raise InputError("must be a date", field=f"cash_flows[{index}].on")
        _check_amount(flow.amount, index)
    start = min(flow.on for flow in flows)
    span = (max(flow.on for flow in flows) - start).days
    if span > bounds.irr_span_days_max:
        raise InputError(
            f"the flows span {span} days, beyond irr_span_days_max={bounds.irr_span_days_max}",
            field="cash_flows",
        )
    prepared = _aggregate(
        (((flow.on - start).days, flow.amount) for flow in flows), DAYS_PER_YEAR, dated=True
    )
    daily = _solve(prepared)
    with localcontext() as ctx:
        ctx.prec = WORKING_PRECISION_DIGITS
        annual = ((1 + daily) ** DAYS_PER_YEAR - 1) * _HUNDRED
    return AnnualisedRate(
        annual_rate_pct=_pct(annual),
        method=METHOD_DATED,
        periodic_irr=daily.quantize(PERIODIC_IRR_QUANTUM, rounding=ROUND_HALF_EVEN),
        effective_annual_rate_pct=_pct(annual),
    )


def net_present_value_minor(flows: Sequence[PeriodFlow], periodic_irr: Decimal) -> Decimal:
    """``Σ aₖ (1+i)^-k`` in minor units (fen): the check that an IRR makes the NPV zero."""
    with localcontext() as ctx:
        ctx.prec = WORKING_PRECISION_DIGITS
        discount = 1 / (1 + periodic_irr)
        return sum((Decimal(flow.amount.amount_minor) * discount**flow.period for flow in flows), Decimal(0))


def regular_periods(dates: Sequence[date], frequency: Frequency) -> tuple[int, ...] | None:
    """The period number of each date counted from the earliest, when every date falls on a whole period
    (monthly: the earliest date's day of month, clamped to the month's end); ``None`` otherwise."""
    if not dates:
        return None
    start = min(dates)
    periods: list[int] = []
    for day in dates:
        elapsed = (day - start).days
        if frequency is Frequency.DAILY:
            periods.append(elapsed)
        elif frequency is Frequency.WEEKLY:
            if elapsed % 7:
                return None
            periods.append(elapsed // 7)
        else:
            months = (day.year - start.year) * 12 + day.month - start.month
            if add_months(start, months) != day:
                return None
            periods.append(months)
    return tuple(periods)


def add_months(start: date, months: int) -> date:
    """``start`` moved by whole months, the day clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


# -- validation --------------------------------------------------------------------------------------------


def _check_schedule(schedule: Schedule) -> None:
    if schedule.principal.amount_minor <= 0:
        raise InputError("must be more than zero (a zero principal has no rate)", field="principal")
    if not schedule.installments:
        raise InputError("a schedule needs at least one installment", field="installments")
    for line in schedule.installments:
        if line.due < schedule.disbursed_on:
            raise InputError(
                f"installment {line.number} falls due before the disbursement", field="installments"
            )


def _check_fee(fee: Fee, index: int, currency: str, first_day: date, last_day: date) -> None:
    field = f"fees[{index}]"
    if not isinstance(fee, Fee):
        raise InputError(f"must be a Fee, got {type(fee).__name__}", field=field)
    if not fee.name.strip():
        raise InputError("every fee needs a name", field=f"{field}.name")
    if fee.amount.currency != currency:
        raise InputError(f"in {fee.amount.currency}, the loan is in {currency}", field=f"{field}.amount")
    if fee.amount.amount_minor <= 0:
        raise InputError(
            "must be more than zero (a waived fee is left out; a rebate is not a fee)",
            field=f"{field}.amount",
        )
    if not first_day <= fee.due <= last_day:
        raise InputError(
            f"due {fee.due.isoformat()} outside the loan ({first_day.isoformat()} to {last_day.isoformat()})",
            field=f"{field}.due",
        )


def _check_count(count: int) -> None:
    if count < 2:
        raise InputError("an IRR needs at least two cash flows", field="cash_flows")
    if count > bounds.irr_cash_flows_max:
        raise InputError(
            f"too many cash flows: {count} > irr_cash_flows_max={bounds.irr_cash_flows_max}",
            field="cash_flows",
        )


def _check_amount(amount: Money, index: int) -> None:
    if not isinstance(amount, Money):
        raise InputError(f"must be Money, got {type(amount).__name__}", field=f"cash_flows[{index}].amount")
    if abs(amount.amount_minor) > bounds.cash_flow_amount_fen_max:
        raise InputError(
            f"{amount} is beyond cash_flow_amount_fen_max={bounds.cash_flow_amount_fen_max} minor units",
            field=f"cash_flows[{index}].amount",
        )


def _common_currency(amounts: Iterable[Money]) -> str:
    currencies = {amount.currency for amount in amounts if isinstance(amount, Money)}
    if len(currencies) > 1:
        raise InputError(f"cash flows in several currencies: {sorted(currencies)}", field="cash_flows")
    return currencies.pop() if currencies else "CNY"


# -- the solver --------------------------------------------------------------------------------------------


def _aggregate(pairs: Iterable[tuple[int, Money]], unit_per_year: int, *, dated: bool) -> _Flows:
    totals: dict[int, int] = {}
    for offset, amount in pairs:
        totals[offset] = totals.get(offset, 0) + amount.amount_minor
    ordered = sorted((offset, total) for offset, total in totals.items() if total != 0)
    if not any(total > 0 for _, total in ordered) or not any(total < 0 for _, total in ordered):
        raise InputError(
            "no sign change: an IRR needs money both paid out and paid back (a zero principal has no rate)",
            field="cash_flows",
        )
    base = ordered[0][0]
    return _Flows(
        offsets=tuple(offset - base for offset, _ in ordered),
        amounts=tuple(Decimal(total) for _, total in ordered),
        unit_per_year=unit_per_year,
        dated=dated,
    )


def _npv(flows: _Flows, rate: Decimal) -> tuple[Decimal, Decimal]:
    """NPV at per-unit ``rate`` and its derivative (the caller holds the working precision)."""
    discount = 1 / (1 + rate)
    value = Decimal(0)
    slope = Decimal(0)
    factor = Decimal(1)  # discount ** offset, built up along the ascending offsets
    previous = 0
    for offset, amount in zip(flows.offsets, flows.amounts, strict=True):
        gap = offset - previous
        factor = factor * discount if gap == 1 else factor * discount**gap
        previous = offset
        term = amount * factor
        value += term
        slope -= offset * term
    return value, slope * discount


def _rate_bounds(flows: _Flows) -> tuple[Decimal, Decimal]:
    """The per-unit rates that correspond to the lowest and highest annual rates the bounds allow."""
    return _rate_bounds_for(flows.unit_per_year, flows.dated)


@functools.cache
def _rate_bounds_for(unit_per_year: int, dated: bool) -> tuple[Decimal, Decimal]:
    with localcontext() as ctx:
        ctx.prec = WORKING_PRECISION_DIGITS
        lowest = -Decimal(bounds.negative_annualised_rate_pct_max) / _HUNDRED
        highest = Decimal(bounds.annualised_rate_pct_max) / _HUNDRED
        return _annual_to_unit(lowest, unit_per_year, dated), _annual_to_unit(highest, unit_per_year, dated)


def _per_unit(flows: _Flows, annual: Decimal) -> Decimal:
    return _annual_to_unit(annual, flows.unit_per_year, flows.dated)


def _annual_to_unit(annual: Decimal, unit_per_year: int, dated: bool) -> Decimal:
    """The per-period rate of an annual one: ``annual / n`` for the periodic method, the compounding root
    ``(1 + annual)^(1/365) - 1`` for the dated one."""
    if dated:
        return (1 + annual) ** (Decimal(1) / unit_per_year) - 1
    return annual / unit_per_year


def _sign(value: Decimal) -> int:
    return (value > 0) - (value < 0)


def _solve(flows: _Flows) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = WORKING_PRECISION_DIGITS
        lowest, highest = _rate_bounds(flows)
        signs = [_sign(amount) for amount in flows.amounts]
        changes = sum(1 for left, right in itertools.pairwise(signs) if left != right)
        if changes == 1:
            # Descartes' rule of signs: exactly one rate in (-1, ∞) makes the NPV zero.
            low_value, _ = _npv(flows, lowest)
            high_value, _ = _npv(flows, highest)
            if _sign(low_value) == 0:
                return lowest
            if _sign(high_value) == 0:
                return highest
            if _sign(low_value) == _sign(high_value):
                raise InputError(
                    f"the rate that makes the NPV zero is beyond the bounds ({_RANGE_TEXT}): "
                    "the amounts are absurd for a loan",
                    field="cash_flows",
                )
            return _bracketed_newton(flows, lowest, highest, low_value)
        return _solve_by_scan(flows, lowest, highest)


def _scan_points(flows: _Flows, lowest: Decimal, highest: Decimal) -> list[Decimal]:
    count = bounds.irr_bracket_scan_points_count
    negative = [Decimal(x) for x in ("-0.5", "-0.2", "-0.1", "-0.05", "-0.01")]
    positive_count = count - len(negative) - 3
    top = Decimal(bounds.annualised_rate_pct_max) / _HUNDRED
    floor = Decimal("0.001")
    ratio = (top / floor) ** (Decimal(1) / positive_count)
    positive = [floor * ratio**step for step in range(positive_count)]
    annual = sorted({*negative, Decimal(0), *positive})
    inner = [_per_unit(flows, value) for value in annual]
    return [lowest] + [rate for rate in inner if lowest < rate < highest] + [highest]


def _solve_by_scan(flows: _Flows, lowest: Decimal, highest: Decimal) -> Decimal:
    """Several sign changes: probe the allowed range; exactly one bracketed root is accepted."""
    points = _scan_points(flows, lowest, highest)
    values = [_npv(flows, point)[0] for point in points]
    roots = [point for point, value in zip(points, values, strict=True) if value == 0]
    brackets = [
        (points[index], points[index + 1], values[index])
        for index in range(len(points) - 1)
        if _sign(values[index]) * _sign(values[index + 1]) < 0
    ]
    if len(roots) + len(brackets) == 0:
        raise InputError(
            f"no rate in the bounds ({_RANGE_TEXT}) makes the NPV zero: no solution",
            field="cash_flows",
        )
    if len(roots) + len(brackets) > 1:
        raise InputError(
            "several rates make the NPV zero (the flows change sign more than once): the IRR is not unique, "
            "so it cannot be disclosed as one rate",
            field="cash_flows",
        )
    if roots:
        return roots[0]
    low, high, low_value = brackets[0]
    return _bracketed_newton(flows, low, high, low_value)


def _bracketed_newton(flows: _Flows, low: Decimal, high: Decimal, low_value: Decimal) -> Decimal:
    """Safeguarded Newton (``rtsafe``): a Newton step when it stays inside the bracket and at least halves
    the step before; bisection otherwise. The bracket always holds the root, so this always converges."""
    low_sign = _sign(low_value)
    # First guess: linearise the NPV at a zero rate (Σa + i·Σ(-k·a) = 0), clipped into the bracket.
    total = sum(flows.amounts, Decimal(0))
    weighted = sum(
        (offset * amount for offset, amount in zip(flows.offsets, flows.amounts, strict=True)), Decimal(0)
    )
    rate = total / weighted if weighted != 0 else (low + high) / 2
    if not low < rate < high:
        rate = (low + high) / 2
    previous_step = high - low
    for _ in range(bounds.irr_iterations_max):
        value, slope = _npv(flows, rate)
        if value == 0:
            return rate
        if _sign(value) == low_sign:
            low = rate
        else:
            high = rate
        candidate = rate - value / slope if slope != 0 else low - 1
        if not low < candidate < high or abs(candidate - rate) * 2 > abs(previous_step):
            candidate = (low + high) / 2
        step = candidate - rate
        previous_step, rate = step, candidate
        if abs(step) <= IRR_TOLERANCE or high - low <= IRR_TOLERANCE:
            return rate
    raise InvariantError(f"IRR did not converge in {bounds.irr_iterations_max} steps on a bracketed root")


def _pct(value: Decimal) -> Decimal:
    return value.quantize(RATE_PCT_QUANTUM, rounding=ROUND_HALF_EVEN)
