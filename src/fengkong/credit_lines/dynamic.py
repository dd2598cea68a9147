"""Behaviour-triggered credit-line changes: pure rules from a party's features and its line's state.

:func:`propose` looks at one line (a party's limit for one product) and the party's features as known at
``as_of`` and proposes at most one change, the first that applies in this order (a closed, ordered set —
the stronger action always wins):

1. **freeze** (the line stays, new draws are refused: the limit goes to 0 and the line is marked frozen) on a
   fraud signal — the party is in a fraud ring, or has an open fraud review case — or on a delinquency:
   this line ``past_due_freeze_days_min`` or more days past due, or repayments elsewhere coming through
   collection (``consumer_collection_repayment_share_180d``);
2. **cut** (the limit keeps ``cut_keep_permille`` of itself, rounded down to the line unit) on a first miss
   (this line past due, fewer days than a freeze needs: most first misses cure) or on a surge of bad reviews
   of a merchant (the 24-hour share of 1–2 star reviews over enough reviews, or the 7-day share).
   Bureau-reported delinquencies are not a cut: they were known when the line was granted and priced then
   (a level, not a change); they are an early-warning indicator instead;
3. **raise** on a sustained rise in a rider's deliveries: both growth ratios (deliveries and earnings, the
   last 7 days against the last 30) at least ``raise_growth_min``, at least ``raise_deliveries_30d_min``
   deliveries in 30 days and a line at least ``raise_line_age_days_min`` days old (minimum history), the
   last raise at least ``raise_cooldown_days`` ago; the step is ``raise_step_permille`` of the line, at most
   ``raise_step_fen_max``, and the new limit stays within the product maximum and the room left under the
   household cap (read from exposure by the caller);
4. otherwise **keep** (no change is proposed).

A frozen line is not raised or cut again by these rules: a reviewer unfreezes it (it stays frozen until then).

Every change carries a reason code, the feature values that triggered it, the old and new limit and the
rule version, so that it can be recorded and explained. Amounts are integer fen; ratio thresholds are
``Decimal`` (compared exactly with the feature values).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import IntEnum, StrEnum
from typing import Final

from fengkong import bounds
from fengkong.domain.features import FeatureValue
from fengkong.errors import InputError
from fengkong.money import D

FEN_PER_YUAN: Final = 100
PERMILLE: Final = 1_000

#: the features the rules read, by entity type (names from ``features/standard.py``)
RIDER_FEATURES: Final = (
    "rider_deliveries_30d",
    "rider_delivery_growth_7d_30d",
    "rider_earnings_growth_7d_30d",
)
MERCHANT_FEATURES: Final = (
    "merchant_reviews_24h",
    "merchant_bad_review_share_24h",
    "merchant_bad_review_share_7d",
)
CONSUMER_FEATURES: Final = ("consumer_collection_repayment_share_180d",)
FEATURES_BY_ENTITY: Final[Mapping[str, tuple[str, ...]]] = {
    "rider": RIDER_FEATURES,
    "merchant": MERCHANT_FEATURES,
    "consumer": CONSUMER_FEATURES,
}


class LineAction(IntEnum):
    """What a rule does to a line; a higher value wins over a lower one."""

    KEEP = 0
    RAISE = 1
    CUT = 2
    FREEZE = 3


class LineReason(StrEnum):
    """The reason code of a line change (stable: stored with the change and shown to reviewers)."""

    FRAUD_RING = "fraud_ring_member"
    FRAUD_CASE_OPEN = "fraud_case_open"
    PAST_DUE = "past_due_on_line"
    DELINQUENCY_ELSEWHERE = "delinquency_elsewhere"
    BAD_REVIEW_SURGE = "bad_review_surge"
    DELIVERY_GROWTH = "sustained_delivery_growth"


def _integer(value: int, field: str, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InputError(f"must be an integer between {low} and {high}", field=field)


def _ratio(value: Decimal, field: str, low: Decimal, high: Decimal) -> None:
    if not isinstance(value, Decimal) or not value.is_finite() or not low <= value <= high:
        raise InputError(f"must be a Decimal between {low} and {high}", field=field)


@dataclass(frozen=True, slots=True)
class DynamicLineParameters:
    """Thresholds of the rules (see the module docstring). Amounts in fen, ratios as ``Decimal``."""

    rule_version: str = "dynamic-lines-1"
    raise_growth_min: Decimal = Decimal("1.15")
    raise_deliveries_30d_min: int = 60
    raise_line_age_days_min: int = 60
    raise_cooldown_days: int = 30
    raise_step_permille: int = 200
    raise_step_fen_max: int = 5_000 * FEN_PER_YUAN
    product_line_max_fen: int = 50_000 * FEN_PER_YUAN
    line_unit_fen: int = 100 * FEN_PER_YUAN  # limits move in whole hundreds of yuan
    bad_review_reviews_24h_min: int = 3
    bad_review_share_24h_max: Decimal = Decimal("0.5")
    bad_review_share_7d_max: Decimal = Decimal("0.3")
    collection_share_max: Decimal = Decimal("0")  # any repayment through collection is a delinquency
    cut_keep_permille: int = 500
    past_due_freeze_days_min: int = 30  # fewer days past due on the line: a cut; this many: a freeze

    def __post_init__(self) -> None:
        version = self.rule_version
        if not isinstance(version, str) or not 0 < len(version) <= bounds.credit_line_rule_version_length_max:
            raise InputError(
                f"must be a non-empty string of at most {bounds.credit_line_rule_version_length_max}",
                field="rule_version",
            )
        one, big = D(1), D(1_000_000)
        _ratio(self.raise_growth_min, "raise_growth_min", one, big)
        _ratio(self.bad_review_share_24h_max, "bad_review_share_24h_max", D(0), one)
        _ratio(self.bad_review_share_7d_max, "bad_review_share_7d_max", D(0), one)
        _ratio(self.collection_share_max, "collection_share_max", D(0), one)
        fen_max = bounds.exposure_amount_fen_max
        _integer(self.raise_deliveries_30d_min, "raise_deliveries_30d_min", 0, 1_000_000)
        _integer(
            self.raise_line_age_days_min,
            "raise_line_age_days_min",
            bounds.credit_line_history_days_min,
            bounds.credit_line_history_days_max,
        )
        _integer(self.raise_cooldown_days, "raise_cooldown_days", 0, bounds.credit_line_cooldown_days_max)
        _integer(self.raise_step_permille, "raise_step_permille", 1, bounds.credit_line_step_permille_max)
        _integer(self.raise_step_fen_max, "raise_step_fen_max", 1, fen_max)
        _integer(self.product_line_max_fen, "product_line_max_fen", 1, fen_max)
        _integer(self.line_unit_fen, "line_unit_fen", 1, self.product_line_max_fen)
        _integer(self.bad_review_reviews_24h_min, "bad_review_reviews_24h_min", 1, 1_000_000)
        _integer(self.cut_keep_permille, "cut_keep_permille", 0, bounds.credit_line_step_permille_max - 1)
        _integer(
            self.past_due_freeze_days_min,
            "past_due_freeze_days_min",
            bounds.credit_line_history_days_min,
            bounds.credit_line_history_days_max,
        )


@dataclass(frozen=True, slots=True)
class LineState:
    """One line as fengkong holds it: the limit, what is used, when it opened and last rose, whether frozen,
    its days past due, and the room left under the household (or borrower) cap — None when no cap row."""

    party_id: str
    product: str
    limit_fen: int
    used_fen: int
    opened_on: date
    last_raised_on: date | None = None
    frozen: bool = False
    days_past_due: int = 0
    household_available_fen: int | None = None

    def __post_init__(self) -> None:
        for name in ("party_id", "product"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise InputError("must be a non-empty string", field=name)
        for name in ("limit_fen", "used_fen", "days_past_due"):
            _integer(getattr(self, name), name, 0, bounds.exposure_amount_fen_max)
        if self.household_available_fen is not None:
            _integer(
                self.household_available_fen, "household_available_fen", 0, bounds.exposure_amount_fen_max
            )


@dataclass(frozen=True, slots=True)
class FraudSignals:
    """What the fraud side knows of the party at ``as_of``: ring membership and open review cases."""

    ring_member: bool = False
    open_cases: int = 0


@dataclass(frozen=True, slots=True)
class LineChange:
    """A proposed change of one line, with the reason and the values that triggered it."""

    party_id: str
    product: str
    action: LineAction
    reason: LineReason
    old_limit_fen: int
    new_limit_fen: int
    as_of: date
    rule_version: str
    triggers: tuple[tuple[str, float | int], ...]


def _number(features: Mapping[str, FeatureValue], name: str) -> float | int | None:
    value = features.get(name)
    if value is None or isinstance(value, bool):
        return None
    return value


def _round_down(amount_fen: int, unit_fen: int) -> int:
    return amount_fen // unit_fen * unit_fen


def _change(
    state: LineState,
    action: LineAction,
    reason: LineReason,
    new_limit_fen: int,
    as_of: date,
    params: DynamicLineParameters,
    triggers: Mapping[str, float | int],
) -> LineChange:
    return LineChange(
        party_id=state.party_id,
        product=state.product,
        action=action,
        reason=reason,
        old_limit_fen=state.limit_fen,
        new_limit_fen=new_limit_fen,
        as_of=as_of,
        rule_version=params.rule_version,
        triggers=tuple(sorted(triggers.items()))[: bounds.credit_line_triggers_max],
    )


def _freeze_reason(
    state: LineState, features: Mapping[str, FeatureValue], fraud: FraudSignals, params: DynamicLineParameters
) -> tuple[LineReason, dict[str, float | int]] | None:
    if fraud.ring_member:
        return LineReason.FRAUD_RING, {"fraud_ring_member": 1}
    if fraud.open_cases > 0:
        return LineReason.FRAUD_CASE_OPEN, {"fraud_cases_open": fraud.open_cases}
    if state.days_past_due >= params.past_due_freeze_days_min:
        return LineReason.PAST_DUE, {"days_past_due": state.days_past_due}
    collection = _number(features, "consumer_collection_repayment_share_180d")
    if collection is not None and collection > params.collection_share_max:
        return LineReason.DELINQUENCY_ELSEWHERE, {"consumer_collection_repayment_share_180d": collection}
    return None


def _cut_reason(
    state: LineState, features: Mapping[str, FeatureValue], params: DynamicLineParameters
) -> tuple[LineReason, dict[str, float | int]] | None:
    if state.days_past_due > 0:  # a first miss: most cure (CALIBRATION.md), so cut, do not freeze yet
        return LineReason.PAST_DUE, {"days_past_due": state.days_past_due}
    reviews = _number(features, "merchant_reviews_24h")
    share_24h = _number(features, "merchant_bad_review_share_24h")
    share_7d = _number(features, "merchant_bad_review_share_7d")
    if (
        reviews is not None
        and share_24h is not None
        and reviews >= params.bad_review_reviews_24h_min
        and share_24h > params.bad_review_share_24h_max
    ):
        triggers = {"merchant_reviews_24h": reviews, "merchant_bad_review_share_24h": share_24h}
        return LineReason.BAD_REVIEW_SURGE, triggers
    if share_7d is not None and share_7d > params.bad_review_share_7d_max:
        return LineReason.BAD_REVIEW_SURGE, {"merchant_bad_review_share_7d": share_7d}
    return None


def _raised_limit(
    state: LineState, features: Mapping[str, FeatureValue], as_of: date, params: DynamicLineParameters
) -> tuple[int, dict[str, float | int]] | None:
    deliveries = _number(features, "rider_deliveries_30d")
    deliveries_growth = _number(features, "rider_delivery_growth_7d_30d")
    earnings_growth = _number(features, "rider_earnings_growth_7d_30d")
    if deliveries is None or deliveries_growth is None or earnings_growth is None:
        return None
    if deliveries < params.raise_deliveries_30d_min:
        return None
    if deliveries_growth < params.raise_growth_min or earnings_growth < params.raise_growth_min:
        return None
    if (as_of - state.opened_on).days < params.raise_line_age_days_min:
        return None
    if state.last_raised_on is not None and (as_of - state.last_raised_on).days < params.raise_cooldown_days:
        return None
    step = min(state.limit_fen * params.raise_step_permille // PERMILLE, params.raise_step_fen_max)
    if state.household_available_fen is not None:
        step = min(step, state.household_available_fen)
    new_limit = _round_down(min(state.limit_fen + step, params.product_line_max_fen), params.line_unit_fen)
    if new_limit <= state.limit_fen:
        return None
    triggers = {
        "rider_deliveries_30d": deliveries,
        "rider_delivery_growth_7d_30d": deliveries_growth,
        "rider_earnings_growth_7d_30d": earnings_growth,
    }
    return new_limit, triggers


def propose(
    state: LineState,
    features: Mapping[str, FeatureValue],
    fraud: FraudSignals,
    as_of: date,
    params: DynamicLineParameters | None = None,
) -> LineChange | None:
    """The change the rules propose for ``state`` given the party's features at ``as_of``; None to keep.

    ``features`` holds the party's values by feature name across its entity types (see
    :data:`FEATURES_BY_ENTITY`); a missing or None value never triggers a rule.
    """
    params = params or DynamicLineParameters()
    if state.frozen:
        return None
    frozen = _freeze_reason(state, features, fraud, params)
    if frozen is not None:
        reason, triggers = frozen
        return _change(state, LineAction.FREEZE, reason, 0, as_of, params, triggers)
    cut = _cut_reason(state, features, params)
    if cut is not None:
        reason, triggers = cut
        new_limit = _round_down(state.limit_fen * params.cut_keep_permille // PERMILLE, params.line_unit_fen)
        if new_limit < state.limit_fen:
            return _change(state, LineAction.CUT, reason, new_limit, as_of, params, triggers)
        return None
    raised = _raised_limit(state, features, as_of, params)
    if raised is not None:
        new_limit, triggers = raised
        return _change(
            state, LineAction.RAISE, LineReason.DELIVERY_GROWTH, new_limit, as_of, params, triggers
        )
    return None


def apply(state: LineState, change: LineChange) -> LineState:
    """The line after ``change`` (a new value; the old one is unchanged)."""
    if (change.party_id, change.product) != (state.party_id, state.product):
        raise InputError("the change is for another line", field="change")
    if change.old_limit_fen != state.limit_fen:
        raise InputError("the change was proposed for another limit", field="change")
    return dataclasses.replace(
        state,
        limit_fen=change.new_limit_fen,
        frozen=state.frozen or change.action is LineAction.FREEZE,
        last_raised_on=change.as_of if change.action is LineAction.RAISE else state.last_raised_on,
    )
