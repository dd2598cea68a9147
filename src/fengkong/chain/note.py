"""Signed notes (C2SP signed-note, the format of golang.org/x/mod/sumdb/note) with Ed25519 keys.

A note is UTF-8 text ending in a newline, a blank line, then one or more signature lines::

    <text, ending in a newline>
    <blank line>
    — <key name> <base64(key ID (4 bytes, big-endian) || Ed25519 signature (64 bytes))>

The Ed25519 key ID is ``SHA-256(key name || 0x0A || 0x01 || 32-byte public key)[:4]`` (signed-note.md,
"Ed25519 signatures"). Keys are written as Go's note package writes them, so they work with its tools::

    verifier key   <name>+<key ID as 8 hex digits>+<base64(0x01 || 32-byte public key)>
    signer key     PRIVATE+KEY+<name>+<key ID as 8 hex digits>+<base64(0x01 || 32-byte seed)>

Opening a note (:func:`open_note`) follows the spec: signatures by unknown keys (name and ID not both known)
are ignored; a signature by a known key must verify, or the whole note is rejected; a note with no verified
signature by a known key is rejected. Rejections are values (:class:`OpenedNote` with a ``reason``); a
malformed key is bad input (:class:`~fengkong.errors.InputError`). Signing uses the ``cryptography`` package.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from fengkong import bounds
from fengkong.errors import InputError

ALGORITHM_ED25519: Final = 0x01
KEY_ID_BYTES: Final = 4
ED25519_KEY_BYTES: Final = 32
ED25519_SIGNATURE_BYTES: Final = 64
SIGNATURE_PREFIX: Final = "\u2014 "  # em dash, space
PRIVATE_KEY_PREFIX: Final = "PRIVATE+KEY+"
_KEY_ID_HEX = re.compile(r"[0-9a-f]{8}")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")


def check_key_name(name: str, field_name: str = "key_name") -> str:
    """Key names are non-empty, with no Unicode space and no plus (signed-note.md, "Format")."""
    if not name or "+" in name or any(character.isspace() for character in name) or _CONTROL.search(name):
        raise InputError(f"must be non-empty without spaces or '+', got {name!r}", field=field_name)
    if len(name) > bounds.chain_key_name_length_max:
        raise InputError(f"must be at most {bounds.chain_key_name_length_max} characters", field=field_name)
    return name


def key_id(name: str, public_key: bytes) -> bytes:
    """``SHA-256(name || 0x0A || 0x01 || public key)[:4]``: the Ed25519 key ID of signed-note.md."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([ALGORITHM_ED25519]) + public_key).digest()[
        :KEY_ID_BYTES
    ]


def _decode_key(encoded: str, field_name: str) -> bytes:
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InputError(f"the key is not base64: {exc}", field=field_name) from exc
    if len(raw) != 1 + ED25519_KEY_BYTES or raw[0] != ALGORITHM_ED25519:
        raise InputError("the key is not 0x01 followed by 32 bytes (an Ed25519 key)", field=field_name)
    return raw[1:]


@dataclass(frozen=True, slots=True)
class VerifierKey:
    """A named Ed25519 public key that verifies notes."""

    name: str
    key_id: bytes
    public_key: bytes

    @classmethod
    def from_public_key(cls, name: str, public_key: bytes) -> VerifierKey:
        check_key_name(name)
        if len(public_key) != ED25519_KEY_BYTES:
            raise InputError(f"an Ed25519 public key is 32 bytes, got {len(public_key)}", field="public_key")
        return cls(name, key_id(name, public_key), public_key)

    @classmethod
    def parse(cls, text: str) -> VerifierKey:
        """A key in the note format ``<name>+<key ID hex>+<base64(0x01 || public key)>``."""
        parts = text.strip().split("+", 2)  # base64 may hold "+"; names may not
        if len(parts) != 3:
            raise InputError("a verifier key is <name>+<key ID hex>+<base64 key>", field="public_key")
        name, hex_id, encoded = parts
        check_key_name(name, "public_key")
        if not _KEY_ID_HEX.fullmatch(hex_id):
            raise InputError(f"the key ID must be 8 lowercase hex digits, got {hex_id!r}", field="public_key")
        key = cls.from_public_key(name, _decode_key(encoded, "public_key"))
        if key.key_id.hex() != hex_id:
            raise InputError(
                f"the key ID {hex_id} does not match the key (expected {key.key_id.hex()})",
                field="public_key",
            )
        return key

    def to_text(self) -> str:
        encoded = base64.b64encode(bytes([ALGORITHM_ED25519]) + self.public_key).decode("ascii")
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    def verifies(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True, slots=True)
class SignerKey:
    """A named Ed25519 private key (its 32-byte seed) that signs notes. Its repr never shows the seed."""

    name: str
    key_id: bytes
    seed: bytes = field(repr=False)

    @classmethod
    def from_seed(cls, name: str, seed: bytes) -> SignerKey:
        check_key_name(name)
        if len(seed) != ED25519_KEY_BYTES:
            raise InputError(f"an Ed25519 seed is 32 bytes, got {len(seed)}", field="private_key")
        public_key = _public_key_of(seed)
        return cls(name, key_id(name, public_key), seed)

    @classmethod
    def generate(cls, name: str) -> SignerKey:
        return cls.from_seed(name, secrets.token_bytes(ED25519_KEY_BYTES))

    @classmethod
    def parse(cls, text: str) -> SignerKey:
        """A key in the note format ``PRIVATE+KEY+<name>+<key ID hex>+<base64(0x01 || seed)>``."""
        stripped = text.strip()
        if not stripped.startswith(PRIVATE_KEY_PREFIX):
            raise InputError("a signer key starts with PRIVATE+KEY+", field="private_key")
        parts = stripped[len(PRIVATE_KEY_PREFIX) :].split("+", 2)
        if len(parts) != 3:
            raise InputError(
                "a signer key is PRIVATE+KEY+<name>+<key ID hex>+<base64 key>", field="private_key"
            )
        name, hex_id, encoded = parts
        check_key_name(name, "private_key")
        if not _KEY_ID_HEX.fullmatch(hex_id):
            raise InputError("the key ID must be 8 lowercase hex digits", field="private_key")
        key = cls.from_seed(name, _decode_key(encoded, "private_key"))
        if key.key_id.hex() != hex_id:
            raise InputError("the key ID does not match the key", field="private_key")
        return key

    def to_text(self) -> str:
        encoded = base64.b64encode(bytes([ALGORITHM_ED25519]) + self.seed).decode("ascii")
        return f"{PRIVATE_KEY_PREFIX}{self.name}+{self.key_id.hex()}+{encoded}"

    def verifier(self) -> VerifierKey:
        return VerifierKey(self.name, self.key_id, _public_key_of(self.seed))

    def sign(self, message: bytes) -> bytes:
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)


