"""Double-entry accounts and postings (append-only), balances, reconciliation of external files."""
