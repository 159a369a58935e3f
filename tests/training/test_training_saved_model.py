"""A model saved before the second wave of changes (tests/data/models/README.md) still loads with
today's code and gives exactly the risks it gave then: a refactor may move code, never what a
saved model means. Fails if a pickled class path (``features.transformer.ClaimFeaturizer``,
``training.calibration.CalibratedBooster``, ``training.risk_model.RiskModel``) moves without an
alias, or if featurizing or calibrating changes any number."""

from __future__ import annotations

import zlib
from pathlib import Path

import joblib
import numpy as np

from inputs.sources import load_claims
from training.risk_model import RiskModel

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "models"
MODEL = FIXTURES / "pre-wave2.joblib"


def _risks() -> np.ndarray:
    return np.loadtxt(FIXTURES / "pre-wave2-risks.txt", dtype=np.float64)


def test_the_pre_wave2_model_scores_its_claims_exactly_as_when_saved() -> None:
    model = joblib.load(MODEL)
    assert isinstance(model, RiskModel)
    read = load_claims(FIXTURES / "pre-wave2-claims.jsonl")
    assert not read.errors and read.frame.n_claims == 200
    expected = _risks()
    np.testing.assert_allclose(model.predict_risk(read.frame), expected, rtol=0, atol=1e-12)
    X, _fired = model.featurize(read.frame)
    np.testing.assert_allclose(model.predict_from_features(X), expected, rtol=0, atol=1e-12)
    one_by_one = np.concatenate([model.predict_from_features(X[i : i + 1]) for i in range(X.shape[0])])
    np.testing.assert_allclose(one_by_one, expected, rtol=0, atol=1e-12)


def test_the_fixture_really_holds_the_classes_it_names() -> None:
    """Guards the test above against a re-saved fixture: the old pickle (zlib, joblib compress=3)
    names these module paths and classes, so loading it exercises every one of them."""
    stream = zlib.decompressobj().decompress(MODEL.read_bytes())
    for module, name in (
        (b"features.transformer", b"ClaimFeaturizer"),
        (b"training.calibration", b"CalibratedBooster"),
        (b"training.risk_model", b"RiskModel"),
    ):
        assert module in stream and name in stream
