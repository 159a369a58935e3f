"""Holdout metrics in the terms analysts are measured in.

Besides ranking (ROC-AUC, PR-AUC) and probability quality (Brier, expected calibration error), the
numbers a billing team acts on: how many denials a review queue catches at a precision it can
afford, and what share of denied DOLLARS sits in the top of a queue ranked by expected loss
(risk x charge), overall and per payer.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, precision_recall_curve, roc_auc_score

QUEUE_SHARES = (0.10, 0.20)
RECALL_PRECISIONS = (0.90, 0.95)


def expected_calibration_error(y: np.ndarray, p: np.ndarray, n_bins: int = 10) -> float:
    """Σ_b (n_b / N) · |mean(y_b) − mean(p_b)| over equal-width probability bins [k/n, (k+1)/n)."""
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    if y.size == 0:
        return float("nan")
    bins = np.minimum((p * n_bins).astype(np.int64), n_bins - 1)
    counts = np.bincount(bins, minlength=n_bins)
    sum_y = np.bincount(bins, weights=y, minlength=n_bins)
    sum_p = np.bincount(bins, weights=p, minlength=n_bins)
    used = counts > 0
    gap = np.abs(sum_y[used] - sum_p[used])  # n_b · |mean y − mean p|
    return float(gap.sum() / y.size)


def reliability_table(y: np.ndarray, p: np.ndarray, n_bins: int = 10) -> dict[str, np.ndarray]:
    """Per bin: mean predicted, observed rate, count (for the reliability diagram)."""
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    bins = np.minimum((p * n_bins).astype(np.int64), n_bins - 1)
    counts = np.bincount(bins, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_p = np.bincount(bins, weights=p, minlength=n_bins) / counts
        rate = np.bincount(bins, weights=y, minlength=n_bins) / counts
    return {"mean_predicted": mean_p, "observed_rate": rate, "count": counts}


def threshold_at_precision(
    y: np.ndarray, p: np.ndarray, precision: float
) -> tuple[float, float, float] | None:
    """The threshold with the highest recall whose precision is at least ``precision``:
    (threshold, recall, precision), or None when no threshold reaches it."""
    if np.unique(y).size < 2:
        return None
    prec, rec, thresholds = precision_recall_curve(y, p)
    ok = np.flatnonzero(prec[:-1] >= precision)  # the last point (recall 0) has no threshold
    if ok.size == 0:
        return None
    best = ok[np.argmax(rec[ok])]
    return float(thresholds[best]), float(rec[best]), float(prec[best])


def recall_at_precision(y: np.ndarray, p: np.ndarray, precision: float) -> float:
    found = threshold_at_precision(y, p, precision)
    return 0.0 if found is None else found[1]


def dollars_caught(expected_loss: np.ndarray, denied_dollars: np.ndarray, top_share: float) -> float:
    """Share of all denied dollars found in the top ``top_share`` of claims ranked by expected loss."""
    total = float(np.sum(denied_dollars))
    n = int(expected_loss.shape[0])
    if n == 0 or total <= 0:
        return float("nan")
    k = int(math.ceil(top_share * n))
    order = np.argsort(-np.asarray(expected_loss, dtype=np.float64), kind="stable")
    return float(np.sum(np.asarray(denied_dollars)[order[:k]]) / total)


def dollars_curve(expected_loss: np.ndarray, denied_dollars: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(share of queue reviewed, share of denied dollars caught) for every queue depth."""
    order = np.argsort(-np.asarray(expected_loss, dtype=np.float64), kind="stable")
    caught = np.cumsum(np.asarray(denied_dollars, dtype=np.float64)[order])
    total = caught[-1] if caught.size and caught[-1] > 0 else 1.0
    depth = np.arange(1, order.size + 1) / max(order.size, 1)
    return np.concatenate([[0.0], depth]), np.concatenate([[0.0], caught / total])


def evaluate(
    y: np.ndarray, p: np.ndarray, total_charge: np.ndarray, denied_dollars: np.ndarray
) -> dict[str, float]:
    """All holdout metrics of one scorer (probabilities ``p``) on the same claims.

    ``total_charge`` is ``claims.charges.total_charges`` (a missing total is the line sum, as in
    serving): no second meaning of a missing charge here, so no NaN-to-zero either."""
    y = np.asarray(y)
    p = np.asarray(p, dtype=np.float64)
    both = np.unique(y).size == 2
    expected_loss = p * np.asarray(total_charge, dtype=np.float64)
    out: dict[str, float] = {
        "n": float(y.size),
        "denial_rate": float(np.mean(y)) if y.size else float("nan"),
        "roc_auc": float(roc_auc_score(y, p)) if both else float("nan"),
        "pr_auc": float(average_precision_score(y, p)) if both else float("nan"),
        "brier": float(brier_score_loss(y, p)) if y.size else float("nan"),
        "ece": expected_calibration_error(y, p),
    }
    for target in RECALL_PRECISIONS:
        out[f"recall_at_p{round(target * 100)}"] = recall_at_precision(y, p, target)
    for share in QUEUE_SHARES:
        out[f"dollars_top{round(share * 100)}"] = dollars_caught(expected_loss, denied_dollars, share)
    return out


def per_payer(
    y: np.ndarray,
    p: np.ndarray,
    total_charge: np.ndarray,
    denied_dollars: np.ndarray,
    payer_id: np.ndarray,
    *,
    min_claims: int = 1,
) -> dict[str, dict[str, float]]:
    """The same metrics per payer id (payers with fewer than ``min_claims`` holdout claims skipped)."""
    out: dict[str, dict[str, float]] = {}
    payers = np.asarray(payer_id, dtype=object)
    keys = np.where(payers == None, "(none)", payers).astype(str)  # noqa: E711 - elementwise
    for payer in np.unique(keys):
        mask = keys == payer
        if mask.sum() < min_claims:
            continue
        out[str(payer)] = evaluate(y[mask], p[mask], total_charge[mask], denied_dollars[mask])
    return out


def gap(model: dict[str, float], oracle: dict[str, float]) -> dict[str, Any]:
    """Model minus oracle for every shared metric (negative = worse for AUCs, positive = worse for errors)."""
    return {k: model[k] - oracle[k] for k in model if k in oracle and k not in ("n", "denial_rate")}
