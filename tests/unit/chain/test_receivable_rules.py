"""Receivable rules (pure): the normalised identity, splits that conserve, discounting, settlement, and the
registration export."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fengkong.chain.receivables import (
    Part,
    PartStatus,
    ReceivableIdentity,
    ReceivableStatus,
    Refusal,
    RefusalReason,
    check_transfer,
    discount_advance_fen,
    normalise_date,
    plan_split,
    settlement_payees,
    split_by_weights,
)
from fengkong.chain.registry_export import (
    MovementForRegistration,
    RegistrationType,
    months_between,
    registration_rows,
    to_csv,
    to_json,
)
from fengkong.errors import InputError

DAY = date(2026, 3, 2)
DUE = DAY + timedelta(days=60)


def full_width(text: str) -> str:
    return text.translate({code: code + 0xFEE0 for code in range(0x21, 0x7F)})


@given(
    number=st.text("0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=8, max_size=20),
    amount_fen=st.integers(1, 10**12),
    day=st.dates(date(2000, 1, 1), date(2099, 12, 31)),
    spacing=st.sampled_from(["", " ", "-", "  "]),
    width=st.booleans(),
    lower=st.booleans(),
)
def test_the_same_invoice_in_other_words_has_the_same_identity(
    number: str, amount_fen: int, day: date, spacing: str, width: bool, lower: bool
) -> None:
    plain = ReceivableIdentity.of(number, "91000000000000000A", "910000000000000002", amount_fen, day)

    def reword(text: str) -> str:
        text = spacing.join(text[i : i + 4] for i in range(0, len(text), 4))
        text = text.lower() if lower else text
        return full_width(text) if width else text

    yuan = f"{Decimal(amount_fen) / 100:,.2f}"
    again = ReceivableIdentity.of(
        reword(number),
        reword("91000000000000000A"),
        reword("910000000000000002"),
        full_width(yuan) if width else yuan,
        f"{day.year}年{day.month}月{day.day}日" if width else f"{day.year}/{day.month}/{day.day}",
    )
    assert again == plain and again.digest() == plain.digest()


def test_a_different_field_is_a_different_identity() -> None:
    base = ReceivableIdentity.of("12345678", "9100000000000000A1", "910000000000000002", 100, DAY)
    for other in (
        ReceivableIdentity.of("12345679", "9100000000000000A1", "910000000000000002", 100, DAY),
        ReceivableIdentity.of("12345678", "9100000000000000A1", "910000000000000003", 100, DAY),
        ReceivableIdentity.of("12345678", "9100000000000000A1", "910000000000000002", 101, DAY),
        ReceivableIdentity.of(
            "12345678", "9100000000000000A1", "910000000000000002", 100, DAY + timedelta(1)
        ),
    ):
        assert other.digest() != base.digest()


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        (("", "91A", "91B", 1, DAY), "invoice_number"),
        (("1", "91A", "91A", 1, DAY), "buyer_tax_id"),
        (("1", "91A", "91B", 0, DAY), "amount"),
        (("1", "91A", "91B", "12.345", DAY), "amount"),
        (("1", "91A", "91B", 1, "2026-02-30"), "issued_on"),
        (("1", "91A", "91B", 1, "yesterday"), "issued_on"),
        (("1" * 65, "91A", "91B", 1, DAY), "invoice_number"),
    ],
)
def test_bad_identity_fields_are_named(arguments: tuple[object, ...], field: str) -> None:
    with pytest.raises(InputError) as raised:
        ReceivableIdentity.of(*arguments)  # type: ignore[arg-type]
    assert raised.value.field == field


def test_dates_in_several_spellings() -> None:
    for text in ("2026-03-02", "2026/3/2", "2026年3月2日", "20260302", "２０２６－０３－０２"):
        assert normalise_date(text) == DAY


def part(
    path: str = "0", amount_fen: int = 1001, holder: str = "S1", status: PartStatus = PartStatus.ACTIVE
) -> Part:
    return Part(f"R/{path}", "R", path, holder, amount_fen, status)


@given(st.integers(2, 10**12), st.lists(st.integers(0, 1000), min_size=2, max_size=20))
def test_a_split_by_weights_conserves_the_amount_and_plans_children(
    amount_fen: int, weights: list[int]
) -> None:
    if sum(weights) == 0 or amount_fen < len(weights):
        return
    amounts = split_by_weights(amount_fen, weights)
    assert sum(amounts) == amount_fen
    positive = [amount for amount in amounts if amount > 0]
    if len(positive) < 2:
        return
    plan = plan_split(part(amount_fen=amount_fen), ReceivableStatus.CONFIRMED, "S1", positive, DAY, DUE)
    assert not isinstance(plan, Refusal)
    assert [path for path, _ in plan] == [f"0.{index}" for index in range(len(positive))]
    assert sum(amount for _, amount in plan) == amount_fen


def test_split_refusals() -> None:
    active = part()
    cases = {
        RefusalReason.SPLIT_NOT_CONSERVED: plan_split(
            active, ReceivableStatus.CONFIRMED, "S1", [500, 500], DAY, DUE
        ),
        RefusalReason.NOT_THE_HOLDER: plan_split(
            active, ReceivableStatus.CONFIRMED, "S2", [1, 1000], DAY, DUE
        ),
        RefusalReason.NOT_CONFIRMED: plan_split(active, ReceivableStatus.ISSUED, "S1", [1, 1000], DAY, DUE),
        RefusalReason.MATURED: plan_split(active, ReceivableStatus.CONFIRMED, "S1", [1, 1000], DUE, DUE),
        RefusalReason.NOT_ACTIVE: plan_split(
            part(status=PartStatus.FINANCED), ReceivableStatus.CONFIRMED, "S1", [1, 1000], DAY, DUE
        ),
    }
    for reason, outcome in cases.items():
        assert isinstance(outcome, Refusal) and outcome.reason is reason
    with pytest.raises(InputError, match="positive"):
        plan_split(active, ReceivableStatus.CONFIRMED, "S1", [0, 1001], DAY, DUE)
    refused = check_transfer(active, ReceivableStatus.CONFIRMED, "S1", "S1", DAY, DUE)
    assert isinstance(refused, Refusal) and refused.reason is RefusalReason.SELF_TRANSFER


def test_discount_is_act_360_simple_and_rounded_as_named() -> None:
    # 1,000,000.00 yuan at 3.6 % for 90 days: 9,000.00 yuan of discount
    assert discount_advance_fen(100_000_000, Decimal("0.036"), 90, "ROUND_HALF_UP") == 100_000_000 - 900_000
    # 333 fen x 3.6 % x 50 / 360 = 1.665 fen of discount: 2 fen half up, 1 fen rounded down
    assert discount_advance_fen(333, Decimal("0.036"), 50, "ROUND_HALF_UP") == 333 - 2
    assert discount_advance_fen(333, Decimal("0.036"), 50, "ROUND_DOWN") == 333 - 1
    with pytest.raises(InputError, match="rate_annual"):
        discount_advance_fen(100, Decimal("1.5"), 10, "ROUND_HALF_UP")
    with pytest.raises(InputError, match="days"):
        discount_advance_fen(100, Decimal("0.03"), 0, "ROUND_HALF_UP")


def test_settlement_pays_the_holders_of_open_parts_and_conserves() -> None:
    parts = [
        part("0", 1001, "S1", PartStatus.SPLIT),
        part("0.0", 600, "S1"),
        part("0.1", 401, "S2", PartStatus.SPLIT),
        part("0.1.0", 400, "L1", PartStatus.FINANCED),
        part("0.1.1", 1, "S2"),
    ]
    assert settlement_payees(parts) == {"S1": 600, "L1": 400, "S2": 1}
    with pytest.raises(InputError, match="add up"):
        settlement_payees(parts[:-1])


def movement(kind: str, to_party: str) -> MovementForRegistration:
    return MovementForRegistration(
        kind=kind,
        receivable_id="R-1",
        part_path="0.1",
        from_party_id="S1",
        to_party_id=to_party,
        debtor_party_id="E1",
        amount_fen=4_000_001,
        currency="CNY",
        event_on=DAY,
        due_on=DUE,
        leaf_index=7,
        commitment_hex="ab" * 32,
    )


def test_registration_rows_for_transfers_and_pledges() -> None:
    rows = registration_rows([movement("transfer", "S2"), movement("finance", "L1")])
    assert [row.registration_type for row in rows] == [
        RegistrationType.RECEIVABLE_TRANSFER,
        RegistrationType.RECEIVABLE_PLEDGE,
    ]
    assert rows[1].registrant == "L1" and rows[1].pledgor_or_transferor == "S1"
    assert rows[0].amount == "40000.01" and rows[0].term_months == 2
    parsed = list(csv.DictReader(io.StringIO(to_csv(rows))))
    assert parsed[1]["pledgee_or_transferee"] == "L1" and parsed[1]["log_leaf_index"] == "7"
    assert json.loads(to_json(rows))[0]["collateral_description"].startswith(
        "Accounts receivable R-1, part 0.1"
    )
    with pytest.raises(InputError, match="registered"):
        registration_rows([movement("split", "S1")])


def test_months_are_counted_up_as_the_registry_counts_them() -> None:
    assert months_between(date(2026, 1, 31), date(2026, 2, 28)) == 1
    assert months_between(date(2026, 1, 15), date(2026, 3, 16)) == 3
    assert months_between(date(2026, 1, 15), date(2026, 1, 15)) == 1