def _public_key_of(seed: bytes) -> bytes:
    return (
        Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    )


def check_text(text: str) -> None:
    """Note text: non-empty, ends in a newline, no control characters but newlines (InputError otherwise)."""
    if not text.endswith("\n"):
        raise InputError("note text must end in a newline", field="text")
    if _CONTROL.search(text):
        raise InputError("note text must not contain control characters other than newline", field="text")


def sign_note(text: str, signers: Sequence[SignerKey]) -> str:
    """``text``, a blank line, and one signature line per signer."""
    check_text(text)
    if not signers:
        raise InputError("a note needs at least one signer", field="signers")
    message = text.encode("utf-8")
    lines = []
    for signer in signers:
        signature = base64.b64encode(signer.key_id + signer.sign(message)).decode("ascii")
        lines.append(f"{SIGNATURE_PREFIX}{signer.name} {signature}\n")
    return text + "\n" + "".join(lines)


@dataclass(frozen=True, slots=True)
class OpenedNote:
    """A note opened against known keys: its text and who signed it, or why it was rejected."""

    text: str | None
    verified_by: tuple[str, ...]
    reason: str | None

    @property
    def verified(self) -> bool:
        return self.reason is None


def _rejected(reason: str) -> OpenedNote:
    return OpenedNote(None, (), reason)


def open_note(message: str, verifiers: Sequence[VerifierKey]) -> OpenedNote:
    """Split ``message`` into text and signatures; verify those by ``verifiers`` (module docstring)."""
    if len(message.encode("utf-8")) > bounds.chain_note_bytes_max:
        return _rejected(f"malformed note: longer than {bounds.chain_note_bytes_max} bytes")
    if _CONTROL.search(message):
        return _rejected("malformed note: control characters other than newline")
    split = message.rfind("\n\n")
    if split < 0:
        return _rejected("malformed note: no blank line before the signatures")
    text, signature_block = message[: split + 1], message[split + 2 :]
    if not signature_block.endswith("\n"):
        return _rejected("malformed note: the signature lines must end in a newline")
    lines = signature_block[:-1].split("\n")
    if len(lines) > bounds.chain_note_signatures_max:
        return _rejected(f"malformed note: more than {bounds.chain_note_signatures_max} signatures")
    known = {(key.name, key.key_id): key for key in verifiers}
    verified: list[str] = []
    payload = text.encode("utf-8")
    for line in lines:
        if not line.startswith(SIGNATURE_PREFIX):
            return _rejected(f"malformed note: not a signature line: {line[:40]!r}")
        name, space, encoded = line[len(SIGNATURE_PREFIX) :].rpartition(" ")
        if not space or not name or "+" in name or any(character.isspace() for character in name):
            return _rejected(f"malformed note: bad signature line {line[:40]!r}")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            return _rejected(f"malformed note: the signature of {name} is not base64")
        if len(raw) < KEY_ID_BYTES + 1:
            return _rejected(f"malformed note: the signature of {name} is too short")
        key = known.get((name, raw[:KEY_ID_BYTES]))
        if key is None:
            continue  # an unknown key: ignored, as the spec requires
        if not key.verifies(payload, raw[KEY_ID_BYTES:]):
            return _rejected(f"invalid signature for key {name}+{raw[:KEY_ID_BYTES].hex()}")
        if name not in verified:
            verified.append(name)
    if not verified:
        return _rejected("the note has no verifiable signature by a known key")
    return OpenedNote(text, tuple(verified), None)
