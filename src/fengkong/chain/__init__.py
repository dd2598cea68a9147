"""RFC 9162 Merkle log, signed checkpoints, proofs, trade records and receivables, the audit trail."""
