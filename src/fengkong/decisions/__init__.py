"""The policy language, authorisation and onboarding flows, pricing, outcomes, traces, governance.

* :mod:`~fengkong.decisions.policy` — policy files (YAML: rules with CEL expressions, the risk-band decision
  table, eligibility, products, pricing), validated and compiled once; errors name file, line and problem;
* :mod:`~fengkong.decisions.onboarding` and :mod:`~fengkong.decisions.authorisation` — the two flows;
* :mod:`~fengkong.decisions.engine` — :class:`~fengkong.decisions.engine.DecisionEngine`, the entry point,
  with every port injected (feature reader, scorers, fraud check, blocklist, exposure, clock), and replay;
* :mod:`~fengkong.decisions.trace` — what a decision read and did, enough to re-decide it identically;
* :mod:`~fengkong.decisions.scorers` — the scorecard and the GBM one applicant at a time;
* :mod:`~fengkong.decisions.shadow` — challengers scored off the decision's path on a bounded queue;
* :mod:`~fengkong.decisions.governance` — versions, maker-checker, rollback, kill switch;
* :mod:`~fengkong.decisions.backtest` — stored applications decided again under a candidate policy and
  compared with the baseline (approval rate, volume, realised bad rate, exposure at default, by segment).

Not yet: net margin in backtests, dynamic credit lines.
"""
