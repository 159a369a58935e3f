"""The model comparison: HistGradientBoosting vs LightGBM, with logistic regression and the
rule count as baselines, fitted on the same time-ordered slices.

Every candidate is fitted on the fit slice, stopped early and calibrated on the validation slice
(the END of the train period) and only then scored on the holdout. The boosters are constrained
monotone increasing in every rule-flag column. The winner is chosen on validation numbers, never
on the holdout, so the holdout metrics stay an honest estimate.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from training.calibration import CalibratedBooster, RuleCountScorer, raw_score
from training.progress import bar

BOOSTERS = ("lightgbm", "hist_gradient_boosting")
# Comparison of the slower candidates on at most this many (most recent) fit rows; the winner is
# then refitted on the whole fit slice, so the shipped and split models do not depend on it. The
# comparison costs the same at any history size above it, and HistGradientBoosting is most of it:
# at 100,000 rows it was 22.5 of the 60 CPU seconds of the 1M-claim fit step (LightGBM 3.2 s),
# and it lost to LightGBM on validation PR-AUC at 100k (0.8362 vs 0.8382, 1M history) and at 50k
# (0.8285 vs 0.8339, 200k history), where the choice, the split model and the holdout numbers
# stayed exactly the same; the 50k comparison costs half.
COMPARE_ROWS = int(os.environ.get("CLAIMRISK_COMPARE_ROWS", "50000"))
BASELINES = ("logistic_regression", "rule_count")
# Validation PR-AUC differences smaller than this are noise: the first of BOOSTERS wins the tie.
QUALITY_TIE = 0.002
MAX_ITERATIONS = 500
EARLY_STOPPING_ROUNDS = 30
# Small trees and small leaves: denials are close to additive in the flags, and several rules fire
# on few claims, so big minimum leaves hide them (measured on synthetic histories of 6k and 20k
# claims: min leaf 100 lost 0.10 holdout ROC-AUC at 6k; 7, 15 and 31 leaves were within 0.002 at 20k;
# 15 leaves need fewer trees than 7, and 500 trees cap the fit time on 1M-claim histories).
LEARNING_RATE = 0.1
LEAVES = 15
MIN_LEAF = 10


@dataclass
class Candidate:
    name: str
    classifier: CalibratedBooster
    fit_seconds: float
    n_fit_rows: int
    iterations: int | None
    validation: dict[str, float] = field(default_factory=dict)
    predict_rows_per_s: float = float("nan")

    def summary(self) -> dict[str, Any]:
        return {
            "fit_seconds": round(self.fit_seconds, 3),
            "n_fit_rows": self.n_fit_rows,
            "iterations": self.iterations,
            "predict_rows_per_s": round(self.predict_rows_per_s, 1),
            **{f"validation_{k}": v for k, v in self.validation.items()},
        }


def fit_threads() -> int:
    """Threads for fitting: every core, unless the machine is already busy.

    OpenMP threads spin at barriers; when another process holds a core, each barrier waits for a
    preempted thread and a 2-thread fit runs 10x slower than a 1-thread one (measured here: LightGBM
    73 s vs 6 s). ``CLAIMRISK_TRAIN_THREADS`` overrides the guess.
    """
    configured = os.environ.get("CLAIMRISK_TRAIN_THREADS")
    if configured:
        return max(1, int(configured))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = 0.0
    return 1 if load > cores + 0.5 else cores


def lightgbm_params(monotone: list[int], seed: int) -> dict[str, Any]:
    """The LightGBM candidate's parameters (scikit-learn names, which LightGBM's core also reads as
    aliases): one definition for ``LGBMClassifier`` (comparison, split model, shipped refit) and for
    ``lightgbm.train`` on a shared Dataset (the backtest folds, ``training.refit``), so a fold is
    fitted exactly as the shipped booster is."""
    return {
        "learning_rate": LEARNING_RATE,
        "num_leaves": LEAVES,
        "min_child_samples": MIN_LEAF,
        "colsample_bytree": 0.8,
        "subsample": 0.8,
        "subsample_freq": 1,
        "reg_lambda": 1.0,
        "monotone_constraints": monotone,
        "monotone_constraints_method": "intermediate",
        "n_jobs": fit_threads(),
        "random_state": seed,
        "verbose": -1,
    }


def lightgbm_estimator(rounds: int, monotone: list[int], seed: int) -> Any:
    """The LightGBM candidate, unfitted: one definition for the comparison, the backtest and the refit."""
    import lightgbm as lgb

    return lgb.LGBMClassifier(n_estimators=rounds, **lightgbm_params(monotone, seed))


def hist_gradient_boosting_estimator(rounds: int, monotone: list[int], seed: int, *, early_stopping: bool) -> Any:
    """The HistGradientBoosting candidate, unfitted (early stopping only in the comparison)."""
    return HistGradientBoostingClassifier(
        max_iter=rounds,
        learning_rate=LEARNING_RATE,
        max_leaf_nodes=LEAVES,
        min_samples_leaf=MIN_LEAF,
        max_features=0.8,
        l2_regularization=1.0,
        monotonic_cst=monotone,
        early_stopping=early_stopping,
        n_iter_no_change=EARLY_STOPPING_ROUNDS,
        scoring="loss",
        random_state=seed,
    )


def fit_lightgbm(
    X: np.ndarray, y: np.ndarray, X_val: np.ndarray, y_val: np.ndarray, monotone: list[int], seed: int = 0
) -> tuple[Any, int]:
    import lightgbm as lgb

    model = lightgbm_estimator(MAX_ITERATIONS, monotone, seed)
    with bar(total=MAX_ITERATIONS, desc="fitting LightGBM", unit="tree") as progress:

        def tick(_env: Any) -> None:
            progress.update(1)

        model.fit(
            X,
            y,
            eval_X=(X_val,),
            eval_y=(y_val,),
            eval_metric="binary_logloss",
            callbacks=[lgb.early_stopping(EARLY_STOPPING_ROUNDS, verbose=False), tick],
        )
    return model, int(model.best_iteration_ or model.n_estimators)


def fit_hist_gradient_boosting(
    X: np.ndarray, y: np.ndarray, X_val: np.ndarray, y_val: np.ndarray, monotone: list[int], seed: int = 0
) -> tuple[Any, int]:
    model = hist_gradient_boosting_estimator(MAX_ITERATIONS, monotone, seed, early_stopping=True)
    with bar(total=None, desc="fitting HistGradientBoosting", unit="step") as progress:
        model.fit(X, y, X_val=X_val, y_val=y_val)
        progress.update(1)
    return model, int(model.n_iter_)


def fit_logistic(X: np.ndarray, y: np.ndarray) -> Any:
    model = make_pipeline(
        SimpleImputer(strategy="constant", fill_value=0.0, keep_empty_features=True),
        StandardScaler(),
        LogisticRegression(max_iter=300, C=1.0),
    )
    return model.fit(X, y)


def _judged(
    name: str, estimator: Any, X_val: np.ndarray, y_val: np.ndarray, *, seconds: float, rows: int, iterations: int | None
) -> Candidate:
    """A fitted candidate, calibrated on the validation slice and scored there, from ONE margin
    computation (calibration and ranking read the same raw margins; a 1M-claim history's
    validation slice is 78k claims, so predicting it twice per candidate was pure waste)."""
    margin = raw_score(estimator, X_val)
    both = np.unique(y_val).size == 2
    return Candidate(
        name=name,
        classifier=CalibratedBooster(estimator).fit_margins(margin, y_val, n_features=X_val.shape[1]),
        fit_seconds=seconds,
        n_fit_rows=rows,
        iterations=iterations,
        # ranking quality from the raw margin (calibration cannot change it)
        validation={
            "roc_auc": float(roc_auc_score(y_val, margin)) if both else float("nan"),
            "pr_auc": float(average_precision_score(y_val, margin)) if both else float("nan"),
        },
    )


def _timed_predict(candidate: Candidate, X: np.ndarray) -> np.ndarray:
    started = time.perf_counter()
    p = candidate.classifier.predict_proba(X)[:, 1]
    elapsed = time.perf_counter() - started
    candidate.predict_rows_per_s = X.shape[0] / elapsed if elapsed > 0 else float("inf")
    return p


def fit_candidates(
    X_fit: np.ndarray,
    y_fit: np.ndarray,
    X_val: np.ndarray,
    y_val: np.ndarray,
    monotone: list[int],
    *,
    compare_rows: int | None = None,
    seed: int = 0,
) -> dict[str, Candidate]:
    """Fit and calibrate all four candidates. ``compare_rows`` keeps only the most recent rows of the
    fit slice for the comparison (the winner is refitted on the whole slice by ``refit``)."""
    if compare_rows is not None and X_fit.shape[0] > compare_rows:
        X_fit, y_fit = X_fit[-compare_rows:], y_fit[-compare_rows:]
    with threadpool_limits(limits=fit_threads()):
        return _fit_all(X_fit, y_fit, X_val, y_val, monotone, seed)


def _fit_all(
    X_fit: np.ndarray, y_fit: np.ndarray, X_val: np.ndarray, y_val: np.ndarray, monotone: list[int], seed: int
) -> dict[str, Candidate]:
    flags = [i for i, c in enumerate(monotone) if c > 0]
    rows = int(X_fit.shape[0])
    out: dict[str, Candidate] = {}
    fitters = {"lightgbm": fit_lightgbm, "hist_gradient_boosting": fit_hist_gradient_boosting}
    for name, fitter in fitters.items():
        started = time.perf_counter()
        estimator, iterations = fitter(X_fit, y_fit, X_val, y_val, monotone, seed)
        seconds = time.perf_counter() - started
        out[name] = _judged(name, estimator, X_val, y_val, seconds=seconds, rows=rows, iterations=iterations)
    started = time.perf_counter()
    logistic = fit_logistic(X_fit, y_fit)
    out["logistic_regression"] = _judged(
        "logistic_regression", logistic, X_val, y_val, seconds=time.perf_counter() - started, rows=rows, iterations=None
    )
    counter = RuleCountScorer(flags).fit(X_fit)
    out["rule_count"] = _judged("rule_count", counter, X_val, y_val, seconds=0.0, rows=rows, iterations=None)
    return out


def predict_holdout(candidates: dict[str, Candidate], X_holdout: np.ndarray) -> dict[str, np.ndarray]:
    """Calibrated holdout probabilities per candidate, timing each one's batch throughput."""
    return {name: _timed_predict(c, X_holdout) for name, c in candidates.items()}


