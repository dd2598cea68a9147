"""Scenario files: the description of a simulated world (seed, scale, calibration, shock, drift, fraud).

The packaged ``default_scenario.yaml`` holds the calibration. A scenario file (``scenarios/*.yaml``) states
only what differs from it: it is deep-merged over the default and the result is validated as a whole by the
pydantic models below, so a misspelt key or an out-of-range value raises :class:`ScenarioError` naming the
field (``fraud.share_of_consumers: ...``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from fengkong import bounds
from fengkong.errors import ScenarioError

ScaleName = Literal["tiny", "small", "large"]
SCALE_NAMES: tuple[ScaleName, ...] = ("tiny", "small", "large")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


def _weights(values: Mapping[str, float] | tuple[float, ...], name: str) -> None:
    items = tuple(values.values()) if isinstance(values, Mapping) else tuple(values)
    if any(value < 0 for value in items) or sum(items) <= 0:
        raise ValueError(f"{name} must be non-negative and not all zero")


class ScaleSize(_Section):
    """How many parties of each kind, and the default number of days."""

    consumers: int = Field(ge=1, le=bounds.sim_consumers_max)
    riders: int = Field(ge=1, le=bounds.sim_consumers_max)
    merchants: int = Field(ge=1, le=bounds.sim_consumers_max)
    core_enterprises: int = Field(ge=1, le=bounds.sim_consumers_max)
    suppliers_per_enterprise: int = Field(ge=1, le=1_000)
    days: int = Field(ge=1, le=bounds.sim_days_max)


class Scales(_Section):
    tiny: ScaleSize
    small: ScaleSize
    large: ScaleSize


class PopulationSection(_Section):
    thin_file_share: float = Field(ge=0, le=1)
    household_size_weights: tuple[float, ...] = Field(min_length=1, max_length=8)
    city_tier_weights: tuple[float, float, float, float, float]
    birth_year_range: tuple[int, int]
    arrivals_monthly_share: float = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _check(self) -> PopulationSection:
        _weights(self.household_size_weights, "household_size_weights")
        _weights(self.city_tier_weights, "city_tier_weights")
        if not 1900 <= self.birth_year_range[0] <= self.birth_year_range[1] <= 2100:
            raise ValueError("birth_year_range must be [first, last] within 1900–2100")
        return self


class RiskSection(_Section):
    consumer_logit_mean: float = Field(ge=-15, le=5)
    consumer_logit_sd: float = Field(ge=0, le=5)
    rider_logit_mean: float = Field(ge=-15, le=5)
    rider_logit_sd: float = Field(ge=0, le=5)
    merchant_logit_mean: float = Field(ge=-15, le=5)
    merchant_logit_sd: float = Field(ge=0, le=5)
    supplier_logit_mean: float = Field(ge=-15, le=5)
    supplier_logit_sd: float = Field(ge=0, le=5)


class Categories(_Section):
    food: float = Field(gt=0)
    hotel: float = Field(gt=0)
    shop: float = Field(gt=0)


class ConsumersSection(_Section):
    income_median_yuan: float = Field(gt=0)
    income_sigma: float = Field(ge=0, le=3)
    orders_per_day_median: float = Field(gt=0, le=50)
    orders_per_day_sigma: float = Field(ge=0, le=3)
    ticket_median_yuan: Categories
    ticket_income_elasticity: float = Field(ge=0, le=2)
    category_weights: Categories
    bnpl_share: float = Field(ge=0, le=1)
    card_share: float = Field(ge=0, le=1)
    refund_share: float = Field(ge=0, le=1)
    review_share: float = Field(ge=0, le=1)
    logins_per_day: float = Field(ge=0, le=100)
    new_device_monthly: float = Field(ge=0, le=1)
    topups_per_month: float = Field(ge=0, le=100)
    bills_per_month: float = Field(ge=0, le=100)
    transfers_known_per_month: float = Field(ge=0, le=100)
    transfers_unknown_per_month: float = Field(ge=0, le=100)
    income_shock_monthly: float = Field(ge=0, le=1)
    income_shock_income_factor: float = Field(gt=0, le=1)
    income_shock_spend_factor: float = Field(gt=0, le=1)
    income_shock_logit: float = Field(ge=0, le=10)
    income_shock_recovery_days: int = Field(ge=1, le=bounds.sim_days_max)

    @model_validator(mode="after")
    def _check(self) -> ConsumersSection:
        if self.bnpl_share + self.card_share > 1:
            raise ValueError("bnpl_share + card_share must be at most 1")
        return self


class BehaviourSection(_Section):
    spend_cv_base: float = Field(gt=0, le=3)
    spend_cv_per_risk_sd: float = Field(ge=-3, le=3)
    topup_cv_base: float = Field(gt=0, le=3)
    topup_cv_per_risk_sd: float = Field(ge=-3, le=3)
    bnpl_logit_per_risk_sd: float = Field(ge=-5, le=5)
    night_share_base: float = Field(gt=0, lt=1)
    night_logit_per_risk_sd: float = Field(ge=-5, le=5)
    refund_logit_per_risk_sd: float = Field(ge=-5, le=5)
    bureau_score_mean: float = Field(ge=300, le=900)
    bureau_score_per_risk_sd: float = Field(ge=0, le=300)
    bureau_noise_sd: float = Field(ge=0, le=300)
    rider_growth_logit_per_log_volume: float = Field(ge=-10, le=10)
    merchant_decline_logit_per_log_revenue: float = Field(ge=-10, le=10)


class RiderStatus(_Section):
    on_time: float = Field(ge=0)
    late: float = Field(ge=0)
    cancelled: float = Field(ge=0)


class RidersSection(_Section):
    activity_class_weights: tuple[float, float, float]
    active_day_probability: tuple[float, float, float]
    churn_monthly: tuple[float, float, float]
    orders_per_active_day: float = Field(gt=0, le=200)
    volume_sigma: float = Field(ge=0, le=3)
    pay_per_order_yuan: float = Field(gt=0, le=1_000)
    pay_sigma: float = Field(ge=0, le=3)
    growth_monthly_sd: float = Field(ge=0, le=2)
    churn_growth_elasticity: float = Field(ge=0, le=20)
    churn_logit: float = Field(ge=0, le=10)
    status_weights: RiderStatus
    minutes_late_mean: float = Field(gt=0, le=1_440)

    @model_validator(mode="after")
    def _check(self) -> RidersSection:
        _weights(self.activity_class_weights, "activity_class_weights")
        for name in ("active_day_probability", "churn_monthly"):
            if not all(0 <= value <= 1 for value in getattr(self, name)):
                raise ValueError(f"{name} must hold probabilities in [0, 1]")
        _weights(self.status_weights.model_dump(), "status_weights")
        return self


class Segments(_Section):
    restaurant: float = Field(ge=0)
    snack: float = Field(ge=0)
    shop: float = Field(ge=0)
    hotel: float = Field(ge=0)


class MerchantsSection(_Section):
    segment_weights: Segments
    closure_annual: Segments
    chain_closure_annual: float = Field(ge=0, lt=1)
    tier1_closure_annual: float = Field(ge=0, lt=1)
    chain_share: float = Field(ge=0, le=1)
    chain_size_mean: float = Field(ge=1, le=10_000)
    daily_revenue_median_yuan: Segments
    revenue_sigma: float = Field(ge=0, le=3)
    revenue_monthly_cv: float = Field(ge=0, le=2)
    revenue_daily_cv: float = Field(ge=0, le=2)
    revenue_per_star_independent: float = Field(ge=-1, le=1)
    revenue_per_star_chain: float = Field(ge=-1, le=1)
    quality_mean: float = Field(ge=1, le=5)
    quality_sd: float = Field(ge=0, le=2)
    cash_buffer_days_median: float = Field(gt=0, le=3_650)
    cash_buffer_sigma: float = Field(ge=0, le=3)
    cost_ratio: float = Field(gt=0, le=2)
    review_surge_monthly: float = Field(ge=0, le=1)
    surge_quality_drop: float = Field(ge=0, le=4)
    surge_decline_lag_days: int = Field(ge=0, le=365)
    surge_revenue_decline_monthly: float = Field(ge=0, lt=1)
    surge_closure_multiplier: float = Field(ge=1, le=100)
    surge_logit: float = Field(ge=0, le=10)
    closure_logit: float = Field(ge=0, le=10)

    @model_validator(mode="after")
    def _check(self) -> MerchantsSection:
        _weights(self.segment_weights.model_dump(), "segment_weights")
        if not all(0 <= value < 1 for value in self.closure_annual.model_dump().values()):
            raise ValueError("closure_annual must hold probabilities in [0, 1)")
        return self


class SupplyChainSection(_Section):
    trades_per_supplier_monthly: float = Field(ge=0, le=1_000)
    trade_amount_median_yuan: float = Field(gt=0)
    trade_amount_sigma: float = Field(ge=0, le=3)
    receipt_lag_days: tuple[int, int]
    invoice_lag_days: tuple[int, int]
    payment_terms_days: int = Field(ge=0, le=366)
    forged_invoice_rate: float = Field(ge=0, le=1)
    double_presented_rate: float = Field(ge=0, le=1)
    supplier_margin: float = Field(gt=0, le=1)

    @model_validator(mode="after")
    def _check(self) -> SupplyChainSection:
        for name in ("receipt_lag_days", "invoice_lag_days"):
            low, high = getattr(self, name)
            if not 0 <= low <= high <= 365:
                raise ValueError(f"{name} must be [low, high] with 0 ≤ low ≤ high ≤ 365")
        return self


class MacroSection(_Section):
    shock_month: int = Field(ge=0, le=bounds.sim_days_max // 28)
    duration_months: int = Field(ge=0, le=bounds.sim_days_max // 28)
    multiplier: float = Field(ge=0.1, le=20)


class BehaviourOverrides(_Section):
    """Any subset of :class:`BehaviourSection`, in force after ``drift.after_month``."""

    spend_cv_base: float | None = Field(default=None, gt=0, le=3)
    spend_cv_per_risk_sd: float | None = Field(default=None, ge=-3, le=3)
    topup_cv_base: float | None = Field(default=None, gt=0, le=3)
    topup_cv_per_risk_sd: float | None = Field(default=None, ge=-3, le=3)
    bnpl_logit_per_risk_sd: float | None = Field(default=None, ge=-5, le=5)
    night_share_base: float | None = Field(default=None, gt=0, lt=1)
    night_logit_per_risk_sd: float | None = Field(default=None, ge=-5, le=5)
    refund_logit_per_risk_sd: float | None = Field(default=None, ge=-5, le=5)
    bureau_score_mean: float | None = Field(default=None, ge=300, le=900)
    bureau_score_per_risk_sd: float | None = Field(default=None, ge=0, le=300)
    bureau_noise_sd: float | None = Field(default=None, ge=0, le=300)
    rider_growth_logit_per_log_volume: float | None = Field(default=None, ge=-10, le=10)
    merchant_decline_logit_per_log_revenue: float | None = Field(default=None, ge=-10, le=10)


class DriftSection(_Section):
    after_month: int | None = Field(default=None, ge=0, le=bounds.sim_days_max // 28)
    behaviour: BehaviourOverrides = BehaviourOverrides()


class TacticMix(_Section):
    ring: float = Field(ge=0)
    synthetic: float = Field(ge=0)
    bust_out: float = Field(ge=0)
    device_rotation: float = Field(ge=0)


class ScamMix(_Section):
    order_brushing: float = Field(ge=0)
    fake_investment: float = Field(ge=0)
    fake_loan: float = Field(ge=0)
    fake_customer_service: float = Field(ge=0)
    other: float = Field(ge=0)


class FraudBurst(_Section):
    """A new product's launch: a wave of new registrations, a large share of them fraudulent."""

    start_day: int = Field(ge=0, le=bounds.sim_days_max)
    days: int = Field(ge=1, le=365)
    arrivals_per_day_share: float = Field(gt=0, le=1)  # new registrations a day, share of consumers
    fraud_share: float = Field(ge=0, le=1)  # 30–70 % in a launch week (Zhima 2016) [s]


