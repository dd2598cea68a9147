"""The borrower-response model: how simulated borrowers answer the lender, day by day.

The ecosystem (``sim/ecosystem.py``) moves the latent state; fengkong sees only events and answers with
:class:`LenderActions` (offers, line changes, holds). :class:`BorrowerResponse` turns those actions into
what borrowers do — apply, accept, draw, repay or miss, roll into delinquency, default — and returns the
day's events in the columnar layout of :func:`fengkong.domain.events.column_layout` together with the day's
ground truth, kept apart (:class:`ResponseTruth`). Everything is vectorised over the borrowers of
:class:`~fengkong.sim.latent.LatentState` (one row per borrower, aligned by index) and deterministic from
``seed``: day ``d`` draws from ``numpy.random.default_rng(SeedSequence([seed, d]))``, always in the same
order and always full-sized, so two runs that differ only in the lender's actions share their randomness.

The parameters (:class:`ResponseParameters`) come from the scenario's ``response`` section, so a scenario
file holds the whole calibration (``sim/default_scenario.yaml``).

How delinquency works (the calibration targets are in ``/work/shared/CALIBRATION.md``):

* On each due date a borrower who owes something becomes *distressed* with the monthly hazard
  ``h = sigmoid(risk_logit + beta_debt_burden · min(DSR, cap))``, where DSR is the
  monthly debt service on this lender's books over monthly income. A distressed borrower cannot pay for at
  least 30 days, so ``h`` is the monthly probability of going 30+ days past due — the definition of
  ``risk_logit`` in the latent-state contract, raised by debt burden. Cutting a line lowers later draws,
  hence DSR, hence ``h``.
* Besides, ``technical_miss_multiple · h`` of due borrowers miss *technically* (forgot, card expired) and
  pay within 29 days; with the default multiple about 86 % of first delinquencies cure within 30 days,
  and about half of the 1–30 bucket at a month end rolls to 31–60 a month later.
* Distressed borrowers cure in collections with ``distressed_cure_daily`` per day after 30 days; at 90 days
  past due they are in default, at 180 their balance is written off.
* Fraudsters (``state.fraud``; a bust-out from its ``attack_day``) accept every offer, draw every line to
  the limit and never repay; an account taken over (``attack_kind`` 5) is drained like a scam victim's. Scam
  victims (``state.scam_day == day``) apply for every product they lack, draw all lines to the limit for
  ``scam_window_days`` days and transfer the money out to an unknown account (``payment_made`` with
  ``purpose = transfer_out``); a hold that outlasts the window saves them.

Money is integer fen throughout; rates are basis points per year (``1800`` is 18 %) and interest is
``balance × rate_bp // 120_000`` a month (30/360), rounded down.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from fengkong.clock import start_of_business_day
from fengkong.domain.events import column_layout
from fengkong.errors import InputError, InvariantError
from fengkong.sim.latent import BoolArray, FloatArray, IntArray, LatentState, StrArray
from fengkong.sim.scenario import ResponseSection, Scenario, load_scenario

#: Products a borrower can hold, in slot order. One account per borrower and product at a time.
PRODUCTS: Final[tuple[str, ...]] = ("bnpl", "installment", "revolving", "merchant")
PRODUCT_CODE: Final[Mapping[str, int]] = {name: code for code, name in enumerate(PRODUCTS)}
BNPL, INSTALLMENT, REVOLVING, MERCHANT = range(len(PRODUCTS))
#: Products with a schedule (the offer's amount is disbursed at once) versus lines drawn at will.
TERM_PRODUCTS: Final = (INSTALLMENT, MERCHANT)
LINE_PRODUCTS: Final = (BNPL, REVOLVING)

RESPONSE_EVENT_TYPES: Final[tuple[str, ...]] = ("loan_application", "draw", "repayment", "payment_made")
SOURCE: Final = "sim.response"

STATEMENT_DAY: Final = 1  # BNPL and revolving statements, and installment interest, on the 1st
DUE_DAY: Final = 8  # everything is due on the 8th (DOMAIN.md: 月付 statement 1st, due 8th)
STATEMENT_AGE_DAYS_MIN: Final = 15  # an account younger than this skips its first statement

KIND_CONSUMER, KIND_RIDER, KIND_MERCHANT, KIND_SUPPLIER = 0, 1, 2, 3
ATTACK_BUST_OUT, ATTACK_ACCOUNT_TAKEOVER = 3, 5  # LatentState.attack_kind

_NOT_OVERDUE: Final = -1
_UNKNOWN_ACCOUNT_PREFIX: Final = "acct-unknown-"


@dataclass(frozen=True, slots=True)
class ResponseParameters:
    """Parameters of the borrower-response model, built from a scenario's ``response`` section.

    The values, each with its basis, live in ``sim/default_scenario.yaml`` (``response:``), not here: use
    :meth:`from_scenario` or :func:`default_response_parameters`, and ``dataclasses.replace`` to vary one.
    Probabilities are per day unless named ``monthly``; amounts are fen. The level of default risk is the
    latent ``risk_logit`` (the scenario's ``risk`` section); these parameters shape what happens around it.
    """

    # -- default risk -------------------------------------------------------------------------------
    #: logit added per unit of debt-service-to-income (DSR); > 0 so that debt raises default risk.
    beta_debt_burden: float
    #: DSR is capped here before it enters the hazard.
    debt_burden_cap: float
    #: technical (self-curing) misses per distressed miss (86 % cure within 30 days).
    technical_miss_multiple: float
    #: daily cure probability of a technical miss (cured by 29 days at the latest).
    technical_cure_daily: float
    #: daily cure probability in collections of a distressed borrower more than 30 days past due.
    distressed_cure_daily: float
    default_days_past_due: int
    write_off_days_past_due: int
    # -- acceptance and use -------------------------------------------------------------------------
    #: probability an approved applicant accepts and draws down.
    acceptance_probability: float
    #: BNPL and revolving utilisation of each borrower ~ Beta(a, b).
    utilisation_beta_a: float
    utilisation_beta_b: float
    #: probability of a purchase on a given day for an open BNPL or revolving line.
    draw_daily: float
    #: revolving minimum payment as a share of the statement balance.
    revolving_minimum_share: float
    # -- applications -------------------------------------------------------------------------------
    #: daily application probability per product (columns: PRODUCTS) for each kind (rows: consumer, rider,
    #: merchant, supplier), for a borrower without that product.
    application_daily: tuple[tuple[float, float, float, float], ...]
    #: need: odds of applying rise with latent risk by exp(need_risk_slope · (risk_logit − median)).
    need_risk_slope: float
    #: need: an income fallen by more than ``income_shock_drop`` over 30 days multiplies applications.
    income_shock_drop: float
    income_shock_multiplier: float
    #: fraudsters apply this many times more often per product, and once they apply they apply for every
    #: product at once.
    fraud_application_multiplier: float
    #: days before a borrower applies again for a product after applying.
    reapply_days: int
    #: requested BNPL or revolving line: log-normal.
    line_request_median_fen: int
    line_request_sigma: float
    #: cash-loan ticket: log-normal, terms 9 or 12 months.
    ticket_median_fen: int
    ticket_sigma: float
    #: merchant loan.
    merchant_ticket_median_fen: int
    merchant_ticket_sigma: float
    merchant_term_months: int
    #: declared income = true income × log-normal noise; fraudsters inflate it by this factor.
    declared_income_sigma: float
    fraud_income_inflation: float
    # -- scams --------------------------------------------------------------------------------------
    #: days a coerced victim keeps drawing and transferring out, starting on ``scam_day``.
    scam_window_days: int

    @classmethod
    def from_section(cls, section: ResponseSection) -> ResponseParameters:
        """From a validated ``response`` section of a scenario file."""
        values = section.model_dump()
        rates = section.application_daily
        values["application_daily"] = tuple(
            (kind.bnpl, kind.installment, kind.revolving, kind.merchant)
            for kind in (rates.consumer, rates.rider, rates.merchant, rates.supplier)
        )
        return cls(**values)

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> ResponseParameters:
        """The response model of ``scenario`` (its ``response`` section)."""
        return cls.from_section(scenario.response)

    def __post_init__(self) -> None:
        if self.beta_debt_burden <= 0:
            raise InputError(
                "must be positive: default risk rises with debt burden", field="beta_debt_burden"
            )
        for name in (
            "technical_cure_daily",
            "distressed_cure_daily",
            "acceptance_probability",
            "draw_daily",
            "revolving_minimum_share",
        ):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise InputError("must be a probability in [0, 1]", field=name)
        if len(self.application_daily) != 4 or any(
            len(row) != len(PRODUCTS) for row in self.application_daily
        ):
            raise InputError("needs 4 kinds × 4 products", field="application_daily")
        if not 0 < self.default_days_past_due < self.write_off_days_past_due:
            raise InputError("0 < default < write-off days past due", field="default_days_past_due")


@cache
def default_response_parameters() -> ResponseParameters:
    """The response model of the packaged default scenario (``sim/default_scenario.yaml``)."""
    return ResponseParameters.from_scenario(load_scenario())


def _empty_int(size: int = 0) -> IntArray:
    return np.zeros(size, dtype=np.int64)


def _empty_str(size: int = 0) -> StrArray:
    return np.zeros(size, dtype=np.str_)


@dataclass(frozen=True, slots=True)
class LenderActions:
    """What the lender does on one day: offers, line changes and holds. Plain aligned arrays.

    * offers — ``offer_party`` (party ID), ``offer_product`` (one of :data:`PRODUCTS`), ``offer_amount_fen``
      (the line for BNPL/revolving, the principal for installment/merchant), ``offer_rate_bp`` (annual rate
      in basis points), ``offer_term_months`` (0 for lines), ``offer_application_id`` ("" when unsolicited);
    * line changes — ``line_party``, ``line_product``, ``line_new_fen`` (0 closes the line to new draws);
    * holds — ``hold_party``, ``hold_days``: the party may not draw and no disbursement is made for
      ``hold_days`` days from today (a cooling-off period).
    """

    offer_party: StrArray = field(default_factory=_empty_str)
    offer_product: StrArray = field(default_factory=_empty_str)
    offer_amount_fen: IntArray = field(default_factory=_empty_int)
    offer_rate_bp: IntArray = field(default_factory=_empty_int)
    offer_term_months: IntArray = field(default_factory=_empty_int)
    offer_application_id: StrArray = field(default_factory=_empty_str)
    line_party: StrArray = field(default_factory=_empty_str)
    line_product: StrArray = field(default_factory=_empty_str)
    line_new_fen: IntArray = field(default_factory=_empty_int)
    hold_party: StrArray = field(default_factory=_empty_str)
    hold_days: IntArray = field(default_factory=_empty_int)

    def __post_init__(self) -> None:
        groups = {
            "offer": (
                "offer_party",
                "offer_product",
                "offer_amount_fen",
                "offer_rate_bp",
                "offer_term_months",
                "offer_application_id",
            ),
            "line": ("line_party", "line_product", "line_new_fen"),
            "hold": ("hold_party", "hold_days"),
        }
        for names in groups.values():
            size = len(getattr(self, names[0]))
            for name in names:
                if len(getattr(self, name)) != size:
                    raise InputError(f"length {len(getattr(self, name))}, expected {size}", field=name)
        for name in ("offer_amount_fen", "offer_rate_bp", "offer_term_months", "line_new_fen", "hold_days"):
            values = np.asarray(getattr(self, name))
            if values.size and values.dtype.kind not in "iu":
                raise InputError("must be integers (fen, basis points, months, days)", field=name)
            if values.size and int(values.min()) < 0:
                raise InputError("must not be negative", field=name)
        for name in ("offer_product", "line_product"):
            unknown = sorted(set(np.asarray(getattr(self, name)).tolist()) - set(PRODUCTS))
            if unknown:
                raise InputError(f"unknown products {unknown}; known: {list(PRODUCTS)}", field=name)

    @property
    def offers_count(self) -> int:
        return len(self.offer_party)


@dataclass(frozen=True, slots=True)
class ResponseTruth:
    """Ground truth of one day, per borrower (aligned with the latent state). Never shown to fengkong.

    ``true_pd_6m`` is filled at month ends (the last day of a month) and is None on other days.
    ``originations`` lists the accounts opened today with the true 6-month PD at that moment (the oracle).
    """

    day: int
    business_date: date
    party_id: StrArray
    balance_fen: IntArray
    balance_by_product_fen: npt.NDArray[np.int64]  # borrowers × PRODUCTS
    days_past_due: IntArray
    ever_30: BoolArray
    defaulted: BoolArray
    written_off: BoolArray
    monthly_debt_service_fen: IntArray
    true_pd_6m: FloatArray | None
    originations: pa.Table

    @property
    def month_end(self) -> bool:
        return self.true_pd_6m is not None

    def to_table(self, rows: BoolArray | None = None) -> pa.Table:
        """The day's truth as a table: every borrower, or those where ``rows`` is True."""
        mask = np.ones(len(self.party_id), dtype=bool) if rows is None else rows
        columns: dict[str, pa.Array] = {
            "business_date": pa.array([self.business_date] * int(mask.sum()), type=pa.date32()),
            "party_id": pa.array(self.party_id[mask], type=pa.string()),
            "balance_fen": pa.array(self.balance_fen[mask], type=pa.int64()),
            "days_past_due": pa.array(self.days_past_due[mask], type=pa.int64()),
            "ever_30": pa.array(self.ever_30[mask], type=pa.bool_()),
            "defaulted": pa.array(self.defaulted[mask], type=pa.bool_()),
            "written_off": pa.array(self.written_off[mask], type=pa.bool_()),
        }
        if self.true_pd_6m is not None:
            columns["true_pd_6m"] = pa.array(self.true_pd_6m[mask], type=pa.float64())
        return pa.table(columns)


@dataclass(frozen=True, slots=True)
class ResponseDay:
    """What :meth:`BorrowerResponse.step` returns: events for fengkong, truth for the scoreboard only."""

    events: dict[str, pa.Table]
    truth: ResponseTruth


def sigmoid(values: FloatArray) -> FloatArray:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(values, -40.0, 40.0))), dtype=np.float64)


