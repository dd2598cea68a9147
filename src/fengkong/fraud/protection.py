"""Scam-victim protection: a cooling-off hold on a disbursement that looks coerced.

In the fake-customer-service scam the borrower is a real customer borrowing under a fraudster's
instructions (DOMAIN.md): a login from a new device (the fraudster's screen-sharing session or a phone they
told the victim to use), the line drawn to the limit, several products borrowed on at once, and the money
sent on to an account the customer never paid before. None of these alone says much; together they are the
script. :func:`assess` runs small pure rules (:data:`PROTECTION_RULES`, one ``evaluate`` each) over the
:class:`ProtectionSignals` of one disbursement and returns a :class:`ProtectionDecision`:

* ``hold`` when the signals' points reach ``ProtectionParameters.hold_points_min``, except that a transfer
  to an unknown account alone holds nothing (people do pay new people): with any other signal it does;
* the hold lasts ``cooling_off_hours`` and is released only after a call-back through the lender's
  **official** channel (numbers from :class:`~fengkong.fraud.numbers.ChannelBook` in force that day — never
  a number the customer or a text supplied);
* reasons name each signal with its figures.

The anti-telecom-fraud law (in force 2022-12-01) lets financial institutions delay suspicious transfers;
the hold is that delay. It is a value, never an exception, and :meth:`ProtectionDecision.interception`
turns a hold into an entry of the interception log.

Where the signals come from: ``consumer_drawn_amount_24h_fen``, ``consumer_draws_24h`` and
``consumer_transfers_to_unknown_24h`` are standard features; the line's limit and use come from exposure
(``store/exposure.py``); the device's first sign-in comes from the identity graph.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final, Protocol

from fengkong import bounds
from fengkong.clock import require_utc
from fengkong.domain import Reason
from fengkong.errors import InputError
from fengkong.fraud.interceptions import Interception, InterceptionAction, InterceptionKind
from fengkong.fraud.numbers import ChannelBook

SOURCE: Final = "fraud.protection"


@dataclass(frozen=True, slots=True)
class ProtectionParameters:
    """Thresholds of the rules (policy, not software bounds); :meth:`problems` checks them as data."""

    new_device_hours: int = 24  # a device first seen this recently is new
    max_out_utilisation_bp: int = 9_000  # line use after the draw, in basis points of the limit
    products_at_once_min: int = 2  # distinct products borrowed on within 24 hours, this one included
    unknown_transfer_share_bp: int = 5_000  # share of the 24-hour borrowing sent to unknown accounts
    hold_points_min: int = 2
    cooling_off_hours: int = 24

    def problems(self) -> list[tuple[str, str]]:
        rules = (
            ("new_device_hours", 1, 24 * 30),
            ("max_out_utilisation_bp", 1, 10_000),
            ("products_at_once_min", 2, 20),
            ("unknown_transfer_share_bp", 1, 10_000),
            ("hold_points_min", 1, 10),
            ("cooling_off_hours", 1, bounds.protection_hold_hours_max),
        )
        found = []
        for name, low, high in rules:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                found.append((name, f"must be an integer from {low} to {high}, got {value!r}"))
        return found

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            name, message = problems[0]
            raise InputError(message, field=name)


@dataclass(frozen=True, slots=True)
class ProtectionSignals:
    """What is known about one disbursement (a draw paid out) when it is requested. Amounts in fen."""

    party_id: str
    product: str
    amount_fen: int  # this disbursement
    limit_fen: int  # the line's limit
    used_before_fen: int  # held and outstanding on the line before this disbursement
    requested_at: datetime
    device_first_seen_at: datetime | None  # first sign-in from the device used (None: unknown device)
    products_borrowed_24h: tuple[str, ...] = ()  # other products drawn or applied for in the last 24 hours
    drawn_24h_fen: int = 0  # drawn in the last 24 hours before this disbursement, all products
    transferred_to_unknown_24h_fen: int = 0  # sent to receivers never paid before, last 24 hours
    destination_known: bool = True  # the disbursement goes to an account the party has paid before

    def __post_init__(self) -> None:
        for name in (
            "amount_fen",
            "limit_fen",
            "used_before_fen",
            "drawn_24h_fen",
            "transferred_to_unknown_24h_fen",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InputError("must be a non-negative integer number of fen", field=name)
        if self.amount_fen == 0:
            raise InputError("a disbursement has a positive amount", field="amount_fen")
        object.__setattr__(self, "requested_at", require_utc(self.requested_at, "requested_at"))
        if self.device_first_seen_at is not None:
            object.__setattr__(
                self, "device_first_seen_at", require_utc(self.device_first_seen_at, "device_first_seen_at")
            )

    @property
    def utilisation_after_bp(self) -> int:
        """Line use after this disbursement, in basis points of the limit (10,000 = maxed out)."""
        if self.limit_fen == 0:
            return 10_000
        return (self.used_before_fen + self.amount_fen) * 10_000 // self.limit_fen


class ProtectionRule(Protocol):
    @property
    def code(self) -> str: ...

    @property
    def points(self) -> int: ...

    def evaluate(self, signals: ProtectionSignals, parameters: ProtectionParameters) -> Reason | None: ...


def _new_device(signals: ProtectionSignals, parameters: ProtectionParameters) -> str | None:
    if signals.device_first_seen_at is None:
        return "a device never seen before"
    age = signals.requested_at - signals.device_first_seen_at
    if age < timedelta(hours=parameters.new_device_hours):
        return f"a device first seen {age.total_seconds() / 3600:.1f} h ago"
    return None


@dataclass(frozen=True, slots=True)
class MaxOutAfterNewDevice:
    code: str = "max_out_after_new_device_login"
    points: int = 1

    def evaluate(self, signals: ProtectionSignals, parameters: ProtectionParameters) -> Reason | None:
        device = _new_device(signals, parameters)
        utilisation = signals.utilisation_after_bp
        if device is None or utilisation < parameters.max_out_utilisation_bp:
            return None
        return Reason(self.code, f"line {utilisation / 100:.0f} % used after this draw, from {device}")


@dataclass(frozen=True, slots=True)
class SeveralProductsAtOnce:
    code: str = "several_products_at_once"
    points: int = 1

    def evaluate(self, signals: ProtectionSignals, parameters: ProtectionParameters) -> Reason | None:
        products = sorted({signals.product, *signals.products_borrowed_24h})
        if len(products) < parameters.products_at_once_min:
            return None
        return Reason(self.code, f"{len(products)} products borrowed on within 24 h: {', '.join(products)}")


TRANSFER_TO_UNKNOWN: Final = "transfer_to_unknown_account"


@dataclass(frozen=True, slots=True)
class TransferToUnknown:
    code: str = TRANSFER_TO_UNKNOWN
    points: int = 2

    def evaluate(self, signals: ProtectionSignals, parameters: ProtectionParameters) -> Reason | None:
        borrowed = signals.drawn_24h_fen + signals.amount_fen
        share_bp = signals.transferred_to_unknown_24h_fen * 10_000 // borrowed
        if signals.destination_known and share_bp < parameters.unknown_transfer_share_bp:
            return None
        if not signals.destination_known:
            return Reason(self.code, "the money is to be paid to an account the party never paid before")
        return Reason(
            self.code,
            f"{share_bp / 100:.0f} % of the 24-hour borrowing already sent to accounts never paid before",
        )


PROTECTION_RULES: Final[tuple[ProtectionRule, ...]] = (
    MaxOutAfterNewDevice(),
    SeveralProductsAtOnce(),
    TransferToUnknown(),
)


@dataclass(frozen=True, slots=True)
class ProtectionDecision:
    """Hold or not; why; until when; and the official numbers the call-back must use."""

    hold: bool
    reasons: tuple[Reason, ...]
    points: int
    hold_until: datetime | None
    callback_numbers: tuple[str, ...]

    def interception(
        self, signals: ProtectionSignals, interception_id: str, subject_id: str, kind: InterceptionKind
    ) -> Interception:
        """The interception-log entry of this hold (raises if there is no hold to log)."""
        if not self.hold:
            raise InputError("only a hold is logged as an interception", field="hold")
        codes = "+".join(r.code for r in self.reasons)
        detail = "; ".join(r.detail for r in self.reasons)[: bounds.fraud_reason_length_max]
        return Interception(
            interception_id=interception_id,
            party_id=signals.party_id,
            kind=kind,
            action=InterceptionAction.HELD,
            subject_id=subject_id,
            amount_fen=signals.amount_fen,
            reason_code=codes[: bounds.fraud_reason_length_max],
            reason_detail=detail,
            source=SOURCE,
            intercepted_at=signals.requested_at,
        )


def assess(
    signals: ProtectionSignals,
    book: ChannelBook,
    lender_brand: str,
    on: date,
    parameters: ProtectionParameters | None = None,
    rules: tuple[ProtectionRule, ...] = PROTECTION_RULES,
) -> ProtectionDecision:
    """The hold decision for one disbursement (see the module docstring)."""
    chosen = parameters or ProtectionParameters()
    fired = [(rule, rule.evaluate(signals, chosen)) for rule in rules]
    reasons = tuple(reason for _, reason in fired if reason is not None)
    points = sum(rule.points for rule, reason in fired if reason is not None)
    transfer = any(r.code == TRANSFER_TO_UNKNOWN for r in reasons)
    hold = points >= chosen.hold_points_min and (len(reasons) >= 2 or not transfer)
    if not hold:
        return ProtectionDecision(False, reasons, points, None, ())
    numbers = book.numbers_of(lender_brand, on)
    if not numbers:
        raise InputError(
            f"brand {lender_brand!r} has no official channel in force on {on}", field="lender_brand"
        )
    until = signals.requested_at + timedelta(hours=chosen.cooling_off_hours)
    callback = Reason(
        "cooling_off_callback",
        f"held until {until.isoformat()}; released after a call-back from {', '.join(numbers)}",
    )
    return ProtectionDecision(True, (*reasons, callback), points, until, numbers)
