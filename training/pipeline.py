"""Fit, compare and evaluate: from labelled, time-ordered claims to a RiskModel and its numbers.

Kept apart from MLflow (``registry``) so it can be tested and benchmarked on its own.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.pipeline import Pipeline

from training.backtest import DEFAULT_FOLDS, History
from training.candidates import (
    BOOSTERS,
    COMPARE_ROWS,
    Candidate,
    choose,
    fit_candidates,
    importances,
    predict_holdout,
    refit,
)
from training.dataset import TrainingData
from training.drift import window_reference
from training.frames import featurize, slice_claims
from training.leakage import assert_no_leakage
from training.metrics import evaluate, gap, per_payer
from training.model_card import METRIC_LABELS
from training.operating_point import choose_threshold, realized
from training.progress import bar, note
from training.recency import add_recency_columns
from training.risk_model import RiskModel
from training.shipping import Shipped, ship
from training.split import TimeSplit, time_split

MODEL = "model"
ORACLE = "oracle"


@dataclass
class TrainResult:
    data: TrainingData
    split: TimeSplit
    model: RiskModel
    chosen: str
    choice_reason: str
    candidates: dict[str, dict[str, Any]]
    holdout: dict[str, dict[str, float]]  # scorer -> metrics ("model", baselines, other booster, "oracle")
    holdout_scores: dict[str, np.ndarray]  # scorer -> holdout probabilities
    per_payer: dict[str, dict[str, dict[str, float]]]  # scorer -> payer -> metrics
    operating_point: dict[str, Any]
    oracle_gap: dict[str, float] | None
    feature_names: list[str]
    feature_importances: np.ndarray
    timings: dict[str, float] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    shipped: Shipped | None = None  # the refit on every claim, its backtest and half-life choice

    @property
    def holdout_frame(self) -> Any:
        return slice_claims(self.data.frame, int(self.split.holdout[0]), int(self.split.holdout[-1]) + 1)

    def report(self) -> str:
        """The metric table printed at the end of ``claimrisk train``."""
        names = [MODEL, *[n for n in self.holdout if n not in (MODEL, ORACLE)]]
        if ORACLE in self.holdout:
            names += [ORACLE, "gap to oracle"]
        cols = {n: self.holdout.get(n, self.oracle_gap or {}) for n in names}
        width = max(12, *(len(n) + 2 for n in names))
        header = f"{'metric':<24}" + "".join(f"{n:>{width}}" for n in names)
        lines = [
            f"holdout: {int(self.holdout[MODEL]['n'])} latest claims "
            f"(denial rate {self.holdout[MODEL]['denial_rate']:.3f}); model = {self.chosen}",
            header,
            "-" * len(header),
        ]
        for key, label in METRIC_LABELS.items():
            values = "".join(f"{_fmt(cols[n].get(key)):>{width}}" for n in names)
            lines.append(f"{label:<24}{values}")
        op = self.operating_point
        lines.append(
            f"operating point: threshold {op['threshold']:.4f} ({op['rule']}); holdout precision "
            f"{_fmt(op.get('holdout_precision'))}, recall {_fmt(op.get('holdout_recall'))}, "
            f"flags {_fmt(op.get('holdout_review_share'))} of claims"
        )
        lines.append(f"chosen: {self.choice_reason}")
        lines.extend(self._shipped_lines())
        if self.model.metadata.get("reasons"):
            from training.reason_metrics import reason_table

            lines.append(reason_table(self.model.metadata["reasons"]))
        return "\n".join(lines)

    def _shipped_lines(self) -> list[str]:
        """The backtest table and what the shipped (refitted) model is."""
        shipped = self.shipped
        if shipped is None:
            return []
        window = self.model.metadata.get("training_window", {})
        lines = [
            f"shipped model: {shipped.procedure.estimator} refitted on all {shipped.rows} labelled claims "
            f"({window.get('from')} .. {window.get('to')}), {shipped.procedure.rounds(shipped.rows)} rounds; "
            f"threshold {shipped.operating_point['threshold']:.4f}; {shipped.half_life_reason}",
        ]
        if shipped.backtest is not None and shipped.backtest.periods:
            lines += ["backtest (each month scored by the procedure fitted on every claim before it):"]
            lines += [shipped.backtest.table()]
        else:
            lines += ["backtest: no month after the validation slice starts (history too short)"]
        return lines


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "n/a"
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _featurizer() -> Any:
    from features.transformer import ClaimFeaturizer

    return ClaimFeaturizer()


def fit_and_evaluate(data: TrainingData, **kwargs: Any) -> TrainResult:
    """Featurize, fit and compare the candidates, choose, calibrate, set the operating point and
    evaluate on the holdout. OpenMP/BLAS threads are capped for the whole step (see fit_threads)."""
    from threadpoolctl import threadpool_limits

    from training.candidates import fit_threads

    with threadpool_limits(limits=fit_threads()):
        return _fit_and_evaluate(data, **kwargs)


@dataclass
class _Choice:
    """The compared candidates, their holdout scores, and the refitted winner."""

    candidates: dict[str, Candidate]
    scores: dict[str, np.ndarray]
    chosen: str
    reason: str
    winner: Candidate
    subsampled: bool


def _featurize_all(
    data: TrainingData, fit_end: int, timings: dict[str, float], recency: bool = False, reasons: Any = None
) -> tuple[Any, np.ndarray]:
    """(fitted featurizer, X of every claim). The fit slice gets out-of-fold encodings (no claim
    sees its own label); the later slices are transformed with what the fit slice taught."""
    tick = time.perf_counter()
    featurizer = _featurizer()
    with bar(total=None, desc="featurizing the fit slice", unit="step"):
        X_fit_part = np.asarray(
            featurizer.fit_transform(slice_claims(data.frame, 0, fit_end), data.y[:fit_end]), dtype=np.float32
        )
    X = np.concatenate([X_fit_part, featurize(featurizer, slice_claims(data.frame, fit_end, len(data)))])
    del X_fit_part
    if recency:
        X = add_recency_columns(featurizer, X, data, reasons)
    assert_no_leakage(featurizer, data.frame)
    timings["featurize_s"] = time.perf_counter() - tick
    return featurizer, X


def _fit_and_choose(
    X: np.ndarray, y: np.ndarray, split: TimeSplit, monotone: list[int], compare_rows: int, seed: int
) -> _Choice:
    """Fit every candidate on the (latest ``compare_rows`` of the) fit slice, choose on validation
    numbers, and refit the winner on the whole fit slice when the comparison was subsampled."""
    # views, not copies: the slices are contiguous, and a 1M-claim fit slice is half a gigabyte
    X_fit, y_fit = X[_span(split.fit)], y[split.fit]
    X_val, y_val = X[_span(split.validation)], y[split.validation]
    X_hold = X[_span(split.holdout)]
    note(
        f"fitting candidates on {len(split.fit)} claims (validation {len(split.validation)}, holdout {len(split.holdout)})"
    )
    candidates = fit_candidates(X_fit, y_fit, X_val, y_val, monotone, compare_rows=compare_rows, seed=seed)
    scores = predict_holdout(candidates, X_hold)
    chosen, reason = choose(candidates)
    winner: Candidate = candidates[chosen]
    subsampled = X_fit.shape[0] > compare_rows
    if subsampled:
        reason += f" (compared on the latest {compare_rows} fit claims; refitted on all {X_fit.shape[0]})"
        winner = refit(chosen, X_fit, y_fit, X_val, y_val, monotone, seed)
        scores[chosen] = winner.classifier.predict_proba(X_hold)[:, 1]
        winner.predict_rows_per_s = candidates[chosen].predict_rows_per_s
        candidates[chosen] = winner
    return _Choice(candidates, scores, chosen, reason, winner, subsampled)


def _span(index: np.ndarray) -> slice | np.ndarray:
    """A slice for a contiguous, increasing index range (every ``time_split`` slice is one), so
    indexing gives a view; any other index array as it is."""
    if index.size and int(index[-1]) - int(index[0]) + 1 == index.size and bool(np.all(np.diff(index) == 1)):
        return slice(int(index[0]), int(index[-1]) + 1)
    return index


def _operating_point(
    choice: _Choice, X: np.ndarray, y: np.ndarray, split: TimeSplit, target_precision: float
) -> dict[str, Any]:
    """The threshold chosen on the validation slice, and what it realises on the holdout."""
    p_val = choice.winner.classifier.predict_proba(X[_span(split.validation)])[:, 1]
    op = choose_threshold(y[split.validation], p_val, target_precision)
    held = realized(y[split.holdout], choice.scores[choice.chosen], op["threshold"])
    op.update({f"holdout_{k}": v for k, v in held.items()})
    return op


@dataclass
class _Evaluation:
    scores: dict[str, np.ndarray]
    metrics: dict[str, dict[str, float]]
    per_payer: dict[str, dict[str, dict[str, float]]]
    oracle_gap: dict[str, float] | None


def _evaluate_holdout(
    data: TrainingData, split: TimeSplit, choice: _Choice, truth: np.ndarray | None
) -> _Evaluation:
    """Holdout metrics of the model, the other booster, the baselines and (given) the oracle."""
    y_hold = data.y[split.holdout]
    charge = data.total_charge[split.holdout]
    dollars = data.denied_dollars[split.holdout]
    scores: dict[str, np.ndarray] = {MODEL: choice.scores[choice.chosen]}
    for name in [b for b in BOOSTERS if b != choice.chosen] + ["logistic_regression", "rule_count"]:
        scores[name] = choice.scores[name]
    if truth is not None:
        oracle = truth[split.holdout]
        if np.isnan(oracle).any():
            note(f"truth file lacks {int(np.isnan(oracle).sum())} holdout claims: oracle left out")
        else:
            scores[ORACLE] = oracle
    metrics = {name: evaluate(y_hold, p, charge, dollars) for name, p in scores.items()}
    oracle_gap = gap(metrics[MODEL], metrics[ORACLE]) if ORACLE in metrics else None
    payers = {
        name: per_payer(y_hold, scores[name], charge, dollars, data.payer_id[split.holdout])
        for name in (MODEL, "rule_count", ORACLE)
        if name in scores
    }
    return _Evaluation(scores, metrics, payers, oracle_gap)


def _model_metadata(
    data: TrainingData,
    split: TimeSplit,
    choice: _Choice,
    evaluation: _Evaluation,
    op: dict[str, Any],
    holdout_fraction: float,
    names: list[str],
    shipped: Shipped,
) -> dict[str, Any]:
    """What travels inside the saved model for an analyst (and /v1/model) to judge it by.

    ``metrics`` are the split model's holdout numbers (the honest report); the model itself is the
    refit on every labelled claim (``training_window``, ``refit``), judged month by month by
    ``backtest``. ``operating_point`` is the shipped threshold; ``split_operating_point`` the
    split model's, with what it realised on the holdout."""
    holdout = evaluation.metrics
    return {
        "trained_at": utc_now(),
        "estimator": choice.chosen,
        "choice_reason": choice.reason,
        "metrics": holdout[MODEL],
        "baselines": {k: v for k, v in holdout.items() if k not in (MODEL, ORACLE)},
        "oracle": holdout.get(ORACLE),
        "oracle_gap": evaluation.oracle_gap,
        "operating_point": shipped.operating_point,
        "split_operating_point": op,
        "training_window": _range(data, np.arange(len(data))),
        "refit": shipped.summary(),
        "backtest": shipped.backtest.summary() if shipped.backtest is not None else None,
        "data_summary": data.summary,
        "holdout_fraction": holdout_fraction,
        "split": {
            "fit": _range(data, split.fit),
            "validation": _range(data, split.validation),
            "holdout": _range(data, split.holdout),
        },
        "rules_version": _rules_version(),
        "reference_data_version": _reference_version(),
        "input_sha256": data.summary.get("input_sha256", ""),
        "feature_names": names,
        "candidates": {name: c.summary() for name, c in choice.candidates.items()},
    }


