"""Credit models on simulated worlds they were not tuned on: out of time, against the oracle.

For each seed (default 2027 and 2028) on the drift scenario (``scenarios/drift.yaml``: from month 3 the
behaviour that reveals risk changes), it runs the demo (a year at small scale, about 2–4 minutes), then
:func:`fengkong.services.model_report.train_evaluate_report` on the demo's lake: training on bookings
before the split (the first half of the labelled bookings, which ends after the drift began), testing on
the later ones. Printed, each beside its goal (issue 6):

* the champion (scorecard or LightGBM challenger, chosen by inner cross-validation on the training period),
  every model's AUC, the oracle AUC (the simulator's true PD at booking, same rows) and the champion's gap
  to it (goal ≤ 0.03), and the same without fraud;
* calibration ECE of the champion (goal ≤ 0.01);
* thin-file AUC of the segment model (goal ≥ 0.70) and its gap to the thick-file AUC (goal ≤ 0.03);
* thin-file approvals against the application-data baseline at equal realised bad rate (goal ≥ +30 %);
* the agreement of the event-derived label with the simulator's truth (month-end snapshots of ever 30+);
* seconds of the report and, as the reference measured in the same process, its ratio to the demo run.

    .venv/bin/python bench/bench_sim_models.py                  # seeds 2027 and 2028, drift
    .venv/bin/python bench/bench_sim_models.py --quick          # the quick world, no drift, 90-day window
    .venv/bin/python bench/bench_sim_models.py --work /tmp/w    # keep (and reuse) the demo runs
"""

from __future__ import annotations

import argparse
import glob
import os
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parents[1]
DRIFT = ROOT / "scenarios" / "drift.yaml"


def label_agreement(run: Path, labelled: Any, window_days: int) -> tuple[int, int, int, int]:
    """(rows compared, rows where the event label equals the truth, event bads, truth bads) over the
    labelled rows with a month end after their window. Truth: ever 30+ at the first month end after the
    window, and not at the last month end before booking."""
    import pyarrow.parquet as pq

    snapshots: dict[date, dict[str, bool]] = {}
    for path in sorted(glob.glob(str(run / "truth" / "borrowers-*.parquet"))):
        day = date.fromisoformat(Path(path).name.removeprefix("borrowers-")[:10])
        table = pq.read_table(path, columns=["party_id", "ever_30"]).to_pydict()
        snapshots[day] = dict(zip(table["party_id"], table["ever_30"], strict=True))
    days = sorted(snapshots)
    compared = agreed = bads = event_bads = 0
    for row in labelled.itertuples():
        end = row.booked_date + timedelta(days=window_days)
        after = [day for day in days if day >= end]
        before = [day for day in days if day < row.booked_date]
        if not after:
            continue
        truth = snapshots[after[0]].get(row.party_id, False) and not (
            before and snapshots[before[-1]].get(row.party_id, False)
        )
        compared += 1
        bads += int(truth)
        event_bads += int(bool(row.bad))
        agreed += int(bool(row.bad) == bool(truth))
    return compared, agreed, event_bads, bads


def _line(name: str, value: float | None, goal: str = "", met: bool | None = None) -> None:
    shown = "—" if value is None else f"{value:.4f}"
    verdict = "" if met is None else ("met" if met else "NOT met")
    print(f"  {name:<58} {shown:>9}  {goal:<10} {verdict}")


