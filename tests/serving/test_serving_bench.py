"""The serving benchmark at CI sizes: an honest smoke run (the absolute figures depend on a shared
machine, so only same-run ratios and plausibility bounds are asserted, never the targets)."""

from __future__ import annotations

import pytest


@pytest.mark.benchmark
def test_bench_serving_smoke_run_and_same_run_ratios(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("BENCH_SERVING_WORKERS", "2")
    import benchmarks.bench_serving as bench

    monkeypatch.setattr(bench, "CI", True)
    results = bench.main()
    api = results["api"]
    assert api["workers"] == 2
    assert api["healthz"]["rps"] > 50
    assert api["score"]["rps"] > 10
    # same run, same machine: a scored claim costs the server more than a bare /healthz, and a
    # 1,000-claim batch scores more claims per second than one claim per request
    assert api["score"]["rps"] < api["healthz"]["rps"]
    assert api["batch"]["claims_per_s"] > api["score"]["rps"]
    assert api["score"]["non_2xx"] == 0 and api["batch"]["non_2xx"] == 0
    assert 0 < api["score"]["p50_ms"] <= api["score"]["p99_ms"]
    assert api["batch"]["claims_per_s"] > 200
    # the server's CPU per request is measured across its worker processes (0 would mean it was not)
    assert 0.05 < api["score"]["server_cpu_ms"] < 100
    assert api["healthz"]["server_cpu_ms"] < api["score"]["server_cpu_ms"] < api["batch"]["server_cpu_ms"]
    in_process = results["in_process"]
    assert 0 < in_process["healthz_us"] < in_process["score_us"] < in_process["batch_1000_ms"] * 1000
    assert in_process["step_featurize_us"] < in_process["score_us"]  # one step of the whole request
    assert in_process["predict_rows"] >= 1
    assert results["worklist"]["claims"] == 20_000
    assert results["worklist"]["claims_per_s"] > 1000
    assert results["worklist"]["claims_per_s_in_workers"] > 1000
    steps = sum(results["worklist"][k] for k in ("read_s", "score_rank_s", "write_s"))
    assert 0 < steps <= 1.5 * results["worklist"]["claims"] / results["worklist"]["claims_per_s"]  # the steps add up
    assert results["load_generator"] in ("wrk", "python-asyncio")


def test_failed_responses_are_summed_over_runs_and_shown() -> None:
    from benchmarks.bench_serving import _failures, medians

    runs = [{"rps": 100.0, "non_2xx": 0.0, "socket_errors": 0.0}, {"rps": 900.0, "non_2xx": 7.0, "socket_errors": 0.0},
            {"rps": 120.0, "non_2xx": 0.0, "socket_errors": 0.0}]
    summary = medians(runs)
    assert summary == {"rps": 120.0, "non_2xx": 7.0, "socket_errors": 0.0}  # one bad run is not hidden
    assert "7 non-2xx" in _failures(summary)
    assert _failures(medians([runs[0], runs[2]])) == ""
