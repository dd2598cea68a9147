"""The borrower-response model: determinism, debt burden, fraud, scams, delinquency calibration, money."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from fengkong.domain.events import column_layout
from fengkong.errors import InputError
from fengkong.sim.latent import LatentState
from fengkong.sim.response import (
    PRODUCTS,
    RESPONSE_EVENT_TYPES,
    BorrowerResponse,
    LenderActions,
    ResponseDay,
    ResponseParameters,
    annuity_payment_fen,
    default_response_parameters,
    monthly_hazard,
    true_pd_6m,
)

START = date(2026, 1, 1)


def make_state(
    size: int,
    *,
    risk_logit: float = -5.0,
    income_fen: int = 600_000,
    fraud: np.ndarray | None = None,
    scam_day: np.ndarray | None = None,
    seed: int = 3,
) -> LatentState:
    rng = np.random.default_rng(seed)
    return LatentState(
        party_id=np.array([f"p{i:06d}" for i in range(size)]),
        kind=np.zeros(size, dtype=np.int64),
        risk_logit=rng.normal(risk_logit, 0.5, size),
        monthly_income_fen=np.full(size, income_fen, dtype=np.int64),
        thin_file=np.zeros(size, dtype=bool),
        fraud=np.zeros(size, dtype=bool) if fraud is None else fraud,
        scam_day=np.full(size, -1, dtype=np.int64) if scam_day is None else scam_day,
        household_id=np.array([f"h{i:06d}" for i in range(size)]),
    )


def offers(
    parties: np.ndarray, product: str, amount_fen: int, rate_bp: int = 0, term: int = 0
) -> LenderActions:
    size = len(parties)
    return LenderActions(
        offer_party=parties,
        offer_product=np.full(size, product),
        offer_amount_fen=np.full(size, amount_fen, dtype=np.int64),
        offer_rate_bp=np.full(size, rate_bp, dtype=np.int64),
        offer_term_months=np.full(size, term, dtype=np.int64),
        offer_application_id=np.full(size, ""),
    )


def run(
    state: LatentState,
    days: int,
    actions_by_day: dict[int, LenderActions],
    seed: int = 11,
    params: ResponseParameters | None = None,
) -> tuple[BorrowerResponse, list[ResponseDay]]:
    response = BorrowerResponse(seed=seed, params=params)
    results = []
    for day in range(days):
        results.append(
            response.step(state, actions_by_day.get(day, LenderActions()), day, START + timedelta(days=day))
        )
    return response, results


def concat(results: list[ResponseDay], event_type: str) -> pa.Table:
    return pa.concat_tables([result.events[event_type] for result in results])


def everyone_bnpl(state: LatentState, amount_fen: int = 500_000) -> dict[int, LenderActions]:
    return {0: offers(state.party_id, "bnpl", amount_fen)}


def test_same_seed_same_events_and_truth() -> None:
    state = make_state(1_500)
    actions = {
        0: offers(state.party_id, "bnpl", 400_000),
        3: offers(state.party_id[:300], "installment", 500_000, 1800, 12),
    }
    _, first = run(state, 70, actions)
    _, second = run(state, 70, actions)
    for one, two in zip(first, second, strict=True):
        for event_type in RESPONSE_EVENT_TYPES:
            assert one.events[event_type].equals(two.events[event_type])
        assert np.array_equal(one.truth.balance_fen, two.truth.balance_fen)
        assert np.array_equal(one.truth.days_past_due, two.truth.days_past_due)
    assert sum(result.events["draw"].num_rows for result in first) > 1_000
    _, other_seed = run(state, 70, actions, seed=12)
    assert not concat(first, "draw").equals(concat(other_seed, "draw"))


def test_event_tables_follow_the_column_layout_with_unique_ids() -> None:
    state = make_state(800, scam_day=np.where(np.arange(800) < 20, 15, -1).astype(np.int64))
    _, results = run(state, 45, everyone_bnpl(state))
    for event_type in RESPONSE_EVENT_TYPES:
        table = concat(results, event_type)
        assert [(field.name) for field in table.schema] == [name for name, _ in column_layout(event_type)]
        assert table.num_rows > 0, event_type
        assert len(set(table.column("event_id").to_pylist())) == table.num_rows
        assert (
            table.schema.field(
                "amount_fen" if event_type != "loan_application" else "requested_amount_fen"
            ).type
            == pa.int64()
        )
        assert pc.all(pc.greater_equal(table.column("received_at"), table.column("occurred_at"))).as_py()


def test_cutting_a_line_lowers_later_debt_and_default() -> None:
    size = 8_000
    state = make_state(size, risk_logit=-4.0, income_fen=500_000)
    base = {0: offers(state.party_id, "bnpl", 1_000_000)}
    cohort = state.party_id[: size // 2]
    cut = LenderActions(
        line_party=cohort,
        line_product=np.full(len(cohort), "bnpl"),
        line_new_fen=np.full(len(cohort), 100_000),
    )
    keep_response, keep = run(state, 200, base)
    cut_response, cut_run = run(state, 200, {**base, 35: cut})
    rows = np.arange(size) < size // 2
    accepted = keep_response.account_sequence[:, 0] > 0
    cohort_rows = rows & accepted
    later_debt_keep = np.mean([r.truth.balance_fen[cohort_rows].mean() for r in keep[60:]])
    later_debt_cut = np.mean([r.truth.balance_fen[cohort_rows].mean() for r in cut_run[60:]])
    assert later_debt_cut < 0.5 * later_debt_keep
    bad_keep = keep_response.ever_30[cohort_rows].mean()
    bad_cut = cut_response.ever_30[cohort_rows].mean()
    standard_error = np.sqrt(bad_keep * (1 - bad_keep) / cohort_rows.sum()) * np.sqrt(2)
    assert bad_cut < bad_keep - 4 * standard_error
    # the untouched half is identical in both runs (common random numbers)
    control = ~rows
    assert np.array_equal(keep_response.ever_30[control], cut_response.ever_30[control])


def test_default_risk_rises_with_debt_burden() -> None:
    state = make_state(5, risk_logit=-4.0, income_fen=500_000)
    debts = [np.full(5, debt, dtype=np.int64) for debt in (0, 100_000, 250_000, 500_000, 1_500_000)]
    hazards = [monthly_hazard(state, debt, default_response_parameters()).mean() for debt in debts]
    pds = [true_pd_6m(state, debt).mean() for debt in debts]
    assert all(a < b for a, b in itertools.pairwise(hazards))
    assert all(a < b for a, b in itertools.pairwise(pds))
    # and in realised outcomes: same latent risk, a larger line, more delinquency
    size = 6_000
    state = make_state(size, risk_logit=-4.0, income_fen=500_000)
    small = np.arange(size) % 2 == 0
    actions = {
        0: LenderActions(
            offer_party=state.party_id,
            offer_product=np.full(size, "bnpl"),
            offer_amount_fen=np.where(small, 100_000, 1_500_000).astype(np.int64),
            offer_rate_bp=np.zeros(size, dtype=np.int64),
            offer_term_months=np.zeros(size, dtype=np.int64),
            offer_application_id=np.full(size, ""),
        )
    }
    response, _ = run(state, 180, actions)
    accepted = response.account_sequence[:, 0] > 0
    assert response.ever_30[accepted & ~small].mean() > 1.5 * response.ever_30[accepted & small].mean()


def test_true_pd_of_fraud_is_one_and_needs_positive_beta() -> None:
    fraud = np.array([True, False])
    state = make_state(2, fraud=fraud)
    assert true_pd_6m(state, np.zeros(2, dtype=np.int64)).tolist()[0] == 1.0
    assert 0.0 < true_pd_6m(state, np.zeros(2, dtype=np.int64)).tolist()[1] < 0.2
    with pytest.raises(InputError, match="beta_debt_burden"):
        replace(default_response_parameters(), beta_debt_burden=0.0)


def test_fraud_draws_to_the_limit_and_never_repays() -> None:
    size = 600
    fraud = np.arange(size) < 100
    state = make_state(size, fraud=fraud)
    response, results = run(state, 120, everyone_bnpl(state, 300_000))
    fraud_ids = set(state.party_id[fraud].tolist())
    repaid_by = set(concat(results, "repayment").column("borrower_id").to_pylist())
    assert not fraud_ids & repaid_by
    assert response.account_sequence[fraud, 0].min() == 1  # every fraudster accepted
    assert (response.drawn_fen[fraud, 0] == 300_000).all()
    assert response.ever_30[fraud].all()
    assert repaid_by  # honest borrowers do repay


def test_scam_victims_max_out_and_transfer_out_unless_held() -> None:
    size = 400
    victims = np.arange(size) < 40
    scam_day = np.where(victims, 20, -1).astype(np.int64)
    state = make_state(size, scam_day=scam_day)
    held_ids = state.party_id[:20]
    hold = LenderActions(hold_party=held_ids, hold_days=np.full(20, 10, dtype=np.int64))
    response, results = run(state, 30, {0: offers(state.party_id, "bnpl", 400_000), 19: hold})
    day = results[20].events
    transfers = day["payment_made"]
    assert set(transfers.column("purpose").to_pylist()) == {"transfer_out"}
    assert not any(transfers.column("counterparty_known").to_pylist())
    payers = set(transfers.column("payer_id").to_pylist())
    balance_before = results[19].truth.balance_fen
    unheld_victims = [
        party
        for position, party in enumerate(state.party_id.tolist())
        if 20 <= position < 40
        and response.account_sequence[position, 0] > 0
        and balance_before[position] < 400_000
    ]
    assert unheld_victims
    assert payers == set(unheld_victims)
    for position in range(20, 40):
        if response.account_sequence[position, 0]:
            assert response.balance_fen[position, 0] == 400_000  # maxed out
    held_draws = set(concat(results[19:29], "draw").column("borrower_id").to_pylist()) & set(
        held_ids.tolist()
    )
    assert not held_draws
    applications = day["loan_application"]
    applied = pc.filter(applications, pc.is_in(applications.column("applicant_id"), pa.array(unheld_victims)))
    assert set(applied.column("product").to_pylist()) >= {"installment", "revolving"}


def test_roll_and_cure_rates_near_calibration() -> None:
    size = 20_000
    state = make_state(size, risk_logit=-4.5, income_fen=800_000)
    response, results = run(state, 230, everyone_bnpl(state))
    # cure within 30 days of a first delinquency: ≈ 0.86
    first_dpd = np.full(size, -1)
    outcome = np.zeros(size, dtype=bool)
    for result in results:
        dpd = result.truth.days_past_due
        starting = (dpd == 1) & (first_dpd < 0)
        first_dpd[starting] = result.truth.day
        reached = (dpd >= 30) & (first_dpd >= 0) & (result.truth.day - first_dpd == 29)
        outcome |= reached
    # the ever-30 flag records every borrower who was ever 30+ days past due, even one cured the next day
    ever = np.zeros(size, dtype=bool)
    for result in results:
        ever |= result.truth.days_past_due >= 30
        assert not (ever & ~result.truth.ever_30).any()
    matured = (first_dpd >= 0) & (first_dpd <= 230 - 31)
    cure_rate = 1.0 - outcome[matured].mean()
    assert matured.sum() > 500
    assert 0.80 <= cure_rate <= 0.92
    # roll 1–30 → 31–60 from one month end to the next: ≈ 0.5
    ends = [result.truth for result in results if result.truth.month_end]
    rolled = bucket = 0
    for before, after in itertools.pairwise(ends):
        m1 = (before.days_past_due >= 1) & (before.days_past_due <= 30)
        rolled += int((m1 & (after.days_past_due >= 31) & (after.days_past_due <= 60)).sum())
        bucket += int(m1.sum())
    assert bucket > 300
    assert 0.35 <= rolled / bucket <= 0.65
    # BNPL utilisation: mean ≈ 0.35
    lines = response.line_fen[:, 0].sum()
    utilisation = np.mean([truth.balance_fen.sum() / lines for truth in ends])
    assert 0.25 <= utilisation <= 0.45


def test_money_is_int_and_balances_conserve() -> None:
    size = 1_000
    state = make_state(size, risk_logit=-3.5, fraud=np.arange(size) < 30)
    actions = {
        0: offers(state.party_id, "bnpl", 300_000),
        1: offers(state.party_id[:400], "installment", 700_000, 2000, 6),
        2: offers(state.party_id[400:700], "revolving", 500_000, 1500),
        3: offers(state.party_id[700:900], "merchant", 2_000_000, 1200, 3),
    }
    response, results = run(state, 330, actions)
    for name in ("balance_fen", "drawn_fen", "repaid_fen", "interest_fen", "written_off_fen", "line_fen"):
        assert getattr(response, name).dtype == np.int64
    assert (response.written_off_fen > 0).any() and (response.interest_fen > 0).any()
    np.testing.assert_array_equal(
        response.drawn_fen + response.interest_fen - response.repaid_fen - response.written_off_fen,
        response.balance_fen,
    )
    # the events tell the same story: draws − repayments per borrower match the books
    draws = concat(results, "draw").group_by("borrower_id").aggregate([("amount_fen", "sum")]).to_pydict()
    repayments = (
        concat(results, "repayment").group_by("borrower_id").aggregate([("amount_fen", "sum")]).to_pydict()
    )
    drawn = dict(zip(draws["borrower_id"], draws["amount_fen_sum"], strict=True))
    repaid = dict(zip(repayments["borrower_id"], repayments["amount_fen_sum"], strict=True))
    for position, party in enumerate(state.party_id.tolist()):
        assert drawn.get(party, 0) == int(response.drawn_fen[position].sum())
        assert repaid.get(party, 0) == int(response.repaid_fen[position].sum())
    # installments pay off over their term
    closed = (
        ~response.open[:400, 1]
        & (response.written_off_fen[:400, 1] == 0)
        & (response.account_sequence[:400, 1] > 0)
    )
    assert closed.any()
    assert (response.balance_fen[:400, 1][closed] == 0).all()


def test_annuity_payment() -> None:
    # 10,000 yuan over 12 months at 12 % a year: 888.49 yuan a month
    assert annuity_payment_fen(1_000_000, 1200, 12) == 88_849
    assert annuity_payment_fen(1_000_000, 0, 3) == 333_334
    with pytest.raises(InputError, match="term_months"):
        annuity_payment_fen(1_000, 1200, 0)


def test_bad_actions_are_refused_with_the_field() -> None:
    with pytest.raises(InputError, match="offer_amount_fen"):
        LenderActions(
            offer_party=np.array(["a"]),
            offer_product=np.array(["bnpl"]),
            offer_amount_fen=np.array([1.5]),  # a float is not money
            offer_rate_bp=np.array([0]),
            offer_term_months=np.array([0]),
            offer_application_id=np.array([""]),
        )
    with pytest.raises(InputError, match="line_product"):
        LenderActions(
            line_party=np.array(["a"]), line_product=np.array(["mortgage"]), line_new_fen=np.array([0])
        )
    with pytest.raises(InputError, match="hold_days"):
        LenderActions(hold_party=np.array(["a", "b"]), hold_days=np.array([1]))
    state = make_state(3)
    response = BorrowerResponse(seed=1)
    with pytest.raises(InputError, match="unknown party"):
        response.step(state, offers(np.array(["nobody"]), "bnpl", 1_000), 0, START)


def test_parties_not_yet_registered_do_not_apply() -> None:
    size = 3_000
    state = make_state(size, fraud=np.arange(size) % 10 == 0)
    state.registered_day[:] = np.where(np.arange(size) < size // 2, 0, 1_000)
    _, results = run(state, 60, {})
    applicants = set(concat(results, "loan_application").column("applicant_id").to_pylist())
    assert applicants
    assert applicants <= set(state.party_id[: size // 2].tolist())
    assert PRODUCTS[0] in set(concat(results, "loan_application").column("product").to_pylist())


def test_the_parameters_come_from_the_scenario() -> None:
    from fengkong.sim.scenario import load_scenario, scenario_from_mapping

    default = default_response_parameters()
    assert default == ResponseParameters.from_scenario(load_scenario())
    assert default.application_daily[1] == (0.0020, 0.0010, 0.0004, 0.0)  # riders: bnpl, installment, ...
    changed = scenario_from_mapping(
        {"response": {"beta_debt_burden": 3.5, "application_daily": {"rider": {"installment": 0.002}}}}
    )
    params = ResponseParameters.from_scenario(changed)
    assert params.beta_debt_burden == 3.5
    assert params.application_daily[1] == (0.0020, 0.0020, 0.0004, 0.0)
    assert params.technical_miss_multiple == default.technical_miss_multiple
    assert BorrowerResponse(seed=1).params == default
