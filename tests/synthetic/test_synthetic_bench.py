"""``bench_synth`` at CI sizes. Two of its claims are checked as same-run comparisons: peak memory
is flat in the number of claims (generated in batches), and the truth's ``p_deny`` beats rule
counts by at least 0.05 ROC-AUC on the later claims. Speed is a smoke run only: its target is for
people to read, as CI machines differ too much for a threshold."""

from __future__ import annotations

import pytest


@pytest.mark.benchmark
def test_bench_synth_ci_sizes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    import importlib

    import benchmarks.bench_synth as bench

    bench = importlib.reload(bench)
    figures = bench.main()
    speed = figures["speed"]
    assert speed["n_claims"] == 50_000
    assert 1.0 < speed["output_mib"] * 1024 / speed["n_claims"] < 5.0  # KiB of JSONL per claim: all three files
    memory = figures["memory"]
    # five times the claims, well under one and a half times the memory (a history held whole is ~5x)
    assert memory["peak_rss_mib_50000"] < 1.5 * memory["peak_rss_mib_10000"]
    oracle = figures["oracle"]
    assert 0.5 < oracle["oracle_auc"] <= 1.0 and 0.1 < oracle["denial_rate"] < 0.4
    assert 0.5 < oracle["rule_count_lr_auc_holdout"] < oracle["oracle_auc_holdout"]
    assert oracle["gap"] >= 0.05
