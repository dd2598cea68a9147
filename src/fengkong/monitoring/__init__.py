"""AUC, KS, Gini, PSI, calibration, early-performance indicators, fairness, the HTML reports.

* :mod:`~fengkong.monitoring.metrics` — AUC, KS, Gini, Brier, the calibration curve, ECE and PSI in numpy;
* :mod:`~fengkong.monitoring.calibration` — the reliability curve with ECE, mean PD and bad rate;
* :mod:`~fengkong.monitoring.psi` — score and feature stability with a missing-value bin and levels;
* :mod:`~fengkong.monitoring.indicators` — first-payment default, ever 30+ at month on book 3, approval rate
  and PSI, each with its alert threshold, overall and by cohort;
* :mod:`~fengkong.monitoring.fairness` — approval and price disparity by protected group at equal risk band;
* :mod:`~fengkong.monitoring.model_card` — JSON model cards with a content digest;
* :mod:`~fengkong.monitoring.report_html` — one self-contained HTML page with inline SVG charts.
"""
