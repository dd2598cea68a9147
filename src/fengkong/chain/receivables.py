"""Receivables: pure rules for issue → confirmation → split → transfer → financing → settlement.

A receivable is a supplier's invoice owed by a core enterprise (the debtor). It is held as *parts*: at issue
one part, the whole amount, held by the seller. A part is ``active`` until it is split (its children take its
place), financed (a lender holds it) or settled. Paths name the parts canonically: the first is ``"0"``, the
children of ``"0"`` are ``"0.0"``, ``"0.1"``, ... — so a part's identity (:func:`part_identity`) is the same
whoever asks.

The receivable's identity (:class:`ReceivableIdentity`) is its invoice as the tax system knows it:
e-invoice number, seller and buyer tax IDs, amount and date, each normalised (:func:`normalise_code`: NFKC, so
full-width digits and letters become ASCII; upper case; whitespace and separators removed) and hashed. The
store puts a unique index on that hash, so the same invoice presented again under other words — full-width
digits, lower case, spaces, ``2026/1/5`` for ``2026-01-05``, ``"12,345.60"`` for 1234560 fen — is refused
by the database. A financed part is recorded under a unique index too, so no part is financed twice.

Every change is described by an event (:func:`event`) whose canonical JSON the log holds only as a salted
commitment (:mod:`fengkong.chain.trade`). Refusals are values (:class:`Refusal`), never exceptions.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Final

from fengkong import bounds
from fengkong.chain.trade import canonical_json
from fengkong.errors import InputError, MoneyError
from fengkong.money import D, Money, Rounding, allocate

ROOT_PATH: Final = "0"
DISCOUNT_DAY_COUNT_DAYS: Final = 360  # ACT/360, as bill discounting in China is quoted
_SEPARATORS = re.compile(r"[\s\-_/.,:;·•|#()\[\]{}]+")
_DATE = re.compile(r"^(\d{4})\D+(\d{1,2})\D+(\d{1,2})\D*$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


# -- identity ----------------------------------------------------------------------------------------------


def normalise_code(text: str, field: str) -> str:
    """NFKC (full-width → ASCII), upper case, whitespace and separators removed; refused when empty."""
    if not isinstance(text, str):
        raise InputError(f"must be text, got {type(text).__name__}", field=field)
    normal = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text)).upper()
    if not normal or not normal.isalnum():
        raise InputError(f"{text[:40]!r} is not a code of letters and digits", field=field)
    return normal


def normalise_amount_fen(amount: int | str) -> int:
    """An amount in fen from an int, or from text such as ``"１２,３４５.６０"`` or ``"12345.6 元"``."""
    if isinstance(amount, bool):
        raise InputError("must be fen or an amount in yuan as text", field="amount")
    if isinstance(amount, int):
        fen = amount
    elif isinstance(amount, str):
        text = unicodedata.normalize("NFKC", amount).replace(",", "").replace("元", "").replace("¥", "")
        try:
            fen = Money.parse("".join(text.split())).amount_minor
        except MoneyError as exc:
            raise InputError(f"{amount[:40]!r} is not an amount: {exc.reason}", field="amount") from exc
    else:
        raise InputError(f"must be fen or text, got {type(amount).__name__}", field="amount")
    if not 0 < fen <= bounds.trade_amount_fen_max:
        raise InputError(f"must be positive and at most {bounds.trade_amount_fen_max} fen", field="amount")
    return fen


def normalise_date(value: date | str) -> date:
    """A date from a ``date`` or text: ``2026-01-05``, ``2026/1/5``, ``2026年1月5日``, ``20260105``."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise InputError(f"must be a date, got {type(value).__name__}", field="issued_on")
    text = "".join(unicodedata.normalize("NFKC", value).split())
    match = _DATE.match(text) or _COMPACT_DATE.match(text)
    if match is None:
        raise InputError(f"{value[:40]!r} is not a date", field="issued_on")
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError as exc:
        raise InputError(f"{value[:40]!r} is not a date: {exc}", field="issued_on") from exc