def run_world(seed: int, work: Path, quick: bool, window: int) -> dict[str, Any]:
    from fengkong.services.demo import DemoConfig, run_demo
    from fengkong.services.model_dataset import DatasetOptions, build_model_dataset
    from fengkong.services.model_report import ReportOptions, train_evaluate_report

    run = work / f"{'quick' if quick else 'drift'}-{seed}"
    demo_seconds = None
    if not (run / "summary.json").is_file():
        started = time.perf_counter()
        # quick: the demo's quick world (4,000 consumers; a scenario file's tiny scale is far smaller)
        scenario = None if quick else DRIFT
        run_demo(
            DemoConfig(
                out_dir=run, seed=seed, scenario_path=scenario, quick=quick, days=240 if quick else None
            )
        )
        demo_seconds = time.perf_counter() - started
    options = ReportOptions(dataset=DatasetOptions(bad_window_days=window), seed=0)
    started = time.perf_counter()
    result = train_evaluate_report(run / "lake", run / "models", options=options)
    report_seconds = time.perf_counter() - started
    dataset = build_model_dataset(run / "lake", options.dataset)
    compared, agreed, event_bads, truth_bads = label_agreement(run, dataset.labelled, window)
    return {
        "seed": seed,
        "figures": result.figures,
        "report_seconds": report_seconds,
        "demo_seconds": demo_seconds,
        "agreement": (compared, agreed, truth_bads, event_bads),
        "report": result.report_path,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[2027, 2028])
    parser.add_argument("--quick", action="store_true", help="the quick world over 240 days, 90-day window")
    parser.add_argument("--work", type=Path, default=None, help="keep demo runs here and reuse them")
    arguments = parser.parse_args()
    window = 90 if arguments.quick else 180
    with tempfile.TemporaryDirectory() as scratch:
        work = arguments.work or Path(scratch)
        for seed in arguments.seeds:
            world = run_world(seed, work, arguments.quick, window)
            figures = world["figures"]
            goals = figures["goals"]
            oracle = figures["oracle"]
            segments = figures["segments"]
            approvals = figures.get("thin_file_approvals") or {}
            gap = figures.get("auc_gap_to_oracle")
            thin, thick = segments.get("thin_file_auc"), segments.get("thick_file_auc")
            champion = figures["champion"]["name"]
            ece = figures["calibration"][champion]["ece"]
            print(
                f"\nseed {seed}, {'quick world, default scenario' if arguments.quick else 'drift scenario'}: "
                f"split {figures['split_date']}, "
                f"train {figures['train']['rows']} rows ({figures['train']['bads']} bad), "
                f"test {figures['test']['rows']} rows ({figures['test']['bads']} bad)"
            )
            _line(
                f"champion by inner CV on the training period: {champion}", figures["models"][champion]["auc"]
            )
            _line("challenger (LightGBM) AUC, test period", figures["models"]["gbm"]["auc"])
            _line("scorecard AUC", figures["models"]["scorecard"]["auc"])
            _line(
                "challenger with reject inference AUC",
                figures["models"].get("gbm_reject_inference", {}).get("auc"),
            )
            _line("oracle AUC (true PD at booking, same rows)", oracle.get("auc"))
            _line(
                "champion AUC gap to the oracle",
                gap,
                f"<= {goals['auc_gap_to_oracle_max']}",
                None if gap is None else gap <= goals["auc_gap_to_oracle_max"],
            )
            _line("oracle AUC without fraud", oracle.get("auc_non_fraud"))
            _line("AUC gap to the oracle without fraud", figures.get("auc_gap_to_oracle_non_fraud"))
            _line("calibration ECE (champion)", ece, f"<= {goals['ece_max']}", ece <= goals["ece_max"])
            _line(
                "thin-file AUC (segment model)",
                thin,
                f">= {goals['thin_file_auc_min']}",
                None if thin is None else thin >= goals["thin_file_auc_min"],
            )
            both = None if thin is None or thick is None else thick - thin
            _line(
                "thick-file AUC minus thin-file AUC",
                both,
                f"<= {goals['thin_thick_auc_gap_max']}",
                None if both is None else both <= goals["thin_thick_auc_gap_max"],
            )
            gain = approvals.get("gain")
            _line(
                f"thin-file approvals vs baseline at equal bad rate ({approvals.get('model_approvals')} vs "
                f"{approvals.get('baseline_approvals')})",
                gain,
                f">= +{goals['thin_file_approval_gain_min']}",
                None if gain is None else gain >= goals["thin_file_approval_gain_min"],
            )
            for share, value in (approvals.get("gain_by_baseline_share") or {}).items():
                _line(f"  the same gain when the baseline approves {share} of them", value)
            _line("baseline (application data) AUC on thin-file test rows", approvals.get("baseline_auc"))
            _line(
                "thin-file AUC without fraud (evaluation reads the truth)",
                segments.get("thin_file_auc_non_fraud"),
            )
            _line("thick-file AUC without fraud", segments.get("thick_file_auc_non_fraud"))
            compared, agreed, truth_bads, event_bads = world["agreement"]
            _line(
                f"label from events = truth ({agreed}/{compared}; bads {event_bads} vs {truth_bads})",
                agreed / compared if compared else None,
            )
            _line("report seconds (dataset + fit + evaluate + write)", world["report_seconds"])
            if world["demo_seconds"]:
                _line("demo seconds (the reference, same process)", world["demo_seconds"])
                _line("ratio report / demo", world["report_seconds"] / world["demo_seconds"])
            print(f"  report: {world['report']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
