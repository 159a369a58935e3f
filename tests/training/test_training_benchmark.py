"""An honest smoke run of the training benchmark at CI sizes: it runs end to end and its figures are
plausible. It does NOT check the performance targets (1M claims in 3 min, 8 GiB): those are measured
by ``make bench`` at full size on an idle machine, where a timing means something."""

from __future__ import annotations

import pytest


@pytest.mark.benchmark
def test_bench_train_ci_sizes_smoke_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    import importlib

    import benchmarks.bench_train as bench

    bench = importlib.reload(bench)
    figures = bench.main()
    speed, quality = figures["speed"], figures["quality"]
    assert speed["claims"] == 30_000 and len(speed["runs"]) == 3
    assert all(run["code"] == 0 for run in speed["runs"])
    assert 1 < speed["median_wall_s"] < 600 and 100 < speed["max_peak_rss_mib"] < 8 * 1024
    model = quality["holdout"]["model"]
    assert 0.5 < model["roc_auc"] <= quality["holdout"]["oracle"]["roc_auc"] + 0.02
    assert 0 <= model["ece"] < 0.1
    assert set(quality["fit_seconds"]) == {
        "lightgbm",
        "hist_gradient_boosting",
        "logistic_regression",
        "rule_count",
    }
