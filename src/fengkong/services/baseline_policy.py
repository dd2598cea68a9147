"""The demo's baseline credit policy: a transparent rule over what fengkong has *observed in events*.

This stands in for the feature engine, the scorecards and the decision engine until they exist. It never
reads the simulator's latent state or ground truth: :class:`ObservedBook` is built only from event tables
(the same tables that were ingested into the lake), and :class:`BaselinePolicy` decides only from it.

The rule, in order:

1. **fraud** — decline a party on a device shared by ``shared_device_parties_max`` or more parties, a
   party seen on more than ``devices_per_party_max`` devices, a party registered less than
   ``new_party_days_min`` days ago with no ecosystem activity; decline a thin-file person who barely orders
   or delivers (nothing to score them on — and synthetic identities barely buy);
2. **score** — a log-odds-like risk score, higher is riskier. Thick-file (a ``bureau_report`` was seen):
   from the bureau score and its delinquencies. Thin-file: from ecosystem activity over the last 30 days
   (orders and spend for consumers, completed deliveries for riders, settlements for merchants);
3. **approve** when the score is below the cut-off of its file type; the line is a multiple of observed
   monthly income or spend, scaled down for riskier scores, within [500, 50,000] yuan (merchants: a share of
   30-day settlements); the rate rises with the risk band;
4. **cooling-off** — an applicant with ``burst_applications_min`` or more applications on one day, or an
   unknown-account transfer in the last week, is approved (if at all) under a ``hold_days`` hold;
5. **line review** every month on ``review_day``: lines of borrowers past due (a statement balance not
   repaid by the due day) are cut to zero; BNPL lines of riders whose deliveries grew are raised.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from fengkong.domain.features import FeatureReader, FeatureVector
from fengkong.sim.response import STATEMENT_AGE_DAYS_MIN, LenderActions

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: metrics kept per party and day in a ring of ``WINDOW_DAYS`` days
(
    ORDERS,
    SPEND,
    DELIVERIES,
    RIDER_PAY,
    SETTLED_ORDERS,
    SETTLED,
    TRANSFERS_UNKNOWN,
    BNPL_ORDERS,
    NIGHT_ORDERS,
    REFUNDS,
    REVIEWS,
    LOW_REVIEWS,
) = range(12)
METRICS_COUNT: Final = 12
NIGHT_HOURS_UTC: Final = (15, 16, 17, 18, 19, 20)  # 23:00–05:00 in Asia/Shanghai
SHARE_PSEUDO_ORDERS: Final = 10.0  # shrinks a party's behaviour shares toward everyone's
WINDOW_DAYS: Final = 60
FEN_PER_YUAN: Final = 100


@dataclass(frozen=True, slots=True)
class PolicyParameters:
    """The rule's thresholds. Amounts in fen, rates in basis points a year."""

    thick_cutoff: float = 1.0
    thin_cutoff: float = 0.6
    merchant_cutoff: float = 0.0
    shared_device_parties_max: int = 3
    devices_per_party_max: int = 4  # more devices than this in the party's history: device rotation
    new_party_days_min: int = 14
    thin_activity_min: int = 2  # a thin-file person needs this many orders or deliveries in 30 days
    burst_applications_min: int = 3
    hold_days: int = 7
    line_min_fen: int = 500 * FEN_PER_YUAN
    line_max_fen: int = 50_000 * FEN_PER_YUAN
    # multiples are per mille so that amounts stay integer fen
    line_income_permille: int = 800  # BNPL/revolving line = this ‰ of observed monthly income, best band
    loan_income_permille: int = 2_000  # installment principal at most this ‰ of observed monthly income
    merchant_settled_permille: int = 500  # merchant loan at most this ‰ of 30-day settlements
    band_edges: tuple[float, float] = (-1.0, 0.0)  # score edges of the three risk bands
    band_line_permille: tuple[int, int, int] = (1_000, 600, 350)
    band_rate_bp: tuple[int, int, int] = (1200, 1800, 2400)
    review_day: int = 20  # day of month of the line review (after the 8th's due date)
    raise_growth_min: float = 1.2  # deliveries in the last 30 days over the 30 before
    raise_permille: int = 1_250