@dataclass(frozen=True, slots=True)
class ReceivableIdentity:
    """An invoice as the tax system knows it, normalised. Build it with :meth:`of`."""

    invoice_number: str
    seller_tax_id: str
    buyer_tax_id: str
    amount_fen: int
    issued_on: date

    @classmethod
    def of(
        cls,
        invoice_number: str,
        seller_tax_id: str,
        buyer_tax_id: str,
        amount: int | str,
        issued_on: date | str,
    ) -> ReceivableIdentity:
        for text, field, bound in (
            (invoice_number, "invoice_number", bounds.trade_invoice_number_length_max),
            (seller_tax_id, "seller_tax_id", bounds.trade_tax_id_length_max),
            (buyer_tax_id, "buyer_tax_id", bounds.trade_tax_id_length_max),
        ):
            if isinstance(text, str) and len(text) > bound:
                raise InputError(f"must be at most {bound} characters", field=field)
        seller = normalise_code(seller_tax_id, "seller_tax_id")
        buyer = normalise_code(buyer_tax_id, "buyer_tax_id")
        if seller == buyer:
            raise InputError("the seller and the buyer are the same taxpayer", field="buyer_tax_id")
        return cls(
            normalise_code(invoice_number, "invoice_number"),
            seller,
            buyer,
            normalise_amount_fen(amount),
            normalise_date(issued_on),
        )

    def digest(self) -> str:
        """SHA-256 (hex) of the normalised fields as canonical JSON: the unique key in the database."""
        return hashlib.sha256(
            canonical_json(
                {
                    "invoice_number": self.invoice_number,
                    "seller_tax_id": self.seller_tax_id,
                    "buyer_tax_id": self.buyer_tax_id,
                    "amount_fen": self.amount_fen,
                    "issued_on": self.issued_on.isoformat(),
                }
            )
        ).hexdigest()


def part_identity(identity_digest: str, path: str) -> str:
    """SHA-256 (hex) of a receivable's identity and a part's path: the key a financing is unique on."""
    return hashlib.sha256(f"{identity_digest}/{path}".encode("ascii")).hexdigest()


# -- parts and their rules ---------------------------------------------------------------------------------


class ReceivableStatus(StrEnum):
    ISSUED = "issued"  # presented by the seller, not yet confirmed by the debtor
    CONFIRMED = "confirmed"  # the debtor confirmed it owes the amount at maturity (确权)
    SETTLED = "settled"  # paid at maturity to the holders


class PartStatus(StrEnum):
    ACTIVE = "active"
    SPLIT = "split"  # replaced by its children
    FINANCED = "financed"  # discounted by a lender, who now holds it
    SETTLED = "settled"


@dataclass(frozen=True, slots=True)
class Part:
    part_id: str
    receivable_id: str
    path: str
    holder_party_id: str
    amount_fen: int
    status: PartStatus


class RefusalReason(StrEnum):
    NOT_CONFIRMED = "not_confirmed"
    NOT_THE_DEBTOR = "not_the_debtor"
    ALREADY_CONFIRMED = "already_confirmed"
    NOT_THE_HOLDER = "not_the_holder"
    NOT_ACTIVE = "not_active"
    SPLIT_NOT_CONSERVED = "split_not_conserved"
    SELF_TRANSFER = "self_transfer"
    MATURED = "matured"
    NOT_MATURED = "not_matured"
    PROOF_REJECTED = "proof_rejected"
    DUPLICATE_INVOICE = "duplicate_invoice"
    ALREADY_FINANCED = "already_financed"
    NO_TRADE = "no_trade"
    MOVED_MEANWHILE = "moved_meanwhile"


@dataclass(frozen=True, slots=True)
class Refusal:
    reason: RefusalReason
    message: str

    def to_json(self) -> dict[str, str]:
        return {"reason": self.reason.value, "message": self.message}


def check_confirmation(status: ReceivableStatus, debtor_party_id: str, by_party_id: str) -> Refusal | None:
    if by_party_id != debtor_party_id:
        return Refusal(RefusalReason.NOT_THE_DEBTOR, f"only the debtor {debtor_party_id} can confirm")
    if status is not ReceivableStatus.ISSUED:
        return Refusal(RefusalReason.ALREADY_CONFIRMED, f"the receivable is {status.value}")
    return None


def _check_movable(
    part: Part, receivable_status: ReceivableStatus, by_party_id: str, on: date, due_on: date
) -> Refusal | None:
    if receivable_status is not ReceivableStatus.CONFIRMED:
        return Refusal(RefusalReason.NOT_CONFIRMED, "the debtor has not confirmed the receivable")
    if part.status is not PartStatus.ACTIVE:
        return Refusal(RefusalReason.NOT_ACTIVE, f"part {part.path} is {part.status.value}")
    if part.holder_party_id != by_party_id:
        return Refusal(RefusalReason.NOT_THE_HOLDER, f"part {part.path} is not held by {by_party_id}")
    if on >= due_on:
        return Refusal(RefusalReason.MATURED, f"the receivable matured on {due_on.isoformat()}")
    return None


