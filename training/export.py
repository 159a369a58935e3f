"""Export the promoted model to ``models/`` for serving, with a checksum serving verifies.

A joblib file is code: loading a tampered one executes whatever it holds. Serving therefore reads
``claimrisk.json`` first and refuses a ``claimrisk.joblib`` whose sha256 differs. The sha256 proves
integrity, not authenticity (whoever can write one file can write both), so with
``CLAIMRISK_MODEL_SIGNING_KEY`` set the export also carries ``claimrisk.sig`` (``training.signing``),
which loaders verify before unpickling. Files are written
to temporaries and renamed, so a crash never leaves a half-written model where serving looks.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path
from typing import Any

import joblib

from claims.errors import InputError
from training.risk_model import RiskModel
from training.signing import (
    SIGNATURE_FILE,
    SignatureError,
    SignedManifest,
    compute_mac,
    read_manifest,
    signing_key,
    verify_directory,
)

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


def export_model(model: RiskModel, models_dir: Path | None = None, *, key: bytes | None = None) -> Path:
    """Write models_dir/claimrisk.joblib and claimrisk.json (metadata + "sha256"); return the joblib path.

    With a signing ``key`` (default: ``CLAIMRISK_MODEL_SIGNING_KEY``) also ``claimrisk.sig``, an
    HMAC over both files and the model's name and version. Renamed into place joblib, signature,
    metadata last: serving watches the metadata file, so when it changes the others are new too."""
    directory = Path(models_dir) if models_dir is not None else default_models_dir()
    directory.mkdir(parents=True, exist_ok=True)
    key = key if key is not None else signing_key()
    tmp_model = directory / f".{MODEL_FILE}.tmp"
    joblib.dump(model, tmp_model, compress=3)
    metadata: dict[str, Any] = {
        **model.metadata,
        "threshold": model.threshold,
        "sha256": file_sha256(tmp_model),
        "file": MODEL_FILE,
    }
    tmp_meta = directory / f".{METADATA_FILE}.tmp"
    tmp_meta.write_text(json.dumps(metadata, indent=2, sort_keys=True, default=str))
    tmp_sig = directory / f".{SIGNATURE_FILE}.tmp"
    if key is not None:
        files = {MODEL_FILE: tmp_model.read_bytes(), METADATA_FILE: tmp_meta.read_bytes()}
        name, version = _signed_identity(metadata)
        manifest = SignedManifest(name, version, tuple(sorted(files)), compute_mac(key, name=name, version=version, files=files))
        tmp_sig.write_text(manifest.to_json(), encoding="utf-8")
    os.replace(tmp_model, directory / MODEL_FILE)
    if key is not None:
        os.replace(tmp_sig, directory / SIGNATURE_FILE)
    else:  # a stale signature of an earlier export would only mislead
        (directory / SIGNATURE_FILE).unlink(missing_ok=True)
    os.replace(tmp_meta, directory / METADATA_FILE)
    return directory / MODEL_FILE


def _signed_identity(metadata: dict[str, Any]) -> tuple[str, str]:
    """(name, version) an export is signed as: the registered model it was promoted from."""
    return str(metadata.get("registered_model") or "claimrisk"), str(metadata.get("model_version", ""))


def verify_export_signature(directory: Path, metadata: dict[str, Any], key: bytes) -> dict[str, bytes]:
    """The verified bytes of ``claimrisk.joblib`` and ``claimrisk.json`` (SignatureError otherwise).

    Nothing is unpickled here; callers load the returned joblib bytes, not a second read of the
    file, so nothing can be swapped in between. The signed name and version must be the ones the
    (equally signed) metadata names."""
    name, version = _signed_identity(metadata)
    return verify_directory(
        directory,
        read_manifest(directory),
        name=name,
        version=version,
        key=key,
        exact=False,  # models/ also holds the model card and a README, which nothing deserialises
        required=(MODEL_FILE, METADATA_FILE),
    )


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


def load_exported(models_dir: Path | None = None, *, key: bytes | None = None) -> RiskModel:
    """Verify (sha256; and the signature when a key is given or configured), then load."""
    directory = Path(models_dir) if models_dir is not None else default_models_dir()
    model_path = verify_export(directory)
    key = key if key is not None else signing_key()
    if key is not None:
        signed = verify_export_signature(directory, read_metadata(directory), key)
        content = signed[MODEL_FILE]
        if hashlib.sha256(content).hexdigest() != json.loads(signed[METADATA_FILE]).get("sha256"):
            raise SignatureError(f"{model_path} does not match its signed metadata: refusing to load it")
        model = joblib.load(io.BytesIO(content))
    else:
        model = joblib.load(model_path)
    if not isinstance(model, RiskModel):
        raise InputError("the exported file does not hold a claimrisk RiskModel")
    return model
