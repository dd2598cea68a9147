"""The verifiable log: an RFC 9162 Merkle tree over SQL, signed checkpoints, and proofs anyone can check.

What is here (issue 9, items 1 and 2):

* :mod:`~fengkong.chain.merkle` — leaf and node hashing, the frontier an append extends, inclusion and
  consistency proofs generated from stored complete subtrees (``O(log n)`` stored hashes, one read), and the
  RFC 9162 §2.1.3.2 / §2.1.4.2 verification algorithms. Written by hand; the module says why.
* :mod:`~fengkong.chain.log` — an append prepared in memory (entries checked and hashed, the nodes to store).
  The rows live in :mod:`fengkong.store.chain` (tables ``chain_logs``, ``chain_leaves``, ``chain_nodes``,
  ``chain_heads``; migration 0003); :mod:`fengkong.services.chain` joins the two.
* :mod:`~fengkong.chain.proof_document` — proofs as JSON (transparency-dev/merkle's test-data format), the
  input of ``fengkong chain verify``.
* :mod:`~fengkong.chain.note` and :mod:`~fengkong.chain.checkpoint` — C2SP signed notes with Ed25519 keys
  and tlog checkpoints; ``fengkong chain keygen`` and ``fengkong chain checkpoint verify|consistency``.

Conformance: every inclusion and consistency probe of transparency-dev/merkle
(tests/conformance/test_rfc9162_vectors.py); the signed-note bytes reproduce golang.org/x/mod/sumdb/note's
published keys and signatures (tests/unit/chain/test_note.py).

Still to come (later sessions of issue 9): trade records signed by both parties with salted commitments in
the log; receivables (issue, confirm, split, transfer, finance once, settle); the audit trail through the
outbox with its lag and ``fengkong audit verify``; supplier-credit features from verified trade history.
This package imports nothing of fengkong's but the core modules.
"""
