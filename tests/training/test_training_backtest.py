"""The rolling backtest: months in order, each fold fitted only on claims before its month, and the
shipped model refitted on every labelled claim with out-of-time calibration."""

from __future__ import annotations

import numpy as np
import pytest

from training.backtest import History, monthly_periods, run_backtest
from training.pipeline import TrainResult
from training.recency import age_weights, choose_half_life
from training.refit import MAX_REFIT_ROUNDS, Procedure


def _dates(months: int, per_month: int) -> np.ndarray:
    start = np.datetime64("2025-01", "M")
    month = np.repeat(start + np.arange(months), per_month)
    day = np.tile(np.arange(per_month) % 28, months)
    return (month.astype("datetime64[D]") + day).astype("datetime64[D]")


def test_periods_are_the_last_months_and_never_start_before_the_validation_slice() -> None:
    dates = _dates(6, 100)
    periods = monthly_periods(dates, 3, earliest_start=0)
    assert [p.label for p in periods] == ["2025-04", "2025-05", "2025-06"]
    assert [(p.start, p.stop) for p in periods] == [(300, 400), (400, 500), (500, 600)]
    assert [p.label for p in monthly_periods(dates, 3, earliest_start=350)] == ["2025-05", "2025-06"]
    assert monthly_periods(dates, 0, earliest_start=0) == []


def _leaky_history(seed: int = 0) -> tuple[History, list, np.ndarray]:
    """Six months; in each of the last three, the label is the sign of that month's own feature.

    A fold that saw its own month learns the rule and ranks it almost perfectly; a fold fitted
    only on earlier months has never seen that feature matter and ranks it at chance."""
    rng = np.random.default_rng(seed)
    dates = _dates(6, 400)
    n = dates.size
    X = rng.normal(size=(n, 4)).astype(np.float32)
    y = (rng.random(n) < 0.3).astype(np.int8)
    periods = monthly_periods(dates, 3, earliest_start=800)
    for k, period in enumerate(periods, start=1):
        rows = slice(period.start, period.stop)
        y[rows] = (X[rows, k] > 0).astype(np.int8)
    history = History(X, y, dates, np.full(n, 100.0), y * 100.0, [0, 0, 0, 0])
    prior = np.full(n, np.nan)
    prior[800:] = rng.normal(size=n - 800)  # out-of-time margins of an earlier model (uninformative)
    return history, periods, prior


def test_backtest_folds_never_train_on_their_own_month_or_later() -> None:
    history, periods, prior = _leaky_history()
    procedure = Procedure("lightgbm", iterations=40, n_fit=800)
    result = run_backtest(procedure, history, periods, prior)
    for row, period in zip(result.metrics, periods, strict=True):
        assert row["train_claims"] == period.start
        assert row["train_to"] < row["from"]  # trained on claims submitted before the month only
        # the month's own rule was never shown: chance ranking (a leak would give ~1.0)
        assert abs(row["roc_auc"] - 0.5) < 0.1, row
    scored = np.isfinite(result.scores)
    assert scored.sum() == periods[-1].stop - periods[0].start and not scored[: periods[0].start].any()


def test_rounds_scale_with_rows_and_half_life_is_off_unless_it_helps() -> None:
    procedure = Procedure("lightgbm", iterations=200, n_fit=1000)
    assert procedure.rounds(1000) == 200 and procedure.rounds(1500) == 300
    assert procedure.rounds(100_000) == MAX_REFIT_ROUNDS and procedure.rounds(1) == 1
    dates = np.array(["2025-01-01", "2025-07-01", "2026-01-01"], dtype="datetime64[D]")
    assert age_weights(dates, None) is None
    np.testing.assert_allclose(age_weights(dates, 365.0), [0.5, 2 ** (-184 / 365), 1.0])
    assert choose_half_life({None: 0.30, 365.0: 0.2999, 180.0: 0.31})[0] is None
    assert choose_half_life({None: 0.30, 365.0: 0.29, 180.0: 0.295})[0] == 365.0


