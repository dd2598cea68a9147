"""Hypothesis strategies shared by every test (one place, as attrs keeps them)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import strategies as st

from fengkong.domain.events import EVENT_TYPE_NAMES, EVENT_TYPES, AttributeKind, AttributeSpec
from fengkong.domain.ledger import Posting, PostingLine
from fengkong.domain.products import DayCount, ProductKind, ProductTerms, RepaymentMethod
from fengkong.money import CURRENCY_SCALES, Money

currencies = st.sampled_from(sorted(CURRENCY_SCALES))
minor_units = st.integers(min_value=-(10**15), max_value=10**15)


@st.composite
def money(draw: st.DrawFn, currency: str | None = None) -> Money:
    chosen = currency if currency is not None else draw(currencies)
    return Money(draw(minor_units), chosen)


int_weights = st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=20).filter(
    lambda weights: sum(weights) > 0
)
decimal_weights = st.lists(
    st.decimals(
        min_value=Decimal(0), max_value=Decimal(1000), allow_nan=False, allow_infinity=False, places=4
    ),
    min_size=1,
    max_size=20,
).filter(lambda weights: sum(weights) > 0)


# -- store: event IDs in overlapping batches ----------------------------------------------------------------
event_ids = st.sampled_from([f"evt-{n:03d}" for n in range(40)])


def event_id_batches() -> st.SearchStrategy[list[list[str]]]:
    """Batches of event IDs drawn from a small pool, so batches overlap and repeat IDs inside themselves."""
    return st.lists(st.lists(event_ids, max_size=25), max_size=8)


# -- ingest: valid event records (JSON wire form) and duplicated batches -------------------------------------


def sample_attribute_value(spec: AttributeSpec) -> object:
    """A valid JSON value for an attribute of any kind (money as a string, dates as YYYY-MM-DD)."""
    if spec.kind is AttributeKind.CHOICE:
        return spec.choices[0]
    if spec.kind is AttributeKind.INTEGER:
        return spec.minimum if spec.minimum is not None else 3
    if spec.kind is AttributeKind.MONEY:
        return "12.34"
    if spec.kind is AttributeKind.BOOLEAN:
        return True
    if spec.kind is AttributeKind.DATE:
        return "2026-01-31"
    if spec.kind is AttributeKind.DECIMAL:
        return "0.0365"
    return f"{spec.name}-value"


def valid_ingest_record(
    event_type: str = "order_placed",
    event_id: str = "evt-1",
    *,
    party: str = "P1",
    occurred_at: str = "2026-01-01T08:00:00Z",
    received_at: str | None = "2026-01-01T08:00:01Z",
    optional: bool = False,
) -> dict[str, object]:
    """A JSON record of ``event_type`` that validates: every required role and attribute (all when
    ``optional``) filled with a valid value; the primary party is ``party``."""
    spec = EVENT_TYPES[event_type]
    roles = spec.all_subject_roles if optional else spec.subject_roles
    record: dict[str, object] = {
        "event_id": event_id,
        "event_type": event_type,
        "occurred_at": occurred_at,
        "subjects": {role: party if index == 0 else f"{role}-{index}" for index, role in enumerate(roles)},
        "attributes": {
            attribute.name: sample_attribute_value(attribute)
            for attribute in spec.attributes
            if attribute.required or optional
        },
    }
    if received_at is not None:
        record["received_at"] = received_at
    return record


@st.composite
def ingest_records(draw: st.DrawFn) -> dict[str, object]:
    """A valid record of any type; IDs from a small pool, and the same ID always means the same event."""
    number = draw(st.integers(min_value=0, max_value=29))
    event_type = EVENT_TYPE_NAMES[number % len(EVENT_TYPE_NAMES)]
    second = 10 + number
    return valid_ingest_record(
        event_type,
        f"evt-{number:03d}",
        party=f"P{number % 5}",
        occurred_at=f"2026-01-01T08:00:{second:02d}Z",
        received_at=f"2026-01-01T08:01:{second:02d}Z",
        optional=number % 2 == 0,
    )


def duplicated_record_batches() -> st.SearchStrategy[list[list[dict[str, object]]]]:
    """Batches of valid records whose IDs repeat within and across batches."""
    return st.lists(st.lists(ingest_records(), max_size=12), max_size=6)


# -- compliance: regular installment loans (integer fen) for the annualised-rate properties ---------------


@st.composite
def installment_loans(draw: st.DrawFn) -> tuple[int, int, int, int]:
    """``(principal_fen, payment_fen, installments, upfront_fee_fen)`` of an equal-installment loan: the
    payment is the annuity at a monthly rate of 0 %–5 % rounded up to the fen; the fee is 0 %–5 % of the
    principal."""
    principal = draw(st.integers(min_value=100_00, max_value=1_000_000_00))
    installments = draw(st.integers(min_value=1, max_value=60))
    monthly_rate = draw(st.decimals(min_value=Decimal(0), max_value=Decimal("0.05"), places=5))
    if monthly_rate == 0:
        payment = -(-principal // installments)
    else:
        growth = (1 + monthly_rate) ** installments
        exact = Decimal(principal) * monthly_rate * growth / (growth - 1)
        payment = int(exact.to_integral_value(rounding="ROUND_CEILING"))
    fee = draw(st.integers(min_value=0, max_value=principal // 20))
    return principal, payment, installments, fee


# -- features: event streams with late, duplicated and out-of-order receipts on window edges ---------------

FEATURE_STREAM_START_US = 1_772_380_800_000_000  # 2026-03-01T16:00:00Z = 2026-03-02 00:00 Asia/Shanghai
FEATURE_STREAM_GRID_US = 3_600_000_000  # receipts fall on whole hours (plus 0 or 1 µs): ties and exact edges


@st.composite
def feature_event_draws(draw: st.DrawFn) -> list[tuple[int, int, int, int, int, int]]:
    """Abstract events for the feature parity property: ``(type index, entity index, grid slot,
    microsecond offset, value index, duplicate shift in grid slots or 0)``. Slots span 40 days on an hourly
    grid, so 24 h, 7 d and 30 d windows end exactly on other receipts; the test turns each draw into a row."""
    return draw(
        st.lists(
            st.tuples(
                st.integers(min_value=0, max_value=7),
                st.integers(min_value=0, max_value=3),
                st.integers(min_value=0, max_value=40 * 24),
                st.sampled_from([0, 0, 1]),
                st.integers(min_value=0, max_value=5),
                st.sampled_from([0, 0, 0, 0, -3, 1, 24, 24 * 7]),
            ),
            max_size=60,
        )
    )


# -- lending: installment products ---------------------------------------------------------------------------


@st.composite
def installment_products(draw: st.DrawFn) -> tuple[ProductTerms, Money, date, int]:
    """(terms, principal, disbursement date, installment multiple in fen) of a random installment loan.

    Any method, day count and start date (month ends and leap days included), rates from 0 to 36 %, grace and
    interest-free periods inside the term, and whole-yuan rounding where the method has a fixed installment.
    """
    method = draw(
        st.sampled_from(
            [
                RepaymentMethod.EQUAL_INSTALLMENT,
                RepaymentMethod.EQUAL_PRINCIPAL,
                RepaymentMethod.INTEREST_ONLY,
                RepaymentMethod.FLAT,
            ]
        )
    )
    installments = draw(st.integers(min_value=1, max_value=60))
    principal_grace = draw(st.integers(min_value=0, max_value=installments - 1))
    interest_grace = draw(st.integers(min_value=0, max_value=installments - 1))
    interest_free = draw(st.integers(min_value=0, max_value=installments))
    rate_basis_points = draw(st.integers(min_value=0, max_value=3_600))
    terms = ProductTerms(
        product=ProductKind.INSTALLMENT,
        annual_rate=Decimal(rate_basis_points) / Decimal(10_000),
        method=method,
        day_count=draw(st.sampled_from(list(DayCount))),
        installments=installments,
        principal_grace_periods=principal_grace,
        interest_grace_periods=interest_grace,
        interest_free_periods=interest_free,
    )
    principal = Money(draw(st.integers(min_value=1, max_value=10**10)), "CNY")
    start = date(2020, 1, 1) + timedelta(days=draw(st.integers(min_value=0, max_value=3_000)))
    fixed = method in (RepaymentMethod.EQUAL_INSTALLMENT, RepaymentMethod.FLAT)
    multiple = draw(st.sampled_from([1, 100])) if fixed else 1
    return terms, principal, start, multiple


# -- ledger: balanced postings -------------------------------------------------------------------------------

LEDGER_CODES = (
    "loans_receivable",
    "interest_receivable",
    "fees_receivable",
    "cash_clearing",
    "partner_payables",
    "suspense",
    "interest_income",
    "fee_income",
    "penalty_income",
    "recoveries",
    "write_off_expense",
)


@st.composite
def balanced_postings(draw: st.DrawFn, prefix: str = "p") -> list[Posting]:
    """A list of balanced :class:`~fengkong.domain.Posting` values with unique IDs under ``prefix``: 2 to 6
    non-zero lines each, on the standard chart's accounts (some with a loan sub-account), in CNY."""
    count = draw(st.integers(min_value=1, max_value=12))
    postings: list[Posting] = []
    for number in range(count):
        size = draw(st.integers(min_value=2, max_value=6))
        amounts = draw(
            st.lists(
                st.integers(min_value=-(10**9), max_value=10**9).filter(lambda value: value != 0),
                min_size=size - 1,
                max_size=size - 1,
            )
        )
        if sum(amounts) == 0:
            amounts[0] *= 2  # still non-zero, and now the lines do not cancel out by themselves
        amounts.append(-sum(amounts))
        lines = []
        for amount in amounts:
            code = draw(st.sampled_from(LEDGER_CODES))
            loan = draw(st.one_of(st.just(""), st.sampled_from(["LN-1", "LN-2", "LN-3"])))
            lines.append(PostingLine(f"{code}:{loan}" if loan else code, Money(amount, "CNY")))
        postings.append(Posting(f"{prefix}-{number}", date(2026, 3, 1), "random", tuple(lines)))
    return postings


