"""AUC, KS, Gini, PSI, calibration, early-performance indicators, fairness, the HTML reports."""
