"""Binning and WoE scorecards, gradient boosting, calibration, reason codes, model cards, reject inference."""
