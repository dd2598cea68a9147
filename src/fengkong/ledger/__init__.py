"""Double-entry accounts and postings (append-only), balances and the trial balance.

* :mod:`~fengkong.ledger.accounts` — the chart of accounts (:data:`~fengkong.ledger.accounts.STANDARD_CHART`:
  loans, interest and fees receivable, cash clearing, partner payables, suspense, equity, interest, fee and
  penalty income, recoveries, write-off expense); sub-accounts per loan or partner as ``code:sub``.
* :mod:`~fengkong.ledger.journal` — the check in code before anything is written
  (:func:`~fengkong.ledger.journal.validate_posting`), reversing entries as the only correction,
  idempotency by ``posting_id``, and :class:`~fengkong.ledger.journal.InMemoryJournal`.
* :mod:`~fengkong.ledger.balances` — totals per account and the trial balance.

The SQL journal is :mod:`fengkong.store.ledger` (``store/`` owns SQL): there each database checks again that
debits equal credits — PostgreSQL with a deferred constraint trigger at commit, SQLite with a checked
transfer header — and refuses UPDATE and DELETE of postings. :mod:`fengkong.services.ledger` joins the two.

Still to come (issue 4, later steps): reconciliation of external files, and the postings of servicing
(disbursement, accrual, repayment, write-off) written by close of business.
"""
