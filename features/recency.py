"""Per-payer recent denial rates, from outcomes already known when a claim is submitted.

A payer that tightened its policy last month denies more now than its long-run rate says; the
claim's own fields cannot show that, the payer's recent answers can. Per payer: the denial rate
over the ``window_days`` of adjudications paid (CONTRACT §6 ``paid_date``) strictly before the
claim's submission date, shrunk towards the payer's rate over the whole history when the window
holds few claims, plus how many claims the window held. Per payer and rule (``OutcomeHistory``):
the rate over the latest RULE_WINDOW_CLAIMS answers to the payer's claims on which that rule was
the one problem, and, given the 835's reason families, the rate of denials *for* that rule.

Why these windows (measured on 120,000-claim synthetic histories, issue 21): a span of 60 days
with a 10-claim prior at the payer's long-run rate held a handful of claims with a rare problem
and followed a policy change by a third of the way; and the claims where the rule is not alone
are denied for their other problems too, so a sloppy payer mix read as a strict payer and the
model could not transfer "this payer denies this problem" between payers.

No leakage by construction: an outcome counts only if it was paid before the submission, so
nothing known after submission reaches the feature (:func:`check_known_before_submission`
proves it on data, for every column). The history of outcomes is given at fit time and frozen in
the fitted object, as of the day after its latest submission: serving uses the same frozen table,
so a claim submitted after training reads the windows as they stood when the history ended.
"""

from __future__ import annotations

from collections.abc import Callable
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
    # > 0: the window is instead the latest ``window_claims`` adjudications (whole paid days) before
    # the submission, padded with the prior when fewer are known (see ``features``)
    window_claims: int = 0
    # > 0: the day (since 1900-01-01) the history stands as of; claims submitted later read the
    # window before it (0: the day after the latest payment, as before)
    as_of_day: int = 0

    @classmethod
    def of(
        cls,
        payer_id: np.ndarray,
        paid_date: np.ndarray,
        denied: np.ndarray,
        window_days: int = WINDOW_DAYS,
        window_claims: int = 0,
        as_of: np.datetime64 | None = None,
    ) -> PayerOutcomeHistory:
        """From labelled claims: payer, when the answer came (NaT: unknown, left out), denied 0/1."""
        known = ~np.isnat(paid_date.astype("datetime64[D]"))
        payer = _text(payer_id)[known]
        day = paid_date.astype("datetime64[D]")[known].astype(np.int64) - _DAY_ZERO
        y = np.asarray(denied, dtype=np.float64)[known]
        code, payers = pd.factorize(payer, sort=True)  # hashed, then only the distinct ids sorted
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
            window_claims=window_claims,
            as_of_day=0 if as_of is None else int(np.asarray(as_of, dtype="datetime64[D]").astype(np.int64)) - _DAY_ZERO,
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
        if self.as_of_day > 0:
            last_day = self.as_of_day
        submitted = submission_date.astype("datetime64[D]")
        # a claim without a submission date knows nothing (day 0: before every payment)
        day = np.where(np.isnat(submitted), 0, np.minimum(submitted.astype(np.int64) - _DAY_ZERO, last_day))
        base = np.where(known, code, 0).astype(np.int64) * _DAY_SPAN
        first, hi, lo = (np.searchsorted(self.keys, base + d, side="left") for d in (0, day, day - self.window_days))
        if self.window_claims > 0:  # the latest days holding window_claims adjudications, within the group
            last = np.searchsorted(self.claims_cum, self.claims_cum[hi] - self.window_claims, side="right") - 1
            lo = np.clip(last, first, hi)
        claims = np.where(known, self.claims_cum[hi] - self.claims_cum[lo], 0.0)
        denied = np.where(known, self.denied_cum[hi] - self.denied_cum[lo], 0.0)
        payer_claims = np.where(known, self.claims_cum[hi] - self.claims_cum[first], 0.0)
        payer_denied = np.where(known, self.denied_cum[hi] - self.denied_cum[first], 0.0)
        g = np.searchsorted(self.days, day, side="left")
        with np.errstate(invalid="ignore", divide="ignore"):
            overall = self.day_denied_cum[g] / self.day_claims_cum[g]
            prior = np.where(payer_claims > 0, payer_denied / payer_claims, overall)
        if self.window_claims > 0:  # pad a short window with the prior up to window_claims
            pad = np.maximum(self.window_claims - claims, 0.0)
            rate = (denied + pad * prior) / (claims + pad)
        else:
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
    payer_id: np.ndarray,
    paid_date: np.ndarray,
    denied: np.ndarray,
    submission_date: np.ndarray,
    seed: int = 0,
    *,
    flags: np.ndarray | None = None,
    rule_ids: tuple[str, ...] = (),
    rule_denied: np.ndarray | None = None,
    as_of: np.datetime64 | None = None,
    cuts: int = 3,
) -> None:
    """Raise AssertionError when a claim's recency columns depend on outcomes paid on or after its
    submission date (they were not known when it was sent): the per-payer columns, and with
    ``flags``/``rule_ids`` every column of ``OutcomeHistory`` built as training builds it.
    ``cuts``: how many random submission dates to test (each costs two builds of the history)."""
    outcome = np.asarray(denied)

    def build(paid: np.ndarray, flip: np.ndarray) -> np.ndarray:
        flipped = np.where(flip, 1 - outcome, outcome)
        if flags is None:
            return PayerOutcomeHistory.of(payer_id, paid, flipped, as_of=as_of).features(payer_id, submission_date)
        per_rule = None if rule_denied is None else np.where(flip[:, None], ~rule_denied, rule_denied)
        history = OutcomeHistory.of(payer_id, paid, flipped, flags, rule_ids, rule_denied=per_rule, as_of=as_of)
        return history.columns(payer_id, submission_date, flags)

    check_outcome_features(build, paid_date, submission_date, seed, cuts)