def choose(candidates: dict[str, Candidate]) -> tuple[str, str]:
    """(winner, why): the booster with the better validation PR-AUC; within QUALITY_TIE, the first
    in ``BOOSTERS`` order.

    A tie is broken by that fixed order, never by measured speed: timings vary with whatever else
    the machine runs, and the same data and seed must give the same model on a busy or an idle
    machine. LightGBM comes first because its booster serves a request's few rows fastest through
    the public ``Booster.predict``. Timings are still reported, as information only.
    """
    a, b = (candidates[name] for name in BOOSTERS)
    qa, qb = a.validation["pr_auc"], b.validation["pr_auc"]
    if np.isnan(qa) or np.isnan(qb) or abs(qa - qb) < QUALITY_TIE:
        return a.name, (
            f"{a.name}: validation PR-AUC within {QUALITY_TIE} of {b.name} "
            f"({a.validation['pr_auc']:.4f} vs {b.validation['pr_auc']:.4f}), and ties go to the "
            f"fixed order {' > '.join(BOOSTERS)} (fit {a.fit_seconds:.1f} s vs {b.fit_seconds:.1f} s, "
            "for information)"
        )
    better, other = (a, b) if qa > qb else (b, a)
    return better.name, (
        f"{better.name}: higher validation PR-AUC ({better.validation['pr_auc']:.4f} vs "
        f"{other.validation['pr_auc']:.4f} for {other.name}); fit {better.fit_seconds:.1f} s vs "
        f"{other.fit_seconds:.1f} s, predict {better.predict_rows_per_s:,.0f} vs {other.predict_rows_per_s:,.0f} rows/s"
    )