def _fit_and_evaluate(
    data: TrainingData,
    *,
    holdout_fraction: float,
    target_precision: float,
    truth: np.ndarray | None = None,
    timings: dict[str, float] | None = None,
    compare_rows: int | None = None,
    seed: int = 0,
    backtest_folds: int = DEFAULT_FOLDS,
    # Recency columns (training.recency.add_recency_columns): on; the scorer's "what if fixed"
    # clears every column of a rule (ClaimFeaturizer.rule_columns), its recency columns included.
    recency: bool = True,
    reasons: Any = None,  # training.reasons.ReasonInputs: fit the denial-reason heads too
) -> TrainResult:
    timings = timings if timings is not None else {}
    compare_rows = COMPARE_ROWS if compare_rows is None else compare_rows
    split = time_split(data.submission_date, holdout_fraction=holdout_fraction)
    featurizer, X = _featurize_all(data, int(split.fit[-1]) + 1, timings, recency, reasons)
    monotone = [int(c) for c in featurizer.monotonic_cst()]
    names = [str(n) for n in featurizer.get_feature_names_out()]

    tick = time.perf_counter()
    choice = _fit_and_choose(X, data.y, split, monotone, compare_rows, seed)
    timings["fit_s"] = time.perf_counter() - tick
    op = _operating_point(choice, X, data.y, split, target_precision)
    evaluation = _evaluate_holdout(data, split, choice, truth)

    history = History(X, data.y, data.submission_date, data.total_charge, data.denied_dollars, monotone)
    shipped = ship(
        history, split, choice.winner, folds=backtest_folds, target_precision=target_precision, seed=seed,
        timings=timings,
    )
    pipeline = Pipeline([("featurizer", featurizer), ("classifier", shipped.classifier)])
    metadata = _model_metadata(data, split, choice, evaluation, op, holdout_fraction, names, shipped)
    model = RiskModel(pipeline, threshold=shipped.operating_point["threshold"], metadata=metadata)
    # what the shipped model saw, for `claimrisk drift` and the API's drift gauges (training.drift)
    metadata["drift_reference"] = window_reference(X, model.predict_from_features, names, metadata["training_window"])
    if reasons is not None:  # the reason heads on the same X, judged with the split model's holdout risk
        from training.reasons import attach_reasons

        attach_reasons(model, X, reasons, split, evaluation.scores[MODEL], names, y=data.y, seed=seed, timings=timings)
    return TrainResult(
        data=data,
        split=split,
        model=model,
        chosen=choice.chosen,
        choice_reason=choice.reason,
        candidates=metadata["candidates"],
        holdout=evaluation.metrics,
        holdout_scores=evaluation.scores,
        per_payer=evaluation.per_payer,
        operating_point=op,
        oracle_gap=evaluation.oracle_gap,
        feature_names=names,
        feature_importances=importances(shipped.classifier, X[_span(split.holdout)], data.y[split.holdout], seed),
        timings=timings,
        params=_params(holdout_fraction, target_precision, compare_rows, choice, split, X, monotone, shipped),
        shipped=shipped,
    )


