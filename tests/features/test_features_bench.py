"""The features benchmark runs at CI sizes and reports sane figures (targets are checked by `make bench`)."""

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
    assert figures["rules_features_lines_per_s"] > 1_000
    assert figures["naive_equal_on_sample"] > 100  # the naive loop agreed with the engine on the sample
    assert figures["check_claims"] == 5_000
    assert figures["check_2_workers_s"] > 0 and figures["check_cpu_vs_parse_cpu_ratio"] > 0
    assert 0 < figures["single_claim_cpu_us_p50"] <= figures["single_claim_cpu_us_p99"]
    assert figures["rules_features_lines_per_cpu_s"] > 1_000
    assert 0 < figures["single_claim_us_p50"] <= figures["single_claim_us_p99"]
    assert figures["vectorized_vs_naive_ratio"] > 0
