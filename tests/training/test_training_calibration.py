"""``CalibratedBooster.predict_fast``: LightGBM's single-row path gives ``Booster.predict``'s numbers,
its cached C handle is never pickled, and without it the public path takes over."""

from __future__ import annotations

import pickle

import joblib
import numpy as np
import pytest
from lightgbm import LGBMClassifier

from training import calibration
from training.calibration import SINGLE_ROW_MAX, CalibratedBooster

N_FEATURES = 40


@pytest.fixture(scope="module")
def booster_model() -> CalibratedBooster:
    rng = np.random.default_rng(4)
    X = rng.normal(size=(3000, N_FEATURES)).astype(np.float32)
    X[rng.random(X.shape) < 0.1] = np.nan
    y = ((np.nan_to_num(X[:, 0]) + np.nan_to_num(X[:, 1]) * X[:, 2] ** 2 + rng.normal(size=3000)) > 0.5)
    estimator = LGBMClassifier(n_estimators=60, num_leaves=15, verbose=-1).fit(X[:2000], y[:2000])
    return CalibratedBooster(estimator).fit(X[2000:], y[2000:].astype(np.int64))


def _rows(seed: int, n: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    X = (rng.normal(size=(n, N_FEATURES)) * rng.choice([0.0, 1.0, 30.0], size=(n, N_FEATURES))).astype(np.float32)
    X[rng.random(X.shape) < 0.2] = np.nan
    return X


def _public(model: CalibratedBooster, X: np.ndarray) -> np.ndarray:
    return np.asarray(model.estimator.booster_.predict(X, raw_score=True), dtype=np.float64)


def test_single_row_margins_equal_booster_predict(booster_model: CalibratedBooster) -> None:
    rows = calibration._single_row_predictor(booster_model, booster_model.estimator.booster_)
    assert rows is not None, "the single-row C API is available in the pinned LightGBM"
    for seed in range(20):
        for n in (1, 2, 7, SINGLE_ROW_MAX):
            X = _rows(seed, n)
            for layout in (X, np.asfortranarray(X), X.T.copy().T):
                assert rows.accepts(layout)
                assert np.array_equal(rows.predict(layout), _public(booster_model, layout))


def test_predict_fast_equals_predict_proba_for_every_size(booster_model: CalibratedBooster) -> None:
    X = _rows(99, 3000)
    slow = booster_model.predict_proba(X)[:, 1]
    for part in (slice(0, 1), slice(5, 9), slice(0, SINGLE_ROW_MAX), slice(0, SINGLE_ROW_MAX + 1), slice(None)):
        assert np.array_equal(booster_model.predict_fast(X[part]), slow[part])
    assert isinstance(booster_model.__dict__.get("_row_predictor"), calibration._SingleRowPredictor)


def test_cached_predictor_is_never_pickled_and_old_pickles_work(
    booster_model: CalibratedBooster, tmp_path: pytest.TempPathFactory
) -> None:
    X = _rows(7, 3)
    expected = booster_model.predict_fast(X)  # builds the cache
    assert "_row_predictor" in booster_model.__dict__
    data = pickle.dumps(booster_model)
    assert b"_SingleRowPredictor" not in data
    restored = pickle.loads(data)
    assert "_row_predictor" not in restored.__dict__  # what a model saved before the cache looks like
    assert np.array_equal(restored.predict_fast(X), expected)
    path = tmp_path / "model.joblib"  # type: ignore[operator]
    joblib.dump(booster_model, path)
    assert np.array_equal(joblib.load(path).predict_fast(X), expected)


def test_without_the_single_row_api_the_public_path_answers(
    booster_model: CalibratedBooster, monkeypatch: pytest.MonkeyPatch
) -> None:
    X = _rows(11, 4)
    expected = booster_model.predict_fast(X)
    model = pickle.loads(pickle.dumps(booster_model))

    def unavailable(booster: object) -> None:
        raise AttributeError("no such C API")

    monkeypatch.setattr(calibration, "_SingleRowPredictor", unavailable)
    assert np.array_equal(model.predict_fast(X), expected)
    assert model.__dict__["_row_predictor"] is False


def test_float64_rows_take_the_public_path(booster_model: CalibratedBooster) -> None:
    X = _rows(5, 3).astype(np.float64) + 1e-9  # not exactly representable in float32
    expected = booster_model.calibrate(_public(booster_model, X))
    assert np.array_equal(booster_model.predict_fast(X), expected)


def test_a_wrong_feature_count_still_fails_as_before(booster_model: CalibratedBooster) -> None:
    with pytest.raises(Exception, match="number of features"):
        booster_model.predict_fast(np.zeros((1, N_FEATURES + 1), dtype=np.float32))