# -- lending: servicing --------------------------------------------------------------------------------------


@st.composite
def repayment_behaviours(draw: st.DrawFn) -> list[tuple[int, int]]:
    """(day offset after disbursement, per-mille of the amount due then) for up to 8 repayments: late,
    partial, exact or above the dues (prepayment), in any order of days."""
    count = draw(st.integers(min_value=0, max_value=8))
    return [
        (draw(st.integers(min_value=1, max_value=400)), draw(st.integers(min_value=1, max_value=1_500)))
        for _ in range(count)
    ]


allocation_owed = st.fixed_dictionaries(
    {name: st.integers(min_value=0, max_value=10**9) for name in ("penalty", "fee", "interest", "principal")}
)


# -- chain: the verifiable log -------------------------------------------------------------------------

#: Sizes of consecutive appends to one log (together up to a few hundred leaves, crossing stored levels).
chain_batch_sizes = st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=12)


# -- features: random specs over merchant events, for parity of the SQL generator and the online engine -----


@st.composite
def merchant_feature_specs(draw: st.DrawFn, name: str) -> object:
    """A valid merchant ``FeatureSpec`` named ``name``: any aggregation over one or two of review_posted,
    order_placed and order_refunded, rolling or calendar windows, with random filters of every operator."""
    from fengkong.features.spec import (
        Aggregation,
        Entity,
        FeatureSpec,
        Filter,
        Measure,
        Operator,
        Source,
        Window,
    )

    integer = {"review_posted": "stars", "order_placed": "amount_fen", "order_refunded": "amount_fen"}
    choices = {
        "review_posted": (),
        "order_placed": (("category", ("food", "hotel", "shop")), ("pay_method", ("wallet", "bnpl", "card"))),
        "order_refunded": (("reason", ("cancelled", "quality", "late", "other")),),
    }
    values = {"stars": st.integers(1, 5), "amount_fen": st.sampled_from([0, 1, 999, 12_345, 10**9])}
    windows = st.one_of(
        st.sampled_from([1, 5, 24, 24 * 7, 24 * 30]).map(lambda hours: Window.rolling(hours=hours)),
        st.sampled_from([1, 2, 7]).map(Window.calendar_days),
    )

    def source(event_type: str, aggregation: Aggregation) -> Source:
        filters: list[Filter] = []
        for _ in range(draw(st.integers(0, 2))):
            options = [integer[event_type], *(column for column, _ in choices[event_type])]
            column = draw(st.sampled_from(options))
            if column == integer[event_type]:
                operator = draw(st.sampled_from(list(Operator)))
                if operator is Operator.IN:
                    value: object = tuple(draw(st.lists(values[column], min_size=1, max_size=3)))
                else:
                    value = draw(values[column])
            else:
                allowed = dict(choices[event_type])[column]
                operator = draw(st.sampled_from([Operator.EQ, Operator.NE, Operator.IN]))
                value = (
                    tuple(draw(st.lists(st.sampled_from(allowed), min_size=1, max_size=2)))
                    if operator is Operator.IN
                    else draw(st.sampled_from(allowed))
                )
            filters.append(Filter(column, operator, value))  # the spec validates the value
        if aggregation in (Aggregation.COUNT, Aggregation.TIME_SINCE_LAST):
            value_column = None
        elif aggregation is Aggregation.DISTINCT_COUNT:
            value_column = "consumer_id"
        else:
            value_column = integer[event_type]
        return Source(event_type, "merchant_id", value_column, tuple(filters))

    def measure(aggregation: Aggregation, window: Window | None = None) -> Measure:
        types = draw(
            st.lists(st.sampled_from(sorted(integer)), min_size=1, max_size=2, unique=True).map(tuple)
        )
        return Measure(aggregation, tuple(source(t, aggregation) for t in types), window or draw(windows))

    measures = [a for a in Aggregation if a not in (Aggregation.RATIO, Aggregation.GROWTH)]
    kind = draw(st.sampled_from(["simple", "simple", "ratio", "growth"]))
    if kind == "ratio":
        numerator = measure(draw(st.sampled_from(measures)))
        denominator = measure(draw(st.sampled_from(measures)))
        return FeatureSpec(
            name, Entity.MERCHANT, Aggregation.RATIO, "random", "u", None, numerator, denominator
        )
    if kind == "growth":
        aggregation = draw(st.sampled_from([Aggregation.COUNT, Aggregation.SUM]))
        short_hours, long_hours = sorted(
            draw(st.lists(st.sampled_from([1, 5, 24, 168, 720]), min_size=2, max_size=2, unique=True))
        )
        short = measure(aggregation, Window.rolling(hours=short_hours))
        long = Measure(aggregation, short.sources, Window.rolling(hours=long_hours))
        return FeatureSpec(name, Entity.MERCHANT, Aggregation.GROWTH, "random", "u", None, short, long)
    aggregation = draw(st.sampled_from(measures))
    return FeatureSpec(name, Entity.MERCHANT, aggregation, "random", "u", measure(aggregation))


@st.composite
def labelled_scores(draw: st.DrawFn) -> tuple[list[int], list[float]]:
    """Binary labels (both classes present) with risk scores that often tie: input for model metrics."""
    rows = draw(st.integers(min_value=2, max_value=200))
    labels = draw(
        st.lists(st.integers(0, 1), min_size=rows, max_size=rows).filter(lambda v: 0 < sum(v) < len(v))
    )
    scores = draw(
        st.lists(
            st.one_of(
                st.integers(0, 10).map(lambda v: v / 10), st.integers(0, 10_000).map(lambda v: v / 10_000)
            ),
            min_size=rows,
            max_size=rows,
        )
    )
    return labels, scores
