"""Dynamic credit lines against a randomised control arm with static lines, on the simulator (issue 8).

One simulated world per seed. The demo's baseline policy (``services/baseline_policy.py``) decides the
applications; its own monthly line review is switched off. Every party is assigned at random (a keyed hash
of the seed and the party ID, half and half) to an arm:

* **control** — static lines: a line stays at the amount it was booked at;
* **treatment** — dynamic lines: the line is opened in SQL (SQLite) when the borrower takes it up, and every
  ``--review-every`` days :func:`fengkong.services.credit_line_review.review_lines` runs the dynamic rules
  and the early warnings over the treatment lines; its changes are sent to the borrower-response model as
  line changes.

The review reads features through a FeatureReader over what fengkong has *observed in events*
(``ObservedBook``: deliveries, rider pay, reviews, settlements over the last 60 days) under the standard
features' names and definitions (counts over 7/30 days; growth = ratio of daily rates; bad-review shares)
— not the online feature engine, which would need the whole ingestion path in the loop. What the book
cannot give is absent (None), never guessed: repayment channels (``consumer_collection_repayment_share_
180d``) and repaid-to-drawn; fraud signals are not fed (no ring snapshot, no case queue in this loop).
"Past due on this line" is counted from the book's observed past-due flag (a statement balance not repaid by
the due day): days since that due day, until the party repays something.

Figures (ground truth of the response model; only ``bench/`` reads it), over the BNPL and revolving
accounts of each arm's parties, per seed and then as a mean with a 95 % t-interval over seeds:

* **yield** — interest charged; **loss** — principal and interest written off, plus the balance of
  borrowers in default (``default_days_past_due``) at the end, not yet written off; **funding** — the daily
  balances at ``FUNDING_RATE_ANNUAL`` (actual/365); **net margin** = yield − loss − funding, per line booked
  (yuan a line), and the treatment's minus the control's;
* **loss rate** — loss over drawn; the relative reduction 1 − treatment/control (goal ≥ 10 %);
* **early warnings** — per treatment party, the first alert; precision = share of alerted parties that go
  on to default (``default_days_past_due`` of the response model) after the alert; lead = days from the
  alert to the default; goal: precision ≥ 30 % counting only defaults at least 30 days after the alert.

The reference run in the same process is the control arm: each figure is printed beside it with the ratio.

    .venv/bin/python bench/bench_dynamic_lines.py --seeds 5 --jobs 2  # small world, 365 days (minutes)
    .venv/bin/python bench/bench_dynamic_lines.py --quick --seeds 2   # tiny world, 150 days (seconds)
    .venv/bin/python bench/bench_dynamic_lines.py --seeds 5 --jobs 3 --no-raise  # cuts and freezes only
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import math
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Final

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import sqlalchemy as sa
from scipy import stats

from fengkong.clock import start_of_business_day
from fengkong.credit_lines.dynamic import DynamicLineParameters
from fengkong.domain.features import FeatureValue, FeatureVector
from fengkong.errors import ConflictError
from fengkong.services import credit_line_review as review
from fengkong.services.baseline_policy import (
    DELIVERIES,
    LOW_REVIEWS,
    REVIEWS,
    RIDER_PAY,
    SETTLED,
    BaselinePolicy,
    ObservedBook,
    merge_actions,
)
from fengkong.services.demo import (
    FULL_DAYS,
    FULL_SCALE,
    QUICK_DAYS,
    QUICK_SCALE,
    QUICK_SIZE,
    QUICK_WARM_UP_DAYS,
    WARM_UP_DAYS,
)
from fengkong.sim.ecosystem import Ecosystem
from fengkong.sim.response import DUE_DAY, PRODUCTS, BorrowerResponse, LenderActions, ResponseParameters
from fengkong.sim.scenario import Scenario, load_scenario, scenario_from_mapping
from fengkong.store import migrate
from fengkong.store.config import make_engine

FUNDING_RATE_ANNUAL: Final = Decimal("0.035")  # the lender's cost of funds, a year (judgement)
LINE_PRODUCTS: Final = ("bnpl", "revolving")
REVIEW_EVERY_DAYS: Final = 7
LEAD_DAYS_MIN: Final = 30
GOAL_LOSS_REDUCTION: Final = 0.10
GOAL_PRECISION: Final = 0.30
BY: Final = "bench-onboarding"


def treated(seed: int, party_id: str) -> bool:
    """The arm: a keyed hash of the seed and the party, half and half."""
    digest = hashlib.blake2b(party_id.encode(), key=seed.to_bytes(8, "big"), digest_size=8).digest()
    return digest[0] % 2 == 1


class BookFeatures:
    """A FeatureReader over the observed book, as of the book's current day (see the module docstring)."""

    def __init__(self, book: ObservedBook) -> None:
        self.book = book

    def read(
        self, entity_type: str, entity_id: str, as_of: datetime, names: Sequence[str] | None = None
    ) -> FeatureVector:
        book = self.book
        position = book.index.get(entity_id)
        values: dict[str, FeatureValue] = {}
        if position is not None:
            at = np.asarray([position], dtype=np.int64)
            day1, day7, day30 = (book.window(at, days)[0] for days in (1, 7, 30))
            if entity_type == "rider" and book.is_rider[position]:
                values["rider_deliveries_30d"] = int(day30[DELIVERIES])
                for name, metric in (
                    ("rider_delivery_growth_7d_30d", DELIVERIES),
                    ("rider_earnings_growth_7d_30d", RIDER_PAY),
                ):
                    values[name] = (day7[metric] / 7) / (day30[metric] / 30) if day30[metric] else None
            elif entity_type == "merchant" and (day30[SETTLED] > 0 or day30[REVIEWS] > 0):
                values["merchant_reviews_24h"] = int(day1[REVIEWS])
                for name, window in (
                    ("merchant_bad_review_share_24h", day1),
                    ("merchant_bad_review_share_7d", day7),
                ):
                    values[name] = window[LOW_REVIEWS] / window[REVIEWS] if window[REVIEWS] else None
                values["merchant_revenue_growth_7d_30d"] = (
                    (day7[SETTLED] / 7) / (day30[SETTLED] / 30) if day30[SETTLED] else None
                )
            elif entity_type == "consumer" and book.bureau_score[position] >= 0:
                values["consumer_bureau_delinquencies_24m_last"] = int(book.bureau_delinquencies[position])
        wanted = names if names is not None else list(values)
        return FeatureVector(entity_type, entity_id, as_of, {name: values.get(name) for name in wanted})