class FraudSection(_Section):
    share_of_consumers: float = Field(ge=0, le=0.5)
    tactic_mix: TacticMix
    ring_size_median: float = Field(ge=2, le=10_000)
    ring_size_p95: float = Field(ge=2, le=100_000)
    ring_size_max: int = Field(ge=2, le=bounds.sim_ring_size_max)
    ring_devices_per_member: float = Field(gt=0, le=1)
    ring_phones_per_member: float = Field(gt=0, le=1)
    ring_registration_spread_days: int = Field(ge=1, le=365)
    synthetic_arrival_days: tuple[int, int]
    bust_out_day_range: tuple[int, int]
    account_takeover_monthly: float = Field(ge=0, le=1)
    scam_monthly: float = Field(ge=0, le=1)
    scam_mix: ScamMix
    scam_transfer_share_of_income: float = Field(ge=0, le=100)
    burst: FraudBurst | None = None

    @model_validator(mode="after")
    def _check(self) -> FraudSection:
        _weights(self.tactic_mix.model_dump(), "tactic_mix")
        _weights(self.scam_mix.model_dump(), "scam_mix")
        if self.ring_size_p95 < self.ring_size_median:
            raise ValueError("ring_size_p95 must be at least ring_size_median")
        for name in ("synthetic_arrival_days", "bust_out_day_range"):
            low, high = getattr(self, name)
            if not 0 <= low <= high <= bounds.sim_days_max:
                raise ValueError(f"{name} must be [low, high] within the simulated days")
        return self


