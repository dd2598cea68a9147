"""Use case: a credit-model training table from an event lake — one row per application, point in time.

What the lake holds (and what it does not): ``loan_application`` events, the ``draw`` and ``repayment``
events of the accounts that were booked, and the ecosystem's behaviour. It holds no decision events, so an
application without a booked account was either declined or approved and not taken up: those rows are
*unbooked* (the population reject inference works on), never labelled.

The rows (:func:`build_model_dataset`):

* **applications of persons** (products other than ``merchant``; merchant loans need the merchant
  features and are a model of their own);
* **features** — the standard consumer and rider features backfilled point in time at the application's
  ``received_at`` (:func:`fengkong.features.offline.backfill`: an event not yet received then never counts),
  and the application's own data (product, requested amount, term, declared income);
* **booking** — an account ``<party>:<product>:<n>`` whose first draw comes no more than
  ``booking_link_days`` days after the application for that product (the latest such application);
  the booking date is the first draw's business date;
* **label** (DOMAIN.md, "Bad"): ever 30 or more days past due within ``bad_window_days`` (180) of booking,
  read from repayment events alone — see :func:`missed_due_days`; bookings whose window has not closed by
  the lake's last business date are *indeterminate* and get no label (never counted as good);
* **tenure** (days since registration) rides along for the baseline's identity check but is not a
  feature: in a world where nearly everyone registered in its first days it is a calendar clock (its PSI
  between the two halves of a year was 3.2), and a model would learn the booking date instead of the risk;
* **protected attributes** — age band (from the registered birth year) and region (the city tier); they
  ride along for the fairness report and are never model inputs (:data:`PROTECTED_COLUMNS`). The event
  schema records no gender, so the fairness report says so instead of inventing one.

Reading the lake is all this module does: the simulator's ground truth (its oracle PD) is read only by the
evaluation in :mod:`fengkong.services.model_report`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from fengkong import bounds
from fengkong.errors import InputError
from fengkong.features.offline import KEY_AS_OF, KEY_ENTITY, backfill, lake_files, lake_schema
from fengkong.features.spec import Entity
from fengkong.features.standard import STANDARD_FEATURES

DAY_US: Final = 86_400 * 1_000_000
SHANGHAI_OFFSET_US: Final = 8 * 3_600 * 1_000_000  # Asia/Shanghai has kept UTC+8 since 1991
DUE_DAY_OF_MONTH: Final = 8  # statements on the 1st, due on the 8th (DOMAIN.md, 月付)
STATEMENT_AGE_DAYS_MIN: Final = 15  # an account younger than this on the 1st is not yet billed
PAST_DUE_DAYS_BAD: Final = 30  # DOMAIN.md: ever 30+ days past due
BUSINESS_PRODUCT: Final = "merchant"

#: Columns that describe who the applicant is, reported on and never fed to a model.
PROTECTED_COLUMNS: Final = ("age_band", "region", "birth_year")
#: Columns that identify or describe the row rather than the applicant's risk.
ID_COLUMNS: Final = (
    "application_id",
    "party_id",
    "applied_at",
    "applied_date",
    "booked",
    "booked_date",
    "account_id",
    "matured",
    "bad",
    "thin_file",
    "first_payment_default",
    "ever_30_mob3",
    "party_tenure_days",
)
APPLICATION_FEATURES: Final = (
    "product",
    "requested_amount_fen",
    "term_months",
    "declared_monthly_income_fen",
)
BUREAU_PREFIX: Final = "consumer_bureau_"
BUREAU_FEATURES: Final = (
    *(
        spec.name
        for spec in STANDARD_FEATURES.for_entity(Entity.CONSUMER)
        if spec.name.startswith(BUREAU_PREFIX)
    ),
    "consumer_seconds_since_bureau_report",
)
AGE_BANDS: Final = (
    (0, 25, "18-24"),
    (25, 35, "25-34"),
    (35, 45, "35-44"),
    (45, 55, "45-54"),
    (55, 200, "55+"),
)


@dataclass(frozen=True, slots=True)
class DatasetOptions:
    """How rows are chosen and labelled. The defaults are DOMAIN.md's; a short lake needs a shorter window."""

    bad_window_days: int = 180
    booking_link_days: int = 45
    max_applications: int = bounds.model_dataset_applications_max

    def __post_init__(self) -> None:
        if not 30 < self.bad_window_days <= bounds.model_bad_window_days_max:
            raise InputError(
                f"must be in (30, {bounds.model_bad_window_days_max}] days", field="bad_window_days"
            )
        if not 1 <= self.booking_link_days <= 366:
            raise InputError("must be in [1, 366] days", field="booking_link_days")
        if not 1 <= self.max_applications <= bounds.model_dataset_applications_max:
            raise InputError(
                f"must be in [1, {bounds.model_dataset_applications_max}]", field="max_applications"
            )


