"""The causal links the events really carry, measured from the events (never from the latent drivers), with
outcomes realised from the simulator's own truth: default drawn from the month-end ``risk_logit`` with the
monthly hazard, closures from the truth tables."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow.compute as pc

from fengkong.sim.ecosystem import Ecosystem
from fengkong.sim.population import seeded
from fengkong.sim.scenario import scenario_from_mapping

REPLICATES = 400  # realised-default draws per party (the outcome is random; averaging keeps the test stable)


def _realised_default_6m(logit: npt.NDArray[np.float64], seed: int) -> npt.NDArray[np.float64]:
    """Share of replicate worlds in which each party goes 30+ DPD within 6 months at its hazard."""
    monthly = 1.0 / (1.0 + np.exp(-logit))
    draws = seeded(seed, 99).random((REPLICATES, 6, logit.size)) < monthly
    return np.asarray(draws.any(axis=1).mean(axis=0), dtype=np.float64)


def _index(ids: npt.NDArray[np.str_], wanted: npt.NDArray[np.str_]) -> npt.NDArray[np.int64]:
    order = np.argsort(ids)
    return np.asarray(order[np.searchsorted(ids[order], wanted)], dtype=np.int64)


def test_riders_whose_deliveries_grow_default_less() -> None:
    scenario = scenario_from_mapping(
        {
            "scales": {
                "tiny": {
                    "consumers": 100,
                    "riders": 700,
                    "merchants": 60,
                    "core_enterprises": 1,
                    "suppliers_per_enterprise": 1,
                }
            }
        },
        scale="tiny",
        days=75,
    )
    ecosystem = Ecosystem(scenario)
    population = ecosystem.population
    low, high = population.rider_offset, population.merchant_offset
    rider_ids = ecosystem.state.party_id[low:high]
    counts = np.zeros((scenario.days, high - low))
    for day in range(scenario.days):
        deliveries = ecosystem.step()["delivery_completed"]
        riders = np.asarray(deliveries.column("rider_id").to_numpy(zero_copy_only=False), dtype=np.str_)
        np.add.at(counts[day], _index(rider_ids, riders), 1)
    first, last = counts[:30].sum(axis=0), counts[-30:].sum(axis=0)
    measured = first >= 50  # riders active enough at the start for a growth rate to mean something
    growth = np.log((last[measured] + 1) / (first[measured] + 1))
    logit = ecosystem.state.risk_logit[low:high][measured]
    default = _realised_default_6m(logit, scenario.seed)
    bottom, top = np.quantile(growth, [0.2, 0.8])
    assert measured.sum() >= 200
    assert default[growth >= top].mean() < default[growth <= bottom].mean()


def test_merchants_after_a_bad_review_surge_close_and_default_more() -> None:
    scenario = scenario_from_mapping(
        {
            "scales": {
                "tiny": {
                    "consumers": 2_500,
                    "riders": 20,
                    "merchants": 200,
                    "core_enterprises": 1,
                    "suppliers_per_enterprise": 1,
                }
            },
            "consumers": {"review_share": 0.6},
            "merchants": {"review_surge_monthly": 0.06},
        },
        scale="tiny",
        days=110,
    )
    ecosystem = Ecosystem(scenario)
    population = ecosystem.population
    low, high = population.merchant_offset, population.supplier_offset
    merchant_ids = ecosystem.state.party_id[low:high]
    bad = np.zeros((scenario.days, high - low))
    total = np.zeros((scenario.days, high - low))
    closed_day = np.full(high - low, -1)
    for day in range(scenario.days):
        reviews = ecosystem.step()["review_posted"]
        merchant = _index(
            merchant_ids, np.asarray(reviews.column("merchant_id").to_numpy(zero_copy_only=False))
        )
        stars = reviews.column("stars").to_numpy()
        np.add.at(total[day], merchant, 1)
        np.add.at(bad[day], merchant, stars <= 2)
        closures = ecosystem.ground_truth_day().get("closures")
        if closures is not None:
            gone = closures.filter(pc.equal(closures.column("kind"), "merchant")).column("party_id")
            closed_day[_index(merchant_ids, np.asarray(gone.to_numpy(zero_copy_only=False)))] = day
    window, cut = 14, 55
    surged = np.zeros(high - low, dtype=np.bool_)
    for start in range(0, cut - window + 1, 7):
        reviews_in = total[start : start + window].sum(axis=0)
        bad_in = bad[start : start + window].sum(axis=0)
        surged |= (reviews_in >= 4) & (bad_in >= 0.5 * reviews_in)
    open_at_cut = (closed_day < 0) | (closed_day >= cut)
    closed_after = closed_day >= cut
    assert (surged & open_at_cut).sum() >= 4
    assert closed_after[surged & open_at_cut].mean() > 2 * closed_after[~surged & open_at_cut].mean()
    logit = ecosystem.state.risk_logit[low:high]
    default = _realised_default_6m(logit, scenario.seed)
    assert default[surged].mean() > default[~surged].mean()


def test_the_macro_shock_multiplies_hazards() -> None:
    calm = scenario_from_mapping({"macro": {"shock_month": 1, "multiplier": 1.0}}, scale="tiny", days=40)
    shocked = scenario_from_mapping(
        {"macro": {"shock_month": 1, "duration_months": 1, "multiplier": 3.0}}, scale="tiny", days=40
    )
    a, b = Ecosystem(calm), Ecosystem(shocked)
    for _ in range(35):  # into February, the shock month
        a.step()
        b.step()
    n = a.population.n_consumers
    calm_people = (a.population.consumers.shock_day < 0) & (b.population.consumers.shock_day < 0)
    difference = b.state.risk_logit[:n][calm_people] - a.state.risk_logit[:n][calm_people]
    np.testing.assert_allclose(difference, np.log(3.0))


def test_a_launch_burst_brings_a_wave_of_fraudulent_registrations() -> None:
    burst = {"start_day": 10, "days": 5, "arrivals_per_day_share": 0.04, "fraud_share": 0.5}
    scenario = scenario_from_mapping({"fraud": {"burst": burst}}, scale="tiny", days=20)
    ecosystem = Ecosystem(scenario)
    registrations = []
    fraud_share = []
    for _ in range(scenario.days):
        registrations.append(ecosystem.step()["party_registered"].num_rows)
        parties = ecosystem.ground_truth_day().get("parties")
        if parties is not None and ecosystem.day - 1 >= 1:
            fraud_share.append((ecosystem.day - 1, parties.column("fraud").to_numpy(zero_copy_only=False)))
    in_burst = np.concatenate([shares for day, shares in fraud_share if 10 <= day < 15])
    assert min(registrations[10:15]) > 3 * max(registrations[1:10])
    assert in_burst.size >= 0.8 * 0.04 * scenario.size.consumers * 5  # ring members may trail the week
    assert (
        0.35 < in_burst.mean() < 0.65
    )  # the launch week's fraud share, diluted a little by regular arrivals


def test_drift_changes_what_behaviour_reveals() -> None:
    scenario = scenario_from_mapping(
        {
            "scales": {"tiny": {"consumers": 3_000}},
            "drift": {"after_month": 1, "behaviour": {"bnpl_logit_per_risk_sd": -1.0}},
        },
        scale="tiny",
        days=59,
    )
    ecosystem = Ecosystem(scenario)
    risk = ecosystem.population.consumers.risk_z
    ids = ecosystem.state.party_id[: ecosystem.population.n_consumers]
    correlation = {}
    bnpl = {0: np.zeros(ids.size), 1: np.zeros(ids.size)}
    orders = {0: np.zeros(ids.size), 1: np.zeros(ids.size)}
    for _ in range(scenario.days):
        month = ecosystem.month_of(ecosystem.day)
        table = ecosystem.step()["order_placed"]
        who = _index(ids, np.asarray(table.column("consumer_id").to_numpy(zero_copy_only=False)))
        paid_later = np.asarray(table.column("pay_method").to_numpy(zero_copy_only=False)) == "bnpl"
        np.add.at(bnpl[month], who, paid_later)
        np.add.at(orders[month], who, 1)
    for month in (0, 1):
        active = orders[month] >= 3
        share = bnpl[month][active] / orders[month][active]
        correlation[month] = np.corrcoef(share, risk[active])[0, 1]
    assert correlation[0] > 0.1
    assert correlation[1] < -0.1
