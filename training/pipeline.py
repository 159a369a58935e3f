"""Fit, compare and evaluate: from labelled, time-ordered claims to a RiskModel and its numbers.

Kept apart from MLflow (``registry``) so it can be tested and benchmarked on its own.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.pipeline import Pipeline

from training.candidates import (
    BOOSTERS,
    Candidate,
    choose,
    fit_candidates,
    importances,
    predict_holdout,
    refit,
)
from training.dataset import TrainingData
from training.frames import slice_claims
from training.leakage import assert_no_leakage
from training.metrics import evaluate, gap, per_payer
from training.model_card import METRIC_LABELS
from training.operating_point import choose_threshold, realized
from training.progress import bar, note
from training.risk_model import RiskModel
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
        return "\n".join(lines)


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


def _fit_and_evaluate(
    data: TrainingData,
    *,
    holdout_fraction: float,
    target_precision: float,
    truth: np.ndarray | None = None,
    timings: dict[str, float] | None = None,
    compare_rows: int | None = None,
    seed: int = 0,
) -> TrainResult:
    from training.commands import COMPARE_ROWS, featurize, utc_now

    timings = timings if timings is not None else {}
    compare_rows = COMPARE_ROWS if compare_rows is None else compare_rows
    split = time_split(data.submission_date, holdout_fraction=holdout_fraction)
    fit_end = int(split.fit[-1]) + 1

    tick = time.perf_counter()
    featurizer = _featurizer()
    # The fit slice gets out-of-fold encodings (no claim sees its own label); the later slices are
    # transformed with what was learned from the fit slice only.
    with bar(total=None, desc="featurizing the fit slice", unit="step"):
        X_fit_part = np.asarray(
            featurizer.fit_transform(slice_claims(data.frame, 0, fit_end), data.y[:fit_end]), dtype=np.float32
        )
    X = np.concatenate([X_fit_part, featurize(featurizer, slice_claims(data.frame, fit_end, len(data)))])
    del X_fit_part
    assert_no_leakage(featurizer, data.frame)
    timings["featurize_s"] = time.perf_counter() - tick
    monotone = [int(c) for c in featurizer.monotonic_cst()]
    names = [str(n) for n in featurizer.get_feature_names_out()]

    y = data.y
    X_fit, y_fit = X[split.fit], y[split.fit]
    X_val, y_val = X[split.validation], y[split.validation]
    X_hold, y_hold = X[split.holdout], y[split.holdout]

    note(
        f"fitting candidates on {len(split.fit)} claims (validation {len(split.validation)}, holdout {len(split.holdout)})"
    )
    tick = time.perf_counter()
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
    timings["fit_s"] = time.perf_counter() - tick

    p_val = winner.classifier.predict_proba(X_val)[:, 1]
    op = choose_threshold(y_val, p_val, target_precision)
    model_scores = scores[chosen]
    held = realized(y_hold, model_scores, op["threshold"])
    op.update({f"holdout_{k}": v for k, v in held.items()})

    charge = data.total_charge[split.holdout]
    dollars = data.denied_dollars[split.holdout]
    payer = data.payer_id[split.holdout]
    holdout_scores: dict[str, np.ndarray] = {MODEL: model_scores}
    for name in [b for b in BOOSTERS if b != chosen] + ["logistic_regression", "rule_count"]:
        holdout_scores[name] = scores[name]
    oracle_gap = None
    if truth is not None:
        oracle = truth[split.holdout]
        if np.isnan(oracle).any():
            note(f"truth file lacks {int(np.isnan(oracle).sum())} holdout claims: oracle left out")
        else:
            holdout_scores[ORACLE] = oracle
    holdout = {name: evaluate(y_hold, p, charge, dollars) for name, p in holdout_scores.items()}
    if ORACLE in holdout:
        oracle_gap = gap(holdout[MODEL], holdout[ORACLE])
    payers = {
        name: per_payer(y_hold, holdout_scores[name], charge, dollars, payer)
        for name in (MODEL, "rule_count", ORACLE)
        if name in holdout_scores
    }

    pipeline = Pipeline([("featurizer", featurizer), ("classifier", winner.classifier)])
    candidate_summary = {name: c.summary() for name, c in candidates.items()}
    metadata: dict[str, Any] = {
        "trained_at": utc_now(),
        "estimator": chosen,
        "choice_reason": reason,
        "metrics": holdout[MODEL],
        "baselines": {k: v for k, v in holdout.items() if k not in (MODEL, ORACLE)},
        "oracle": holdout.get(ORACLE),
        "oracle_gap": oracle_gap,
        "operating_point": op,
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
        "candidates": candidate_summary,
    }
    model = RiskModel(pipeline, threshold=op["threshold"], metadata=metadata)
    return TrainResult(
        data=data,
        split=split,
        model=model,
        chosen=chosen,
        choice_reason=reason,
        candidates=candidate_summary,
        holdout=holdout,
        holdout_scores=holdout_scores,
        per_payer=payers,
        operating_point=op,
        oracle_gap=oracle_gap,
        feature_names=names,
        feature_importances=importances(winner.classifier, X_hold, y_hold, seed),
        timings=timings,
        params={
            "holdout_fraction": holdout_fraction,
            "target_precision": target_precision,
            "compare_rows": compare_rows,
            "comparison_subsampled": subsampled,
            "estimator": chosen,
            "n_features": X.shape[1],
            "n_fit": len(split.fit),
            "n_validation": len(split.validation),
            "n_holdout": len(split.holdout),
            "calibration": "isotonic on the booster margin (validation slice)",
            "monotone_rule_flags": int(sum(1 for c in monotone if c > 0)),
        },
    )


def _range(data: TrainingData, index: np.ndarray) -> dict[str, Any]:
    dates = data.submission_date[index]
    return {"claims": int(index.size), "from": str(dates.min()), "to": str(dates.max())}


def _rules_version() -> str:
    from features.version import rules_version

    return str(rules_version())


def _reference_version() -> str:
    from reference.store import load_reference

    return str(load_reference().version)
