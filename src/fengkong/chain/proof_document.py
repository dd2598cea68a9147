"""Proofs as JSON documents, in the format of transparency-dev/merkle's test data.

Every hash is standard base64; ``proof`` is a list of hashes (``null`` reads as empty)::

    inclusion:   {"leafIdx": 5, "treeSize": 8, "leafHash": "...", "root": "...", "proof": [...]}
    consistency: {"size1": 6, "size2": 8, "root1": "...", "root2": "...", "proof": [...]}

Other keys (``desc``, ``wantErr``) are ignored. :func:`judge_document` tells which kind a document is (a
document that is neither raises :class:`~fengkong.errors.InputError`: unreadable), then judges it: a field
with a bad value (a negative size, text that is not base64) makes the proof *rejected*, with the reason, like
any other bad proof.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, cast

from fengkong import bounds
from fengkong.chain.merkle import Verdict, verify_consistency, verify_inclusion
from fengkong.errors import InputError

INCLUSION_KEYS: Final = ("leafIdx", "treeSize", "leafHash", "root")
CONSISTENCY_KEYS: Final = ("size1", "size2", "root1", "root2")


class ProofKind(StrEnum):
    INCLUSION = "inclusion"
    CONSISTENCY = "consistency"


@dataclass(frozen=True, slots=True)
class ProofJudgement:
    """What a proof document is and whether it verifies (``verdict.reason`` says why not)."""

    kind: ProofKind
    verdict: Verdict

    def to_json(self) -> dict[str, object]:
        return {"kind": self.kind.value, "verified": self.verdict.verified, "reason": self.verdict.reason}


class _RejectedError(Exception):
    """A field of a recognised document holds a value no proof can have (internal: becomes a Verdict)."""


def kind_of(document: object) -> ProofKind:
    """Inclusion or consistency, by the keys present; anything else is unreadable (InputError)."""
    if not isinstance(document, Mapping):
        raise InputError(
            f"a proof document is a JSON object, got {type(document).__name__}", field="document"
        )
    if all(key in document for key in INCLUSION_KEYS):
        return ProofKind.INCLUSION
    if all(key in document for key in CONSISTENCY_KEYS):
        return ProofKind.CONSISTENCY
    raise InputError(
        f"neither an inclusion proof (keys {list(INCLUSION_KEYS)}) nor a consistency proof "
        f"(keys {list(CONSISTENCY_KEYS)})",
        field="document",
    )


def _integer(document: Mapping[str, object], key: str) -> int:
    value = document[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise _RejectedError(f"{key} must be an integer, got {value!r}")
    if value < 0:
        raise _RejectedError(f"{key} must not be negative, got {value}")
    return value


def _hash(value: object, name: str) -> bytes:
    if not isinstance(value, str):
        raise _RejectedError(f"{name} must be a base64 string, got {type(value).__name__}")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _RejectedError(f"{name} is not base64: {exc}") from exc


def _proof(document: Mapping[str, object]) -> list[bytes]:
    value = document.get("proof")
    if value is None:
        return []
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise _RejectedError(f"proof must be a list of base64 hashes, got {type(value).__name__}")
    if len(value) > bounds.chain_proof_hashes_max:
        most = bounds.chain_proof_hashes_max
        raise _RejectedError(f"proof has {len(value)} hashes; no tree of 64-bit size needs more than {most}")
    return [_hash(item, f"proof[{position}]") for position, item in enumerate(value)]


def judge_document(document: object) -> ProofJudgement:
    """Verify the inclusion or consistency proof in a parsed JSON document."""
    kind = kind_of(document)
    fields = cast(Mapping[str, object], document)  # kind_of checked it is a mapping
    try:
        if kind is ProofKind.INCLUSION:
            verdict = verify_inclusion(
                _integer(fields, "leafIdx"),
                _integer(fields, "treeSize"),
                _hash(fields["leafHash"], "leafHash"),
                _proof(fields),
                _hash(fields["root"], "root"),
            )
        else:
            verdict = verify_consistency(
                _integer(fields, "size1"),
                _integer(fields, "size2"),
                _hash(fields["root1"], "root1"),
                _hash(fields["root2"], "root2"),
                _proof(fields),
            )
    except _RejectedError as rejected:
        verdict = Verdict.reject(str(rejected))
    return ProofJudgement(kind, verdict)


def inclusion_document(
    leaf_index: int, tree_size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> dict[str, object]:
    """An inclusion proof as a document :func:`judge_document` reads."""
    return {
        "leafIdx": leaf_index,
        "treeSize": tree_size,
        "leafHash": _b64(leaf),
        "root": _b64(root),
        "proof": [_b64(item) for item in proof],
    }


def consistency_document(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]
) -> dict[str, object]:
    """A consistency proof as a document :func:`judge_document` reads."""
    return {
        "size1": size1,
        "size2": size2,
        "root1": _b64(root1),
        "root2": _b64(root2),
        "proof": [_b64(item) for item in proof],
    }


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")
