"""The decision threshold stored with the model ("review" at or above it).

Chosen on the validation slice, not the holdout, so the holdout can report what the threshold
really achieves on later claims. Serving may override it per request.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import precision_recall_curve

from training.metrics import threshold_at_precision


def choose_threshold(y: np.ndarray, p: np.ndarray, target_precision: float) -> dict[str, Any]:
    """The highest-recall threshold whose precision reaches ``target_precision``; when no threshold
    reaches it, the one with the best F1 (and the record says so)."""
    found = threshold_at_precision(y, p, target_precision)
    if found is not None:
        threshold, recall, precision = found
        return {
            "threshold": threshold,
            "rule": f"highest recall at precision >= {target_precision:g} (validation slice)",
            "validation_precision": precision,
            "validation_recall": recall,
            "target_precision": target_precision,
        }
    if np.unique(y).size < 2:
        return {
            "threshold": 0.5,
            "rule": "0.5 (validation slice has one class)",
            "target_precision": target_precision,
        }
    prec, rec, thresholds = precision_recall_curve(y, p)
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.nan_to_num(2 * prec[:-1] * rec[:-1] / (prec[:-1] + rec[:-1]))
    best = int(np.argmax(f1))
    return {
        "threshold": float(thresholds[best]),
        "rule": f"best F1: precision {target_precision:g} is not reachable on the validation slice",
        "validation_precision": float(prec[best]),
        "validation_recall": float(rec[best]),
        "target_precision": target_precision,
    }


def realized(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, float]:
    """Precision, recall and review share at the threshold on other claims (the holdout)."""
    flagged = p >= threshold
    tp = float(np.sum(flagged & (y == 1)))
    return {
        "precision": tp / flagged.sum() if flagged.any() else float("nan"),
        "recall": tp / float(np.sum(y == 1)) if np.any(y == 1) else float("nan"),
        "review_share": float(flagged.mean()) if flagged.size else float("nan"),
    }