def _params(
    holdout_fraction: float,
    target_precision: float,
    compare_rows: int,
    choice: _Choice,
    split: TimeSplit,
    X: np.ndarray,
    monotone: list[int],
    shipped: Shipped,
) -> dict[str, Any]:
    """The MLflow parameters of a run."""
    return {
        "holdout_fraction": holdout_fraction,
        "target_precision": target_precision,
        "compare_rows": compare_rows,
        "comparison_subsampled": choice.subsampled,
        "estimator": choice.chosen,
        "n_features": X.shape[1],
        "n_fit": len(split.fit),
        "n_validation": len(split.validation),
        "n_holdout": len(split.holdout),
        "calibration": "isotonic on out-of-time margins (split model on validation and holdout, backtest folds)",
        "monotone_rule_flags": int(sum(1 for c in monotone if c > 0)),
        "backtest_folds": len(shipped.backtest.periods) if shipped.backtest is not None else 0,
        "refit_rounds": shipped.procedure.rounds(shipped.rows),
        "half_life_days": shipped.procedure.half_life_days,
    }


def _range(data: TrainingData, index: np.ndarray) -> dict[str, Any]:
    dates = data.submission_date[index]
    return {"claims": int(index.size), "from": str(dates.min()), "to": str(dates.max())}


def _rules_version() -> str:
    from features.version import rules_version

    return str(rules_version())


def _reference_version() -> str:
    from reference.store import load_reference

    return str(load_reference().version)


def utc_now() -> str:
    """The training time recorded in the model (UTC, to the second)."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
