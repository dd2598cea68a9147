"""Credit-bureau files, partner-bank tapes and settlement files, portfolio views (vintages, roll rates).

* :mod:`~fengkong.reporting.bureau` — bureau reporting as records (account opened, monthly performance,
  special events, corrections), each month's status derived from the loan's own dated payments; adverse data
  held back until the borrower was notified, accounts missing mandatory fields held back naming the field.
* :mod:`~fengkong.reporting.pboc` — the PBOC-shaped file: 60 months of repayment-status codes per account.
* :mod:`~fengkong.reporting.metro2` — the Metro 2-shaped file: 426-character Base Segments with the 24-month
  payment history profile (the fields filled and their positions are listed there).

Checked by: hand-made loans whose statuses are worked out by hand (``tests/unit/reporting/book.py``), golden
files of both renderings (``tests/golden/bureau_*``), and files exported from a loan book serviced day by day
through the loan services (a reversal after reporting becomes a correction).
"""
