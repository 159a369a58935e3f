"""Loading the served model, verifying it, and swapping in a newly promoted one without a restart.

A joblib file is code: loading a tampered one executes whatever it contains. The export therefore
carries the sha256 recorded at promotion time and nothing is unpickled before the file's digest
matches it. The registry path trusts MLflow's own store instead (its artifacts are written by
``claimrisk train`` only).

Hot reload swaps one reference: a request picks up the current ``Scorer`` once at its start and
keeps it to the end, so requests in flight finish on the old model while new ones use the new one;
a failed load leaves the old model serving.
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from serving.config import Settings
from serving.errors import ModelIntegrityError, ModelUnavailable, ServingError
from serving.scorer import RuleContext, Scorer

logger = logging.getLogger("claimrisk.model")

@dataclass(frozen=True)
class ExportStamp:
    """What identifies one promoted export on disk: cheap to read, changes on every promotion."""

    mtime_ns: int
    sha256: str


def read_export_stamp(metadata_path: Path) -> ExportStamp | None:
    try:
        mtime = metadata_path.stat().st_mtime_ns
        sha = str(json.loads(metadata_path.read_text(encoding="utf-8")).get("sha256", ""))
    except (OSError, ValueError):
        return None
    return ExportStamp(mtime, sha)


def load_export(models_dir: Path) -> tuple[Any, dict[str, Any]]:
    """Load ``claimrisk.joblib`` after checking it against the sha256 in ``claimrisk.json``."""
    metadata_path = models_dir / "claimrisk.json"
    model_path = models_dir / "claimrisk.joblib"
    if not metadata_path.is_file() or not model_path.is_file():
        raise ModelUnavailable(
            f"no exported model in {models_dir} (expected claimrisk.json and claimrisk.joblib; "
            "run `claimrisk train --promote`)"
        )
    try:
        metadata = json.loads(metadata_path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ModelUnavailable(f"{metadata_path} is not valid JSON: {exc}") from exc
    expected = str(metadata.get("sha256", "")).lower()
    if not expected:
        raise ModelIntegrityError(f"{metadata_path} records no sha256; refusing to load an unverified model")
    # Hash and unpickle the same bytes: a file swapped between the check and the load cannot slip in.
    content = model_path.read_bytes()
    actual = hashlib.sha256(content).hexdigest()
    if actual != expected:
        raise ModelIntegrityError(
            f"{model_path} has sha256 {actual[:12]}… but {metadata_path.name} records {expected[:12]}…; "
            "refusing to load a model file that is not the one promoted"
        )
    import io

    import joblib

    model = joblib.load(io.BytesIO(content))
    return model, metadata


def load_registry(name: str, alias: str) -> tuple[Any, dict[str, Any]]:
    """Load ``models:/<name>@<alias>`` from the MLflow registry (``MLFLOW_TRACKING_URI`` or the default)."""
    import os

    import mlflow

    if not os.environ.get("MLFLOW_TRACKING_URI"):  # the embedded default of CONTRACT §1
        mlflow.set_tracking_uri(f"sqlite:///{Path.cwd() / 'mlruns' / 'mlflow.db'}")
    uri = f"models:/{name}@{alias}"
    try:
        client = mlflow.MlflowClient()
        version = client.get_model_version_by_alias(name, alias)
        pyfunc = mlflow.pyfunc.load_model(uri)
    except Exception as exc:  # MLflow raises many types; the message is what an operator needs
        raise ModelUnavailable(f"cannot load {uri} from the MLflow registry: {exc}") from exc
    model = pyfunc.unwrap_python_model() if hasattr(pyfunc, "unwrap_python_model") else pyfunc
    model = getattr(model, "model", model)  # training.pyfunc.ClaimRiskPyfunc keeps the RiskModel here
    metadata = dict(getattr(model, "metadata", {}) or {})
    metadata.setdefault("model_version", f"{name}/{version.version}")
    metadata["registry_version"] = str(version.version)
    return model, metadata


def freeze_heap() -> None:
    """Move everything alive now (model, reference data, imported modules) out of the cyclic
    collector's reach: otherwise each full collection walks millions of long-lived objects, and
    those pauses are what the API's p99 latency is made of. Called after every model (re)load;
    unfreezing first lets a replaced model's cycles be collected instead of pinned forever."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


class ModelStore:
    """Holds the current scorer; swaps under a lock, reads without one (a reference read is atomic)."""

    def __init__(self, settings: Settings, context: RuleContext) -> None:
        self.settings = settings
        self._scorer = Scorer(None, context=context)
        self._stamp: ExportStamp | None = None
        self.last_error: str | None = "model not loaded yet"
        self._lock = threading.Lock()

    @property
    def scorer(self) -> Scorer:
        """The current scorer; it may have no model (rules-only checks still work)."""
        return self._scorer

    def require_model(self) -> Scorer:
        scorer = self._scorer
        if not scorer.has_model:
            raise ModelUnavailable(f"no model is loaded: {self.last_error}")
        return scorer

    def load(self) -> Scorer:
        """Load (or reload) the configured model; on failure the current model keeps serving."""
        with self._lock:
            try:
                if self.settings.model_source == "registry":
                    stamp = None
                    model, metadata = load_registry(
                        self.settings.registry_model_name, self.settings.registry_alias
                    )
                else:
                    stamp = read_export_stamp(self.settings.export_metadata_path)
                    model, metadata = load_export(self.settings.models_dir)
                scorer = Scorer(model, metadata=metadata, context=self._scorer.context)
            except Exception as exc:
                error = exc if isinstance(exc, ServingError) else ModelUnavailable(
                    f"cannot load the model: {type(exc).__name__}: {exc}"
                )
                self.last_error = error.message
                logger.error("model load failed", extra={"event": "model_load_failed", "reason": error.message})
                raise error from exc
            previous = self._scorer
            self._scorer = scorer
            self._stamp = stamp
            self.last_error = None
        logger.info(
            "model loaded",
            extra={
                "event": "model_loaded",
                "model_version": scorer.model_version,
                "previous_model_version": previous.model_version,
            },
        )
        return scorer

    def try_load(self) -> bool:
        try:
            self.load()
        except Exception:
            return False
        return True

    def export_changed(self) -> bool:
        """True when the export on disk is not the one being served (a new promotion landed)."""
        if self.settings.model_source != "export":
            return False
        stamp = read_export_stamp(self.settings.export_metadata_path)
        return stamp is not None and stamp != self._stamp