@dataclass(frozen=True, slots=True)
class ModelDataset:
    """Every application of a person with its features; labels where booked and matured.

    ``frame`` columns: :data:`ID_COLUMNS`, :data:`PROTECTED_COLUMNS`, :data:`APPLICATION_FEATURES` and the
    backfilled features (listed in ``feature_columns``, which never include a protected column).
    """

    frame: pd.DataFrame
    feature_columns: tuple[str, ...]
    first_date: date
    last_date: date
    options: DatasetOptions

    @property
    def labelled(self) -> pd.DataFrame:
        """Booked applications whose outcome window has closed, with ``bad`` 0 or 1."""
        rows = self.frame[self.frame["booked"] & self.frame["matured"]]
        return rows.reset_index(drop=True)

    @property
    def unbooked(self) -> pd.DataFrame:
        """Applications with no booked account: declined, or approved and not taken up."""
        return self.frame[~self.frame["booked"]].reset_index(drop=True)

    @property
    def ecosystem_columns(self) -> tuple[str, ...]:
        """The feature columns that do not come from the credit bureau (what a thin-file model may use)."""
        return tuple(name for name in self.feature_columns if name not in BUREAU_FEATURES)


def _read(lake_dir: Path, event_type: str, columns: list[str]) -> pa.Table:
    files = lake_files(lake_dir, event_type)
    if not files:
        return lake_schema(event_type).empty_table().select(columns)
    return pa.concat_tables([pq.read_table(path, columns=columns) for path in files])


