"""Drift in serving: the live window behind /v1/model and /metrics, and ``claimrisk drift``."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import joblib
import pytest
from fastapi.testclient import TestClient

from claimrisk.cli import main
from serving.drift import LiveDrift, gauge_values
from serving.model_store import load_export
from serving.scorer import Scorer, load_rule_context

from .conftest import new_client


@pytest.fixture(scope="module")
def history_claims(history_dir: Path) -> list[dict[str, Any]]:
    with (history_dir / "claims.jsonl").open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle][:400]


@pytest.fixture
def drift_client(models_dir: Path) -> Iterator[TestClient]:
    with new_client(models_dir=models_dir) as client:  # a fresh app: an empty window
        yield client


def _tripled(claims: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = copy.deepcopy(claims)
    for claim in out:
        if claim.get("total_charge") is not None:
            claim["total_charge"] *= 3
        for line in claim["lines"]:
            line["charge"] *= 3
    return out


def test_model_reports_drift_of_recent_score_traffic(drift_client: TestClient, history_claims: list[dict]) -> None:
    before = drift_client.get("/v1/model").json()["drift"]
    assert before["available"] and before["recent"]["claims"] == 0 and not before["drifted"]
    for claim in history_claims[:150]:
        assert drift_client.post("/v1/score", json=claim).status_code == 200
    drift = drift_client.get("/v1/model").json()["drift"]
    assert drift["recent"]["claims"] == 150 and drift["enough_claims"]
    assert drift["context"]["total_charge"]["psi"] < 0.2 and not drift["context"]["total_charge"]["drifted"]
    assert set(drift["groups"]) == {"score", "context", "rules", "rules_by_payer"}

    response = drift_client.post("/v1/score/batch", json={"claims": _tripled(history_claims)})
    assert response.status_code == 200
    drift = drift_client.get("/v1/model").json()["drift"]
    assert drift["recent"]["claims"] == 550
    assert drift["context"]["total_charge"]["drifted"] and "context:total_charge" in drift["flagged"]

    metrics = drift_client.get("/metrics").text
    gauge = [line for line in metrics.splitlines() if line.startswith('claimrisk_drift_psi{group="context:total_charge"}')]
    assert gauge and float(gauge[0].split()[-1]) == pytest.approx(drift["context"]["total_charge"]["psi"], abs=1e-6)
    assert "claimrisk_drift_window_claims 550.0" in metrics


def test_window_keeps_only_the_latest_claims_as_bin_codes(models_dir: Path, history_claims: list[dict]) -> None:
    from claims.columnar import from_claims
    from claims.model import Claim

    model, metadata = load_export(models_dir)
    scorer = Scorer(model, metadata=metadata, context=load_rule_context())
    window = LiveDrift(capacity=256, refresh_every=100)
    frame = from_claims([Claim.model_validate(c) for c in history_claims])
    arrays = scorer.score_arrays(frame, None, with_fixes=False)
    assert arrays.features is not None
    due = [
        window.observe(scorer, replace(arrays, features=arrays.features[i : i + 50], risk=arrays.risk[i : i + 50]))
        for i in range(0, 400, 50)
    ]
    assert due.count(True) == 4  # every 100 claims
    report = window.report(scorer)
    assert report["recent"]["claims"] == 256
    # the window is the latest 256 claims: the same report as binning those directly
    from training.drift import drift_report

    names = [str(n) for n in model.featurizer.get_feature_names_out()]
    direct = drift_report(metadata["drift_reference"], arrays.features[-256:], arrays.risk[-256:], names)
    assert report["context"] == direct["context"] and report["score"] == direct["score"]
    assert gauge_values(report)["score"] == direct["score"]["psi"]


def test_a_model_without_a_reference_reports_none(models_dir: Path, tmp_path: Path, claim: dict) -> None:
    model, metadata = load_export(models_dir)
    del model.metadata["drift_reference"]
    old_dir = tmp_path / "old"
    old_dir.mkdir()
    joblib.dump(model, old_dir / "claimrisk.joblib")
    import hashlib

    metadata = {k: v for k, v in metadata.items() if k not in ("drift_reference", "signed")}
    metadata["sha256"] = hashlib.sha256((old_dir / "claimrisk.joblib").read_bytes()).hexdigest()
    (old_dir / "claimrisk.json").write_text(json.dumps(metadata), encoding="utf-8")
    with new_client(models_dir=old_dir) as client:
        assert client.post("/v1/score", json=claim).status_code == 200
        drift = client.get("/v1/model").json()["drift"]
        assert drift == {"available": False, "reason": drift["reason"]} and "no drift reference" in drift["reason"]
        assert "claimrisk_drift_psi{" not in client.get("/metrics").text


def test_drift_command_writes_the_report_and_exits_0(
    models_dir: Path, history_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, history_claims: list[dict]
) -> None:
    monkeypatch.setenv("CLAIMRISK_MODELS_DIR", str(models_dir))
    same = tmp_path / "same.json"
    assert main(["drift", "--claims", str(history_dir / "claims.jsonl"), "--output", str(same)]) == 0
    report = json.loads(same.read_text())
    assert report["model_version"] and report["recent"]["claims"] > 1000
    assert report["reference"]["claims"] and report["reference"]["from"] and report["reference"]["to"]
    assert not report["drifted"] and report["groups"]["context"] < 0.01 and report["score"]["psi"] < 0.05

    shifted = tmp_path / "shifted.jsonl"
    shifted.write_text("".join(json.dumps(c) + "\n" for c in _tripled(history_claims)), encoding="utf-8")
    out = tmp_path / "out" / "drift.json"
    assert main(["drift", "--claims", str(shifted), "--output", str(out)]) == 0  # drift is no failure
    report = json.loads(out.read_text())
    assert report["drifted"] and report["context"]["total_charge"]["psi"] > 0.2


def test_drift_command_without_a_model_exits_2(empty_models_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CLAIMRISK_MODELS_DIR", str(empty_models_dir))
    claims = tmp_path / "claims.jsonl"
    claims.write_text("", encoding="utf-8")
    assert main(["drift", "--claims", str(claims), "--output", str(tmp_path / "d.json")]) == 2
    assert "no exported model" in capsys.readouterr().err