class EventsSection(_Section):
    delay_median_seconds: float = Field(ge=0, le=3_600)
    late_share: float = Field(ge=0, le=1)
    late_hours: tuple[float, float]
    hour_weights: tuple[float, ...] = Field(min_length=24, max_length=24)

    @model_validator(mode="after")
    def _check(self) -> EventsSection:
        if not 0 <= self.late_hours[0] <= self.late_hours[1] <= 72:
            raise ValueError("late_hours must be [low, high] within 0–72")
        _weights(self.hour_weights, "hour_weights")
        return self


class IdentifiersSection(_Section):
    phone_prefix: str = Field(pattern=r"^\+86\d{4}$")


class ProductRates(_Section):
    """One value per product (the products of ``sim/response.py``)."""

    bnpl: float = Field(ge=0, le=1)
    installment: float = Field(ge=0, le=1)
    revolving: float = Field(ge=0, le=1)
    merchant: float = Field(ge=0, le=1)


class ApplicationRates(_Section):
    """Daily application probability per product, for each kind of borrower without that product."""

    consumer: ProductRates
    rider: ProductRates
    merchant: ProductRates
    supplier: ProductRates


class ResponseSection(_Section):
    """The borrower-response model (``sim/response.py``): delinquency, use, applications and scams.

    The level of default risk is not here: it is ``risk.*_logit_mean`` (the monthly odds of going 30+ days
    past due at zero debt); this section says how debt, delinquency and borrowing behave around it.
    """

    beta_debt_burden: float = Field(gt=0, le=20)
    debt_burden_cap: float = Field(gt=0, le=20)
    technical_miss_multiple: float = Field(ge=0, le=100)
    technical_cure_daily: float = Field(ge=0, le=1)
    distressed_cure_daily: float = Field(ge=0, le=1)
    default_days_past_due: int = Field(ge=1, le=bounds.sim_days_max)
    write_off_days_past_due: int = Field(ge=1, le=bounds.sim_days_max)
    acceptance_probability: float = Field(ge=0, le=1)
    utilisation_beta_a: float = Field(gt=0, le=100)
    utilisation_beta_b: float = Field(gt=0, le=100)
    draw_daily: float = Field(ge=0, le=1)
    revolving_minimum_share: float = Field(ge=0, le=1)
    application_daily: ApplicationRates
    need_risk_slope: float = Field(ge=-5, le=5)
    income_shock_drop: float = Field(ge=0, lt=1)
    income_shock_multiplier: float = Field(ge=0, le=100)
    fraud_application_multiplier: float = Field(ge=0, le=100)
    reapply_days: int = Field(ge=0, le=bounds.sim_days_max)
    line_request_median_fen: int = Field(gt=0, le=100_000_000)
    line_request_sigma: float = Field(ge=0, le=3)
    ticket_median_fen: int = Field(gt=0, le=100_000_000)
    ticket_sigma: float = Field(ge=0, le=3)
    merchant_ticket_median_fen: int = Field(gt=0, le=1_000_000_000)
    merchant_ticket_sigma: float = Field(ge=0, le=3)
    merchant_term_months: int = Field(ge=1, le=360)
    declared_income_sigma: float = Field(ge=0, le=3)
    fraud_income_inflation: float = Field(ge=0, le=100)
    scam_window_days: int = Field(ge=0, le=365)

    @model_validator(mode="after")
    def _check(self) -> ResponseSection:
        if not self.default_days_past_due < self.write_off_days_past_due:
            raise ValueError("default_days_past_due must be below write_off_days_past_due")
        return self


