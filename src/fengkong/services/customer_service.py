"""Use case of the borrower-facing question answerer: gather the asking borrower's own loans and answer with
:func:`fengkong.compliance.customer_service.answer` (deterministic, no language model).

:func:`answer_question` reads only the loans of ``party_id`` (active ones; the caller has authenticated the
borrower, and the API layer maps that to the party), their servicing state and installments, and the
annualised rate disclosed on each loan's offer when the offer is on file. :func:`official_channels` turns
the channel book the fraud package keeps (``fraud/data/official_channels.yaml``, fictitious brands) into the
list the answerer may quote: the brand's numbers in force on the day, and the in-app chat.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from fengkong.clock import Clock
from fengkong.compliance.customer_service import (
    Answer,
    LoanSummary,
    OfficialChannel,
    OfficialChannels,
    answer,
)
from fengkong.errors import InputError, NotFoundError
from fengkong.fraud.numbers import ChannelBook, load_channels
from fengkong.services.loans import loan_view_on
from fengkong.store.loans import LoansRepository
from fengkong.store.offers import OffersRepository
from fengkong.store.privacy import PrivacyRepository

ACTIVE = 0  # fengkong.lending.close_of_business.LoanStatus.ACTIVE
KIND_LABELS = {
    "hotline": ("客服热线", "hotline"), "short_code": ("客服专线", "service code"),
    "mobile": ("客服手机", "service mobile"), "landline": ("客服座机", "service landline"),
}  # fmt: skip


def official_channels(
    brand: str, on: date, book: ChannelBook | None = None, app_path: str = "App → 我的 → 在线客服"
) -> OfficialChannels:
    """The official channels of ``brand`` on ``on``: its phone numbers in force, then the in-app chat."""
    source = book if book is not None else load_channels()
    numbers = [c for c in source.channels if c.brand == brand and c.in_force(on)]
    if not numbers:
        raise InputError(f"no official channels in force for brand {brand!r} on {on}", field="brand")
    channels = [
        OfficialChannel(
            "phone", channel.normalised, *KIND_LABELS.get(channel.kind.value, ("客服电话", "phone"))
        )
        for channel in numbers
    ]
    channels.append(OfficialChannel("app", app_path, "应用内在线客服", "in-app chat"))
    return OfficialChannels(tuple(channels))


def borrower_loans(connection: sa.Connection, clock: Clock, party_id: str, on: date) -> list[LoanSummary]:
    """The active loans of ``party_id`` as the answerer sees them."""
    summaries = []
    offers = OffersRepository(clock)
    for row in PrivacyRepository(clock).loans_of(connection, party_id):
        if int(row["status"]) != ACTIVE:
            continue
        view = loan_view_on(connection, clock, str(row["loan_id"]))
        state = view.row
        unpaid = [
            (item.due, item.principal + item.interest + item.fee - item.paid_principal - item.paid_interest
             - item.paid_fee - item.waived_interest)
            for item in view.installments
        ]  # fmt: skip
        upcoming = [(due, amount) for due, amount in unpaid if amount > 0 and due >= on]
        rate_pct, method = None, None
        offer_id = str(LoansRepository(clock).header(connection, loan_id=view.loan_id)["offer_id"])
        try:
            stored = offers.get(connection, offer_id)
            rate_pct, method = (
                stored.offer.annualised_rate.annual_rate_pct,
                stored.offer.annualised_rate.method,
            )
        except NotFoundError:
            pass  # booked without a stored offer: the answer points to the contract instead of guessing
        summaries.append(
            LoanSummary(
                loan_id=view.loan_id, product=view.product, currency=view.currency,
                outstanding_fen=state.principal_outstanding,
                due_now_fen=(state.due_principal + state.due_interest + state.due_fee
                             + state.penalty_outstanding),
                days_past_due=state.days_past_due,
                next_due_on=min(upcoming)[0] if upcoming else None,
                next_due_fen=min(upcoming)[1] if upcoming else 0,
                installments_left=sum(1 for _, amount in unpaid if amount > 0),
                annual_rate_pct=rate_pct, rate_method=method,
            )
        )  # fmt: skip
    return summaries


def answer_question(
    connection: sa.Connection,
    clock: Clock,
    party_id: str,
    question: str,
    channels: OfficialChannels,
    on: date,
    language: str = "zh-CN",
) -> Answer:
    """Answer ``question`` from ``party_id``'s own loans on business date ``on``."""
    return answer(question, borrower_loans(connection, clock, party_id, on), channels, language)
