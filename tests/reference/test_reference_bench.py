from __future__ import annotations

import pytest


@pytest.mark.benchmark
def test_bench_reference_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    from benchmarks.bench_reference import main

    result = main()
    assert result["rows"] == 100_000
    assert 0 < result["load_warm_s"] < 30
    assert 0 < result["load_cold_process_s"] < 60
    assert set(result["single_row_us"]) >= {"codes_for_ndc", "bill_units", "payment_limit", "all_together"}
    assert all(0 < v < 1e5 for v in result["single_row_us"].values())
    assert all(v > 1_000 for v in result["batch_rows_per_s"].values())
    assert result["data_version"].startswith("xw")
