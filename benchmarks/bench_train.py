"""Training benchmark: JSONL history -> registered model (wall time, peak RSS), and the quality of
the model that ships, on claims after its history.

Speed (issue 21): default ``claimrisk train`` (3-month backtest and the refit) on 1,000,000 claims
in <= 300 s on 2 cores, peak <= 8 GiB. ``BENCH_TRAIN_CLAIMS`` sets another size (a busy machine
measures 200k and extrapolates).

Quality: a 120,000-claim history whose policy-change payer changes policy in the last quarter of
the training history (``LATE_CHANGE``); train (the whole procedure) on the earliest 80 % by
submission date and score the rest: ROC-AUC within 0.012 of the oracle, ECE <= 0.02, and the
shipped model's mean risk on that payer's claims flagged PRIOR_AUTH_MISSING after the change within
0.05 of the generator's mean truth. ``CI=true`` uses small sizes so it finishes in minutes.

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

import numpy as np

CI = os.environ.get("CI", "").lower() == "true"
SPEED_CLAIMS = int(os.environ.get("BENCH_TRAIN_CLAIMS", 30_000 if CI else 1_000_000))
QUALITY_CLAIMS = 5_000 if CI else 120_000
REPEATS = 3
SEED = 7
# The change date for the quality history: about two and a half months before the end of the
# earliest 80 % of a history (submission dates 2024-01 .. 2026-05), i.e. in its last quarter.
LATE_CHANGE = "2025-08-15"
TRAIN_SHARE = 0.8

_CHILD = """
import json, os, resource, sys, time
from pathlib import Path
from training.commands import train
h = Path(sys.argv[1])
t = time.perf_counter()
code = train(claims_path=h / "claims.jsonl", remits_path=h / "remits.jsonl", promote=True, truth_path=None,
             holdout_fraction=0.2, target_precision=0.8, models_dir=Path(sys.argv[2]))
wall = time.perf_counter() - t
usage = resource.getrusage(resource.RUSAGE_SELF)
print("BENCH " + json.dumps({"code": code, "wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime,
      "load_1min": os.getloadavg()[0], "peak_rss_mib": usage.ru_maxrss / 1024}))
"""
# train's last stderr line: "claimrisk train: done in read 38.5 s, label 18.1 s, ..." (training.commands)
_STAGES = "claimrisk train: done in "


def _stages(stderr: str) -> dict[str, float]:
    """Seconds per stage from train's summary line: on a shared machine the per-stage split (and the
    CPU seconds next to the wall) says which stage a slow run lost its time in."""
    line = next((x for x in reversed(stderr.splitlines()) if x.startswith(_STAGES)), "")
    parts = (p.strip().rsplit(" ", 2) for p in line.removeprefix(_STAGES).split(",") if p.strip())
    return {name: float(value) for name, value, unit in parts if unit == "s"}


def _synth(n: int, out: Path, change: str | None = None) -> float:
    from synthetic.commands import synth
    from synthetic.world import PolicyChange

    started = time.perf_counter()
    policy = PolicyChange(date=change) if change else None
    assert synth(n_claims=n, seed=SEED, out=out, x12=False, policy_change=policy) == 0
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
        result["stages_s"] = _stages(proc.stderr)
        runs.append(result)
        print(
            f"  run {i + 1}: {elapsed:.1f} s ({result['cpu_s']:.0f} CPU s, load {result['load_1min']:.1f}), "
            f"peak {result['peak_rss_mib']:.0f} MiB; stages {result['stages_s']}",
            flush=True,
        )
    return {
        "claims": SPEED_CLAIMS,
        "runs": runs,
        "median_wall_s": statistics.median(r["process_wall_s"] for r in runs),
        "median_cpu_s": statistics.median(r["cpu_s"] for r in runs),
        "median_peak_rss_mib": statistics.median(r["peak_rss_mib"] for r in runs),
        "max_peak_rss_mib": max(r["peak_rss_mib"] for r in runs),
    }


def policy_rows(model: Any, frame: Any, payer_id: np.ndarray, change: str) -> tuple[np.ndarray, np.ndarray]:
    """(rows, X): the policy-change payer's claims that fire PRIOR_AUTH_MISSING with a service date
    on or after the change (the claims its new rule hits), and the model's features of ``frame``."""
    from synthetic.catalog import POLICY_CHANGE_PAYER

    X, fired = model.featurize(frame)
    flagged = np.zeros(frame.n_claims, dtype=bool)
    flagged[np.asarray(fired.claim_index)[np.asarray(fired.rule_ids) == "PRIOR_AUTH_MISSING"]] = True
    service = np.full(frame.n_claims, np.datetime64("NaT"), dtype="datetime64[D]")
    service[frame.lines["claim_index"]] = frame.lines["service_date"]  # one service date per claim here
    after = ~np.isnat(service) & (service >= np.datetime64(change, "D"))
    return flagged & after & (payer_id == POLICY_CHANGE_PAYER), X


def policy_follow(model: Any, frame: Any, payer_id: np.ndarray, truth: np.ndarray, change: str) -> dict[str, float]:
    """Mean shipped risk vs mean truth on the claims ``policy_rows`` selects."""
    rows, X = policy_rows(model, frame, payer_id, change)
    risk = model.predict_from_features(X)
    return {
        "claims": float(rows.sum()),
        "mean_risk": float(risk[rows].mean()) if rows.any() else float("nan"),
        "mean_truth": float(truth[rows].mean()) if rows.any() else float("nan"),
    }


