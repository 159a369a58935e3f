"""``bench_reference`` at CI sizes. The lookups' design claim is checked as a same-run ratio: a
batch amortises the fixed cost of a call, so a row inside a 100,000-row batch costs far less CPU
than a lone row (a per-row Python loop in a batch path would bring the two together). Load times
are a smoke run only (their targets are for people to read)."""

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
    single, batch = result["single_row_cpu_us"], result["batch_rows_per_cpu_s"]
    assert set(single) >= {"codes_for_ndc", "bill_units", "payment_limit", "all_together"}
    assert single["all_together"] < 1_000  # one claim line through every lookup: under a millisecond of CPU
    for name, rows_per_s in batch.items():
        per_row_us = 1e6 / rows_per_s
        assert per_row_us * 10 < single[name], name  # measured 20-80x on 2 shared cores
    assert result["data_version"].startswith("xw")
