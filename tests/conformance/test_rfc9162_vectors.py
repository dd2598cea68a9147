"""RFC 9162 conformance: every inclusion and consistency probe of transparency-dev/merkle's test data.

The probes (``shared/vectors/rfc9162/``, see its README) are judged through the same path as
``fengkong chain verify``: the JSON document is parsed and verified; a probe passes when it is accepted
exactly when its ``wantErr`` is false. One test case per file. The subtree probes are optional and not used.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fengkong.chain.proof_document import ProofKind, judge_document
from fengkong.services.chain import verify_proof_file

VECTORS = Path(__file__).resolve().parents[2].parent / "shared" / "vectors" / "rfc9162"
KINDS = ("inclusion", "consistency")
# Counts published in shared/vectors/README.md: a guard against a partial copy of the probes.
EXPECTED_COUNTS = {"inclusion": (98, 6), "consistency": (98, 6)}


def _probe_ids() -> list[str]:
    # Collected at import time for parametrisation; when the folder is missing the single "missing" case
    # asks the shared_dir fixture, which skips locally and fails in CI.
    found = sorted(
        str(path.relative_to(VECTORS)) for kind in KINDS for path in (VECTORS / kind).rglob("*.json")
    )
    return found or ["missing"]


@pytest.fixture
def vectors(shared_dir: Path) -> Path:
    folder = shared_dir / "vectors" / "rfc9162"
    if not folder.is_dir():
        pytest.fail(f"{folder} is missing from shared/")
    return folder


@pytest.mark.parametrize("probe", _probe_ids())
def test_probe_is_judged_right(vectors: Path, probe: str) -> None:
    if probe == "missing":
        pytest.fail(f"no probes under {vectors}")
    document = json.loads((vectors / probe).read_text(encoding="utf-8"))
    judgement = judge_document(document)
    assert judgement.kind is ProofKind(probe.split("/", 1)[0])
    if document["wantErr"]:
        assert not judgement.verdict.verified, f"{probe} ({document['desc']}) must be rejected"
        assert judgement.verdict.reason
    else:
        assert judgement.verdict.verified, f"{probe} ({document['desc']}): {judgement.verdict.reason}"
        assert judgement.verdict.reason is None


def test_every_probe_is_there(vectors: Path) -> None:
    for kind, (total, accepted) in EXPECTED_COUNTS.items():
        documents = [json.loads(path.read_text("utf-8")) for path in (vectors / kind).rglob("*.json")]
        assert len(documents) == total
        assert sum(not document["wantErr"] for document in documents) == accepted


def test_the_empty_tree_trap_is_rejected(vectors: Path) -> None:
    """Equal sizes of zero with equal roots and an empty proof: a proof from an empty tree proves nothing."""
    path = vectors / "consistency" / "additional" / "sizes-are-equal-zero-and-proof-is-empty.json"
    judgement = verify_proof_file(path)
    assert not judgement.verdict.verified
    assert judgement.verdict.reason == "a consistency proof from an empty tree proves nothing"
