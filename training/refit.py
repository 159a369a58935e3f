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


def fit_procedure(
    procedure: Procedure,
    X: np.ndarray,
    y: np.ndarray,
    submission_date: np.ndarray,
    monotone: list[int],
    *,
    end: int | None = None,
    rows: np.ndarray | None = None,
) -> Any:
    """The procedure's booster fitted on rows ``[0, end)`` (default: all) of time-ordered ``X``,
    or on the given ``rows`` of that prefix (a sample, when candidates are compared cheaply).

    Weights, when the procedure has a half-life, decay with the claim's age at the end of that
    prefix: the latest claim weighs 1, one half-life older 0.5. Returns the fitted estimator
    (uncalibrated: calibration needs out-of-time margins, see ``training.backtest``)."""
    end = X.shape[0] if end is None else int(end)
    if rows is None:
        X_train, y_train, dates = X[:end], y[:end], submission_date[:end]
    else:
        X_train, y_train, dates = X[rows], y[rows], submission_date[rows]
    weights = age_weights(dates, procedure.half_life_days)
    rounds = procedure.rounds(X_train.shape[0])
    with threadpool_limits(limits=fit_threads()), bar(total=None, desc=f"fitting {rounds} rounds", unit="step"):
        if procedure.estimator == "lightgbm":
            model = lightgbm_estimator(rounds, monotone, procedure.seed)
            model.fit(X_train, y_train, sample_weight=weights)
        else:
            model = hist_gradient_boosting_estimator(rounds, monotone, procedure.seed, early_stopping=False)
            model.fit(X_train, y_train, sample_weight=weights)
    return model
