"""Training benchmark: JSONL history -> registered model (wall time, peak RSS), and the holdout metric
table (model vs baselines vs oracle) with the candidates' fit times from one comparison run.

Targets (issue): 1,000,000 claims to a registered model in <= 3 min on 2 cores, peak <= 8 GiB;
on a 200,000-claim history ROC-AUC within 0.01 of the oracle, ECE <= 0.02, clearly above the
rule-count baseline. ``CI=true`` uses 30,000 and 10,000 claims so it finishes in about a minute.

    .venv/bin/python -m benchmarks.bench_train
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CI = os.environ.get("CI", "").lower() == "true"
SPEED_CLAIMS = 30_000 if CI else 1_000_000
QUALITY_CLAIMS = 5_000 if CI else 200_000
REPEATS = 3
SEED = 7

_CHILD = """
import json, resource, sys, time
from pathlib import Path
from training.commands import train
h = Path(sys.argv[1])
t = time.perf_counter()
code = train(claims_path=h / "claims.jsonl", remits_path=h / "remits.jsonl", promote=True, truth_path=None,
             holdout_fraction=0.2, target_precision=0.8, models_dir=Path(sys.argv[2]))
wall = time.perf_counter() - t
print("BENCH " + json.dumps({"code": code, "wall_s": wall,
      "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _synth(n: int, out: Path) -> float:
    from synthetic.commands import synth

    started = time.perf_counter()
    assert synth(n_claims=n, seed=SEED, out=out, x12=False) == 0
    return time.perf_counter() - started


def _speed(history: Path, work: Path) -> dict[str, Any]:
    """Whole `train` runs in fresh processes (imports included), each into a new MLflow store."""
    runs = []
    for i in range(REPEATS):
        store = work / f"store{i}"
        store.mkdir()
        env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{store / 'mlflow.db'}"}
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", _CHILD, str(history), str(store / "models")],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        elapsed = time.perf_counter() - started
        line = next((x for x in proc.stdout.splitlines() if x.startswith("BENCH ")), None)
        if proc.returncode != 0 or line is None:
            raise RuntimeError(f"train run failed (exit {proc.returncode}): {proc.stderr[-2000:]}")
        result = json.loads(line.removeprefix("BENCH "))
        result["process_wall_s"] = elapsed
        runs.append(result)
        print(f"  run {i + 1}: {elapsed:.1f} s, peak {result['peak_rss_mib']:.0f} MiB", flush=True)
    return {
        "claims": SPEED_CLAIMS,
        "runs": runs,
        "median_wall_s": statistics.median(r["process_wall_s"] for r in runs),
        "median_peak_rss_mib": statistics.median(r["peak_rss_mib"] for r in runs),
        "max_peak_rss_mib": max(r["peak_rss_mib"] for r in runs),
    }


def _quality(history: Path) -> dict[str, Any]:
    from claims.sources import load_claims, load_remits
    from training.commands import read_truth
    from training.dataset import build_training_data
    from training.pipeline import fit_and_evaluate

    claims = load_claims(history / "claims.jsonl")
    remits = load_remits(history / "remits.jsonl")
    data = build_training_data(claims.frame, remits.rows)
    timings: dict[str, float] = {}
    result = fit_and_evaluate(
        data,
        holdout_fraction=0.2,
        target_precision=0.8,
        truth=read_truth(history / "truth.jsonl", data.claim_ids),
        timings=timings,
    )
    print(result.report(), flush=True)
    return {
        "claims": QUALITY_CLAIMS,
        "chosen": result.chosen,
        "choice_reason": result.choice_reason,
        "holdout": result.holdout,
        "oracle_gap": result.oracle_gap,
        "operating_point": result.operating_point,
        "fit_seconds": {name: c["fit_seconds"] for name, c in result.candidates.items()},
        "predict_rows_per_s": {name: c["predict_rows_per_s"] for name, c in result.candidates.items()},
        "timings": timings,
        "data_summary": {k: v for k, v in data.summary.items() if k != "input_sha256"},
    }


def main() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-train-") as tmp:
        work = Path(tmp)
        print(f"== generating {QUALITY_CLAIMS:,}-claim history (quality)", flush=True)
        _synth(QUALITY_CLAIMS, work / "quality")
        quality = _quality(work / "quality")
        print(f"== generating {SPEED_CLAIMS:,}-claim history (speed)", flush=True)
        synth_s = _synth(SPEED_CLAIMS, work / "speed")
        print(f"== {REPEATS} x train on {SPEED_CLAIMS:,} claims", flush=True)
        speed = _speed(work / "speed", work)
    model, oracle = quality["holdout"]["model"], quality["holdout"].get("oracle", {})
    figures = {
        "speed": {**speed, "synth_s": synth_s},
        "quality": quality,
        "targets": {
            "wall_s<=180": speed["median_wall_s"] <= 180,
            "peak_rss_gib<=8": speed["max_peak_rss_mib"] / 1024 <= 8,
            "roc_auc_gap<=0.01": bool(oracle) and oracle["roc_auc"] - model["roc_auc"] <= 0.01,
            "ece<=0.02": model["ece"] <= 0.02,
            "roc_auc_above_rule_count": model["roc_auc"] - quality["holdout"]["rule_count"]["roc_auc"],
        },
    }
    print(
        f"train {SPEED_CLAIMS:,} claims: median {speed['median_wall_s']:.1f} s, peak {speed['max_peak_rss_mib']:.0f} MiB; "
        f"quality on {QUALITY_CLAIMS:,}: ROC-AUC {model['roc_auc']:.4f} (oracle {oracle.get('roc_auc', float('nan')):.4f}), "
        f"ECE {model['ece']:.4f}; fit s {quality['fit_seconds']}",
        flush=True,
    )
    return figures


if __name__ == "__main__":
    main()
