"""Recency in the fit: age-decayed sample weights, and the choice of their half-life.

Payers change their rules quarterly; a claim from two years ago tells less about next month's
denials than one from last month. Two answers live here: the recency columns (per-payer and
per-payer-and-rule recent denial rates from outcomes paid before each submission, see
``features.recency``), frozen in the featurizer, on by default: on two 120,000-claim histories
(train on the earliest 80 %) they lowered the backtest log-loss by 0.004 and the later claims' ECE
from 0.012-0.019 to 0.009-0.010, and a policy change late in the history is followed (the changed
payer's newly denied claims: mean risk 0.85 -> 0.97, truth 0.99); and age-decayed sample weights.
Down-weighting old claims trades variance (fewer effective
rows) for bias (an out-of-date payer), so whether it helps is measured, not assumed: every
candidate half-life is run through the same rolling backtest as the shipped procedure, and the
weights stay off unless one beats "off" by more than noise.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# Candidate half-lives in days (None = no decay, always tried first and kept on ties).
HALF_LIVES: tuple[float | None, ...] = (None, 365.0, 180.0)
# A half-life must beat "off" by this much backtest log-loss (mean over periods) to be used.
MIN_GAIN = 0.0005


def age_weights(submission_date: np.ndarray, half_life_days: float | None) -> np.ndarray | None:
    """0.5 ** (age / half-life), age in days before the latest claim of ``submission_date``;
    ``None`` (no weights) when there is no half-life."""
    if half_life_days is None or submission_date.size == 0:
        return None
    days = submission_date.astype("datetime64[D]").astype(np.int64)
    age = (days.max() - days).astype(np.float64)
    return np.exp2(-age / float(half_life_days))


def choose_half_life(log_loss: dict[float | None, float]) -> tuple[float | None, str]:
    """(half-life, why) from the backtest log-loss of each candidate: the lowest, when it beats
    ``None`` by at least MIN_GAIN; otherwise no decay."""
    base = log_loss.get(None, float("inf"))
    best = min((h for h in log_loss if h is not None), key=lambda h: log_loss[h], default=None)
    if best is not None and log_loss[best] < base - MIN_GAIN:
        return best, (
            f"half-life {best:g} days: backtest log-loss {log_loss[best]:.5f} vs {base:.5f} without decay"
        )
    shown = ", ".join(f"{'off' if h is None else f'{h:g} d'} {v:.5f}" for h, v in log_loss.items())
    return None, f"no decay: no half-life beat it by {MIN_GAIN} backtest log-loss ({shown})"


def add_recency_columns(featurizer: Any, X: np.ndarray, data: Any, reasons: Any = None) -> np.ndarray:
    """Freeze the labelled history in ``featurizer`` (``features.recency.OutcomeHistory``) and
    return ``X`` with its recency columns, computed exactly as the featurizer will at serving.

    ``reasons`` (``training.reasons.ReasonInputs``, optional): the 835's denial-reason families of
    each claim, for the per-rule reason rates. The history stands as of the day after the latest
    submission. A history without paid dates (``data.paid_date`` None) gets no recency columns."""
    from features.recency import OutcomeHistory, check_known_before_submission

    if data.paid_date is None:
        return X
    rule_ids = tuple(featurizer.rule_ids_)
    columns = featurizer.rule_columns
    flags = X[:, [columns[rule][0] for rule in rule_ids]] > 0
    rule_denied = _denied_for_rule(reasons, data.y, rule_ids)
    as_of = data.submission_date.max().astype("datetime64[D]") + np.timedelta64(1, "D")
    # The guard runs on every training: an outcome paid on or after a submission never counts. One
    # cut date here, three builds of the history instead of seven (with three cuts the guard took
    # 27 of the 49 s of featurizing 1M claims, profiled); the tests try three cuts on every column.
    check_known_before_submission(
        data.payer_id, data.paid_date, data.y, data.submission_date, flags=flags, rule_ids=rule_ids,
        rule_denied=rule_denied, as_of=as_of, cuts=1,
    )
    history = OutcomeHistory.of(
        data.payer_id, data.paid_date, data.y, flags, rule_ids, rule_denied=rule_denied, as_of=as_of
    )
    recency = history.columns(data.payer_id, data.submission_date, flags)
    featurizer.set_recency(history)
    return np.concatenate([X, recency], axis=1)


def _denied_for_rule(reasons: Any, y: np.ndarray, rule_ids: tuple[str, ...]) -> np.ndarray | None:
    """(claims, rules) bool: denied, with the rule's reason family among the claim's 835 codes;
    None without reason labels."""
    if reasons is None or getattr(reasons, "labels", None) is None:
        return None
    from features.denial_reasons import load_table

    table = load_table()
    family = np.asarray([table.rule_family(rule) for rule in rule_ids], dtype=np.int64)
    labels = np.asarray(reasons.labels, dtype=bool)
    return labels[:, family] & (np.asarray(y) == 1)[:, None]