def _quality(history: Path, change: str = LATE_CHANGE) -> dict[str, Any]:
    """The whole procedure on the earliest TRAIN_SHARE of the history; the shipped model scores the rest.

    As ``claimrisk train`` runs it: with the 835's denial-reason labels (the reason heads and the
    per-rule reason rates of the recency columns). ``change``: the date of the history's policy
    change (``LATE_CHANGE``, or the catalog's for a default history)."""
    from inputs.sources import load_claims, load_remits
    from training.commands import read_truth
    from training.dataset import build_training_data
    from training.frames import slice_claims
    from training.metrics import evaluate
    from training.pipeline import fit_and_evaluate
    from training.reasons import claim_reasons, reasons_for_training

    claims = load_claims(history / "claims.jsonl")
    remits = load_remits(history / "remits.jsonl")
    data = build_training_data(claims.frame, remits.rows)
    truth = read_truth(history / "truth.jsonl", data.claim_ids)
    cut = int(round(len(data) * TRAIN_SHARE))
    timings: dict[str, float] = {}
    earliest = head(data, cut)
    result = fit_and_evaluate(
        earliest, holdout_fraction=0.2, target_precision=0.8, truth=truth[:cut], timings=timings,
        reasons=reasons_for_training(claim_reasons(remits.rows), earliest),
    )
    print(result.report(), flush=True)
    future = slice_claims(data.frame, cut, len(data))
    shipped = result.model.predict_risk(future)
    later = slice(cut, len(data))
    scored = {
        name: evaluate(data.y[later], p, data.total_charge[later], data.denied_dollars[later])
        for name, p in (("shipped", shipped), ("oracle", truth[later]))
    }
    return {
        "claims": QUALITY_CLAIMS,
        "chosen": result.chosen,
        "choice_reason": result.choice_reason,
        "holdout": result.holdout,
        "oracle_gap": result.oracle_gap,
        "future": scored,
        "future_roc_auc_gap": scored["oracle"]["roc_auc"] - scored["shipped"]["roc_auc"],
        "policy_follow": policy_follow(result.model, future, data.payer_id[later], truth[later], change),
        "backtest": result.model.metadata["backtest"],
        "refit": result.model.metadata["refit"],
        "operating_point": result.operating_point,
        "fit_seconds": {name: c["fit_seconds"] for name, c in result.candidates.items()},
        "predict_rows_per_s": {name: c["predict_rows_per_s"] for name, c in result.candidates.items()},
        "timings": timings,
        "data_summary": {k: v for k, v in data.summary.items() if k != "input_sha256"},
    }


def head(data: Any, stop: int) -> Any:
    """The first ``stop`` claims of a TrainingData (time-ordered): a history as it stood earlier."""
    import dataclasses

    from training.frames import slice_claims

    return dataclasses.replace(
        data,
        frame=slice_claims(data.frame, 0, stop),
        y=data.y[:stop],
        denied_dollars=data.denied_dollars[:stop],
        total_charge=data.total_charge[:stop],
        payer_id=data.payer_id[:stop],
        submission_date=data.submission_date[:stop],
        paid_date=None if data.paid_date is None else data.paid_date[:stop],
    )


def main() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-train-") as tmp:
        work = Path(tmp)
        print(f"== generating {QUALITY_CLAIMS:,}-claim history (quality)", flush=True)
        _synth(QUALITY_CLAIMS, work / "quality", LATE_CHANGE)
        quality = _quality(work / "quality")
        print(f"== generating {SPEED_CLAIMS:,}-claim history (speed)", flush=True)
        synth_s = _synth(SPEED_CLAIMS, work / "speed")
        print(f"== {REPEATS} x train on {SPEED_CLAIMS:,} claims", flush=True)
        speed = _speed(work / "speed", work)
    model, oracle = quality["future"]["shipped"], quality["future"]["oracle"]
    follow = quality["policy_follow"]
    figures = {
        "speed": {**speed, "synth_s": synth_s},
        "quality": quality,
        "targets": {
            "wall_s<=300": speed["median_wall_s"] <= 300,
            "peak_rss_gib<=8": speed["max_peak_rss_mib"] / 1024 <= 8,
            "roc_auc_gap<=0.012": quality["future_roc_auc_gap"] <= 0.012,
            "ece<=0.02": model["ece"] <= 0.02,
            "policy_follow<=0.05": abs(follow["mean_risk"] - follow["mean_truth"]) <= 0.05,
            "roc_auc_above_rule_count": quality["holdout"]["model"]["roc_auc"]
            - quality["holdout"]["rule_count"]["roc_auc"],
        },
    }
    print(
        f"train {SPEED_CLAIMS:,} claims: median {speed['median_wall_s']:.1f} s, peak {speed['max_peak_rss_mib']:.0f} MiB; "
        f"quality on {QUALITY_CLAIMS:,} (shipped model, latest {1 - TRAIN_SHARE:.0%}): ROC-AUC {model['roc_auc']:.4f} "
        f"(oracle {oracle['roc_auc']:.4f}, gap {quality['future_roc_auc_gap']:.4f}), ECE {model['ece']:.4f}; "
        f"policy change: mean risk {follow['mean_risk']:.3f} vs truth {follow['mean_truth']:.3f} "
        f"on {follow['claims']:.0f} claims; fit s {quality['fit_seconds']}",
        flush=True,
    )
    return figures


if __name__ == "__main__":
    main()
