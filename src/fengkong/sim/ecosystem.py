"""The simulated ecosystem: a world that moves one day at a time and reports what happened as events.

Each :meth:`Ecosystem.step` first moves the latent drivers (macro shock, drift, income shocks, riders'
volume trends and churn, merchants' review surges, revenue, cash and closures), then generates the day's
events from them — all vectorised with numpy and Arrow, never one Python iteration per event:

* ``party_registered`` for every party on day 0 and for later arrivals on their day;
* consumers: ``login``, ``order_placed``, ``payment_made`` (orders, top-ups, bills, transfers — and the
  transfer out to an unknown account of a scam victim or a taken-over account), ``order_refunded``,
  ``review_posted``; their food orders are delivered by riders (``delivery_completed`` with the consumer);
* riders: the rest of their day's deliveries (orders of platform customers outside the lender's base);
* merchants: ``merchant_settlement`` of the day's takings;
* core enterprises and suppliers: ``trade_record`` (purchase order → delivery receipt → invoice, with
  forged and double-presented invoices);
* thick-file persons: ``bureau_report`` at registration and on the first day of each month.

The causal links the events carry: a rider's volume trend (visible in ``delivery_completed``) lowers or
raises their ``risk_logit``; a merchant's bad-review surge (visible in ``review_posted``) is followed by
falling revenue (``merchant_settlement``), a draining cash buffer, a higher closure hazard and a higher
``risk_logit``; consumers' spending and income volatility, night ordering, BNPL use and refunds rise with
their latent risk; income shocks cut spending and raise risk; the macro shock multiplies hazards; drift
changes the behaviour coefficients from a given month.

Ground truth of each day (:meth:`Ecosystem.ground_truth_day`) is kept apart from the events.
Times: a day is a business day in Asia/Shanghai; ``occurred_at`` falls within it and is stored in UTC.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator, Mapping
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from fengkong import bounds
from fengkong.clock import start_of_business_day
from fengkong.errors import BoundExceededError
from fengkong.sim.latent import LatentState
from fengkong.sim.population import (
    ATTACK_NAMES,
    ATTACK_ROTATION,
    ATTACK_SYNTHETIC,
    ATTACK_TAKEOVER,
    KIND_NAMES,
    SCAM_KINDS,
    SEGMENTS,
    Population,
    build_population,
    device_number,
    lognormal_sigma,
    seeded,
)
from fengkong.sim.scenario import BehaviourSection, Scenario
from fengkong.sim.tables import Column, build_table, empty_table, money, numbered, pick, timestamps

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: The event types the ecosystem produces (the rest — applications, draws, repayments — come from the
#: borrower-response model).
ECOSYSTEM_EVENT_TYPES: tuple[str, ...] = (
    "bureau_report",
    "delivery_completed",
    "login",
    "merchant_settlement",
    "order_placed",
    "order_refunded",
    "party_registered",
    "payment_made",
    "review_posted",
    "trade_record",
)

#: Event-ID prefixes: ``f"{prefix}-{day}-{block}-{sequence}"``.
EVENT_PREFIX: dict[str, str] = {
    "bureau_report": "bur",
    "delivery_completed": "dlv",
    "login": "lgn",
    "merchant_settlement": "stl",
    "order_placed": "ord",
    "order_refunded": "rfd",
    "party_registered": "reg",
    "payment_made": "pay",
    "review_posted": "rev",
    "trade_record": "trd",
}

#: Names of the ground-truth tables (``<out>/truth/<name>.parquet``).
TRUTH_TABLES: tuple[str, ...] = (
    "closures",
    "forged_records",
    "fraud_labels",
    "income_shocks",
    "parties",
    "review_surges",
    "risk_snapshots",
    "scam_victims",
)

_US = 1_000_000
_DAY_US = 86_400 * _US
_EPOCH = date(1970, 1, 1)
_CATEGORY_SEGMENTS = ((0, 1), (3,), (2,))  # food: restaurant, snack; hotel: hotel; shop: shop
_SEGMENT_TICKET = ("food", "food", "shop", "hotel")
_LOGIN_METHODS = ("token", "password", "face", "sms")
_PAY_METHODS = ("wallet", "bnpl", "card")
_DELIVERY_STATUS = ("on_time", "late", "cancelled")
_REFUND_REASONS = ("cancelled", "quality", "late", "other")
_PURPOSES = ("order", "transfer_out", "topup", "bill")
_RECORD_KINDS = ("purchase_order", "delivery_receipt", "invoice")
_SHARED_IPS = 20  # popular addresses (carrier NAT, offices) in 192.0.2.0/24 shared by honest users


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def _sigmoid(x: FloatArray) -> FloatArray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)), dtype=np.float64)


def ip_strings(addresses: IntArray) -> pa.Array:
    """Dotted-quad strings of integer IPv4 addresses (vectorised)."""
    parts = [
        pc.cast(pa.array((addresses >> shift) & 255, type=pa.int64()), pa.string())
        for shift in (24, 16, 8, 0)
    ]
    return pc.binary_join_element_wise(*parts, ".")


def device_strings(devices: IntArray) -> pa.Array:
    """Opaque device identifiers: a bijective scramble of the device number, so that numbering (which
    follows rows and days) is not visible in the data."""
    mixed = devices.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    mixed ^= mixed >> np.uint64(29)
    mixed *= np.uint64(0xBF58476D1CE4E5B9)
    mixed ^= mixed >> np.uint64(32)
    digits = pc.cast(pa.array(mixed, type=pa.uint64()), pa.string())
    return pc.binary_join_element_wise(pa.scalar("dv-"), digits, "")


class Ecosystem:
    """A simulated world, advanced one day per :meth:`step`.

    * ``state`` — the :class:`~fengkong.sim.latent.LatentState` (one row per borrower-capable party,
      including parties that register later: see ``state.registered_day``), updated in place each day;
    * ``day`` — days simulated so far; :meth:`current_date` is the date the next :meth:`step` simulates;
    * :meth:`step` — simulate one day; returns that day's events by event type, each table in exactly
      ``domain.events.column_layout(event_type)`` (every type of :data:`ECOSYSTEM_EVENT_TYPES` is present,
      possibly empty);
    * :meth:`ground_truth_day` — the truth rows of the day last simulated, by :data:`TRUTH_TABLES` name.

    ``chunk_parties`` bounds how many consumers are simulated together (memory; :meth:`iter_step` yields
    the pieces). The latent dynamics do not depend on it; consumers' events are drawn from per-chunk
    streams, so another chunk size gives another sample of the same behaviour (fixed chunking ⇒ same bytes).
    """

    def __init__(self, scenario: Scenario, *, chunk_parties: int = bounds.sim_chunk_parties_max) -> None:
        if not 1 <= chunk_parties <= bounds.sim_chunk_parties_max:
            raise BoundExceededError("sim_chunk_parties_max", bounds.sim_chunk_parties_max, chunk_parties)
        self.scenario = scenario
        self.population: Population = build_population(scenario)
        self.state: LatentState = self.population.state
        self.day = 0
        self.chunk_parties = chunk_parties
        self._truth: dict[str, list[pa.Table]] = {}
        self._pending: dict[int, list[tuple[IntArray, IntArray, IntArray, IntArray]]] = defaultdict(list)
        self._pending_count = 0
        self._trade_counter = 0
        self._record_counter = 0
        hours = np.asarray(scenario.events.hour_weights, dtype=np.float64)
        day_hours = hours.copy()
        day_hours[[23, 0, 1, 2, 3, 4]] = 0.0
        self._hour_cdf = np.cumsum(hours) / hours.sum()
        self._day_hour_cdf = np.cumsum(day_hours) / day_hours.sum()
        n = self.population.n_consumers
        self._ring_hour = seeded(scenario.seed, 0, 11).integers(
            7, 22, size=max(self.population.ring_count, 1)
        )
        self._rider_target = np.zeros(self.population.n_riders, dtype=np.int64)
        self._rider_assigned = np.zeros(self.population.n_riders, dtype=np.int64)
        self._rider_cdf = np.zeros(0)
        self._merchant_cdf: list[tuple[IntArray, FloatArray]] = []
        self._revenue_today = np.zeros(self.population.n_merchants)
        self._expected_revenue = self.population.merchants.base_revenue_fen.copy()
        self._consumer_index = np.arange(n, dtype=np.int64)

    # -- public API ---------------------------------------------------------------------------------------

    def current_date(self) -> date:
        """The business date the next :meth:`step` simulates."""
        return self.date_of(self.day)

    def date_of(self, day: int) -> date:
        return self.scenario.start_date + timedelta(days=day)

    def month_of(self, day: int) -> int:
        """Calendar-month index of ``day`` counted from the start month (0 = the first month)."""
        start = self.scenario.start_date
        today = self.date_of(day)
        return (today.year - start.year) * 12 + today.month - start.month

    def step(self) -> dict[str, pa.Table]:
        """Simulate one day; its events by type, each in exactly ``column_layout(event_type)``."""
        pieces: dict[str, list[pa.Table]] = {name: [] for name in ECOSYSTEM_EVENT_TYPES}
        for event_type, table in self.iter_step():
            pieces[event_type].append(table)
        return {
            name: pa.concat_tables(tables) if tables else empty_table(name) for name, tables in pieces.items()
        }

    def ground_truth_day(self) -> dict[str, pa.Table]:
        """Truth rows of the day last simulated (fraud labels, scam victims, forged records, closures,
        review surges, new parties' latent rows, month-end risk snapshots), by :data:`TRUTH_TABLES` name.
        Tables with no rows that day are absent."""
        return {name: pa.concat_tables(tables) for name, tables in sorted(self._truth.items()) if tables}

    def iter_step(self) -> Iterator[tuple[str, pa.Table]]:
        """Simulate one day, yielding ``(event_type, table)`` pieces (several per type at large scale).

        Consume it to the end: the day counter advances when the last piece has been yielded.
        """
        day = self.day
        if day >= bounds.sim_days_max:
            raise BoundExceededError("sim_days_max", bounds.sim_days_max, day + 1)
        self._truth = defaultdict(list)
        self._start_day(day)
        yield from self._registrations(day)
        population = self.population
        for chunk, low in enumerate(range(0, population.n_consumers, self.chunk_parties)):
            high = min(low + self.chunk_parties, population.n_consumers)
            yield from self._consumer_chunk(day, chunk, low, high)
        yield from self._rider_deliveries(day)
        yield from self._settlements(day)
        yield from self._trades(day)
        yield from self._bureau(day)
        self._snapshot(day)
        self.day = day + 1

    # -- helpers ------------------------------------------------------------------------------------------

    def _rng(self, day: int, stream: int, chunk: int = 0) -> np.random.Generator:
        return seeded(self.scenario.seed, 1, day, stream, chunk)

    def _day_start_us(self, day: int) -> int:
        start = start_of_business_day(self.date_of(day))
        return int(start.timestamp()) * _US

    def _times(self, rng: np.random.Generator, day: int, count: int, *, daytime: bool = False) -> IntArray:
        """Occurrence instants (µs since the epoch, UTC) within business day ``day``."""
        cdf = self._day_hour_cdf if daytime else self._hour_cdf
        hour = np.searchsorted(cdf, rng.random(count), side="right").astype(np.int64)
        hour = np.minimum(hour, 23)
        offset = rng.integers(0, 3_600 * _US, size=count)
        return self._day_start_us(day) + hour * 3_600 * _US + offset

    def _received(self, rng: np.random.Generator, occurred: IntArray) -> IntArray:
        spec = self.scenario.events
        count = occurred.shape[0]
        delay: FloatArray = np.asarray(spec.delay_median_seconds * rng.lognormal(0.0, 1.0, size=count))
        late = rng.random(count) < spec.late_share
        hours = rng.uniform(spec.late_hours[0], spec.late_hours[1], size=count)
        delay = np.where(late, delay + hours * 3_600.0, delay)
        received: IntArray = occurred + np.rint(delay * _US).astype(np.int64)
        return received

    def _clip_to_day(self, day: int, instants: IntArray) -> IntArray:
        start = self._day_start_us(day)
        return np.clip(instants, start, start + _DAY_US - 1)

    def _later(
        self, rng: np.random.Generator, day: int, occurred: IntArray, low_us: int, high_us: int
    ) -> IntArray:
        """Instants ``low_us``–``high_us`` after ``occurred``, folded back into the day if they spill."""
        end = self._day_start_us(day) + _DAY_US - 1
        later = occurred + rng.integers(low_us, high_us, size=occurred.size)
        folded = occurred + (rng.random(occurred.size) * (end - occurred)).astype(np.int64)
        return np.where(later <= end, later, folded)

    def _table(
        self,
        event_type: str,
        day: int,
        block: str,
        rng: np.random.Generator,
        occurred: IntArray,
        columns: Mapping[str, Column],
    ) -> pa.Table:
        count = int(occurred.shape[0])
        base: dict[str, Column] = {
            "event_id": numbered(
                f"{EVENT_PREFIX[event_type]}-{day}-{block}-", np.arange(count, dtype=np.int64)
            ),
            "event_type": pick((event_type,), np.zeros(count, dtype=np.int64)),
            "occurred_at": timestamps(occurred),
            "received_at": timestamps(self._received(rng, occurred)),
            "source": pick(("sim",), np.zeros(count, dtype=np.int64)),
        }
        base.update(columns)
        return build_table(event_type, count, base)

    def _ids(self, rows: IntArray) -> pa.Array:
        return self.population.party_ids.take(pa.array(rows, type=pa.int64()))

    def _truth_add(self, name: str, table: pa.Table) -> None:
        if table.num_rows:
            self._truth[name].append(table)

    # -- the latent dynamics ------------------------------------------------------------------------------

    def _start_day(self, day: int) -> None:
        scenario = self.scenario
        population = self.population
        state = self.state
        month = self.month_of(day)
        macro = scenario.macro_multiplier(month)
        log_macro = math.log(macro)
        behaviour = scenario.behaviour_for_month(month)
        rng = self._rng(day, 0)
        registered = state.registered_day <= day

        # consumers: income shocks raise risk and cut spending, then fade
        c = population.consumers
        spec = scenario.consumers
        n = population.n_consumers
        shock = registered[:n] & (rng.random(n) < spec.income_shock_monthly / 30.0 * macro)
        c.shock_day[shock] = day
        effect = self._shock_effect(day)
        state.risk_logit[:n] = c.intrinsic_logit + spec.income_shock_logit * effect + log_macro
        income_factor = 1.0 - (1.0 - spec.income_shock_income_factor) * effect
        state.monthly_income_fen[:n] = np.rint(c.income_base_fen * income_factor).astype(np.int64)
        self._truth_add(
            "income_shocks",
            pa.table(
                {
                    "party_id": self._ids(np.flatnonzero(shock)),
                    "day": pa.array(np.full(int(shock.sum()), day, dtype=np.int64)),
                }
            ),
        )

        self._riders_start(day, rng, macro, behaviour)
        self._merchants_start(day, rng, macro, behaviour)

        # suppliers: the macro shock moves them too
        s = population.suppliers
        offset = population.supplier_offset
        state.risk_logit[offset:] = s.intrinsic_logit + log_macro
        chain = scenario.supply_chain
        state.monthly_income_fen[offset:] = np.rint(
            s.trade_scale
            * chain.trades_per_supplier_monthly
            * chain.trade_amount_median_yuan
            * 100
            * chain.supplier_margin
        ).astype(np.int64)

    def _shock_effect(self, day: int) -> FloatArray:
        c = self.population.consumers
        recovery = self.scenario.consumers.income_shock_recovery_days
        since = day - c.shock_day
        return np.where((c.shock_day >= 0) & (since < recovery), 1.0 - since / recovery, 0.0)

    def _riders_start(
        self, day: int, rng: np.random.Generator, macro: float, behaviour: BehaviourSection
    ) -> None:
        population = self.population
        state = self.state
        spec = self.scenario.riders
        r = population.riders
        low, high = population.rider_offset, population.merchant_offset
        months = day / 30.0
        open_ = (state.closed_day[low:high] < 0) & (state.registered_day[low:high] <= day)
        churn_monthly = np.asarray(spec.churn_monthly)[r.activity_class]
        hazard = (
            (1.0 - (1.0 - churn_monthly) ** (1.0 / 30.0))
            * np.exp(-spec.churn_growth_elasticity * r.growth_monthly)
            * macro
        )
        quit_ = open_ & (rng.random(r.growth_monthly.shape[0]) < hazard) & (day > 0)
        state.closed_day[low:high][quit_] = day
        quit_rows = np.flatnonzero(quit_) + low
        self._truth_add("closures", self._closure_table(quit_rows, day, "rider_quit"))
        closed = state.closed_day[low:high] >= 0
        volume = r.base_volume * np.exp(r.growth_monthly * months)
        state.risk_logit[low:high] = (
            r.intrinsic_logit
            - behaviour.rider_growth_logit_per_log_volume * r.growth_monthly * months
            + spec.churn_logit * closed
            + math.log(macro)
        )
        active_probability = np.asarray(spec.active_day_probability)[r.activity_class]
        income = spec.pay_per_order_yuan * 100 * r.pay_factor * volume * active_probability * 30
        state.monthly_income_fen[low:high] = np.where(closed, 0, np.rint(income)).astype(np.int64)
        active = open_ & ~quit_ & (rng.random(volume.shape[0]) < active_probability)
        self._rider_target = np.where(active, rng.poisson(np.where(active, volume, 0.0)), 0).astype(np.int64)
        self._rider_assigned = np.zeros_like(self._rider_target)
        total = self._rider_target.sum()
        self._rider_cdf = np.cumsum(self._rider_target) / total if total > 0 else np.zeros(0)

    def _merchants_start(
        self, day: int, rng: np.random.Generator, macro: float, behaviour: BehaviourSection
    ) -> None:
        population = self.population
        state = self.state
        spec = self.scenario.merchants
        m = population.merchants
        low, high = population.merchant_offset, population.supplier_offset
        count = high - low
        open_ = state.closed_day[low:high] < 0
        if day == 0 or self.date_of(day).day == 1:
            sigma = lognormal_sigma(spec.revenue_monthly_cv)
            m.month_factor = rng.lognormal(-sigma * sigma / 2.0, sigma, size=count)
        surge = open_ & (m.surge_day < 0) & (rng.random(count) < spec.review_surge_monthly / 30.0 * macro)
        if surge.any():
            before = m.quality[surge].copy()
            m.quality[surge] = np.maximum(1.0, m.quality[surge] - spec.surge_quality_drop)
            m.surge_day[surge] = day
            self._truth_add(
                "review_surges",
                pa.table(
                    {
                        "party_id": self._ids(np.flatnonzero(surge) + low),
                        "day": pa.array(np.full(int(surge.sum()), day, dtype=np.int64)),
                        "quality_before": pa.array(before),
                        "quality_after": pa.array(m.quality[surge]),
                    }
                ),
            )
        declining = (m.surge_day >= 0) & (day - m.surge_day > spec.surge_decline_lag_days)
        m.decline_factor = np.where(
            declining,
            m.decline_factor * (1.0 - spec.surge_revenue_decline_monthly) ** (1.0 / 30.0),
            m.decline_factor,
        )
        per_star = np.where(
            m.is_chain, math.log1p(spec.revenue_per_star_chain), math.log1p(spec.revenue_per_star_independent)
        )
        expected = m.base_revenue_fen * np.exp(per_star * (m.quality - m.quality_start)) * m.month_factor
        expected = expected * m.decline_factor
        weekday = self.date_of(day).weekday()
        weekend = 1.15 if weekday >= 5 else 0.95
        daily_sigma = lognormal_sigma(spec.revenue_daily_cv)
        revenue = (
            expected * weekend * rng.lognormal(-daily_sigma * daily_sigma / 2.0, daily_sigma, size=count)
        )
        costs = spec.cost_ratio * m.base_revenue_fen * m.month_factor  # costs follow the season, not quality
        m.cash_days = np.where(open_, m.cash_days + (revenue - costs) / costs, m.cash_days)
        surged = m.surge_day >= 0
        hazard = m.closure_daily * macro * np.where(surged, spec.surge_closure_multiplier, 1.0)
        closes_hazard = open_ & (rng.random(count) < hazard)
        closes_cash = open_ & (m.cash_days < 0)
        closes = closes_hazard | closes_cash
        state.closed_day[low:high][closes] = day
        self._truth_add(
            "closures", self._closure_table(np.flatnonzero(closes_cash) + low, day, "cash_exhausted")
        )
        self._truth_add(
            "closures", self._closure_table(np.flatnonzero(closes_hazard & ~closes_cash) + low, day, "closed")
        )
        closed = state.closed_day[low:high] >= 0
        ramp = np.where(surged, np.clip((day - m.surge_day) / 30.0, 0.0, 1.0), 0.0)
        state.risk_logit[low:high] = (
            m.intrinsic_logit
            + spec.surge_logit * ramp
            - behaviour.merchant_decline_logit_per_log_revenue * np.log(m.decline_factor)
            + spec.closure_logit * closed
            + math.log(macro)
        )
        self._expected_revenue = np.where(closed, 0.0, expected)
        self._revenue_today = np.where(closed, 0.0, revenue)
        state.monthly_income_fen[low:high] = np.rint(self._expected_revenue * 30).astype(np.int64)
        # where consumers order today: open merchants weighted by expected revenue, per category
        self._merchant_cdf = []
        for segments in _CATEGORY_SEGMENTS:
            candidates = np.flatnonzero(~closed & np.isin(m.segment, segments)).astype(np.int64)
            weights = expected[candidates]
            total = weights.sum()
            cdf = np.cumsum(weights) / total if total > 0 else np.zeros(0)
            self._merchant_cdf.append((candidates, cdf))

    def _closure_table(self, rows: IntArray, day: int, reason: str) -> pa.Table:
        count = int(rows.shape[0])
        return pa.table(
            {
                "party_id": self._ids(rows),
                "kind": pick(KIND_NAMES, self.state.kind[rows]),
                "day": pa.array(np.full(count, day, dtype=np.int64)),
                "reason": pa.array([reason] * count, type=pa.string()),
            }
        )

    # -- registrations ------------------------------------------------------------------------------------

    def _registrations(self, day: int) -> Iterator[tuple[str, pa.Table]]:
        population = self.population
        state = self.state
        rng = self._rng(day, 1)
        rows = np.flatnonzero(state.registered_day == day).astype(np.int64)
        if rows.size == 0 and day > 0:
            return
        prefix = self.scenario.identifiers.phone_prefix
        kind = state.kind[rows]
        persons = rows[kind <= 1]
        consumers = persons[state.kind[persons] == 0]
        riders = persons[state.kind[persons] == 1]
        c = population.consumers
        r = population.riders
        birth = np.concatenate([c.birth_year[consumers], r.birth_year[riders - population.rider_offset]])
        tier = np.concatenate([c.city_tier[consumers], r.city_tier[riders - population.rider_offset]])
        phone = np.concatenate([c.phone[consumers], r.phone[riders - population.rider_offset]])
        device = np.concatenate([c.device[consumers], r.device[riders - population.rider_offset]])
        ip = np.concatenate([c.ip[consumers], r.ip[riders - population.rider_offset]])
        person_rows = np.concatenate([consumers, riders])
        # declared income: honest people round and shade it; fraudsters inflate it
        declared = state.monthly_income_fen[person_rows] * rng.lognormal(0.0, 0.2, size=person_rows.size)
        declared = np.where(state.fraud[person_rows], declared * 2.0, declared)
        declared_fen = (np.rint(declared / 10_000) * 10_000).astype(np.int64)
        roles = np.where(state.kind[person_rows] == 0, 0, 1)
        occurred = self._times(rng, day, person_rows.size, daytime=True)
        yield (
            "party_registered",
            self._table(
                "party_registered",
                day,
                "p",
                rng,
                occurred,
                {
                    "party_id": self._ids(person_rows),
                    "party_kind": pick(("person",), np.zeros(person_rows.size, dtype=np.int64)),
                    "roles": pick(("consumer", "rider"), roles),
                    "household_id": pa.array(state.household_id[person_rows], type=pa.string()),
                    "birth_year": pa.array(birth, type=pa.int64()),
                    "declared_monthly_income_fen": money(declared_fen),
                    "city_tier": pa.array(tier, type=pa.int64()),
                    "phone": _phone_strings(prefix, phone),
                    "device_id": device_strings(device),
                    "ip": ip_strings(ip),
                },
            ),
        )
        businesses = rows[kind >= 2]
        merchant_rows = businesses[state.kind[businesses] == 2] - population.merchant_offset
        supplier_rows = businesses[state.kind[businesses] == 3]
        if merchant_rows.size:
            m = population.merchants
            owners = population.owner_ids.take(pa.array(m.owner[merchant_rows]))
            # an owner registers once: with an independent shop, or with the first shop of a chain
            founders = merchant_rows[m.owner[merchant_rows] == merchant_rows]
            occurred = self._times(rng, day, founders.size, daytime=True)
            yield (
                "party_registered",
                self._table(
                    "party_registered",
                    day,
                    "o",
                    rng,
                    occurred,
                    {
                        "party_id": population.owner_ids.take(pa.array(founders)),
                        "party_kind": pick(("person",), np.zeros(founders.size, dtype=np.int64)),
                        "roles": pick(("merchant_owner",), np.zeros(founders.size, dtype=np.int64)),
                        "household_id": population.owner_households.take(pa.array(founders)),
                        "city_tier": pa.array(m.city_tier[founders], type=pa.int64()),
                    },
                ),
            )
            occurred = self._times(rng, day, merchant_rows.size, daytime=True)
            yield (
                "party_registered",
                self._table(
                    "party_registered",
                    day,
                    "m",
                    rng,
                    self._clip_to_day(day, occurred),
                    {
                        "party_id": self._ids(merchant_rows + population.merchant_offset),
                        "party_kind": pick(("business",), np.zeros(merchant_rows.size, dtype=np.int64)),
                        "roles": pick(("merchant",), np.zeros(merchant_rows.size, dtype=np.int64)),
                        "owner_party_id": owners,
                        "segment": pick(SEGMENTS, m.segment[merchant_rows]),
                        "is_chain": pa.array(m.is_chain[merchant_rows], type=pa.bool_()),
                        "city_tier": pa.array(m.city_tier[merchant_rows], type=pa.int64()),
                    },
                ),
            )
        if day == 0:
            count = population.n_enterprises + supplier_rows.size
            ids = pa.concat_arrays([population.enterprise_ids, self._ids(supplier_rows)])
            segments = np.concatenate(
                [
                    np.zeros(population.n_enterprises, dtype=np.int64),
                    np.ones(supplier_rows.size, dtype=np.int64),
                ]
            )
            yield (
                "party_registered",
                self._table(
                    "party_registered",
                    day,
                    "b",
                    rng,
                    self._times(rng, day, count, daytime=True),
                    {
                        "party_id": ids,
                        "party_kind": pick(("business",), np.zeros(count, dtype=np.int64)),
                        "roles": pick(("core_enterprise", "supplier"), segments),
                        "segment": pick(("core_enterprise", "supplier"), segments),
                        "is_chain": pa.array(np.zeros(count, dtype=np.bool_)),
                    },
                ),
            )
        self._truth_add("parties", self._parties_truth(rows))
        fraud_rows = rows[state.fraud[rows]]
        self._truth_add("fraud_labels", self._fraud_truth(fraud_rows, day))

    def _parties_truth(self, rows: IntArray) -> pa.Table:
        state = self.state
        n = self.population.n_consumers
        scam_kind = np.full(rows.size, -1, dtype=np.int64)
        consumer = rows < n
        scam_kind[consumer] = self.population.consumers.scam_kind[rows[consumer]]
        return pa.table(
            {
                "party_id": self._ids(rows),
                "kind": pa.array(state.kind[rows]),
                "kind_name": pick(KIND_NAMES, state.kind[rows]),
                "household_id": pa.array(state.household_id[rows], type=pa.string()),
                "thin_file": pa.array(state.thin_file[rows]),
                "fraud": pa.array(state.fraud[rows]),
                "ring_id": pa.array(state.ring_id[rows]),
                "attack": pick(ATTACK_NAMES, state.attack_kind[rows]),
                "attack_day": pa.array(state.attack_day[rows]),
                "scam_day": pa.array(state.scam_day[rows]),
                "scam_kind": _optional_pick(SCAM_KINDS, scam_kind),
                "registered_day": pa.array(state.registered_day[rows]),
                "risk_logit_at_registration": pa.array(state.risk_logit[rows]),
            }
        )

    def _fraud_truth(self, rows: IntArray, day: int) -> pa.Table:
        state = self.state
        return pa.table(
            {
                "party_id": self._ids(rows),
                "attack": pick(ATTACK_NAMES, state.attack_kind[rows]),
                "ring_id": pa.array(state.ring_id[rows]),
                "attack_day": pa.array(state.attack_day[rows]),
                "day": pa.array(np.full(rows.size, day, dtype=np.int64)),
            }
        )

    # -- consumers ----------------------------------------------------------------------------------------

    def _consumer_chunk(self, day: int, chunk: int, low: int, high: int) -> Iterator[tuple[str, pa.Table]]:
        scenario = self.scenario
        population = self.population
        state = self.state
        c = population.consumers
        spec = scenario.consumers
        behaviour = scenario.behaviour_for_month(self.month_of(day))
        rng = self._rng(day, 2, chunk)
        rows = self._consumer_index[low:high]
        active = state.registered_day[low:high] <= day
        rows = rows[active]
        z = c.risk_z[rows]
        spend = np.where(self._shock_effect(day)[rows] > 0, spec.income_shock_spend_factor, 1.0)
        weekend = 1.2 if self.date_of(day).weekday() >= 5 else 1.0
        block = str(chunk)

        # honest device changes, device rotation, scams and takeovers
        new_device = rng.random(rows.size) < spec.new_device_monthly / 30.0
        scam_today = state.scam_day[rows] == day
        rotating = (state.attack_kind[rows] == ATTACK_ROTATION) & (state.registered_day[rows] <= day)
        change = new_device | scam_today | rotating
        c.device[rows[change]] = device_number(rows[change], day, population.size)
        takeover_today = (state.attack_kind[rows] == ATTACK_TAKEOVER) & (state.attack_day[rows] == day)

        # logins; synthetic identities are bursty: busy one day a week, nearly silent otherwise
        synthetic = state.attack_kind[rows] == ATTACK_SYNTHETIC
        burst_day = synthetic & ((day - state.registered_day[rows]) % 7 == 0)
        activity = np.where(synthetic, np.where(burst_day, 6.0, 0.2), 1.0)
        counts = rng.poisson(c.login_rate[rows] * activity)
        counts = np.maximum(counts, (change | takeover_today).astype(np.int64))
        login_rows = np.repeat(rows, counts)
        login_count = login_rows.size
        occurred = self._times(rng, day, login_count)
        ring = state.ring_id[login_rows]
        in_ring = ring >= 0
        if in_ring.any():  # ring members sign in together, within minutes of the ring's hour
            hour = self._ring_hour[ring[in_ring]]
            occurred[in_ring] = (
                self._day_start_us(day)
                + hour * 3_600 * _US
                + rng.integers(0, 600 * _US, size=int(in_ring.sum()))
            )
        device = c.device[login_rows].copy()
        shared = rng.random(login_count) < 0.15
        ip = np.where(
            shared,
            (192 << 24) | (0 << 16) | (2 << 8) | rng.integers(1, _SHARED_IPS + 1, size=login_count),
            c.ip[login_rows],
        )
        ip = np.where(in_ring, c.ip[login_rows], ip)
        method = rng.choice(4, size=login_count, p=(0.70, 0.10, 0.15, 0.05))
        first_of_party = np.ones(login_count, dtype=np.bool_)
        first_of_party[1:] = login_rows[1:] != login_rows[:-1]
        changed_login = first_of_party & np.isin(login_rows, rows[change])
        method = np.where(changed_login, 3, method)
        takeover_login = first_of_party & np.isin(login_rows, rows[takeover_today])
        device = np.where(takeover_login, device_number(login_rows, day, population.size) + (1 << 50), device)
        ip = np.where(takeover_login, c.ip[(login_rows * 7_919 + 17) % c.ip.size], ip)
        method = np.where(takeover_login, 3, method)
        phone_rows = np.where(method == 3, login_rows, -1)
        prefix = scenario.identifiers.phone_prefix
        phones = _phone_strings(prefix, c.phone[np.maximum(phone_rows, 0)])
        phones = pc.if_else(pa.array(method == 3), phones, pa.nulls(login_count, pa.string()))
        yield (
            "login",
            self._table(
                "login",
                day,
                block,
                rng,
                occurred,
                {
                    "party_id": self._ids(login_rows),
                    "device_id": device_strings(device),
                    "ip": ip_strings(ip),
                    "phone": phones,
                    "method": pick(_LOGIN_METHODS, method),
                },
            ),
        )
        if takeover_today.any():
            self._truth_add("fraud_labels", self._fraud_truth(rows[takeover_today], day))
        if scam_today.any():
            victims = rows[scam_today]
            self._truth_add(
                "scam_victims",
                pa.table(
                    {
                        "party_id": self._ids(victims),
                        "scam_kind": pick(SCAM_KINDS, c.scam_kind[victims]),
                        "day": pa.array(np.full(victims.size, day, dtype=np.int64)),
                    }
                ),
            )

        # orders
        order_counts = rng.poisson(c.order_rate[rows] * spend * weekend * activity)
        order_rows = np.repeat(rows, order_counts)
        weights = spec.category_weights
        category_p = np.asarray([weights.food, weights.hotel, weights.shop])
        category = rng.choice(3, size=order_rows.size, p=category_p / category_p.sum()).astype(np.int64)
        merchant = np.full(order_rows.size, -1, dtype=np.int64)
        for code, (candidates, cdf) in enumerate(self._merchant_cdf):
            mask = category == code
            if cdf.size == 0:
                continue
            picked = np.searchsorted(cdf, rng.random(int(mask.sum())), side="right")
            merchant[mask] = candidates[np.minimum(picked, candidates.size - 1)]
        keep = merchant >= 0
        order_rows, category, merchant = order_rows[keep], category[keep], merchant[keep]
        order_z = c.risk_z[order_rows]
        count = order_rows.size
        tickets = (
            np.asarray(
                [spec.ticket_median_yuan.food, spec.ticket_median_yuan.hotel, spec.ticket_median_yuan.shop]
            )
            * 100
        )
        cv = np.clip(behaviour.spend_cv_base + behaviour.spend_cv_per_risk_sd * order_z, 0.05, 3.0)
        sigma = np.sqrt(np.log1p(cv * cv))
        amount = (
            tickets[category]
            * c.ticket_scale[order_rows]
            * np.exp(sigma * rng.standard_normal(count) - sigma * sigma / 2)
        )
        amount_fen = np.maximum(100, np.rint(amount)).astype(np.int64)
        p_bnpl = _sigmoid(_logit(spec.bnpl_share) + behaviour.bnpl_logit_per_risk_sd * order_z)
        draw = rng.random(count)
        pay = np.where(draw < p_bnpl, 1, np.where(draw < p_bnpl + spec.card_share, 2, 0)).astype(np.int64)
        p_night = _sigmoid(_logit(behaviour.night_share_base) + behaviour.night_logit_per_risk_sd * order_z)
        night = rng.random(count) < p_night
        occurred = self._times(rng, day, count, daytime=True)
        night_offset = rng.integers(0, 6 * 3_600 * _US, size=count)  # 23:00–05:00 local
        night_time = np.where(
            night_offset < 3_600 * _US,
            self._day_start_us(day) + 23 * 3_600 * _US + night_offset,
            self._day_start_us(day) + night_offset - 3_600 * _US,
        )
        occurred = np.where(night, night_time, occurred)
        order_ids = numbered(f"o-{day}-{block}-", np.arange(count, dtype=np.int64))
        consumer_ids = self._ids(order_rows)
        merchant_ids = self._ids(merchant + population.merchant_offset)
        devices = device_strings(c.device[order_rows])
        ips = ip_strings(c.ip[order_rows])
        yield (
            "order_placed",
            self._table(
                "order_placed",
                day,
                block,
                rng,
                occurred,
                {
                    "consumer_id": consumer_ids,
                    "merchant_id": merchant_ids,
                    "order_id": order_ids,
                    "amount_fen": money(amount_fen),
                    "category": pick(("food", "hotel", "shop"), category),
                    "pay_method": pick(_PAY_METHODS, pay),
                    "device_id": devices,
                    "ip": ips,
                },
            ),
        )
        quality = population.merchants.quality[merchant]

        # refunds: riskier consumers and worse merchants refund more
        refund_logit = (
            _logit(spec.refund_share)
            + behaviour.refund_logit_per_risk_sd * order_z
            + 0.6 * (scenario.merchants.quality_mean - quality)
        )
        refunded = np.flatnonzero(rng.random(count) < _sigmoid(refund_logit))
        partial = rng.random(refunded.size) < 0.3
        share = np.where(partial, rng.uniform(0.2, 0.8, size=refunded.size), 1.0)
        reason = np.where(
            quality[refunded] < 3.0,
            rng.choice(4, size=refunded.size, p=(0.2, 0.6, 0.1, 0.1)),
            rng.choice(4, size=refunded.size, p=(0.45, 0.2, 0.2, 0.15)),
        )
        refund_time = self._later(rng, day, occurred[refunded], 600 * _US, 6 * 3_600 * _US)
        yield (
            "order_refunded",
            self._table(
                "order_refunded",
                day,
                block,
                rng,
                refund_time,
                {
                    "consumer_id": consumer_ids.take(pa.array(refunded)),
                    "merchant_id": merchant_ids.take(pa.array(refunded)),
                    "order_id": order_ids.take(pa.array(refunded)),
                    "amount_fen": money(
                        np.maximum(1, np.rint(amount_fen[refunded] * share)).astype(np.int64)
                    ),
                    "reason": pick(_REFUND_REASONS, reason),
                },
            ),
        )

        # reviews: stars around the merchant's current quality
        reviewed = np.flatnonzero(rng.random(count) < spec.review_share)
        stars = np.clip(np.rint(quality[reviewed] + 0.9 * rng.standard_normal(reviewed.size)), 1, 5).astype(
            np.int64
        )
        review_time = self._later(rng, day, occurred[reviewed], 3_600 * _US, 10 * 3_600 * _US)
        yield (
            "review_posted",
            self._table(
                "review_posted",
                day,
                block,
                rng,
                review_time,
                {
                    "consumer_id": consumer_ids.take(pa.array(reviewed)),
                    "merchant_id": merchant_ids.take(pa.array(reviewed)),
                    "order_id": order_ids.take(pa.array(reviewed)),
                    "stars": pa.array(stars, type=pa.int64()),
                },
            ),
        )

        # deliveries of food orders, by today's active riders
        food = np.flatnonzero(category == 0)
        if self._rider_cdf.size and food.size:
            rider = np.minimum(
                np.searchsorted(self._rider_cdf, rng.random(food.size), side="right"),
                self._rider_cdf.size - 1,
            ).astype(np.int64)
            self._rider_assigned += np.bincount(rider, minlength=self._rider_cdf.size)
            delivered_at = self._later(rng, day, occurred[food], 20 * 60 * _US, 70 * 60 * _US)
            yield (
                "delivery_completed",
                self._delivery_table(
                    day,
                    block,
                    rng,
                    rider,
                    merchant[food],
                    delivered_at,
                    order_ids.take(pa.array(food)),
                    consumer_ids.take(pa.array(food)),
                ),
            )

        # money leaving the wallet: order payments, top-ups, bills, transfers, scam and takeover transfers
        paid = np.flatnonzero(pay != 1)
        pay_time = self._later(rng, day, occurred[paid], 1 * _US, 120 * _US)
        payment_columns: list[dict[str, pa.Array]] = []
        payment_times: list[IntArray] = []
        payment_columns.append(
            {
                "payer_id": consumer_ids.take(pa.array(paid)),
                "payee_id": merchant_ids.take(pa.array(paid)),
                "amount_fen": money(amount_fen[paid]),
                "purpose": pick(_PURPOSES, np.zeros(paid.size, dtype=np.int64)),
                "counterparty_account": pc.binary_join_element_wise(
                    pa.scalar("acct-"), merchant_ids.take(pa.array(paid)), ""
                ),
                "counterparty_known": pa.array(np.ones(paid.size, dtype=np.bool_)),
                "device_id": devices.take(pa.array(paid)),
                "ip": ips.take(pa.array(paid)),
            }
        )
        payment_times.append(pay_time)
        income = state.monthly_income_fen[rows].astype(np.float64)
        topup_cv = np.clip(behaviour.topup_cv_base + behaviour.topup_cv_per_risk_sd * z, 0.02, 3.0)
        purposes = (
            (2, spec.topups_per_month, income / max(spec.topups_per_month, 1.0), topup_cv, "bank-", True),
            (3, spec.bills_per_month, 0.12 * income, np.full(rows.size, 0.3), "biller-", True),
            (1, spec.transfers_known_per_month, 0.08 * income, np.full(rows.size, 0.8), "acct-h-", True),
            (1, spec.transfers_unknown_per_month, 0.05 * income, np.full(rows.size, 0.8), "acct-x-", False),
        )
        for purpose, per_month, mean_amount, cv_of, account_prefix, known in purposes:
            n_each = rng.poisson(per_month / 30.0 * (spend if purpose != 2 else 1.0), size=rows.size)
            who = np.repeat(np.arange(rows.size), n_each)
            sig = np.sqrt(np.log1p(cv_of[who] ** 2))
            value = mean_amount[who] * np.exp(sig * rng.standard_normal(who.size) - sig * sig / 2)
            payer_rows = rows[who]
            account_numbers = payer_rows if known else rng.integers(0, 1 << 40, size=who.size)
            payment_columns.append(
                {
                    "payer_id": self._ids(payer_rows),
                    "amount_fen": money(np.maximum(100, np.rint(value)).astype(np.int64)),
                    "purpose": pick(_PURPOSES, np.full(who.size, purpose, dtype=np.int64)),
                    "counterparty_account": numbered(account_prefix, account_numbers.astype(np.int64)),
                    "counterparty_known": pa.array(np.full(who.size, known, dtype=np.bool_)),
                    "device_id": device_strings(c.device[payer_rows]),
                    "ip": ip_strings(c.ip[payer_rows]),
                }
            )
            payment_times.append(self._times(rng, day, who.size, daytime=True))
        coerced = np.concatenate([rows[scam_today], rows[takeover_today]])
        if coerced.size:
            scam_amount = (
                scenario.fraud.scam_transfer_share_of_income
                * state.monthly_income_fen[coerced]
                * rng.uniform(0.3, 1.0, size=coerced.size)
            )
            takeover_rows = rows[takeover_today]
            coerced_device = c.device[coerced].copy()
            coerced_device[rows[scam_today].size :] = device_number(takeover_rows, day, population.size) + (
                1 << 50
            )
            coerced_ip = c.ip[coerced].copy()
            coerced_ip[rows[scam_today].size :] = (
                (198 << 24) | (51 << 16) | (100 << 8) | (1 + takeover_rows % 254)
            )
            payment_columns.append(
                {
                    "payer_id": self._ids(coerced),
                    "amount_fen": money(np.maximum(100, np.rint(scam_amount)).astype(np.int64)),
                    "purpose": pick(_PURPOSES, np.ones(coerced.size, dtype=np.int64)),
                    "counterparty_account": numbered("acct-x-", rng.integers(0, 1 << 40, size=coerced.size)),
                    "counterparty_known": pa.array(np.zeros(coerced.size, dtype=np.bool_)),
                    "device_id": device_strings(coerced_device),
                    "ip": ip_strings(coerced_ip),
                }
            )
            payment_times.append(self._times(rng, day, coerced.size, daytime=True))
        total = sum(int(t.shape[0]) for t in payment_times)
        merged: dict[str, Column] = {}
        for name in (
            "payer_id",
            "payee_id",
            "amount_fen",
            "purpose",
            "counterparty_account",
            "counterparty_known",
            "device_id",
            "ip",
        ):
            parts = [
                columns[name] if name in columns else pa.nulls(int(times.shape[0]), pa.string())
                for columns, times in zip(payment_columns, payment_times, strict=True)
            ]
            merged[name] = pa.concat_arrays(parts)
        occurred_payments = np.concatenate(payment_times) if payment_times else np.zeros(0, dtype=np.int64)
        if total:
            yield ("payment_made", self._table("payment_made", day, block, rng, occurred_payments, merged))

    def _delivery_table(
        self,
        day: int,
        block: str,
        rng: np.random.Generator,
        rider: IntArray,
        merchant: IntArray,
        occurred: IntArray,
        order_ids: pa.Array,
        consumer_ids: pa.Array | None,
    ) -> pa.Table:
        population = self.population
        spec = self.scenario.riders
        r = population.riders
        count = rider.size
        weights = spec.status_weights
        late_p = weights.late / (weights.on_time + weights.late + weights.cancelled)
        cancel_p = weights.cancelled / (weights.on_time + weights.late + weights.cancelled)
        late_rider = np.clip(late_p * np.exp(0.3 * r.risk_z[rider]), 0.0, 0.9)
        draw = rng.random(count)
        status = np.where(draw < cancel_p, 2, np.where(draw < cancel_p + late_rider, 1, 0)).astype(np.int64)
        minutes = np.where(status == 1, 1 + rng.exponential(spec.minutes_late_mean, size=count), 0)
        pay = spec.pay_per_order_yuan * 100 * r.pay_factor[rider] * np.where(status == 1, 0.8, 1.0)
        pay = np.where(status == 2, 0.0, pay)
        columns: dict[str, Column] = {
            "rider_id": self._ids(rider + population.rider_offset),
            "merchant_id": self._ids(merchant + population.merchant_offset),
            "order_id": order_ids,
            "status": pick(_DELIVERY_STATUS, status),
            "minutes_late": pa.array(np.minimum(np.rint(minutes), 1_440).astype(np.int64)),
            "rider_pay_fen": money(np.rint(pay).astype(np.int64)),
        }
        if consumer_ids is not None:
            columns["consumer_id"] = consumer_ids
        return self._table("delivery_completed", day, block, rng, occurred, columns)

    # -- riders, merchants, supply chain, bureau ----------------------------------------------------------

    def _rider_deliveries(self, day: int) -> Iterator[tuple[str, pa.Table]]:
        """Deliveries of platform customers outside the lender's base: the rest of each rider's volume."""
        rng = self._rng(day, 3)
        external = np.maximum(self._rider_target - self._rider_assigned, 0)
        rider = np.repeat(np.arange(external.size, dtype=np.int64), external)
        candidates, cdf = (
            self._merchant_cdf[0] if self._merchant_cdf else (np.zeros(0, np.int64), np.zeros(0))
        )
        if rider.size == 0 or cdf.size == 0:
            return
        merchant = candidates[
            np.minimum(np.searchsorted(cdf, rng.random(rider.size), side="right"), cdf.size - 1)
        ]
        occurred = self._times(rng, day, rider.size, daytime=True)
        order_ids = numbered(f"x-{day}-", np.arange(rider.size, dtype=np.int64))
        yield (
            "delivery_completed",
            self._delivery_table(day, "r", rng, rider, merchant, occurred, order_ids, None),
        )

    def _settlements(self, day: int) -> Iterator[tuple[str, pa.Table]]:
        population = self.population
        rng = self._rng(day, 4)
        m = population.merchants
        open_rows = np.flatnonzero(
            self.state.closed_day[population.merchant_offset : population.supplier_offset] < 0
        )
        if open_rows.size == 0:
            return
        spec = self.scenario.consumers.ticket_median_yuan
        ticket = np.asarray([getattr(spec, _SEGMENT_TICKET[s]) for s in range(len(SEGMENTS))]) * 100
        revenue = self._revenue_today[open_rows]
        orders = rng.poisson(revenue / ticket[m.segment[open_rows]])
        occurred = (
            self._day_start_us(day)
            + 23 * 3_600 * _US
            + rng.integers(30 * 60 * _US, 60 * 60 * _US, size=open_rows.size)
        )
        business_day = (self.date_of(day) - _EPOCH).days
        yield (
            "merchant_settlement",
            self._table(
                "merchant_settlement",
                day,
                "m",
                rng,
                occurred,
                {
                    "merchant_id": self._ids(open_rows + population.merchant_offset),
                    "business_date": pa.array(
                        np.full(open_rows.size, business_day, dtype=np.int32), type=pa.date32()
                    ),
                    "amount_fen": money(np.rint(revenue).astype(np.int64)),
                    "orders_count": pa.array(orders.astype(np.int64)),
                },
            ),
        )

    def _trades(self, day: int) -> Iterator[tuple[str, pa.Table]]:
        population = self.population
        spec = self.scenario.supply_chain
        rng = self._rng(day, 5)
        s = population.suppliers
        month = self.month_of(day)
        macro = self.scenario.macro_multiplier(month)
        counts = rng.poisson(spec.trades_per_supplier_monthly / 30.0 * s.trade_scale / math.sqrt(macro))
        supplier = np.repeat(np.arange(counts.size, dtype=np.int64), counts)
        trade = self._trade_counter + np.arange(supplier.size, dtype=np.int64)
        self._trade_counter += supplier.size
        amount = np.rint(
            spec.trade_amount_median_yuan
            * 100
            * rng.lognormal(0.0, spec.trade_amount_sigma, size=supplier.size)
        ).astype(np.int64)
        receipt_day = day + rng.integers(
            spec.receipt_lag_days[0], spec.receipt_lag_days[1] + 1, size=supplier.size
        )
        invoice_day = receipt_day + rng.integers(
            spec.invoice_lag_days[0], spec.invoice_lag_days[1] + 1, size=supplier.size
        )
        for document_kind, when in ((1, receipt_day), (2, invoice_day)):
            for target in np.unique(when).tolist():
                mask = when == target
                self._pending[int(target)].append(
                    (
                        np.full(int(mask.sum()), document_kind, dtype=np.int64),
                        supplier[mask],
                        trade[mask],
                        amount[mask],
                    )
                )
                self._pending_count += int(mask.sum())
        if self._pending_count > bounds.sim_pending_trade_documents_max:
            raise BoundExceededError(
                "sim_pending_trade_documents_max", bounds.sim_pending_trade_documents_max, self._pending_count
            )
        parts = [
            (np.zeros(supplier.size, dtype=np.int64), supplier, trade, amount),
            *self._pending.pop(day, []),
        ]
        kind = np.concatenate([p[0] for p in parts])
        supplier = np.concatenate([p[1] for p in parts])
        trade = np.concatenate([p[2] for p in parts])
        amount = np.concatenate([p[3] for p in parts])
        self._pending_count -= int(kind.size - counts.sum())
        # forged invoices (no purchase order, no receipt) and invoices presented twice
        invoices = np.flatnonzero(kind == 2)
        forged_count = int(rng.binomial(max(invoices.size, 1), spec.forged_invoice_rate))
        forged_supplier = rng.integers(0, s.trade_scale.size, size=forged_count).astype(np.int64)
        forged_trade = self._trade_counter + np.arange(forged_count, dtype=np.int64)
        self._trade_counter += forged_count
        forged_amount = np.rint(
            spec.trade_amount_median_yuan
            * 100
            * rng.lognormal(0.3, spec.trade_amount_sigma, size=forged_count)
        ).astype(np.int64)
        doubled = invoices[rng.random(invoices.size) < spec.double_presented_rate]
        kind = np.concatenate([kind, np.full(forged_count, 2, dtype=np.int64), kind[doubled]])
        origin = np.concatenate(
            [
                np.zeros(kind.size - forged_count - doubled.size, np.int64),
                np.ones(forged_count, np.int64),
                np.full(doubled.size, 2, np.int64),
            ]
        )
        supplier = np.concatenate([supplier, forged_supplier, supplier[doubled]])
        trade = np.concatenate([trade, forged_trade, trade[doubled]])
        amount = np.concatenate([amount, forged_amount, amount[doubled]])
        count = kind.size
        if count == 0:
            return
        record = self._record_counter + rng.permutation(count).astype(np.int64)
        self._record_counter += count
        enterprise = s.enterprise[supplier]
        supplier_ids = self._ids(supplier + population.supplier_offset)
        enterprise_ids = population.enterprise_ids.take(pa.array(enterprise))
        # purchase orders and receipts are issued by the enterprise; invoices by the supplier
        from_enterprise = kind < 2
        issuer = pc.if_else(pa.array(from_enterprise), enterprise_ids, supplier_ids)
        receiver = pc.if_else(pa.array(from_enterprise), supplier_ids, enterprise_ids)
        due = (self.date_of(day) - _EPOCH).days + spec.payment_terms_days
        due_dates = pa.array(np.where(kind == 2, due, 0).astype(np.int32), type=pa.date32())
        due_dates = pc.if_else(pa.array(kind == 2), due_dates, pa.nulls(count, pa.date32()))
        occurred = self._times(rng, day, count, daytime=True)
        record_ids = numbered("TR-", record)
        trade_ids = numbered("T-", trade)
        yield (
            "trade_record",
            self._table(
                "trade_record",
                day,
                "t",
                rng,
                occurred,
                {
                    "issuer_id": issuer,
                    "receiver_id": receiver,
                    "record_kind": pick(_RECORD_KINDS, kind),
                    "record_id": record_ids,
                    "trade_id": trade_ids,
                    "amount_fen": money(amount),
                    "due_date": due_dates,
                },
            ),
        )
        bad = np.flatnonzero(origin > 0)
        if bad.size:
            self._truth_add(
                "forged_records",
                pa.table(
                    {
                        "record_id": record_ids.take(pa.array(bad)),
                        "trade_id": trade_ids.take(pa.array(bad)),
                        "kind": pick(("genuine", "forged", "double_presented"), origin[bad]),
                        "issuer_id": pc.cast(issuer, pa.string()).take(pa.array(bad)),
                        "receiver_id": pc.cast(receiver, pa.string()).take(pa.array(bad)),
                        "amount_fen": pa.array(amount[bad]),
                        "day": pa.array(np.full(bad.size, day, dtype=np.int64)),
                    }
                ),
            )

    def _bureau(self, day: int) -> Iterator[tuple[str, pa.Table]]:
        state = self.state
        rng = self._rng(day, 6)
        behaviour = self.scenario.behaviour_for_month(self.month_of(day))
        persons = state.kind <= 1
        thick = persons & ~state.thin_file
        monthly = day > 0 and self.date_of(day).day == 1
        due = thick & ((state.registered_day == day) | (monthly & (state.registered_day < day)))
        rows = np.flatnonzero(due).astype(np.int64)
        if rows.size == 0:
            return
        risk = self.scenario.risk
        mean = np.where(state.kind[rows] == 0, risk.consumer_logit_mean, risk.rider_logit_mean)
        sd = np.where(state.kind[rows] == 0, risk.consumer_logit_sd, risk.rider_logit_sd)
        z = (state.risk_logit[rows] - mean) / np.maximum(sd, 1e-9)
        count = rows.size
        score = (
            behaviour.bureau_score_mean
            - behaviour.bureau_score_per_risk_sd * z
            + behaviour.bureau_noise_sd * rng.standard_normal(count)
        )
        score = np.clip(np.rint(score), 300, 900).astype(np.int64)
        income = state.monthly_income_fen[rows].astype(np.float64)
        occurred = self._times(rng, day, count, daytime=True)
        yield (
            "bureau_report",
            self._table(
                "bureau_report",
                day,
                "b",
                rng,
                occurred,
                {
                    "party_id": self._ids(rows),
                    "bureau_score": pa.array(score),
                    "accounts_open": pa.array(rng.poisson(2.0 * np.exp(0.2 * z)).astype(np.int64)),
                    "delinquencies_24m": pa.array(rng.poisson(0.3 * np.exp(0.8 * z)).astype(np.int64)),
                    "inquiries_6m": pa.array(rng.poisson(1.0 * np.exp(0.4 * z)).astype(np.int64)),
                    "months_on_file": pa.array(rng.integers(6, 240, size=count).astype(np.int64)),
                    "total_debt_fen": money(
                        np.rint(income * rng.lognormal(0.5, 1.0, size=count)).astype(np.int64)
                    ),
                },
            ),
        )

    # -- truth --------------------------------------------------------------------------------------------

    def _snapshot(self, day: int) -> None:
        """Month-end (and final-day) risk of every registered party: the oracle's input."""
        month_end = self.date_of(day + 1).month != self.date_of(day).month
        final = day == self.scenario.days - 1
        if not (month_end or final):
            return
        state = self.state
        rows = np.flatnonzero(state.registered_day <= day).astype(np.int64)
        logit = state.risk_logit[rows]
        monthly_pd = _sigmoid(logit)
        self._truth_add(
            "risk_snapshots",
            pa.table(
                {
                    "party_id": self._ids(rows),
                    "kind": pick(KIND_NAMES, state.kind[rows]),
                    "day": pa.array(np.full(rows.size, day, dtype=np.int64)),
                    "date": pa.array([self.date_of(day)] * 1, type=pa.date32()).take(
                        pa.array(np.zeros(rows.size, dtype=np.int64))
                    ),
                    "month": pa.array(np.full(rows.size, self.month_of(day), dtype=np.int64)),
                    "snapshot": pa.array(["month_end" if month_end else "final"] * 1, type=pa.string()).take(
                        pa.array(np.zeros(rows.size, dtype=np.int64))
                    ),
                    "risk_logit": pa.array(logit),
                    "true_pd_6m_at_zero_debt": pa.array(1.0 - (1.0 - monthly_pd) ** 6),
                    "monthly_income_fen": pa.array(state.monthly_income_fen[rows]),
                    "closed": pa.array(state.closed_day[rows] >= 0),
                }
            ),
        )


def _phone_strings(prefix: str, suffixes: IntArray) -> pa.Array:
    digits = pc.utf8_lpad(pc.cast(pa.array(suffixes, type=pa.int64()), pa.string()), width=7, padding="0")
    return pc.binary_join_element_wise(pa.scalar(prefix), digits, "")


def _optional_pick(values: tuple[str, ...], codes: IntArray) -> pa.Array:
    taken = pick(values, np.maximum(codes, 0))
    return pc.if_else(pa.array(codes >= 0), taken, pa.nulls(codes.size, pa.string()))
