"""Personal data, as pure rules: normalising, keyed pseudonyms, sealing under rotating keys, masking, consent,
retention and salted commitments. No SQL (that is ``store/privacy.py``) and no key storage.

* **Normalising.** A resident identity number is 18 characters, the last a check character (ISO 7064
  MOD 11-2, GB 11643-1999), upper-case ``X``; full-width digits and separators are accepted and removed. A
  phone number is parsed with ``phonenumbers`` (region CN by default) and kept in E.164 (``+8613800000000``).
* **Keyed pseudonyms (blind indexes).** ``HMAC-SHA256(pseudonym key, kind || 0x00 || normalised value)`` in
  hex. The same ID number or phone always gives the same index under one key, so the identity graph still
  joins parties on them, yet the index reveals nothing without the key. The kind is part of the message, so
  an ID number and a phone never share an index.
* **Sealing.** Values are encrypted with AES-256-GCM (``cryptography``) under a data key that has a key ID;
  the associated data binds a ciphertext to its owner and field (``party_id|field``), so a ciphertext
  copied to another party's row does not open. A :class:`Keyring` has one active key for new seals and keeps
  retired keys that still open old ones until a re-encryption job has moved every row to the active key and
  the retired key is removed (rotation).
* **Masking** for logs, screens and exports: ``138****0000`` (phone), ``110105********123X`` (ID number),
  ``张*`` (name); :func:`mask_text` masks every phone and ID number found in free text and
  :class:`MaskingFilter` applies it to log records.
* **Consent** per use and per partner: the latest grant or withdrawal for (party, use, partner) decides;
  uses that rest on a legal duty instead of consent are listed in :data:`CONSENT_NOT_REQUIRED` with the law.
* **Retention**: days to keep each kind of value after the relationship ends (configuration, with the basis
  of each number in ``data/retention.yaml``).
* **Commitments**: what may go to the chain log instead of a value: ``SHA-256(salt || value)`` with a
  random 16-byte salt kept off the log. The chain log never receives a value, masked or not.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from importlib import resources
from typing import Final

import phonenumbers
import yaml
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from fengkong import bounds
from fengkong.errors import InputError, InvariantError

ID_NUMBER_LENGTH: Final = 18
DATA_KEY_BYTES: Final = 32  # AES-256
PSEUDONYM_KEY_BYTES_MIN: Final = 32
NONCE_BYTES: Final = 12  # AES-GCM's standard nonce
COMMITMENT_SALT_BYTES: Final = 16
_ID_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK: Final = "10X98765432"
_KEY_ID_PATTERN: Final = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class Field(StrEnum):
    """The personal values fengkong keeps about a party."""

    NAME = "name"  # as written on the identity document
    NAME_LATIN = "name_latin"  # "FAMILY GIVEN" in Latin letters, for Latin-only files (Metro 2-shaped)
    ID_NUMBER = "id_number"  # PRC resident identity number
    PHONE = "phone"  # E.164


#: fields that get a blind index (the identity graph joins on them)
INDEXED_FIELDS: Final = frozenset({Field.ID_NUMBER, Field.PHONE})


class Use(StrEnum):
    """What personal data is used for; consent is recorded per use (and per partner)."""

    CREDIT_ASSESSMENT = "credit_assessment"
    COLLECTIONS = "collections"
    MARKETING = "marketing"
    PARTNER_SHARING = "partner_sharing"  # passed to a named partner (a bank, through a licensed bureau)
    BUREAU_REPORTING = "bureau_reporting"
    ANTI_FRAUD = "anti_fraud"


#: uses resting on a legal duty rather than on consent, with the basis
CONSENT_NOT_REQUIRED: Final[Mapping[Use, str]] = {
    Use.BUREAU_REPORTING: "reporting duty of a lender to the credit reference system (征信业管理条例); "
    "the borrower is told before adverse data is reported",
    Use.ANTI_FRAUD: "anti-telecom-fraud law (反电信网络诈骗法, 2022): monitoring required; "
    "the data is used for nothing else",
}


# -- normalising ---------------------------------------------------------------------------------------------


def _halfwidth(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def id_check_character(first17: str) -> str:
    """The check character of an 18-character resident ID number (ISO 7064 MOD 11-2, GB 11643-1999)."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def normalise_id_number(text: str, field: str = "id_number") -> str:
    """The 18-character resident ID number in ``text`` (separators removed, ``x`` upper-cased), checked."""
    if not isinstance(text, str):
        raise InputError("must be text", field=field)
    value = re.sub(r"[\s\-]", "", _halfwidth(text)).upper()
    if (
        len(value) != ID_NUMBER_LENGTH
        or not value[:17].isdigit()
        or not (value[17].isdigit() or value[17] == "X")
    ):
        raise InputError(
            "must be an 18-character resident ID number (17 digits and a check character)", field=field
        )
    if id_check_character(value[:17]) != value[17]:
        raise InputError("check character does not match (ISO 7064 MOD 11-2)", field=field)
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError as error:
        raise InputError("digits 7-14 are not a date of birth", field=field) from error
    return value


