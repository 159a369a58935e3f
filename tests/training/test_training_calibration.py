"""``CalibratedBooster.predict_fast``: the public ``Booster.predict`` path gives ``predict_proba``'s
numbers for every input size and layout, uses no private LightGBM API, and old pickles still load."""

from __future__ import annotations

import inspect
import pickle

import joblib
import numpy as np
import pytest
from lightgbm import LGBMClassifier

from training import calibration
from training.calibration import CalibratedBooster

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


def test_predict_fast_equals_predict_proba_for_every_size(booster_model: CalibratedBooster) -> None:
    X = _rows(99, 3000)
    slow = booster_model.predict_proba(X)[:, 1]
    for part in (slice(0, 1), slice(5, 9), slice(0, 32), slice(0, 33), slice(None)):
        assert np.array_equal(booster_model.predict_fast(X[part]), slow[part])
    for layout in (X[:7], np.asfortranarray(X[:7])):
        assert np.array_equal(booster_model.predict_fast(layout), booster_model.calibrate(_public(booster_model, layout)))


def test_no_private_lightgbm_api_is_used() -> None:
    """Issue 18 item 2: nothing reaches into ``lightgbm.basic`` or ctypes (a LightGBM upgrade would
    break it silently); this fails on the old code, which called ``_LIB`` through ctypes."""
    source = inspect.getsource(calibration)
    for private in ("ctypes", "_LIB", "_handle", "lightgbm import basic", "_safe_call"):
        assert private not in source


def test_pickles_round_trip_and_carry_no_c_handle(
    booster_model: CalibratedBooster, tmp_path: pytest.TempPathFactory
) -> None:
    X = _rows(7, 3)
    expected = booster_model.predict_fast(X)
    data = pickle.dumps(booster_model)
    assert b"_SingleRowPredictor" not in data
    assert np.array_equal(pickle.loads(data).predict_fast(X), expected)
    path = tmp_path / "model.joblib"  # type: ignore[operator]
    joblib.dump(booster_model, path)
    assert np.array_equal(joblib.load(path).predict_fast(X), expected)


def test_a_pickle_naming_the_old_cache_slot_still_loads(booster_model: CalibratedBooster) -> None:
    """A state dict carrying the former ctypes cache key (``_row_predictor``) loads without it."""
    X = _rows(3, 5)
    expected = booster_model.predict_fast(X)
    state = dict(booster_model.__getstate__())
    state["_row_predictor"] = False
    restored = CalibratedBooster.__new__(CalibratedBooster)
    restored.__setstate__(state)
    assert "_row_predictor" not in restored.__dict__
    assert np.array_equal(restored.predict_fast(X), expected)


def test_float64_rows_take_the_public_path(booster_model: CalibratedBooster) -> None:
    X = _rows(5, 3).astype(np.float64) + 1e-9  # not exactly representable in float32
    expected = booster_model.calibrate(_public(booster_model, X))
    assert np.array_equal(booster_model.predict_fast(X), expected)


def test_a_wrong_feature_count_still_fails_as_before(booster_model: CalibratedBooster) -> None:
    with pytest.raises(Exception, match="number of features"):
        booster_model.predict_fast(np.zeros((1, N_FEATURES + 1), dtype=np.float32))
