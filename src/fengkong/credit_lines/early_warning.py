"""Early warnings: lead indicators of distress in a party's features, raised as alerts for review.

:func:`assess` reads the party's features (and the line change the dynamic rules proposed, if any) and
returns an :class:`Alert` when the indicators reach ``severity_min``. Each indicator has a weight; the
severity is the sum, capped at high:

======================================  ======  ==============================================================
indicator (reason code)                 weight  when
======================================  ======  ==============================================================
``fraud_signal``                        3       a fraud ring membership or an open fraud case
``collection_repayments``               3       repayments elsewhere came through collection (180 days)
``past_due_on_line``                    3       ``past_due_days_min`` or more days past due (fewer: 1)
``bureau_delinquency``                  1       bureau-reported delinquent months (24 months)
``repaying_less_than_drawn``            1       repaid under ``repaid_to_drawn_min`` of the drawn (90 days)
``rider_deliveries_falling``            1       deliveries, 7 days against 30, under ``falling_ratio_max``
``rider_earnings_falling``              1       earnings, the same windows
``merchant_revenue_falling``            1       revenue, the same windows
``bad_review_surge``                    2       a cut of the line for a surge of bad reviews (see ``dynamic``)
======================================  ======  ==============================================================

The alert's reason is its heaviest indicator (ties: the order above); every indicator that fired is carried
with its feature value, so a reviewer sees why. The alert ID is derived from the party, the date and the
rule version, so a review re-run on the same day raises the same alert once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import IntEnum
from typing import Final

from fengkong import bounds
from fengkong.credit_lines.dynamic import FraudSignals, LineAction, LineChange, LineReason, LineState
from fengkong.domain.features import FeatureValue
from fengkong.errors import InputError
from fengkong.money import D


class Severity(IntEnum):
    """How urgent an alert is; the queue is read highest first."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3


#: early-warning features read besides the dynamic rules' (names from ``features/standard.py``)
EARLY_WARNING_FEATURES: Final[Mapping[str, tuple[str, ...]]] = {
    "rider": ("rider_deliveries_30d", "rider_delivery_growth_7d_30d", "rider_earnings_growth_7d_30d"),
    "merchant": ("merchant_revenue_growth_7d_30d", "merchant_settled_amount_30d_fen"),
    "consumer": (
        "consumer_collection_repayment_share_180d",
        "consumer_bureau_delinquencies_24m_last",
        "consumer_repaid_to_drawn_90d",
        "consumer_drawn_amount_90d_fen",
    ),
}


