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

Servicing (issue 4, item 3):

* :mod:`~fengkong.lending.servicing` — acceptance of an offer inside its validity window (an expired offer
  is an :class:`~fengkong.lending.servicing.OfferNotAccepted` value), disbursement of the full principal
  with fees as their own receivable, payoff quotes, repayments through a configurable allocation order,
  prepayment (shortens the term from the last installment), reversals, recoveries after write-off.
* :mod:`~fengkong.lending.close_of_business` — the daily close over numpy arrays, the same code for one loan
  and a million: exact accrual (cumulative ``⌊I × d / L⌋``, so the days of a period add up to the schedule's
  interest), penalty interest with an exact carry below the fen, amounts falling due, days past due,
  delinquency buckets, the five-tier classification, non-accrual (suspended interest), write-off, and the
  day's ledger postings.
* :mod:`~fengkong.lending.delinquency` — buckets (M1/M2/M3+) and classes from configurable day thresholds.
* :mod:`~fengkong.lending.allocation` — waterfall or pro-rata splits over penalty, fee, interest and
  principal, each conserving its total.
* :mod:`~fengkong.lending.products` — BNPL statement and due days, bill conversion into 3/6/9/12
  installments with its annualised rate checked against the cap, the revolving line's exact daily interest.

The use cases (``fengkong.services.loans``) store all this in SQL (migration 0004): close-of-business runs
with per-chunk progress, so a crash resumes at the chunk in flight and a closed day changes nothing;
repayments idempotent by repayment ID under the loan's row lock.

Products and splits (issue 4, items 1 and 5; pure rules — only joint loans have use cases so far):

* :mod:`~fengkong.lending.joint` — joint loans funded by the lender and partner banks in basis-point shares
  (the lender's at or above a configurable floor, 30 % by default), every flow split to the fen, partners
  earning their own rate on their own principal (the lender keeps the spread), pro-rata or first-loss
  sharing, and the partner-payable postings.
* :mod:`~fengkong.lending.prepayment` — partial prepayment that re-amortises the rest of a schedule: lower
  installments or a shorter term.
* :mod:`~fengkong.lending.merchant` — merchant term loans, and revenue-based repayment from daily sales
  priced by the dated IRR on expected sales.
* :mod:`~fengkong.lending.green` — green loans: eligible purposes and borrowers, a floored discount, tags.
* :mod:`~fengkong.lending.statements` — BNPL monthly statements and bill conversion, installment-loan
  statements.

Not built yet: BNPL and revolving accounts serviced through the close of business (the mechanics exist as
pure functions only), servicing that uses the re-amortised prepayment (a prepayment through servicing still
shortens the term from the last installment), joint loans through the API (the use cases are
``fengkong.services.joint_loans``; the API's repayments do not split), green-loan tagging in reports,
provisioning.
"""
