"""The benchmark runs under CI sizes and reports sane figures (targets are checked by people, not here)."""

from __future__ import annotations

import pytest


@pytest.mark.benchmark
def test_bench_synth_ci_sizes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    import importlib

    import benchmarks.bench_synth as bench

    bench = importlib.reload(bench)
    figures = bench.main()
    assert figures["speed"]["n_claims"] == 50_000 and figures["speed"]["seconds_median"] > 0
    assert all(v > 0 for v in figures["memory"].values())
    oracle = figures["oracle"]
    assert 0.5 < oracle["oracle_auc"] <= 1.0 and 0.0 < oracle["denial_rate"] < 1.0
    assert 0.5 < oracle["rule_count_lr_auc_holdout"] < 1.0
