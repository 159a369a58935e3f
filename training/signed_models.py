"""Registered models on MLflow, signed at registration and verified before anything is unpickled.

``mlflow.pyfunc.load_model("models:/…")`` unpickles (and, for a models-from-code pyfunc, runs the
logged Python file) before any check of ours could run. So the registry path is split in two:
download the version's files into a private temporary folder with MLflow's public
``mlflow.artifacts.download_artifacts``, verify them against the signature (``training.signing``),
and only then load the pyfunc from that verified copy.

The signature of a registered version lives in its model-version tag ``claimrisk_signature``: the
version number exists only once MLflow has registered the model, and it is part of what is
signed, so one version's signature never vouches for another's files. The signature covers every
file of the downloaded model (``MLmodel``, the code file MLflow runs, the joblib artifact, the
environment files): a directory holding any file it does not list is refused too.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import mlflow

from training.signing import SIGNATURE_TAG, SignatureError, SignedManifest, sign_directory, verify_directory


def _download(name: str, version: str, destination: Path) -> Path:
    """The files of ``models:/<name>/<version>`` (by number: an alias could move in between)."""
    return Path(
        mlflow.artifacts.download_artifacts(artifact_uri=f"models:/{name}/{version}", dst_path=str(destination))
    )


def sign_registered_version(client: Any, name: str, version: str, key: bytes) -> SignedManifest:
    """Sign every file of registered model ``name`` version ``version`` and tag the version with it.

    Signs what a loader will download (not the folder this process logged from), so the bytes
    signed are the bytes verified, whatever MLflow adds to a logged model."""
    with tempfile.TemporaryDirectory(prefix="claimrisk-sign-") as tmp:
        local = _download(name, version, Path(tmp))
        manifest = sign_directory(local, name=name, version=str(version), key=key)
    client.set_model_version_tag(name, str(version), SIGNATURE_TAG, manifest.to_json())
    return manifest


def load_registered(client: Any, name: str, alias: str, *, key: bytes | None) -> tuple[Any, Any, bool]:
    """(RiskModel, MLflow ModelVersion, signed) for ``models:/<name>@<alias>``.

    With ``key``, the version's files are verified against its signature tag before anything is
    loaded, and a missing or wrong signature raises ``SignatureError``; without it the model loads
    as before (``signed`` False). Either way it is loaded from a downloaded copy, the verified one.
    """
    version = client.get_model_version_by_alias(name, alias)
    number = str(version.version)
    with tempfile.TemporaryDirectory(prefix="claimrisk-load-") as tmp:
        local = _download(name, number, Path(tmp))
        if key is not None:
            tagged = (version.tags or {}).get(SIGNATURE_TAG)
            if not tagged:
                raise SignatureError(
                    f"registered model {name} version {number} is not signed, and a signing key is set: "
                    "refusing to load it"
                )
            manifest = SignedManifest.from_json(tagged)
            verify_directory(local, manifest, name=name, version=number, key=key, exact=True)
        pyfunc = mlflow.pyfunc.load_model(str(local))
    model = pyfunc.unwrap_python_model() if hasattr(pyfunc, "unwrap_python_model") else pyfunc
    model = getattr(model, "model", model)  # training.pyfunc.ClaimRiskPyfunc keeps the RiskModel here
    return model, version, key is not None
