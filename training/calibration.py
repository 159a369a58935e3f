"""The classifier step of the saved pipeline: a fitted scorer plus an isotonic map to probabilities.

Calibration runs on the scorer's raw margin (log-odds for the boosters and logistic regression,
the rule count for the baseline) and is isotonic, hence non-decreasing: a booster constrained to
be monotone increasing in every rule flag stays so after calibration, so correcting a problem can
never raise a claim's risk.

Two prediction paths that must agree (a test checks it): ``predict_proba`` goes through each
estimator's public scikit-learn API; ``predict_fast`` calls the LightGBM booster (or the linear
algebra) directly, because serving calls it per request with a handful of rows and sklearn's
per-call validation would cost more than the maths. For request-sized inputs (up to
``SINGLE_ROW_MAX`` rows) it goes one step further and uses LightGBM's single-row C API
(``_SingleRowPredictor``): ``Booster.predict`` builds a predictor and parses its parameters on
every call, which costs more than walking the trees for one claim.
"""

from __future__ import annotations

import ctypes
import threading
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
        margin = raw_score(self.estimator, X)
        iso = IsotonicRegression(out_of_bounds="clip", y_min=PROBABILITY_FLOOR, y_max=1.0 - PROBABILITY_FLOOR)
        iso.fit(margin, np.asarray(y, dtype=np.float64))
        self.x_thresholds_ = np.asarray(iso.X_thresholds_, dtype=np.float64)
        self.y_thresholds_ = np.asarray(iso.y_thresholds_, dtype=np.float64)
        self.classes_ = np.array([0, 1])
        self.n_features_in_ = X.shape[1]
        return self

    def calibrate(self, margin: np.ndarray) -> np.ndarray:
        """Margin -> probability, exactly as IsotonicRegression.predict with out_of_bounds='clip'."""
        return np.interp(margin, self.x_thresholds_, self.y_thresholds_)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        p = self.calibrate(raw_score(self.estimator, X))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: np.ndarray) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(np.int64)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())
        state.pop(_ROW_PREDICTOR, None)  # a C handle bound to this process's booster; never saved
        return state

    def predict_fast(self, X: np.ndarray) -> np.ndarray:
        """Calibrated P(deny) without sklearn's per-call overhead (same numbers as predict_proba)."""
        estimator = self.estimator
        if type(estimator).__module__.startswith("lightgbm"):
            booster = estimator.booster_
            rows = _single_row_predictor(self, booster) if X.shape[0] <= SINGLE_ROW_MAX else None
            if rows is not None and rows.accepts(X):
                margin = rows.predict(X)
            else:
                margin = booster.predict(X, raw_score=True, num_threads=_threads(X))
        elif isinstance(estimator, RuleCountScorer):
            margin = estimator.decision_function(X)
        else:
            with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
                margin = estimator.decision_function(X)
        return self.calibrate(np.asarray(margin, dtype=np.float64))


# Inputs of at most this many rows (one claim and its risk_if_fixed variants) take LightGBM's
# single-row path, one C call per row; larger ones one ``Booster.predict`` (threads for batches).
SINGLE_ROW_MAX = 32
_ROW_PREDICTOR = "_row_predictor"  # instance attribute holding the cached _SingleRowPredictor


