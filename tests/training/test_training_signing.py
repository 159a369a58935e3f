"""Signed models (issue 17 item 8): the HMAC over a model's files, name and version is checked before
anything is unpickled, on the export path and on the MLflow registry path. The decisive cases swap
the model file for another valid model AND update the sha256 beside it: integrity checks pass, the
signature does not, and the model is refused. Without a key, loads work as before, "signed": false."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import joblib
import mlflow
import numpy as np
import pytest

from inputs.sources import load_claims
from serving.model_store import load_export, load_registry
from training.export import METADATA_FILE, MODEL_FILE, SIGNATURE_FILE, export_model, load_exported
from training.signed_models import sign_registered_version
from training.signing import (
    SIGNING_KEY_ENV,
    SignatureError,
    compute_mac,
    read_manifest,
    sign_directory,
    signing_key,
    verify_directory,
)

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "models"
KEY = b"test-signing-key-not-a-secret"


@pytest.fixture(scope="module")
def saved_model() -> object:
    return joblib.load(FIXTURES / "pre-wave2.joblib")


@pytest.fixture(scope="module")
def claims_frame() -> object:
    return load_claims(FIXTURES / "pre-wave2-claims.jsonl").frame


# --- the signature itself -------------------------------------------------------------------


def test_fields_are_length_framed_so_no_boundary_can_move() -> None:
    files = {"a": b"xy"}
    assert compute_mac(KEY, name="ab", version="c", files=files) != compute_mac(KEY, name="a", version="bc", files=files)
    assert compute_mac(KEY, name="m", version="1", files={"ab": b"c"}) != compute_mac(
        KEY, name="m", version="1", files={"a": b"bc"}
    )
    assert compute_mac(KEY, name="m", version="1", files=files) != compute_mac(b"other", name="m", version="1", files=files)


def test_directory_round_trip_and_every_kind_of_tampering(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "model.bin").write_bytes(b"weights")
    (tmp_path / "sub" / "code.py").write_text("x = 1\n")
    manifest = sign_directory(tmp_path, name="claimrisk", version="3", key=KEY)
    assert verify_directory(tmp_path, manifest, name="claimrisk", version="3", key=KEY, exact=True) == {
        "model.bin": b"weights",
        "sub/code.py": b"x = 1\n",
    }
    with pytest.raises(SignatureError, match="version"):  # one version's signature never vouches for another
        verify_directory(tmp_path, manifest, name="claimrisk", version="4", key=KEY, exact=True)
    with pytest.raises(SignatureError, match="model"):
        verify_directory(tmp_path, manifest, name="other", version="3", key=KEY, exact=True)
    with pytest.raises(SignatureError, match="does not match"):
        verify_directory(tmp_path, manifest, name="claimrisk", version="3", key=b"wrong", exact=True)
    (tmp_path / "planted.py").write_text("import os\n")
    with pytest.raises(SignatureError, match="planted.py"):
        verify_directory(tmp_path, manifest, name="claimrisk", version="3", key=KEY, exact=True)
    (tmp_path / "planted.py").unlink()
    (tmp_path / "model.bin").write_bytes(b"weightz")
    with pytest.raises(SignatureError, match="does not match"):
        verify_directory(tmp_path, manifest, name="claimrisk", version="3", key=KEY, exact=True)
    (tmp_path / "model.bin").unlink()
    with pytest.raises(SignatureError, match="missing"):
        verify_directory(tmp_path, manifest, name="claimrisk", version="3", key=KEY, exact=False)


def test_the_key_comes_from_the_environment_and_empty_means_none() -> None:
    assert signing_key({SIGNING_KEY_ENV: "k"}) == b"k"
    assert signing_key({SIGNING_KEY_ENV: ""}) is None
    assert signing_key({}) is None


# --- the export path --------------------------------------------------------------------------


def _swap_export_model(models_dir: Path, other: object) -> None:
    """Put another valid model in place and update the sha256 beside it, as an attacker would."""
    joblib.dump(other, models_dir / MODEL_FILE, compress=3)
    meta = json.loads((models_dir / METADATA_FILE).read_text())
    meta["sha256"] = hashlib.sha256((models_dir / MODEL_FILE).read_bytes()).hexdigest()
    (models_dir / METADATA_FILE).write_text(json.dumps(meta))


def test_a_signed_export_loads_and_a_swapped_one_is_refused(
    saved_model: object, claims_frame: object, tmp_path: Path
) -> None:
    export_model(saved_model, tmp_path, key=KEY)  # type: ignore[arg-type]
    assert (tmp_path / SIGNATURE_FILE).is_file()
    manifest = read_manifest(tmp_path)
    assert set(manifest.files) == {MODEL_FILE, METADATA_FILE}
    model, metadata = load_export(tmp_path, key=KEY)
    assert metadata["signed"] is True
    expected = np.loadtxt(FIXTURES / "pre-wave2-risks.txt")
    np.testing.assert_allclose(model.predict_risk(claims_frame), expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(load_exported(tmp_path, key=KEY).predict_risk(claims_frame), expected, rtol=0, atol=1e-12)

    other = joblib.load(FIXTURES / "pre-wave2.joblib")
    other.threshold = 0.01  # a different model, equally valid to unpickle
    _swap_export_model(tmp_path, other)
    with pytest.raises(SignatureError):
        load_export(tmp_path, key=KEY)
    with pytest.raises(SignatureError):
        load_exported(tmp_path, key=KEY)
    _model, unsigned = load_export(tmp_path)  # without a key: as before, and it says so
    assert unsigned["signed"] is False


def test_an_unsigned_export_is_refused_when_a_key_is_set(saved_model: object, tmp_path: Path) -> None:
    export_model(saved_model, tmp_path, key=KEY)  # type: ignore[arg-type]
    export_model(saved_model, tmp_path, key=None)  # type: ignore[arg-type]
    assert not (tmp_path / SIGNATURE_FILE).exists()  # no stale signature left behind
    assert load_export(tmp_path)[1]["signed"] is False
    with pytest.raises(SignatureError, match="not signed"):
        load_export(tmp_path, key=KEY)


# --- the registry path ------------------------------------------------------------------------


def _register(model_path: Path, name: str) -> str:
    info = mlflow.pyfunc.log_model(
        name="model",
        python_model=str(Path(__file__).resolve().parents[2] / "training" / "pyfunc_model.py"),
        artifacts={"model": str(model_path)},
        registered_model_name=name,
    )
    return str(info.registered_model_version)


def test_a_signed_registry_model_loads_and_a_swapped_artifact_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, claims_frame: object
) -> None:
    monkeypatch.chdir(tmp_path)
    store = tmp_path / "store"
    store.mkdir()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{store / 'mlflow.db'}")
    from training.tracking import configure

    client, experiment_id = configure()
    name = "claimrisk-signing-test"
    model_path = tmp_path / "claimrisk.joblib"
    shutil.copy(FIXTURES / "pre-wave2.joblib", model_path)
    with mlflow.start_run(experiment_id=experiment_id):
        version = _register(model_path, name)
    sign_registered_version(client, name, version, KEY)
    client.set_registered_model_alias(name, "champion", version)

    model, metadata = load_registry(name, "champion", key=KEY)
    assert metadata["signed"] is True and metadata["registry_version"] == version
    expected = np.loadtxt(FIXTURES / "pre-wave2-risks.txt")
    np.testing.assert_allclose(model.predict_risk(claims_frame), expected, rtol=0, atol=1e-12)
    assert load_registry(name, "champion")[1]["signed"] is False

    stored = [p for p in tmp_path.rglob(MODEL_FILE) if "artifacts" in p.parts and p != model_path]
    assert stored, "the registered artifact is in the store"
    other = joblib.load(FIXTURES / "pre-wave2.joblib")
    other.threshold = 0.01
    for path in stored:
        joblib.dump(other, path, compress=3)
    with pytest.raises(SignatureError):
        load_registry(name, "champion", key=KEY)

    with mlflow.start_run(experiment_id=experiment_id):  # a version registered without signing
        unsigned = _register(model_path, name)
    client.set_registered_model_alias(name, "champion", unsigned)
    with pytest.raises(SignatureError, match="not signed"):
        load_registry(name, "champion", key=KEY)
