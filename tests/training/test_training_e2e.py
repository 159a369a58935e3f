"""End to end: synth -> claimrisk train -> registered model in a temporary MLflow SQLite store ->
mlflow.pyfunc -> scores on raw claims; from JSONL and from X12 837/835; promotion on the registry."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import orjson
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from synthetic.commands import synth
from training.commands import train
from training.export import verify_export

pytestmark = pytest.mark.slow

E2E_CLAIMS = 3_000


@pytest.fixture(scope="module")
def x12_history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("e2e") / "history"
    assert synth(n_claims=E2E_CLAIMS, seed=21, out=out, x12=True) == 0
    return out


@pytest.fixture()
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'store' / 'mlflow.db'}")
    (tmp_path / "store").mkdir()
    return tmp_path


def _train(claims: Path, remits: Path, models: Path, *, promote: bool, truth: Path | None = None) -> int:
    return train(
        claims_path=claims,
        remits_path=remits,
        promote=promote,
        truth_path=truth,
        holdout_fraction=0.2,
        target_precision=0.8,
        models_dir=models,
    )


def _pyfunc_scores(uri: str, claims_file: Path, n: int = 25) -> pd.DataFrame:
    model = mlflow.pyfunc.load_model(uri)
    raw = [line.decode() for line in claims_file.read_bytes().splitlines()[:n]]
    return model.predict(pd.DataFrame({"claim": raw}))


def test_jsonl_history_to_registered_pyfunc(
    x12_history: Path, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    h = x12_history
    assert (
        _train(
            h / "claims.jsonl", h / "remits.jsonl", store / "models", promote=True, truth=h / "truth.jsonl"
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "oracle" in out and "rule_count" in out and "promoted to @champion" in out
    client = MlflowClient()
    version = client.get_model_version_by_alias("claimrisk", "champion")
    assert str(version.version) == "1"
    scores = _pyfunc_scores("models:/claimrisk@champion", h / "claims.jsonl")
    assert scores.columns.tolist() == ["claim_id", "risk", "decision", "expected_loss"]
    assert scores["risk"].between(0, 1).all() and set(scores["decision"]) <= {"review", "pass"}
    # the export is what serving loads: checksum verified, same version as the registry
    meta = json.loads((store / "models" / "claimrisk.json").read_text())
    assert verify_export(store / "models").name == "claimrisk.joblib"
    assert meta["model_version"] == "1" and meta["registered_model"] == "claimrisk"
    # artifacts analysts look at
    run = client.get_run(version.run_id)
    names = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert {
        "plots/reliability.png",
        "plots/precision_recall.png",
        "plots/dollars_caught.png",
        "plots/feature_importances.png",
        "plots/per_payer_pr_auc.png",
    } <= names
    assert "model_card.md" in {a.path for a in client.list_artifacts(run.info.run_id)}
    assert run.data.tags["rules_version"] and run.data.tags["reference_data_version"]
    assert run.data.metrics["model_roc_auc"] > run.data.metrics["rule_count_roc_auc"]
    assert "oracle_roc_auc" in run.data.metrics and not (store / "mlruns").exists()  # artifacts beside the db


def test_worse_model_is_not_promoted(
    x12_history: Path, store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    h = x12_history
    assert _train(h / "claims.jsonl", h / "remits.jsonl", store / "models", promote=True) == 0
    exported = (store / "models" / "claimrisk.json").read_text()
    # invert the answers of the earliest 60% of claims: the next model learns from garbage
    dates = {
        c["claim_id"]: c["submission_date"]
        for c in map(orjson.loads, (h / "claims.jsonl").read_bytes().splitlines())
    }
    cutoff = sorted(dates.values())[int(len(dates) * 0.6)]
    flipped = []
    for raw in (h / "remits.jsonl").read_bytes().splitlines():
        row = orjson.loads(raw)
        if dates.get(row["claim_id"], "9999") < cutoff and row["outcome"] in ("paid", "denied", "reduced"):
            row["outcome"] = "paid" if row["outcome"] == "denied" else "denied"
        flipped.append(orjson.dumps(row))
    bad = tmp_path / "bad_remits.jsonl"
    bad.write_bytes(b"\n".join(flipped) + b"\n")
    capsys.readouterr()
    assert _train(h / "claims.jsonl", bad, store / "models", promote=True) == 0
    out = capsys.readouterr().out
    assert "not promoted to @champion" in out and "worse" in out and "v1" in out
    client = MlflowClient()
    assert str(client.get_model_version_by_alias("claimrisk", "champion").version) == "1"
    assert (store / "models" / "claimrisk.json").read_text() == exported  # the export is untouched
    run = client.get_run(client.get_model_version("claimrisk", "2").run_id)
    assert run.data.tags["promoted"] == "false"


def test_x12_history_to_registered_pyfunc(x12_history: Path, store: Path) -> None:
    h = x12_history
    assert (h / "claims.837").is_file() and (h / "remits.835").is_file()
    assert _train(h / "claims.837", h / "remits.835", store / "models", promote=False) == 0
    client = MlflowClient()
    latest = max(int(v.version) for v in client.search_model_versions("name='claimrisk'"))
    scores = _pyfunc_scores(f"models:/claimrisk/{latest}", h / "claims.jsonl")
    assert scores["risk"].between(0, 1).all()
    assert not (store / "models").exists()  # not promoted: nothing exported
