"""Export the promoted model to ``models/`` for serving, with a checksum serving verifies.

A joblib file is code: loading a tampered one executes whatever it holds. Serving therefore reads
``claimrisk.json`` first and refuses a ``claimrisk.joblib`` whose sha256 differs. Files are written
to temporaries and renamed, so a crash never leaves a half-written model where serving looks.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import joblib

from claims.errors import InputError
from training.risk_model import RiskModel

MODEL_FILE = "claimrisk.joblib"
METADATA_FILE = "claimrisk.json"


def default_models_dir() -> Path:
    return Path(os.environ.get("CLAIMRISK_MODELS_DIR") or Path.cwd() / "models")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def export_model(model: RiskModel, models_dir: Path | None = None) -> Path:
    """Write models_dir/claimrisk.joblib and claimrisk.json (metadata + "sha256"); return the joblib path."""
    directory = Path(models_dir) if models_dir is not None else default_models_dir()
    directory.mkdir(parents=True, exist_ok=True)
    model_path = directory / MODEL_FILE
    tmp_model = directory / f".{MODEL_FILE}.tmp"
    joblib.dump(model, tmp_model, compress=3)
    digest = file_sha256(tmp_model)
    metadata: dict[str, Any] = {
        **model.metadata,
        "threshold": model.threshold,
        "sha256": digest,
        "file": MODEL_FILE,
    }
    tmp_meta = directory / f".{METADATA_FILE}.tmp"
    tmp_meta.write_text(json.dumps(metadata, indent=2, sort_keys=True, default=str))
    os.replace(tmp_model, model_path)
    os.replace(tmp_meta, directory / METADATA_FILE)
    return model_path


def read_metadata(models_dir: Path | None = None) -> dict[str, Any]:
    directory = Path(models_dir) if models_dir is not None else default_models_dir()
    path = directory / METADATA_FILE
    if not path.is_file():
        raise InputError(f"no exported model in {directory} (run `claimrisk train --promote`)")
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def verify_export(models_dir: Path | None = None) -> Path:
    """The joblib path when its sha256 matches the metadata; InputError (nothing loaded) otherwise."""
    directory = Path(models_dir) if models_dir is not None else default_models_dir()
    expected = read_metadata(directory).get("sha256")
    model_path = directory / MODEL_FILE
    if not model_path.is_file():
        raise InputError(f"{model_path} is missing")
    if not expected or file_sha256(model_path) != expected:
        raise InputError(f"{model_path} does not match the sha256 in {METADATA_FILE}: refusing to load it")
    return model_path


def load_exported(models_dir: Path | None = None) -> RiskModel:
    """Verify, then load the exported model."""
    model = joblib.load(verify_export(models_dir))
    if not isinstance(model, RiskModel):
        raise InputError("the exported file does not hold a claimrisk RiskModel")
    return model