def refit(
    name: str,
    X_fit: np.ndarray,
    y_fit: np.ndarray,
    X_val: np.ndarray,
    y_val: np.ndarray,
    monotone: list[int],
    seed: int = 0,
) -> Candidate:
    """Fit the chosen booster on the whole fit slice (after a subsampled comparison)."""
    fitter = fit_lightgbm if name == "lightgbm" else fit_hist_gradient_boosting
    started = time.perf_counter()
    with threadpool_limits(limits=fit_threads()):
        estimator, iterations = fitter(X_fit, y_fit, X_val, y_val, monotone, seed)
    seconds = time.perf_counter() - started
    return _judged(name, estimator, X_val, y_val, seconds=seconds, rows=int(X_fit.shape[0]), iterations=iterations)


def importances(classifier: CalibratedBooster, X: np.ndarray, y: np.ndarray, seed: int = 0) -> np.ndarray:
    """Share of importance per feature: LightGBM's total gain, else permutation importance on at
    most 3,000 claims (HistGradientBoosting has no gain importance)."""
    estimator = classifier.estimator
    if type(estimator).__module__.startswith("lightgbm"):
        gain = np.asarray(estimator.booster_.feature_importance(importance_type="gain"), dtype=np.float64)
    else:
        from sklearn.inspection import permutation_importance

        rng = np.random.default_rng(seed)
        rows = rng.choice(X.shape[0], size=min(3000, X.shape[0]), replace=False)
        result = permutation_importance(
            classifier, X[rows], y[rows], scoring="neg_brier_score", n_repeats=2, random_state=seed
        )
        gain = np.clip(np.asarray(result.importances_mean, dtype=np.float64), 0.0, None)
    total = gain.sum()
    return gain / total if total > 0 else gain
