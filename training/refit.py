"""The procedure that ships: the chosen booster fitted on a whole (prefix of the) history.

The time split answers "how good is this kind of model on claims it has not seen"; it does not
give the model to serve. A model fitted on the earliest 72 % of the history never sees the latest
quarter, which is exactly where a payer's new policy shows first. So the chosen candidate is
refitted on every labelled claim, with the number of boosting rounds early stopping chose on the
fit slice, scaled to the larger data (there is no later slice left to stop on).

``Procedure`` is that recipe as data, and :func:`fit_procedure` applies it to the first ``end``
rows of a time-ordered feature matrix. The rolling backtest (``training.backtest``) applies the
same function to each prefix before a period, and a report that needs "a model of this history,
fitted the way training fits it" (the payer report) can call it as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from training.candidates import (
    MAX_ITERATIONS,
    fit_threads,
    hist_gradient_boosting_estimator,
    lightgbm_estimator,
    lightgbm_params,
)
from training.progress import bar
from training.recency import age_weights

# Rounds are scaled linearly with the rows (same learning rate, more data supports more trees), but
# never beyond this many: a tiny fit slice that stopped late must not blow up the refit's time.
MAX_REFIT_ROUNDS = 2 * MAX_ITERATIONS


@dataclass(frozen=True)
class Procedure:
    """How a booster is fitted on a history without a later slice to stop on."""

    estimator: str  # "lightgbm" | "hist_gradient_boosting"
    iterations: int  # rounds early stopping chose on the fit slice
    n_fit: int  # rows of that fit slice
    half_life_days: float | None = None  # age-decayed sample weights; None = every claim counts the same
    seed: int = 0

    def rounds(self, n_rows: int) -> int:
        """The early-stopped rounds scaled to ``n_rows`` (at least 1, at most MAX_REFIT_ROUNDS)."""
        scaled = round(self.iterations * n_rows / max(self.n_fit, 1))
        return int(min(max(scaled, 1), MAX_REFIT_ROUNDS))

    def with_half_life(self, half_life_days: float | None) -> Procedure:
        return Procedure(self.estimator, self.iterations, self.n_fit, half_life_days, self.seed)

    def describe(self) -> dict[str, Any]:
        return {
            "estimator": self.estimator,
            "iterations_at_fit_slice": self.iterations,
            "fit_slice_rows": self.n_fit,
            "half_life_days": self.half_life_days,
        }


def shared_rows(procedure: Procedure, X: np.ndarray, y: np.ndarray, monotone: list[int]) -> Any | None:
    """The whole history binned once as a LightGBM Dataset, for :func:`fit_procedure`'s ``shared``.

    Binning a 1M-claim matrix costs seconds; the backtest fits a booster on a prefix (or a sample of
    a prefix) per month and per half-life candidate, and each would bin its rows again. Subsets of
    one Dataset share its bins (found on a sample of the whole history, as the shipped booster's
    are) and copy only the binned rows. None for estimators other than LightGBM."""
    if procedure.estimator != "lightgbm":
        return None
    import lightgbm as lgb

    params = {**lightgbm_params(monotone, procedure.seed), "objective": "binary"}
    return lgb.Dataset(X, label=y, params=params, free_raw_data=True).construct()


def fit_procedure(
    procedure: Procedure,
    X: np.ndarray,
    y: np.ndarray,
    submission_date: np.ndarray,
    monotone: list[int],
    *,
    end: int | None = None,
    rows: np.ndarray | None = None,
    shared: Any = None,
) -> Any:
    """The procedure's booster fitted on rows ``[0, end)`` (default: all) of time-ordered ``X``,
    or on the given ``rows`` of that prefix (a sample, when candidates are compared cheaply).

    Weights, when the procedure has a half-life, decay with the claim's age at the end of that
    prefix: the latest claim weighs 1, one half-life older 0.5. Returns the fitted estimator
    (uncalibrated: calibration needs out-of-time margins, see ``training.backtest``). With
    ``shared`` (:func:`shared_rows` of the same X and y) a LightGBM fold trains on a subset of it
    with the same parameters and returns a ``lightgbm.Booster`` (it is never shipped: only its
    margins are used)."""
    end = X.shape[0] if end is None else int(end)
    index = np.arange(end) if rows is None else np.asarray(rows)
    weights = age_weights(submission_date[index], procedure.half_life_days)
    rounds = procedure.rounds(index.shape[0])
    with threadpool_limits(limits=fit_threads()), bar(total=None, desc=f"fitting {rounds} rounds", unit="step"):
        if shared is not None and procedure.estimator == "lightgbm":
            return _fit_on_subset(procedure, shared, index, weights, rounds, monotone)
        X_train, y_train = (X[:end], y[:end]) if rows is None else (X[index], y[index])
        if procedure.estimator == "lightgbm":
            model = lightgbm_estimator(rounds, monotone, procedure.seed)
            model.fit(X_train, y_train, sample_weight=weights)
        else:
            model = hist_gradient_boosting_estimator(rounds, monotone, procedure.seed, early_stopping=False)
            model.fit(X_train, y_train, sample_weight=weights)
    return model


def _fit_on_subset(
    procedure: Procedure, shared: Any, index: np.ndarray, weights: np.ndarray | None, rounds: int, monotone: list[int]
) -> Any:
    """``lightgbm.train`` on the ``index`` rows of the shared Dataset (labels come with the subset)."""
    import lightgbm as lgb

    params = {**lightgbm_params(monotone, procedure.seed), "objective": "binary"}
    subset = shared.subset(index, params=params).construct()
    if weights is not None:
        subset.set_weight(weights)
    return lgb.train(params, subset, num_boost_round=rounds)
