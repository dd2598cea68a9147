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

Trade and receivables (issue 9, items 3 and 4), pure rules whose SQL is in ``store/`` and whose use cases are
in ``services/``:

* :mod:`~fengkong.chain.trade` — documents signed by the issuer and counter-signed by the receiver, as
  canonical JSON; salted commitments (the only thing the log holds); every rejection reason named.
* :mod:`~fengkong.chain.receivables` — the normalised, hashed invoice identity (unique in the database),
  parts, split/transfer/financing checks, ACT/360 discounting and settlement payees.
* :mod:`~fengkong.chain.registry_export` — transfers and pledges as rows of a movable-asset registration.

The audit trail (item 5) is a use case, :mod:`fengkong.services.audit`: outbox rows hashed into the log named
``audit`` under signed checkpoints, and ``fengkong audit verify``.

This package imports nothing of fengkong's but ``domain/`` and the core modules.
"""
