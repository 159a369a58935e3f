"""Per-payer recent denial rates, from outcomes already known when a claim is submitted.

A payer that tightened its policy last month denies more now than its long-run rate says; the
claim's own fields cannot show that, the payer's recent answers can. The feature for a claim is
the payer's denial rate over the ``window_days`` of adjudications paid (CONTRACT §6 ``paid_date``)
strictly before the claim's submission date, shrunk towards the payer's rate over the whole
history when the window holds few claims, plus how many claims the window held.

No leakage by construction: an outcome counts only if it was paid before the submission, so
nothing known after submission reaches the feature (:func:`check_known_before_submission`
proves it on data). The history of outcomes is given at fit time and frozen in the fitted object:
serving uses the same frozen table, so a claim submitted after training sees the latest window
the model knew of.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

WINDOW_DAYS = 60
PRIOR_CLAIMS = 10.0  # shrinkage: a window of 10 claims weighs as much as the rate of everything paid before
NAMES = ("payer_recent_denial_rate", "payer_recent_log_claims")


@dataclass
class PayerOutcomeHistory:
    """Adjudicated claims per (payer, paid day) and per paid day, as cumulative counts, so that
    any "paid before day t" question is two binary searches."""

    payers: np.ndarray  # object: payer ids known to the history, sorted
    keys: np.ndarray  # int64, sorted: payer code * DAY_SPAN + paid day
    claims_cum: np.ndarray  # float64, claims before each key (prefix 0 first)
    denied_cum: np.ndarray
    days: np.ndarray  # int64, sorted paid days (all payers)
    day_claims_cum: np.ndarray
    day_denied_cum: np.ndarray
    window_days: int = WINDOW_DAYS

    @classmethod
    def of(
        cls, payer_id: np.ndarray, paid_date: np.ndarray, denied: np.ndarray, window_days: int = WINDOW_DAYS
    ) -> PayerOutcomeHistory:
        """From labelled claims: payer, when the answer came (NaT: unknown, left out), denied 0/1."""
        known = ~np.isnat(paid_date.astype("datetime64[D]"))
        payer = _text(payer_id)[known]
        day = paid_date.astype("datetime64[D]")[known].astype(np.int64) - _DAY_ZERO
        y = np.asarray(denied, dtype=np.float64)[known]
        payers, code = np.unique(payer, return_inverse=True)
        keys, inverse = np.unique(code.astype(np.int64) * _DAY_SPAN + day, return_inverse=True)
        days, day_inverse = np.unique(day, return_inverse=True)
        return cls(
            payers=payers.astype(object),
            keys=keys,
            claims_cum=_cumulative(inverse, None, keys.size),
            denied_cum=_cumulative(inverse, y, keys.size),
            days=days,
            day_claims_cum=_cumulative(day_inverse, None, days.size),
            day_denied_cum=_cumulative(day_inverse, y, days.size),
            window_days=window_days,
        )

    def features(self, payer_id: np.ndarray, submission_date: np.ndarray) -> np.ndarray:
        """(n, 2) float32: the recent denial rate and log1p(claims in the window), per claim.

        The window is the ``window_days`` before the submission date, or before the day after the
        latest known payment when the claim is later than the history (the freshest window known).
        The rate is shrunk towards the payer's rate over everything paid before that day (the
        overall rate for a payer with none); NaN when nothing at all was paid before it."""
        payer = _text(payer_id)
        if self.payers.size:
            code = np.minimum(np.searchsorted(self.payers, payer), self.payers.size - 1)
            known = self.payers[code] == payer
        else:
            code, known = np.zeros(payer.shape[0], dtype=np.int64), np.zeros(payer.shape[0], dtype=bool)
        last_day = int(self.days[-1]) + 1 if self.days.size else 0
        submitted = submission_date.astype("datetime64[D]")
        # a claim without a submission date knows nothing (day 0: before every payment)
        day = np.where(np.isnat(submitted), 0, np.minimum(submitted.astype(np.int64) - _DAY_ZERO, last_day))
        base = np.where(known, code, 0).astype(np.int64) * _DAY_SPAN
        first, hi, lo = (np.searchsorted(self.keys, base + d, side="left") for d in (0, day, day - self.window_days))
        claims = np.where(known, self.claims_cum[hi] - self.claims_cum[lo], 0.0)
        denied = np.where(known, self.denied_cum[hi] - self.denied_cum[lo], 0.0)
        payer_claims = np.where(known, self.claims_cum[hi] - self.claims_cum[first], 0.0)
        payer_denied = np.where(known, self.denied_cum[hi] - self.denied_cum[first], 0.0)
        g = np.searchsorted(self.days, day, side="left")
        with np.errstate(invalid="ignore", divide="ignore"):
            overall = self.day_denied_cum[g] / self.day_claims_cum[g]
            prior = np.where(payer_claims > 0, payer_denied / payer_claims, overall)
        rate = (denied + PRIOR_CLAIMS * prior) / (claims + PRIOR_CLAIMS)
        return np.column_stack([rate, np.log1p(claims)]).astype(np.float32)


def _cumulative(index: np.ndarray, weights: np.ndarray | None, size: int) -> np.ndarray:
    """Totals per sorted key as a prefix sum with a leading 0: ``cum[i]`` = total before key i."""
    totals = np.bincount(index, weights=weights, minlength=size).astype(np.float64)
    return np.concatenate([[0.0], np.cumsum(totals)])


# Days are counted from 1900-01-01 so that every key is non-negative; 200 years of days per payer.
_DAY_ZERO = int(np.datetime64("1900-01-01", "D").astype(np.int64))
_DAY_SPAN = 200 * 366


def _text(values: np.ndarray) -> np.ndarray:
    """Payer ids as comparable strings ("" for missing), without a Python loop over the claims."""
    values = np.asarray(values, dtype=object)
    return np.where(pd.isna(values), "", values).astype(str).astype(object)


def check_known_before_submission(
    payer_id: np.ndarray, paid_date: np.ndarray, denied: np.ndarray, submission_date: np.ndarray, seed: int = 0
) -> None:
    """Raise AssertionError when a claim's recency features change after flipping the outcomes
    of claims paid on or after its submission date (they were not known when it was sent)."""
    rng = np.random.default_rng(seed)
    history = PayerOutcomeHistory.of(payer_id, paid_date, denied)
    features = history.features(payer_id, submission_date)
    cut = submission_date.astype("datetime64[D]")[rng.integers(0, submission_date.shape[0])]
    later = ~np.isnat(paid_date) & (paid_date.astype("datetime64[D]") >= cut)
    flipped = np.where(later, 1 - np.asarray(denied), denied)
    changed = PayerOutcomeHistory.of(payer_id, paid_date, flipped).features(payer_id, submission_date)
    before = submission_date.astype("datetime64[D]") <= cut
    if not np.array_equal(features[before], changed[before], equal_nan=True):
        raise AssertionError("recency features of a claim depend on outcomes paid on or after its submission")


RULE_SUFFIX = "payer_recent_denial_rate"


@dataclass
class OutcomeHistory:
    """The frozen outcome history a fitted featurizer carries: per payer, and per payer and rule
    (claims that fired that rule at that payer), so that a payer that starts denying one problem
    shows it on exactly the claims that have the problem.

    The per-rule column is named ``rule:<RULE>:payer_recent_denial_rate`` and is 0 where the claim
    does not fire the rule: it belongs to that rule's columns (cleared when the problem is fixed,
    monotone increasing like the flag), so "what if this problem were fixed" stays meaningful."""

    payer: PayerOutcomeHistory
    payer_rule: PayerOutcomeHistory
    rule_ids: tuple[str, ...]  # the order of the ``flags`` columns

    @property
    def names(self) -> tuple[str, ...]:
        return (*NAMES, *(f"rule:{rule}:{RULE_SUFFIX}" for rule in self.rule_ids))

    @classmethod
    def of(
        cls,
        payer_id: np.ndarray,
        paid_date: np.ndarray,
        denied: np.ndarray,
        flags: np.ndarray,
        rule_ids: tuple[str, ...],
        window_days: int = WINDOW_DAYS,
    ) -> OutcomeHistory:
        """From labelled claims and their rule flags ((n, len(rule_ids)) bool)."""
        claim, rule = np.nonzero(flags)
        groups = _groups(payer_id[claim], rule, rule_ids)
        return cls(
            payer=PayerOutcomeHistory.of(payer_id, paid_date, denied, window_days),
            payer_rule=PayerOutcomeHistory.of(groups, paid_date[claim], np.asarray(denied)[claim], window_days),
            rule_ids=tuple(rule_ids),
        )

    def columns(self, payer_id: np.ndarray, submission_date: np.ndarray, flags: np.ndarray) -> np.ndarray:
        """(n, 2 + rules) float32: payer recent rate, log claims in its window, then per rule the
        recent denial rate at this payer of claims firing it (0 where the claim does not fire it)."""
        out = np.zeros((payer_id.shape[0], len(self.names)), dtype=np.float32)
        out[:, :2] = self.payer.features(payer_id, submission_date)
        claim, rule = np.nonzero(flags)
        if claim.size:
            groups = _groups(payer_id[claim], rule, self.rule_ids)
            out[claim, 2 + rule] = self.payer_rule.features(groups, submission_date[claim])[:, 0]
        return out


def _groups(payer_id: np.ndarray, rule: np.ndarray, rule_ids: tuple[str, ...]) -> np.ndarray:
    """"payer|RULE" keys for (claim, fired rule) pairs, built column-wise."""
    names = np.asarray(rule_ids, dtype=object)[rule]
    return (pd.Series(_text(payer_id)) + "|" + pd.Series(names, dtype=object)).to_numpy(dtype=object)