def _day_numbers(timestamps: pa.ChunkedArray | pa.Array) -> npt.NDArray[np.int64]:
    """Asia/Shanghai business dates of UTC instants, as days since 1970-01-01."""
    micros = np.asarray(pc.cast(timestamps, pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)
    return (micros + SHANGHAI_OFFSET_US) // DAY_US


def _to_date(day: int) -> date:
    return date(1970, 1, 1) + timedelta(days=int(day))


def _due_days(first: int, last: int) -> list[int]:
    """Day numbers of every due day (the 8th) from ``first`` to ``last``."""
    start = _to_date(first).replace(day=1)
    out: list[int] = []
    while True:
        due = start.replace(day=DUE_DAY_OF_MONTH)
        number = (due - date(1970, 1, 1)).days
        if number > last:
            return out
        if number >= first:
            out.append(number)
        start = (start + timedelta(days=32)).replace(day=1)


def missed_due_days(draws: pd.DataFrame, repayments: pd.DataFrame, last_day: int) -> pd.DataFrame:
    """``(party_id, due_day)`` of every due day a borrower reached 30 days past due on, from events alone.

    ``draws`` and ``repayments`` have ``party_id``, ``account_id``, ``day`` (business day number) and
    ``amount_fen``. On each due day ``D`` (the 8th) a borrower *owed* if some account first drawn at least
    :data:`STATEMENT_AGE_DAYS_MIN` days before the statement (the 1st) had an observed balance — draws less
    repayments before the statement — above zero (interest, which the events do not carry, only adds to
    it). A borrower who owed, paid nothing on ``D`` and nothing in the 29 days after was 30 days past due on
    ``D + 30``. A due day whose 29 following days are not all in the lake is not judged.
    """
    if draws.empty:
        return pd.DataFrame({"party_id": pd.Series(dtype=object), "due_day": pd.Series(dtype=np.int64)})
    first_draw = draws.groupby("account_id")["day"].min()
    first_day = int(draws["day"].min())
    found: list[pd.DataFrame] = []
    repaid_days = repayments[["party_id", "day"]].drop_duplicates()
    for due in _due_days(first_day, last_day - (PAST_DUE_DAYS_BAD - 1)):
        statement = due - (DUE_DAY_OF_MONTH - 1)
        billed_accounts = first_draw[first_draw <= statement - STATEMENT_AGE_DAYS_MIN].index
        drawn = draws[(draws["day"] < statement) & draws["account_id"].isin(billed_accounts)]
        paid = repayments[(repayments["day"] < statement) & repayments["account_id"].isin(billed_accounts)]
        balance = (
            drawn.groupby("account_id")["amount_fen"]
            .sum()
            .sub(paid.groupby("account_id")["amount_fen"].sum(), fill_value=0)
        )
        owing_accounts = balance[balance > 0].index
        owing = set(draws.loc[draws["account_id"].isin(owing_accounts), "party_id"].unique())
        if not owing:
            continue
        window = repaid_days[
            (repaid_days["day"] >= due) & (repaid_days["day"] <= due + PAST_DUE_DAYS_BAD - 1)
        ]
        paying = set(window["party_id"].unique())
        missed = sorted(owing - paying)
        if missed:
            found.append(pd.DataFrame({"party_id": missed, "due_day": np.full(len(missed), due, np.int64)}))
    if not found:
        return pd.DataFrame({"party_id": pd.Series(dtype=object), "due_day": pd.Series(dtype=np.int64)})
    return pd.concat(found, ignore_index=True)


def _product_of(account_ids: pd.Series) -> pd.Series:
    """``<party>:<product>:<n>`` → product (None when the ID has another shape)."""
    parts = account_ids.str.rsplit(":", n=2)
    return parts.map(lambda items: items[1] if isinstance(items, list) and len(items) == 3 else None)


def _link_bookings(applications: pd.DataFrame, draws: pd.DataFrame, link_days: int) -> pd.DataFrame:
    """For each account: the latest application of its party and product at most ``link_days`` before its
    first draw. Returns ``application_id, account_id, booked_day``."""
    accounts = draws.groupby("account_id", as_index=False).agg(
        party_id=("party_id", "first"), day=("day", "min")
    )
    accounts["product"] = _product_of(accounts["account_id"])
    accounts = accounts.dropna(subset=["product"]).sort_values("day", kind="mergesort")
    apps = applications[["application_id", "party_id", "product", "applied_day"]].sort_values(
        "applied_day", kind="mergesort"
    )
    if accounts.empty or apps.empty:
        return pd.DataFrame({"application_id": [], "account_id": [], "booked_day": pd.Series(dtype=np.int64)})
    linked = pd.merge_asof(
        accounts,
        apps,
        left_on="day",
        right_on="applied_day",
        by=["party_id", "product"],
        direction="backward",
        tolerance=link_days,
    ).dropna(subset=["application_id"])
    linked = linked.sort_values(["application_id", "day"], kind="mergesort").drop_duplicates("application_id")
    return linked.rename(columns={"day": "booked_day"})[["application_id", "account_id", "booked_day"]]


def _early_flags(
    parties: pd.Series, booked_day: npt.NDArray[np.int64], missed: pd.DataFrame, last_day: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Per booking (``booked_day`` −1: not booked): first-payment default — the first due day after the
    first statement at least :data:`STATEMENT_AGE_DAYS_MIN` days after booking was missed for 30 days —
    and ever 30+ within 90 days of booking (month on book 3). NaN where the lake does not reach far enough."""
    missed_days: dict[str, list[int]] = {}
    for party, due in zip(missed["party_id"].tolist(), missed["due_day"].tolist(), strict=True):
        missed_days.setdefault(str(party), []).append(int(due))
    fpd = np.full(len(booked_day), np.nan)
    mob3 = np.full(len(booked_day), np.nan)
    for row, (party, booked) in enumerate(zip(parties.tolist(), booked_day.tolist(), strict=True)):
        if booked < 0:
            continue
        statement = _to_date(booked + STATEMENT_AGE_DAYS_MIN)
        if statement.day != 1:
            statement = (statement.replace(day=1) + timedelta(days=32)).replace(day=1)
        first_due = (statement.replace(day=DUE_DAY_OF_MONTH) - date(1970, 1, 1)).days
        days = missed_days.get(str(party), [])
        if first_due + PAST_DUE_DAYS_BAD - 1 <= last_day:
            fpd[row] = float(first_due in days)
        if booked + 90 <= last_day:
            mob3[row] = float(any(booked <= due and due + PAST_DUE_DAYS_BAD <= booked + 90 for due in days))
    return fpd, mob3


def _age_band(age: pd.Series) -> pd.Series:
    bands = pd.Series("unknown", index=age.index, dtype=object)
    for low, high, name in AGE_BANDS:
        bands[(age >= low) & (age < high)] = name
    return bands


def build_model_dataset(lake_dir: Path | str, options: DatasetOptions | None = None) -> ModelDataset:
    """The training table of ``lake_dir`` (see the module docstring). Refuses a lake without applications."""
    options = options or DatasetOptions()
    lake = Path(lake_dir)
    if not lake.is_dir():
        raise InputError(f"no such directory: {lake}", field="lake")
    app_table = _read(
        lake,
        "loan_application",
        [
            "received_at",
            "applicant_id",
            "application_id",
            "product",
            "requested_amount_fen",
            "term_months",
            "declared_monthly_income_fen",
        ],
    )
    if app_table.num_rows == 0:
        raise InputError(
            f"{lake} holds no loan_application events "
            "(expected <lake>/loan_application/date=*/part-*.parquet; "
            "a lake written by `fengkong demo` has them, one from `fengkong simulate` does not)",
            field="lake",
        )
    applications = app_table.to_pandas()
    applications["applied_day"] = _day_numbers(app_table.column("received_at"))
    applications = applications.rename(columns={"applicant_id": "party_id", "received_at": "applied_at"})
    applications = applications[applications["product"] != BUSINESS_PRODUCT]
    applications = applications.drop_duplicates("application_id").sort_values(
        ["applied_at", "application_id"], kind="mergesort"
    )
    if len(applications) > options.max_applications:
        raise InputError(
            f"{len(applications)} applications, over max_applications={options.max_applications}",
            field="lake",
        )
    applications = applications.reset_index(drop=True)

    draw_table = _read(lake, "draw", ["occurred_at", "borrower_id", "account_id", "amount_fen"])
    repay_table = _read(lake, "repayment", ["occurred_at", "borrower_id", "account_id", "amount_fen"])
    draws = pd.DataFrame(
        {
            "party_id": draw_table.column("borrower_id").to_pandas(),
            "account_id": draw_table.column("account_id").to_pandas(),
            "day": _day_numbers(draw_table.column("occurred_at")),
            "amount_fen": draw_table.column("amount_fen").to_numpy().astype(np.int64),
        }
    )
    repayments = pd.DataFrame(
        {
            "party_id": repay_table.column("borrower_id").to_pandas(),
            "account_id": repay_table.column("account_id").to_pandas(),
            "day": _day_numbers(repay_table.column("occurred_at")),
            "amount_fen": repay_table.column("amount_fen").to_numpy().astype(np.int64),
        }
    )
    days = [applications["applied_day"].to_numpy()]
    for frame in (draws, repayments):
        if not frame.empty:
            days.append(frame["day"].to_numpy())
    all_days = np.concatenate(days)
    first_day, last_day = int(all_days.min()), int(all_days.max())

    links = _link_bookings(applications, draws, options.booking_link_days)
    frame = applications.merge(links, on="application_id", how="left")
    frame["booked"] = frame["account_id"].notna()
    booked_day = frame["booked_day"].fillna(-1).astype(np.int64)
    frame["matured"] = frame["booked"] & (booked_day + options.bad_window_days <= last_day)
    missed = missed_due_days(draws, repayments, last_day)
    bad = np.zeros(len(frame), dtype=bool)
    if not missed.empty:
        pairs = frame.loc[frame["matured"], ["party_id"]].assign(
            row=np.flatnonzero(frame["matured"].to_numpy()),
            booked_day=booked_day[frame["matured"]].to_numpy(),
        )
        joined = pairs.merge(missed, on="party_id", how="inner")
        hit = joined[
            (joined["due_day"] >= joined["booked_day"])
            & (joined["due_day"] + PAST_DUE_DAYS_BAD <= joined["booked_day"] + options.bad_window_days)
        ]
        bad[hit["row"].unique()] = True
    frame["bad"] = np.where(frame["matured"], bad.astype(np.float64), np.nan)
    frame["first_payment_default"], frame["ever_30_mob3"] = _early_flags(
        frame["party_id"], booked_day.to_numpy(), missed, last_day
    )
    frame["booked_date"] = [_to_date(day) if day >= 0 else None for day in booked_day.tolist()]
    frame["applied_date"] = [_to_date(day) for day in frame["applied_day"].tolist()]

    # protected attributes: reported on, never model inputs
    registered_table = _read(lake, "party_registered", ["received_at", "party_id", "birth_year", "city_tier"])
    registered = registered_table.drop_columns(["received_at"]).to_pandas()
    registered["registered_day"] = _day_numbers(registered_table.column("received_at"))
    registered = registered.drop_duplicates("party_id")
    frame = frame.merge(registered, on="party_id", how="left")
    age = pd.Series([d.year for d in frame["applied_date"]], index=frame.index) - frame["birth_year"]
    frame["age_band"] = _age_band(age)
    frame["region"] = frame["city_tier"].map(
        lambda tier: f"tier-{int(tier)}" if pd.notna(tier) else "unknown"
    )
    frame["birth_year"] = frame["birth_year"].astype("float64")
    frame["party_tenure_days"] = (frame["applied_day"] - frame["registered_day"]).astype("float64")

    keys = pa.table(
        {
            KEY_ENTITY: pa.array(frame["party_id"].astype(str).tolist(), type=pa.string()),
            KEY_AS_OF: pa.array(frame["applied_at"].tolist(), type=pa.timestamp("us", tz="UTC")),
        }
    )
    feature_frames = []
    for entity in (Entity.CONSUMER, Entity.RIDER):
        table = backfill(STANDARD_FEATURES, entity, keys, lake_dir=lake, deduplicate=False)
        feature_frames.append(table.drop_columns([KEY_ENTITY, KEY_AS_OF]).to_pandas())
    features = pd.concat(feature_frames, axis=1)
    features = features.loc[:, features.notna().any() & (features.nunique(dropna=False) > 1)]
    frame = pd.concat([frame.reset_index(drop=True), features.reset_index(drop=True)], axis=1)
    frame["thin_file"] = (
        frame["consumer_bureau_score_last"].isna()
        if "consumer_bureau_score_last" in frame
        else pd.Series(True, index=frame.index)
    )
    feature_columns = tuple(APPLICATION_FEATURES) + tuple(features.columns)
    keep = [*ID_COLUMNS, *PROTECTED_COLUMNS, *feature_columns]
    frame = frame[keep]
    for name in (*APPLICATION_FEATURES[1:], "party_tenure_days"):
        frame[name] = frame[name].astype("float64")
    return ModelDataset(
        frame=frame,
        feature_columns=feature_columns,
        first_date=_to_date(first_day),
        last_date=_to_date(last_day),
        options=options,
    )