def debt_burden(monthly_debt_service_fen: IntArray, monthly_income_fen: IntArray, cap: float) -> FloatArray:
    """Debt service over income, capped; a borrower with debt and no income is at the cap."""
    income = monthly_income_fen.astype(np.float64)
    debt = monthly_debt_service_fen.astype(np.float64)
    ratio = np.where(income > 0, debt / np.maximum(income, 1.0), np.where(debt > 0, cap, 0.0))
    return np.asarray(np.minimum(ratio, cap), dtype=np.float64)


def monthly_hazard(
    state: LatentState, monthly_debt_service_fen: IntArray, params: ResponseParameters
) -> FloatArray:
    """Monthly probability of going 30+ days past due: sigmoid(risk_logit + β·min(DSR, cap))."""
    burden = debt_burden(monthly_debt_service_fen, state.monthly_income_fen, params.debt_burden_cap)
    return sigmoid(state.risk_logit + params.beta_debt_burden * burden)


def true_pd_6m(
    state: LatentState, monthly_debt_service_fen: IntArray, params: ResponseParameters | None = None
) -> FloatArray:
    """True probability of becoming bad (ever 30+ days past due within 6 months on book, DOMAIN.md).

    Six monthly hazards at today's latent risk and debt burden; fraudsters never repay, so theirs is 1.
    Pass zeros for ``monthly_debt_service_fen`` to get the PD at zero debt.
    """
    params = params or default_response_parameters()
    hazard = monthly_hazard(state, monthly_debt_service_fen, params)
    pd = 1.0 - (1.0 - hazard) ** 6
    return np.asarray(np.where(state.fraud, 1.0, pd), dtype=np.float64)


