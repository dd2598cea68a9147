"""Rate caps and the LPR table, kept as dated configuration, and the one question: is this price allowed?

* :class:`LprTable` — the one-year LPR by the date each fixing took effect (``data/lpr.yaml``), with the last
  date the table was checked against its sources.
* :class:`CapPolicy` — the cap table (:class:`~fengkong.domain.CapTable`, one entry per regime and effective
  date; "4 × LPR" regimes expanded into one entry per LPR fixing) and which regimes bind which product
  (``data/caps.yaml``). The cap in force for a product is the lowest cap of its regimes on that date.
* :func:`check_price` — compares the comprehensive annualised cost (the IRR over every cash flow including
  guarantee, insurance, membership and every other fee charged with the loan) with the cap in force and
  returns a :class:`CapCheck` value: allowed or not, the cap, the rate, the margin and the basis. Being over
  the cap is a business outcome, never an exception.

Caps are fractions of one in :class:`~fengkong.domain.CapEntry` (``Decimal("0.24")`` is 24 %);
:class:`CapCheck` reports percentages, like :class:`~fengkong.domain.AnnualisedRate`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from importlib import resources
from typing import Final

import yaml

from fengkong.compliance.apr import METHOD_DATED, METHOD_PERIODIC, annualised_rate
from fengkong.domain.caps import CapEntry, CapTable
from fengkong.domain.products import AnnualisedRate, CashFlow, Fee, Frequency, Schedule
from fengkong.errors import InputError, NotFoundError

_HUNDRED: Final = Decimal(100)
VERIFICATION_LEVELS: Final = frozenset({"primary", "secondary", "unverified"})


@dataclass(frozen=True, slots=True)
class LprFixing:
    """From ``effective_from`` the one-year LPR is ``one_year_pct`` percent a year."""

    effective_from: date
    one_year_pct: Decimal


@dataclass(frozen=True, slots=True)
class LprTable:
    """The one-year LPR fixings in date order; ``verified_through`` is the last date checked at the source."""

    fixings: tuple[LprFixing, ...]
    verified_through: date

    def __post_init__(self) -> None:
        if not self.fixings:
            raise InputError("the LPR table needs at least one fixing", field="fixings")
        days = [fixing.effective_from for fixing in self.fixings]
        if days != sorted(days) or len(set(days)) != len(days):
            raise InputError("fixings must be in strictly increasing date order", field="fixings")
        for fixing in self.fixings:
            if not Decimal(0) < fixing.one_year_pct < _HUNDRED:
                raise InputError(
                    f"{fixing.one_year_pct} % on {fixing.effective_from} is not a plausible LPR",
                    field="one_year_pct",
                )

    def one_year_on(self, on: date) -> LprFixing:
        """The fixing in force on ``on``: the latest one effective on or before it."""
        in_force = [fixing for fixing in self.fixings if fixing.effective_from <= on]
        if not in_force:
            raise NotFoundError(f"no one-year LPR before {self.fixings[0].effective_from} (asked for {on})")
        return in_force[-1]

    def verified_on(self, on: date) -> bool:
        """Whether the table was checked for fixings up to ``on`` (later ones may be missing)."""
        return on <= self.verified_through


@dataclass(frozen=True, slots=True)
class CapPolicy:
    """The cap table, the regimes binding each product, and the LPR table the "× LPR" caps came from."""

    table: CapTable
    product_regimes: tuple[tuple[str, tuple[str, ...]], ...]
    lpr: LprTable
    lpr_regimes: frozenset[str] = frozenset()  # regimes whose caps follow the LPR

    def regimes_for(self, product: str) -> tuple[str, ...]:
        for name, regimes in self.product_regimes:
            if name == product:
                return regimes
        known = ", ".join(name for name, _ in self.product_regimes)
        raise InputError(f"no caps are configured for {product!r} (known: {known})", field="product")

    def cap_in_force(self, product: str, on: date) -> CapEntry:
        """The lowest cap of the product's regimes in force on ``on``."""
        in_force: list[CapEntry] = []
        for regime in self.regimes_for(product):
            try:
                in_force.append(self.table.cap_on(regime, on))
            except NotFoundError:
                continue
        if not in_force:
            raise NotFoundError(
                f"no cap in force for {product!r} on {on.isoformat()} (regimes {self.regimes_for(product)})"
            )
        return min(in_force, key=lambda entry: (entry.annual_rate_cap, entry.product))


