"""The dynamic-lines bench in quick mode: two short worlds, both arms measured, every figure beside its goal.
A simulation run (about 8 CPU-seconds), so it is marked slow and left out of ``make test``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_bench_quick_measures_both_arms_and_prints_the_goals() -> None:
    completed = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "bench_dynamic_lines.py"),
            "--quick",
            "--seeds",
            "2",
            "--days",
            "60",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2_000:]
    out = completed.stdout
    for seed in (1, 2):
        found = re.search(rf"seed {seed}: lines control (\d+) treatment (\d+);", out)
        assert found is not None, out
        assert int(found.group(1)) > 0 and int(found.group(2)) > 0  # randomisation put lines in both arms
    for goal in ("goal: >= 0", "goal: >= 10 %", "goal: >= 30 %", "goal: >= 30"):
        assert goal in out
    assert "95 % t-interval" in out and "ratio" in out


def test_bench_refuses_bad_arguments() -> None:
    completed = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_dynamic_lines.py"), "--seeds", "0"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert completed.returncode == 2 and "--seeds must be 1..100" in completed.stderr
    assert "Traceback" not in completed.stderr