class ScenarioFile(_Section):
    """The whole scenario file after merging over the default (the pydantic view, used to validate)."""

    seed: int = Field(ge=0, le=2**63 - 1)
    scale: ScaleName
    days: int | None = Field(default=None, ge=1, le=bounds.sim_days_max)
    start_date: date
    scales: Scales
    population: PopulationSection
    risk: RiskSection
    consumers: ConsumersSection
    behaviour: BehaviourSection
    riders: RidersSection
    merchants: MerchantsSection
    supply_chain: SupplyChainSection
    macro: MacroSection
    drift: DriftSection
    fraud: FraudSection
    events: EventsSection
    identifiers: IdentifiersSection
    response: ResponseSection


@dataclass(frozen=True)
class Scenario:
    """A validated world: seed, resolved scale and days, and every calibration section.

    ``size`` is the entry of ``scales`` picked by ``scale``; ``days`` is resolved (never None).
    ``behaviour_for_month(m)`` gives the behaviour coefficients in force in month ``m`` (drift applied).
    """

    seed: int
    scale: ScaleName
    days: int
    start_date: date
    size: ScaleSize
    population: PopulationSection
    risk: RiskSection
    consumers: ConsumersSection
    behaviour: BehaviourSection
    riders: RidersSection
    merchants: MerchantsSection
    supply_chain: SupplyChainSection
    macro: MacroSection
    drift: DriftSection
    fraud: FraudSection
    events: EventsSection
    identifiers: IdentifiersSection
    response: ResponseSection
    name: str = "default"

    def behaviour_for_month(self, month: int) -> BehaviourSection:
        if self.drift.after_month is None or month < self.drift.after_month:
            return self.behaviour
        overrides = self.drift.behaviour.model_dump(exclude_none=True)
        return self.behaviour.model_copy(update=overrides)

    def macro_multiplier(self, month: int) -> float:
        """The hazard multiplier of the macro shock in month ``month`` (1.0 outside the shock)."""
        start = self.macro.shock_month
        if start <= month < start + self.macro.duration_months:
            return self.macro.multiplier
        return 1.0


