"""Small synthetic labelled tables for the credit-model tests (fast: a few hundred rows)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def synthetic_credit(rows: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Income lowers risk, utilisation raises it, the region matters, ``noise`` does not."""
    rng = np.random.default_rng(seed)
    income = rng.lognormal(8.5, 0.5, rows)
    utilisation = rng.uniform(0, 1.2, rows)
    region = rng.choice(["north", "south", "east", "west"], rows, p=[0.4, 0.3, 0.2, 0.1])
    noise = rng.normal(size=rows)
    logit = (
        -1.2
        - 0.8 * (np.log(income) - 8.5) / 0.5
        + 1.5 * utilisation
        + np.select([region == "north", region == "west"], [-0.5, 0.7], 0.0)
    )
    y = (rng.uniform(size=rows) < 1 / (1 + np.exp(-logit))).astype(np.int8)
    utilisation[rng.uniform(size=rows) < 0.05] = np.nan
    frame = pd.DataFrame({"income": income, "utilisation": utilisation, "region": region, "noise": noise})
    return frame, y


@pytest.fixture(scope="session")
def credit_data() -> tuple[pd.DataFrame, np.ndarray]:
    return synthetic_credit(1_500, seed=11)


@pytest.fixture(scope="session")
def fresh_rows() -> pd.DataFrame:
    frame, _ = synthetic_credit(300, seed=12)
    frame.loc[frame.index[:5], "region"] = "atlantis"  # unseen in training
    frame.loc[frame.index[5:10], "region"] = None
    frame.loc[frame.index[10:15], "income"] = np.nan
    return frame


@pytest.fixture(scope="session")
def fitted_scorecard(credit_data: tuple[pd.DataFrame, np.ndarray]):  # type: ignore[no-untyped-def]
    from fengkong.scoring.scorecard import ScorecardModel

    frame, y = credit_data
    return ScorecardModel(random_state=0).fit(frame, y)
