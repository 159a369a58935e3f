"""Per-payer recent denial rates: built only from outcomes paid before a claim's submission."""

from __future__ import annotations

import numpy as np
import pytest

from features.recency import PRIOR_CLAIMS, PayerOutcomeHistory, check_known_before_submission


def _history() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    n = 2_000
    submitted = np.datetime64("2025-01-01") + np.sort(rng.integers(0, 300, n)).astype("timedelta64[D]")
    paid = submitted + rng.integers(5, 60, n).astype("timedelta64[D]")
    payer = rng.choice(np.array(["A", "B", None], dtype=object), n)
    denied = (rng.random(n) < np.where(submitted > np.datetime64("2025-06-01"), 0.6, 0.1)).astype(np.int8)
    return payer, paid.astype("datetime64[D]"), denied, submitted.astype("datetime64[D]")


def test_rate_counts_only_outcomes_paid_in_the_window_before_submission() -> None:
    payer = np.array(["A"] * 4 + ["B"], dtype=object)
    paid = np.array(["2025-01-10", "2025-03-01", "2025-03-20", "2025-04-01", "2025-03-01"], dtype="datetime64[D]")
    denied = np.array([1, 1, 0, 1, 0])
    history = PayerOutcomeHistory.of(payer, paid, denied, window_days=30)
    query = history.features(np.array(["A", "A", "C"], dtype=object), np.array(["2025-03-21", "2025-04-01", "2025-03-21"], dtype="datetime64[D]"))
    # 2025-03-21: A's window (Feb 19 .. Mar 20) holds the Mar 1 denial and the Mar 20 payment,
    # shrunk to A's rate over everything paid before (2 of 3); the Apr 1 denial is not known yet
    assert query[0, 0] == pytest.approx((1 + PRIOR_CLAIMS * 2 / 3) / (2 + PRIOR_CLAIMS))
    assert query[0, 1] == pytest.approx(np.log1p(2))
    # 2025-04-01: the Mar 1 denial has left the window, the Apr 1 one is paid that day (not known)
    assert query[1, 1] == pytest.approx(np.log1p(1))
    # an unknown payer: the overall rate before its submission (2 of 4), no claims
    assert query[2, 0] == pytest.approx(2 / 4) and query[2, 1] == 0.0


def test_nothing_paid_on_or_after_submission_changes_a_claims_features() -> None:
    payer, paid, denied, submitted = _history()
    for seed in range(5):
        check_known_before_submission(payer, paid, denied, submitted, seed=seed)
    # the features do use what was known: flipping outcomes paid before a date moves later claims'
    features = PayerOutcomeHistory.of(payer, paid, denied).features(payer, submitted)
    cut = np.datetime64("2025-06-01")
    flipped = np.where(paid < cut, 1 - denied, denied)
    moved = PayerOutcomeHistory.of(payer, paid, flipped).features(payer, submitted)
    after = submitted > cut + np.timedelta64(30, "D")
    assert not np.allclose(features[after], moved[after], equal_nan=True)


def test_the_rate_follows_a_payer_that_starts_denying() -> None:
    payer, paid, denied, submitted = _history()
    features = PayerOutcomeHistory.of(payer, paid, denied).features(payer, submitted)
    early = submitted < np.datetime64("2025-04-01")
    late = submitted > np.datetime64("2025-09-01")
    assert np.nanmean(features[late, 0]) > np.nanmean(features[early, 0]) + 0.2
    assert np.isnan(features[submitted <= paid.min(), 0]).all()  # nothing was known yet
