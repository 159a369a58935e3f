"""From the chosen candidate to the model that ships: backtest, recency, refit on everything.

The time split chose the estimator and measured it honestly on the holdout. This step then:

1. runs the rolling backtest of the shipped procedure over the last K months (one booster fit per
   month on everything before it), after choosing the age-decay half-life on that same backtest;
2. refits the booster on every labelled claim (rounds from early stopping, scaled to the rows);
3. calibrates it on the out-of-time margins pooled from the split model and the backtest folds,
   and sets the operating point on those same out-of-time predictions.

So the model that serves has seen the latest month, its risks still rest on out-of-time evidence,
and the backtest says what this procedure does month by month.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from claims.errors import InputError
from training.backtest import Backtest, History, calibrate_out_of_time, monthly_periods, run_backtest
from training.calibration import CalibratedBooster, raw_score
from training.candidates import Candidate
from training.operating_point import choose_threshold, realized
from training.progress import note
from training.recency import HALF_LIVES, choose_half_life
from training.refit import Procedure, fit_procedure, shared_rows
from training.split import TimeSplit

# The half-life candidates are compared on backtest folds fitted on a uniform sample of at most this
# many claims of each prefix (the same sample for every candidate): the choice needs the relative
# log-loss of the candidates, not the shipped procedure's own numbers, which the final backtest gives.
HALF_LIFE_ROWS = 100_000
# The final backtest's folds may be fitted on a uniform sample of at most this many claims of their
# prefix (rounds scaled to it, training.refit.Procedure.rounds); off unless CLAIMRISK_BACKTEST_ROWS
# is set. Measured on a 1M-claim history with 300,000: the backtest step took 18 instead of 82 CPU
# seconds, but the months read 0.003-0.004 ROC-AUC and ~0.009 PR-AUC lower, the last month's ECE
# 0.0083 instead of 0.0034, and the shipped threshold moved 0.405 -> 0.442 (its calibration rests
# on the folds' margins, and smaller folds give smaller margins). Whole-prefix folds fit the 300 s
# budget at 1M, so the backtest keeps testing the procedure that ships; the knob is for slower
# machines, and the table and model card say when it was used.
BACKTEST_ROWS = int(os.environ["CLAIMRISK_BACKTEST_ROWS"]) if os.environ.get("CLAIMRISK_BACKTEST_ROWS") else None


@dataclass
class Shipped:
    """The refitted, out-of-time calibrated classifier and the evidence behind it."""

    classifier: CalibratedBooster
    procedure: Procedure
    backtest: Backtest | None
    operating_point: dict[str, Any]
    rows: int  # labelled claims the shipped booster was fitted on (all of them)
    calibration_claims: int
    half_life_reason: str
    half_life_log_loss: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """The ``refit`` block of the model metadata."""
        return {
            **self.procedure.describe(),
            "rounds": self.procedure.rounds(self.rows),
            "rows": self.rows,
            "calibration": f"isotonic on {self.calibration_claims} out-of-time margins (split model, backtest folds)",
            "half_life_reason": self.half_life_reason,
            "half_life_backtest_log_loss": self.half_life_log_loss,
        }


def _prior_margins(history: History, split: TimeSplit, winner: Candidate) -> np.ndarray:
    """Out-of-time margins of the split model (fitted on the fit slice) for every later claim."""
    margins = np.full(history.y.shape[0], np.nan)
    start = int(split.validation[0])
    margins[start:] = raw_score(winner.classifier.estimator, history.X[start:])
    return margins


def _choose_half_life(
    procedure: Procedure, history: History, periods: list[Any], prior: np.ndarray, max_rows: int, shared: Any = None
) -> tuple[float | None, str, dict[str, float], Backtest | None]:
    """Every candidate half-life through the backtest (folds fitted on the same sample of at most
    ``max_rows`` claims of each prefix); returns the choice, why, the losses and, when no sampling
    was needed, the chosen candidate's backtest (so it is not run twice)."""
    losses: dict[float | None, float] = {}
    runs: dict[float | None, Backtest] = {}
    for half_life in HALF_LIVES:
        run = run_backtest(
            procedure.with_half_life(half_life), history, periods, prior, max_rows=max_rows, shared=shared
        )
        losses[half_life] = run.log_loss(history.y)
        runs[half_life] = run
    chosen, reason = choose_half_life(losses)
    sampled = periods[-1].start > max_rows
    shown = {("off" if h is None else f"{h:g}"): v for h, v in losses.items()}
    return chosen, reason, shown, (None if sampled else runs[chosen])


def ship(
    history: History,
    split: TimeSplit,
    winner: Candidate,
    *,
    folds: int,
    target_precision: float,
    seed: int = 0,
    timings: dict[str, float] | None = None,
) -> Shipped:
    """Backtest, choose the half-life, refit on every claim, calibrate out of time (see module doc)."""
    if folds < 0:
        raise InputError(f"--backtest-folds must be 0 or more, got {folds}")
    timings = timings if timings is not None else {}
    tick = time.perf_counter()
    procedure = Procedure(winner.name, int(winner.iterations or 1), int(split.fit.size), None, seed)
    prior = _prior_margins(history, split, winner)
    periods = monthly_periods(history.submission_date, folds, int(split.validation[0]))
    backtest: Backtest | None = None
    reason = "no backtest months: no decay"
    losses: dict[str, float] = {}
    if periods:
        note(f"backtest: {len(periods)} month(s), {len(HALF_LIVES)} half-life candidates")
        # every fold trains on rows before the last month: bin those once (training.refit.shared_rows)
        last = periods[-1].start
        shared = shared_rows(procedure, history.X[:last], history.y[:last], history.monotone)
        half_life, reason, losses, backtest = _choose_half_life(
            procedure, history, periods, prior, HALF_LIFE_ROWS, shared
        )
        procedure = procedure.with_half_life(half_life)
        if backtest is None:
            backtest = run_backtest(procedure, history, periods, prior, max_rows=BACKTEST_ROWS, shared=shared)
        del shared
    timings["backtest_s"] = time.perf_counter() - tick

    tick = time.perf_counter()
    note(f"refitting {procedure.estimator} on all {history.y.shape[0]} labelled claims")
    booster = fit_procedure(procedure, history.X, history.y, history.submission_date, history.monotone)
    margins = backtest.margins if backtest is not None else prior
    classifier = calibrate_out_of_time(booster, margins, history.y, history.X.shape[1])
    timings["refit_s"] = time.perf_counter() - tick
    known = np.isfinite(margins)
    op = _shipped_operating_point(classifier, margins, history.y, backtest, target_precision)
    return Shipped(classifier, procedure, backtest, op, int(history.y.shape[0]), int(known.sum()), reason, losses)


def _shipped_operating_point(
    classifier: CalibratedBooster,
    margins: np.ndarray,
    y: np.ndarray,
    backtest: Backtest | None,
    target_precision: float,
) -> dict[str, Any]:
    """The threshold on the out-of-time predictions (calibrated as shipped), and what the
    backtest's own scores realise at it, month by month pooled."""
    known = np.isfinite(margins)
    op = choose_threshold(y[known], classifier.calibrate(margins[known]), target_precision)
    op["rule"] = op["rule"].replace("validation slice", "out-of-time predictions: validation, holdout, backtest")
    if backtest is not None and backtest.periods:
        rows = backtest.rows
        op.update({f"backtest_{k}": v for k, v in realized(y[rows], backtest.scores[rows], op["threshold"]).items()})
    return op
