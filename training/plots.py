"""The pictures analysts look at in the MLflow UI (PNG): reliability, precision-recall, dollars
caught along the review queue, per-payer bars and feature importances. Aggregates only: no
claim content is ever drawn."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.metrics import precision_recall_curve  # noqa: E402

from training.metrics import dollars_curve, reliability_table  # noqa: E402


def _save(fig: plt.Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def reliability_diagram(
    y: np.ndarray, scores: Mapping[str, np.ndarray], path: Path, n_bins: int = 10
) -> Path:
    fig, (ax, hist) = plt.subplots(2, 1, figsize=(6, 7), gridspec_kw={"height_ratios": [3, 1]}, sharex=True)
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfect")
    for name, p in scores.items():
        table = reliability_table(y, p, n_bins)
        used = table["count"] > 0
        ax.plot(table["mean_predicted"][used], table["observed_rate"][used], marker="o", label=name)
        hist.hist(p, bins=n_bins, range=(0, 1), histtype="step", label=name)
    ax.set_ylabel("observed denial rate")
    ax.set_title("Reliability on the holdout (latest claims)")
    ax.legend(loc="upper left")
    hist.set_xlabel("predicted risk")
    hist.set_ylabel("claims")
    hist.set_yscale("log")
    return _save(fig, path)


def precision_recall(
    y: np.ndarray, scores: Mapping[str, np.ndarray], path: Path, threshold: float | None
) -> Path:
    fig, ax = plt.subplots(figsize=(6, 5))
    for name, p in scores.items():
        prec, rec, thresholds = precision_recall_curve(y, p)
        ax.plot(rec, prec, label=name)
        if name == "model" and threshold is not None and thresholds.size:
            at = int(np.clip(np.searchsorted(thresholds, threshold), 0, thresholds.size - 1))
            ax.scatter(
                [rec[at]], [prec[at]], color="black", zorder=5, label=f"operating point {threshold:.3f}"
            )
    ax.axhline(float(np.mean(y)), color="grey", linestyle=":", label="denial rate")
    ax.set_xlabel("recall (share of denied claims flagged)")
    ax.set_ylabel("precision (share of flagged claims denied)")
    ax.set_title("Precision-recall on the holdout")
    ax.legend(loc="upper right")
    return _save(fig, path)


def dollars_caught_curve(
    denied_dollars: np.ndarray, total_charge: np.ndarray, scores: Mapping[str, np.ndarray], path: Path
) -> Path:
    fig, ax = plt.subplots(figsize=(6, 5))
    for name, p in scores.items():
        depth, caught = dollars_curve(p * total_charge, denied_dollars)  # total_charges: never NaN
        ax.plot(depth, caught, label=name)
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="random order")
    for share in (0.1, 0.2):
        ax.axvline(share, color="lightgrey", linewidth=0.8)
    ax.set_xlabel("share of claims reviewed (ranked by expected loss)")
    ax.set_ylabel("share of denied dollars caught")
    ax.set_title("Denied dollars caught along the review queue")
    ax.legend(loc="lower right")
    return _save(fig, path)


def per_payer_bars(
    per_payer: Mapping[str, Mapping[str, Mapping[str, float]]], metric: str, path: Path
) -> Path:
    """per_payer: scorer -> payer -> metrics; one group of bars per payer."""
    scorers = list(per_payer)
    payers = sorted({payer for scorer in scorers for payer in per_payer[scorer]})
    fig, ax = plt.subplots(figsize=(max(6, 0.9 * len(payers) + 2), 4.5))
    width = 0.8 / max(len(scorers), 1)
    x = np.arange(len(payers))
    for i, scorer in enumerate(scorers):
        values = [per_payer[scorer].get(payer, {}).get(metric, np.nan) for payer in payers]
        ax.bar(x + i * width, values, width, label=scorer)
    ax.set_xticks(x + width * (len(scorers) - 1) / 2, payers, rotation=30, ha="right")
    ax.set_ylabel(metric)
    ax.set_title(f"{metric} per payer (holdout)")
    ax.legend()
    return _save(fig, path)


def feature_importances(names: list[str], importances: np.ndarray, path: Path, top: int = 25) -> Path:
    order = np.argsort(importances)[::-1][:top][::-1]
    fig, ax = plt.subplots(figsize=(7, max(3, 0.28 * len(order) + 1)))
    ax.barh([names[i] for i in order], importances[order])
    ax.set_xlabel("importance (share of total gain)")
    ax.set_title("What drives the model")
    return _save(fig, path)


def backtest_periods(periods: Sequence[Mapping[str, Any]], path: Path) -> Path:
    """One line per metric over the backtest months: a procedure that decays shows it here first."""
    labels = [str(row["period"]) for row in periods]
    fig, (rank, calib) = plt.subplots(2, 1, figsize=(7, 6), sharex=True)
    for metric in ("roc_auc", "pr_auc", "dollars_top10", "dollars_top20"):
        rank.plot(labels, [float(row.get(metric, np.nan)) for row in periods], marker="o", label=metric)
    for metric in ("ece", "brier"):
        calib.plot(labels, [float(row.get(metric, np.nan)) for row in periods], marker="o", label=metric)
    rank.set_title("Backtest: each month scored by the procedure fitted on every claim before it")
    rank.set_ylabel("ranking, dollars caught")
    calib.set_ylabel("calibration (lower is better)")
    calib.set_xlabel("month")
    rank.legend(loc="lower left")
    calib.legend(loc="upper left")
    return _save(fig, path)