@dataclass(slots=True)
class ArmFigures:
    lines: int = 0
    drawn_fen: int = 0
    interest_fen: int = 0
    written_off_fen: int = 0
    balance_days_fen: int = 0

    @property
    def funding_fen(self) -> int:
        return int(Decimal(self.balance_days_fen) * FUNDING_RATE_ANNUAL / 365)

    @property
    def margin_fen(self) -> int:
        return self.interest_fen - self.written_off_fen - self.funding_fen

    @property
    def margin_per_line_yuan(self) -> float:
        return self.margin_fen / 100 / self.lines if self.lines else math.nan

    @property
    def loss_per_line_yuan(self) -> float:
        return self.written_off_fen / 100 / self.lines if self.lines else math.nan

    @property
    def loss_rate(self) -> float:
        return self.written_off_fen / self.drawn_fen if self.drawn_fen else math.nan


@dataclass(slots=True)
class SeedResult:
    seed: int
    control: ArmFigures = field(default_factory=ArmFigures)
    treatment: ArmFigures = field(default_factory=ArmFigures)
    raised: int = 0
    cut: int = 0
    frozen: int = 0
    alerted_parties: int = 0
    alerts_followed_by_default: int = 0
    alerts_with_lead: int = 0
    lead_days: list[int] = field(default_factory=list)
    seconds: float = 0.0


