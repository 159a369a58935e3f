from __future__ import annotations

import pytest


@pytest.mark.benchmark
def test_bench_x12_runs_under_ci_sizes(monkeypatch: pytest.MonkeyPatch) -> None:
    from benchmarks.bench_x12 import main

    monkeypatch.setenv("CI", "true")
    figures = main()
    assert figures["claims"] == 5_000
    for key in ("read_837_claims_per_s", "read_835_claims_per_s", "write_837_claims_per_s",
                "x12sdk_837_claims_per_s"):
        assert figures[key] > 0
    assert figures["read_837_claims_per_s"] > figures["x12sdk_837_claims_per_s"]
    # memory does not grow with the file: five times the claims, at most double the peak
    assert figures["peak_mb_837_big"] < 2 * figures["peak_mb_837_small"] + 5
    assert figures["peak_mb_837_one_transaction"] < 2 * figures["peak_mb_837_small"] + 5