class _SingleRowPredictor:
    """Raw scores through ``LGBM_BoosterPredictForMatSingleRowFast`` for one LightGBM booster.

    The fast config is set up once (``...FastInit``, with ``Booster.predict``'s defaults: all
    iterations up to ``best_iteration``, no early stopping, no thread setting) instead of on every
    call; each row is then one C call that walks the trees exactly as ``Booster.predict`` does, so
    the margins are identical (a test checks it). It reaches into ``lightgbm.basic`` for the
    library handle; if that ever fails, ``predict_fast`` falls back to ``Booster.predict``.

    LightGBM keeps the iteration range to predict with in the booster itself, set by each predict
    call: this relies on every prediction of a served model using the defaults (as all of this
    code does); a ``Booster.predict`` with another ``num_iteration`` would change what it returns.
    """

    def __init__(self, booster: Any) -> None:
        from lightgbm import basic

        self.booster = booster  # keeps the C booster alive while the fast config points at it
        self.handle = booster._handle.value
        self.iteration = int(booster.best_iteration)
        self.n_features = int(booster.num_feature())
        self._safe_call = basic._safe_call
        self._free = basic._LIB.LGBM_FastConfigFree
        config = ctypes.c_void_p()
        basic._safe_call(
            basic._LIB.LGBM_BoosterPredictForMatSingleRowFastInit(
                booster._handle,
                ctypes.c_int(basic._C_API_PREDICT_RAW_SCORE),
                ctypes.c_int(0),  # start_iteration
                ctypes.c_int(self.iteration),  # as Booster.predict(num_iteration=None)
                ctypes.c_int(basic._C_API_DTYPE_FLOAT32),
                ctypes.c_int32(self.n_features),
                basic._c_str(""),
                ctypes.byref(config),
            )
        )
        self.config = config
        # A private prototype (not the library's shared function object) taking plain addresses.
        prototype = ctypes.CFUNCTYPE(
            ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p
        )
        self._predict_row = prototype(("LGBM_BoosterPredictForMatSingleRowFast", basic._LIB))
        self._out_len = ctypes.c_int64(0)
        self._out_len_address = ctypes.addressof(self._out_len)
        # The fast config holds one row buffer: threads sharing a model (a pyfunc served by
        # threads, Spark) take turns. Uncontended, the lock costs well under a microsecond.
        self._lock = threading.Lock()

    def __del__(self) -> None:
        config = getattr(self, "config", None)
        if config is not None and config.value:
            try:
                self._free(config)
            except Exception:  # interpreter shutdown: the library may already be gone
                pass
            config.value = None

    def fits(self, booster: Any) -> bool:
        return (
            self.booster is booster
            and booster._handle.value == self.handle
            and booster.best_iteration == self.iteration
        )

    def accepts(self, X: np.ndarray) -> bool:
        """float32 rows of the booster's width (what ``RiskModel`` passes); anything else goes
        to ``Booster.predict``, which also reads float64 exactly and words the errors."""
        return X.dtype == np.float32 and X.ndim == 2 and X.shape[1] == self.n_features

    def predict(self, X: np.ndarray) -> np.ndarray:
        # float32 already (``accepts``): a copy only for a multi-row Fortran-order view
        X = np.ascontiguousarray(X, dtype=np.float32)
        n = X.shape[0]
        out = np.empty(n, dtype=np.float64)
        if n:
            row, stride = X.ctypes.data, X.strides[0]
            result = out.ctypes.data
            config, out_len, predict_row = self.config.value, self._out_len_address, self._predict_row
            with self._lock:
                for _ in range(n):
                    self._safe_call(predict_row(config, row, out_len, result))
                    row += stride
                    result += 8
        return out


def _single_row_predictor(model: CalibratedBooster, booster: Any) -> _SingleRowPredictor | None:
    """The model's cached single-row predictor for ``booster``; None when it cannot be built."""
    cached = model.__dict__.get(_ROW_PREDICTOR)
    if cached is False:
        return None
    if cached is None or not cached.fits(booster):
        try:
            cached = _SingleRowPredictor(booster)
        except Exception:  # a LightGBM without this C API or layout: Booster.predict still works
            model.__dict__[_ROW_PREDICTOR] = False
            return None
        model.__dict__[_ROW_PREDICTOR] = cached
    return cached  # type: ignore[no-any-return]


def _threads(X: np.ndarray) -> int:
    """One thread for request-sized inputs (thread start-up costs more than the trees); all for
    batches, unless this process was forked to predict on one core (:func:`predict_on_one_thread`)."""
    return 1 if X.shape[0] < 2048 else _BATCH_THREADS


_BATCH_THREADS = 0  # LightGBM's "all cores"


def predict_on_one_thread() -> None:
    """Predict batches on the calling thread only, for the rest of this process.

    For worker processes forked from one that already ran LightGBM (loading a model is enough):
    GNU OpenMP's thread pool does not survive ``fork``, and a multi-threaded predict in the child
    hangs for good. One thread per worker is also what a pool of one worker per core wants."""
    global _BATCH_THREADS
    _BATCH_THREADS = 1