def _default_text() -> str:
    return resources.files("fengkong.sim").joinpath("default_scenario.yaml").read_text(encoding="utf-8")


def _parse_yaml(text: str, source: str) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ScenarioError(f"not valid YAML: {exc}", field=source) from exc
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ScenarioError("a scenario file is a mapping of sections", field=source)
    return loaded


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _field_name(location: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in location) or "scenario"


def scenario_from_mapping(
    data: Mapping[str, Any],
    *,
    seed: int | None = None,
    scale: str | None = None,
    days: int | None = None,
    name: str = "default",
) -> Scenario:
    """Validate ``data`` (merged over the default) with the given overrides into a :class:`Scenario`."""
    merged = _merge(_parse_yaml(_default_text(), "default_scenario.yaml"), data)
    if seed is not None:
        merged["seed"] = seed
    if scale is not None:
        merged["scale"] = scale
    if days is not None:
        merged["days"] = days
    try:
        parsed = ScenarioFile.model_validate(merged)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ScenarioError(first["msg"], field=_field_name(tuple(first["loc"]))) from exc
    size: ScaleSize = getattr(parsed.scales, parsed.scale)
    resolved_days = parsed.days if parsed.days is not None else size.days
    burst = parsed.fraud.burst
    if burst is not None and burst.start_day >= resolved_days:
        raise ScenarioError(
            f"starts on day {burst.start_day}, after the last simulated day", field="fraud.burst.start_day"
        )
    return Scenario(
        seed=parsed.seed,
        scale=parsed.scale,
        days=resolved_days,
        start_date=parsed.start_date,
        size=size,
        population=parsed.population,
        risk=parsed.risk,
        consumers=parsed.consumers,
        behaviour=parsed.behaviour,
        riders=parsed.riders,
        merchants=parsed.merchants,
        supply_chain=parsed.supply_chain,
        macro=parsed.macro,
        drift=parsed.drift,
        fraud=parsed.fraud,
        events=parsed.events,
        identifiers=parsed.identifiers,
        response=parsed.response,
        name=name,
    )


def load_scenario(
    path: Path | None = None, *, seed: int | None = None, scale: str | None = None, days: int | None = None
) -> Scenario:
    """Load a scenario file (deep-merged over the packaged default); ``None`` → the default scenario.

    ``seed``, ``scale`` and ``days`` override the file. Raises :class:`ScenarioError` naming the field.
    """
    if path is None:
        return scenario_from_mapping({}, seed=seed, scale=scale, days=days, name="default")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"cannot read {path}: {exc.strerror}", field="path") from exc
    data = _parse_yaml(text, str(path))
    return scenario_from_mapping(data, seed=seed, scale=scale, days=days, name=Path(path).stem)