def plan_split(
    part: Part,
    receivable_status: ReceivableStatus,
    by_party_id: str,
    amounts_fen: Sequence[int],
    on: date,
    due_on: date,
) -> tuple[tuple[str, int], ...] | Refusal:
    """The children (path, amount) of splitting ``part`` into ``amounts_fen``, which must add up to it."""
    refused = _check_movable(part, receivable_status, by_party_id, on, due_on)
    if refused is not None:
        return refused
    if not 2 <= len(amounts_fen) <= bounds.receivable_split_parts_max:
        raise InputError(f"a split makes 2 to {bounds.receivable_split_parts_max} parts", field="amounts_fen")
    if any(isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0 for amount in amounts_fen):
        raise InputError("every part is a positive number of fen", field="amounts_fen")
    if sum(amounts_fen) != part.amount_fen:
        return Refusal(
            RefusalReason.SPLIT_NOT_CONSERVED,
            f"the parts add up to {sum(amounts_fen)} fen, not the part's {part.amount_fen}",
        )
    return tuple((f"{part.path}.{index}", amount) for index, amount in enumerate(amounts_fen))


def split_by_weights(amount_fen: int, weights: Sequence[int | Decimal]) -> tuple[int, ...]:
    """Amounts for a split by ``weights`` (largest remainder: they add up to ``amount_fen``)."""
    return allocate(amount_fen, weights)


def check_transfer(
    part: Part,
    receivable_status: ReceivableStatus,
    from_party_id: str,
    to_party_id: str,
    on: date,
    due_on: date,
) -> Refusal | None:
    if from_party_id == to_party_id:
        return Refusal(RefusalReason.SELF_TRANSFER, "a transfer needs another holder")
    return _check_movable(part, receivable_status, from_party_id, on, due_on)


def check_financing(
    part: Part, receivable_status: ReceivableStatus, holder_party_id: str, on: date, due_on: date
) -> Refusal | None:
    return _check_movable(part, receivable_status, holder_party_id, on, due_on)


def discount_advance_fen(amount_fen: int, rate_annual: Decimal, days: int, rounding: Rounding) -> int:
    """What a lender pays for ``amount_fen`` due in ``days`` at ``rate_annual`` (ACT/360 simple discount).

    ``advance = amount - amount x rate x days / 360``, the discount rounded with ``rounding`` (name it: the
    lender's contract decides). The discount is never negative and the advance never above the amount.
    """
    rate = D(rate_annual)
    if not D("0") <= rate < D("1"):
        raise InputError("must be in [0, 1)", field="rate_annual")
    if not 0 < days <= bounds.receivable_tenor_days_max:
        raise InputError(f"must be 1 to {bounds.receivable_tenor_days_max} days", field="days")
    discount = Money.from_decimal(
        Money(amount_fen).to_decimal() * rate * days / DISCOUNT_DAY_COUNT_DAYS, "CNY", rounding
    )
    return amount_fen - min(discount.amount_minor, amount_fen)


def settlement_payees(parts: Sequence[Part]) -> dict[str, int]:
    """Who is paid what at maturity: the holder of each active or financed part (a financed part is held by
    its lender). Raises InputError when those parts do not add up to the receivable (the root's amount)."""
    root = [part for part in parts if part.path == ROOT_PATH]
    if len(root) != 1:
        raise InputError("the parts must include the root part exactly once", field="parts")
    payees: dict[str, int] = {}
    paid = 0
    for part in parts:
        if part.status not in (PartStatus.ACTIVE, PartStatus.FINANCED):
            continue
        payees[part.holder_party_id] = payees.get(part.holder_party_id, 0) + part.amount_fen
        paid += part.amount_fen
    if paid != root[0].amount_fen:
        raise InputError(f"the open parts add up to {paid} fen, not {root[0].amount_fen}", field="parts")
    return payees


# -- events ------------------------------------------------------------------------------------------------


class EventKind(StrEnum):
    ISSUE = "issue"
    CONFIRM = "confirm"
    SPLIT = "split"
    TRANSFER = "transfer"
    FINANCE = "finance"
    SETTLE = "settle"


def event(kind: EventKind, receivable_id: str, on: date, **fields: str | int | list[str] | None) -> bytes:
    """The canonical bytes of a receivable event (stored in the database; the log holds its commitment)."""
    return canonical_json(
        {"v": 1, "event": kind.value, "receivable_id": receivable_id, "on": on.isoformat(), **fields}
    )