class ObservedBook:
    """What fengkong has seen, per party, from events only. Grows as new party IDs appear."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self._capacity = 0
        self.registered_day = np.zeros(0, dtype=np.int64)
        self.is_rider = np.zeros(0, dtype=bool)
        self.declared_income_fen = np.zeros(0, dtype=np.int64)
        self.bureau_score = np.full(0, -1, dtype=np.int64)
        self.bureau_delinquencies = np.zeros(0, dtype=np.int64)
        self.ring = np.zeros((WINDOW_DAYS, 0, METRICS_COUNT), dtype=np.int64)
        self.balance_fen = np.zeros(0, dtype=np.int64)  # drawn − repaid, all accounts
        self.statement_balance_fen = np.zeros(0, dtype=np.int64)  # balance on the last statement day
        self.repaid_since_statement_fen = np.zeros(0, dtype=np.int64)
        self.first_draw_day = np.full(0, -1, dtype=np.int64)
        self.statement_day = -1
        self.party_devices: dict[int, set[str]] = {}
        self.device_parties: dict[str, set[int]] = {}
        self.applications_by_day: dict[int, int] = {}
        self.day = -1

    # -- registry ---------------------------------------------------------------------------------------
    def positions(self, party_ids: Iterable[str | None]) -> IntArray:
        """Positions of party IDs, registering new ones."""
        out = []
        for party in party_ids:
            if party is None:
                out.append(-1)
                continue
            position = self.index.get(party)
            if position is None:
                position = len(self.index)
                self.index[party] = position
            out.append(position)
        self._ensure(len(self.index))
        return np.asarray(out, dtype=np.int64)

    def _ensure(self, size: int) -> None:
        if size <= self._capacity:
            return
        capacity = max(size, 2 * self._capacity, 1024)
        extra = capacity - self._capacity

        def grow(array: npt.NDArray[Any], fill: object) -> Any:
            return np.concatenate([array, np.full((extra, *array.shape[1:]), fill, dtype=array.dtype)])

        self.registered_day = grow(self.registered_day, -1)
        self.is_rider = grow(self.is_rider, False)
        self.declared_income_fen = grow(self.declared_income_fen, 0)
        self.bureau_score = grow(self.bureau_score, -1)
        self.bureau_delinquencies = grow(self.bureau_delinquencies, 0)
        self.balance_fen = grow(self.balance_fen, 0)
        self.statement_balance_fen = grow(self.statement_balance_fen, 0)
        self.repaid_since_statement_fen = grow(self.repaid_since_statement_fen, 0)
        self.first_draw_day = grow(self.first_draw_day, -1)
        ring = np.zeros((WINDOW_DAYS, capacity, METRICS_COUNT), dtype=np.int64)
        ring[:, : self._capacity] = self.ring
        self.ring = ring
        self._capacity = capacity

    # -- observing ------------------------------------------------------------------------------------
    def start_day(self, day: int, today: date) -> None:
        """Open a new day: clear its slot in the ring; take the statement snapshot on the 1st."""
        self.day = day
        self.ring[day % WINDOW_DAYS] = 0
        if today.day == 1:
            self.statement_balance_fen = self.balance_fen.copy()
            self.repaid_since_statement_fen[:] = 0
            self.statement_day = day

    def _add(self, metric: int, ids: pa.ChunkedArray, values: pa.ChunkedArray | None = None) -> None:
        table = pa.table({"id": ids, "value": values if values is not None else pa.repeat(1, len(ids))})
        table = table.filter(pc.is_valid(table.column("id")))
        if not table.num_rows:
            return
        grouped = table.group_by("id").aggregate([("value", "sum")])
        positions = self.positions(grouped.column("id").to_pylist())
        self.ring[self.day % WINDOW_DAYS, positions, metric] += grouped.column("value_sum").to_numpy()

    def observe(self, tables: dict[str, pa.Table]) -> None:
        """Fold one batch of event tables (any types) into the book."""
        for event_type, table in tables.items():
            if table.num_rows:
                getattr(self, f"_on_{event_type}", self._ignore)(table)

    def _ignore(self, table: pa.Table) -> None:
        return None

    def _on_party_registered(self, table: pa.Table) -> None:
        positions = self.positions(table.column("party_id").to_pylist())
        self.registered_day[positions] = self.day
        roles = table.column("roles").to_pylist()
        self.is_rider[positions] = ["rider" in (value or "") for value in roles]
        income = pc.fill_null(table.column("declared_monthly_income_fen"), 0).to_numpy()
        self.declared_income_fen[positions] = income
        self._devices(table.column("party_id").to_pylist(), table.column("device_id").to_pylist())

    def _on_login(self, table: pa.Table) -> None:
        self._devices(table.column("party_id").to_pylist(), table.column("device_id").to_pylist())

    def _devices(self, parties: list[str | None], devices: list[str | None]) -> None:
        pairs = sorted(
            (party, device)
            for party, device in set(zip(parties, devices, strict=True))
            if party is not None and device is not None
        )
        positions = self.positions([party for party, _device in pairs]).tolist()
        for position, (_party, device) in zip(positions, pairs, strict=True):
            self.party_devices.setdefault(position, set()).add(device)
            self.device_parties.setdefault(device, set()).add(position)

    def _on_bureau_report(self, table: pa.Table) -> None:
        positions = self.positions(table.column("party_id").to_pylist())
        self.bureau_score[positions] = pc.fill_null(table.column("bureau_score"), -1).to_numpy()
        self.bureau_delinquencies[positions] = pc.fill_null(table.column("delinquencies_24m"), 0).to_numpy()

    def _on_order_placed(self, table: pa.Table) -> None:
        consumer = table.column("consumer_id")
        self._add(ORDERS, consumer)
        self._add(SPEND, consumer, table.column("amount_fen"))
        bnpl = pc.equal(table.column("pay_method"), "bnpl")
        self._add(BNPL_ORDERS, table.filter(bnpl).column("consumer_id"))
        night = pc.is_in(pc.hour(table.column("occurred_at")), pa.array(NIGHT_HOURS_UTC, pa.int64()))
        self._add(NIGHT_ORDERS, table.filter(night).column("consumer_id"))

    def _on_order_refunded(self, table: pa.Table) -> None:
        self._add(REFUNDS, table.column("consumer_id"))

    def _on_review_posted(self, table: pa.Table) -> None:
        self._add(REVIEWS, table.column("merchant_id"))
        low = pc.less_equal(table.column("stars"), 2)
        self._add(LOW_REVIEWS, table.filter(low).column("merchant_id"))

    def _on_delivery_completed(self, table: pa.Table) -> None:
        done = table.filter(pc.not_equal(table.column("status"), "cancelled"))
        self._add(DELIVERIES, done.column("rider_id"))
        self._add(RIDER_PAY, done.column("rider_id"), done.column("rider_pay_fen"))

    def _on_merchant_settlement(self, table: pa.Table) -> None:
        self._add(SETTLED_ORDERS, table.column("merchant_id"), table.column("orders_count"))
        self._add(SETTLED, table.column("merchant_id"), table.column("amount_fen"))

    def _on_payment_made(self, table: pa.Table) -> None:
        unknown = pc.and_(
            pc.equal(table.column("purpose"), "transfer_out"),
            pc.invert(pc.fill_null(table.column("counterparty_known"), False)),
        )
        self._add(TRANSFERS_UNKNOWN, table.filter(unknown).column("payer_id"))

    def _on_draw(self, table: pa.Table) -> None:
        self._money(table, "borrower_id", +1)

    def _on_repayment(self, table: pa.Table) -> None:
        self._money(table, "borrower_id", -1)

    def _money(self, table: pa.Table, column: str, sign: int) -> None:
        grouped = table.group_by(column).aggregate([("amount_fen", "sum")])
        positions = self.positions(grouped.column(column).to_pylist())
        amounts = grouped.column("amount_fen_sum").to_numpy().astype(np.int64)
        self.balance_fen[positions] += sign * amounts
        if sign > 0:
            fresh = positions[self.first_draw_day[positions] < 0]
            self.first_draw_day[fresh] = self.day
        else:
            self.repaid_since_statement_fen[positions] += amounts

    def _on_loan_application(self, table: pa.Table) -> None:
        self.applications_by_day[self.day] = self.applications_by_day.get(self.day, 0) + table.num_rows

    # -- views ----------------------------------------------------------------------------------------
    def window(self, positions: IntArray, days: int, offset: int = 0) -> npt.NDArray[np.int64]:
        """Metric sums over the ``days`` days ending ``offset`` days before today (positions × metrics)."""
        slots = [
            (self.day - offset - back) % WINDOW_DAYS for back in range(days) if self.day - offset - back >= 0
        ]
        if not slots:
            return np.zeros((len(positions), METRICS_COUNT), dtype=np.int64)
        return np.asarray(
            self.ring[np.ix_(np.asarray(slots, dtype=np.int64), positions)].sum(axis=0), dtype=np.int64
        )

    def shared_device_parties(self, position: int) -> int:
        """The most parties seen on any one of this party's devices."""
        devices = self.party_devices.get(position, set())
        return max((len(self.device_parties[device]) for device in devices), default=0)

    def past_due(self) -> npt.NDArray[np.bool_]:
        """Owed something on the statement day and repaid nothing since — judged after the due day (the 8th).

        fengkong's own schedules are not modelled here yet, so "past due" is read from the events alone: any
        borrower with a balance pays at least something by the due day unless they missed it.
        """
        billed = (self.first_draw_day >= 0) & (
            self.statement_day - self.first_draw_day >= STATEMENT_AGE_DAYS_MIN
        )
        owed = (self.statement_balance_fen > 0) & billed
        return np.asarray(owed & (self.repaid_since_statement_fen == 0), dtype=bool)


