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
* :mod:`~fengkong.compliance.disclosure` and :mod:`~fengkong.compliance.reasons` — offer disclosures and the
  customer sentence of every reason code, in Chinese and English.
* :mod:`~fengkong.compliance.privacy` — personal data as pure rules: normalised ID and phone numbers, HMAC
  blind indexes (the identity graph joins on them), AES-GCM sealing under keys with IDs and rotation,
  masking for logs and screens, consent per use and partner, the retention schedule (``data/retention.yaml``)
  and salted commitments (what the chain log may carry instead of a value). The SQL is in
  ``store/privacy.py``; the use cases in ``services/privacy.py`` and ``services/reviews.py`` (reasons told per
  decision, human reviews).
* :mod:`~fengkong.compliance.customer_service` — a deterministic, intent-based answerer working from the
  borrower's own loans; it never gives out a number outside the official channel list.
"""