@dataclass(frozen=True, slots=True)
class CapCheck:
    """Whether a price is allowed on a date: the rate, the cap in force, the margin (cap − rate, negative when
    over) and the basis of the cap. ``fees_counted`` names the fees that entered the comprehensive cost."""

    allowed: bool
    product: str
    on: date
    rate: AnnualisedRate
    rate_pct: Decimal
    cap_pct: Decimal
    margin_pct: Decimal
    cap: CapEntry
    fees_counted: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def basis(self) -> str:
        return self.cap.basis


def check_price(
    policy: CapPolicy,
    product: str,
    on: date,
    priced: Schedule | Sequence[CashFlow] | AnnualisedRate,
    *,
    fees: Sequence[Fee] | None,
    frequency: Frequency = Frequency.MONTHLY,
) -> CapCheck:
    """Is this price allowed for ``product`` on ``on`` (the contract date)?

    ``priced`` is the schedule or the cash flows (the comprehensive rate is computed over them and every fee
    in ``fees``: guarantee, insurance, membership and any other fee charged with the loan), or a rate already
    computed by the IRR method over all of them, in which case ``fees`` must be empty. ``fees=None`` means
    the fees are missing, and is refused.
    """
    if fees is None:
        raise InputError(
            "missing: state every fee charged with the loan (guarantee, insurance, membership...), "
            "or an empty list when there is none",
            field="fees",
        )
    if isinstance(priced, AnnualisedRate):
        if priced.method not in {METHOD_PERIODIC, METHOD_DATED}:
            raise InputError(
                f"a cap compares the IRR-based comprehensive rate, not a {priced.method!r} rate", field="rate"
            )
        if fees:
            raise InputError(
                "fees cannot be added to a computed rate: pass the cash flows, so the fees enter the IRR",
                field="fees",
            )
        rate = priced
    else:
        rate = annualised_rate(priced, fees=fees, frequency=frequency)
    cap = policy.cap_in_force(product, on)
    cap_pct = cap.annual_rate_cap * _HUNDRED
    notes: list[str] = []
    if cap.product in policy.lpr_regimes and not policy.lpr.verified_on(on):
        notes.append(
            f"the LPR table was verified through {policy.lpr.verified_through.isoformat()}; "
            "fixings after it are not loaded, so this cap uses the last known one"
        )
    return CapCheck(
        allowed=rate.annual_rate_pct <= cap_pct,
        product=product,
        on=on,
        rate=rate,
        rate_pct=rate.annual_rate_pct,
        cap_pct=cap_pct,
        margin_pct=cap_pct - rate.annual_rate_pct,
        cap=cap,
        fees_counted=tuple(fee.name for fee in fees),
        notes=tuple(notes),
    )


# -- loading the configuration -----------------------------------------------------------------------------


def load_lpr_table(text: str | None = None) -> LprTable:
    """The LPR table from YAML text (default: the packaged ``data/lpr.yaml``)."""
    document = _mapping(yaml.safe_load(text if text is not None else _packaged("lpr.yaml")), "lpr.yaml")
    raw_fixings = document.get("fixings")
    if not isinstance(raw_fixings, list) or not raw_fixings:
        raise InputError("a non-empty list is required", field="fixings")
    fixings = []
    for index, raw in enumerate(raw_fixings):
        item = _mapping(raw, f"fixings[{index}]")
        fixings.append(
            LprFixing(
                effective_from=_date(item.get("effective_from"), f"fixings[{index}].effective_from"),
                one_year_pct=_decimal(item.get("one_year_pct"), f"fixings[{index}].one_year_pct"),
            )
        )
    return LprTable(
        fixings=tuple(fixings), verified_through=_date(document.get("verified_through"), "verified_through")
    )