def check_outcome_features(
    build: Callable[[np.ndarray, np.ndarray], np.ndarray],
    paid_date: np.ndarray,
    submission_date: np.ndarray,
    seed: int = 0,
    cuts: int = 3,
) -> None:
    """The leakage guard of any outcome-history feature ``build(paid_date, flip) -> (n, k)``, where
    ``flip`` (bool per claim) says whose outcomes to turn over.

    At ``cuts`` random submission dates, the outcomes paid on or after the date are flipped, and
    then made unknown (no paid date): the features of every claim submitted up to that date must
    not move either way. Flipping catches a window that reads a later outcome, dropping one that
    counts later claims (a window "of the latest N" that reaches past the submission)."""
    rng = np.random.default_rng(seed)
    paid = paid_date.astype("datetime64[D]")
    submitted = submission_date.astype("datetime64[D]")
    none = np.zeros(paid.shape[0], dtype=bool)
    features = build(paid_date, none)
    for cut in submitted[rng.integers(0, submitted.shape[0], cuts)]:
        later = ~np.isnat(paid) & (paid >= cut)
        before = submitted <= cut
        flipped = build(paid_date, later)
        dropped = build(np.where(later, np.datetime64("NaT", "D"), paid), none)
        for changed in (flipped, dropped):
            if not np.array_equal(features[before], changed[before], equal_nan=True):
                raise AssertionError("recency features of a claim depend on outcomes paid on or after its submission")


RULE_SUFFIX = "payer_recent_denial_rate"
REASON_SUFFIX = "payer_recent_reason_rate"
# The per-rule window: the latest RULE_WINDOW_CLAIMS adjudications of the payer's claims with the
# problem (whole paid days), not a span of days: a payer with few such claims would otherwise read
# a window of three claims, shrunk to its long-run rate, and a change would show months late.
RULE_WINDOW_CLAIMS = 20
# The per-payer window stays a span of WINDOW_DAYS (0 here): every payer has hundreds of answers a month.
PAYER_WINDOW_CLAIMS = 0


