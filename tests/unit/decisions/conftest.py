"""Shared pieces for the decision tests: the default policy, small models, a dict feature reader, applicants.

Every party, device, phone and IP here is made up (the phone numbers are in the fictitious 138-0000-xxxx
style range and belong to nobody).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pytest

from fengkong.clock import FixedClock
from fengkong.decisions.engine import DecisionEngine
from fengkong.decisions.onboarding import Application
from fengkong.decisions.policy import Policy, load_policy
from fengkong.decisions.ports import InMemoryExposure, StaticBlocklist
from fengkong.decisions.scorers import GBMScorer, ScorecardScorer
from fengkong.domain.features import FeatureValue, FeatureVector
from fengkong.domain.products import ProductKind
from fengkong.scoring.gbm import Calibration, GBMServing
from fengkong.scoring.table import FORMAT, ScorecardTable

DEFAULT_POLICY = (
    Path(__file__).resolve().parents[3] / "src" / "fengkong" / "decisions" / "policies" / "default.yaml"
)
NOW = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)
RECEIVED = datetime(2026, 3, 2, 3, 59, 58, tzinfo=UTC)
GBM_FEATURES = (
    "consumer_bureau_score_last",
    "consumer_orders_30d",
    "consumer_collection_repayment_share_180d",
)


def _numeric(name: str, edges: Sequence[float], points: Sequence[int], missing: int) -> dict[str, Any]:
    bounds_ = [None, *edges, None]
    return {
        "name": name,
        "kind": "numeric",
        "information_value": 0.3,
        "coefficient": 1.0,
        "missing_points": missing,
        "missing_count": 10,
        "unknown_points": missing,
        "bins": [
            {
                "label": f"[{low}, {high})",
                "lower": low,
                "upper": high,
                "categories": [],
                "count": 100,
                "event_rate": 0.1,
                "woe": 0.0,
                "points": p,
            }
            for low, high, p in zip(bounds_[:-1], bounds_[1:], points, strict=True)
        ],
    }


def scorecard_table() -> ScorecardTable:
    """Three characteristics; the best applicant scores 160 points (PD about 1 %), the worst 15."""
    factor = 20.0 / math.log(2.0)
    return ScorecardTable.from_dict(
        {
            "format": FORMAT,
            "pdo": 20.0,
            "base_odds": 50.0,
            "base_points": 600.0,
            "factor": factor,
            "offset": 27.4,
            "intercept": 0.0,
            "characteristics": [
                _numeric("consumer_bureau_score_last", [500.0, 650.0], [10, 40, 70], 35),
                _numeric("consumer_orders_30d", [2.0, 10.0], [5, 30, 50], 5),
                _numeric("consumer_collection_repayment_share_180d", [0.1, 0.5], [40, 20, 0], 30),
            ],
        }
    )


@pytest.fixture(scope="session")
def gbm_serving() -> GBMServing:
    return small_gbm()


def small_gbm() -> GBMServing:
    """A 15-tree LightGBM on three consumer features, Platt calibration with a = 1, b = 0."""
    rng = np.random.default_rng(7)
    rows = 2_000
    matrix = np.column_stack(
        [rng.normal(620, 80, rows), rng.poisson(8, rows).astype(float), rng.uniform(0, 1, rows)]
    )
    logit = -2.5 - 0.01 * (matrix[:, 0] - 620) - 0.1 * (matrix[:, 1] - 8) + 2.0 * matrix[:, 2]
    target = (rng.uniform(0, 1, rows) < 1 / (1 + np.exp(-logit))).astype(int)
    params = {
        "objective": "binary",
        "num_leaves": 7,
        "num_threads": 1,
        "deterministic": True,
        "verbosity": -1,
        "seed": 1,
    }
    booster = lgb.train(
        params, lgb.Dataset(matrix, target, feature_name=list(GBM_FEATURES)), num_boost_round=15
    )
    return GBMServing(booster, GBM_FEATURES, (), {}, Calibration("platt", 1.0, 0.0), 15, {})


class DictReader:
    """A feature reader over a dict: (entity type, entity ID) -> values; unknown entities read missing."""

    def __init__(self, data: Mapping[tuple[str, str], Mapping[str, FeatureValue]]) -> None:
        self.data = {key: dict(values) for key, values in data.items()}
        self.reads = 0

    def read(
        self, entity_type: str, entity_id: str, as_of: datetime, names: Sequence[str] | None = None
    ) -> FeatureVector:
        self.reads += 1
        values = self.data.get((entity_type, entity_id), {})
        chosen = list(values) if names is None else list(names)
        return FeatureVector(
            entity_type, entity_id, as_of, {name: values.get(name) for name in chosen}, "test"
        )


GOOD_CONSUMER: dict[str, FeatureValue] = {
    "consumer_orders_30d": 14,
    "consumer_orders_today": 1,
    "consumer_refunds_30d": 0,
    "consumer_logins_1h": 1,
    "consumer_login_devices_distinct_7d": 1,
    "consumer_login_ips_distinct_24h": 1,
    "consumer_loan_applications_7d": 1,
    "consumer_loan_applications_30d": 1,
    "consumer_transfers_to_unknown_24h": 0,
    "consumer_transfer_out_amount_24h_fen": 0,
    "consumer_bureau_score_last": 720,
    "consumer_bureau_delinquencies_24m_last": 0,
    "consumer_bureau_inquiries_6m_last": 1,
    "consumer_bureau_total_debt_last_fen": 1_000_000,
    "consumer_collection_repayment_share_180d": 0.0,
    "consumer_drawn_amount_90d_fen": 0,
    "consumer_repaid_to_drawn_90d": None,
}
QUIET_DEVICE: dict[str, FeatureValue] = {
    "device_accounts_distinct_24h": 1,
    "device_accounts_distinct_30d": 1,
    "device_applicants_distinct_30d": 1,
    "device_logins_24h": 3,
}
QUIET_PHONE: dict[str, FeatureValue] = {"phone_accounts_distinct_30d": 1, "phone_applicants_distinct_30d": 1}
QUIET_IP: dict[str, FeatureValue] = {
    "ip_accounts_distinct_24h": 1,
    "ip_applicants_distinct_7d": 1,
    "ip_logins_1h": 2,
}


def world(**consumer_changes: FeatureValue) -> DictReader:
    """One good consumer (c-1) on a quiet device, phone and IP, with ``consumer_changes`` applied."""
    return DictReader(
        {
            ("consumer", "c-1"): {**GOOD_CONSUMER, **consumer_changes},
            ("device", "dev-1"): QUIET_DEVICE,
            ("phone", "13800000001"): QUIET_PHONE,
            ("ip", "10.0.0.1"): QUIET_IP,
        }
    )


def application(**changes: Any) -> Application:
    base = Application(
        application_id="app-1",
        party_id="c-1",
        household_id="h-1",
        product=ProductKind.INSTALLMENT,
        requested_amount_fen=1_000_000,
        installments=12,
        age_years=30,
        identity_verified=True,
        monthly_income_fen=1_200_000,
        monthly_debt_payments_fen=100_000,
        received_at=RECEIVED,
        device_id="dev-1",
        phone="13800000001",  # fictitious
        ip="10.0.0.1",
    )
    return replace(base, **changes)


@pytest.fixture(scope="session")
def default_policy() -> Policy:
    return load_policy(DEFAULT_POLICY)


def build_engine(policy: Policy, gbm: GBMServing, reader: DictReader, **ports: Any) -> DecisionEngine:
    models = {
        "scorecard": ScorecardScorer(scorecard_table(), "scorecard-test-1"),
        "gbm": GBMScorer(gbm, "gbm-test-1"),
    }
    ports.setdefault("clock", FixedClock(NOW))
    ports.setdefault("blocklist", StaticBlocklist())
    ports.setdefault("exposure", InMemoryExposure())
    return DecisionEngine(policy, reader=reader, models=models, **ports)
