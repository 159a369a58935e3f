"""Promotion: the new model replaces the champion only when it is at least as good, in ranking
(PR-AUC) and in probability quality (Brier), judged on the same claims that neither saw.

The champion is never scored on its own training data (the shipped model is refitted on every
labelled claim, so "the new holdout" may well be inside the champion's window). Instead:

1. on the claims submitted after the champion's training window, the champion's scores are
   compared with the challenger procedure's out-of-time scores (the backtest months, each scored by
   a booster trained only on earlier claims; the split model's scores elsewhere in the holdout);
2. with no such claims (both trained on the same history), the two procedures' backtests are
   compared over the months both ran (the champion's are in its metadata);
3. with neither, nothing comparable exists and the challenger is promoted, saying so.
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
    where: str = "on the new holdout",
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
        f"Brier {brier_new:.4f} vs {brier_old:.4f} {where}"
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


def champion_window_end(metadata: dict[str, Any]) -> np.datetime64 | None:
    """The last submission date the champion learned from: its ``training_window`` (refitted
    models), else the end of its validation slice (models fitted before the refit existed)."""
    window = metadata.get("training_window") or (metadata.get("split") or {}).get("validation") or {}
    end = window.get("to")
    return np.datetime64(end, "D") if end else None


def common_backtest(
    new: list[dict[str, Any]], champion: list[dict[str, Any]]
) -> tuple[dict[str, float], dict[str, float], list[str]] | None:
    """Mean PR-AUC and Brier over the backtest months both procedures ran: (new, champion, months),
    or None when they share none."""
    theirs = {row["period"]: row for row in champion}
    months = [row["period"] for row in new if row["period"] in theirs]
    if not months:
        return None
    mine = {row["period"]: row for row in new}

    def mean(rows: dict[str, dict[str, Any]], key: str) -> float:
        return float(np.nanmean([float(rows[m][key]) for m in months]))

    return (
        {"pr_auc": mean(mine, "pr_auc"), "brier": mean(mine, "brier")},
        {"pr_auc": mean(theirs, "pr_auc"), "brier": mean(theirs, "brier")},
        months,
    )


def champion_scores(champion_model: Any, frame: Any) -> np.ndarray:
    """The champion's risk for the new holdout claims (it featurizes them with its own featurizer)."""
    return np.asarray(champion_model.predict_risk(frame), dtype=np.float64)
