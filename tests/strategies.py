"""Hypothesis strategies shared by every test (one place, as attrs keeps them)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import strategies as st

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
