"""The simulated-world bench in its quick mode: a quick demo world, then the report; every figure printed
beside its goal. A scale run (a few minutes), so it is marked slow and left out of ``make test``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_bench_quick_prints_each_figure_beside_its_goal(tmp_path: Path) -> None:
    completed = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "bench_sim_models.py"),
            "--quick",
            "--seeds",
            "2027",
            "--work",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=1_800,
        env={**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2_000:]
    out = completed.stdout
    for line in ("AUC gap to the oracle", "calibration ECE", "thin-file AUC", "label from events = truth"):
        assert line in out
    assert "<= 0.03" in out and ">= +0.3" in out
    assert (tmp_path / "quick-2027" / "models" / "report.html").is_file()
    # the label read from repayment events agrees with the simulator's truth on nearly every booking
    agreed, compared = map(int, re.search(r"label from events = truth \((\d+)/(\d+);", out).groups())  # type: ignore[union-attr]
    assert compared > 100 and agreed / compared >= 0.97