@dataclass(slots=True)
class DecisionRecord:
    """One decision, for the scoreboard (observed side only)."""

    application_id: str
    party_id: str
    product: str
    thin_file: bool
    score: float
    approved: bool
    reason: str
    amount_fen: int
    held: bool


@dataclass(slots=True)
class PolicyLog:
    """What the policy did. A line is *granted* when the borrower takes it up (its first draw is seen)."""

    decisions: list[DecisionRecord] = field(default_factory=list)
    lines_offered: int = 0
    lines_granted: int = 0
    lines_raised: int = 0
    lines_cut: int = 0
    holds: int = 0


def _round_to_hundred_yuan(amount_fen: int) -> int:
    """Half up to whole hundreds of yuan (10,000 fen)."""
    return (amount_fen + 5_000) // 10_000 * 10_000


class BaselinePolicy:
    """Decides applications and reviews lines from an :class:`ObservedBook`; see the module docstring."""

    def __init__(self, params: PolicyParameters | None = None) -> None:
        self.params = params or PolicyParameters()
        self.log = PolicyLog()
        self.offered: dict[tuple[str, str], int] = {}  # (party, product) -> amount last offered (fen)
        self.lines: dict[tuple[str, str], int] = {}  # (party, product) -> line of a booked account (fen)

    def score(self, book: ObservedBook, positions: IntArray) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
        """(risk score, thin-file flag) for parties; higher is riskier (roughly a log-odds scale).

        * thick-file: the bureau score (50 points a unit) and bureau delinquencies;
        * everyone who orders: behaviour over 60 days — the logits of the shares of orders paid by BNPL,
          placed at night and refunded, against everyone's, each shrunk toward everyone's;
        * riders: growth of completed deliveries (30 days against the 30 before) lowers the score;
          merchants: a fall in settlements and a share of 1–2 star reviews above everyone's raise it;
        * an unknown-account transfer in the last 30 days raises it.
        """
        bureau = book.bureau_score[positions]
        thin = bureau < 0
        thick_score = -(bureau - 650.0) / 50.0 + 0.4 * book.bureau_delinquencies[positions]
        recent = book.window(positions, 30)
        earlier = book.window(positions, 30, offset=30)
        both = recent + earlier
        behaviour = np.zeros(len(positions), dtype=np.float64)
        everyone = book.ring.sum(axis=(0, 1)).astype(np.float64)
        orders = both[:, ORDERS].astype(np.float64)
        for metric in (BNPL_ORDERS, NIGHT_ORDERS, REFUNDS):
            base = float(np.clip(everyone[metric] / max(everyone[ORDERS], 1.0), 1e-4, 1 - 1e-4))
            share = (both[:, metric] + SHARE_PSEUDO_ORDERS * base) / (orders + SHARE_PSEUDO_ORDERS)
            share = np.clip(share, 1e-4, 1 - 1e-4)
            behaviour += np.clip(np.log(share / (1 - share)) - np.log(base / (1 - base)), -1.0, 1.0)
        # trends need two full 30-day windows of history, or every newcomer looks like it is growing
        history = 1.0 if book.day >= 2 * 30 - 1 else 0.0
        deliveries_growth = history * np.log((recent[:, DELIVERIES] + 5.0) / (earlier[:, DELIVERIES] + 5.0))
        settlement_fall = history * np.log((earlier[:, SETTLED] + 10_000.0) / (recent[:, SETTLED] + 10_000.0))
        base_low = everyone[LOW_REVIEWS] / max(everyone[REVIEWS], 1.0)
        low_share = (both[:, LOW_REVIEWS] + SHARE_PSEUDO_ORDERS * base_low) / (
            both[:, REVIEWS] + SHARE_PSEUDO_ORDERS
        )
        behaviour += 4.0 * (low_share - base_low)
        score = np.where(thin, 0.0, thick_score) + 1.5 * behaviour
        score = score - 1.0 * np.clip(deliveries_growth, -2, 2) + 1.5 * np.clip(settlement_fall, -2, 2)
        score = score + 0.8 * (recent[:, TRANSFERS_UNKNOWN] > 0)
        return np.asarray(score, dtype=np.float64), np.asarray(thin, dtype=bool)

    def decide(
        self, book: ObservedBook, applications: pa.Table, features: FeatureReader | None = None
    ) -> LenderActions:
        """Offers (and holds) for the applications received; declines are simply not offered.

        With ``features`` (the online feature engine), the fraud and activity checks read standard features
        as of each application's receipt — accounts on the application's device, devices the applicant
        logged in from, 30-day orders, deliveries and settlements — instead of the book's counters; the
        score and the amounts still come from the book (see the module docstring)."""
        params = self.params
        if not applications.num_rows:
            return LenderActions()
        checks = _feature_checks(features, applications) if features is not None else None
        parties: list[str] = applications.column("applicant_id").to_pylist()
        columns = {
            name: applications.column(name).to_pylist()
            for name in (
                "product",
                "application_id",
                "requested_amount_fen",
                "term_months",
                "declared_monthly_income_fen",
            )
        }
        positions = book.positions(parties)
        scores, thin = self.score(book, positions)
        recent = book.window(positions, 30)
        week = book.window(positions, 7)
        per_party_today: dict[str, int] = {}
        for party in parties:
            per_party_today[party] = per_party_today.get(party, 0) + 1
        offer: dict[str, list[Any]] = {
            name: [] for name in ("party", "product", "amount", "rate", "term", "application")
        }
        hold_parties: list[str] = []
        for row, party in enumerate(parties):
            position = int(positions[row])
            product = str(columns["product"][row])
            application_id = str(columns["application_id"][row])
            requested = int(columns["requested_amount_fen"][row] or 0)
            term = int(columns["term_months"][row] or 0)
            declared = int(columns["declared_monthly_income_fen"][row] or 0)
            score = float(scores[row])
            reason, amount = "approved", 0
            new_party = (
                book.registered_day[position] < 0
                or book.day - book.registered_day[position] < params.new_party_days_min
            )
            thin_person = thin[row] and product != "merchant"
            cutoff = params.merchant_cutoff if product == "merchant" else params.thin_cutoff
            if checks is not None:
                device_accounts, devices, activity, personal_activity = checks[row]
                # an application that names no device: the most parties on any device the party used
                shared_device = (
                    device_accounts if device_accounts is not None else book.shared_device_parties(position)
                )
            else:
                shared_device = book.shared_device_parties(position)
                devices = len(book.party_devices.get(position, ()))
                activity = int(recent[row, [ORDERS, DELIVERIES, SETTLED_ORDERS]].sum())
                personal_activity = int(recent[row, [ORDERS, DELIVERIES]].sum())
            if shared_device >= params.shared_device_parties_max:
                reason = "fraud:shared_device"
            elif devices > params.devices_per_party_max:
                reason = "fraud:many_devices"
            elif new_party and activity == 0:
                reason = "fraud:new_and_inactive"
            elif thin_person and personal_activity < params.thin_activity_min:
                reason = "thin_file_low_activity"
            elif score >= (cutoff if thin[row] else params.thick_cutoff):
                reason = "score"
            elif self.lines.get((party, product), 0) > 0:
                reason = "already_has_product"
            else:
                band = int(np.searchsorted(params.band_edges, score))
                amount = self._amount(book, position, product, requested, declared, band, recent[row])
                if amount < params.line_min_fen:
                    reason, amount = "amount_below_minimum", 0
            approved = reason == "approved"
            held = approved and (
                per_party_today[party] >= params.burst_applications_min or week[row, TRANSFERS_UNKNOWN] > 0
            )
            self.log.decisions.append(
                DecisionRecord(
                    application_id, party, product, bool(thin[row]), score, approved, reason, amount, held
                )
            )
            if not approved:
                continue
            band = int(np.searchsorted(params.band_edges, score))
            offer["party"].append(party)
            offer["product"].append(product)
            offer["amount"].append(amount)
            offer["rate"].append(0 if product == "bnpl" else params.band_rate_bp[band])
            offer["term"].append(term if product in ("installment", "merchant") else 0)
            offer["application"].append(application_id)
            if held and party not in hold_parties:
                hold_parties.append(party)
            self.offered[(party, product)] = amount
            if product in ("bnpl", "revolving"):
                self.log.lines_offered += 1
        self.log.holds += len(hold_parties)
        return LenderActions(
            offer_party=np.asarray(offer["party"], dtype=np.str_),
            offer_product=np.asarray(offer["product"], dtype=np.str_),
            offer_amount_fen=np.asarray(offer["amount"], dtype=np.int64),
            offer_rate_bp=np.asarray(offer["rate"], dtype=np.int64),
            offer_term_months=np.asarray(offer["term"], dtype=np.int64),
            offer_application_id=np.asarray(offer["application"], dtype=np.str_),
            hold_party=np.asarray(hold_parties, dtype=np.str_),
            hold_days=np.full(len(hold_parties), params.hold_days, dtype=np.int64),
        )

    def _amount(
        self,
        book: ObservedBook,
        position: int,
        product: str,
        requested: int,
        declared: int,
        band: int,
        recent: IntArray,
    ) -> int:
        params = self.params
        observed_income = max(int(recent[RIDER_PAY]), declared * 600 // 1_000, int(recent[SPEND]))
        factor = params.band_line_permille[band]
        if product == "merchant":
            amount = min(requested, int(recent[SETTLED]) * params.merchant_settled_permille // 1_000)
        elif product == "installment":
            cap = observed_income * params.loan_income_permille * factor // 1_000_000
            amount = min(requested, cap)
        else:
            line = observed_income * params.line_income_permille * factor // 1_000_000
            amount = min(line, max(requested, params.line_min_fen))
        amount = min(amount, params.line_max_fen)
        return _round_to_hundred_yuan(amount) if amount >= params.line_min_fen else 0

    def observe_draws(self, draws: pa.Table) -> None:
        """A draw on an account we offered books it: its line is the amount offered."""
        for account in set(draws.column("account_id").to_pylist()):
            party, product, _sequence = str(account).rsplit(":", 2)
            key = (party, product)
            if key not in self.lines and key in self.offered:
                self.lines[key] = self.offered[key]
                if product in ("bnpl", "revolving"):
                    self.log.lines_granted += 1

    def review(self, book: ObservedBook, today: date) -> LenderActions:
        """Monthly line review: cut past-due borrowers' lines to 0; raise growing riders' BNPL lines."""
        params = self.params
        if today.day != params.review_day or not self.lines:
            return LenderActions()
        past_due = book.past_due()
        growth_now = book.window(np.arange(len(book.index), dtype=np.int64), 30)[:, DELIVERIES]
        growth_before = book.window(np.arange(len(book.index), dtype=np.int64), 30, offset=30)[:, DELIVERIES]
        parties, products, lines = [], [], []
        for (party, product), line in sorted(self.lines.items()):
            if product not in ("bnpl", "revolving") or line == 0:
                continue
            position = book.index[party]
            if past_due[position]:
                new_line = 0
                self.log.lines_cut += 1
            elif (
                product == "bnpl"
                and book.is_rider[position]
                and growth_before[position] > 0
                and growth_now[position] >= params.raise_growth_min * growth_before[position]
            ):
                new_line = min(
                    _round_to_hundred_yuan(line * params.raise_permille // 1_000), params.line_max_fen
                )
                if new_line <= line:
                    continue
                self.log.lines_raised += 1
            else:
                continue
            self.lines[(party, product)] = new_line
            parties.append(party)
            products.append(product)
            lines.append(new_line)
        return LenderActions(
            line_party=np.asarray(parties, dtype=np.str_),
            line_product=np.asarray(products, dtype=np.str_),
            line_new_fen=np.asarray(lines, dtype=np.int64),
        )


def _count_feature(vector: FeatureVector, name: str) -> int:
    value = vector.get(name)
    return int(value) if isinstance(value, int | float) else 0


def _feature_checks(
    features: FeatureReader, applications: pa.Table
) -> list[tuple[int | None, int, int, int]]:
    """Per application: (accounts seen on its device in 30 days — None when it names no device —, devices
    its applicant logged in from in 7 days, 30-day activity as consumer, rider or merchant, and as a person),
    read as of its receipt."""
    out = []
    for party, device, received in zip(
        applications.column("applicant_id").to_pylist(),
        applications.column("device_id").to_pylist(),
        applications.column("received_at").to_pylist(),
        strict=True,
    ):
        consumer = features.read("consumer", party, received)
        rider = features.read("rider", party, received)
        merchant = features.read("merchant", party, received)
        shared = (
            _count_feature(features.read("device", device, received), "device_accounts_distinct_30d")
            if device
            else None
        )
        personal = _count_feature(consumer, "consumer_orders_30d") + _count_feature(
            rider, "rider_deliveries_30d"
        )
        settled = 1 if _count_feature(merchant, "merchant_settled_amount_30d_fen") > 0 else 0
        out.append(
            (
                shared,
                _count_feature(consumer, "consumer_login_devices_distinct_7d"),
                personal + settled,
                personal,
            )
        )
    return out


def merge_actions(*many: LenderActions) -> LenderActions:
    """One :class:`LenderActions` holding all of ``many``."""
    names = [item.name for item in fields(LenderActions)]
    merged = {
        name: np.concatenate([np.asarray(getattr(actions, name)) for actions in many]) for name in names
    }
    for name, values in merged.items():
        if name.endswith(("_fen", "_bp", "_months", "_days")):
            merged[name] = values.astype(np.int64)
        else:
            merged[name] = values.astype(np.str_)
    return LenderActions(**merged)
