"""Binning and WoE scorecards, gradient boosting, calibration, reason codes, model cards, reject inference.

What is here (see ``docs.md`` beside this file for the figures and what is still to come):

* :mod:`~fengkong.scoring.data` — labelled tables: target checks, column kinds, documented handling of
  constant, empty and mistyped columns (:class:`~fengkong.scoring.data.ScoringInputError` names the column);
* :mod:`~fengkong.scoring.scorecard` — the monotone-binned WoE logistic scorecard on optbinning, with IV and
  correlation selection and PDO points (scikit-learn estimator contract);
* :mod:`~fengkong.scoring.table` — the reviewable bin table (JSON, CSV, HTML) and the numpy scorer that
  serving uses, with ranked reason codes;
* :mod:`~fengkong.scoring.gbm` — the LightGBM challenger with monotone constraints, early stopping, a
  calibrated PD, a text model with a SHA-256 model card, Booster serving and ``pred_contrib`` reasons.
* :mod:`~fengkong.scoring.reject_inference` — parcelling and fuzzy augmentation for applicants without an
  outcome (scikit-learn's ``-1`` for unlabelled rows);
* :mod:`~fengkong.scoring.segments` — thick-file and thin-file models routed by file type, the
  application-data baseline and approvals at equal realised bad rate.

Out-of-time validation on the simulated world lives in ``services/model_report.py`` (``docs/models.md``).
"""
