"""Per-payer recent denial rates: built only from outcomes paid before a claim's submission."""

from __future__ import annotations

import numpy as np
import pytest

from features.recency import (
    PRIOR_CLAIMS,
    REASON_SUFFIX,
    OutcomeHistory,
    PayerOutcomeHistory,
    check_known_before_submission,
    check_outcome_features,
)


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


def test_a_claim_count_window_reads_the_latest_adjudications_padded_with_the_prior() -> None:
    # payer A: 6 outcomes on 6 days, the first three paid, the last three denied
    paid = np.array([f"2025-03-0{d}" for d in range(1, 7)], dtype="datetime64[D]")
    history = PayerOutcomeHistory.of(np.array(["A"] * 6, dtype=object), paid, np.array([0, 0, 0, 1, 1, 1]), window_claims=3)
    query = history.features(np.array(["A"] * 3, dtype=object), np.array(["2025-03-07", "2025-03-06", "2025-03-03"], dtype="datetime64[D]"))
    assert query[0, 0] == pytest.approx(1.0)  # the latest three: all denied, whatever the days
    assert query[1, 0] == pytest.approx(2 / 3)  # on the 6th, the 6th is not known yet
    # on the 3rd only two are known: padded to three with the payer's rate before (0 of 2)
    assert query[2, 0] == pytest.approx(0.0) and query[2, 1] == pytest.approx(np.log1p(2))


def _flagged_history() -> tuple[np.ndarray, ...]:
    payer, paid, denied, submitted = _history()
    rng = np.random.default_rng(1)
    flags = rng.random((payer.shape[0], 3)) < 0.3
    for_rule = flags & (denied == 1)[:, None] & (rng.random(flags.shape) < 0.5)
    return payer, paid, denied, submitted, flags, for_rule


def test_every_recency_column_passes_the_leakage_guard() -> None:
    payer, paid, denied, submitted, flags, for_rule = _flagged_history()
    rules = ("R1", "R2", "R3")
    for seed in range(3):
        check_known_before_submission(payer, paid, denied, submitted, seed, flags=flags, rule_ids=rules)
        check_known_before_submission(
            payer, paid, denied, submitted, seed, flags=flags, rule_ids=rules, rule_denied=for_rule,
            as_of=submitted.max() + np.timedelta64(1, "D"),
        )


def test_the_guard_catches_a_column_that_reads_outcomes_paid_later() -> None:
    payer, paid, denied, submitted, flags, _ = _flagged_history()
    rules = ("R1", "R2", "R3")

    def leaky(paid_date: np.ndarray, flip: np.ndarray) -> np.ndarray:
        # pretends each answer was known 20 days before it was paid
        outcome = np.where(flip, 1 - denied, denied)
        early = paid_date - np.timedelta64(20, "D")
        return OutcomeHistory.of(payer, early, outcome, flags, rules).columns(payer, submitted, flags)

    with pytest.raises(AssertionError, match="paid on or after"):
        check_outcome_features(leaky, paid, submitted, seed=0)


def test_a_rules_rate_counts_the_claims_where_it_is_the_one_problem() -> None:
    """Two payers deny the problem equally often; one sees it mostly on claims with other problems
    too (denied anyway). Counting every flagged claim makes that payer look stricter on the rule;
    counting the claims where the rule stands alone does not."""
    rng = np.random.default_rng(3)
    n = 6_000
    payer = np.where(np.arange(n) % 2 == 0, "TIDY", "SLOPPY").astype(object)
    submitted = np.datetime64("2025-01-01") + np.sort(rng.integers(0, 300, n)).astype("timedelta64[D]")
    paid = (submitted + rng.integers(5, 40, n).astype("timedelta64[D]")).astype("datetime64[D]")
    rule = rng.random(n) < 0.5
    other = rng.random(n) < np.where(payer == "SLOPPY", 0.8, 0.1)  # another problem on the claim
    denied = (rule & (rng.random(n) < 0.4)) | (other & (rng.random(n) < 0.95))
    flags = np.column_stack([rule, other])
    late = rule & (submitted > np.datetime64("2025-06-01"))
    rates = {}
    for alone in (False, True):
        history = OutcomeHistory.of(payer, paid, denied.astype(np.int8), flags, ("R", "OTHER"), alone=alone)
        column = history.columns(payer, submitted.astype("datetime64[D]"), flags)[:, 2]
        rates[alone] = {p: float(np.mean(column[late & (payer == p)])) for p in ("TIDY", "SLOPPY")}
    assert rates[False]["SLOPPY"] > rates[False]["TIDY"] + 0.3, rates
    assert abs(rates[True]["SLOPPY"] - rates[True]["TIDY"]) < 0.1 and abs(rates[True]["TIDY"] - 0.4) < 0.1, rates
    assert (history.columns(payer, submitted, flags)[~rule, 2] == 0).all()  # 0 without the problem


def test_a_rules_reason_rate_counts_the_denials_for_that_rule() -> None:
    payer, paid, denied, submitted, flags, for_rule = _flagged_history()
    history = OutcomeHistory.of(payer, paid, denied, flags, ("R1", "R2", "R3"), rule_denied=for_rule)
    assert history.names[-3:] == tuple(f"rule:R{k}:{REASON_SUFFIX}" for k in (1, 2, 3))
    columns = history.columns(payer, submitted, flags)
    late = submitted > np.datetime64("2025-09-01")
    any_rate, reason_rate = columns[late, 2:5][flags[late]], columns[late, 5:8][flags[late]]
    # about half the denials of a flagged claim cite the rule's reason: its rate is about half
    assert np.nanmean(reason_rate) == pytest.approx(0.5 * np.nanmean(any_rate), abs=0.1)
