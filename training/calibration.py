"""The classifier step of the saved pipeline: a fitted scorer plus an isotonic map to probabilities.

Calibration runs on the scorer's raw margin (log-odds for the boosters and logistic regression,
the rule count for the baseline) and is isotonic, hence non-decreasing: a booster constrained to
be monotone increasing in every rule flag stays so after calibration, so correcting a problem can
never raise a claim's risk.

Two prediction paths that must agree (a test checks it): ``predict_proba`` goes through each
estimator's public scikit-learn API; ``predict_fast`` calls the LightGBM booster's public
``Booster.predict`` (or the linear algebra) directly, because serving calls it per request with a
handful of rows and sklearn's per-call validation would cost more than the maths. Only public
LightGBM API is used: a private C handle breaks silently on a LightGBM upgrade.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sklearn
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.isotonic import IsotonicRegression

# Keep a little probability mass at the ends: "certainly paid" is never a safe statement.
PROBABILITY_FLOOR = 5e-4


class RuleCountScorer(BaseEstimator):
    """The rules-only baseline: the number of rule flags a claim fired, nothing learned."""

    def __init__(self, flag_columns: list[int] | None = None) -> None:
        self.flag_columns = flag_columns

    def fit(self, X: np.ndarray, y: np.ndarray | None = None) -> RuleCountScorer:
        self.n_features_in_ = X.shape[1]
        return self

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        columns = self.flag_columns or []
        if not columns:
            return np.zeros(X.shape[0])
        return np.nan_to_num(np.asarray(X)[:, columns], nan=0.0).sum(axis=1, dtype=np.float64)


def raw_score(estimator: Any, X: np.ndarray) -> np.ndarray:
    """The estimator's margin through its public scikit-learn API."""
    if type(estimator).__module__.startswith("lightgbm"):
        return np.asarray(estimator.predict(X, raw_score=True), dtype=np.float64)
    return np.asarray(estimator.decision_function(X), dtype=np.float64)


class CalibratedBooster(ClassifierMixin, BaseEstimator):
    """A pre-fitted scorer and an isotonic calibrator fitted on a (later, held-apart) slice."""

    def __init__(self, estimator: Any = None) -> None:
        self.estimator = estimator

    def fit(self, X: np.ndarray, y: np.ndarray) -> CalibratedBooster:
        """Fit only the calibrator on (X, y): the estimator must already be fitted on other data."""
        return self.fit_margins(raw_score(self.estimator, X), y, n_features=X.shape[1])

    def fit_margins(self, margin: np.ndarray, y: np.ndarray, *, n_features: int) -> CalibratedBooster:
        """Fit only the calibrator on margins computed elsewhere.

        The model refitted on every labelled claim has no later claims left to calibrate on, so it
        is calibrated on out-of-time margins pooled from time-ordered folds (each scored by a
        booster of the same procedure trained only on earlier claims): ``training.refit``."""
        iso = IsotonicRegression(out_of_bounds="clip", y_min=PROBABILITY_FLOOR, y_max=1.0 - PROBABILITY_FLOOR)
        iso.fit(np.asarray(margin, dtype=np.float64), np.asarray(y, dtype=np.float64))
        self.x_thresholds_ = np.asarray(iso.X_thresholds_, dtype=np.float64)
        self.y_thresholds_ = np.asarray(iso.y_thresholds_, dtype=np.float64)
        self.classes_ = np.array([0, 1])
        self.n_features_in_ = n_features
        return self

    def calibrate(self, margin: np.ndarray) -> np.ndarray:
        """Margin -> probability, exactly as IsotonicRegression.predict with out_of_bounds='clip'."""
        return np.interp(margin, self.x_thresholds_, self.y_thresholds_)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        p = self.calibrate(raw_score(self.estimator, X))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: np.ndarray) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(np.int64)

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Models saved while a single-row C-API predictor existed may name its cache slot (it was
        # never pickled with a value, but an old pickle could still carry the key): nothing of it
        # is needed now, so it is dropped and the model predicts through Booster.predict.
        state = dict(state)
        state.pop(_OLD_ROW_PREDICTOR, None)
        super().__setstate__(state)

    def predict_fast(self, X: np.ndarray) -> np.ndarray:
        """Calibrated P(deny) without sklearn's per-call overhead (same numbers as predict_proba).

        Serving calls this per request with a handful of rows: sklearn's input validation would
        cost more than the trees, so the LightGBM booster is called through its public
        ``Booster.predict`` (one thread for request-sized inputs; measured ~20 us for one row).
        """
        estimator = self.estimator
        if type(estimator).__module__.startswith("lightgbm"):
            margin = estimator.booster_.predict(X, raw_score=True, num_threads=_threads(X))
        elif isinstance(estimator, RuleCountScorer):
            margin = estimator.decision_function(X)
        else:
            with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
                margin = estimator.decision_function(X)
        return self.calibrate(np.asarray(margin, dtype=np.float64))


# The attribute under which the former single-row C-API fast path cached its C handle (never saved).
_OLD_ROW_PREDICTOR = "_row_predictor"


def _threads(X: np.ndarray) -> int:
    """One thread for request-sized inputs (thread start-up costs more than the trees); all for
    batches, unless this process was forked to predict on one core (:func:`predict_on_one_thread`)."""
    return 1 if X.shape[0] < 2048 else _BATCH_THREADS


_BATCH_THREADS = 0  # LightGBM's "all cores"


def predict_on_one_thread() -> None:
    """Predict batches on the calling thread only, for the rest of this process.

    For worker processes forked from one that already ran LightGBM (loading a model is enough):
    GNU OpenMP's thread pool does not survive ``fork``, and a multi-threaded predict in the child
    hangs for good. One thread per worker is also what a pool of one worker per core wants. The
    same holds for scikit-learn's HistGradientBoosting, which sizes its OpenMP regions from OpenMP's
    own limit: that limit is set to one here too."""
    from threadpoolctl import threadpool_limits

    global _BATCH_THREADS
    _BATCH_THREADS = 1
    threadpool_limits(limits=1, user_api="openmp")