def _scenario(quick: bool, seed: int, days: int | None) -> Scenario:
    if quick:
        return scenario_from_mapping(
            {"scales": {QUICK_SCALE: QUICK_SIZE}},
            seed=seed,
            scale=QUICK_SCALE,
            days=days or QUICK_DAYS,
            name="default",
        )
    return load_scenario(None, seed=seed, scale=FULL_SCALE, days=days or FULL_DAYS)


def _instant(today: date) -> datetime:
    """Noon of the business day (as a UTC instant): after the day's events, before the next day's."""
    return start_of_business_day(today) + timedelta(hours=12)


def run_seed(
    seed: int,
    quick: bool,
    days: int | None,
    review_every: int,
    work: Path,
    params: DynamicLineParameters | None = None,
) -> SeedResult:
    started = time.perf_counter()
    scenario = _scenario(quick, seed, days)
    total_days = int(scenario.days)
    warm_up = min(QUICK_WARM_UP_DAYS if quick else WARM_UP_DAYS, total_days // 4)
    ecosystem = Ecosystem(scenario)
    response = BorrowerResponse(seed=scenario.seed, params=ResponseParameters.from_scenario(scenario))
    book = ObservedBook()
    policy = BaselinePolicy()
    features = BookFeatures(book)
    url = f"sqlite:///{work / f'lines-{seed}.sqlite'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    result = SeedResult(seed)
    opened: set[tuple[str, str]] = set()
    past_due = ObservedPastDue()
    frozen: set[tuple[str, str]] = set()  # a frozen line is not offered again to its party
    first_alert_day: dict[str, int] = {}
    first_default_day: dict[str, int] = {}
    balance_days = np.zeros((0, len(PRODUCTS)), dtype=np.int64)
    pending = None
    try:
        for day in range(total_days):
            today = ecosystem.current_date()
            tables = ecosystem.step()
            book.start_day(day, today)
            book.observe(tables)
            if day < warm_up:
                continue
            decided = policy.decide(book, pending) if pending is not None else LenderActions()
            decided = _without_frozen(decided, frozen)
            line_actions = LenderActions()
            if day % review_every == 0:
                line_actions = _review(
                    engine, features, book, past_due, policy, today, day, result, first_alert_day, params
                )
                frozen.update(
                    zip(line_actions.line_party.tolist(), line_actions.line_product.tolist(), strict=True)
                )
                frozen.difference_update(
                    (party, product)
                    for party, product, limit in zip(
                        line_actions.line_party.tolist(),
                        line_actions.line_product.tolist(),
                        line_actions.line_new_fen.tolist(),
                        strict=True,
                    )
                    if limit > 0
                )
            answered = response.step(ecosystem.state, merge_actions(decided, line_actions), day, today)
            book.observe(answered.events)
            policy.observe_draws(answered.events["draw"])
            _open_new_lines(engine, policy, opened, seed, today)
            pending = answered.events["loan_application"]
            truth = answered.truth
            for index in np.flatnonzero(truth.defaulted):
                first_default_day.setdefault(str(truth.party_id[index]), day)
            if len(balance_days) < len(truth.party_id):
                grow = np.zeros((len(truth.party_id) - len(balance_days), len(PRODUCTS)), dtype=np.int64)
                balance_days = np.concatenate([balance_days, grow])
            balance_days += truth.balance_by_product_fen
        in_default = truth.days_past_due >= response.params.default_days_past_due
        _measure(result, response, policy, balance_days, np.asarray(in_default, dtype=bool), seed)
        for party, alert_day in first_alert_day.items():
            default_day = first_default_day.get(party)
            result.alerted_parties += 1
            if default_day is not None and default_day > alert_day:
                result.alerts_followed_by_default += 1
                result.lead_days.append(default_day - alert_day)
                result.alerts_with_lead += int(default_day - alert_day >= LEAD_DAYS_MIN)
    finally:
        engine.dispose()
    result.seconds = time.perf_counter() - started
    return result


def _without_frozen(actions: LenderActions, frozen: set[tuple[str, str]]) -> LenderActions:
    """The offers, less those to a party for a product whose line is frozen (the baseline policy would
    otherwise see no line and offer a fresh one)."""
    if not frozen or not len(actions.offer_party):
        return actions
    keep = np.asarray(
        [
            (str(party), str(product)) not in frozen
            for party, product in zip(actions.offer_party, actions.offer_product, strict=True)
        ],
        dtype=bool,
    )
    return dataclasses.replace(
        actions,
        **{
            name: np.asarray(getattr(actions, name))[keep]
            for name in (
                "offer_party",
                "offer_product",
                "offer_amount_fen",
                "offer_rate_bp",
                "offer_term_months",
                "offer_application_id",
            )
        },
    )


def _open_new_lines(
    engine: sa.Engine, policy: BaselinePolicy, opened: set[tuple[str, str]], seed: int, today: date
) -> None:
    """Treatment lines the borrower took up today are opened in SQL at their booked amount."""
    new = [
        (key, line)
        for key, line in sorted(policy.lines.items())
        if key not in opened and key[1] in LINE_PRODUCTS and treated(seed, key[0]) and line > 0
    ]
    if not new:
        return
    with engine.begin() as connection:
        for (party, product), line in new:
            review.open_line(connection, party, product, line, _instant(today), BY)
            opened.add((party, product))


class ObservedPastDue:
    """Days past due as fengkong sees them in events: from the due day of the first statement the book saw
    unpaid after its due day, until the party repays something (``ObservedBook.past_due``)."""

    def __init__(self) -> None:
        self.since: dict[str, date] = {}
        self.today = date.min

    def update(self, book: ObservedBook, today: date) -> None:
        self.today = today
        if today.day <= DUE_DAY:  # the new statement is not due yet: nothing new is known
            return
        flags = book.past_due()
        due = today.replace(day=DUE_DAY)
        late = {party for party, position in book.index.items() if position < len(flags) and flags[position]}
        self.since = {party: self.since.get(party, due) for party in late}

    def days(self, party: str, product: str) -> int:
        since = self.since.get(party)
        return 0 if since is None else max(1, (self.today - since).days)


def _review(
    engine: sa.Engine,
    features: BookFeatures,
    book: ObservedBook,
    past_due: ObservedPastDue,
    policy: BaselinePolicy,
    today: date,
    day: int,
    result: SeedResult,
    first_alert_day: dict[str, int],
    params: DynamicLineParameters | None,
) -> LenderActions:
    past_due.update(book, today)
    try:
        report = review.review_lines(
            engine, features, _instant(today), days_past_due=past_due.days, params=params
        )
    except ConflictError as error:  # pragma: no cover - one writer: a conflict is a bug
        raise SystemExit(f"review conflict: {error}") from error
    result.raised += report.raised
    result.cut += report.cut
    result.frozen += report.frozen
    for alert in report.alerts:
        first_alert_day.setdefault(alert.party_id, day)
    parties, products, limits = [], [], []
    for change in report.changes:
        policy.lines[(change.party_id, change.product)] = change.new_limit_fen
        parties.append(change.party_id)
        products.append(change.product)
        limits.append(change.new_limit_fen)
    return LenderActions(
        line_party=np.asarray(parties, dtype=np.str_),
        line_product=np.asarray(products, dtype=np.str_),
        line_new_fen=np.asarray(limits, dtype=np.int64),
    )


def _measure(
    result: SeedResult,
    response: BorrowerResponse,
    policy: BaselinePolicy,
    balance_days: np.ndarray,
    in_default: np.ndarray,
    seed: int,
) -> None:
    """Per arm, over its parties' BNPL and revolving accounts: the truth's cumulative flows. Loss is what
    was written off plus the balance of borrowers in default at the end (not yet written off)."""
    columns = [PRODUCTS.index(product) for product in LINE_PRODUCTS]
    booked = {(party, product) for party, product in policy.lines if product in LINE_PRODUCTS}
    index = {str(party): row for row, party in enumerate(response_party_ids(response))}
    for party, _product in booked:
        arm = result.treatment if treated(seed, party) else result.control
        arm.lines += 1
    for party, row in index.items():
        arm = result.treatment if treated(seed, party) else result.control
        arm.drawn_fen += int(response.drawn_fen[row, columns].sum())
        arm.interest_fen += int(response.interest_fen[row, columns].sum())
        arm.written_off_fen += int(response.written_off_fen[row, columns].sum())
        if row < len(in_default) and in_default[row]:
            arm.written_off_fen += int(response.balance_fen[row, columns].sum())
        if row < len(balance_days):
            arm.balance_days_fen += int(balance_days[row, columns].sum())


def response_party_ids(response: BorrowerResponse) -> list[str]:
    return [party for party, _row in sorted(response._index.items(), key=lambda item: item[1])]


def _interval(values: Sequence[float]) -> tuple[float, float, float]:
    """Mean and its 95 % t-interval (nan bounds for fewer than two values)."""
    finite = [value for value in values if not math.isnan(value)]
    if not finite:
        return math.nan, math.nan, math.nan
    mean = statistics.fmean(finite)
    if len(finite) < 2:
        return mean, math.nan, math.nan
    half = float(stats.t.ppf(0.975, len(finite) - 1)) * statistics.stdev(finite) / math.sqrt(len(finite))
    return mean, mean - half, mean + half


def _fmt(mean: float, low: float, high: float, scale: float = 1.0, digits: int = 2, unit: str = "") -> str:
    if math.isnan(low):
        return f"{mean * scale:.{digits}f}{unit}"
    return f"{mean * scale:.{digits}f}{unit} [{low * scale:.{digits}f}, {high * scale:.{digits}f}]"


def report(results: list[SeedResult]) -> str:
    lines = []
    for result in results:
        control, treatment = result.control, result.treatment
        lines.append(
            f"seed {result.seed}: lines control {control.lines} treatment {treatment.lines}; "
            f"changes raised {result.raised} cut {result.cut} frozen {result.frozen}; "
            f"margin/line yuan control {control.margin_per_line_yuan:.2f} treatment "
            f"{treatment.margin_per_line_yuan:.2f}; loss rate control {control.loss_rate:.4f} treatment "
            f"{treatment.loss_rate:.4f}; alerted {result.alerted_parties}, then defaulted "
            f"{result.alerts_followed_by_default} (>= {LEAD_DAYS_MIN} d lead: {result.alerts_with_lead}); "
            f"{result.seconds:.1f} s"
        )
    margin_diff = [r.treatment.margin_per_line_yuan - r.control.margin_per_line_yuan for r in results]
    reduction = [
        1 - r.treatment.loss_rate / r.control.loss_rate if r.control.loss_rate else math.nan for r in results
    ]
    control_margin = _interval([r.control.margin_per_line_yuan for r in results])
    treatment_margin = _interval([r.treatment.margin_per_line_yuan for r in results])
    per_line_reduction = [
        1 - r.treatment.loss_per_line_yuan / r.control.loss_per_line_yuan
        if r.control.loss_per_line_yuan
        else math.nan
        for r in results
    ]
    control_loss_line = _interval([r.control.loss_per_line_yuan for r in results])
    treatment_loss_line = _interval([r.treatment.loss_per_line_yuan for r in results])
    control_loss = _interval([r.control.loss_rate for r in results])
    treatment_loss = _interval([r.treatment.loss_rate for r in results])
    alerted = sum(r.alerted_parties for r in results)
    followed = sum(r.alerts_followed_by_default for r in results)
    with_lead = sum(r.alerts_with_lead for r in results)
    leads = [lead for r in results for lead in r.lead_days]
    precision = _interval(
        [r.alerts_with_lead / r.alerted_parties if r.alerted_parties else math.nan for r in results]
    )
    ratio = treatment_margin[0] / control_margin[0] if control_margin[0] else math.nan
    lines += [
        f"seeds: {len(results)}; mean and 95 % t-interval over seeds; reference: the control arm",
        f"net margin per line, yuan    control {_fmt(*control_margin)}   treatment {_fmt(*treatment_margin)}"
        f"   ratio {ratio:.3f}",
        f"  treatment - control        {_fmt(*_interval(margin_diff))}   goal: >= 0",
        f"loss rate (loss/drawn)      control {_fmt(*control_loss, 100, 3, ' %')}   "
        f"treatment {_fmt(*treatment_loss, 100, 3, ' %')}",
        f"  loss reduction              {_fmt(*_interval(reduction), 100, 1, ' %')}   "
        f"goal: >= {GOAL_LOSS_REDUCTION * 100:.0f} %",
        f"loss per line booked, yuan   control {_fmt(*control_loss_line)}   "
        f"treatment {_fmt(*treatment_loss_line)}",
        f"  reduction per line          {_fmt(*_interval(per_line_reduction), 100, 1, ' %')}   "
        f"goal: >= {GOAL_LOSS_REDUCTION * 100:.0f} % (the arms are randomised halves: same denominator)",
        f"early warnings: {alerted} parties alerted, {followed} defaulted after the alert, {with_lead} with "
        f">= {LEAD_DAYS_MIN} days' lead",
        f"  precision (>= {LEAD_DAYS_MIN} d lead)      {_fmt(*precision, 100, 1, ' %')}   "
        f"goal: >= {GOAL_PRECISION * 100:.0f} %",
        f"  lead before default, days   median {statistics.median(leads) if leads else math.nan}   "
        f"goal: >= {LEAD_DAYS_MIN}",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=5, help="worlds to run (seeds 1..N)")
    parser.add_argument("--quick", action="store_true", help="the demo's quick world (tiny, 150 days)")
    parser.add_argument("--days", type=int, default=None, help="simulated days (default: the world's)")
    parser.add_argument("--review-every", type=int, default=REVIEW_EVERY_DAYS, help="days between reviews")
    parser.add_argument("--jobs", type=int, default=1, help="seeds run at once, one process each")
    parser.add_argument("--no-raise", action="store_true", help="treatment cuts and freezes, never raises")
    args = parser.parse_args(argv)
    if not 1 <= args.seeds <= 100 or not 1 <= args.review_every <= 90 or not 1 <= args.jobs <= 16:
        parser.error("--seeds must be 1..100, --review-every 1..90 and --jobs 1..16")
    if args.days is not None and not 30 <= args.days <= 3_650:
        parser.error("--days must be 30..3650")
    params = DynamicLineParameters(raise_growth_min=Decimal(1_000_000)) if args.no_raise else None
    results = []
    # the SQLite file in memory-backed storage where there is one: commits then cost no disk flush
    shm = Path("/dev/shm")
    with (
        tempfile.TemporaryDirectory(dir=shm if shm.is_dir() else None) as work,
        ProcessPoolExecutor(max_workers=args.jobs) as pool,
    ):
        futures = [
            pool.submit(run_seed, seed, args.quick, args.days, args.review_every, Path(work), params)
            for seed in range(1, args.seeds + 1)
        ]
        for future in futures:
            results.append(future.result())
            print(f"seed {results[-1].seed} done in {results[-1].seconds:.1f} s", file=sys.stderr, flush=True)
    print(report(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