def birth_date_of(id_number: str) -> date:
    """The date of birth an 18-character resident ID number encodes (digits 7-14, YYYYMMDD)."""
    value = normalise_id_number(id_number)
    return date(int(value[6:10]), int(value[10:12]), int(value[12:14]))


def normalise_phone(text: str, region: str = "CN", field: str = "phone") -> str:
    """``text`` as an E.164 phone number; full-width digits and a ``0086`` prefix are accepted."""
    if not isinstance(text, str) or not text.strip():
        raise InputError("must be a phone number", field=field)
    cleaned = _halfwidth(text).strip()
    if cleaned.startswith("0086"):
        cleaned = "+86" + cleaned[4:]
    try:
        parsed = phonenumbers.parse(cleaned, region)
    except phonenumbers.NumberParseException as error:
        raise InputError(f"not a phone number ({error})", field=field) from error
    if not phonenumbers.is_possible_number(parsed):
        raise InputError("not a possible phone number", field=field)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalise(field_name: Field, value: str) -> str:
    """``value`` in the one form kept for ``field_name`` (names: trimmed, whitespace collapsed)."""
    if field_name is Field.ID_NUMBER:
        return normalise_id_number(value)
    if field_name is Field.PHONE:
        return normalise_phone(value)
    if not isinstance(value, str):
        raise InputError("must be text", field=str(field_name))
    text = " ".join(_halfwidth(value).split())
    if not text or len(text) > bounds.privacy_value_chars_max:
        raise InputError(f"must be 1 to {bounds.privacy_value_chars_max} characters", field=str(field_name))
    if any(not character.isprintable() for character in text):
        raise InputError("must not contain control characters", field=str(field_name))
    if field_name is Field.NAME_LATIN:
        if not text.isascii() or " " not in text:
            raise InputError("must be 'FAMILY GIVEN' in Latin letters", field=str(field_name))
        text = text.upper()
    return text


# -- keys ----------------------------------------------------------------------------------------------------


def _check_key_id(key_id: str) -> str:
    if not isinstance(key_id, str) or not _KEY_ID_PATTERN.match(key_id):
        raise InputError("must be 1 to 64 letters, digits, '_', '.' or '-'", field="key_id")
    return key_id


@dataclass(frozen=True, slots=True)
class PseudonymKey:
    """The HMAC key of the blind indexes, with its ID (stored beside each index)."""

    key_id: str
    secret: bytes

    def __post_init__(self) -> None:
        _check_key_id(self.key_id)
        if len(self.secret) < PSEUDONYM_KEY_BYTES_MIN:
            raise InputError(f"must be at least {PSEUDONYM_KEY_BYTES_MIN} bytes", field="pseudonym_key")

    def __repr__(self) -> str:  # never print a secret
        return f"PseudonymKey(key_id={self.key_id!r})"


@dataclass(frozen=True, slots=True)
class DataKey:
    """An AES-256-GCM data key with its ID."""

    key_id: str
    material: bytes

    def __post_init__(self) -> None:
        _check_key_id(self.key_id)
        if len(self.material) != DATA_KEY_BYTES:
            raise InputError(f"must be {DATA_KEY_BYTES} bytes", field=f"data_key.{self.key_id}")

    def __repr__(self) -> str:
        return f"DataKey(key_id={self.key_id!r})"


@dataclass(frozen=True, slots=True)
class Sealed:
    """A sealed value: the key that sealed it, the nonce and the ciphertext (with its GCM tag)."""

    key_id: str
    nonce: bytes
    ciphertext: bytes


@dataclass(frozen=True, slots=True)
class Keyring:
    """Data keys by ID, the active one sealing new values, and the pseudonym key."""

    keys: tuple[DataKey, ...]
    active_key_id: str
    pseudonym: PseudonymKey

    def __post_init__(self) -> None:
        ids = [key.key_id for key in self.keys]
        if len(set(ids)) != len(ids):
            raise InputError("data key IDs must be unique", field="data_keys")
        if self.active_key_id not in ids:
            raise InputError(
                f"active key {self.active_key_id!r} is not in the keyring", field="active_key_id"
            )

    def key(self, key_id: str) -> DataKey:
        for key in self.keys:
            if key.key_id == key_id:
                return key
        raise InputError(f"no data key {key_id!r} in the keyring (retired too early?)", field="key_id")

    @property
    def active(self) -> DataKey:
        return self.key(self.active_key_id)

    def __repr__(self) -> str:
        return f"Keyring(keys={[key.key_id for key in self.keys]}, active={self.active_key_id!r})"


