"""Pure rules: IRR and annualised rates, cap and LPR tables, disclosure documents, reason-code texts. Imports
nothing above domain/.

* :mod:`~fengkong.compliance.apr` — the annualised rate by the IRR method over every cash flow including
  every fee (PBOC announcement [2021] No. 3): periodic for regular schedules, dated actual/365 for irregular
  ones; :func:`~fengkong.compliance.apr.verify_offer` rejects an offer whose stated rate leaves fees out.
  Checked by: the regulator's worked example as summarised by a secondary source (12.80 % / 13.58 %,
  tests/conformance/test_pboc_example.py), PMT(1 %, 12, 10,000) = 888.49 ⇒ 12 %, numpy-financial's ``irr``
  on examples and on random schedules, and Hypothesis properties (NPV within a fen, monotone in payment and
  fee, dated vs periodic bounded by the month lengths).
* :mod:`~fengkong.compliance.caps` — the one-year LPR table and the cap table by regime and date, as sourced
  YAML in ``data/`` (each entry says how well it was verified), and
  :func:`~fengkong.compliance.caps.check_price`, which returns a :class:`~fengkong.compliance.caps.CapCheck`.
* :mod:`~fengkong.compliance.grid` — a policy's price grid whose rates are solved once at load.

Still to come (issue 5): disclosure documents, reason-code texts.
"""