def test_shipped_model_is_refitted_on_every_labelled_claim(trained: TrainResult, training_data) -> None:  # type: ignore[no-untyped-def]
    meta = trained.model.metadata
    window = meta["training_window"]
    assert window["to"] == str(training_data.submission_date.max())  # ends at the latest labelled claim
    assert window["claims"] == len(training_data) == meta["refit"]["rows"]
    assert window["to"] > meta["split"]["validation"]["to"]  # later than anything the split model saw
    shipped = trained.shipped
    assert shipped is not None and shipped.backtest is not None and shipped.backtest.periods
    # the shipped booster is not the split model's: it was fitted on the holdout months too
    booster = trained.model.classifier.estimator
    rounds = getattr(booster, "n_estimators", None) or booster.max_iter
    assert rounds == shipped.procedure.rounds(len(training_data))
    assert shipped.procedure.rounds(len(training_data)) > meta["candidates"][trained.chosen]["iterations"]
    # calibrated on out-of-time margins only: every claim after the fit slice, none of the fit slice
    assert shipped.calibration_claims == len(training_data) - trained.split.fit.size
    assert meta["backtest"]["periods"][-1]["to"] == window["to"]
    assert 0 < trained.model.threshold < 1


def test_report_shows_the_backtest_table(trained: TrainResult) -> None:
    report = trained.report()
    assert "backtest (each month" in report and "shipped model:" in report
    months = [row["period"] for row in trained.model.metadata["backtest"]["periods"]]
    assert all(month in report for month in months)


@pytest.mark.parametrize("end", ["2099-01-01", None])
def test_promotion_never_scores_the_champion_on_its_own_training_claims(trained: TrainResult, end) -> None:  # type: ignore[no-untyped-def]
    import copy

    from training.registry import _compare_with_champion

    champion = copy.deepcopy(trained.model)
    if end is not None:  # a champion whose window covers the whole new history, with its backtest
        champion.metadata["training_window"] = {"to": end}
        decision = _compare_with_champion(trained, champion, "7")
        assert "backtest months both procedures ran" in decision.reason and decision.promote  # same months, equal
        champion.metadata["backtest"] = None
        decision = _compare_with_champion(trained, champion, "7")
        assert decision.promote and "nothing out of time" in decision.reason
    else:  # a model saved before the refit: its window is its validation slice
        champion.metadata.pop("training_window")
        decision = _compare_with_champion(trained, champion, "7")
        after = int((trained.data.submission_date > np.datetime64(champion.metadata["split"]["validation"]["to"])).sum())
        assert f"on the {after} claims submitted after the champion's training window" in decision.reason


@pytest.mark.parametrize("half_life", [None, 180.0])
def test_a_fold_on_the_shared_dataset_is_fitted_as_the_refit_fits(half_life: float | None) -> None:
    """The backtest bins the history once (refit.shared_rows) and trains folds on subsets with
    lightgbm.train: on the same rows that must be the very booster LGBMClassifier fits (same
    parameters, weights and bins), so the folds test the procedure that ships."""
    from training.calibration import raw_score
    from training.refit import fit_procedure, shared_rows

    history, periods, prior = _leaky_history()
    procedure = Procedure("lightgbm", iterations=30, n_fit=history.y.size, half_life_days=half_life)
    args = (procedure, history.X, history.y, history.submission_date, history.monotone)
    shared = shared_rows(procedure, history.X, history.y, history.monotone)
    np.testing.assert_array_equal(
        raw_score(fit_procedure(*args), history.X), raw_score(fit_procedure(*args, shared=shared), history.X)
    )
    # and a fold on a subset still sees only its prefix: its own month's rule stays unknown to it
    last = periods[-1].start
    result = run_backtest(procedure, history, periods, prior, shared=shared_rows(procedure, history.X[:last], history.y[:last], [0] * 4))
    assert all(abs(row["roc_auc"] - 0.5) < 0.1 for row in result.metrics), result.metrics


def test_folds_of_a_large_history_are_fitted_on_a_sample_and_say_so() -> None:
    history, periods, prior = _leaky_history()
    procedure = Procedure("lightgbm", iterations=40, n_fit=800)
    whole = run_backtest(procedure, history, periods, prior)
    assert not whole.sampled and "fold_sample_rows" not in whole.summary()
    sampled = run_backtest(procedure, history, periods, prior, max_rows=900)
    assert [row["fit_claims"] for row in sampled.metrics] == [min(p.start, 900) for p in periods]
    assert [row["train_claims"] for row in sampled.metrics] == [p.start for p in periods]
    assert sampled.sampled and sampled.summary()["fold_sample_rows"] == 900
    assert "uniform sample of 900" in sampled.table()
