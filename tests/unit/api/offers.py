"""Offers for the API tests: an installment loan offer and a revolving line, to fictitious parties."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from fengkong.clock import FixedClock
from fengkong.compliance.apr import annualised_rate
from fengkong.domain.products import (
    AnnualisedRate,
    DayCount,
    Offer,
    ProductKind,
    ProductTerms,
    RepaymentMethod,
)
from fengkong.lending.schedule import build_schedule
from fengkong.money import Money
from fengkong.services.api_lending import save_offer

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai: business date 2026-03-02
TODAY = date(2026, 3, 2)


def loan_offer(
    offer_id: str = "OF-1",
    principal_fen: int = 1_200_000,
    *,
    rate: str = "0.18",
    installments: int = 6,
    start: date = TODAY,
    valid_from: datetime = NOW - timedelta(hours=1),
    valid_for: timedelta = timedelta(days=7),
) -> Offer:
    """An installment loan offer of ``principal_fen`` to the fictitious party P-1, starting ``start``."""
    terms = ProductTerms(
        product=ProductKind.INSTALLMENT,
        annual_rate=Decimal(rate),
        method=RepaymentMethod.EQUAL_INSTALLMENT,
        day_count=DayCount.THIRTY_360,
        installments=installments,
        penalty_rate_annual=Decimal("0.18"),
    )
    schedule = build_schedule(terms, Money(principal_fen), start, rounding="ROUND_HALF_EVEN")
    priced = annualised_rate(schedule, fees=())
    return Offer(
        offer_id, "P-1", terms, Money(principal_fen), priced, valid_from, valid_from + valid_for, schedule
    )


def line_offer(offer_id: str = "LINE-1", line_fen: int = 1_000_000, *, rate: str = "0.18") -> Offer:
    """A revolving credit line of ``line_fen`` to the fictitious party P-2 (no schedule until a draw)."""
    terms = ProductTerms(
        product=ProductKind.REVOLVING,
        annual_rate=Decimal(rate),
        method=RepaymentMethod.REVOLVING,
        day_count=DayCount.ACTUAL_365,
        penalty_rate_annual=Decimal("0.18"),
    )
    rate_pct = AnnualisedRate(Decimal(rate) * 100, "simple")
    return Offer(
        offer_id, "P-2", terms, Money(line_fen), rate_pct, NOW - timedelta(hours=1), NOW + timedelta(days=30)
    )


def keep(engine: sa.Engine, clock: FixedClock, *offers: Offer) -> None:
    for offer in offers:
        save_offer(engine, clock, offer)
