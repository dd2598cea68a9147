"""The disclosure shown with every offer: the true price before anything else, in Chinese and English.

:func:`build_disclosure` turns an :class:`~fengkong.domain.products.Offer` (its schedule and every fee its
terms declare) into a :class:`Disclosure`: amount, term, schedule, total cost (interest plus every fee, to
the fen), the annualised rate recomputed by the IRR method (:func:`fengkong.compliance.apr.verify_offer`,
which rejects an offer whose stated rate leaves fees out), every fee, overdue charges, and the cooling-off
and cancellation rights. :meth:`Disclosure.to_json` gives it with amounts as decimal strings;
:meth:`Disclosure.to_html` a self-contained page (no external resource) in ``zh-CN`` or ``en``.

Prominence (PBOC announcement [2021] No. 3): the annualised rate comes first and in the largest, boldest
element; the nominal monthly and daily reference rates, when shown, come after it in a smaller plain one.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Decimal
from typing import Any, Final, Literal

from fengkong.compliance.apr import verify_offer
from fengkong.domain.products import AnnualisedRate, DayCount, Installment, Offer
from fengkong.errors import InputError
from fengkong.money import Money

Language = Literal["zh-CN", "en"]
LANGUAGES: Final[tuple[Language, ...]] = ("zh-CN", "en")
DEFAULT_COOLING_OFF_DAYS: Final = 7  # product policy: days after signing to withdraw at no cost
APR_FONT_SIZE_PX: Final = 32  # the annualised rate: the largest text on the page
REFERENCE_RATE_FONT_SIZE_PX: Final = 14  # nominal monthly / daily rates: smaller than the annualised rate
BODY_FONT_SIZE_PX: Final = 14
DISPLAY_PCT_QUANTUM: Final = Decimal("0.01")  # rates as shown to people: two decimals of a percent
REFERENCE_PCT_QUANTUM: Final = Decimal("0.0001")  # the daily rate is small: four decimals of a percent
INSTALLMENT_FEE_NAME: Final = "installment-fees"  # fees carried on the schedule's lines, summed
_HUNDRED: Final = Decimal(100)

_TEXT: Final[dict[Language, dict[str, str]]] = {
    "zh-CN": {
        "title": "借款信息披露",
        "apr": "年化利率（IRR 计算，含全部费用）",
        "method": "计算方法",
        "amount": "借款金额",
        "term": "期数",
        "installments_unit": "期",
        "total_cost": "总借款成本（利息 + 全部费用）",
        "total_repayable": "应还总额",
        "interest": "利息合计",
        "reference": "参考名义利率（不含费用，仅供参考）",
        "monthly": "月利率",
        "daily": "日利率",
        "fees": "全部费用",
        "no_fees": "本借款不收取任何费用。",
        "fee_name": "费用名称",
        "fee_amount": "金额",
        "fee_due": "收取日期",
        "schedule": "还款计划",
        "number": "期次",
        "due": "到期日",
        "principal": "本金",
        "fee": "费用",
        "total": "合计",
        "balance": "剩余本金",
        "overdue": "逾期费用",
        "penalty": "逾期后按年化 {rate}% 计收罚息，仅对逾期本金计收，不计复利。",
        "no_penalty": "本借款不收取逾期罚息；逾期仍按合同利率计息。",
        "rights": "您的权利",
        "cooling_off": "冷静期：签约后 {days} 天内，您可无理由撤回本借款，"
        "只需归还已到账本金，不收取任何利息或费用。",
        "cancellation": "取消：放款前您可随时取消，无需任何费用；您可随时提前还款。",
        "offer_id": "要约编号",
    },
    "en": {
        "title": "Loan disclosure",
        "apr": "Annualised rate (IRR, every fee included)",
        "method": "Method",
        "amount": "Amount",
        "term": "Term",
        "installments_unit": "installments",
        "total_cost": "Total cost of credit (interest + every fee)",
        "total_repayable": "Total to repay",
        "interest": "Total interest",
        "reference": "Nominal reference rates (fees excluded, for reference only)",
        "monthly": "Monthly rate",
        "daily": "Daily rate",
        "fees": "Every fee",
        "no_fees": "This loan charges no fee.",
        "fee_name": "Fee",
        "fee_amount": "Amount",
        "fee_due": "Charged on",
        "schedule": "Repayment schedule",
        "number": "No.",
        "due": "Due",
        "principal": "Principal",
        "fee": "Fees",
        "total": "Total",
        "balance": "Balance after",
        "overdue": "Overdue charges",
        "penalty": "Overdue principal bears penalty interest at {rate} % a year, simple, never compounded.",
        "no_penalty": "No penalty interest; overdue amounts keep bearing the contract rate only.",
        "rights": "Your rights",
        "cooling_off": "Cooling-off: within {days} days of signing you may withdraw for any reason, repaying "
        "only the principal received, with no interest or fee.",
        "cancellation": "Cancellation: you may cancel at no cost any time before the money is paid out, and "
        "you may repay early at any time.",
        "offer_id": "Offer",
    },
}


@dataclass(frozen=True, slots=True)
class DisclosedFee:
    name: str
    amount: Money
    due: str  # ISO date, or "per installment" for fees carried on the schedule's lines


@dataclass(frozen=True, slots=True)
class Disclosure:
    """Everything a borrower is told about one offer before accepting it."""

    offer_id: str
    currency: str
    amount: Money
    installments_count: int
    frequency: str
    schedule: tuple[Installment, ...]
    total_interest: Money
    total_fees: Money
    total_cost: Money  # interest + every fee
    total_repayable: Money  # principal + total cost
    rate: AnnualisedRate  # recomputed by the IRR method
    monthly_rate_pct: Decimal  # nominal, fees excluded: a reference only, never more prominent
    daily_rate_pct: Decimal
    fees: tuple[DisclosedFee, ...]
    penalty_rate_annual_pct: Decimal | None
    cooling_off_days: int

    def to_json_dict(self) -> dict[str, Any]:
        """The disclosure as JSON-ready data: amounts and rates as decimal strings."""
        return {
            "offer_id": self.offer_id,
            "currency": self.currency,
            "annualised_rate": {
                "annual_rate_pct": str(self.rate.annual_rate_pct),
                "display_pct": str(_display(self.rate.annual_rate_pct)),
                "method": self.rate.method,
                "periodic_irr": None if self.rate.periodic_irr is None else str(self.rate.periodic_irr),
                "effective_annual_rate_pct": (
                    None
                    if self.rate.effective_annual_rate_pct is None
                    else str(self.rate.effective_annual_rate_pct)
                ),
            },
            "amount": self.amount.format(),
            "installments": self.installments_count,
            "frequency": self.frequency,
            "total_interest": self.total_interest.format(),
            "total_fees": self.total_fees.format(),
            "total_cost": self.total_cost.format(),
            "total_repayable": self.total_repayable.format(),
            "reference_rates": {
                "monthly_rate_pct": str(self.monthly_rate_pct),
                "daily_rate_pct": str(self.daily_rate_pct),
            },
            "fees": [{"name": fee.name, "amount": fee.amount.format(), "due": fee.due} for fee in self.fees],
            "schedule": [
                {
                    "number": line.number,
                    "due": line.due.isoformat(),
                    "principal": line.principal.format(),
                    "interest": line.interest.format(),
                    "fee": line.fee.format(),
                    "total": line.total.format(),
                    "balance_after": line.balance_after.format(),
                }
                for line in self.schedule
            ],
            "overdue": {
                "penalty_rate_annual_pct": (
                    None if self.penalty_rate_annual_pct is None else str(self.penalty_rate_annual_pct)
                )
            },
            "rights": {"cooling_off_days": self.cooling_off_days, "cancel_before_disbursement": True},
        }

    def to_json(self) -> str:
        return json.dumps(self.to_json_dict(), ensure_ascii=False, sort_keys=True)

    def to_html(self, language: Language) -> str:
        """A self-contained page (inline style, no script, no external resource) in ``language``."""
        if language not in _TEXT:
            raise InputError(f"must be one of {list(LANGUAGES)}, got {language!r}", field="language")
        t = _TEXT[language]
        e = html.escape
        fee_rows = "".join(
            f"<tr><td>{e(fee.name)}</td><td>{fee.amount.format()}</td><td>{e(fee.due)}</td></tr>"
            for fee in self.fees
        )
        fees_block = (
            f"<table><tr><th>{t['fee_name']}</th><th>{t['fee_amount']}</th><th>{t['fee_due']}</th></tr>"
            f"{fee_rows}</table>"
            if self.fees
            else f"<p>{t['no_fees']}</p>"
        )
        schedule_rows = "".join(
            f"<tr><td>{line.number}</td><td>{line.due.isoformat()}</td><td>{line.principal.format()}</td>"
            f"<td>{line.interest.format()}</td><td>{line.fee.format()}</td><td>{line.total.format()}</td>"
            f"<td>{line.balance_after.format()}</td></tr>"
            for line in self.schedule
        )
        penalty = (
            t["no_penalty"]
            if self.penalty_rate_annual_pct is None
            else t["penalty"].format(rate=self.penalty_rate_annual_pct)
        )
        apr_style = f"font-size:{APR_FONT_SIZE_PX}px;font-weight:700"
        ref_style = f"font-size:{REFERENCE_RATE_FONT_SIZE_PX}px;font-weight:400"
        return (
            f'<!DOCTYPE html><html lang="{language}"><head><meta charset="utf-8">'
            f"<title>{t['title']}</title>"
            f"<style>body{{font-family:sans-serif;font-size:{BODY_FONT_SIZE_PX}px}}"
            "table{border-collapse:collapse}td,th{border:1px solid #999;padding:2px 6px}</style></head><body>"
            f'<h1 style="font-size:{REFERENCE_RATE_FONT_SIZE_PX + 4}px">{t["title"]}</h1>'
            f'<section id="annualised-rate"><p>{t["apr"]}</p>'
            f'<p data-rate="annualised" style="{apr_style}">{_display(self.rate.annual_rate_pct)}%</p>'
            f"<p>{t['method']}: {e(self.rate.method)}</p></section>"
            f"<p>{t['offer_id']}: {e(self.offer_id)}</p>"
            f"<p>{t['amount']}: {self.amount.format()} {e(self.currency)}</p>"
            f"<p>{t['term']}: {self.installments_count} {t['installments_unit']} ({e(self.frequency)})</p>"
            f"<p>{t['interest']}: {self.total_interest.format()}</p>"
            f"<p>{t['total_cost']}: {self.total_cost.format()}</p>"
            f"<p>{t['total_repayable']}: {self.total_repayable.format()}</p>"
            f"<h2>{t['fees']}</h2>{fees_block}"
            f"<h2>{t['schedule']}</h2><table><tr><th>{t['number']}</th><th>{t['due']}</th>"
            f"<th>{t['principal']}</th><th>{t['interest']}</th><th>{t['fee']}</th><th>{t['total']}</th>"
            f"<th>{t['balance']}</th></tr>{schedule_rows}</table>"
            f"<h2>{t['overdue']}</h2><p>{penalty}</p>"
            f"<h2>{t['rights']}</h2><p>{t['cooling_off'].format(days=self.cooling_off_days)}</p>"
            f"<p>{t['cancellation']}</p>"
            f'<section id="reference-rates"><p>{t["reference"]}</p>'
            f'<p data-rate="monthly" style="{ref_style}">{t["monthly"]} {self.monthly_rate_pct}%</p>'
            f'<p data-rate="daily" style="{ref_style}">{t["daily"]} {self.daily_rate_pct}%</p></section>'
            "</body></html>"
        )


def build_disclosure(offer: Offer, *, cooling_off_days: int = DEFAULT_COOLING_OFF_DAYS) -> Disclosure:
    """The disclosure of ``offer``; raises :class:`InputError` when the offer has no schedule, its stated
    rate leaves fees out (:func:`verify_offer`), or its schedule does not add up."""
    if isinstance(cooling_off_days, bool) or not isinstance(cooling_off_days, int) or cooling_off_days < 0:
        raise InputError("must be a whole number of days, 0 or more", field="cooling_off_days")
    rate = verify_offer(offer)
    schedule = offer.schedule
    if schedule is None:  # verify_offer refuses it; kept for the type checker
        raise InputError("an offer without a schedule has no disclosure", field="schedule")
    currency = schedule.principal.currency
    if offer.amount != schedule.principal:
        raise InputError(
            f"offer amount {offer.amount} differs from the schedule's principal {schedule.principal}",
            field="amount",
        )
    zero = Money.zero(currency)
    interest = sum((line.interest for line in schedule.installments), zero)
    line_fees = sum((line.fee for line in schedule.installments), zero)
    fees = [DisclosedFee(fee.name, fee.amount, fee.due.isoformat()) for fee in offer.terms.fees]
    if not line_fees.is_zero():
        fees.append(DisclosedFee(INSTALLMENT_FEE_NAME, line_fees, "per installment"))
    total_fees = sum((fee.amount for fee in fees), zero)
    terms = offer.terms
    days_per_year = 360 if terms.day_count in (DayCount.THIRTY_360, DayCount.ACTUAL_360) else 365
    penalty = terms.penalty_rate_annual
    return Disclosure(
        offer_id=offer.offer_id,
        currency=currency,
        amount=schedule.principal,
        installments_count=len(schedule.installments),
        frequency=str(terms.frequency),
        schedule=schedule.installments,
        total_interest=interest,
        total_fees=total_fees,
        total_cost=interest + total_fees,
        total_repayable=schedule.principal + interest + total_fees,
        rate=rate,
        monthly_rate_pct=(terms.annual_rate * _HUNDRED / 12).quantize(
            REFERENCE_PCT_QUANTUM, rounding=ROUND_HALF_EVEN
        ),
        daily_rate_pct=(terms.annual_rate * _HUNDRED / days_per_year).quantize(
            REFERENCE_PCT_QUANTUM, rounding=ROUND_HALF_EVEN
        ),
        fees=tuple(fees),
        penalty_rate_annual_pct=None if penalty is None else penalty * _HUNDRED,
        cooling_off_days=cooling_off_days,
    )


def _display(pct: Decimal) -> Decimal:
    """The annualised rate as shown to a person, rounded up: the shown price is never below the true one."""
    return pct.quantize(DISPLAY_PCT_QUANTUM, rounding=ROUND_CEILING)
