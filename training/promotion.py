"""Promotion: the new model replaces the champion only when it is at least as good on the NEW
holdout, in ranking (PR-AUC) and in probability quality (Brier), judged on the same claims.

The champion is re-scored on the new holdout rather than trusted for the numbers it logged
when it was trained: those were measured on older claims and are not comparable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class PromotionDecision:
    promote: bool
    reason: str
    champion_version: str | None = None
    champion_metrics: dict[str, float] | None = None


def decide_promotion(
    new: dict[str, float],
    champion: dict[str, float] | None,
    *,
    champion_version: str | None = None,
    tolerance: float = 0.0,
) -> PromotionDecision:
    """Promote when there is no champion, or when new PR-AUC >= champion's and new Brier <= champion's
    (each within ``tolerance``)."""
    if champion is None:
        return PromotionDecision(True, "no current champion: the first model is promoted")
    pr_new, pr_old = new["pr_auc"], champion["pr_auc"]
    brier_new, brier_old = new["brier"], champion["brier"]
    if any(np.isnan(v) for v in (pr_new, brier_new)):
        return PromotionDecision(
            False,
            "the new model's holdout metrics are undefined (one class in the holdout)",
            champion_version,
            champion,
        )
    pr_ok = np.isnan(pr_old) or pr_new >= pr_old - tolerance
    brier_ok = np.isnan(brier_old) or brier_new <= brier_old + tolerance
    detail = (
        f"PR-AUC {pr_new:.4f} vs champion v{champion_version} {pr_old:.4f}, "
        f"Brier {brier_new:.4f} vs {brier_old:.4f} on the new holdout"
    )
    if pr_ok and brier_ok:
        return PromotionDecision(
            True, f"at least as good as the champion: {detail}", champion_version, champion
        )
    worse = [name for name, ok in (("PR-AUC", pr_ok), ("Brier", brier_ok)) if not ok]
    return PromotionDecision(
        False,
        f"not promoted, worse {' and '.join(worse)} than the champion: {detail}",
        champion_version,
        champion,
    )


def champion_scores(champion_model: Any, frame: Any) -> np.ndarray:
    """The champion's risk for the new holdout claims (it featurizes them with its own featurizer)."""
    return np.asarray(champion_model.predict_risk(frame), dtype=np.float64)
