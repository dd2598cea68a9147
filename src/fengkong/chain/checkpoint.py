"""Checkpoints (C2SP tlog-checkpoint): a log's size and root hash under its origin, as a signed note.

The note text (tlog-checkpoint.md, "Note text")::

    <origin>
    <tree size, decimal, no leading zeros>
    <base64 root hash>
    [extension lines, non-empty; opaque]

signed as a :mod:`fengkong.chain.note` by the log's Ed25519 key, whose name should be the origin. An auditor
holding the log's verifier key checks a checkpoint (:func:`verify_checkpoint`) and that a newer checkpoint
extends an older one (:func:`verify_checkpoints_consistent`) with a consistency proof.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from fengkong.chain.merkle import HASH_SIZE_BYTES, TREE_SIZE_MAX, Verdict, verify_consistency
from fengkong.chain.note import SignerKey, VerifierKey, open_note, sign_note
from fengkong.errors import InputError

_TREE_SIZE = re.compile(r"0|[1-9][0-9]*")
CHECKPOINT_LINES_MIN: Final = 3


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A tree head: ``origin``, ``tree_size``, ``root_hash`` and optional opaque extension lines."""

    origin: str
    tree_size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise InputError("must be one non-empty line", field="origin")
        if not 0 <= self.tree_size <= TREE_SIZE_MAX:
            raise InputError(f"must be between 0 and {TREE_SIZE_MAX}", field="tree_size")
        if len(self.root_hash) != HASH_SIZE_BYTES:
            raise InputError(f"must be {HASH_SIZE_BYTES} bytes", field="root_hash")
        if any(not line or "\n" in line for line in self.extensions):
            raise InputError("extension lines must be non-empty single lines", field="extensions")

    def text(self) -> str:
        """The note text, ending in a newline."""
        root = base64.b64encode(self.root_hash).decode("ascii")
        return "".join(f"{line}\n" for line in (self.origin, str(self.tree_size), root, *self.extensions))

    @classmethod
    def parse_text(cls, text: str) -> Checkpoint | str:
        """The checkpoint in a note's text, or the reason it is not one."""
        if not text.endswith("\n"):
            return "a checkpoint's text ends in a newline"
        lines = text[:-1].split("\n")
        if len(lines) < CHECKPOINT_LINES_MIN or any(not line for line in lines):
            return "a checkpoint is at least three non-empty lines: origin, tree size, root hash"
        origin, size_text, root_text, *extensions = lines
        if not _TREE_SIZE.fullmatch(size_text) or int(size_text) > TREE_SIZE_MAX:
            return f"the tree size {size_text[:30]!r} is not a decimal number without leading zeros"
        try:
            root = base64.b64decode(root_text, validate=True)
        except (binascii.Error, ValueError):
            return "the root hash is not base64"
        if len(root) != HASH_SIZE_BYTES:
            return f"the root hash is {len(root)} bytes, not {HASH_SIZE_BYTES}"
        return cls(origin, int(size_text), root, tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, signers: Sequence[SignerKey]) -> str:
    """The checkpoint as a signed note."""
    return sign_note(checkpoint.text(), signers)


@dataclass(frozen=True, slots=True)
class CheckpointVerdict:
    """A checkpoint note checked against a key: the checkpoint when it verifies, else the reason."""

    checkpoint: Checkpoint | None
    reason: str | None

    @property
    def verified(self) -> bool:
        return self.reason is None

    def to_json(self) -> dict[str, object]:
        found = self.checkpoint
        return {
            "verified": self.verified,
            "reason": self.reason,
            "origin": found.origin if found else None,
            "tree_size": found.tree_size if found else None,
            "root_hash": base64.b64encode(found.root_hash).decode("ascii") if found else None,
        }


def verify_checkpoint(note: str, key: VerifierKey, origin: str | None = None) -> CheckpointVerdict:
    """Is ``note`` a checkpoint signed by ``key`` (and, when given, for ``origin``)?"""
    opened = open_note(note, [key])
    if opened.text is None:
        return CheckpointVerdict(None, opened.reason)
    parsed = Checkpoint.parse_text(opened.text)
    if isinstance(parsed, str):
        return CheckpointVerdict(None, parsed)
    if origin is not None and parsed.origin != origin:
        return CheckpointVerdict(None, f"the checkpoint is for origin {parsed.origin!r}, not {origin!r}")
    return CheckpointVerdict(parsed, None)


def verify_checkpoints_consistent(
    old_note: str, new_note: str, proof: Sequence[bytes], key: VerifierKey
) -> tuple[CheckpointVerdict, CheckpointVerdict, Verdict]:
    """Both checkpoints verify under ``key``, share an origin, and ``proof`` shows the new extends the old."""
    old = verify_checkpoint(old_note, key)
    new = verify_checkpoint(new_note, key)
    if old.checkpoint is None:
        return old, new, Verdict.reject(f"the old checkpoint does not verify: {old.reason}")
    if new.checkpoint is None:
        return old, new, Verdict.reject(f"the new checkpoint does not verify: {new.reason}")
    if old.checkpoint.origin != new.checkpoint.origin:
        return old, new, Verdict.reject("the checkpoints are for different origins")
    verdict = verify_consistency(
        old.checkpoint.tree_size,
        new.checkpoint.tree_size,
        old.checkpoint.root_hash,
        new.checkpoint.root_hash,
        proof,
    )
    return old, new, verdict