def load_cap_policy(text: str | None = None, lpr: LprTable | None = None) -> CapPolicy:
    """The cap policy from YAML text (default: the packaged ``data/caps.yaml``) and an LPR table (default:
    the packaged one). "× LPR" entries become one entry per LPR fixing until the regime's next entry."""
    lpr_table = lpr if lpr is not None else load_lpr_table()
    document = _mapping(yaml.safe_load(text if text is not None else _packaged("caps.yaml")), "caps.yaml")
    regimes = _mapping(document.get("regimes"), "regimes")
    entries: list[CapEntry] = []
    lpr_regimes: set[str] = set()
    for regime, raw_regime in regimes.items():
        field = f"regimes.{regime}"
        raw_entries = _mapping(raw_regime, field).get("entries")
        if not isinstance(raw_entries, list) or not raw_entries:
            raise InputError("a non-empty list is required", field=f"{field}.entries")
        parsed = [
            _regime_entry(str(regime), raw, f"{field}.entries[{index}]")
            for index, raw in enumerate(raw_entries)
        ]
        parsed.sort(key=lambda item: item[0])
        for index, (start, value, follows_lpr, basis) in enumerate(parsed):
            end = parsed[index + 1][0] if index + 1 < len(parsed) else None
            if not follows_lpr:
                entries.append(CapEntry(str(regime), start, value, basis))
                continue
            lpr_regimes.add(str(regime))
            entries.extend(_lpr_entries(str(regime), start, end, value, basis, lpr_table))
    products = _mapping(document.get("products"), "products")
    product_regimes: list[tuple[str, tuple[str, ...]]] = []
    for product, names in products.items():
        if not isinstance(names, list) or not names:
            raise InputError("a non-empty list of regimes is required", field=f"products.{product}")
        unknown = [name for name in names if name not in regimes]
        if unknown:
            raise InputError(f"unknown regimes {unknown}", field=f"products.{product}")
        product_regimes.append((str(product), tuple(str(name) for name in names)))
    return CapPolicy(
        table=CapTable(tuple(entries)),
        product_regimes=tuple(product_regimes),
        lpr=lpr_table,
        lpr_regimes=frozenset(lpr_regimes),
    )


@functools.cache
def default_cap_policy() -> CapPolicy:
    """The packaged cap policy, loaded once per process."""
    return load_cap_policy()


def _lpr_entries(
    regime: str, start: date, end: date | None, multiple: Decimal, basis: str, lpr: LprTable
) -> list[CapEntry]:
    try:
        first = lpr.one_year_on(start)
    except NotFoundError as error:
        raise InputError(str(error), field=f"regimes.{regime}.effective_from") from None
    fixings = [first] + [
        fixing
        for fixing in lpr.fixings
        if start < fixing.effective_from and (end is None or fixing.effective_from < end)
    ]
    entries = []
    for fixing in fixings:
        effective_from = max(start, fixing.effective_from)
        cap = multiple * fixing.one_year_pct / _HUNDRED
        entries.append(
            CapEntry(
                regime,
                effective_from,
                cap,
                f"{multiple} × one-year LPR {fixing.one_year_pct} % "
                f"(fixing of {fixing.effective_from.isoformat()}) = {cap * _HUNDRED} %: {basis}",
            )
        )
    return entries


def _regime_entry(regime: str, raw: object, field: str) -> tuple[date, Decimal, bool, str]:
    """``(effective_from, cap or LPR multiple, whether it follows the LPR, basis)`` of one entry."""
    del regime
    item = _mapping(raw, field)
    start = _date(item.get("effective_from"), f"{field}.effective_from")
    basis = item.get("basis")
    if not isinstance(basis, str) or not basis.strip():
        raise InputError("every cap names its basis", field=f"{field}.basis")
    verified = item.get("verified")
    if verified not in VERIFICATION_LEVELS:
        raise InputError(f"must be one of {sorted(VERIFICATION_LEVELS)}", field=f"{field}.verified")
    has_cap, has_multiple = "annual_rate_cap" in item, "lpr_multiple" in item
    if has_cap == has_multiple:
        raise InputError("give exactly one of annual_rate_cap and lpr_multiple", field=field)
    if has_cap:
        cap = _decimal(item["annual_rate_cap"], f"{field}.annual_rate_cap")
        if not Decimal(0) < cap < Decimal(10):
            raise InputError(
                "a cap is a fraction of one a year, such as '0.24'", field=f"{field}.annual_rate_cap"
            )
        return start, cap, False, f"{basis.strip()} [{verified}]"
    multiple = _decimal(item["lpr_multiple"], f"{field}.lpr_multiple")
    if multiple <= 0:
        raise InputError("must be more than zero", field=f"{field}.lpr_multiple")
    return start, multiple, True, f"{basis.strip()} [{verified}]"


def _packaged(name: str) -> str:
    return resources.files("fengkong.compliance").joinpath("data", name).read_text(encoding="utf-8")


def _mapping(value: object, field: str) -> Mapping[str, object]:
    if not isinstance(value, dict):
        raise InputError(f"must be a mapping, got {type(value).__name__}", field=field)
    return value


def _date(value: object, field: str) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise InputError(f"must be a date YYYY-MM-DD, got {value!r}", field=field)


def _decimal(value: object, field: str) -> Decimal:
    if isinstance(value, (bool, float)):
        raise InputError(f'write rates as strings such as "0.24", not the float {value!r}', field=field)
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except ArithmeticError:
            result = Decimal("NaN")
        if result.is_finite():
            return result
    raise InputError(f"must be a decimal string, got {value!r}", field=field)