def new_data_key(key_id: str) -> DataKey:
    """A fresh random data key."""
    return DataKey(key_id, AESGCM.generate_key(bit_length=DATA_KEY_BYTES * 8))


def parse_keyring(data_keys: str, active_key_id: str, pseudonym_key: str) -> Keyring:
    """A keyring from text: ``data_keys`` is ``id:base64,id:base64``; ``pseudonym_key`` is ``id:base64``."""

    def pair(item: str, field: str) -> tuple[str, bytes]:
        key_id, separator, encoded = item.strip().partition(":")
        if not separator:
            raise InputError("must be 'key_id:base64'", field=field)
        try:
            return key_id, base64.b64decode(encoded, validate=True)
        except ValueError as error:
            raise InputError(f"key {key_id!r} is not base64", field=field) from error

    items = [item for item in data_keys.split(",") if item.strip()]
    if not items:
        raise InputError("no data keys given", field="data_keys")
    keys = tuple(DataKey(*pair(item, "data_keys")) for item in items)
    return Keyring(keys, active_key_id, PseudonymKey(*pair(pseudonym_key, "pseudonym_key")))


def _associated(party_id: str, field_name: str) -> bytes:
    return f"{party_id}|{field_name}".encode()


def seal(value: str, keyring: Keyring, party_id: str, field_name: str) -> Sealed:
    """``value`` sealed under the active key, bound to ``party_id`` and ``field_name``."""
    key = keyring.active
    nonce = os.urandom(NONCE_BYTES)
    ciphertext = AESGCM(key.material).encrypt(nonce, value.encode(), _associated(party_id, field_name))
    return Sealed(key.key_id, nonce, ciphertext)


def unseal(sealed: Sealed, keyring: Keyring, party_id: str, field_name: str) -> str:
    """The value in ``sealed``; :class:`InvariantError` when it was tampered with or moved to another row."""
    key = keyring.key(sealed.key_id)
    try:
        plain = AESGCM(key.material).decrypt(
            sealed.nonce, sealed.ciphertext, _associated(party_id, field_name)
        )
    except InvalidTag as error:
        raise InvariantError(
            f"sealed {field_name} of party {party_id!r} does not open: tampered or moved"
        ) from error
    return plain.decode()


def reseal(sealed: Sealed, keyring: Keyring, party_id: str, field_name: str) -> Sealed:
    """``sealed`` opened with its own key and sealed again under the active key (rotation)."""
    return seal(unseal(sealed, keyring, party_id, field_name), keyring, party_id, field_name)


def blind_index(field_name: Field, normalised_value: str, key: PseudonymKey) -> str:
    """The keyed pseudonym of a normalised value (see the module docstring)."""
    message = str(field_name).encode() + b"\x00" + normalised_value.encode()
    return hmac.new(key.secret, message, hashlib.sha256).hexdigest()


# -- masking -------------------------------------------------------------------------------------------------


def mask_phone(phone: str) -> str:
    """``138****0000``: the first three and last four digits of the national number."""
    digits = re.sub(r"\D", "", _halfwidth(phone))
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if len(digits) <= 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_id_number(id_number: str) -> str:
    """``110105********123X``: the region code and the last four characters."""
    value = re.sub(r"\s", "", _halfwidth(id_number)).upper()
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_name(name: str) -> str:
    """The first character, the rest starred: ``张*``, ``Z*** S**``."""
    text = name.strip()
    if not text:
        return ""
    if " " in text:
        return " ".join(part[0] + "*" * (len(part) - 1) for part in text.split())
    return text[0] + "*" * (len(text) - 1)


def mask(field_name: Field, value: str) -> str:
    if field_name is Field.PHONE:
        return mask_phone(value)
    if field_name is Field.ID_NUMBER:
        return mask_id_number(value)
    return mask_name(value)


# An 18-character ID (17 digits and a digit or X) or a run of 7-15 digits with optional separators and a
# leading +: anything that could be an ID or phone number is masked in free text.
_ID_IN_TEXT: Final = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_PHONE_IN_TEXT: Final = re.compile(r"(?<![0-9A-Za-z+])\+?\d(?:[\s\-().]?\d){6,14}(?![0-9A-Za-z])")


def mask_text(text: str) -> str:
    """``text`` with every ID number and every phone-like digit run masked (for logs and screens)."""
    normal = _halfwidth(text)
    masked = _ID_IN_TEXT.sub(lambda match: mask_id_number(match.group(0)), normal)
    return _PHONE_IN_TEXT.sub(_mask_phone_match, masked)


