"""The features benchmark at CI sizes: the ratios it measures within one run hold (targets on absolute
figures are checked by `make bench` at full size; absolute times at CI size on a shared machine say
nothing, so none is asserted here)."""

from __future__ import annotations

import importlib
from typing import Any

import pytest


@pytest.mark.benchmark
def test_bench_features_ci_sizes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    bench: Any = importlib.import_module("benchmarks.bench_features")
    figures = bench.main()
    assert figures["lines"] == 50_000 and figures["claims"] > 10_000
    assert figures["naive_equal_on_sample"] > 100  # the naive loop agreed with the engine on the sample
    assert figures["check_claims"] == 5_000  # and check wrote the same output with 1 and 2 workers
    # same-run ratios: the vectorized rules beat the per-claim Python loop they are checked against
    # (about 20x at full size), and a batch costs far less per line than one claim at a time (the
    # fixed cost of a call is what the single-claim path pays; about 60x at full size)
    assert figures["vectorized_vs_naive_ratio"] > 2
    lines_per_claim = figures["lines"] / figures["claims"]
    single_claim_lines_per_cpu_s = lines_per_claim / (figures["single_claim_cpu_us_p50"] * 1e-6)
    assert figures["rules_features_lines_per_cpu_s"] > 5 * single_claim_lines_per_cpu_s
    assert figures["single_claim_cpu_us_p50"] <= figures["single_claim_cpu_us_p99"]
    # reading and checking JSON costs more CPU than parsing it alone (a smoke check of the ratio's sense)
    assert figures["check_cpu_vs_parse_cpu_ratio"] > 1