def annuity_payment_fen(principal_fen: int, rate_bp: int, term_months: int) -> int:
    """Equal monthly installment (等额本息) at ``rate_bp``/12 a month, rounded half up to the fen."""
    if term_months < 1:
        raise InputError("must be at least 1", field="term_months")
    if rate_bp == 0:
        return -(-principal_fen // term_months)
    monthly = Decimal(rate_bp) / Decimal(120_000)
    factor = (1 + monthly) ** term_months
    payment = Decimal(principal_fen) * monthly * factor / (factor - 1)
    return int(payment.quantize(Decimal(1), rounding=ROUND_HALF_UP))


_ARROW_TYPES: Final[Mapping[str, pa.DataType]] = {
    "string": pa.string(),
    "int64": pa.int64(),
    "bool": pa.bool_(),
    "date": pa.date32(),
    "timestamp_utc_us": pa.timestamp("us", tz="UTC"),
}


def event_table(event_type: str, columns: Mapping[str, Any]) -> pa.Table:
    """A table in ``column_layout(event_type)``; columns not given are all null."""
    layout = column_layout(event_type)
    names = {name for name, _ in layout}
    unknown = sorted(set(columns) - names)
    if unknown:
        raise InvariantError(f"{event_type} has no columns {unknown}")
    size = len(np.asarray(columns["event_id"]))
    arrays = []
    for name, logical in layout:
        arrow_type = _ARROW_TYPES[logical]
        if name in columns:
            arrays.append(pa.array(columns[name], type=arrow_type))
        else:
            arrays.append(pa.nulls(size, type=arrow_type))
    return pa.Table.from_arrays(arrays, names=[name for name, _ in layout])


class BorrowerResponse:
    """The borrowers' side of the loan book, stepped one simulated day at a time.

    Build it once with the seed; call :meth:`step` every day with the latent state the ecosystem has just
    updated and the lender's actions. The state may grow (new parties appended); it never shrinks.
    """

    def __init__(self, seed: int, params: ResponseParameters | None = None) -> None:
        self.params = params or default_response_parameters()
        self.seed = int(seed)
        self._size = 0
        self._index: dict[str, int] = {}
        products = len(PRODUCTS)
        shape = (0, products)
        self.line_fen = np.zeros(shape, dtype=np.int64)
        self.balance_fen = np.zeros(shape, dtype=np.int64)  # principal and charged interest outstanding
        self.statement_due_fen = np.zeros(shape, dtype=np.int64)  # billed, due on the next due day
        self.overdue_fen = np.zeros(shape, dtype=np.int64)  # billed, due date passed, unpaid
        self.installment_fen = np.zeros(shape, dtype=np.int64)
        self.terms_left = np.zeros(shape, dtype=np.int64)
        self.rate_bp = np.zeros(shape, dtype=np.int64)
        self.open = np.zeros(shape, dtype=bool)
        self.opened_day = np.full(shape, -1, dtype=np.int64)
        self.account_sequence = np.zeros(shape, dtype=np.int64)
        self.last_applied_day = np.full(shape, -10_000, dtype=np.int64)
        self.hold_until_day = np.full(0, -1, dtype=np.int64)
        # cumulative flows, for conservation: drawn + interest − repaid − written off = balance
        self.drawn_fen = np.zeros(shape, dtype=np.int64)
        self.interest_fen = np.zeros(shape, dtype=np.int64)
        self.repaid_fen = np.zeros(shape, dtype=np.int64)
        self.written_off_fen = np.zeros(shape, dtype=np.int64)
        # per borrower
        self.utilisation = np.zeros(0, dtype=np.float64)
        self.overdue_since_day = np.full(0, _NOT_OVERDUE, dtype=np.int64)
        self.distressed = np.zeros(0, dtype=bool)
        self.technical_cure_day = np.full(0, -1, dtype=np.int64)
        self.ever_30 = np.zeros(0, dtype=bool)
        self.defaulted = np.zeros(0, dtype=bool)
        self.written_off = np.zeros(0, dtype=bool)
        self.income_30d_ago_fen = np.zeros(0, dtype=np.int64)
        self._income_history: list[IntArray] = []
        self._fraud_today = np.zeros(0, dtype=bool)
        self._coerced_today = np.zeros(0, dtype=bool)
        self._exists_today = np.zeros(0, dtype=bool)
        # offers waiting for a hold to end: (release_day, party index, product, amount, rate, term, app id)
        self._pending: list[tuple[int, int, int, int, int, int, str]] = []

    # -- bookkeeping ------------------------------------------------------------------------------------
    def _grow(self, state: LatentState) -> None:
        size = len(state)
        if size < self._size:
            raise InvariantError(f"the latent state shrank from {self._size} to {size} borrowers")
        if size == self._size:
            return
        extra = size - self._size
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, 0x5EED, self._size]))

        def grow2(array: npt.NDArray[Any], fill: object) -> Any:
            block = np.full((extra, array.shape[1]), fill, dtype=array.dtype)
            return np.concatenate([array, block])

        def grow1(array: npt.NDArray[Any], fill: object) -> Any:
            return np.concatenate([array, np.full(extra, fill, dtype=array.dtype)])

        for name in (
            "line_fen",
            "balance_fen",
            "statement_due_fen",
            "overdue_fen",
            "installment_fen",
            "terms_left",
            "rate_bp",
            "open",
            "account_sequence",
            "drawn_fen",
            "interest_fen",
            "repaid_fen",
            "written_off_fen",
        ):
            setattr(self, name, grow2(getattr(self, name), 0))
        self.opened_day = grow2(self.opened_day, -1)
        self.last_applied_day = grow2(self.last_applied_day, -10_000)
        self.hold_until_day = grow1(self.hold_until_day, -1)
        new_utilisation = rng.beta(self.params.utilisation_beta_a, self.params.utilisation_beta_b, size=extra)
        self.utilisation = np.concatenate([self.utilisation, new_utilisation])
        self.overdue_since_day = grow1(self.overdue_since_day, _NOT_OVERDUE)
        self.distressed = grow1(self.distressed, False)
        self.technical_cure_day = grow1(self.technical_cure_day, -1)
        self.ever_30 = grow1(self.ever_30, False)
        self.defaulted = grow1(self.defaulted, False)
        self.written_off = grow1(self.written_off, False)
        self.income_30d_ago_fen = np.concatenate(
            [self.income_30d_ago_fen, state.monthly_income_fen[self._size :].astype(np.int64)]
        )
        self._income_history = [
            np.concatenate([past, state.monthly_income_fen[self._size :].astype(np.int64)])
            for past in self._income_history
        ]
        for position in range(self._size, size):
            self._index[str(state.party_id[position])] = position
        self._size = size

    def index_of(self, party_ids: StrArray) -> IntArray:
        """Positions of ``party_ids`` in the latent state; unknown IDs raise InputError."""
        try:
            return np.asarray([self._index[str(party)] for party in party_ids], dtype=np.int64)
        except KeyError as exc:
            raise InputError(f"unknown party {exc.args[0]!r}", field="party") from exc

    def monthly_debt_service_fen(self, rows: IntArray | slice | None = None) -> IntArray:
        """This lender's monthly debt service per borrower: BNPL spend, revolving minimum, installments.

        BNPL counts the larger of its balance and the borrower's usual monthly spend on the line.
        """
        pick = slice(None) if rows is None else rows
        balance, line, is_open = self.balance_fen[pick], self.line_fen[pick], self.open[pick]
        spend = (self.utilisation[pick] * line[:, BNPL]).astype(np.int64)
        bnpl = np.where(is_open[:, BNPL], np.maximum(balance[:, BNPL], spend), balance[:, BNPL])
        revolving = (balance[:, REVOLVING] * self.params.revolving_minimum_share).astype(np.int64)
        terms = np.where(balance[:, TERM_PRODUCTS] > 0, self.installment_fen[pick][:, TERM_PRODUCTS], 0)
        return np.asarray(bnpl + revolving + terms.sum(axis=1), dtype=np.int64)

    def exposed(self) -> BoolArray:
        """Borrowers who hold or ever held an account with this lender."""
        return np.asarray((self.account_sequence > 0).any(axis=1), dtype=bool)

    def days_past_due(self, day: int) -> IntArray:
        return np.where(self.overdue_since_day >= 0, day - self.overdue_since_day, 0).astype(np.int64)

    def check_conservation(self) -> None:
        """drawn + interest − repaid − written off = balance, for every account; raises InvariantError."""
        expected = self.drawn_fen + self.interest_fen - self.repaid_fen - self.written_off_fen
        if not np.array_equal(expected, self.balance_fen):
            bad = np.argwhere(expected != self.balance_fen)[:3].tolist()
            raise InvariantError(f"loan balances do not conserve at (borrower, product) {bad}")
        if (self.balance_fen < 0).any() or (self.overdue_fen < 0).any() or (self.statement_due_fen < 0).any():
            raise InvariantError("a negative balance, overdue or statement amount")

    # -- the day --------------------------------------------------------------------------------------
    def step(self, state: LatentState, actions: LenderActions, day: int, today: date) -> ResponseDay:
        """Borrowers answer ``actions`` on simulated ``day`` (business date ``today``)."""
        state.validate()
        self._grow(state)
        params = self.params
        size = self._size
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, day]))
        # Fixed-size draws, in a fixed order, so runs differing only in actions share their randomness.
        u_accept = rng.random(size)
        u_miss = rng.random(size)
        u_cure = rng.random(size)
        u_draw = rng.random(size)
        draw_noise = rng.lognormal(0.0, 0.5, size)
        u_apply = rng.random((size, len(PRODUCTS)))
        request_noise = rng.standard_normal((size, len(PRODUCTS)))
        u_term = rng.random(size)
        income_noise = rng.lognormal(0.0, params.declared_income_sigma, size)
        seconds = rng.integers(6 * 3600, 23 * 3600, size)
        technical_delay = np.minimum(rng.geometric(max(params.technical_cure_daily, 1e-9), size), 29)

        events = _EventBuffer(day, today, state.party_id, seconds)
        originations = _Originations()
        scam_active = (
            (state.scam_day >= 0) & (state.scam_day <= day) & (day < state.scam_day + params.scam_window_days)
        )
        taken_over = (
            (state.attack_kind == ATTACK_ACCOUNT_TAKEOVER)
            & (state.attack_day >= 0)
            & (state.attack_day <= day)
            & (day < state.attack_day + params.scam_window_days)
        )
        # a bust-out behaves until its attack day; other fraud is fraudulent from registration
        self._fraud_today = state.fraud & ((state.attack_kind != ATTACK_BUST_OUT) | (state.attack_day <= day))
        # coerced (scam) or taken over: lines drawn to the limit and the money transferred out
        self._coerced_today = scam_active | taken_over
        self._exists_today = (state.registered_day <= day) & (
            (state.closed_day < 0) | (state.closed_day > day)
        )
        self._apply_line_changes(actions)
        for party_index, hold_days in zip(self.index_of(actions.hold_party), actions.hold_days, strict=True):
            self.hold_until_day[party_index] = max(
                int(self.hold_until_day[party_index]), day + int(hold_days)
            )
        held = self.hold_until_day > day
        self._accept_offers(state, actions, day, u_accept, held, self._coerced_today, events, originations)

        if today.day == STATEMENT_DAY:
            self._statement(day)
        if today.day == DUE_DAY:
            self._due(state, day, u_miss, technical_delay, events)
        self._cures(state, day, u_cure, events)
        self._draws(state, day, u_draw, draw_noise, held, self._coerced_today, events)
        self._age(day)
        self._applications(state, day, u_apply, request_noise, u_term, income_noise, scam_active, events)
        self._remember_income(state)
        self.check_conservation()

        month_end = (today + timedelta(days=1)).day == 1
        debt_service = self.monthly_debt_service_fen()
        truth = ResponseTruth(
            day=day,
            business_date=today,
            party_id=state.party_id,
            balance_fen=self.balance_fen.sum(axis=1),
            balance_by_product_fen=self.balance_fen.copy(),
            days_past_due=self.days_past_due(day),
            ever_30=self.ever_30.copy(),
            defaulted=self.defaulted.copy(),
            written_off=self.written_off.copy(),
            monthly_debt_service_fen=debt_service,
            true_pd_6m=true_pd_6m(state, debt_service, params) if month_end else None,
            originations=originations.table(),
        )
        return ResponseDay(events=events.tables(), truth=truth)

    def _apply_line_changes(self, actions: LenderActions) -> None:
        if not len(actions.line_party):
            return
        parties = self.index_of(actions.line_party)
        products = np.asarray([PRODUCT_CODE[str(name)] for name in actions.line_product], dtype=np.int64)
        new_line = np.asarray(actions.line_new_fen, dtype=np.int64)
        is_line = np.isin(products, LINE_PRODUCTS)
        self.line_fen[parties[is_line], products[is_line]] = new_line[is_line]
        closed = is_line & (new_line == 0)
        self.open[parties[closed], products[closed]] = False

    def _accept_offers(
        self,
        state: LatentState,
        actions: LenderActions,
        day: int,
        u_accept: FloatArray,
        held: BoolArray,
        scam_active: BoolArray,
        events: _EventBuffer,
        originations: _Originations,
    ) -> None:
        params = self.params
        offers: list[
            tuple[int, int, int, int, int, str, bool]
        ] = []  # party, product, amount, rate, term, app
        released = [item for item in self._pending if item[0] <= day]
        self._pending = [item for item in self._pending if item[0] > day]
        for _, party, product, amount, rate, term, application in released:
            offers.append((party, product, amount, rate, term, application, True))
        parties = self.index_of(actions.offer_party)
        for position in range(actions.offers_count):
            offers.append(
                (
                    int(parties[position]),
                    PRODUCT_CODE[str(actions.offer_product[position])],
                    int(actions.offer_amount_fen[position]),
                    int(actions.offer_rate_bp[position]),
                    int(actions.offer_term_months[position]),
                    str(actions.offer_application_id[position]),
                    False,
                )
            )
        for party, product, amount, rate, term, application, was_held in offers:
            if self.open[party, product] or self.written_off[party] or amount <= 0:
                continue
            if held[party]:
                release = int(self.hold_until_day[party])
                self._pending.append((release, party, product, amount, rate, term, application))
                continue
            coerced = bool(scam_active[party])
            if was_held and state.scam_day[party] >= 0 and state.scam_day[party] <= day and not coerced:
                continue  # the cooling-off period outlasted the scam: the victim walks away
            accepts = (
                bool(self._fraud_today[party]) or coerced or u_accept[party] < params.acceptance_probability
            )
            if not accepts:
                continue
            self.account_sequence[party, product] += 1
            self.open[party, product] = True
            self.opened_day[party, product] = day
            self.rate_bp[party, product] = rate
            debt_before = self.monthly_debt_service_fen(slice(party, party + 1))
            if product in TERM_PRODUCTS:
                term = max(term, 1)
                self.line_fen[party, product] = amount
                self.terms_left[party, product] = term
                self.installment_fen[party, product] = annuity_payment_fen(amount, rate, term)
                one, amounts = np.asarray([party], dtype=np.int64), np.asarray([amount], dtype=np.int64)
                self._draw(one, product, amounts, events)
                if coerced:
                    events.transfers_out(one, amounts)
            else:
                self.line_fen[party, product] = amount
                self.terms_left[party, product] = 0
                self.installment_fen[party, product] = 0
            debt = self.monthly_debt_service_fen(slice(party, party + 1))
            sub = _substate(state, party)
            originations.add(
                account_id=self.account_id(state, party, product),
                party_id=str(state.party_id[party]),
                product=PRODUCTS[product],
                application_id=application,
                day=day,
                amount_fen=amount,
                true_pd_6m=float(true_pd_6m(sub, debt, params)[0]),
                true_pd_6m_zero_debt=float(true_pd_6m(sub, np.zeros(1, np.int64), params)[0]),
                fraud=bool(state.fraud[party]),
                scam_victim=bool(state.scam_day[party] >= 0),
                debt_service_before_fen=int(debt_before[0]),
            )

    def account_id(self, state: LatentState, party: int, product: int) -> str:
        return f"{state.party_id[party]}:{PRODUCTS[product]}:{int(self.account_sequence[party, product])}"

    def _draw(self, parties: IntArray, product: int, amounts: IntArray, events: _EventBuffer) -> None:
        """Draw ``amounts`` on ``product`` for ``parties`` (distinct)."""
        self.balance_fen[parties, product] += amounts
        self.drawn_fen[parties, product] += amounts
        products = np.full(len(parties), product, dtype=np.int64)
        events.draws(parties, products, self.account_sequence[parties, product], amounts)

    def _statement(self, day: int) -> None:
        params = self.params
        old_enough = (self.opened_day >= 0) & (day - self.opened_day >= STATEMENT_AGE_DAYS_MIN)
        billed_outside = self.statement_due_fen + self.overdue_fen
        # interest on installment, merchant and revolving balances (30/360, rounded down)
        interest = np.where(old_enough, self.balance_fen * self.rate_bp // 120_000, 0)
        interest[:, BNPL] = 0
        self.balance_fen += interest
        self.interest_fen += interest
        unbilled = np.maximum(self.balance_fen - billed_outside, 0)
        due = np.zeros_like(self.balance_fen)
        due[:, BNPL] = unbilled[:, BNPL]
        revolving_minimum = np.maximum(
            (self.balance_fen[:, REVOLVING] * params.revolving_minimum_share).astype(np.int64),
            np.minimum(self.balance_fen[:, REVOLVING], 10_000),
        )
        due[:, REVOLVING] = np.minimum(
            np.maximum(revolving_minimum - billed_outside[:, REVOLVING], 0), unbilled[:, REVOLVING]
        )
        for product in TERM_PRODUCTS:
            last = self.terms_left[:, product] <= 1
            scheduled = np.where(
                last, unbilled[:, product], np.minimum(self.installment_fen[:, product], unbilled[:, product])
            )
            has_term = self.terms_left[:, product] > 0
            due[:, product] = np.where(has_term, scheduled, unbilled[:, product])
            self.terms_left[:, product] = np.where(
                has_term & (due[:, product] > 0), self.terms_left[:, product] - 1, self.terms_left[:, product]
            )
        due = np.where(old_enough, due, 0)
        self.statement_due_fen += due

    def _due(
        self,
        state: LatentState,
        day: int,
        u_miss: FloatArray,
        technical_delay: IntArray,
        events: _EventBuffer,
    ) -> None:
        params = self.params
        owing = self.statement_due_fen.sum(axis=1) > 0
        current = self.overdue_since_day == _NOT_OVERDUE
        hazard = monthly_hazard(state, self.monthly_debt_service_fen(), params)
        distress = owing & current & ((u_miss < hazard) | self._fraud_today)
        technical = owing & current & ~distress & (u_miss < hazard * (1.0 + params.technical_miss_multiple))
        missing = distress | technical | (owing & ~current)
        paying = owing & ~missing
        self._repay(self.statement_due_fen, paying, "auto_debit", events)
        self.statement_due_fen[paying] = 0
        self.overdue_fen[missing] += self.statement_due_fen[missing]
        self.statement_due_fen[missing] = 0
        newly = missing & current
        self.overdue_since_day[newly] = day
        self.distressed[distress] = True
        self.technical_cure_day[technical] = day + technical_delay[technical]

    def _repay(
        self, owed: npt.NDArray[np.int64], rows: BoolArray, channel: str, events: _EventBuffer
    ) -> None:
        """Borrowers in ``rows`` pay ``owed`` (borrower × product) in full; the caller clears ``owed``."""
        pay = np.where(rows[:, None], owed, 0)
        parties, products = np.nonzero(pay > 0)
        if not len(parties):
            return
        amounts = pay[parties, products]
        self.balance_fen -= pay
        self.repaid_fen += pay
        events.repayments(parties, products, self.account_sequence[parties, products], amounts, channel)
        paid_off = np.zeros_like(self.open)
        paid_off[:, TERM_PRODUCTS] = self.balance_fen[:, TERM_PRODUCTS] == 0
        self.open &= ~paid_off

    def _cures(self, state: LatentState, day: int, u_cure: FloatArray, events: _EventBuffer) -> None:
        params = self.params
        overdue = self.overdue_since_day != _NOT_OVERDUE
        dpd = self.days_past_due(day)
        technical = overdue & ~self.distressed & (self.technical_cure_day <= day)
        # fraudsters never repay: distressed from their first due date, never collected. Collections cure
        # from day 31 on, after the day at 30 days past due has been recorded (ever 30+).
        collected = (
            overdue
            & self.distressed
            & ~self._fraud_today
            & (dpd > 30)
            & (u_cure < params.distressed_cure_daily)
        )
        self._repay(self.overdue_fen, technical, "manual", events)
        self._repay(self.overdue_fen, collected, "collection", events)
        cured = technical | collected
        self.overdue_fen[cured] = 0
        self.overdue_since_day[cured] = _NOT_OVERDUE
        self.distressed[cured] = False
        self.technical_cure_day[cured] = -1

    def _draws(
        self,
        state: LatentState,
        day: int,
        u_draw: FloatArray,
        draw_noise: FloatArray,
        held: BoolArray,
        scam_active: BoolArray,
        events: _EventBuffer,
    ) -> None:
        params = self.params
        delinquent = self.overdue_since_day != _NOT_OVERDUE
        for product in LINE_PRODUCTS:
            available = np.maximum(self.line_fen[:, product] - self.balance_fen[:, product], 0)
            can_draw = self.open[:, product] & ~held & (available > 0) & ~self.written_off
            # BNPL spend: about utilisation × line a month, in purchases on draw_daily of the days
            typical = self.utilisation * self.line_fen[:, product] / max(30.0 * params.draw_daily, 1e-9)
            amount = np.minimum((typical * draw_noise).astype(np.int64), available)
            normal = can_draw & ~delinquent & (u_draw < params.draw_daily) & (amount >= 100)
            maximal = can_draw & (self._fraud_today | scam_active)
            amount = np.where(maximal, available, amount)
            parties = np.flatnonzero(normal | maximal)
            self._draw(parties, product, amount[parties], events)
            coerced = parties[scam_active[parties]]
            events.transfers_out(coerced, amount[coerced])

    def _age(self, day: int) -> None:
        params = self.params
        dpd = self.days_past_due(day)
        self.ever_30 |= dpd >= 30
        self.defaulted |= dpd >= params.default_days_past_due
        charge_off = dpd >= params.write_off_days_past_due
        if charge_off.any():
            balance = self.balance_fen[charge_off]
            self.written_off_fen[charge_off] += balance
            self.balance_fen[charge_off] = 0
            self.overdue_fen[charge_off] = 0
            self.statement_due_fen[charge_off] = 0
            self.open[charge_off] = False
            self.line_fen[charge_off] = 0
            self.written_off[charge_off] = True
            self.overdue_since_day[charge_off] = _NOT_OVERDUE
            self.distressed[charge_off] = False

    def _applications(
        self,
        state: LatentState,
        day: int,
        u_apply: npt.NDArray[np.float64],
        request_noise: npt.NDArray[np.float64],
        u_term: FloatArray,
        income_noise: FloatArray,
        scam_active: BoolArray,
        events: _EventBuffer,
    ) -> None:
        params = self.params
        rates = np.asarray(params.application_daily, dtype=np.float64)[np.clip(state.kind, 0, 3)]
        median_logit = float(np.median(state.risk_logit)) if len(state) else 0.0
        need = np.exp(params.need_risk_slope * (state.risk_logit - median_logit))
        shocked = state.monthly_income_fen < (1.0 - params.income_shock_drop) * self.income_30d_ago_fen
        need = need * np.where(shocked, params.income_shock_multiplier, 1.0)
        need = need * np.where(state.fraud, params.fraud_application_multiplier, 1.0)
        probability = np.minimum(rates * need[:, None], 1.0)
        eligible = (
            ~self.open
            & (day - self.last_applied_day >= params.reapply_days)
            & (~self.written_off & self._exists_today)[:, None]
        )
        applies = eligible & (u_apply < probability)
        scam_today = state.scam_day == day
        applies |= (scam_today & self._exists_today)[:, None] & ~self.open & (rates > 0)
        # fraudsters who apply at all apply for everything their kind can get (bust-out)
        applies |= (state.fraud & applies.any(axis=1))[:, None] & eligible & (rates > 0)
        if not applies.any():
            return
        self.last_applied_day[applies] = day
        declared = state.monthly_income_fen * income_noise
        declared = np.where(state.fraud, declared * params.fraud_income_inflation, declared).astype(np.int64)
        line_request = params.line_request_median_fen * np.exp(params.line_request_sigma * request_noise)
        ticket = params.ticket_median_fen * np.exp(params.ticket_sigma * request_noise)
        merchant_ticket = params.merchant_ticket_median_fen * np.exp(
            params.merchant_ticket_sigma * request_noise
        )
        for party, product in np.argwhere(applies):
            if product == INSTALLMENT:
                amount, term = ticket[party, product], 9 if u_term[party] < 0.5 else 12
            elif product == MERCHANT:
                amount, term = merchant_ticket[party, product], params.merchant_term_months
            else:
                amount, term = line_request[party, product], 0
            amount_fen = int(max(50_000, round(float(amount) / 10_000) * 10_000))  # whole hundreds of yuan
            events.application(int(party), int(product), amount_fen, term, int(declared[party]))

    def _remember_income(self, state: LatentState) -> None:
        self._income_history.append(state.monthly_income_fen.astype(np.int64).copy())
        if len(self._income_history) > 30:
            self.income_30d_ago_fen = self._income_history.pop(0)


def empty_originations() -> pa.Table:
    """The originations truth table with no rows (its schema)."""
    return _Originations().table()


def _substate(state: LatentState, position: int) -> LatentState:
    window = slice(position, position + 1)
    return LatentState(**{item.name: getattr(state, item.name)[window] for item in fields(state)})


class _Originations:
    """Accounts opened today, with the oracle PD at opening (truth)."""

    _COLUMNS: Final = (
        ("account_id", pa.string()),
        ("party_id", pa.string()),
        ("product", pa.string()),
        ("application_id", pa.string()),
        ("day", pa.int64()),
        ("amount_fen", pa.int64()),
        ("true_pd_6m", pa.float64()),
        ("true_pd_6m_zero_debt", pa.float64()),
        ("fraud", pa.bool_()),
        ("scam_victim", pa.bool_()),
        ("debt_service_before_fen", pa.int64()),
    )

    def __init__(self) -> None:
        self._rows: dict[str, list[object]] = {name: [] for name, _ in self._COLUMNS}

    def add(self, **values: object) -> None:
        for name, _ in self._COLUMNS:
            self._rows[name].append(values[name])

    def table(self) -> pa.Table:
        return pa.table({name: pa.array(self._rows[name], type=kind) for name, kind in self._COLUMNS})


class _EventBuffer:
    """Collects the day's events in bulk and lays them out as tables; IDs are deterministic."""

    def __init__(self, day: int, today: date, party_id: StrArray, seconds: IntArray) -> None:
        self.day = day
        self.today = today
        self.stamp = f"{today:%Y%m%d}"
        self.party_id = party_id
        self.seconds = seconds
        self.day_start_us = int(start_of_business_day(today).timestamp()) * 1_000_000
        self.chunks: dict[str, list[dict[str, Any]]] = {name: [] for name in RESPONSE_EVENT_TYPES}
        self.counts: dict[str, int] = dict.fromkeys(RESPONSE_EVENT_TYPES, 0)

    def _add(self, event_type: str, parties: IntArray, offset_seconds: int, **values: Any) -> IntArray:
        """Append ``len(parties)`` events; returns their sequence numbers within the day and type."""
        size = len(parties)
        first = self.counts[event_type]
        sequence = np.arange(first, first + size, dtype=np.int64)
        self.counts[event_type] = first + size
        occurred_us = self.day_start_us + (self.seconds[parties] + offset_seconds) * 1_000_000
        received_us = occurred_us + (1 + sequence % 5) * 1_000_000
        chunk: dict[str, Any] = {
            "event_id": [f"resp-{self.stamp}-{event_type}-{number:07d}" for number in sequence.tolist()],
            "event_type": [event_type] * size,
            "occurred_at": occurred_us,
            "received_at": received_us,
            "source": [SOURCE] * size,
        }
        for name, value in values.items():
            chunk[name] = [value] * size if isinstance(value, str | bool) else value
        self.chunks[event_type].append(chunk)
        return sequence

    def _accounts(self, parties: IntArray, products: IntArray, sequences: IntArray) -> list[str]:
        return [
            f"{self.party_id[party]}:{PRODUCTS[product]}:{number}"
            for party, product, number in zip(
                parties.tolist(), products.tolist(), sequences.tolist(), strict=True
            )
        ]

    def application(self, party: int, product: int, amount_fen: int, term: int, declared_fen: int) -> None:
        party_id = str(self.party_id[party])
        self._add(
            "loan_application",
            np.asarray([party], dtype=np.int64),
            product * 60,
            applicant_id=[party_id],
            application_id=[f"app-{self.stamp}-{party_id}-{PRODUCTS[product]}"],
            product=[PRODUCTS[product]],
            requested_amount_fen=[amount_fen],
            term_months=[term],
            declared_monthly_income_fen=[declared_fen],
        )

    def draws(
        self, parties: IntArray, products: IntArray, sequences: IntArray, amounts_fen: IntArray
    ) -> None:
        if not len(parties):
            return
        first = self.counts["draw"]
        self._add(
            "draw",
            parties,
            600,
            borrower_id=self.party_id[parties].tolist(),
            account_id=self._accounts(parties, products, sequences),
            draw_id=[f"drw-{self.stamp}-{number:07d}" for number in range(first, first + len(parties))],
            amount_fen=amounts_fen,
        )

    def repayments(
        self, parties: IntArray, products: IntArray, sequences: IntArray, amounts_fen: IntArray, channel: str
    ) -> None:
        if not len(parties):
            return
        first = self.counts["repayment"]
        self._add(
            "repayment",
            parties,
            -3600,
            borrower_id=self.party_id[parties].tolist(),
            account_id=self._accounts(parties, products, sequences),
            repayment_id=[f"rep-{self.stamp}-{number:07d}" for number in range(first, first + len(parties))],
            amount_fen=amounts_fen,
            channel=channel,
        )

    def transfers_out(self, parties: IntArray, amounts_fen: IntArray) -> None:
        keep = amounts_fen > 0
        parties, amounts_fen = parties[keep], amounts_fen[keep]
        if not len(parties):
            return
        first = self.counts["payment_made"]
        self._add(
            "payment_made",
            parties,
            1200,
            payer_id=self.party_id[parties].tolist(),
            amount_fen=amounts_fen,
            purpose="transfer_out",
            counterparty_account=[
                f"{_UNKNOWN_ACCOUNT_PREFIX}{self.stamp}-{number:06d}"
                for number in range(first, first + len(parties))
            ],
            counterparty_known=False,
        )

    def tables(self) -> dict[str, pa.Table]:
        tables: dict[str, pa.Table] = {}
        for event_type in RESPONSE_EVENT_TYPES:
            chunks = self.chunks[event_type]
            columns: dict[str, Any] = {"event_id": []}
            if chunks:
                columns = {
                    name: np.concatenate([np.asarray(chunk[name]) for chunk in chunks]) for name in chunks[0]
                }
            tables[event_type] = event_table(event_type, columns)
        return tables
