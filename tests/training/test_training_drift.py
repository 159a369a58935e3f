"""Drift (PSI) between the training window and recent claims: training.drift on a real history and model."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest

from claims.columnar import ClaimFrame
from training.drift import (
    PSI_DRIFTED,
    DriftBins,
    build_reference,
    drift_report,
    psi,
    rate_psi,
    reference_rows,
)
from training.pipeline import TrainResult


def _features(trained: TrainResult, frame: ClaimFrame) -> tuple[np.ndarray, np.ndarray]:
    X, _ = trained.model.featurize(frame)
    return X, trained.model.predict_from_features(X)


@pytest.fixture(scope="module")
def window(trained: TrainResult) -> dict[str, Any]:
    """The whole history featurized as serving would, its scores, and a reference built on it."""
    X, risk = _features(trained, trained.data.frame)
    names = [str(n) for n in trained.model.featurizer.get_feature_names_out()]
    reference = build_reference(X, risk, names, {"claims": int(X.shape[0])})
    return {"X": X, "risk": risk, "names": names, "reference": reference}


def _scaled_charges(frame: ClaimFrame, factor: float) -> ClaimFrame:
    lines = dict(frame.lines)
    lines["charge"] = frame.lines["charge"] * factor
    lines["total_charge"] = frame.lines["total_charge"] * factor
    return ClaimFrame(lines, frame.diagnoses, frame.attachments, frame.n_claims, frame.claim_ids)


def test_psi_by_hand() -> None:
    assert psi(np.array([10, 20, 70]), np.array([1, 2, 7])) == pytest.approx(0.0, abs=1e-12)
    expected = (0.5 - 0.2) * math.log(0.5 / 0.2) + (0.5 - 0.8) * math.log(0.5 / 0.8)
    assert psi(np.array([2, 8]), np.array([5, 5])) == pytest.approx(expected, rel=1e-12)
    # an empty bin counts as 1e-4 of its population, so the index stays finite
    assert psi(np.array([0, 10]), np.array([5, 5])) == pytest.approx(
        (0.5 - 1e-4) * math.log(0.5 / 1e-4) + (0.5 - 1.0) * math.log(0.5 / 1.0), rel=1e-12
    )
    assert rate_psi(np.array([0.2]), np.array([0.5]))[0] == pytest.approx(expected, rel=1e-12)


def test_reference_is_json_and_decile_bins(window: dict[str, Any]) -> None:
    reference = window["reference"]
    assert json.loads(json.dumps(reference)) == reference
    assert {"total_charge", "days_to_submission_max", "units_total"} <= set(reference["numeric"])
    assert {"payer_id", "claim_type", "place_of_service"} <= set(reference["categorical"])
    assert len(reference["score_edges"]) <= 9 and reference["score_edges"] == sorted(set(reference["score_edges"]))
    # deciles: no score bin holds much more than a tenth of the window (ties aside)
    shares = np.asarray(reference["counts"]["score"]) / reference["claims"]
    assert shares.sum() == pytest.approx(1.0)
    assert sum(reference["payer_claims"]) == reference["claims"]


def test_history_against_itself_is_not_drift(window: dict[str, Any]) -> None:
    report = drift_report(window["reference"], window["X"], window["risk"], window["names"])
    assert report["score"]["psi"] < 0.01
    assert max(e["psi"] for e in report["context"].values()) < 0.01
    assert report["groups"]["rules"] < 0.01
    assert report["groups"]["rules_by_payer"] < 0.01
    assert not report["drifted"] and report["flagged"] == []
    assert report["recent"]["claims"] == window["X"].shape[0]


def test_a_random_half_is_not_drift(window: dict[str, Any]) -> None:
    rows = np.random.default_rng(0).permutation(window["X"].shape[0])[: window["X"].shape[0] // 2]
    report = drift_report(window["reference"], window["X"][rows], window["risk"][rows], window["names"])
    assert report["score"]["psi"] < 0.05
    assert report["context"]["total_charge"]["psi"] < 0.05
    assert report["groups"]["rules"] < 0.05


def test_tripled_charges_are_flagged(trained: TrainResult, window: dict[str, Any]) -> None:
    X, risk = _features(trained, _scaled_charges(trained.data.frame, 3.0))
    report = drift_report(window["reference"], X, risk, window["names"])
    assert report["context"]["total_charge"]["psi"] > PSI_DRIFTED
    assert report["context"]["total_charge"]["drifted"]
    assert "context:total_charge" in report["flagged"] and report["drifted"]
    assert report["context"]["payer_id"]["psi"] < 0.01  # the payers did not move


def test_a_changed_payer_mix_is_flagged(trained: TrainResult, window: dict[str, Any]) -> None:
    payers = trained.data.payer_id
    top = max(set(payers.tolist()), key=lambda p: int(np.sum(payers == p)))
    rows = np.flatnonzero(payers == top)
    report = drift_report(window["reference"], window["X"][rows], window["risk"][rows], window["names"])
    assert report["context"]["payer_id"]["psi"] > PSI_DRIFTED
    assert "context:payer_id" in report["flagged"]


def test_a_rule_firing_more_at_one_payer_is_flagged_for_that_payer(window: dict[str, Any]) -> None:
    X, names, reference = window["X"].copy(), window["names"], window["reference"]
    rates = np.asarray(reference["rule_counts"]) / reference["claims"]
    rule = reference["rules"][int(np.argmin(np.where(rates > 0, rates, np.inf)))]  # a rare rule
    payer_counts = np.asarray(reference["payer_claims"])
    payer = reference["payers"][int(np.argmax(payer_counts))]
    at_payer = X[:, names.index(f"payer_id={payer}")] > 0
    X[np.flatnonzero(at_payer)[::2], names.index(f"rule:{rule}")] = 1.0  # half that payer's claims
    report = drift_report(reference, X, window["risk"], names)
    assert report["rules_by_payer"][payer]["rules"][rule]["drifted"]
    assert f"rules_by_payer:{payer}:{rule}" in report["flagged"]
    others = [p for p, e in report["rules_by_payer"].items() if p != payer and e["psi"] is not None]
    assert others and all(not report["rules_by_payer"][p]["drifted"] for p in others)


def test_too_few_claims_flag_nothing(trained: TrainResult, window: dict[str, Any]) -> None:
    X, risk = _features(trained, _scaled_charges(trained.data.frame, 3.0))
    report = drift_report(window["reference"], X[:50], risk[:50], window["names"])
    assert not report["enough_claims"] and not report["drifted"] and report["flagged"] == []
    assert report["context"]["total_charge"]["psi"] > PSI_DRIFTED  # measured, just not flagged


def test_missing_values_have_their_own_bin(window: dict[str, Any]) -> None:
    X, names, reference = window["X"].copy(), window["names"], window["reference"]
    X[:, names.index("total_charge")] = np.nan
    bins = DriftBins.of(reference, names)
    counts = bins.count(bins.codes(X, window["risk"])).group(bins, "total_charge")
    assert counts[-1] == X.shape[0] and counts[:-1].sum() == 0


def test_reference_rows_are_evenly_spread() -> None:
    assert reference_rows(10).tolist() == list(range(10))
    rows = reference_rows(1_000_000, limit=1_000)
    assert rows.shape[0] == 1_000 and rows[0] == 0 and rows[-1] == 999_999
    assert np.all(np.diff(rows) > 0)


def test_a_featurizer_without_the_reference_columns_is_refused(window: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="columns the featurizer lacks"):
        DriftBins.of(window["reference"], [n for n in window["names"] if n != "total_charge"])


def test_the_trained_model_carries_its_training_window_reference(trained: TrainResult) -> None:
    reference = trained.model.metadata["drift_reference"]
    assert json.loads(json.dumps(reference)) == reference  # it travels in claimrisk.json too
    assert reference["window"] == trained.model.metadata["training_window"]
    assert reference["claims"] == len(trained.data)  # a small history is binned whole
    # the window is the shipped model's own: its claims, scored by it, are no drift
    X, risk = _features(trained, trained.data.frame)
    names = [str(n) for n in trained.model.featurizer.get_feature_names_out()]
    report = drift_report(reference, X, risk, names)
    assert not report["drifted"], report["flagged"]
    assert report["groups"]["context"] < 0.01 and report["groups"]["rules"] < 0.01
    assert report["score"]["psi"] < 0.05  # scored by transform (serving), binned from training features
