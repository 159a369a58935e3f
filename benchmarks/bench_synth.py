"""Benchmark of ``claimrisk synth``: speed and memory at scale, and the honesty of its ground truth.

* speed: seconds to write an N-claim JSONL history (N = 1,000,000; CI 50,000), median of runs;
* memory: peak RSS of the generating process at two sizes (flat in N when it is generated in batches);
* oracle: on a 200,000-claim history (CI 50,000), the ROC-AUC of truth ``p_deny`` against the realised
  labels, the claim denial rate, and a logistic regression on per-claim counts of each rule that the
  project's rule engine (``features.rules.engine``, used HERE ONLY, never by the generator) fires; the
  gap between the oracle and that baseline must be at least 0.05.

Run: ``.venv/bin/python -m benchmarks.bench_synth`` (``CI=true`` for small sizes).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import orjson

REPO = Path(__file__).resolve().parents[1]
CI = os.environ.get("CI", "").lower() == "true"


def _run_synth(n_claims: int, out: Path, seed: int = 7) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB, the process and its workers) of one ``claimrisk synth`` run."""
    code = (
        "import resource, sys, time, pathlib\n"
        "from synthetic.commands import synth\n"
        "t = time.perf_counter()\n"
        f"synth(n_claims={n_claims}, seed={seed}, out=pathlib.Path(sys.argv[1]), x12=False)\n"
        "el = time.perf_counter() - t\n"
        "me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "ch = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "print(el, max(me, ch) / 1024)\n"
    )
    result = subprocess.run([sys.executable, "-c", code, str(out)], capture_output=True, text=True, cwd=REPO, check=True)
    seconds, mib = result.stdout.split()
    return float(seconds), float(mib)


def _oracle(n_claims: int, folder: Path) -> dict[str, float]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    from claims.jsonl import read_claims_jsonl
    from features.rules.engine import evaluate

    _run_synth(n_claims, folder, seed=3)
    truth = [orjson.loads(line) for line in open(folder / "truth.jsonl", "rb")]
    p = np.array([t["p_deny"] for t in truth])
    y = np.array([t["denied"] for t in truth])
    oracle = float(roc_auc_score(y, p))
    read = read_claims_jsonl(folder / "claims.jsonl")
    assert not read.errors, read.errors[:3]
    counts = evaluate(read.frame).flag_counts().astype(float)
    # time-ordered: fit on the earlier 80 % of submissions, evaluate on the latest 20 %
    order = np.argsort(read.frame.lines["submission_date"][np.unique(read.frame.lines["claim_index"], return_index=True)[1]],
                       kind="stable")
    cut = int(0.8 * order.size)
    train, test = order[:cut], order[cut:]
    model = LogisticRegression(max_iter=2000).fit(counts[train], y[train])
    rules_auc = float(roc_auc_score(y[test], model.predict_proba(counts[test])[:, 1]))
    oracle_test = float(roc_auc_score(y[test], p[test]))
    return {
        "n_claims": n_claims,
        "oracle_auc": oracle,
        "oracle_auc_holdout": oracle_test,
        "denial_rate": float(y.mean()),
        "rule_count_lr_auc_holdout": rules_auc,
        "gap": oracle_test - rules_auc,
    }


def main() -> dict:
    big = 50_000 if CI else 1_000_000
    small = 10_000 if CI else 100_000
    oracle_n = 50_000 if CI else 200_000
    repeats = 3
    figures: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        times, peaks = [], []
        for i in range(repeats):
            seconds, mib = _run_synth(big, root / f"big{i}")
            times.append(seconds)
            peaks.append(mib)
            size = sum(f.stat().st_size for f in (root / f"big{i}").iterdir())
            for f in (root / f"big{i}").iterdir():
                f.unlink()
        _, small_peak = _run_synth(small, root / "small")
        figures["speed"] = {
            "n_claims": big, "seconds_median": statistics.median(times), "seconds_runs": times,
            "claims_per_second": big / statistics.median(times), "output_mib": size / 2**20,
        }
        figures["memory"] = {
            f"peak_rss_mib_{small}": small_peak, f"peak_rss_mib_{big}": statistics.median(peaks),
        }
        figures["oracle"] = _oracle(oracle_n, root / "oracle")
    print(f"{'figure':<42}{'value':>14}")
    for section, values in figures.items():
        for key, value in values.items():
            if isinstance(value, list):
                value = ", ".join(f"{v:.1f}" for v in value)
                print(f"{section + '.' + key:<42}{value:>14}")
            elif isinstance(value, float):
                print(f"{section + '.' + key:<42}{value:>14.3f}")
            else:
                print(f"{section + '.' + key:<42}{value:>14}")
    return figures


if __name__ == "__main__":
    json.dump(main(), sys.stdout, indent=1)
    print()
