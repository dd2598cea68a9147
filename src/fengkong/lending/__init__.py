"""Product mechanics, schedules, day counts, close of business, repayments, delinquency, collections,
provisioning, joint-lending splits.

Built so far (issue 4, first step):

* :mod:`~fengkong.lending.day_count` — 30/360 (US bond basis between dates; a whole month is 1/12 of a year
  in a schedule), actual/365, actual/360 and actual/actual (split at 31 December, each part over its own
  year's length), as exact fractions.
* :mod:`~fengkong.lending.schedule` — repayment schedules exact to the fen by Apache Fineract's conventions:
  equal installment, equal principal, interest-only (bullet) and flat; principal grace, interest grace
  (interest rolled forward), interest-free periods; installments rounded to the fen or to a whole unit with
  the last one absorbing the remainder. Checked against Fineract's own reference schedules
  (``tests/conformance/test_fineract_schedules.py``), by hand-worked cases and by Hypothesis properties.
* :mod:`~fengkong.lending.rounding` — rounding of exact fractions by a named mode.

Not built yet (later steps of issue 4): BNPL monthly pay, the revolving line, merchant and green products as
product mechanics; servicing (offer acceptance, disbursement, close of business with accruals carried below
the fen, delinquency buckets and the five-tier classification, repayments with an allocation order, payoff
quotes, reversals, write-off); joint-lending splits; the lending API.
"""
