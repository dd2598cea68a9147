"""The training table: bookings linked to applications, the bad label read from repayment events,
point-in-time features, indeterminates left out and protected attributes kept apart.
Parties are fictitious."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fengkong.errors import InputError
from fengkong.services.model_dataset import (
    PROTECTED_COLUMNS,
    DatasetOptions,
    ModelDataset,
    build_model_dataset,
)
from tests.unit.services.model_lake import LakeBuilder, due_days, register

# due days (the 8th) as day numbers after 2026-01-01: Mar 8 = 66, Apr 8 = 97, ..., Sep 8 = 250
BOOKED_DAY = 41  # applications on day 40, first draw the next day; window closes on day 221


def _loan(
    builder: LakeBuilder, party: str, applied: int, paid_dues: list[int], extra: list[tuple[int, str]]
) -> None:
    account = f"{party}:installment:1"
    builder.add(
        "loan_application",
        applied,
        9.0,
        applicant_id=party,
        application_id=f"app-{party}",
        product="installment",
        requested_amount_fen=300_000,
        term_months=12,
        declared_monthly_income_fen=600_000,
    )
    builder.add(
        "draw",
        applied + 1,
        11.0,
        borrower_id=party,
        account_id=account,
        draw_id=f"d-{party}",
        amount_fen=300_000,
    )
    for number, due in enumerate(paid_dues):
        builder.add(
            "repayment",
            due,
            8.0,
            borrower_id=party,
            account_id=account,
            repayment_id=f"r-{party}-{number}",
            amount_fen=26_000,
            channel="auto_debit",
        )
    for number, (day, channel) in enumerate(extra):
        builder.add(
            "repayment",
            day,
            15.0,
            borrower_id=party,
            account_id=account,
            repayment_id=f"x-{party}-{number}",
            amount_fen=26_000,
            channel=channel,
        )


@pytest.fixture(scope="module")
def hand_lake(tmp_path_factory: pytest.TempPathFactory) -> ModelDataset:
    builder = LakeBuilder()
    for index in range(1, 10):
        register(builder, f"C9000{index}", 1990, 2, 600_000)
    dues = due_days(BOOKED_DAY, 300)
    assert dues[:3] == [66, 97, 127]
    _loan(builder, "C90001", 40, dues, [])  # pays every due day: good
    _loan(builder, "C90002", 40, [], [])  # never pays: bad
    _loan(builder, "C90003", 40, dues[1:], [(76, "manual")])  # misses once, pays 10 days later: good
    _loan(builder, "C90004", 40, [], [(100, "collection")])  # collected at 34 days past due: bad
    _loan(builder, "C90005", 200, due_days(201, 300), [])  # booked too late for a 180-day window
    builder.add(
        "loan_application",
        40,
        9.0,
        applicant_id="C90006",
        application_id="app-C90006",
        product="bnpl",
        requested_amount_fen=100_000,
        term_months=0,
        declared_monthly_income_fen=600_000,
    )  # no draw: unbooked
    _loan(builder, "C90007", 40, [d for d in dues if d < 250], [])  # stops paying after the window: good
    _loan(builder, "C90008", 40, [d for d in dues if d < 188], [])  # 30 days past due on day 218: bad
    # point in time: an order before the application counts, one after does not
    for day in (39, 45):
        builder.add(
            "order_placed",
            day,
            12.0,
            consumer_id="C90001",
            merchant_id="M00001",
            order_id=f"o-{day}",
            amount_fen=5_000,
            category="food",
            pay_method="wallet",
        )
    builder.add(
        "order_placed",
        300,
        12.0,
        consumer_id="C90009",
        merchant_id="M00001",
        order_id="o-end",
        amount_fen=5_000,
        category="food",
        pay_method="wallet",
    )  # the lake runs to day 300
    lake = builder.write(tmp_path_factory.mktemp("hand") / "lake")
    return build_model_dataset(lake)


def _row(dataset: ModelDataset, party: str) -> pd.Series:
    rows = dataset.frame[dataset.frame["party_id"] == party]
    assert len(rows) == 1
    return rows.iloc[0]


@pytest.mark.parametrize(
    ("party", "bad"),
    [("C90001", 0.0), ("C90002", 1.0), ("C90003", 0.0), ("C90004", 1.0), ("C90007", 0.0), ("C90008", 1.0)],
)
def test_the_label_is_30_days_past_due_within_the_window_from_repayments(
    hand_lake: ModelDataset, party: str, bad: float
) -> None:
    row = _row(hand_lake, party)
    assert row["booked"] and row["matured"]
    assert row["bad"] == bad


def test_young_bookings_are_indeterminate_and_unbooked_applications_unlabelled(
    hand_lake: ModelDataset,
) -> None:
    young = _row(hand_lake, "C90005")
    assert young["booked"] and not young["matured"] and np.isnan(young["bad"])
    unbooked = _row(hand_lake, "C90006")
    assert not unbooked["booked"] and np.isnan(unbooked["bad"])
    assert set(hand_lake.labelled["party_id"]) == {f"C9000{i}" for i in (1, 2, 3, 4, 7, 8)}
    assert list(hand_lake.unbooked["party_id"]) == ["C90006"]


def test_booking_date_is_the_first_draw_and_early_indicators_follow(hand_lake: ModelDataset) -> None:
    row = _row(hand_lake, "C90002")
    assert (row["booked_date"] - row["applied_date"]).days == 1
    assert row["first_payment_default"] == 1.0 and row["ever_30_mob3"] == 1.0
    cured = _row(hand_lake, "C90003")
    assert cured["first_payment_default"] == 0.0 and cured["ever_30_mob3"] == 0.0


def test_features_are_point_in_time_and_protected_attributes_are_not_features(
    hand_lake: ModelDataset,
) -> None:
    row = _row(hand_lake, "C90001")
    assert row["consumer_orders_30d"] == 1  # the order of day 45 came after the application
    assert not set(PROTECTED_COLUMNS) & set(hand_lake.feature_columns)
    assert row["age_band"] == "35-44" and row["region"] == "tier-2"
    assert row["thin_file"]  # no bureau report was ever received
    assert "consumer_bureau_score_last" not in hand_lake.ecosystem_columns


def test_a_lake_without_applications_is_refused_naming_the_lake(tmp_path: Path) -> None:
    builder = LakeBuilder()
    register(builder, "C90001", 1990, 2, 600_000)
    lake = builder.write(tmp_path / "lake")
    with pytest.raises(InputError, match="no loan_application events") as caught:
        build_model_dataset(lake)
    assert caught.value.field == "lake"
    with pytest.raises(InputError) as missing:
        build_model_dataset(tmp_path / "nowhere")
    assert missing.value.field == "lake"


@pytest.mark.parametrize(
    ("options", "field"),
    [({"bad_window_days": 30}, "bad_window_days"), ({"booking_link_days": 0}, "booking_link_days")],
)
def test_bad_options_are_refused_by_name(options: dict[str, int], field: str) -> None:
    with pytest.raises(InputError) as caught:
        DatasetOptions(**options)
    assert caught.value.field == field
