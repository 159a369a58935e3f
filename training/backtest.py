"""Rolling-origin backtest of the procedure that ships.

The holdout says how good a model fitted on the earliest 72 % of the history is; the model that
serves is refitted on all of it. What an analyst needs is how that *procedure* does on claims it has
not seen: for each of the last K calendar months, fit the procedure on every claim submitted
before that month and score the month. The months are the unit because payers change policy by
date and billing teams review by month.

Every fold reuses the one featurized matrix (the featurizer was fitted on the fit slice, which
ends before the first backtest month), so a fold costs one booster fit and no featurizing; a
LightGBM fold also reuses one binned Dataset of the rows before the last month
(``training.refit.shared_rows``), so no fold bins its rows again. Folds fitted on a uniform sample
of their prefix (``max_rows``: the half-life choice, and ``training.shipping.BACKTEST_ROWS`` when
set) are said so in the table, the metadata and the model card.

Calibration is cross-fitted over time: a fold's booster is calibrated on the out-of-time margins
of the claims before its month (the split model's margins on the validation slice and holdout,
then the earlier folds' margins on their months), never on its own month. The shipped model is
calibrated the same way on all of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.metrics import log_loss

from training.calibration import CalibratedBooster, raw_score
from training.metrics import evaluate
from training.progress import note
from training.refit import Procedure, fit_procedure

DEFAULT_FOLDS = 3
# Metrics shown per period (table, MLflow series, plot), in this order.
PERIOD_METRICS = ("roc_auc", "pr_auc", "ece", "brier", "dollars_top10", "dollars_top20")


@dataclass(frozen=True)
class Period:
    """One backtest month: claims ``start..stop-1`` of the time-ordered history."""

    label: str  # "2026-01"
    start: int
    stop: int


def monthly_periods(submission_date: np.ndarray, folds: int, earliest_start: int) -> list[Period]:
    """The last ``folds`` calendar months of the history, oldest first, each starting at or after
    row ``earliest_start`` (a month starting earlier would train on fewer claims than the split's
    featurizer saw, or lack out-of-time margins to calibrate on: it is left out, with a note).

    A period must hold at least half the claims of the history's median month: the last months
    of a history are often thin (a few late-filed claims, a history that stops a few days into a
    month), and a "month" of three claims measures nothing. Such months are joined to the month
    before them, and the period is named by its first and last month ("2026-11..2027-02")."""
    if folds < 1 or submission_date.size == 0:
        return []
    months = submission_date.astype("datetime64[M]")
    labels, starts, counts = np.unique(months, return_index=True, return_counts=True)
    least = 0.5 * float(np.median(counts))
    periods: list[Period] = []
    stop, last = int(submission_date.size), len(labels) - 1
    for k in range(len(labels) - 1, -1, -1):
        if len(periods) == folds:
            break
        if stop - int(starts[k]) >= least:
            name = str(labels[k]) if k == last else f"{labels[k]}..{labels[last]}"
            periods.insert(0, Period(name, int(starts[k]), stop))
            stop, last = int(starts[k]), k - 1
    kept = [p for p in periods if p.start >= max(earliest_start, 1)]
    if len(kept) < len(periods):
        note(
            f"backtest: {len(periods) - len(kept)} of the last {folds} months start before the "
            "validation slice and are left out"
        )
    return kept


@dataclass
class Backtest:
    """Per-period results of one procedure, and the out-of-time margins it leaves behind."""

    procedure: Procedure
    periods: list[Period]
    margins: np.ndarray  # per claim: an out-of-time margin (NaN where none)
    scores: np.ndarray  # per claim: the calibrated backtest risk (NaN outside the periods)
    metrics: list[dict[str, Any]] = field(default_factory=list)
    max_rows: int | None = None  # folds fitted on a uniform sample of at most this many prefix claims

    @property
    def rows(self) -> np.ndarray:
        """Indices of the claims scored by the backtest (every period's claims)."""
        if not self.periods:
            return np.empty(0, dtype=np.int64)
        return np.arange(self.periods[0].start, self.periods[-1].stop)

    def log_loss(self, y: np.ndarray) -> float:
        """Mean log-loss over the periods (each month counts the same, however many claims)."""
        losses = [
            log_loss(y[p.start : p.stop], self.scores[p.start : p.stop], labels=[0, 1]) for p in self.periods
        ]
        return float(np.mean(losses)) if losses else float("nan")

    def table(self) -> str:
        """The per-period table printed by ``claimrisk train`` and written to the model card."""
        header = f"{'period':<10}{'train claims':>14}{'claims':>9}" + "".join(f"{m:>15}" for m in PERIOD_METRICS)
        lines = [header, "-" * len(header)]
        for row in self.metrics:
            values = "".join(f"{_fmt(row.get(m)):>15}" for m in PERIOD_METRICS)
            lines.append(f"{row['period']:<10}{row['train_claims']:>14}{int(row['n']):>9}{values}")
        if self.sampled:
            lines.append(sample_note(self.max_rows))
        return "\n".join(lines)

    @property
    def sampled(self) -> bool:
        """Whether some fold was fitted on a sample of its prefix rather than all of it."""
        return any(row.get("fit_claims", row["train_claims"]) < row["train_claims"] for row in self.metrics)

    def summary(self) -> dict[str, Any]:
        """What the model metadata and MLflow keep (aggregates only)."""
        summary: dict[str, Any] = {"procedure": self.procedure.describe(), "periods": self.metrics}
        if self.sampled:
            summary["fold_sample_rows"] = self.max_rows
            summary["fold_sample_note"] = sample_note(self.max_rows)
        return summary


def sample_note(max_rows: int | None) -> str:
    """How sampled folds were fitted (table footnote, model card, metadata)."""
    return (
        f"folds with more than {max_rows} prior claims are fitted on a uniform sample of {max_rows} of them "
        "(rounds scaled to the sample, as for the refit): the procedure at that size, so these months are a "
        "slightly pessimistic estimate of the model fitted on every claim"
    )


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "n/a"
    return f"{value:.4f}"


@dataclass(frozen=True)
class History:
    """The featurized, time-ordered history the backtest and the refit share (no copies)."""

    X: np.ndarray
    y: np.ndarray
    submission_date: np.ndarray
    total_charge: np.ndarray
    denied_dollars: np.ndarray
    monotone: list[int]


def calibrate_out_of_time(estimator: Any, margins: np.ndarray, y: np.ndarray, n_features: int) -> CalibratedBooster:
    """``estimator`` with an isotonic map fitted on the finite out-of-time ``margins`` (aligned to ``y``)."""
    known = np.isfinite(margins)
    return CalibratedBooster(estimator).fit_margins(margins[known], y[known], n_features=n_features)


def run_backtest(
    procedure: Procedure,
    history: History,
    periods: list[Period],
    prior_margins: np.ndarray,
    *,
    max_rows: int | None = None,
    shared: Any = None,
) -> Backtest:
    """Fit ``procedure`` on everything before each period and score the period.

    ``prior_margins``: out-of-time margins known before the first period (NaN elsewhere).
    ``max_rows``: fit each fold on a uniform sample of that many claims of its prefix (the same
    sample for every procedure compared, so the comparison is fair and cheap); None = all.
    ``shared``: ``training.refit.shared_rows`` of the history, binned once for every fold."""
    margins = prior_margins.copy()
    scores = np.full(margins.shape[0], np.nan)
    result = Backtest(procedure, periods, margins, scores, max_rows=max_rows)
    n_features = history.X.shape[1]
    for period in periods:
        rows = _sample(period.start, max_rows, procedure.seed)
        estimator = fit_procedure(
            procedure,
            history.X,
            history.y,
            history.submission_date,
            history.monotone,
            end=period.start,
            rows=rows,
            shared=shared,
        )
        margin = raw_score(estimator, history.X[period.start : period.stop])
        before = slice(0, period.start)
        calibrated = calibrate_out_of_time(estimator, margins[before], history.y[before], n_features)
        margins[period.start : period.stop] = margin
        scores[period.start : period.stop] = calibrated.calibrate(margin)
        fitted = period.start if rows is None else int(rows.shape[0])
        result.metrics.append({**_period_metrics(period, history, scores), "fit_claims": fitted})
    return result


def _sample(end: int, max_rows: int | None, seed: int) -> np.ndarray | None:
    if max_rows is None or end <= max_rows:
        return None
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(end, size=max_rows, replace=False))


def _period_metrics(period: Period, history: History, scores: np.ndarray) -> dict[str, Any]:
    window = slice(period.start, period.stop)
    values = evaluate(
        history.y[window], scores[window], history.total_charge[window], history.denied_dollars[window]
    )
    dates = history.submission_date
    return {
        "period": period.label,
        "train_claims": period.start,
        "train_to": str(dates[period.start - 1]),
        "from": str(dates[period.start]),
        "to": str(dates[period.stop - 1]),
        **values,
    }
