"""The people and businesses of a simulated world, drawn once at the start of a run.

Every party the run will ever have gets its row here, including those who register later (organic
arrivals, synthetic identities, fraud rings, a launch burst): ``registered_day`` says when they appear.
Rows of borrower-capable parties are laid out ``[consumers | riders | merchants | suppliers]`` and align with
:class:`fengkong.sim.latent.LatentState`. Party ID numbers are a random permutation of the rows, so an ID
says nothing about how the party was made (a fraud ring is not a block of consecutive IDs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from fengkong.sim.latent import LatentState
from fengkong.sim.scenario import Scenario

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

KIND_CONSUMER, KIND_RIDER, KIND_MERCHANT, KIND_SUPPLIER = 0, 1, 2, 3
KIND_NAMES = ("consumer", "rider", "merchant", "supplier")

ATTACK_NONE, ATTACK_RING, ATTACK_SYNTHETIC, ATTACK_BUST_OUT, ATTACK_ROTATION, ATTACK_TAKEOVER = range(6)
ATTACK_NAMES = ("none", "ring", "synthetic", "bust_out", "device_rotation", "account_takeover")

SEGMENTS = ("restaurant", "snack", "shop", "hotel")
SCAM_KINDS = ("order_brushing", "fake_investment", "fake_loan", "fake_customer_service", "other")
CATEGORIES = ("food", "hotel", "shop")


def seeded(seed: int, *key: int) -> np.random.Generator:
    """A generator for one stream of the run: same seed and key → same draws, whatever ran before."""
    return np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=key))


def lognormal_sigma(cv: float) -> float:
    """The log-normal sigma with coefficient of variation ``cv``."""
    return math.sqrt(math.log1p(cv * cv))


def ring_sizes(rng: np.random.Generator, members: int, median: float, p95: float, size_max: int) -> IntArray:
    """Heavy-tailed ring sizes (log-normal through ``median`` and ``p95``) summing to ``members``."""
    if members <= 0:
        return np.zeros(0, dtype=np.int64)
    sigma = (math.log(p95) - math.log(median)) / 1.6448536269514722
    sizes = np.zeros(0, dtype=np.int64)
    while int(sizes.sum()) < members:
        draw = np.rint(rng.lognormal(math.log(median), sigma, size=max(16, members // 4)))
        sizes = np.concatenate([sizes, np.clip(draw, 2, size_max).astype(np.int64)])
    total = np.cumsum(sizes)
    count = int(np.searchsorted(total, members)) + 1
    sizes = sizes[:count].copy()
    sizes[-1] -= int(total[count - 1]) - members
    if sizes[-1] < 2 and count > 1:  # a ring of one is no ring: fold the remainder into the previous ring
        sizes[-2] += sizes[-1]
        sizes = sizes[:-1]
    return sizes


def ids_with_prefix(prefix: str, numbers: IntArray, width: int) -> pa.Array:
    digits = pc.utf8_lpad(pc.cast(pa.array(numbers, type=pa.int64()), pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(pa.scalar(prefix), digits, "")


def _split(total: int, weights: tuple[float, ...]) -> list[int]:
    """Largest-remainder split of ``total`` by ``weights`` (conserves the total)."""
    weight = np.asarray(weights, dtype=np.float64)
    exact = total * weight / weight.sum()
    floors = np.floor(exact).astype(np.int64)
    remainder = total - int(floors.sum())
    order = np.argsort(-(exact - floors), kind="stable")
    floors[order[:remainder]] += 1
    return [int(value) for value in floors]


@dataclass(slots=True)
class Consumers:
    """Per-consumer drivers besides the latent state (rows 0..n-1 of the latent state)."""

    intrinsic_logit: FloatArray  # risk before shocks
    risk_z: FloatArray  # intrinsic risk in standard deviations (behaviour links use it)
    income_base_fen: IntArray
    order_rate: FloatArray  # orders a day before shocks
    ticket_scale: FloatArray  # ticket multiplier from income
    login_rate: FloatArray
    device: IntArray  # current device number
    ip: IntArray  # home IP as an integer
    phone: IntArray  # 7-digit phone suffix
    birth_year: IntArray
    city_tier: IntArray
    shock_day: IntArray  # last income shock (−1 none)
    scam_kind: IntArray  # index into SCAM_KINDS (−1 none)


@dataclass(slots=True)
class Riders:
    intrinsic_logit: FloatArray
    activity_class: IntArray
    base_volume: FloatArray  # orders per active day at the start
    growth_monthly: FloatArray  # log-volume trend a month
    pay_factor: FloatArray
    risk_z: FloatArray
    device: IntArray
    ip: IntArray
    phone: IntArray
    birth_year: IntArray
    city_tier: IntArray


@dataclass(slots=True)
class Merchants:
    intrinsic_logit: FloatArray
    segment: IntArray  # index into SEGMENTS
    is_chain: BoolArray
    city_tier: IntArray
    base_revenue_fen: FloatArray  # expected daily revenue at the start
    quality: FloatArray  # mean stars now
    quality_start: FloatArray
    month_factor: FloatArray
    decline_factor: FloatArray
    cash_days: FloatArray
    closure_daily: FloatArray  # base daily closure hazard
    surge_day: IntArray  # −1 none
    owner: IntArray  # merchant row whose owner person owns this one (itself, or its chain's first shop)


@dataclass(slots=True)
class Suppliers:
    intrinsic_logit: FloatArray
    enterprise: IntArray  # index of the core enterprise it supplies
    trade_scale: FloatArray


@dataclass(slots=True)
class Population:
    """The whole cast: latent state plus per-kind drivers and the identifier tables."""

    state: LatentState
    consumers: Consumers
    riders: Riders
    merchants: Merchants
    suppliers: Suppliers
    n_consumers: int
    n_riders: int
    n_merchants: int
    n_suppliers: int
    n_enterprises: int
    rider_offset: int
    merchant_offset: int
    supplier_offset: int
    party_ids: pa.Array  # aligned with the latent rows
    enterprise_ids: pa.Array
    owner_ids: pa.Array  # merchant owners (persons), aligned with merchants
    owner_households: pa.Array
    ring_count: int

    @property
    def size(self) -> int:
        return len(self.state)


def device_number(party_row: IntArray, day: int, total_rows: int) -> IntArray:
    """A device that appears for the first time on ``day`` for ``party_row`` (unique across the run)."""
    return (day + 1) * total_rows + party_row


def build_population(scenario: Scenario) -> Population:
    """Draw every party of the world (deterministic in the scenario's seed)."""
    size = scenario.size
    days = scenario.days
    seed = scenario.seed
    fraud = scenario.fraud
    rng = seeded(seed, 0, 0)

    # -- how many consumers of each origin ---------------------------------------------------------
    base = size.consumers
    n_organic = round(scenario.population.arrivals_monthly_share * base * days / 30)
    fraud_count = round(fraud.share_of_consumers * (base + n_organic))  # of everyone but a launch burst
    mix = fraud.tactic_mix
    n_ring, n_synthetic, n_bust, n_rotation = _split(
        fraud_count, (mix.ring, mix.synthetic, mix.bust_out, mix.device_rotation)
    )
    n_real_base = base - n_bust - n_rotation
    burst = fraud.burst
    burst_days = 0 if burst is None else min(burst.days, days - burst.start_day)
    n_burst = 0 if burst is None else round(burst.arrivals_per_day_share * base * burst_days)
    n_burst_fraud = 0 if burst is None else round(n_burst * burst.fraud_share)
    n_burst_ring, n_burst_synthetic = _split(n_burst_fraud, (mix.ring, mix.synthetic + mix.device_rotation))
    n_burst_real = n_burst - n_burst_fraud

    last_day = max(days - 1, 0)
    blocks: list[tuple[int, int, int, int]] = []  # (count, attack kind, first registration day, last)
    blocks.append((n_real_base, ATTACK_NONE, 0, 0))
    blocks.append((n_bust, ATTACK_BUST_OUT, 0, 0))
    blocks.append((n_rotation, ATTACK_ROTATION, 0, 0))
    low, high = fraud.synthetic_arrival_days
    blocks.append((n_synthetic, ATTACK_SYNTHETIC, min(low, last_day), min(high, last_day)))
    blocks.append((n_organic, ATTACK_NONE, min(1, last_day), last_day))
    if burst is not None:
        end = burst.start_day + burst_days - 1
        blocks.append((n_burst_real, ATTACK_NONE, burst.start_day, end))
        blocks.append((n_burst_synthetic, ATTACK_SYNTHETIC, burst.start_day, end))
    n_plain = sum(block[0] for block in blocks)
    attack = np.concatenate([np.full(count, kind, dtype=np.int64) for count, kind, _, _ in blocks])
    registered = np.concatenate(
        [rng.integers(first, last + 1, size=count).astype(np.int64) for count, _, first, last in blocks]
    )

    # rings: heavy-tailed sizes, members registering in a burst around the ring's start
    ring_rng = seeded(seed, 0, 1)
    sizes = ring_sizes(ring_rng, n_ring, fraud.ring_size_median, fraud.ring_size_p95, fraud.ring_size_max)
    burst_sizes = ring_sizes(
        ring_rng, n_burst_ring, fraud.ring_size_median, fraud.ring_size_p95, fraud.ring_size_max
    )
    all_sizes = np.concatenate([sizes, burst_sizes])
    ring_count = int(all_sizes.shape[0])
    ring_of_member = np.repeat(np.arange(ring_count, dtype=np.int64), all_sizes)
    ring_start = np.concatenate(
        [
            ring_rng.integers(0, last_day + 1, size=sizes.shape[0]),
            ring_rng.integers(
                0 if burst is None else burst.start_day,
                (0 if burst is None else burst.start_day + burst_days - 1) + 1,
                size=burst_sizes.shape[0],
            ),
        ]
    ).astype(np.int64)
    spread = ring_rng.integers(0, fraud.ring_registration_spread_days, size=ring_of_member.shape[0])
    ring_registered = np.minimum(ring_start[ring_of_member] + spread, last_day).astype(np.int64)
    n_ring_members = int(ring_of_member.shape[0])

    n_consumers = n_plain + n_ring_members
    attack = np.concatenate([attack, np.full(n_ring_members, ATTACK_RING, dtype=np.int64)])
    registered = np.concatenate([registered, ring_registered])
    ring_id = np.concatenate([np.full(n_plain, -1, dtype=np.int64), ring_of_member])
    # shuffle the rows, so that nothing derived from a row (addresses, phones, devices) reveals its origin
    shuffle = seeded(seed, 0, 12).permutation(n_consumers)
    attack, registered, ring_id = attack[shuffle], registered[shuffle], ring_id[shuffle]
    is_fraud = np.isin(attack, (ATTACK_RING, ATTACK_SYNTHETIC, ATTACK_BUST_OUT, ATTACK_ROTATION))

    n_riders = size.riders
    n_merchants = size.merchants
    n_enterprises = size.core_enterprises
    n_suppliers = size.core_enterprises * size.suppliers_per_enterprise
    rider_offset = n_consumers
    merchant_offset = rider_offset + n_riders
    supplier_offset = merchant_offset + n_merchants
    total = supplier_offset + n_suppliers

    consumers = _consumers(scenario, n_consumers, is_fraud, seeded(seed, 0, 2))
    # ring members share a small pool of devices, phones and home addresses of the ring's own members
    pool_rng = seeded(seed, 0, 3)
    ring_rows = np.flatnonzero(ring_id >= 0)
    if ring_rows.size:
        ring_rows = ring_rows[np.argsort(ring_id[ring_rows], kind="stable")]  # grouped by ring
        members = ring_id[ring_rows]
        first = np.searchsorted(members, members)  # position of each ring's first member
        ring_sizes_of = all_sizes[members].astype(np.float64)
        device_pool = np.maximum(1, np.ceil(ring_sizes_of * fraud.ring_devices_per_member)).astype(np.int64)
        phone_pool = np.maximum(1, np.ceil(ring_sizes_of * fraud.ring_phones_per_member)).astype(np.int64)
        ip_pool = np.maximum(1, np.ceil(ring_sizes_of / 50.0)).astype(np.int64)
        device_slot = (pool_rng.random(ring_rows.size) * device_pool).astype(np.int64)
        phone_slot = (pool_rng.random(ring_rows.size) * phone_pool).astype(np.int64)
        ip_slot = (pool_rng.random(ring_rows.size) * ip_pool).astype(np.int64)
        consumers.device[ring_rows] = consumers.device[ring_rows[first + device_slot]]
        consumers.phone[ring_rows] = consumers.phone[ring_rows[first + phone_slot]]
        consumers.ip[ring_rows] = consumers.ip[ring_rows[first + ip_slot]]

    # account takeovers and scams hit real, registered consumers
    hazard_rng = seeded(seed, 0, 4)
    real = ~is_fraud
    attack_day = np.where(is_fraud, registered, -1).astype(np.int64)
    bust_low, bust_high = fraud.bust_out_day_range
    bust_rows = attack == ATTACK_BUST_OUT
    attack_day[bust_rows] = hazard_rng.integers(bust_low, bust_high + 1, size=int(bust_rows.sum()))
    takeover_day = _first_event_day(hazard_rng, n_consumers, fraud.account_takeover_monthly / 30, days)
    takeover = real & (takeover_day >= 0) & (takeover_day > registered)
    attack[takeover] = ATTACK_TAKEOVER
    attack_day[takeover] = takeover_day[takeover]
    scam_day = _first_event_day(hazard_rng, n_consumers, fraud.scam_monthly / 30, days)
    scam_day = np.where(real & ~takeover & (scam_day > registered), scam_day, -1).astype(np.int64)
    scam_mix = fraud.scam_mix
    weights = np.array(
        [
            scam_mix.order_brushing,
            scam_mix.fake_investment,
            scam_mix.fake_loan,
            scam_mix.fake_customer_service,
            scam_mix.other,
        ]
    )
    kinds = hazard_rng.choice(len(SCAM_KINDS), size=n_consumers, p=weights / weights.sum())
    consumers.scam_kind = np.where(scam_day >= 0, kinds, -1).astype(np.int64)

    # thin file: drawn independently of risk; synthetic identities and ring members have no bureau record
    thin_rng = seeded(seed, 0, 5)
    thin = thin_rng.random(total) < scenario.population.thin_file_share
    thin[:n_consumers] |= np.isin(attack, (ATTACK_RING, ATTACK_SYNTHETIC, ATTACK_ROTATION))
    thin[merchant_offset:] = True  # businesses get no personal bureau report

    riders = _riders(scenario, n_riders, seeded(seed, 0, 6))
    merchants = _merchants(scenario, n_merchants, seeded(seed, 0, 7))
    suppliers = _suppliers(scenario, n_enterprises, size.suppliers_per_enterprise, seeded(seed, 0, 8))

    # identifiers: shuffled numbers per kind, so that IDs do not reveal the order of creation
    id_rng = seeded(seed, 0, 9)
    consumer_numbers = id_rng.permutation(n_consumers).astype(np.int64) + 1
    rider_numbers = id_rng.permutation(n_riders).astype(np.int64) + 1
    merchant_numbers = id_rng.permutation(n_merchants).astype(np.int64) + 1
    supplier_numbers = id_rng.permutation(n_suppliers).astype(np.int64) + 1
    party_ids = pa.concat_arrays(
        [
            ids_with_prefix("C", consumer_numbers, 7),
            ids_with_prefix("R", rider_numbers, 6),
            ids_with_prefix("M", merchant_numbers, 6),
            ids_with_prefix("S", supplier_numbers, 6),
        ]
    )
    enterprise_ids = ids_with_prefix("E", np.arange(1, n_enterprises + 1, dtype=np.int64), 5)
    owner_ids = ids_with_prefix("P", merchant_numbers, 6)

    households = _households(scenario, n_consumers, seeded(seed, 0, 10))
    rider_households = np.arange(n_riders, dtype=np.int64) + int(households.max(initial=0)) + 1
    household_numbers = np.concatenate([households, rider_households])
    household_strings = ids_with_prefix("H", household_numbers, 7)
    business_households = pa.array([""] * (n_merchants + n_suppliers), type=pa.string())
    owner_households = ids_with_prefix(
        "H", np.arange(n_merchants, dtype=np.int64) + int(household_numbers.max(initial=0)) + 1, 7
    )

    kind = np.concatenate(
        [
            np.full(n_consumers, KIND_CONSUMER),
            np.full(n_riders, KIND_RIDER),
            np.full(n_merchants, KIND_MERCHANT),
            np.full(n_suppliers, KIND_SUPPLIER),
        ]
    ).astype(np.int64)
    risk_logit = np.concatenate(
        [
            consumers.intrinsic_logit,
            riders.intrinsic_logit,
            merchants.intrinsic_logit,
            suppliers.intrinsic_logit,
        ]
    )
    full_attack = np.zeros(total, dtype=np.int64)
    full_attack[:n_consumers] = attack
    full_attack_day = np.full(total, -1, dtype=np.int64)
    full_attack_day[:n_consumers] = attack_day
    full_ring = np.full(total, -1, dtype=np.int64)
    full_ring[:n_consumers] = ring_id
    full_fraud = np.zeros(total, dtype=np.bool_)
    full_fraud[:n_consumers] = is_fraud
    full_scam = np.full(total, -1, dtype=np.int64)
    full_scam[:n_consumers] = scam_day
    full_registered = np.zeros(total, dtype=np.int64)
    full_registered[:n_consumers] = registered
    state = LatentState(
        party_id=np.asarray(party_ids.to_numpy(zero_copy_only=False), dtype=np.str_),
        kind=kind,
        risk_logit=risk_logit.astype(np.float64),
        monthly_income_fen=np.zeros(total, dtype=np.int64),
        thin_file=thin,
        fraud=full_fraud,
        scam_day=full_scam,
        household_id=np.asarray(
            pa.concat_arrays([household_strings, business_households]).to_numpy(zero_copy_only=False),
            dtype=np.str_,
        ),
        registered_day=full_registered,
        closed_day=np.full(total, -1, dtype=np.int64),
        ring_id=full_ring,
        attack_kind=full_attack,
        attack_day=full_attack_day,
    )
    state.validate()
    return Population(
        state=state,
        consumers=consumers,
        riders=riders,
        merchants=merchants,
        suppliers=suppliers,
        n_consumers=n_consumers,
        n_riders=n_riders,
        n_merchants=n_merchants,
        n_suppliers=n_suppliers,
        n_enterprises=n_enterprises,
        rider_offset=rider_offset,
        merchant_offset=merchant_offset,
        supplier_offset=supplier_offset,
        party_ids=party_ids,
        enterprise_ids=enterprise_ids,
        owner_ids=owner_ids,
        owner_households=owner_households,
        ring_count=ring_count,
    )


def _first_event_day(rng: np.random.Generator, count: int, daily: float, days: int) -> IntArray:
    """Day of the first event of a daily Bernoulli hazard (−1 when it does not happen within ``days``)."""
    if daily <= 0:
        return np.full(count, -1, dtype=np.int64)
    day = rng.geometric(min(daily, 1.0), size=count).astype(np.int64) - 1
    return np.where(day < days, day, -1).astype(np.int64)


def _ip(a: int, b: int, c: int, d: IntArray | int) -> IntArray:
    return np.asarray((a << 24) | (b << 16) | (c << 8) | np.asarray(d, dtype=np.int64), dtype=np.int64)


def _home_ips(rows: IntArray) -> IntArray:
    """Synthetic residential addresses 10.x.y.z (never contacted), one per party row."""
    return np.asarray((10 << 24) | (rows + 1), dtype=np.int64)


def _phones(rows: IntArray) -> IntArray:
    """7-digit suffixes, a bijection of the row (7919 is prime to 10**7)."""
    return np.asarray((rows * 7919 + 1_234_567) % 10_000_000, dtype=np.int64)


def _consumers(scenario: Scenario, count: int, is_fraud: BoolArray, rng: np.random.Generator) -> Consumers:
    risk = scenario.risk
    spec = scenario.consumers
    z = rng.standard_normal(count)
    intrinsic = risk.consumer_logit_mean + risk.consumer_logit_sd * z
    income = spec.income_median_yuan * 100 * rng.lognormal(0.0, spec.income_sigma, size=count)
    order_rate = spec.orders_per_day_median * rng.lognormal(0.0, spec.orders_per_day_sigma, size=count)
    order_rate = np.where(is_fraud, order_rate * 0.2, order_rate)  # synthetic identities barely buy
    ticket_scale = (income / (spec.income_median_yuan * 100)) ** spec.ticket_income_elasticity
    login_rate = spec.logins_per_day * rng.lognormal(0.0, 0.5, size=count)
    rows = np.arange(count, dtype=np.int64)
    years = scenario.population.birth_year_range
    tiers = np.asarray(scenario.population.city_tier_weights)
    return Consumers(
        intrinsic_logit=intrinsic,
        risk_z=z,
        income_base_fen=np.rint(income).astype(np.int64),
        order_rate=order_rate,
        ticket_scale=ticket_scale,
        login_rate=login_rate,
        device=rows.copy(),
        ip=_home_ips(rows),
        phone=_phones(rows),
        birth_year=rng.integers(years[0], years[1] + 1, size=count).astype(np.int64),
        city_tier=(rng.choice(5, size=count, p=tiers / tiers.sum()) + 1).astype(np.int64),
        shock_day=np.full(count, -1, dtype=np.int64),
        scam_kind=np.full(count, -1, dtype=np.int64),
    )


def _households(scenario: Scenario, count: int, rng: np.random.Generator) -> IntArray:
    weights = np.asarray(scenario.population.household_size_weights)
    sizes = rng.choice(len(weights), size=count, p=weights / weights.sum()) + 1
    household = np.repeat(np.arange(sizes.shape[0], dtype=np.int64), sizes)[:count]
    return rng.permutation(household).astype(np.int64) + 1


def _riders(scenario: Scenario, count: int, rng: np.random.Generator) -> Riders:
    spec = scenario.riders
    risk = scenario.risk
    z = rng.standard_normal(count)
    weights = np.asarray(spec.activity_class_weights)
    rows = np.arange(count, dtype=np.int64) + 5_000_000  # rider rows get their own phone/IP block
    years = scenario.population.birth_year_range
    tiers = np.asarray(scenario.population.city_tier_weights)
    return Riders(
        intrinsic_logit=risk.rider_logit_mean + risk.rider_logit_sd * z,
        activity_class=rng.choice(3, size=count, p=weights / weights.sum()).astype(np.int64),
        base_volume=spec.orders_per_active_day * rng.lognormal(0.0, spec.volume_sigma, size=count),
        growth_monthly=spec.growth_monthly_sd * rng.standard_normal(count),
        pay_factor=rng.lognormal(0.0, spec.pay_sigma, size=count),
        risk_z=z,
        device=rows + (1 << 45),  # never collides with consumer device numbers
        ip=_home_ips(rows),
        phone=_phones(rows),
        birth_year=rng.integers(max(years[0], 1965), years[1] + 1, size=count).astype(np.int64),
        city_tier=(rng.choice(5, size=count, p=tiers / tiers.sum()) + 1).astype(np.int64),
    )


def _merchants(scenario: Scenario, count: int, rng: np.random.Generator) -> Merchants:
    spec = scenario.merchants
    risk = scenario.risk
    weights = np.asarray(list(spec.segment_weights.model_dump().values()))
    segment = rng.choice(len(SEGMENTS), size=count, p=weights / weights.sum()).astype(np.int64)
    is_chain = rng.random(count) < spec.chain_share
    # chains: consecutive chain merchants grouped into chains of geometric size; one owner per chain
    owner = np.arange(count, dtype=np.int64)
    chain_rows = np.flatnonzero(is_chain)
    if chain_rows.size:
        sizes = rng.geometric(1.0 / spec.chain_size_mean, size=chain_rows.size)
        starts = np.cumsum(sizes) - sizes
        starts = starts[starts < chain_rows.size]
        chain_of = np.searchsorted(starts, np.arange(chain_rows.size), side="right") - 1
        owner[chain_rows] = chain_rows[starts[chain_of]]
    tiers = np.asarray(scenario.population.city_tier_weights)
    city_tier = (rng.choice(5, size=count, p=tiers / tiers.sum()) + 1).astype(np.int64)
    medians = np.asarray([getattr(spec.daily_revenue_median_yuan, name) for name in SEGMENTS]) * 100
    quality = np.clip(spec.quality_mean + spec.quality_sd * rng.standard_normal(count), 1.0, 5.0)
    base_revenue = medians[segment] * rng.lognormal(0.0, spec.revenue_sigma, size=count)
    annual = np.asarray([getattr(spec.closure_annual, name) for name in SEGMENTS])[segment]
    annual = np.where(city_tier == 1, np.maximum(annual, spec.tier1_closure_annual), annual)
    annual = np.where(is_chain, spec.chain_closure_annual, annual)
    closure_daily = 1.0 - (1.0 - annual) ** (1.0 / 365.0)
    return Merchants(
        intrinsic_logit=risk.merchant_logit_mean + risk.merchant_logit_sd * rng.standard_normal(count),
        segment=segment,
        is_chain=is_chain,
        city_tier=city_tier,
        base_revenue_fen=base_revenue,
        quality=quality,
        quality_start=quality.copy(),
        month_factor=np.ones(count),
        decline_factor=np.ones(count),
        cash_days=spec.cash_buffer_days_median * rng.lognormal(0.0, spec.cash_buffer_sigma, size=count),
        closure_daily=closure_daily,
        surge_day=np.full(count, -1, dtype=np.int64),
        owner=owner,
    )


def _suppliers(
    scenario: Scenario, enterprises: int, per_enterprise: int, rng: np.random.Generator
) -> Suppliers:
    count = enterprises * per_enterprise
    risk = scenario.risk
    return Suppliers(
        intrinsic_logit=risk.supplier_logit_mean + risk.supplier_logit_sd * rng.standard_normal(count),
        enterprise=np.repeat(np.arange(enterprises, dtype=np.int64), per_enterprise),
        trade_scale=rng.lognormal(0.0, 0.5, size=count),
    )
