"""Trade records signed by both parties, and the salted commitments the log holds instead of them.

A party registers an Ed25519 public key (:class:`PartyKey`; its key ID is derived from the party and the
key). A purchase order, delivery receipt or invoice is a :class:`TradeDocument`: the record's fields plus the
issuer's key ID, a per-issuer ``sequence`` (1, 2, 3, ... with no gaps) and a random ``nonce``, written as
canonical JSON (:func:`canonical_json`: sorted keys, no spaces, UTF-8, integers and strings only — the
subset on which RFC 8785 JCS and ``json.dumps(sort_keys=True)`` agree). The issuer signs those bytes; the
receiver counter-signs the bytes and the issuer's signature (:class:`SignedTradeDocument`).

The log never sees the document: its leaf is a commitment ``SHA-256(salt || canonical bytes)`` with a fresh
32-byte salt (:func:`commit`), so a leaf reveals nothing about the parties or amounts, and whoever holds the
document and its salt can prove it is in the log. The documents stay in the database.

:func:`verify_documents` judges a batch in order against the registered keys and what the store already
holds (the issuers' last sequences, the nonces and record IDs seen): unknown key, a key of another party,
a wrong signature by either party, a replay (a nonce or record ID seen before) and an out-of-order sequence
are rejected with a :class:`Rejection` naming the reason. Nothing here touches the database.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from fengkong import bounds
from fengkong.domain.trade import TradeRecord, TradeRecordKind
from fengkong.errors import InputError
from fengkong.money import Money

SCHEMA_VERSION: Final = 1
ISSUER_CONTEXT: Final = b"fengkong/trade-record/v1/issuer\n"
RECEIVER_CONTEXT: Final = b"fengkong/trade-record/v1/receiver\n"
KEY_CONTEXT: Final = b"fengkong/trade-key/v1\n"
SALT_BYTES: Final = 32
NONCE_BYTES: Final = 16
KEY_ID_BYTES: Final = 16
ED25519_KEY_BYTES: Final = 32
ED25519_SIGNATURE_BYTES: Final = 64
COMMITMENT_ENTRY_PREFIX: Final = b"fengkong/commitment/v1\n"
_HEX = re.compile(r"[0-9a-f]+")


def canonical_json(value: Mapping[str, object]) -> bytes:
    """Sorted keys, no whitespace, UTF-8; only strings, integers, None, lists and objects are allowed."""
    _check_json_value(value, "document")
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _check_json_value(value: object, where: str) -> None:
    if value is None or isinstance(value, str):
        return
    if isinstance(value, bool | float):
        raise InputError(f"canonical JSON carries no {type(value).__name__}", field=where)
    if isinstance(value, int):
        return
    if isinstance(value, list | tuple):
        for position, item in enumerate(value):
            _check_json_value(item, f"{where}[{position}]")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InputError("object keys must be strings", field=where)
            _check_json_value(item, f"{where}.{key}")
        return
    raise InputError(f"canonical JSON carries no {type(value).__name__}", field=where)


def party_key_id(party_id: str, public_key: bytes) -> str:
    """``SHA-256(context || party || 0x0A || public key)[:16]`` in hex: a key ID bound to its party."""
    digest = hashlib.sha256(KEY_CONTEXT + party_id.encode("utf-8") + b"\n" + public_key).digest()
    return digest[:KEY_ID_BYTES].hex()


@dataclass(frozen=True, slots=True)
class PartyKey:
    """A party's registered Ed25519 public key and its key ID."""

    party_id: str
    key_id: str
    public_key: bytes

    @classmethod
    def of(cls, party_id: str, public_key: bytes) -> PartyKey:
        _check_party(party_id, "party_id")
        if len(public_key) != ED25519_KEY_BYTES:
            raise InputError(f"an Ed25519 public key is 32 bytes, got {len(public_key)}", field="public_key")
        return cls(party_id, party_key_id(party_id, public_key), public_key)

    def verifies(self, message: bytes, signature: bytes) -> bool:
        if len(signature) != ED25519_SIGNATURE_BYTES:
            return False
        try:
            _loaded_public_key(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


@functools.lru_cache(maxsize=bounds.trade_loaded_keys_max)
def _loaded_public_key(public_key: bytes) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(public_key)


@dataclass(frozen=True, slots=True)
class PartySigner:
    """A party's Ed25519 private key (held by the party, never by fengkong) and its public key; the repr
    hides the private key."""

    party_id: str
    private_key: Ed25519PrivateKey
    key: PartyKey

    @classmethod
    def of(cls, party_id: str, private_key: Ed25519PrivateKey) -> PartySigner:
        _check_party(party_id, "party_id")
        raw = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return cls(party_id, private_key, PartyKey.of(party_id, raw))

    @classmethod
    def generate(cls, party_id: str) -> PartySigner:
        return cls.of(party_id, Ed25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, party_id: str, seed: bytes) -> PartySigner:
        if len(seed) != ED25519_KEY_BYTES:
            raise InputError(f"an Ed25519 seed is 32 bytes, got {len(seed)}", field="seed")
        return cls.of(party_id, Ed25519PrivateKey.from_private_bytes(seed))

    def public(self) -> PartyKey:
        return self.key

    def sign(self, message: bytes) -> bytes:
        return self.private_key.sign(message)

    def __repr__(self) -> str:
        return f"PartySigner(party_id={self.party_id!r})"


def _check_party(party_id: str, field: str) -> None:
    if not isinstance(party_id, str) or not party_id or len(party_id) > bounds.party_id_length_max:
        raise InputError(f"must be 1 to {bounds.party_id_length_max} characters", field=field)


@dataclass(frozen=True, slots=True)
class TradeDocument:
    """A trade record as its issuer signs it: the record, the issuer's key, its sequence and a nonce."""

    record: TradeRecord
    issuer_key_id: str
    sequence: int
    nonce: str

    def __post_init__(self) -> None:
        record = self.record
        for field_name in ("record_id", "trade_id"):
            value = getattr(record, field_name)
            if not isinstance(value, str) or not value or len(value) > bounds.trade_record_id_length_max:
                raise InputError(
                    f"must be 1 to {bounds.trade_record_id_length_max} characters", field=field_name
                )
        _check_party(record.issuer_party_id, "issuer_party_id")
        _check_party(record.receiver_party_id, "receiver_party_id")
        if record.issuer_party_id == record.receiver_party_id:
            raise InputError("a party cannot trade with itself", field="receiver_party_id")
        if record.amount.amount_minor <= 0 or record.amount.amount_minor > bounds.trade_amount_fen_max:
            raise InputError(
                f"must be positive and at most {bounds.trade_amount_fen_max} fen", field="amount"
            )
        if record.due_on is not None and record.due_on < record.issued_on:
            raise InputError("is before the record's issue date", field="due_on")
        if isinstance(self.sequence, bool) or not 1 <= self.sequence <= bounds.trade_sequence_max:
            raise InputError(f"must be between 1 and {bounds.trade_sequence_max}", field="sequence")
        if len(self.nonce) != 2 * NONCE_BYTES or not _HEX.fullmatch(self.nonce):
            raise InputError(f"must be {2 * NONCE_BYTES} lowercase hex digits", field="nonce")
        if len(self.issuer_key_id) != 2 * KEY_ID_BYTES or not _HEX.fullmatch(self.issuer_key_id):
            raise InputError(f"must be {2 * KEY_ID_BYTES} lowercase hex digits", field="issuer_key_id")

    def to_json(self) -> dict[str, object]:
        record = self.record
        return {
            "v": SCHEMA_VERSION,
            "record_id": record.record_id,
            "trade_id": record.trade_id,
            "kind": record.kind.value,
            "issuer": record.issuer_party_id,
            "receiver": record.receiver_party_id,
            "amount_fen": record.amount.amount_minor,
            "currency": record.amount.currency,
            "issued_on": record.issued_on.isoformat(),
            "due_on": record.due_on.isoformat() if record.due_on else None,
            "issuer_key_id": self.issuer_key_id,
            "sequence": self.sequence,
            "nonce": self.nonce,
        }

    def canonical_bytes(self) -> bytes:
        return canonical_json(self.to_json())

    @classmethod
    def from_canonical(cls, data: bytes) -> TradeDocument:
        """The document whose canonical bytes are ``data`` (InputError when they are not exactly that)."""
        try:
            fields = json.loads(data.decode("utf-8"))
            record = TradeRecord(
                record_id=fields["record_id"],
                trade_id=fields["trade_id"],
                kind=TradeRecordKind(fields["kind"]),
                issuer_party_id=fields["issuer"],
                receiver_party_id=fields["receiver"],
                amount=Money(fields["amount_fen"], fields["currency"]),
                issued_on=date.fromisoformat(fields["issued_on"]),
                due_on=date.fromisoformat(fields["due_on"]) if fields["due_on"] else None,
            )
            document = cls(record, fields["issuer_key_id"], fields["sequence"], fields["nonce"])
        except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise InputError(f"not a canonical trade document: {exc}", field="document") from exc
        if document.canonical_bytes() != data:
            raise InputError("the bytes are not in canonical form", field="document")
        return document


def new_nonce() -> str:
    return secrets.token_bytes(NONCE_BYTES).hex()


def issuer_message(canonical: bytes) -> bytes:
    return ISSUER_CONTEXT + canonical


def receiver_message(canonical: bytes, receiver_key_id: str, issuer_signature: bytes) -> bytes:
    return RECEIVER_CONTEXT + canonical + b"\n" + receiver_key_id.encode("ascii") + b"\n" + issuer_signature


@dataclass(frozen=True, slots=True)
class SignedTradeDocument:
    """A document signed by its issuer and counter-signed by its receiver."""

    canonical: bytes
    document: TradeDocument
    issuer_signature: bytes
    receiver_key_id: str
    receiver_signature: bytes


def issue_document(
    record: TradeRecord, signer: PartySigner, sequence: int, nonce: str | None = None
) -> tuple[TradeDocument, bytes, bytes]:
    """The issuer's half: the document, its canonical bytes and the issuer's signature over them."""
    if signer.party_id != record.issuer_party_id:
        raise InputError("the signer is not the record's issuer", field="signer")
    document = TradeDocument(record, signer.public().key_id, sequence, nonce or new_nonce())
    canonical = document.canonical_bytes()
    return document, canonical, signer.sign(issuer_message(canonical))


def countersign(
    document: TradeDocument, canonical: bytes, issuer_signature: bytes, signer: PartySigner
) -> SignedTradeDocument:
    """The receiver's half: a counter-signature over the document and the issuer's signature."""
    if signer.party_id != document.record.receiver_party_id:
        raise InputError("the signer is not the record's receiver", field="signer")
    key_id = signer.public().key_id
    signature = signer.sign(receiver_message(canonical, key_id, issuer_signature))
    return SignedTradeDocument(canonical, document, issuer_signature, key_id, signature)


def sign_both(
    record: TradeRecord, issuer: PartySigner, receiver: PartySigner, sequence: int
) -> SignedTradeDocument:
    document, canonical, issuer_signature = issue_document(record, issuer, sequence)
    return countersign(document, canonical, issuer_signature, receiver)


# -- verification ------------------------------------------------------------------------------------------


class RejectionReason(StrEnum):
    """Why a signed trade document is refused (checked in this order)."""

    MALFORMED = "malformed"
    UNKNOWN_KEY = "unknown_key"
    KEY_OF_ANOTHER_PARTY = "key_of_another_party"
    BAD_ISSUER_SIGNATURE = "bad_issuer_signature"
    BAD_RECEIVER_SIGNATURE = "bad_receiver_signature"
    REPLAY = "replay"
    OUT_OF_ORDER = "out_of_order"


@dataclass(frozen=True, slots=True)
class Rejection:
    """A refused document: its position in the batch, record ID, the reason and a message."""

    position: int
    record_id: str
    reason: RejectionReason
    message: str

    def to_json(self) -> dict[str, object]:
        return {
            "position": self.position,
            "record_id": self.record_id,
            "reason": self.reason.value,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class TradeVerdicts:
    """A batch judged in order: the documents accepted (positions) and the rejections."""

    accepted: tuple[int, ...]
    rejected: tuple[Rejection, ...]


def verify_documents(
    batch: Sequence[SignedTradeDocument],
    keys: Mapping[str, PartyKey],
    last_sequences: Mapping[str, int],
    seen: Callable[[str, str], bool],
) -> TradeVerdicts:
    """Judge ``batch`` in order.

    ``keys`` maps key ID to registered key; ``last_sequences`` is each issuer's last stored sequence (absent:
    none yet); ``seen(nonce, record_id)`` says whether the store holds that nonce or record ID already.
    A document accepted earlier in the batch counts for the later ones (its sequence and nonce).
    """
    sequences = dict(last_sequences)
    batch_nonces: set[str] = set()
    batch_records: set[str] = set()
    accepted: list[int] = []
    rejected: list[Rejection] = []
    for position, signed in enumerate(batch):
        document = signed.document
        record = document.record

        def refuse(reason: RejectionReason, message: str) -> None:
            rejected.append(Rejection(position, record.record_id, reason, message))  # noqa: B023

        if signed.canonical != document.canonical_bytes():
            refuse(RejectionReason.MALFORMED, "the signed bytes are not the document's canonical bytes")
            continue
        issuer_key = keys.get(document.issuer_key_id)
        receiver_key = keys.get(signed.receiver_key_id)
        if issuer_key is None or receiver_key is None:
            missing = document.issuer_key_id if issuer_key is None else signed.receiver_key_id
            refuse(RejectionReason.UNKNOWN_KEY, f"key {missing} is not registered")
            continue
        if issuer_key.party_id != record.issuer_party_id or receiver_key.party_id != record.receiver_party_id:
            refuse(RejectionReason.KEY_OF_ANOTHER_PARTY, "a signing key is registered to another party")
            continue
        if not issuer_key.verifies(issuer_message(signed.canonical), signed.issuer_signature):
            refuse(RejectionReason.BAD_ISSUER_SIGNATURE, "the issuer's signature does not verify")
            continue
        countersigned = receiver_message(signed.canonical, signed.receiver_key_id, signed.issuer_signature)
        if not receiver_key.verifies(countersigned, signed.receiver_signature):
            refuse(RejectionReason.BAD_RECEIVER_SIGNATURE, "the receiver's counter-signature does not verify")
            continue
        if (
            document.nonce in batch_nonces
            or record.record_id in batch_records
            or seen(document.nonce, record.record_id)
        ):
            refuse(RejectionReason.REPLAY, "this record or nonce has been recorded before")
            continue
        expected = sequences.get(record.issuer_party_id, 0) + 1
        if document.sequence != expected:
            refuse(
                RejectionReason.OUT_OF_ORDER,
                f"issuer {record.issuer_party_id} is at sequence {expected - 1}; got {document.sequence}",
            )
            continue
        sequences[record.issuer_party_id] = document.sequence
        batch_nonces.add(document.nonce)
        batch_records.add(record.record_id)
        accepted.append(position)
    return TradeVerdicts(tuple(accepted), tuple(rejected))


# -- commitments -------------------------------------------------------------------------------------------


def new_salt() -> bytes:
    return secrets.token_bytes(SALT_BYTES)


def commit(salt: bytes, canonical: bytes) -> bytes:
    """``SHA-256(salt || canonical)``: the commitment a log leaf carries."""
    if len(salt) != SALT_BYTES:
        raise InputError(f"a salt is {SALT_BYTES} bytes, got {len(salt)}", field="salt")
    return hashlib.sha256(salt + canonical).digest()


def commitment_entry(commitment: bytes) -> bytes:
    """The log entry of a commitment: a fixed prefix and the 32 bytes (no document, no personal data)."""
    return COMMITMENT_ENTRY_PREFIX + commitment


def opens(entry: bytes, salt: bytes, canonical: bytes) -> bool:
    """Does the log entry ``entry`` commit to ``canonical`` under ``salt``?"""
    return len(salt) == SALT_BYTES and entry == commitment_entry(commit(salt, canonical))
