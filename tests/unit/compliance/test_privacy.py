"""Personal data as pure rules: normalising, blind indexes, sealing and rotation, masking, consent, retention.

Every name, ID number and phone number here is fictitious: ID numbers are made up with a valid check
character (``11010519491231002X`` is the sample number printed in GB 11643-1999), phone numbers are in the
138-0000-xxxx style.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fengkong.compliance import privacy
from fengkong.compliance.privacy import (
    ConsentAction,
    ConsentEvent,
    DataKey,
    Field,
    Keyring,
    PseudonymKey,
    Use,
)
from fengkong.errors import InputError, InvariantError

ID_SAMPLE = "11010519491231002X"  # the GB 11643-1999 sample number
ID_A = "110101199003071233"  # fictitious
PHONE_A = "138-0000-0001"  # fictitious
AT = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def keyring(active: str = "k1", *ids: str) -> Keyring:
    keys = tuple(DataKey(key_id, bytes([index + 1]) * 32) for index, key_id in enumerate(ids or ("k1",)))
    return Keyring(keys, active, PseudonymKey("p1", b"\x07" * 32))


# -- normalising ---------------------------------------------------------------------------------------------


def test_the_standard_sample_id_number_checks_and_gives_its_birth_date() -> None:
    assert privacy.id_check_character(ID_SAMPLE[:17]) == "X"
    assert privacy.normalise_id_number(" 110105 19491231 002x ") == ID_SAMPLE
    assert privacy.birth_date_of(ID_SAMPLE) == date(1949, 12, 31)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("110105194912310021", "check character"),
        ("11010519491231002", "18-character"),
        ("11010519491331002X", None),  # month 13: the check character fails first or the date does
        ("ABCDEFGHIJKLMNOPQR", "18-character"),
    ],
)
def test_bad_id_numbers_are_refused_naming_the_field(text: str, reason: str | None) -> None:
    with pytest.raises(InputError) as caught:
        privacy.normalise_id_number(text)
    assert caught.value.field == "id_number"
    if reason:
        assert reason in str(caught.value)


def test_phone_numbers_normalise_to_e164_in_every_spelling() -> None:
    spellings = [
        "13800000001",
        "138-0000-0001",
        "+86 138 0000 0001",
        "0086 13800000001",
        "１３８０００００００１",
    ]
    assert {privacy.normalise_phone(text) for text in spellings} == {"+8613800000001"}
    with pytest.raises(InputError) as caught:
        privacy.normalise_phone("not a number")
    assert caught.value.field == "phone"


# -- blind indexes and sealing -------------------------------------------------------------------------------


def test_blind_indexes_join_equal_values_and_depend_on_the_key_and_the_kind() -> None:
    key = PseudonymKey("p1", b"\x07" * 32)
    other = PseudonymKey("p2", b"\x08" * 32)
    one = privacy.blind_index(Field.PHONE, privacy.normalise_phone("138-0000-0001"), key)
    two = privacy.blind_index(Field.PHONE, privacy.normalise_phone("+86 13800000001"), key)
    assert one == two
    assert len(one) == 64
    assert one != privacy.blind_index(Field.PHONE, "+8613800000001", other)
    assert one != privacy.blind_index(Field.ID_NUMBER, "+8613800000001", key)
    assert "13800000001" not in one


def test_a_sealed_value_opens_only_with_its_key_for_its_own_row() -> None:
    ring = keyring("k1", "k1")
    sealed = privacy.seal("张三", ring, "party-1", "name")
    assert "张三".encode() not in sealed.ciphertext
    assert privacy.unseal(sealed, ring, "party-1", "name") == "张三"
    with pytest.raises(InvariantError):
        privacy.unseal(sealed, ring, "party-2", "name")  # copied to another party's row
    with pytest.raises(InvariantError):
        privacy.unseal(sealed, ring, "party-1", "phone")  # moved to another field
    tampered = privacy.Sealed(
        sealed.key_id, sealed.nonce, bytes([sealed.ciphertext[0] ^ 1]) + sealed.ciphertext[1:]
    )
    with pytest.raises(InvariantError):
        privacy.unseal(tampered, ring, "party-1", "name")


def test_rotation_reseals_under_the_new_key_and_the_old_key_opens_until_retired() -> None:
    old_ring = keyring("k1", "k1")
    sealed = privacy.seal("+8613800000001", old_ring, "party-1", "phone")
    both = keyring("k2", "k1", "k2")
    assert privacy.unseal(sealed, both, "party-1", "phone") == "+8613800000001"  # old key still opens
    moved = privacy.reseal(sealed, both, "party-1", "phone")
    assert moved.key_id == "k2"
    retired = Keyring((both.key("k2"),), "k2", both.pseudonym)
    assert privacy.unseal(moved, retired, "party-1", "phone") == "+8613800000001"
    with pytest.raises(InputError) as caught:
        privacy.unseal(sealed, retired, "party-1", "phone")  # k1 retired: its rows must be rotated first
    assert caught.value.field == "key_id"


def test_keyrings_parse_from_text_and_refuse_bad_keys() -> None:
    import base64

    encoded = base64.b64encode(b"\x01" * 32).decode()
    ring = privacy.parse_keyring(f"k1:{encoded},k2:{encoded}", "k2", f"p1:{encoded}")
    assert ring.active_key_id == "k2"
    assert "\\x01" not in repr(ring)
    with pytest.raises(InputError) as caught:
        privacy.parse_keyring(f"k1:{encoded}", "k9", f"p1:{encoded}")
    assert caught.value.field == "active_key_id"
    with pytest.raises(InputError):
        privacy.parse_keyring("k1:c2hvcnQ=", "k1", f"p1:{encoded}")  # 5 bytes: not an AES-256 key


# -- masking -------------------------------------------------------------------------------------------------


def test_masks_keep_only_what_a_borrower_recognises() -> None:
    assert privacy.mask_phone("+8613800000001") == "138****0001"
    assert privacy.mask_id_number(ID_SAMPLE) == "110105********002X"
    assert privacy.mask_name("张三丰") == "张**"
    assert privacy.mask_name("ZHANG SAN") == "Z**** S**"


def test_free_text_is_masked_but_dates_amounts_and_loan_ids_stay() -> None:
    text = f"call {PHONE_A} or ＋86 138 0000 0002, ID {ID_A}, 3000.00 yuan due 2026-03-08, loan L-000123"
    masked = privacy.mask_text(text)
    assert "0000-0001" not in masked and "13800000002" not in masked.replace(" ", "")
    assert ID_A not in masked
    assert "138****0001" in masked and "110101********1233" in masked
    assert "2026-03-08" in masked and "3000.00" in masked and "L-000123" in masked


def test_the_logging_filter_masks_messages_and_their_arguments(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("fengkong.test.privacy")
    logger.addFilter(privacy.MaskingFilter())
    try:
        with caplog.at_level(logging.INFO, logger=logger.name):
            logger.info("borrower phone %s id %s", PHONE_A, ID_A)
    finally:
        logger.filters.clear()
    assert "138****0001" in caplog.text
    assert "13800000001" not in caplog.text.replace("-", "") and ID_A not in caplog.text


def test_the_logging_filter_masks_exception_text_too() -> None:
    import io

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(privacy.MaskingFilter())
    logger = logging.getLogger("fengkong.test.privacy.exceptions")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            raise ValueError(f"bad phone {PHONE_A} for ID {ID_A}")
        except ValueError:
            logger.exception("lookup failed")
    finally:
        logger.removeHandler(handler)
    written = stream.getvalue()
    assert "ValueError: bad phone 138****0001 for ID 110101********1233" in written
    assert ID_A not in written and "0000-0001" not in written


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_no_mobile_number_survives_masking(number: str) -> None:
    masked = privacy.mask_text(f"电话{number}，谢谢")
    assert number not in masked
    assert f"{number[:3]}****{number[-4:]}" in masked


# -- consent and retention -----------------------------------------------------------------------------------


def event(event_id: str, use: Use, action: ConsentAction, minutes: int, partner: str = "") -> ConsentEvent:
    return ConsentEvent(event_id, "party-1", use, partner, action, AT + timedelta(minutes=minutes))


def test_consent_is_per_use_and_per_partner_and_the_latest_event_decides() -> None:
    events = [
        event("c1", Use.MARKETING, ConsentAction.GRANT, 0),
        event("c2", Use.PARTNER_SHARING, ConsentAction.GRANT, 0, partner="bank-a"),
        event("c3", Use.MARKETING, ConsentAction.WITHDRAW, 10),
    ]
    assert privacy.consent_in_force(events, Use.MARKETING, "", AT + timedelta(minutes=5))
    assert not privacy.consent_in_force(events, Use.MARKETING, "", AT + timedelta(minutes=10))
    assert privacy.consent_in_force(events, Use.PARTNER_SHARING, "bank-a", AT)
    assert not privacy.consent_in_force(events, Use.PARTNER_SHARING, "bank-b", AT)  # another partner
    assert not privacy.consent_in_force(events, Use.PARTNER_SHARING, "", AT)  # the lender is not bank-a
    refusal = privacy.check_use(events, "party-1", Use.COLLECTIONS, "", AT)
    assert refusal is not None and "collections" in refusal.reason
    assert privacy.check_use([], "party-1", Use.BUREAU_REPORTING, "", AT) is None  # a legal duty
    assert privacy.check_use([], "party-1", Use.BUREAU_REPORTING, "bank-a", AT) is not None


def test_a_withdrawal_at_the_same_instant_as_a_grant_wins() -> None:
    events = [
        event("g", Use.MARKETING, ConsentAction.GRANT, 0),
        event("w", Use.MARKETING, ConsentAction.WITHDRAW, 0),
    ]
    assert not privacy.consent_in_force(events, Use.MARKETING, "", AT)


def test_the_packaged_retention_schedule_covers_every_field() -> None:
    schedule = privacy.load_retention_schedule()
    assert set(schedule.days_after_end) == set(Field)
    assert schedule.retain_until(Field.ID_NUMBER, date(2026, 1, 1)) == date(2031, 1, 1)
    with pytest.raises(InputError) as caught:
        privacy.load_retention_schedule("days_after_end:\n  name: {days: 10}\n")
    assert caught.value.field == "retention"


def test_commitments_hide_the_value_and_bind_it() -> None:
    salt = privacy.new_commitment_salt()
    made = privacy.commitment(ID_A, salt)
    assert made == privacy.commitment(ID_A, salt)
    assert made != privacy.commitment(ID_A, privacy.new_commitment_salt())
    assert ID_A not in made
    with pytest.raises(InputError):
        privacy.commitment(ID_A, b"short")
