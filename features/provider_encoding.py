"""The billing provider as two numbers: its smoothed denial rate and how many claims it sent.

A practice's own history says a lot (its staff, its payers, its habits), but NPIs are too many for
one column each. Target encoding with smoothing gives each provider its denial rate shrunk towards
the overall rate by ``smoothing`` claims' worth of prior, so a provider with three claims is not
judged on them alone. In training (``out_of_fold``) each claim's own label is kept out of its
encoding, or the model would learn from a column that already contains the answer.

The fitted statistics live on the featurizer as ``provider_stats_`` ({npi: (claims, denials)}),
``provider_prior_`` and ``provider_target_fitted_`` (saved models carry these names).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from features.rules import _arrays as A


class ProviderStats(NamedTuple):
    stats: dict[Any, tuple[float, float]]  # NPI -> (claims, sum of labels)
    prior: float  # the overall label mean (0 without labels)
    fitted: bool  # were labels given?


def fit_stats(npi: np.ndarray, target: np.ndarray | None) -> ProviderStats:
    """Claims and label sums per NPI (one value per claim; claims without an NPI are not kept)."""
    codes, uniques = A.factorize(npi)
    counts = np.bincount(codes, minlength=len(uniques)).astype(np.float64)
    sums: np.ndarray
    if target is not None:
        sums = np.bincount(codes, weights=target, minlength=len(uniques))
        prior = float(target.mean()) if npi.shape[0] else 0.0
    else:
        sums, prior = np.zeros(len(uniques)), 0.0
    stats = {u: (float(counts[i]), float(sums[i])) for i, u in enumerate(uniques) if u is not None}
    return ProviderStats(stats=stats, prior=prior, fitted=target is not None)


def encode(npi: np.ndarray, fitted: ProviderStats, smoothing: float) -> tuple[np.ndarray, np.ndarray]:
    """Per claim: (smoothed target encoding, log1p of the provider's claim count), computed once
    per distinct NPI; an NPI unseen in fit gets the prior and a count of 0."""
    codes, uniques = A.factorize(npi)
    m, prior = float(smoothing), fitted.prior
    encoded = np.empty((len(uniques), 2), dtype=np.float64)
    for k, value in enumerate(uniques):
        count, total_y = fitted.stats.get(value, (0.0, 0.0))
        target = (total_y + m * prior) / (count + m) if fitted.fitted else 0.0
        encoded[k] = (target, float(np.log1p(count)))
    return encoded[codes, 0], encoded[codes, 1]


def out_of_fold(npi: np.ndarray, target: np.ndarray, *, smoothing: float, prior: float, n_folds: int, seed: int) -> np.ndarray:
    """Per claim: the encoding from the other folds' claims of its provider (claims are dealt to
    ``n_folds`` random folds, at least 2), so no claim's own label reaches its feature."""
    n = npi.shape[0]
    codes, uniques = A.factorize(npi)
    k = max(2, int(n_folds))
    fold = np.random.default_rng(seed).integers(0, k, size=n)
    width = len(uniques)
    total_n = np.bincount(codes, minlength=width).astype(np.float64)
    total_s = np.bincount(codes, weights=target, minlength=width)
    flat = fold * width + codes
    fold_n = np.bincount(flat, minlength=k * width).astype(np.float64)
    fold_s = np.bincount(flat, weights=target, minlength=k * width)
    m = float(smoothing)
    count = total_n[codes] - fold_n[flat]
    enc = (total_s[codes] - fold_s[flat] + m * prior) / (count + m)
    none = np.asarray([u is None for u in uniques], dtype=bool)[codes] if width else np.zeros(n, dtype=bool)
    return np.where(none, prior, enc).astype(np.float32)
