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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from serving.config import Settings
from serving.errors import ModelIntegrityError, ModelUnavailable, ServingError
from serving.scorer import RuleContext, Scorer

logger = logging.getLogger("claimrisk.model")

# Why no model is served (``/readyz``, 503 answers): fixed codes, never a path or exception text.
REASON_LOADING = "loading"
REASON_NO_MODEL = "no_model"
REASON_INVALID = "model_invalid"

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


def load_export(models_dir: Path, *, key: bytes | None = None) -> tuple[Any, dict[str, Any]]:
    """Load ``claimrisk.joblib`` after checking it against the sha256 in ``claimrisk.json`` and, with
    a signing ``key``, against ``claimrisk.sig`` (``training.signing.SignatureError`` when that
    fails). The returned metadata says ``"signed"``: whether the signature was verified."""
    metadata_path = models_dir / "claimrisk.json"
    model_path = models_dir / "claimrisk.joblib"
    if not metadata_path.is_file() or not model_path.is_file():
        raise ModelUnavailable(
            f"no exported model in {models_dir} (expected claimrisk.json and claimrisk.joblib; "
            "run `claimrisk train --promote`)"
        )
    metadata = _read_export_metadata(metadata_path, metadata_path.read_bytes())
    if key is None:
        content = model_path.read_bytes()
    else:
        from training.export import METADATA_FILE, MODEL_FILE, verify_export_signature

        # The signature covers both files: from here on only the verified bytes are used.
        signed = verify_export_signature(models_dir, metadata, key)
        metadata = _read_export_metadata(metadata_path, signed[METADATA_FILE])
        content = signed[MODEL_FILE]
    expected = str(metadata.get("sha256", "")).lower()
    if not expected:
        raise ModelIntegrityError(f"{metadata_path} records no sha256; refusing to load an unverified model")
    # Hash and unpickle the same bytes: a file swapped between the check and the load cannot slip in.
    actual = hashlib.sha256(content).hexdigest()
    if actual != expected:
        raise ModelIntegrityError(
            f"{model_path} has sha256 {actual[:12]}… but {metadata_path.name} records {expected[:12]}…; "
            "refusing to load a model file that is not the one promoted"
        )
    import io

    import joblib

    model = joblib.load(io.BytesIO(content))
    metadata["signed"] = key is not None
    return model, metadata


def _read_export_metadata(metadata_path: Path, raw: bytes) -> dict[str, Any]:
    try:
        metadata: dict[str, Any] = json.loads(raw)
    except ValueError as exc:
        raise ModelUnavailable(f"{metadata_path} is not valid JSON: {exc}") from exc
    return metadata


def load_registry(name: str, alias: str, *, key: bytes | None = None) -> tuple[Any, dict[str, Any]]:
    """Load ``models:/<name>@<alias>`` from the MLflow registry (``MLFLOW_TRACKING_URI`` or the default).

    The version's files are downloaded and, with a signing ``key``, verified before anything is
    unpickled (``training.signed_models``); a failed check raises ``SignatureError`` as it is."""
    import os

    import mlflow

    from training.signed_models import load_registered
    from training.signing import SignatureError

    if not os.environ.get("MLFLOW_TRACKING_URI"):  # the embedded default of CONTRACT §1
        mlflow.set_tracking_uri(f"sqlite:///{Path.cwd() / 'mlruns' / 'mlflow.db'}")
    uri = f"models:/{name}@{alias}"
    try:
        model, version, signed = load_registered(mlflow.MlflowClient(), name, alias, key=key)
    except SignatureError:
        raise
    except Exception as exc:  # MLflow raises many types; the message is what an operator needs
        raise ModelUnavailable(f"cannot load {uri} from the MLflow registry: {exc}") from exc
    metadata = dict(getattr(model, "metadata", {}) or {})
    metadata.setdefault("model_version", f"{name}/{version.version}")
    metadata["registry_version"] = str(version.version)
    metadata["signed"] = signed
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
    """Holds the current scorer; swaps under a lock, reads without one (a reference read is atomic).

    ``reason`` is why no model is served, as one of the fixed codes ``/readyz`` and the scoring
    routes' 503 answer name (``loading``, ``no_model``, ``model_invalid``): the paths and exception
    text that explain it go to the log only, never into an answer (CONTRACT §4).
    """

    def __init__(self, settings: Settings, context: RuleContext) -> None:
        self.settings = settings
        self._scorer = Scorer(None, context=context)
        self._stamp: ExportStamp | None = None
        self.reason: str = REASON_LOADING
        self._lock = threading.Lock()
        # Called with the new scorer after each load that changed the model version (the first
        # load too): the server re-scores the worklist in the background (serving.rescore_job).
        # None in command-line processes, which load once and exit.
        self.on_new_model: Callable[[Scorer], Any] | None = None

    @property
    def scorer(self) -> Scorer:
        """The current scorer; it may have no model (rules-only checks still work)."""
        return self._scorer

    def require_model(self) -> Scorer:
        scorer = self._scorer
        if not scorer.has_model:
            raise ModelUnavailable("no model is loaded", reason=self.reason)
        return scorer

    def _load_configured(self) -> tuple[Any, dict[str, Any], ExportStamp | None]:
        # With CLAIMRISK_MODEL_SIGNING_KEY set, the loaders verify the signature (training.signing)
        # before anything is unpickled and raise SignatureError on a mismatch.
        key = self.settings.signing_key()
        if self.settings.model_source == "registry":
            model, metadata = load_registry(self.settings.registry_model_name, self.settings.registry_alias, key=key)
            return model, metadata, None
        stamp = read_export_stamp(self.settings.export_metadata_path)
        model, metadata = load_export(self.settings.models_dir, key=key)
        return model, metadata, stamp

    def load(self) -> Scorer:
        """Load (or reload) the configured model; on failure the current model keeps serving and
        ``ModelUnavailable`` says why by reason code (its ``detail``, for the log and the CLI, may
        name paths)."""
        with self._lock:
            try:
                model, metadata, stamp = self._load_configured()
                scorer = Scorer(model, metadata=metadata, context=self._scorer.context)
            except Exception as exc:
                reason, detail = load_failure(exc)
                if not self._scorer.has_model:
                    self.reason = reason
                logger.error(
                    "model load failed",
                    extra={"event": "model_load_failed", "reason": reason, "detail": detail,
                           "still_serving": self._scorer.model_version},
                )
                raise ModelUnavailable("the model could not be loaded", reason=reason, detail=detail) from exc
            previous = self._scorer
            self._scorer = scorer
            self._stamp = stamp
        logger.info(
            "model loaded",
            extra={
                "event": "model_loaded",
                "model_version": scorer.model_version,
                "previous_model_version": previous.model_version,
                "signed": bool(scorer.metadata.get("signed", False)),
            },
        )
        if self.on_new_model is not None and scorer.model_version != previous.model_version:
            self.on_new_model(scorer)
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


def load_failure(exc: BaseException) -> tuple[str, str]:
    """(readiness reason code, operator detail) for a failed model load.

    Nothing to load is ``no_model``; a model that is there but must not or cannot be used (sha256
    mismatch, missing or wrong signature, a file that does not unpickle) is ``model_invalid``."""
    from training.signing import SignatureError

    if isinstance(exc, ModelIntegrityError | SignatureError):
        reason = REASON_INVALID
    elif isinstance(exc, ModelUnavailable):
        reason = REASON_NO_MODEL
    else:
        reason = REASON_INVALID
    detail = exc.message if isinstance(exc, ServingError) else f"{type(exc).__name__}: {exc}"
    return reason, detail