@dataclass(frozen=True, slots=True)
class EarlyWarningParameters:
    """Thresholds of the indicators; ratios as ``Decimal``."""

    rule_version: str = "early-warning-1"
    severity_min: Severity = Severity.MEDIUM
    falling_ratio_max: Decimal = Decimal("0.6")
    falling_deliveries_30d_min: int = 20  # a falling trend needs this much history to mean anything
    repaid_to_drawn_min: Decimal = Decimal("0.3")
    drawn_90d_fen_min: int = 100_000  # 1,000 yuan drawn before repaying too little counts
    past_due_days_min: int = 30  # days past due on the line for a heavy indicator

    def __post_init__(self) -> None:
        version = self.rule_version
        if not isinstance(version, str) or not 0 < len(version) <= bounds.credit_line_rule_version_length_max:
            raise InputError(
                f"must be a non-empty string of at most {bounds.credit_line_rule_version_length_max}",
                field="rule_version",
            )
        if not isinstance(self.severity_min, Severity):
            raise InputError("must be a Severity", field="severity_min")
        for name in ("falling_ratio_max", "repaid_to_drawn_min"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not value.is_finite() or not D(0) <= value <= D(1):
                raise InputError("must be a Decimal between 0 and 1", field=name)
        for name in ("falling_deliveries_30d_min", "drawn_90d_fen_min", "past_due_days_min"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InputError("must be an integer of at least 0", field=name)


@dataclass(frozen=True, slots=True)
class Alert:
    """An early warning on a party at ``as_of``: severity, reason and the lead indicators that fired."""

    alert_id: str
    party_id: str
    as_of: date
    severity: Severity
    reason: str
    indicators: tuple[tuple[str, float | int], ...]
    rule_version: str


def _number(features: Mapping[str, FeatureValue], name: str) -> float | int | None:
    value = features.get(name)
    if value is None or isinstance(value, bool):
        return None
    return value


def _indicators(
    features: Mapping[str, FeatureValue],
    fraud: FraudSignals,
    state: LineState | None,
    change: LineChange | None,
    params: EarlyWarningParameters,
) -> list[tuple[str, int, str, float | int]]:
    """Indicators that fired: (reason code, weight, feature name, value), in the table's order."""
    fired: list[tuple[str, int, str, float | int]] = []
    if fraud.ring_member or fraud.open_cases > 0:
        fired.append(("fraud_signal", 3, "fraud_cases_open", fraud.open_cases + int(fraud.ring_member)))
    collection = _number(features, "consumer_collection_repayment_share_180d")
    if collection is not None and collection > 0:
        fired.append(("collection_repayments", 3, "consumer_collection_repayment_share_180d", collection))
    if state is not None and state.days_past_due > 0:
        # most first misses cure (CALIBRATION.md: about 0.86 within 30 days); half of 30+ roll on
        weight = 3 if state.days_past_due >= params.past_due_days_min else 1
        fired.append(("past_due_on_line", weight, "days_past_due", state.days_past_due))
    delinquencies = _number(features, "consumer_bureau_delinquencies_24m_last")
    if delinquencies is not None and delinquencies > 0:
        fired.append(("bureau_delinquency", 1, "consumer_bureau_delinquencies_24m_last", delinquencies))
    repaid = _number(features, "consumer_repaid_to_drawn_90d")
    drawn = _number(features, "consumer_drawn_amount_90d_fen")
    enough_drawn = drawn is not None and drawn >= params.drawn_90d_fen_min
    if repaid is not None and enough_drawn and repaid < params.repaid_to_drawn_min:
        fired.append(("repaying_less_than_drawn", 1, "consumer_repaid_to_drawn_90d", repaid))
    deliveries = _number(features, "rider_deliveries_30d")
    if deliveries is not None and deliveries >= params.falling_deliveries_30d_min:
        for code, name in (
            ("rider_deliveries_falling", "rider_delivery_growth_7d_30d"),
            ("rider_earnings_falling", "rider_earnings_growth_7d_30d"),
        ):
            value = _number(features, name)
            if value is not None and value < params.falling_ratio_max:
                fired.append((code, 1, name, value))
    revenue = _number(features, "merchant_revenue_growth_7d_30d")
    if revenue is not None and revenue < params.falling_ratio_max:
        fired.append(("merchant_revenue_falling", 1, "merchant_revenue_growth_7d_30d", revenue))
    if (
        change is not None
        and change.reason is LineReason.BAD_REVIEW_SURGE
        and change.action is LineAction.CUT
    ):
        for name, value in change.triggers:
            fired.append(("bad_review_surge", 2, name, value))
            break
    return fired


def alert_id(party_id: str, as_of: date, rule_version: str) -> str:
    """The alert's ID: one alert per party, day and rule version."""
    identifier = f"ew:{rule_version}:{as_of.isoformat()}:{party_id}"
    if len(identifier) > bounds.credit_line_alert_id_length_max:
        raise InputError(
            f"the alert ID would exceed {bounds.credit_line_alert_id_length_max} characters", field="party_id"
        )
    return identifier


def assess(
    party_id: str,
    features: Mapping[str, FeatureValue],
    fraud: FraudSignals,
    as_of: date,
    state: LineState | None = None,
    change: LineChange | None = None,
    params: EarlyWarningParameters | None = None,
) -> Alert | None:
    """An alert when the party's lead indicators reach ``params.severity_min``; None otherwise."""
    params = params or EarlyWarningParameters()
    if not isinstance(party_id, str) or not party_id:
        raise InputError("must be a non-empty string", field="party_id")
    fired = _indicators(features, fraud, state, change, params)
    if not fired:
        return None
    severity = Severity(min(int(Severity.HIGH), sum(weight for _code, weight, _name, _value in fired)))
    if severity < params.severity_min:
        return None
    heaviest = max(fired, key=lambda item: item[1])  # max keeps the first of equal weights
    indicators = tuple((name, value) for _code, _weight, name, value in fired)
    return Alert(
        alert_id=alert_id(party_id, as_of, params.rule_version),
        party_id=party_id,
        as_of=as_of,
        severity=severity,
        reason=heaviest[0],
        indicators=indicators[: bounds.credit_line_triggers_max],
        rule_version=params.rule_version,
    )