_DATE_IN_TEXT: Final = re.compile(r"^\d{4}[-./]\d{1,2}[-./]\d{1,2}$")


def _mask_phone_match(match: re.Match[str]) -> str:
    text = match.group(0)
    if _DATE_IN_TEXT.match(text):  # 2026-03-01 is a date, not a phone number
        return text
    return mask_phone(text)


class MaskingFilter(logging.Filter):
    """A logging filter that masks ID and phone numbers in every record's message, and in the text of its
    exception, before it is written. Attach it to the handlers (a filter on a logger sees only the records
    logged on that very logger)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask_text(record.getMessage())
        record.args = None
        if record.exc_info:
            record.exc_text = mask_text(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        return True


# -- consent -------------------------------------------------------------------------------------------------


class ConsentAction(StrEnum):
    GRANT = "grant"
    WITHDRAW = "withdraw"


@dataclass(frozen=True, slots=True)
class ConsentEvent:
    """One grant or withdrawal; ``partner`` is ``""`` for the lender itself."""

    event_id: str
    party_id: str
    use: Use
    partner: str
    action: ConsentAction
    at: datetime


@dataclass(frozen=True, slots=True)
class ConsentRefused:
    """A use of personal data refused for lack of consent (a value, not an exception)."""

    party_id: str
    use: Use
    partner: str
    reason: str


def consent_in_force(events: Iterable[ConsentEvent], use: Use, partner: str, at: datetime) -> bool:
    """Whether the latest event for (``use``, ``partner``) at or before ``at`` is a grant.

    A grant to the lender (``partner == ""``) does not cover a partner, and a grant to one partner does not
    cover another. Events at the same instant: a withdrawal wins.
    """
    relevant = [event for event in events if event.use == use and event.partner == partner and event.at <= at]
    if not relevant:
        return False
    latest = max(relevant, key=lambda event: (event.at, event.action is ConsentAction.WITHDRAW))
    return latest.action is ConsentAction.GRANT


def check_use(
    events: Iterable[ConsentEvent], party_id: str, use: Use, partner: str, at: datetime
) -> ConsentRefused | None:
    """None when ``use`` of ``party_id``'s data (by ``partner``) is allowed at ``at``, else the refusal."""
    if use in CONSENT_NOT_REQUIRED and not partner:
        return None
    if consent_in_force(events, use, partner, at):
        return None
    who = f" for partner {partner!r}" if partner else ""
    return ConsentRefused(party_id, use, partner, f"no consent in force for {use.value}{who}")


# -- retention -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RetentionSchedule:
    """Days each field is kept after the relationship ends (every field has an entry)."""

    days_after_end: Mapping[Field, int]

    def __post_init__(self) -> None:
        missing = sorted(set(Field) - set(self.days_after_end))
        if missing:
            raise InputError(f"no retention for {missing}", field="retention")
        for field_name, days in self.days_after_end.items():
            if not isinstance(days, int) or not 0 <= days <= bounds.privacy_retention_days_max:
                raise InputError(
                    f"must be 0 to {bounds.privacy_retention_days_max} days", field=f"retention.{field_name}"
                )

    def retain_until(self, field_name: Field, relationship_ended_on: date) -> date:
        return relationship_ended_on + timedelta(days=self.days_after_end[field_name])


def load_retention_schedule(text: str | None = None) -> RetentionSchedule:
    """The schedule from YAML (default: the packaged ``data/retention.yaml``)."""
    if text is None:
        text = resources.files("fengkong.compliance").joinpath("data", "retention.yaml").read_text("utf-8")
    document = yaml.safe_load(text)
    entries = document.get("days_after_end") if isinstance(document, dict) else None
    if not isinstance(entries, dict):
        raise InputError("must be a mapping with 'days_after_end'", field="retention")
    days: dict[Field, int] = {}
    for name, entry in entries.items():
        try:
            field_name = Field(name)
        except ValueError as error:
            raise InputError(f"unknown field {name!r}", field="retention") from error
        value = entry.get("days") if isinstance(entry, dict) else None
        if not isinstance(value, int):
            raise InputError("needs an integer 'days'", field=f"retention.{name}")
        days[field_name] = value
    return RetentionSchedule(days)


# -- commitments for the chain log ---------------------------------------------------------------------------


def new_commitment_salt() -> bytes:
    return os.urandom(COMMITMENT_SALT_BYTES)


def commitment(value: str, salt: bytes) -> str:
    """``SHA-256(salt || value)`` in hex: proves later what a value was without putting it on the log."""
    if len(salt) < COMMITMENT_SALT_BYTES:
        raise InputError(f"must be at least {COMMITMENT_SALT_BYTES} random bytes", field="salt")
    return hashlib.sha256(salt + value.encode()).hexdigest()
