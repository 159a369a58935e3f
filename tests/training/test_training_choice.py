"""Deterministic model choice (issue 17 item 10): a tie on validation PR-AUC is broken by the fixed
order of ``BOOSTERS``, never by measured speed, so the same data and seed give the same model on a
busy or an idle machine. The old code picked the faster predictor: the tie cases below fail on it."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from training import candidates as candidates_module
from training.calibration import CalibratedBooster
from training.candidates import BOOSTERS, QUALITY_TIE, Candidate, choose, fit_candidates


def _candidate(name: str, pr_auc: float, fit_s: float, rows_per_s: float) -> Candidate:
    return Candidate(
        name=name,
        classifier=CalibratedBooster(),
        fit_seconds=fit_s,
        n_fit_rows=1000,
        iterations=10,
        validation={"pr_auc": pr_auc, "roc_auc": 0.8},
        predict_rows_per_s=rows_per_s,
    )


@pytest.mark.parametrize("first_is_faster", [True, False])
def test_a_tie_goes_to_the_fixed_order_whatever_the_timings(first_is_faster: bool) -> None:
    fast, slow = (1e6, 1.0) if first_is_faster else (1.0, 1e6)
    pool = {
        BOOSTERS[0]: _candidate(BOOSTERS[0], 0.500, 9.0 if first_is_faster else 0.1, fast),
        BOOSTERS[1]: _candidate(BOOSTERS[1], 0.500 + QUALITY_TIE / 2, 0.1 if first_is_faster else 9.0, slow),
    }
    assert choose(pool)[0] == BOOSTERS[0]
    pool[BOOSTERS[0]].validation["pr_auc"] = float("nan")  # no PR-AUC at all: the same fixed order
    assert choose(pool)[0] == BOOSTERS[0]


def test_a_real_quality_difference_still_wins() -> None:
    pool = {
        BOOSTERS[0]: _candidate(BOOSTERS[0], 0.50, 0.1, 1e6),
        BOOSTERS[1]: _candidate(BOOSTERS[1], 0.50 + 10 * QUALITY_TIE, 9.0, 1.0),
    }
    assert choose(pool)[0] == BOOSTERS[1]


def _fit_with_clock(step: float, monkeypatch: pytest.MonkeyPatch) -> tuple[str, dict[str, float]]:
    """Fit the real candidates with a fake ``perf_counter`` that advances ``step`` per call."""
    clock = itertools.count(0.0, step)
    monkeypatch.setattr(candidates_module.time, "perf_counter", lambda: next(clock))
    rng = np.random.default_rng(3)
    X = rng.normal(size=(1500, 6)).astype(np.float32)
    X[:, :2] = (X[:, :2] > 0.8).astype(np.float32)  # two rule-like flags
    y = ((X[:, 0] + X[:, 1] + 0.3 * X[:, 2] + rng.normal(scale=0.8, size=1500)) > 1.0).astype(np.int64)
    monotone = [1, 1, 0, 0, 0, 0]
    pool = fit_candidates(X[:1000], y[:1000], X[1000:], y[1000:], monotone, seed=0)
    candidates_module.predict_holdout(pool, X[1000:])
    return choose(pool)[0], {name: c.predict_rows_per_s for name, c in pool.items()}


def test_the_choice_does_not_depend_on_the_timer(monkeypatch: pytest.MonkeyPatch) -> None:
    chosen_fast_clock, speeds_a = _fit_with_clock(0.001, monkeypatch)
    chosen_slow_clock, speeds_b = _fit_with_clock(7.0, monkeypatch)
    assert speeds_a != speeds_b  # the timings really differed between the two runs
    assert chosen_fast_clock == chosen_slow_clock