@dataclass
class OutcomeHistory:
    """The frozen outcome history a fitted featurizer carries: per payer, and per payer and rule
    (claims that fired that rule at that payer), so that a payer that starts denying one problem
    shows it on exactly the claims that have the problem.

    The per-rule columns are named ``rule:<RULE>:payer_recent_denial_rate`` (and, with reason
    labels, ``rule:<RULE>:payer_recent_reason_rate``) and are 0 where the claim does not fire the
    rule: they belong to that rule's columns (cleared when the problem is fixed, monotone
    increasing like the flag), so "what if this problem were fixed" stays meaningful."""

    payer: PayerOutcomeHistory
    payer_rule: PayerOutcomeHistory
    rule_ids: tuple[str, ...]  # the order of the ``flags`` columns
    # the payer's recent rate of denying claims with the problem *for* it (None: no reason labels)
    payer_rule_reason: PayerOutcomeHistory | None = None

    @property
    def names(self) -> tuple[str, ...]:
        reason = () if self.payer_rule_reason is None else tuple(f"rule:{r}:{REASON_SUFFIX}" for r in self.rule_ids)
        return (*NAMES, *(f"rule:{rule}:{RULE_SUFFIX}" for rule in self.rule_ids), *reason)

    @classmethod
    def of(
        cls,
        payer_id: np.ndarray,
        paid_date: np.ndarray,
        denied: np.ndarray,
        flags: np.ndarray,
        rule_ids: tuple[str, ...],
        *,
        alone: bool = True,
        rule_denied: np.ndarray | None = None,
        as_of: np.datetime64 | None = None,
    ) -> OutcomeHistory:
        """From labelled claims and their rule flags ((n, len(rule_ids)) bool).

        ``alone``: a rule's denial rate counts only the claims on which it is the one problem. A
        claim with three problems is denied whatever the payer thinks of any one of them, so a
        payer whose flagged claims are often sloppy otherwise looks strict on every rule it sees:
        counting the claims where the rule stands alone gives the rate the same meaning at every
        payer (how often this payer denies this problem), which is what lets the model learn
        "this payer now denies this problem" from every payer that does.

        ``rule_denied`` ((n, len(rule_ids)) bool, optional): the claim was denied with the rule's
        reason family (CONTRACT §7) among its 835 codes; adds the per-rule reason rate over all
        the payer's claims with the problem.

        ``as_of``: the day the history stands as of (the day after the latest submission); claims
        submitted later read the windows before it. Without it, the day after the latest payment,
        which may lie months later in a sparse tail of late reversals."""
        claim, rule = np.nonzero(flags)
        groups = _groups(payer_id[claim], rule, rule_ids)
        pair_paid = paid_date[claim].astype("datetime64[D]")
        if alone:
            pair_paid = np.where(flags.sum(axis=1)[claim] == 1, pair_paid, np.datetime64("NaT", "D"))
        k = RULE_WINDOW_CLAIMS
        reason = None
        if rule_denied is not None:
            reason = PayerOutcomeHistory.of(groups, paid_date[claim], rule_denied[claim, rule], WINDOW_DAYS, k, as_of)
        return cls(
            payer=PayerOutcomeHistory.of(payer_id, paid_date, denied, WINDOW_DAYS, PAYER_WINDOW_CLAIMS, as_of),
            payer_rule=PayerOutcomeHistory.of(groups, pair_paid, np.asarray(denied)[claim], WINDOW_DAYS, k, as_of),
            rule_ids=tuple(rule_ids),
            payer_rule_reason=reason,
        )

    def columns(self, payer_id: np.ndarray, submission_date: np.ndarray, flags: np.ndarray) -> np.ndarray:
        """(n, len(names)) float32: payer recent rate, log claims in its window, then per rule the
        recent denial rate at this payer of claims firing it (0 where the claim does not fire it),
        then per rule the reason rate when there is one."""
        out = np.zeros((payer_id.shape[0], len(self.names)), dtype=np.float32)
        out[:, :2] = self.payer.features(payer_id, submission_date)
        claim, rule = np.nonzero(flags)
        if claim.size:
            groups = _groups(payer_id[claim], rule, self.rule_ids)
            out[claim, 2 + rule] = self.payer_rule.features(groups, submission_date[claim])[:, 0]
            if self.payer_rule_reason is not None:
                reason = self.payer_rule_reason.features(groups, submission_date[claim])[:, 0]
                out[claim, 2 + len(self.rule_ids) + rule] = reason
        return out


def _groups(payer_id: np.ndarray, rule: np.ndarray, rule_ids: tuple[str, ...]) -> np.ndarray:
    """"payer|RULE" keys for (claim, fired rule) pairs, built column-wise."""
    # object arrays add element by element in C: no pandas Series (its string dtype costs ~0.3 ms
    # per call, most of featurizing one claim at serving)
    names = np.asarray(rule_ids, dtype=object)[rule]
    keys: np.ndarray = _text(payer_id) + "|" + names
    return keys
