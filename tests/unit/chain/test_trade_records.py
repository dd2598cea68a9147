"""Trade documents: canonical bytes, both signatures, and every reason a document is refused (pure)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fengkong.chain.trade import (
    PartyKey,
    RejectionReason,
    TradeDocument,
    canonical_json,
    commit,
    commitment_entry,
    new_salt,
    opens,
    sign_both,
    verify_documents,
)
from fengkong.domain.trade import TradeRecord, TradeRecordKind
from fengkong.errors import InputError
from fengkong.money import Money
from tests.unit.chain import trade_fixtures as fx

KEYS = {key.key_id: key for key in (fx.signer(p).public() for p in (fx.CORE, fx.SUPPLIER, fx.TIER2))}


def never_seen(_nonce: str, _record_id: str) -> bool:
    return False


def test_canonical_json_is_sorted_compact_utf8_and_refuses_floats_and_booleans() -> None:
    assert canonical_json({"b": 1, "a": "元", "c": None}) == '{"a":"元","b":1,"c":null}'.encode()
    with pytest.raises(InputError, match="float"):
        canonical_json({"amount": 1.5})
    with pytest.raises(InputError, match="bool"):
        canonical_json({"flag": True})


KEYS_LIST = list(KEYS.values())
identifiers = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0x9FFF, exclude_categories=["Cs"]),
    min_size=1,
    max_size=20,
)
records = st.builds(
    TradeRecord,
    record_id=identifiers,
    trade_id=identifiers,
    kind=st.sampled_from(list(TradeRecordKind)),
    issuer_party_id=st.just(fx.CORE),
    receiver_party_id=st.just(fx.SUPPLIER),
    amount=st.integers(1, 10**12).map(Money),
    issued_on=st.dates(date(2020, 1, 1), date(2030, 1, 1)),
)


@given(records, st.integers(1, 2**40))
def test_a_document_round_trips_through_its_canonical_bytes(record: TradeRecord, sequence: int) -> None:
    document = TradeDocument(record, KEYS_LIST[0].key_id, sequence, "0" * 32)
    assert TradeDocument.from_canonical(document.canonical_bytes()) == document


def test_non_canonical_bytes_are_refused() -> None:
    document = fx.signed(fx.record("PO-1", TradeRecordKind.PURCHASE_ORDER, 500), 1).document
    spaced = document.canonical_bytes().replace(b",", b", ")
    with pytest.raises(InputError, match="canonical"):
        TradeDocument.from_canonical(spaced)


def test_a_good_batch_is_accepted_in_order() -> None:
    batch = [
        fx.signed(fx.record("PO-1", TradeRecordKind.PURCHASE_ORDER, 500), 1),
        fx.signed(fx.record("DR-1", TradeRecordKind.DELIVERY_RECEIPT, 500), 2),
        fx.signed(fx.record("INV-1", TradeRecordKind.INVOICE, 500), 1),
    ]
    verdicts = verify_documents(batch, KEYS, {}, never_seen)
    assert verdicts.accepted == (0, 1, 2) and verdicts.rejected == ()


def test_each_reason_is_named() -> None:
    good = fx.signed(fx.record("PO-1", TradeRecordKind.PURCHASE_ORDER, 500), 1)
    tier2 = fx.signer(fx.TIER2)
    by_another_party = sign_both(
        replace(good.document.record, record_id="PO-X"), fx.signer(fx.CORE), fx.signer(fx.SUPPLIER), 2
    )
    by_another_party = replace(by_another_party, receiver_key_id=tier2.public().key_id)
    bad_receiver = replace(
        fx.signed(fx.record("PO-2", TradeRecordKind.PURCHASE_ORDER, 500), 2), receiver_signature=bytes(64)
    )
    cases = {
        RejectionReason.MALFORMED: replace(good, canonical=good.canonical + b" "),
        RejectionReason.UNKNOWN_KEY: replace(good, receiver_key_id="f" * 32),
        RejectionReason.KEY_OF_ANOTHER_PARTY: by_another_party,
        RejectionReason.BAD_ISSUER_SIGNATURE: replace(good, issuer_signature=good.receiver_signature),
        RejectionReason.BAD_RECEIVER_SIGNATURE: bad_receiver,
    }
    for reason, signed in cases.items():
        verdicts = verify_documents([signed], KEYS, {}, never_seen)
        assert [rejection.reason for rejection in verdicts.rejected] == [reason], reason
    replayed = verify_documents([good, good], KEYS, {}, never_seen)
    assert replayed.accepted == (0,) and replayed.rejected[0].reason is RejectionReason.REPLAY
    seen = verify_documents([good], KEYS, {}, lambda nonce, _record: nonce == good.document.nonce)
    assert seen.rejected[0].reason is RejectionReason.REPLAY
    late = verify_documents([good], KEYS, {fx.CORE: 1}, never_seen)
    assert late.rejected[0].reason is RejectionReason.OUT_OF_ORDER
    assert "at sequence 1; got 1" in late.rejected[0].message


def test_a_commitment_hides_the_document_and_opens_only_with_its_salt() -> None:
    canonical = fx.signed(fx.record("PO-1", TradeRecordKind.PURCHASE_ORDER, 500), 1).canonical
    first, second = new_salt(), new_salt()
    assert commit(first, canonical) != commit(second, canonical)
    entry = commitment_entry(commit(first, canonical))
    assert opens(entry, first, canonical) and not opens(entry, second, canonical)
    assert fx.CORE.encode() not in entry
    with pytest.raises(InputError, match="salt"):
        commit(b"short", canonical)


def test_a_party_key_id_binds_the_party() -> None:
    key = fx.signer(fx.CORE).public()
    assert PartyKey.of(fx.SUPPLIER, key.public_key).key_id != key.key_id
    with pytest.raises(InputError):
        PartyKey.of(fx.CORE, b"\x00" * 31)


def test_documents_refuse_bad_fields() -> None:
    record = fx.record("PO-1", TradeRecordKind.PURCHASE_ORDER, 500)
    key_id = KEYS_LIST[0].key_id
    with pytest.raises(InputError, match="sequence"):
        TradeDocument(record, key_id, 0, "0" * 32)
    with pytest.raises(InputError, match="amount"):
        TradeDocument(replace(record, amount=Money(0)), key_id, 1, "0" * 32)
    with pytest.raises(InputError, match="nonce"):
        TradeDocument(record, key_id, 1, "XYZ")
    with pytest.raises(InputError, match="receiver_party_id"):
        TradeDocument(replace(record, receiver_party_id=fx.CORE), key_id, 1, "0" * 32)
