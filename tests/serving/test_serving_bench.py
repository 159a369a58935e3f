"""The serving benchmark runs end to end at CI sizes and reports sane figures (not the targets)."""

from __future__ import annotations

import pytest


@pytest.mark.benchmark
def test_bench_serving_runs_and_reports_sane_figures(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    import benchmarks.bench_serving as bench

    monkeypatch.setattr(bench, "CI", True)
    results = bench.main()
    api = results["api"]
    assert api["healthz"]["rps"] > 50
    assert api["score"]["rps"] > 10
    assert api["score"]["non_2xx"] == 0 and api["batch"]["non_2xx"] == 0
    assert 0 < api["score"]["p50_ms"] <= api["score"]["p99_ms"]
    assert api["batch"]["claims_per_s"] > 200
    assert results["worklist"]["claims"] == 20_000
    assert results["worklist"]["claims_per_s"] > 1000
    assert results["load_generator"] in ("wrk", "python-asyncio")
